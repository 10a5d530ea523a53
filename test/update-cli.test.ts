// The armoury commands: `bodycam firmware keygen|sign|verify` (key files OpenSSL/Node read as
// Ed25519 PKCS#8 and SPKI, the secret at mode 0600, never overwritten), `bodycam flash`
// refusing an unsigned build unless the board is declared a development board, and `bodycam
// flash --image` checking a signed image as a camera would before esptool.py writes it (the
// esptool command line is checked here; nothing is flashed).

import test from 'ava';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from '../cli/bodycam.js';
import { buildCommand, ESPTOOL, listBoards, partitionsOf, type Spawner } from '../cli/build.js';
import { partitionTableBinary } from '../cli/partitions.js';
import { PUBLIC_FILE, SECRET_FILE, readPublicKey } from '../cli/firmware.js';
import { payloadOf } from '../host-sim/update/fixture.js';
import { tempDir } from './helpers/tmp.js';

async function bodycam(...argv: string[]): Promise<{ code: number; lines: string[]; errors: string[] }> {
  const lines: string[] = [];
  const errors: string[] = [];
  const orig = console.error;
  console.error = (l: string) => void errors.push(String(l));
  try {
    const code = await run(argv, (l) => lines.push(l));
    return { code, lines, errors };
  } finally {
    console.error = orig;
  }
}

// The signing key is encrypted at keygen; keygen, sign and build read the passphrase from here.
const PASSPHRASE = 'armoury test passphrase';
process.env.BODYCAM_FIRMWARE_PASSPHRASE = PASSPHRASE;

const dir = tempDir('bodycam-fw-');
const keys = join(dir, 'keys');
const other = join(dir, 'other');
const app = join(dir, 'app.bin');
const signed = join(dir, 'app.img');
writeFileSync(app, payloadOf(20000, 4));

