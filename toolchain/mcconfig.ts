// Real builds with the Moddable SDK's own mcconfig, xsc and xsl:
// - buildBoardImage: a board's build (manifest.json with the board's platform entry), through
//   TypeScript (type-checked against the SDK's typings/), xsc (bytecode), xsl (link and
//   preload: mc.xs.c, the machine the camera boots) — everything short of ESP-IDF, which
//   cannot be installed here. A user with ESP-IDF runs `mcconfig -d -m -p esp32/<board>`.
// - buildEngine: the same firmware modules, preload list and the board's `creation`, built for
//   x-cli-lin and linked with host-sim/moddable/host.c into a host executable (the `moddable`
//   engine).
// mcconfig would run `tsc` once per module; both builds name toolchain/tsc-batch.ts as the
// manifest's TypeScript compiler, which type-checks and emits all modules in one program (its
// header says why that stays faithful). Any TypeScript, xsc or xsl error fails a build, and so
// does any xsl `not frozen` / `no const` warning that ACCEPTED_XSL_WARNINGS does not list.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { withLock } from './lock.js';
import { join, resolve } from 'node:path';
import { BodycamError } from '../firmware/errors.js';
import type { Board, Creation } from './boards.js';
import { moduleGraph, preloadList } from './module-graph.js';
import { repoRoot } from './root.js';
import type { Sdk } from './sdk.js';

/** Modules only a camera has (they import the SDK's device modules or ESP-IDF). */
export const DEVICE_ONLY_MODULES = ['firmware/device/main', 'bodycam/native'] as const;

/** The guest runtime the moddable engine's host imports (sets globalThis.handleCommand). */
export const ENGINE_MAIN = 'host-sim/xs/guest/main';

/**
 * xsl warnings from modules that are not ours, accepted with the reason. None today: the
 * third-party modules firmware uses are not preloaded (module-graph.ts NOT_PRELOADED says why):
 * @noble/hashes keeps working buffers at module level (its sha2 `u64`, SHA256_W), which a preload
 * would put in flash; @noble/curves (the camera's Ed25519) keeps run-time state in its closures.
 */
export const ACCEPTED_XSL_WARNINGS: readonly { module: string; why: string }[] = Object.freeze([]);

export type { Creation } from './boards.js';

interface RootManifest {
  build?: { NAME?: string };
  modules: Record<string, string>;
  preload: string[];
  strip?: unknown;
}

export function readRootManifest(root = repoRoot): RootManifest {
  return JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8')) as RootManifest;
}

export interface XslWarning {
  module: string;
  text: string;
  /** Why it is accepted, or undefined when it fails the build. */
  accepted?: string;
}

export interface BuildResult {
  /** mcconfig's platform (esp32/xiao_esp32s3_sense, x-cli-lin). */
  platform: string;
  board: string;
  seconds: number;
  ok: boolean;
  /** Why the build failed: TypeScript, xsc, xsl or make output, or refused warnings. */
  problems: string[];
  warnings: XslWarning[];
  /** xsl's summary line: preloaded instances, keys, colors, holes. */
  summary: string;
  /** Where mcconfig put its intermediate files (makefile, modules, mc.xs.c). */
  tmpDir: string;
  /** Everything the build printed. */
  output: string;
}

const XSL_WARNING = /^### warning: ([^:]+): (.*)$/;

function isOurs(module: string): boolean {
  return module.startsWith('firmware/') || module.startsWith('host-sim/') || module.startsWith('bodycam/');
}

export function classifyWarnings(output: string): XslWarning[] {
  const out: XslWarning[] = [];
  for (const line of output.split('\n')) {
    const m = XSL_WARNING.exec(line.trim());
    if (!m) continue;
    const [, module, text] = m;
    const accepted = isOurs(module) ? undefined : ACCEPTED_XSL_WARNINGS.find((a) => module.startsWith(a.module))?.why;
    out.push({ module, text, accepted });
  }
  return out;
}

/** This checkout's tsc-batch (a fixture root in a test has no dist/ of its own). */
function tscBatchCommand(): string {
  const script = join(repoRoot, 'dist', 'toolchain', 'tsc-batch.js');
  if (!existsSync(script)) throw new BodycamError('E_BUILD_MISSING', `${script} is missing: run \`npm run build\` first`);
  return `node ${script}`;
}

