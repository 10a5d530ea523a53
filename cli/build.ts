// `bodycam build` and `bodycam flash`: compile the firmware for one board with the Moddable SDK
// (mcconfig) and write it to a camera over USB. Also the single source of truth for what the
// Moddable manifest must list: every firmware module under its path-mirroring name (our imports
// end in `.js`; XS drops the extension and resolves `./` and `../` against the importing
// module's name), plus the npm modules they import. `bodycam build --sync-manifest` rewrites the
// `modules` list of manifest.json from the source tree; test/manifest.test.ts checks it.

import { spawn as nodeSpawn, type SpawnOptions } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BodycamError } from '../firmware/errors.js';
import { readBoard, type BoardConfig } from '../firmware/device/board.js';
import { parseArgs, stringOption } from './args.js';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const SDK_HELP = 'install the Moddable SDK once with `npx xs-dev setup --device esp32`, open a new terminal (so MODDABLE and the ESP-IDF are set), then run this again';

/** Modules the Moddable SDK provides (the manifest includes their manifests, never lists them). */
export function isSdkModule(specifier: string): boolean {
  return specifier.startsWith('embedded:') || ['crypt', 'timer', 'time', 'mc/config', 'crc', 'modules', 'Resource', 'instrumentation'].includes(specifier);
}

// ---------------------------------------------------------------------------------- boards

export interface Board {
  name: string;
  /** boards/<name>.json, relative to the repository. */
  file: string;
  config: BoardConfig;
}

export function listBoards(root = repoRoot): Board[] {
  const dir = join(root, 'boards');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const name = f.slice(0, -'.json'.length);
      const json = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { config?: { bodycam?: unknown } };
      return { name, file: `boards/${f}`, config: readBoard(json.config?.bodycam, name) };
    });
}

export function findBoard(name: string | undefined, root = repoRoot): Board {
  const boards = listBoards(root);
  const known = boards.map((b) => b.name).join(', ');
  if (!name) throw new BodycamError('E_USAGE', `--board is required; known boards: ${known}`);
  const board = boards.find((b) => b.name === name || b.config.target === name);
  if (!board) throw new BodycamError('E_BOARD_UNKNOWN', `unknown board "${name}"; known boards: ${known}`);
  return board;
}

// ------------------------------------------------------------------------- module graph

const IMPORT = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)/g;

function specifiers(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  // `import type` / `export type` vanish at compile time: they are not module dependencies.
  return [...code.matchAll(IMPORT)].filter((m) => !/^(?:import|export)\s+type\s/.test(m[0])).map((m) => m[1] ?? m[2] ?? m[3]);
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    if (n.startsWith('_')) return []; // private probes and scratch files never ship
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return walk(p);
    if (n.endsWith('.d.ts')) return [];
    return n.endsWith('.ts') || n.endsWith('.js') ? [p] : [];
  });
}

const stripExt = (p: string) => p.replace(/\.(?:[cm]?js|ts)$/, '');
const toPosix = (p: string) => p.split(sep).join('/');

export interface ModuleGraph {
  /** Module name → manifest path ("./firmware/errors"), sorted by name. */
  modules: Record<string, string>;
  /** "importer: specifier" for imports that won't resolve on a device. */
  problems: string[];
}

/**
 * Every firmware module and everything it imports, named as XS will look it up: a module's
 * name is its path without extension; `../x.js` from `a/b/c` is `a/x` (XS resolves a single
 * `./` or `../` prefix only); a bare `pkg/sub.js` is `pkg/sub`, found in node_modules.
 */
