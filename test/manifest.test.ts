// manifest.json is a real Moddable manifest: every module it lists exists, every firmware module
// (and every npm module they import) is listed under the name XS will look up, every board in
// boards/ has a platform entry, and `bodycam build` / `bodycam flash` call mcconfig as they
// should, or say how to install the SDK.

import test from 'ava';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { appBinaryPath, buildCommand, listBoards, mcconfigArgs, moduleGraph, partitionsOf, repoRoot, type Spawner } from '../cli/build.js';
import { PUBLIC_FILE, SECRET_FILE, readPublicKey } from '../cli/firmware.js';
import { run } from '../cli/bodycam.js';
import { checkPartitions, parsePartitions, partitionTableBinary, updateLayout, OTADATA_SIZE, PARTITION_TABLE_LENGTH } from '../cli/partitions.js';
import { softDigest } from '../firmware/platform/soft-digest.js';
import { verifyImage } from '../firmware/update/session.js';
import { MemoryTrust } from '../firmware/update/trust.js';

interface Manifest {
  include: string[];
  creation: { main: string };
  modules: Record<string, string>;
  preload: string[];
  platforms: Record<string, { include?: string | string[]; error?: string }>;
}

const manifest = JSON.parse(readFileSync(join(repoRoot, 'manifest.json'), 'utf8')) as Manifest;
// The firmware signing key is encrypted; keygen (run in this process) and build --sign-key read its passphrase.
const FW_PASSPHRASE = 'armoury test passphrase';
process.env.BODYCAM_FIRMWARE_PASSPHRASE = FW_PASSPHRASE;
const SYNC = 'run `npx bodycam build --sync-manifest` and commit manifest.json';

test('every module the manifest lists exists (as .ts, .js or a .d.ts declaration)', (t) => {
  const missing = Object.entries(manifest.modules).filter(([, path]) => !['.ts', '.js', '.d.ts'].some((ext) => existsSync(join(repoRoot, path + ext))));
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
  t.deepEqual(mcconfigArgs({ board, deploy: true, release: true, ssid: 'dock-net' }), ['-m', '-p', 'esp32/lilygo_t_camera_plus_s3', '-t', 'deploy', 'manifest.json', 'ssid=dock-net']);
});

test.serial("the docks' Wi-Fi password never goes on a command line: refused there, taken from a file or the environment into a private manifest mcconfig builds", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bodycam-wifi-'));
  const c = capture();
  try {
    // bodycam's own command line: refused before anything runs.
    const { runs, spawn } = recorder();
    await t.throwsAsync(buildCommand(['--board', 'xiao_esp32s3_sense', '--ssid', 'docks', '--password', 'hunter2hunter2'], c.out, false, { env: { MODDABLE: '/sdk' }, spawn }), { message: /E_SECRET_ON_COMMAND_LINE/ });
    t.deepEqual(runs, []);
    // From a file: mcconfig's arguments hold no password; the manifest it builds does, privately.
    const file = join(dir, 'wifi.txt');
    writeFileSync(file, 'hunter2hunter2\n', { mode: 0o600 });
    const seen: { args: string[]; manifest: string; mode: number }[] = [];
    const look: Spawner = async (_command, args) => {
      const m = args[args.indexOf('build') + 1];
      seen.push({ args, manifest: readFileSync(m, 'utf8'), mode: statSync(m).mode & 0o777 });
      return 0;
    };
    t.is(await buildCommand(['--board', 'xiao_esp32s3_sense', '--ssid', 'docks', '--wifi-password-file', file], c.out, false, { env: { MODDABLE: '/sdk' }, spawn: look }), 0);
    t.is(await buildCommand(['--board', 'xiao_esp32s3_sense', '--ssid', 'docks'], c.out, false, { env: { MODDABLE: '/sdk', BODYCAM_WIFI_PASSWORD: 'from-the-env-1' }, spawn: look }), 0);
    t.is(seen.length, 2);
    for (const s of seen) {
      t.false(s.args.some((a) => a.includes('hunter2') || a.includes('from-the-env') || a.startsWith('password=')), s.args.join(' '));
      t.true(s.args.includes('ssid=docks'));
      t.is(s.mode, 0o600);
    }
    t.deepEqual((JSON.parse(seen[0].manifest) as { config: unknown }).config, { password: 'hunter2hunter2' });
    t.deepEqual((JSON.parse(seen[1].manifest) as { config: unknown }).config, { password: 'from-the-env-1' });
    t.deepEqual((JSON.parse(seen[0].manifest) as { include: string[] }).include, [join(repoRoot, 'manifest.json')]);
    // The private manifest is gone once mcconfig is done.
    t.false(existsSync(seen[0].args[seen[0].args.indexOf('build') + 1]));
  } finally {
    c.restore();
    rmSync(dir, { recursive: true, force: true });
  }
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
  t.is(rc, 3, 'the environment');
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
  t.is(rc, 3);
  t.regex(c.errors.join('\n'), /E_SDK_MISSING: mcconfig was not found/);
});