function spawnLogged(command: string, args: string[], env: NodeJS.ProcessEnv, cwd: string): { status: number; output: string } {
  const r = spawnSync(command, args, { env, cwd, encoding: 'utf8', maxBuffer: 256 << 20 });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}`;
  return { status: r.status ?? 1, output };
}

function finish(platform: string, board: string, started: number, tmpDir: string, status: number, output: string): BuildResult {
  const warnings = classifyWarnings(output);
  const problems: string[] = [];
  if (status !== 0) {
    const lines = output
      .split('\n')
      .filter((l) => /error|cannot|not found|^###|^  /i.test(l) && !l.startsWith('make: ***') && !l.startsWith('# ') && !XSL_WARNING.test(l.trim()));
    problems.push(lines.slice(0, 40).join('\n') || output.trim().split('\n').slice(-20).join('\n'));
  }
  for (const w of warnings) if (!w.accepted) problems.push(`xsl: ${w.module}: ${w.text}`);
  const summary = output.split('\n').find((l) => /^### \d+ instances/.test(l.trim()))?.trim() ?? '';
  return { platform, board, seconds: (Date.now() - started) / 1000, ok: problems.length === 0, problems, warnings, summary, tmpDir, output };
}

/**
 * A board's build through mcconfig, tsc, xsc and xsl (link and preload), stopping where ESP-IDF
 * would take over: mcconfig writes the makefile, and make builds mc.xs.c — the preloaded
 * machine — with IDF_PATH pointing nowhere (the IDF's own parts are never reached).
 */
export function buildBoardImage(sdk: Sdk, board: Board, options: { out: string; debug?: boolean; root?: string }): BuildResult {
  const root = options.root ?? repoRoot;
  const started = Date.now();
  const dir = join(resolve(options.out), board.name);
  mkdirSync(dir, { recursive: true });
  const manifest = join(dir, 'manifest.json');
  writeFileSync(manifest, JSON.stringify({ include: [join(root, 'manifest.json')], typescript: { compiler: tscBatchCommand() } }, null, '\t'));
  const config = spawnLogged('mcconfig', [...(options.debug ? ['-d'] : []), '-p', board.config.target, '-o', dir, manifest], sdk.env, dir);
  const name = readRootManifest(root).build?.NAME ?? 'bodycam';
  const tmpDir = join(dir, 'tmp', ...board.config.target.split('/'), options.debug ? 'debug' : 'release', name);
  if (config.status !== 0 || !existsSync(join(tmpDir, 'makefile'))) return finish(board.config.target, board.name, started, tmpDir, config.status || 1, config.output);
  rmSync(join(tmpDir, 'tsc-batch'), { recursive: true, force: true }); // a fresh batch for every build
  const make = spawnLogged(
    'make',
    ['-j2', '-f', join(tmpDir, 'makefile'), `IDF_PATH=${join(dir, 'no-esp-idf')}`, 'IDF_VERSION=v6.0', 'SDKCONFIG_H=', join(tmpDir, 'mc.xs.c')],
    sdk.env,
    dir,
  );
  return finish(board.config.target, board.name, started, tmpDir, make.status, config.output + make.output);
}

/** The manifest of the moddable engine for a board: the firmware's modules and preload, the board's creation, the guest and the C host. */
export function engineManifest(board: Board, name: string, root = repoRoot, creation?: Creation) {
  const firmware = readRootManifest(root);
  const graph = moduleGraph(root, [`${ENGINE_MAIN}.ts`]);
  const guest = graph.modules;
  const modules: Record<string, string> = {};
  const absolute = (p: string) => (p.startsWith('./') ? join(root, p.slice(2)) : p);
  for (const [name, path] of Object.entries({ ...firmware.modules, ...guest })) {
    if ((DEVICE_ONLY_MODULES as readonly string[]).includes(name)) continue;
    modules[name] = absolute(path);
  }
  modules['bodycam-moddable-host'] = join(root, 'host-sim', 'moddable', 'host');
  // The requests host.c shares with the mcu host: listed so make rebuilds host.c when it changes.
  modules['bodycam-bridge-requests'] = join(root, 'host-sim', 'bridge', 'xs-requests');
  const remove = ['$(MODULES)/files/resource/*']; // no resource map on a host build (as the SDK's repl example)
  return {
    build: { NAME: name },
    include: ['$(MODDABLE)/examples/manifest_base.json', join(root, board.file)],
    creation: { ...creation, main: ENGINE_MAIN },
    modules: { ...modules, '~': remove },
    // The firmware's own preload, and the guest's modules too (but its main, which runs at
    // start): the harness then costs RAM only for what it does per call, so the machine's
    // figures are the firmware's.
    preload: [
      ...firmware.preload.filter((m) => !(DEVICE_ONLY_MODULES as readonly string[]).includes(m)),
      ...preloadList(graph).filter((m) => !(m in firmware.modules) && m !== ENGINE_MAIN),
    ],
    strip: firmware.strip ?? '*',
    typescript: { compiler: tscBatchCommand() },
  };
}

export interface EngineBuild extends BuildResult {
  /** The host executable, when the build succeeded. */
  binary?: string;
}

/** The firmware built by mcconfig for x-cli-lin with a board's preload and creation, linked with host.c. */
export function buildEngine(sdk: Sdk, board: Board, options: { out: string; root?: string; creation?: Creation; name?: string }): EngineBuild {
  const root = options.root ?? repoRoot;
  const started = Date.now();
  const c = options.creation;
  // One output folder for every engine build, one NAME each: they share the compiled XS
  // sources (mcconfig's LIB_DIR), which are most of a first build's minute.
  const name = options.name ?? `bodycam-moddable-${board.name}${c ? `-c${c.chunk.initial}-h${c.heap.initial}-s${c.stack}-k${c.keys?.initial ?? 0}` : ''}`;
  const dir = join(resolve(options.out), 'engines');
  const manifestDir = join(dir, 'manifests', name);
  mkdirSync(manifestDir, { recursive: true });
  const manifest = join(manifestDir, 'manifest.json');
  const text = JSON.stringify(engineManifest(board, name, root, c), null, '\t');
  if (!existsSync(manifest) || readFileSync(manifest, 'utf8') !== text) writeFileSync(manifest, text);
  const tmpDir = join(dir, 'tmp', 'lin', 'release', name);
  const r = withLock(join(dir, 'build.lock'), () => {
    rmSync(join(tmpDir, 'tsc-batch'), { recursive: true, force: true }); // a fresh batch for every build
    return spawnLogged('mcconfig', ['-m', '-p', 'x-cli-lin', '-o', dir, manifest], sdk.env, dir);
  });
  const result: EngineBuild = finish('x-cli-lin', board.name, started, tmpDir, r.status, r.output);
  const binary = join(dir, 'bin', 'lin', 'release', name);
  if (result.ok && existsSync(binary)) result.binary = binary;
  else if (result.ok) {
    result.ok = false;
    result.problems.push(`mcconfig finished but left no executable at ${binary}`);
  }
  return result;
}