export function moduleGraph(root = repoRoot): ModuleGraph {
  const modules = new Map<string, string>();
  const problems: string[] = [];
  const queue: { name: string; file: string }[] = [];
  const add = (name: string, file: string) => {
    if (modules.has(name)) return;
    modules.set(name, './' + toPosix(relative(root, stripExt(file))));
    queue.push({ name, file });
  };
  for (const file of walk(join(root, 'firmware'))) {
    if (file.includes(`${sep}device-types${sep}`)) continue; // compile-time proofs only
    add(toPosix(relative(root, stripExt(file))), file);
  }
  for (let item = queue.shift(); item; item = queue.shift()) {
    for (const spec of specifiers(readFileSync(item.file, 'utf8'))) {
      if (isSdkModule(spec) || spec === 'bodycam/native') continue;
      if (spec.startsWith('.')) {
        if (!/^\.\.?\/(?!\.\.?\/)/.test(spec) || /\/\.\.?\//.test(spec.replace(/^\.\.?\//, ''))) {
          problems.push(`${item.name}: "${spec}" climbs more than one directory; XS on the device resolves a single ./ or ../ only`);
          continue;
        }
        const target = resolve(dirname(item.file), spec);
        const candidates = [target, target.replace(/\.js$/, '.ts')];
        const file = candidates.find((c) => existsSync(c) && statSync(c).isFile());
        if (!file) {
          problems.push(`${item.name}: "${spec}" not found`);
          continue;
        }
        const name = posix.normalize(posix.join(posix.dirname(item.name), stripExt(spec)));
        add(name, file);
      } else {
        const file = join(root, 'node_modules', spec);
        if (!/\.m?js$/.test(spec) || !existsSync(file)) {
          problems.push(`${item.name}: "${spec}" must name an ES module file in node_modules (e.g. pkg/file.js)`);
          continue;
        }
        add(stripExt(spec), file);
      }
    }
  }
  const sorted = Object.fromEntries([...modules.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  // The native half of bodycam/native is a .js + .c pair, named for its import specifier.
  sorted['bodycam/native'] = './firmware/device/native/bodycam-native';
  delete sorted['firmware/device/native/bodycam-native'];
  return { modules: sorted, problems };
}

/** Rewrites manifest.json's top-level `modules` from the source tree; returns what changed. */
export function syncManifest(root = repoRoot): { added: string[]; removed: string[] } {
  const path = join(root, 'manifest.json');
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as { modules: Record<string, string> };
  const want = moduleGraph(root).modules;
  const added = Object.keys(want).filter((k) => !(k in manifest.modules));
  const removed = Object.keys(manifest.modules).filter((k) => !(k in want));
  manifest.modules = want;
  writeFileSync(path, JSON.stringify(manifest, null, '\t') + '\n');
  return { added, removed };
}

// --------------------------------------------------------------------------- mcconfig

export type Spawner = (command: string, args: string[], options: SpawnOptions) => Promise<number>;

const spawnInherit: Spawner = (command, args, options) =>
  new Promise((done, fail) => {
    const child = nodeSpawn(command, args, { ...options, stdio: 'inherit' });
    child.on('error', fail);
    child.on('exit', (code) => done(code ?? 1));
  });

export interface McconfigOptions {
  board: Board;
  deploy: boolean;
  release: boolean;
  port?: string;
  ssid?: string;
  password?: string;
}

/** The mcconfig command line for a build (deploy: also write it to the camera). */
export function mcconfigArgs(o: McconfigOptions): string[] {
  const args = [...(o.release ? [] : ['-d']), '-m', '-p', o.board.config.target, ...(o.deploy ? ['-t', 'deploy'] : ['-t', 'build']), 'manifest.json'];
  if (o.ssid) args.push(`ssid=${o.ssid}`);
  if (o.password) args.push(`password=${o.password}`);
  return args;
}

export interface BuildDeps {
  env: NodeJS.ProcessEnv;
  spawn: Spawner;
  root: string;
}

const OPTIONS = { board: { value: true }, port: { value: true }, ssid: { value: true }, password: { value: true }, release: {}, 'sync-manifest': {}, 'list-boards': {}, 'development-board': {}, help: {} };

function help(deploy: boolean, out: (line: string) => void, root: string): void {
  const name = deploy ? 'flash' : 'build';
  out(`usage: bodycam ${name} --board NAME${deploy ? ' --port PORT' : ''} [--release] [--ssid NAME --password SECRET]`);
  out(deploy ? '  builds the firmware for the board and writes it to the camera on PORT (e.g. /dev/ttyACM0, COM3)' : '  builds the firmware for the board with the Moddable SDK (mcconfig)');
  out('  --release       a release build (no debugger); the default is a debug build');
  out('  --ssid/--password  the Wi-Fi network of the docks, built into the image');
  if (!deploy) out('  --sync-manifest rewrite the module list of manifest.json from firmware/ (developers)');
  if (deploy) out('  --development-board  required: this build is unsigned, for a board that never holds evidence');
  out('  --list-boards   the boards this firmware supports');
  out('boards:');
  for (const b of listBoards(root)) out(`  ${b.name.padEnd(26)} ${b.config.title}`);
}

export async function buildCommand(argv: string[], out: (line: string) => void, deploy: boolean, deps: Partial<BuildDeps> = {}): Promise<number> {
  const env = deps.env ?? process.env;
  const spawn = deps.spawn ?? spawnInherit;
  const root = deps.root ?? repoRoot;
  const p = parseArgs(argv, OPTIONS);
  if (p.options.help) {
    help(deploy, out, root);
    return 0;
  }
  if (p.options['list-boards']) {
    for (const b of listBoards(root)) out(`${b.name.padEnd(26)} ${b.config.title} (${b.config.target})`);
    return 0;
  }
  if (p.options['sync-manifest']) {
    const { added, removed } = syncManifest(root);
    const { problems } = moduleGraph(root);
    out(`manifest.json: ${added.length} module(s) added, ${removed.length} removed`);
    for (const a of added) out(`  + ${a}`);
    for (const r of removed) out(`  - ${r}`);
    for (const x of problems) out(`  ! ${x}`);
    return problems.length ? 1 : 0;
  }
  if (p.positionals.length) throw new BodycamError('E_USAGE', `unexpected argument "${p.positionals[0]}"`);
  let board: Board;
  try {
    board = findBoard(stringOption(p, 'board'), root);
  } catch (e) {
    if (e instanceof BodycamError && e.code === 'E_BOARD_UNKNOWN') {
      console.error(e.message);
      return 2;
    }
    throw e;
  }
  const port = stringOption(p, 'port');
  if (deploy && !port) throw new BodycamError('E_USAGE', '--port is required: the USB serial port of the camera (e.g. /dev/ttyACM0 on Linux, /dev/cu.usbmodem* on a Mac, COM3 on Windows)');
  if (deploy && p.options['development-board'] !== true) {
    // Signed firmware (issue 10): a build from source is unsigned; only a development board takes one.
    console.error('E_FW_UNSIGNED: bodycam flash writes a build straight from the source tree, which no firmware key has signed. A camera in service runs only signed images (bodycam firmware sign), delivered by the dock. If this is a development board that will never hold evidence, say so with --development-board.');
    return 1;
  }
  if (!env.MODDABLE) {
    console.error(`E_SDK_MISSING: the Moddable SDK is not installed (MODDABLE is not set): ${SDK_HELP}`);
    return 2;
  }
  const args = mcconfigArgs({ board, deploy, release: p.options.release === true, port, ssid: stringOption(p, 'ssid'), password: stringOption(p, 'password') });
  out(`${deploy ? 'flashing' : 'building'} bodycam for ${board.config.title} (${board.config.target})${port ? ` on ${port}` : ''}`);
  let code: number;
  try {
    code = await spawn('mcconfig', args, { cwd: root, env: port ? { ...env, UPLOAD_PORT: port } : env });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      console.error(`E_SDK_MISSING: mcconfig was not found on PATH: ${SDK_HELP}`);
      return 2;
    }
    throw e;
  }
  if (code !== 0) {
    console.error(`E_BUILD_FAILED: mcconfig exited with ${code}; the lines above say why`);
    return 1;
  }
  out(deploy ? 'done: the camera restarts with the new firmware' : 'done');
  return 0;
}