// ------------------------------------------------------------------ partition tables

test('every board\'s partition table parses, follows ESP-IDF\'s rules, fits its flash and has the OTA slots', (t) => {
  for (const b of listBoards()) {
    const table = partitionsOf(b);
    t.notThrows(() => checkPartitions(table, b.config.flashBytes), b.name);
    const names = table.partitions.map((p) => p.name);
    t.deepEqual(names, ['nvs', 'phy_init', 'ota_0', 'ota_1', 'otadata', 'bcstore'], b.name);
    t.false(names.includes('factory'), 'no factory slot: the bootloader boots ota_0 while otadata is blank');
    const layout = updateLayout(table, b.config.flashBytes);
    t.is(layout.ota0.offset, 0x10000);
    t.is(layout.slotBytes, 0x200000, 'one slot size on every board, so one image fits them all');
    t.is(layout.otadata.size, OTADATA_SIZE);
    // The evidence partition is what the board file says (boards that keep evidence on an SD
    // card leave it unused), and takes the flash up to its end.
    const store = table.partitions.find((p) => p.name === 'bcstore')!;
    if (b.config.storage.kind !== 'sd') t.is(b.config.storage.kind === 'partition' ? b.config.storage.bytes : -1, store.size, `${b.name}: boards/${b.name}.json storage.bytes`);
    t.is(store.offset + store.size, b.config.flashBytes, `${b.name}: the evidence partition ends at the end of the flash`);
    const used = table.partitions.reduce((n, p) => n + p.size, 0);
    t.is(b.config.flashBytes - used, 0x9000, `${b.name}: nothing is wasted but the bootloader and the table`);
    // The nvs key store keeps its 24 KiB.
    t.is(table.partitions.find((p) => p.name === 'nvs')!.size, 0x6000);
  }
});

test('a broken partition table is refused, naming the rule', (t) => {
  const base = ['nvs, data, nvs, 0x9000, 0x6000', 'ota_0, app, ota_0, 0x10000, 0x200000', 'ota_1, app, ota_1, 0x210000, 0x200000', 'otadata, data, ota, 0x410000, 0x2000'];
  const check = (lines: string[], flash = 0x800000) => () => checkPartitions(parsePartitions(lines.join('\n'), 'x.csv'), flash);
  t.notThrows(check(base));
  const refused = (lines: string[], pattern: RegExp, flash?: number) => {
    const e = t.throws(check(lines, flash));
    t.is((e as { code?: string }).code, 'E_PARTITIONS');
    t.regex(e!.message, pattern);
  };
  refused([...base, 'bcstore, data, 0x40, 0x411000, 0x3EF000'], /otadata .* overlaps bcstore/);
  refused([...base.slice(0, 2), 'ota_1, app, ota_1, 0x211000, 0x200000', base[3]], /ota_1 .* not 64 KiB aligned/);
  refused([...base, 'bcstore, data, 0x40, 0x412000, 0x3EF000'], /bcstore .* past the 8 MB flash/);
  refused(base.slice(0, 2).concat(base[3]), /exactly one ota_0 and one ota_1/);
  refused(base.slice(0, 3), /exactly one otadata/);
  refused([...base.slice(0, 3), 'otadata, data, ota, 0x410000, 0x1000'], /otadata partition is 0x2000 bytes/);
  refused([...base.slice(0, 2), 'ota_1, app, ota_1, 0x210000, 0x100000', base[3]], /same size/);
  refused(['nvs, data, nvs, 0x8000, 0x6000', ...base.slice(1)], /below 0x9000/);
  refused([...base, 'bcstore, data, 0x40, 0x412000, 0x1800'], /4 KiB sectors/);
});