test.serial('keygen writes the signing key 0600 with a warning, and its public key; never overwrites', async (t) => {
  const r = await bodycam('firmware', 'keygen', '--out', keys);
  t.is(r.code, 0);
  t.is(statSync(join(keys, SECRET_FILE)).mode & 0o777, 0o600);
  t.regex(r.lines.join('\n'), /WARNING: the firmware SIGNING key is in .*firmware-signing\.pem/);
  // The secret is an encrypted PKCS#8 key: Node (OpenSSL) opens it only with the passphrase, as
  // an Ed25519 key whose public half is the public key file.
  const text = readFileSync(join(keys, SECRET_FILE), 'utf8');
  t.regex(text, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
  t.throws(() => createPrivateKey(text));
  const secret = createPrivateKey({ key: text, passphrase: PASSPHRASE });
  t.is(secret.asymmetricKeyType, 'ed25519');
  const seed = (secret.export({ format: 'der', type: 'pkcs8' }) as Buffer).subarray(-32);
  t.false(readFileSync(join(keys, SECRET_FILE)).includes(seed), 'the seed is not in the file in the clear');
  const pub = createPublicKey(readFileSync(join(keys, PUBLIC_FILE)));
  t.deepEqual(createPublicKey(secret).export({ format: 'der', type: 'spki' }), pub.export({ format: 'der', type: 'spki' }));
  t.throws(() => readPublicKey(join(keys, SECRET_FILE)), { message: /E_KEY: .*the secret signing key/ });
  const again = await bodycam('firmware', 'keygen', '--out', keys);
  t.is(again.code, 2);
  t.regex(again.errors.join('\n'), /E_EXISTS/);
  t.is((await bodycam('firmware', 'keygen', '--out', other)).code, 0);
});

test.serial('the signing key needs its passphrase: missing, short, wrong, or a key in the clear are refused with their codes', async (t) => {
  const made = join(dir, 'pass-keys');
  const saved = process.env.BODYCAM_FIRMWARE_PASSPHRASE;
  try {
    delete process.env.BODYCAM_FIRMWARE_PASSPHRASE;
    const none = await bodycam('firmware', 'keygen', '--out', made);
    t.is(none.code, 2);
    t.regex(none.errors.join('\n'), /E_PASSPHRASE_MISSING/);
    t.false(existsSync(join(made, SECRET_FILE)), 'nothing written without a passphrase');
    process.env.BODYCAM_FIRMWARE_PASSPHRASE = 'short';
    t.regex((await bodycam('firmware', 'keygen', '--out', made)).errors.join('\n'), /E_PASSPHRASE_WEAK/);
    process.env.BODYCAM_FIRMWARE_PASSPHRASE = PASSPHRASE;
    t.is((await bodycam('firmware', 'keygen', '--out', made)).code, 0);
    const img = join(dir, 'pass.img');
    process.env.BODYCAM_FIRMWARE_PASSPHRASE = 'the wrong passphrase';
    const wrong = await bodycam('firmware', 'sign', '--key', join(made, SECRET_FILE), '--version', '1.0.0', '--board', 'xiao_esp32s3_sense', app, img);
    t.regex(wrong.errors.join('\n'), /E_PASSPHRASE: wrong passphrase/);
    t.false(existsSync(img));
    // --passphrase-file takes precedence over the environment.
    const file = join(dir, 'passphrase.txt');
    writeFileSync(file, `${PASSPHRASE}\n`, { mode: 0o600 });
    t.is((await bodycam('firmware', 'sign', '--key', join(made, SECRET_FILE), '--passphrase-file', file, '--version', '1.0.0', '--board', 'xiao_esp32s3_sense', app, img)).code, 0);
    // A key written in the clear (an older keygen, or imgtool without a password) is refused for signing.
    process.env.BODYCAM_FIRMWARE_PASSPHRASE = PASSPHRASE;
    const clear = join(dir, 'clear.pem');
    writeFileSync(clear, createPrivateKey({ key: readFileSync(join(made, SECRET_FILE), 'utf8'), passphrase: PASSPHRASE }).export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    const r = await bodycam('firmware', 'sign', '--key', clear, '--version', '1.0.0', '--board', 'xiao_esp32s3_sense', app, join(dir, 'clear.img'));
    t.not(r.code, 0);
    t.regex(r.errors.join('\n'), /E_KEY_UNENCRYPTED/);
  } finally {
    process.env.BODYCAM_FIRMWARE_PASSPHRASE = saved;
  }
});

test.serial('keygen and sign --json: one object each, naming the same key id', async (t) => {
  const made = join(dir, 'json-keys');
  const k = await bodycam('firmware', 'keygen', '--out', made, '--json');
  t.is(k.code, 0);
  t.is(k.lines.length, 1);
  const key = JSON.parse(k.lines[0]) as { ok: boolean; keyId: string; encrypted: boolean; secret: string };
  t.true(key.ok && key.encrypted);
  t.is(key.secret, join(made, SECRET_FILE));
  const img = join(dir, 'json.img');
  const s = await bodycam('firmware', 'sign', '--key', join(made, SECRET_FILE), '--version', '1.2.3', '--board', 'xiao_esp32s3_sense', '--json', app, img);
  t.is(s.code, 0);
  const signedImage = JSON.parse(s.lines[0]) as { ok: boolean; keyId: string; version: string; board: string; file: string };
  t.like(signedImage, { ok: true, keyId: key.keyId, version: '1.2.3', board: 'xiao_esp32s3_sense', file: img });
});

test.serial('one firmware key id everywhere: keygen, sign, verify and the E_FW_KEY a camera gives name the key alike', async (t) => {
  const made = join(dir, 'id-keys');
  const k = await bodycam('firmware', 'keygen', '--out', made);
  const id = /key id ([0-9a-f]{16})/.exec(k.lines.join('\n'))?.[1];
  t.truthy(id, k.lines.join('\n'));
  const img = join(dir, 'id.img');
  const s = await bodycam('firmware', 'sign', '--key', join(made, SECRET_FILE), '--version', '1.0.0', '--board', 'xiao_esp32s3_sense', app, img);
  t.regex(s.lines.join('\n'), new RegExp(`signed by key ${id}`));
  t.regex((await bodycam('firmware', 'verify', img, '--key', join(made, PUBLIC_FILE))).lines[0], new RegExp(`key ${id},`));
  // A camera that trusts another key names this one by the same id.
  const refused = await bodycam('firmware', 'verify', img, '--key', join(keys, PUBLIC_FILE), '--json');
  t.like(JSON.parse(refused.lines[0]), { code: 'E_FW_KEY' });
  t.regex(JSON.parse(refused.lines[0]).message, new RegExp(`signed by key ${id}, which`));
});

test.serial('sign, then verify (human and --json); another key, another board, a tampered byte, a rollback are refused', async (t) => {
  const s = await bodycam('firmware', 'sign', '--key', join(keys, SECRET_FILE), '--version', '1.4.2', '--board', 'xiao_esp32s3_sense', app, signed);
  t.is(s.code, 0, s.errors.join('\n'));
  const v = await bodycam('firmware', 'verify', signed, '--key', join(keys, PUBLIC_FILE));
  t.is(v.code, 0);
  t.regex(v.lines[0], /OK — firmware 1\.4\.2 for xiao_esp32s3_sense, security counter 17039362, 20000 payload bytes/);
  const j = await bodycam('firmware', 'verify', signed, '--key', join(keys, PUBLIC_FILE), '--board', 'xiao_esp32s3_sense', '--json');
  t.like(JSON.parse(j.lines[0]), { ok: true, code: 'OK', version: '1.4.2', board: 'xiao_esp32s3_sense', securityCounter: 0x01040002 });
  const wrongKey = await bodycam('firmware', 'verify', signed, '--key', join(other, PUBLIC_FILE), '--json');
  t.is(wrongKey.code, 1);
  t.like(JSON.parse(wrongKey.lines[0]), { ok: false, code: 'E_FW_KEY' });
  const board = await bodycam('firmware', 'verify', signed, '--key', join(keys, PUBLIC_FILE), '--board', 'm5atom_s3r_cam', '--json');
  t.like(JSON.parse(board.lines[0]), { ok: false, code: 'E_FW_BOARD' });
  const rollback = await bodycam('firmware', 'verify', signed, '--key', join(keys, PUBLIC_FILE), '--security-counter', String(0x01050000));
  t.is(rollback.code, 1);
  t.regex(rollback.lines[0], /REFUSED E_FW_ROLLBACK/);
  const bytes = readFileSync(signed);
  bytes[100] ^= 1;
  const tampered = join(dir, 'tampered.img');
  writeFileSync(tampered, bytes);
  t.like(JSON.parse((await bodycam('firmware', 'verify', tampered, '--key', join(keys, PUBLIC_FILE), '--json')).lines[0]), { code: 'E_FW_HASH' });
  t.is((await bodycam('firmware', 'sign', '--key', join(keys, SECRET_FILE), '--version', '1.4', '--board', 'xiao_esp32s3_sense', app, signed)).code, 2);
  t.is((await bodycam('firmware', 'sign', '--key', join(keys, SECRET_FILE), '--version', '1.4.0', '--board', 'no_such_board', app, signed)).code, 2);
  t.is((await bodycam('firmware', 'sign', '--key', join(keys, PUBLIC_FILE), '--version', '1.4.0', '--board', 'xiao_esp32s3_sense', app, signed)).code, 2, 'a public key can not sign');
});

test.serial('bodycam flash refuses an unsigned build unless --development-board; nothing is run', async (t) => {
  const runs: string[] = [];
  const spawn = async (command: string) => {
    runs.push(command);
    return 0;
  };
  const errors: string[] = [];
  const orig = console.error;
  console.error = (l: string) => void errors.push(String(l));
  try {
    const argv = ['--board', 'xiao_esp32s3_sense', '--port', '/dev/ttyACM0'];
    t.is(await buildCommand(argv, () => {}, true, { env: { MODDABLE: '/sdk' }, spawn }), 2, 'a usage error');
    t.deepEqual(runs, []);
    t.regex(errors.join('\n'), /E_FW_UNSIGNED: .*--development-board/);
    t.is(await buildCommand([...argv, '--development-board'], () => {}, true, { env: { MODDABLE: '/sdk' }, spawn }), 0);
    t.deepEqual(runs, ['mcconfig']);
    t.is(await buildCommand(['--board', 'xiao_esp32s3_sense'], () => {}, false, { env: { MODDABLE: '/sdk' }, spawn }), 0, 'build needs no such flag');
  } finally {
    console.error = orig;
  }
});

// ------------------------------------------------------------------- flash --image

const espApp = (length: number, tag: number) => {
  const p = payloadOf(length, tag);
  p[0] = 0xe9; // an ESP-IDF application image starts with its magic
  return p;
};

async function sign(version: string, payload: Uint8Array, board = 'xiao_esp32s3_sense', key = join(keys, SECRET_FILE)): Promise<string> {
  const inFile = join(dir, `in-${version}-${board}.bin`);
  const outFile = join(dir, `fw-${version}-${board}.img`);
  writeFileSync(inFile, payload);
  const r = await bodycam('firmware', 'sign', '--key', key, '--version', version, '--board', board, inFile, outFile);
  if (r.code !== 0) throw new Error(r.errors.join('\n'));
  return outFile;
}

interface Run {
  command: string;
  args: string[];
  files: Map<string, Uint8Array>;
}

function esptool(code = 0) {
  const runs: Run[] = [];
  const spawn: Spawner = async (command, args) => {
    // esptool.py reads its files while it runs; the command removes them afterwards.
    const at = args.indexOf('write_flash');
    const files = new Map(args.slice(at + 1).filter((_, i) => i % 2 === 1).map((f) => [f, new Uint8Array(readFileSync(f))]));
    runs.push({ command, args, files });
    return code;
  };
  return { runs, spawn };
}

async function flash(argv: string[], spawn: Spawner, env: NodeJS.ProcessEnv = {}) {
  const lines: string[] = [];
  const errors: string[] = [];
  const orig = console.error;
  console.error = (l: string) => void errors.push(String(l));
  try {
    const code = await buildCommand(['--board', 'xiao_esp32s3_sense', '--port', '/dev/ttyACM0', ...argv], (l) => void lines.push(l), true, { env, spawn });
    return { code, lines, errors };
  } finally {
    console.error = orig;
  }
}

test.serial('flash --image: a good image is written with esptool.py: partition table, blank otadata, payload into ota_0', async (t) => {
  const payload = espApp(50000, 7);
  const image = await sign('1.5.0', payload);
  const { runs, spawn } = esptool();
  const r = await flash(['--image', image, '--firmware-key', join(keys, PUBLIC_FILE)], spawn);
  t.is(r.code, 0, r.errors.join('\n'));
  t.is(runs.length, 1);
  const [run] = runs;
  t.is(run.command, ESPTOOL);
  const f = [...run.files.keys()];
  t.deepEqual(run.args, ['--chip', 'esp32s3', '--port', '/dev/ttyACM0', '--baud', '460800', '--before', 'default_reset', '--after', 'hard_reset', 'write_flash', '0x8000', f[0], '0x410000', f[1], '0x10000', f[2]]);
  const board = listBoards().find((b) => b.name === 'xiao_esp32s3_sense')!;
  t.deepEqual(run.files.get(f[0]), partitionTableBinary(partitionsOf(board)));
  t.deepEqual(run.files.get(f[1]), new Uint8Array(0x2000).fill(0xff), 'blank otadata: the bootloader boots ota_0');
  t.deepEqual(run.files.get(f[2]), payload, 'exactly the signed payload, without header or TLVs');
  for (const file of f) t.false(existsSync(file), 'temporary files are removed');
  t.regex(r.lines.join('\n'), /firmware 1\.5\.0 for xiao_esp32s3_sense, signed by key [0-9a-f]{16}: OK/);
  t.regex(r.lines.at(-1)!, /done: the camera restarts with firmware 1\.5\.0/);
  // esptool failing is reported, not "done"
  const failed = await flash(['--image', image, '--firmware-key', join(keys, PUBLIC_FILE)], esptool(2).spawn);
  t.is(failed.code, 3, 'the environment: cable, port, programming mode');
  t.regex(failed.errors.join('\n'), /E_FLASH_FAILED: esptool\.py exited with 2/);
});

test.serial('flash --image refuses, with the camera\'s code, what a camera would refuse; esptool never runs', async (t) => {
  const good = await sign('1.6.0', espApp(40000, 8));
  const refusals: [string, string[], RegExp][] = [];
  const key = ['--firmware-key', join(keys, PUBLIC_FILE)];
  refusals.push(['another key', ['--image', good, '--firmware-key', join(other, PUBLIC_FILE)], /^E_FW_KEY: /]);
  refusals.push(['another board', ['--image', await sign('1.6.0', espApp(40000, 8), 'lilygo_t_camera_plus_s3'), ...key], /^E_FW_BOARD: .*lilygo_t_camera_plus_s3/]);
  const tampered = new Uint8Array(readFileSync(good));
  tampered[1000] ^= 0x10;
  writeFileSync(join(dir, 'tampered-flash.img'), tampered);
  refusals.push(['a tampered byte', ['--image', join(dir, 'tampered-flash.img'), ...key], /^E_FW_HASH: /]);
  writeFileSync(join(dir, 'plain.bin'), espApp(40000, 8));
  refusals.push(['an unsigned build', ['--image', join(dir, 'plain.bin'), ...key], /^E_FW_FORMAT: .*magic/]);
  writeFileSync(join(dir, 'short.img'), readFileSync(good).subarray(0, 20000));
  refusals.push(['a truncated image', ['--image', join(dir, 'short.img'), ...key], /^E_FW_TRUNCATED: /]);
  refusals.push(['an older security counter', ['--image', good, ...key, '--security-counter', String(0x01070000)], /^E_FW_ROLLBACK: /]);
  const notEsp = payloadOf(40000, 9);
  notEsp[0] = 0x7f; // an ELF file, say, rather than the .bin
  refusals.push(['a payload that is not an ESP32 application', ['--image', await sign('1.6.1', notEsp), ...key], /^E_FW_FORMAT: .*not an ESP32 application image/]);
  refusals.push(['a payload larger than the app slot', ['--image', await sign('1.6.2', espApp(0x200001, 3)), ...key], /^E_FW_TOO_LARGE: .*holds 2097152/]);
  for (const [what, argv, pattern] of refusals) {
    const { runs, spawn } = esptool();
    const r = await flash(argv, spawn);
    t.is(r.code, 1, what);
    t.regex(r.errors.join('\n'), pattern, what);
    t.regex(r.errors.join('\n'), /a camera would refuse this image|not an ESP32|app slot/, what);
    t.deepEqual(runs, [], `${what}: nothing written`);
  }
  // Usage: a key is required; build options don't mix with a signed image.
  const { runs, spawn } = esptool();
  await t.throwsAsync(flash(['--image', good], spawn), { message: /E_USAGE: --firmware-key/ });
  await t.throwsAsync(flash(['--image', good, ...key, '--development-board'], spawn), { message: /E_USAGE: --development-board is for building/ });
  await t.throwsAsync(flash(['--image', good, ...key, '--sign-key', 'k.pem'], spawn), { message: /E_USAGE: --sign-key is only for/ });
  await t.throwsAsync(flash(['--firmware-key', join(keys, PUBLIC_FILE), '--development-board'], spawn), { message: /E_USAGE: --firmware-key .* give it with --image/ });
  t.deepEqual(runs, []);
});

test.serial('flash --image without esptool.py says how to install it (E_SDK_MISSING); no SDK variables are needed to check', async (t) => {
  const image = await sign('1.7.0', espApp(30000, 2));
  const spawn: Spawner = async () => {
    throw Object.assign(new Error('spawn esptool.py ENOENT'), { code: 'ENOENT' });
  };
  const r = await flash(['--image', image, '--firmware-key', join(keys, PUBLIC_FILE)], spawn, {});
  t.is(r.code, 3);
  t.regex(r.errors.join('\n'), /E_SDK_MISSING: esptool\.py .* not found .*npx xs-dev setup --device esp32/);
  t.regex(r.lines.join('\n'), /OK, a camera would install it/, 'the image was checked before the tool was looked for');
});
