// manifest.json is a real Moddable manifest: every module it lists exists, every firmware module
// (and every npm module they import) is listed under the name XS will look up, every board in
// boards/ has a platform entry, and `bodycam build` / `bodycam flash` call mcconfig as they
// should, or say how to install the SDK.

import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildCommand, listBoards, mcconfigArgs, moduleGraph, repoRoot, type Spawner } from '../cli/build.js';

interface Manifest {
  include: string[];
  creation: { main: string };
  modules: Record<string, string>;
  preload: string[];
  platforms: Record<string, { include?: string | string[]; error?: string }>;
}

const manifest = JSON.parse(readFileSync(join(repoRoot, 'manifest.json'), 'utf8')) as Manifest;
const SYNC = 'run `npx bodycam build --sync-manifest` and commit manifest.json';

test('every module the manifest lists exists (as .ts or .js)', (t) => {
  const missing = Object.entries(manifest.modules).filter(([, path]) => !['.ts', '.js'].some((ext) => existsSync(join(repoRoot, path + ext))));
  t.deepEqual(missing, [], SYNC);
});

test('every firmware module, and every npm module firmware imports, is listed under its XS name', (t) => {
  const { modules } = moduleGraph();
  const absent = Object.keys(modules).filter((name) => manifest.modules[name] !== modules[name]);
  const extra = Object.keys(manifest.modules).filter((name) => !(name in modules));
  t.deepEqual({ absent, extra }, { absent: [], extra: [] }, SYNC);
  t.is(manifest.modules['firmware/errors'], './firmware/errors');
  t.is(manifest.modules['bodycam/native'], './firmware/device/native/bodycam-native');
  t.true(existsSync(join(repoRoot, 'firmware/device/native/bodycam-native.c')));
});

test('the module graph resolves the way XS does, and names each import it cannot resolve', (t) => {
  const { modules, problems } = moduleGraph();
  // "../errors.js" imported by firmware/platform/soft-digest is firmware/errors.
  t.truthy(modules['firmware/errors']);
  t.truthy(modules['@noble/hashes/sha2'], 'bare imports resolve into node_modules');
  t.truthy(modules['@noble/hashes/_md'], 'and so do their own relative imports');
  // Imports that can't work on a device are reported (other areas' work in progress may add some);
  // each report names the importer and the specifier.
  for (const p of problems) t.regex(p, /^[\w@/.-]+: ".+" /);
});

test('preload names only listed modules, and never the entry point', (t) => {
  t.deepEqual(manifest.preload.filter((m) => !(m in manifest.modules)), []);
  t.false(manifest.preload.includes(manifest.creation.main));
  t.true(manifest.creation.main in manifest.modules);
});

test('every board in boards/ has a platform entry that includes its file, and nothing else does', (t) => {
  const boards = listBoards();
  t.true(boards.length >= 3);
  for (const b of boards) t.deepEqual(manifest.platforms[b.config.target], { include: `./${b.file}` }, b.name);
  const boardEntries = Object.keys(manifest.platforms).filter((k) => k.startsWith('esp32/'));
  t.deepEqual(boardEntries.sort(), boards.map((b) => b.config.target).sort());
  t.truthy(manifest.platforms['...']?.error, 'an unknown platform stops the build with a message');
  for (const inc of manifest.include) t.regex(inc, /^\$\(MODDABLE\)\/(examples|modules)\/(.+\/)?manifest(_base)?\.json$/);
});

// ------------------------------------------------------------------------ the commands

function recorder() {
  const runs: { command: string; args: string[]; cwd?: string; port?: string }[] = [];
  const spawn: Spawner = async (command, args, options) => {
    runs.push({ command, args, cwd: String(options.cwd), port: options.env?.UPLOAD_PORT });
    return 0;
  };
  return { runs, spawn };
}

function capture() {
  const lines: string[] = [];
  const errors: string[] = [];
  const orig = console.error;
  console.error = (l: string) => void errors.push(l);
  return { lines, errors, out: (l: string) => void lines.push(l), restore: () => void (console.error = orig) };
}

test.serial('bodycam build runs mcconfig -d -m -p esp32/<target> manifest.json in the repository', async (t) => {
  const { runs, spawn } = recorder();
  const c = capture();
  try {
    t.is(await buildCommand(['--board', 'xiao_esp32s3_sense'], c.out, false, { env: { MODDABLE: '/sdk' }, spawn }), 0);
    t.is(await buildCommand(['--board', 'xiao_esp32s3_sense', '--port', '/dev/ttyACM0', '--development-board'], c.out, true, { env: { MODDABLE: '/sdk' }, spawn }), 0);
  } finally {
    c.restore();
  }
  t.deepEqual(runs, [
    { command: 'mcconfig', args: ['-d', '-m', '-p', 'esp32/xiao_esp32s3_sense', '-t', 'build', 'manifest.json'], cwd: repoRoot, port: undefined },
    { command: 'mcconfig', args: ['-d', '-m', '-p', 'esp32/xiao_esp32s3_sense', '-t', 'deploy', 'manifest.json'], cwd: repoRoot, port: '/dev/ttyACM0' },
  ]);
  const board = listBoards().find((b) => b.name === 'lilygo_t_camera_plus_s3')!;
  t.deepEqual(mcconfigArgs({ board, deploy: true, release: true, ssid: 'dock-net', password: 'pw' }), ['-m', '-p', 'esp32/lilygo_t_camera_plus_s3', '-t', 'deploy', 'manifest.json', 'ssid=dock-net', 'password=pw']);
});

test.serial('without the SDK, build stops and says how to install it; nothing is run', async (t) => {
  const { runs, spawn } = recorder();
  const c = capture();
  let rc: number;
  try {
    rc = await buildCommand(['--board', 'xiao_esp32s3_sense'], c.out, false, { env: {}, spawn });
  } finally {
    c.restore();
  }
  t.is(rc, 2);
  t.deepEqual(runs, []);
  t.regex(c.errors.join('\n'), /E_SDK_MISSING.*npx xs-dev setup --device esp32/);
});

test.serial('an unknown board is refused with the list of known boards; flash needs a port', async (t) => {
  const { runs, spawn } = recorder();
  const c = capture();
  let rc: number;
  try {
    rc = await buildCommand(['--board', 'esp32_cam'], c.out, false, { env: { MODDABLE: '/sdk' }, spawn });
    const e = await t.throwsAsync(() => buildCommand(['--board', 'xiao_esp32s3_sense'], c.out, true, { env: { MODDABLE: '/sdk' }, spawn }));
    t.regex(e!.message, /E_USAGE: --port is required/);
  } finally {
    c.restore();
  }
  t.is(rc, 2);
  t.deepEqual(runs, []);
  t.regex(c.errors.join('\n'), /E_BOARD_UNKNOWN: unknown board "esp32_cam"; known boards: lilygo_t_camera_plus_s3, m5atom_s3r_cam, xiao_esp32s3_sense/);
});

test.serial('a missing mcconfig on PATH is reported like a missing SDK', async (t) => {
  const c = capture();
  let rc: number;
  try {
    const spawn: Spawner = async () => {
      throw Object.assign(new Error('spawn mcconfig ENOENT'), { code: 'ENOENT' });
    };
    rc = await buildCommand(['--board', 'xiao_esp32s3_sense'], c.out, false, { env: { MODDABLE: '/sdk' }, spawn });
  } finally {
    c.restore();
  }
  t.is(rc, 2);
  t.regex(c.errors.join('\n'), /E_SDK_MISSING: mcconfig was not found/);
});
