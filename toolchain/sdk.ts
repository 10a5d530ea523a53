// The Moddable SDK the real builds use: `$MODDABLE` when the user has set it (xs-dev setup, a git
// clone), else a writable copy of ../shared/moddable-sdk (SDK 8.2.3) under .bodycam/moddable.
// Builds the Linux host tools (xsc, xsid, xsl, mcconfig and friends) when they are missing, as
// the SDK's own makefiles do; needs make, a C compiler and GLib's headers (libglib2.0-dev).

import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { BodycamError } from '../firmware/errors.js';
import { withLock } from './lock.js';
import { repoRoot } from './root.js';

export const SDK_VERSION = '8.2.3';

export interface Sdk {
  /** MODDABLE: the SDK's root. */
  root: string;
  /** True when it came from $MODDABLE. */
  fromEnv: boolean;
  /** The environment mcconfig and make run in: MODDABLE set, the SDK's tools and our tsc on PATH. */
  env: NodeJS.ProcessEnv;
  /** tools/VERSION of the SDK (the firmware is built and tested with SDK_VERSION). */
  version: string;
}

/** The SDK the repository ships beside it (read-only: it is copied before building). */
export function bundledSdk(root = repoRoot): string {
  return join(root, '..', 'shared', 'moddable-sdk');
}

export function toolsDir(moddable: string): string {
  return join(moddable, 'build', 'bin', 'lin', 'release');
}

function sdkEnv(moddable: string, root: string): NodeJS.ProcessEnv {
  // `tsc` on PATH is the repository's pinned TypeScript, which mcconfig's makefile calls.
  const path = [toolsDir(moddable), join(root, 'node_modules', '.bin'), process.env.PATH ?? ''].join(delimiter);
  return { ...process.env, MODDABLE: moddable, XS_DIR: join(moddable, 'xs'), BUILD_DIR: join(moddable, 'build'), PATH: path };
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, what: string, log: (line: string) => void): void {
  const r = spawnSync(command, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error || r.status !== 0) {
    const output = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-30).join('\n');
    throw new BodycamError('E_MODDABLE_TOOLS', `${what} failed${r.error ? ` (${r.error.message})` : ''}:\n${output}`);
  }
  log(`  ${what}: ok`);
}

/** Build the Linux host tools in the SDK (about 3 minutes on 2 cores), as MODDABLE.md says. */
function buildTools(moddable: string, env: NodeJS.ProcessEnv, log: (line: string) => void): void {
  const glib = spawnSync('pkg-config', ['--cflags', 'gio-2.0'], { encoding: 'utf8' });
  if (glib.error || glib.status !== 0) {
    throw new BodycamError('E_MODDABLE_TOOLS', "building the Moddable tools needs GLib's headers and pkg-config: install Debian's libglib2.0-dev and pkg-config (.ci/run does)");
  }
  log(`building the Moddable ${SDK_VERSION} host tools in ${moddable} (a few minutes, once)`);
  const lin = join(moddable, 'build', 'makefiles', 'lin');
  for (const tool of ['xsc', 'xsid', 'xsl']) {
    run('make', ['-j2', 'GOAL=release', '-f', join(moddable, 'xs', 'makefiles', 'lin', `${tool}.mk`)], lin, env, `make ${tool}`, log);
  }
  run('make', ['-j2', 'GOAL=release', '-f', 'tools.mk'], lin, env, 'make tools (mcconfig, mcrez, ...)', log);
}

/**
 * The SDK, with its host tools built. `$MODDABLE` first; else the bundled SDK, copied once to
 * .bodycam/moddable (the copy is what gets built in).
 */
export function ensureSdk(log: (line: string) => void = () => {}, root = repoRoot): Sdk {
  mkdirSync(join(root, '.bodycam'), { recursive: true });
  return withLock(join(root, '.bodycam', 'moddable.lock'), () => prepareSdk(log, root));
}

function prepareSdk(log: (line: string) => void, root: string): Sdk {
  const fromEnv = Boolean(process.env.MODDABLE);
  let moddable = process.env.MODDABLE ?? '';
  if (fromEnv) {
    if (!existsSync(join(moddable, 'tools', 'mcconfig.js'))) {
      throw new BodycamError('E_MODDABLE_SDK', `MODDABLE is ${moddable}, which holds no Moddable SDK (tools/mcconfig.js is missing)`);
    }
  } else {
    const source = bundledSdk(root);
    moddable = join(root, '.bodycam', 'moddable');
    const stamp = join(moddable, '.bodycam-copied');
    if (!existsSync(stamp)) {
      if (!existsSync(join(source, 'tools', 'mcconfig.js'))) {
        throw new BodycamError('E_MODDABLE_SDK', `no Moddable SDK: set MODDABLE to an SDK ${SDK_VERSION} (\`npx xs-dev setup\` installs one), or keep the shared SDK at ${source}`);
      }
      log(`copying the Moddable SDK from ${source} to ${moddable}`);
      rmSync(moddable, { recursive: true, force: true });
      mkdirSync(dirname(moddable), { recursive: true });
      cpSync(source, moddable, { recursive: true, mode: 0 });
      spawnSync('chmod', ['-R', 'u+w', moddable]);
      writeFileSync(stamp, `${source}\n`);
    }
  }
  const env = sdkEnv(moddable, root);
  const tools = toolsDir(moddable);
  if (!['mcconfig', 'xsc', 'xsl', 'xsid', 'mcrez'].every((t) => existsSync(join(tools, t)))) buildTools(moddable, env, log);
  const versionFile = join(moddable, 'tools', 'VERSION');
  const version = existsSync(versionFile) ? readFileSync(versionFile, 'utf8').trim() : 'unknown';
  return { root: moddable, fromEnv, env, version };
}