test('the binary partition table is gen_esp32part.py\'s: 32-byte entries, an MD5 entry, 0xFF to 0xC00', (t) => {
  const b = listBoards().find((x) => x.name === 'xiao_esp32s3_sense')!;
  const table = partitionsOf(b);
  const bin = partitionTableBinary(table);
  t.is(bin.length, PARTITION_TABLE_LENGTH);
  const v = new DataView(bin.buffer);
  const n = table.partitions.length;
  table.partitions.forEach((p, i) => {
    const at = 32 * i;
    t.deepEqual([bin[at], bin[at + 1]], [0xaa, 0x50]);
    t.is(v.getUint32(at + 4, true), p.offset);
    t.is(v.getUint32(at + 8, true), p.size);
    t.is(Buffer.from(bin.subarray(at + 12, at + 28)).toString('latin1').replace(/\0+$/, ''), p.name);
  });
  t.deepEqual([bin[2 + 32 * 2], bin[3 + 32 * 2]], [0x00, 0x10], 'ota_0 is app/0x10');
  t.deepEqual([bin[2 + 32 * 4], bin[3 + 32 * 4]], [0x01, 0x00], 'otadata is data/ota');
  t.deepEqual([bin[2 + 32 * 5], bin[3 + 32 * 5]], [0x01, 0x40], 'bcstore keeps its custom subtype');
  const md5 = 32 * n;
  t.deepEqual([...bin.subarray(md5, md5 + 16)], [0xeb, 0xeb, ...new Array(14).fill(0xff)]);
  t.deepEqual(Buffer.from(bin.subarray(md5 + 16, md5 + 32)), createHash('md5').update(bin.subarray(0, md5)).digest());
  t.true(bin.subarray(md5 + 32).every((x) => x === 0xff));
});

// ------------------------------------------------------------ build --sign-key

async function quiet<T>(f: (errors: string[]) => Promise<T>): Promise<{ value: T; errors: string[] }> {
  const errors: string[] = [];
  const orig = console.error;
  console.error = (l: string) => void errors.push(String(l));
  try {
    return { value: await f(errors), errors };
  } finally {
    console.error = orig;
  }
}

test.serial('build --sign-key: a release build, its application binary signed into an image that verifies', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bodycam-build-'));
  const sdk = join(dir, 'moddable');
  t.is(await run(['firmware', 'keygen', '--out', join(dir, 'keys')], () => {}), 0);
  const board = listBoards().find((b) => b.name === 'xiao_esp32s3_sense')!;
  const app = appBinaryPath(sdk, board, true);
  t.is(app, join(sdk, 'build', 'bin', 'esp32', 'xiao_esp32s3_sense', 'release', 'bodycam', 'xs_esp32.bin'));
  const payload = new Uint8Array(30000).map((_, i) => (i * 7) & 0xff);
  payload[0] = 0xe9;
  const runs: string[][] = [];
  const spawn: Spawner = async (command, args) => {
    runs.push([command, ...args]);
    mkdirSync(dirname(app), { recursive: true });
    writeFileSync(app, payload);
    return 0;
  };
  const lines: string[] = [];
  const argv = ['--board', 'xiao_esp32s3_sense', '--sign-key', join(dir, 'keys', SECRET_FILE), '--version', '2.1.0'];
  const { value: rc, errors } = await quiet(() => buildCommand(argv, (l) => void lines.push(l), false, { env: { MODDABLE: sdk, BODYCAM_FIRMWARE_PASSPHRASE: FW_PASSPHRASE }, spawn, cwd: dir }));
  t.is(rc, 0, errors.join('\n'));
  t.deepEqual(runs, [['mcconfig', '-m', '-p', 'esp32/xiao_esp32s3_sense', '-t', 'build', 'manifest.json']], 'a release build (no -d)');
  const out = join(dir, 'bodycam-xiao_esp32s3_sense-2.1.0.img');
  t.true(lines.some((l) => l === `signed image: ${out}`));
  t.true(lines.some((l) => l.includes(`bodycam flash --board xiao_esp32s3_sense --port PORT --image ${out}`)));
  const r = verifyImage(new Uint8Array(readFileSync(out)), { trust: new MemoryTrust({ keys: [readPublicKey(join(dir, 'keys', PUBLIC_FILE))] }), digest: softDigest, board: 'xiao_esp32s3_sense' });
  t.is(r.code, 'OK');
  t.like(r.image, { version: '2.1.0', payloadLength: payload.length });

  // Too large for the board's app slot: refused after the build, nothing written.
  const big = await quiet(() =>
    buildCommand([...argv.slice(0, 5), '2.2.0'], () => {}, false, {
      env: { MODDABLE: sdk, BODYCAM_FIRMWARE_PASSPHRASE: FW_PASSPHRASE },
      cwd: dir,
      spawn: async () => {
        writeFileSync(app, new Uint8Array(0x200001));
        return 0;
      },
    }),
  );
  t.is(big.value, 1);
  t.regex(big.errors.join('\n'), /E_FW_TOO_LARGE: .* 2097153 bytes; the board's app slot holds 2097152/);
  t.false(existsSync(join(dir, 'bodycam-xiao_esp32s3_sense-2.2.0.img')));
  // No binary where mcconfig leaves it: said so, with the path.
  const none = await quiet(() => buildCommand([...argv.slice(0, 5), '2.3.0'], () => {}, false, { env: { MODDABLE: join(dir, 'empty-sdk'), BODYCAM_FIRMWARE_PASSPHRASE: FW_PASSPHRASE }, cwd: dir, spawn: async () => 0 }));
  t.is(none.value, 3, 'the toolchain left no binary: the environment');
  t.regex(none.errors.join('\n'), /E_BUILD_OUTPUT: .*empty-sdk.*xs_esp32\.bin/);
  // A wrong key file or a missing version stops before any build.
  const before = runs.length;
  await t.throwsAsync(buildCommand(['--board', 'xiao_esp32s3_sense', '--sign-key', join(dir, 'keys', PUBLIC_FILE), '--version', '1.0.0'], () => {}, false, { env: { MODDABLE: sdk, BODYCAM_FIRMWARE_PASSPHRASE: FW_PASSPHRASE }, spawn, cwd: dir }), { message: /E_KEY/ });
  await t.throwsAsync(buildCommand(['--board', 'xiao_esp32s3_sense', '--sign-key', join(dir, 'keys', SECRET_FILE)], () => {}, false, { env: { MODDABLE: sdk, BODYCAM_FIRMWARE_PASSPHRASE: FW_PASSPHRASE }, spawn, cwd: dir }), { message: /E_USAGE: --version/ });
  await t.throwsAsync(buildCommand(['--board', 'xiao_esp32s3_sense', '--version', '1.0.0'], () => {}, false, { env: { MODDABLE: sdk, BODYCAM_FIRMWARE_PASSPHRASE: FW_PASSPHRASE }, spawn, cwd: dir }), { message: /E_USAGE: .*--sign-key/ });
  t.is(runs.length, before);
});

test('build --list-boards marks the boards that cannot record, and says why', async (t) => {
  const lines: string[] = [];
  t.is(await run(['build', '--list-boards'], (l) => void lines.push(l)), 0);
  const m5 = lines.find((l) => l.startsWith('m5atom_s3r_cam'));
  t.regex(m5 ?? '', /CANNOT RECORD: its GC0308 camera gives no JPEG/);
  for (const name of ['xiao_esp32s3_sense', 'lilygo_t_camera_plus_s3']) t.notRegex(lines.find((l) => l.startsWith(name)) ?? 'missing', /CANNOT RECORD|missing/, name);
});

test.serial('build --json: one JSON object on stdout, the exit code and what a person would have read', async (t) => {
  const { runs, spawn } = recorder();
  const printed: string[] = [];
  t.is(await buildCommand(['--board', 'xiao_esp32s3_sense', '--json'], (l) => void printed.push(l), false, { env: { MODDABLE: '/sdk' }, spawn }), 0);
  t.is(runs.length, 1);
  t.is(printed.length, 1);
  const o = JSON.parse(printed[0]) as { ok: boolean; exitCode: number; command: string; lines: string[] };
  t.like(o, { ok: true, exitCode: 0, command: 'build' });
  t.true(o.lines.some((l) => l.startsWith('building bodycam for')));
  const failed: string[] = [];
  const c = capture();
  try {
    t.is(await buildCommand(['--board', 'xiao_esp32s3_sense', '--json'], (l) => void failed.push(l), false, { env: { MODDABLE: '/sdk' }, spawn: async () => 2 }), 3);
  } finally {
    c.restore();
  }
  t.like(JSON.parse(failed[0]) as object, { ok: false, exitCode: 3 });
});
