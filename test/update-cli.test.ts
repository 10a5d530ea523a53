// The armoury commands: `bodycam firmware keygen|sign|verify` (key files OpenSSL/Node read as
// Ed25519 PKCS#8 and SPKI, the secret at mode 0600, never overwritten), and `bodycam flash`
// refusing an unsigned build unless the board is declared a development board.

import test from 'ava';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../cli/bodycam.js';
import { buildCommand } from '../cli/build.js';
import { PUBLIC_FILE, SECRET_FILE, readPublicKey } from '../cli/firmware.js';
import { payloadOf } from '../host-sim/update/fixture.js';

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

const dir = mkdtempSync(join(tmpdir(), 'bodycam-fw-'));
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
  // Node (OpenSSL) reads both as Ed25519 keys, and they are a pair
  const secret = createPrivateKey(readFileSync(join(keys, SECRET_FILE)));
  t.is(secret.asymmetricKeyType, 'ed25519');
  const pub = createPublicKey(readFileSync(join(keys, PUBLIC_FILE)));
  t.deepEqual(createPublicKey(secret).export({ format: 'der', type: 'spki' }), pub.export({ format: 'der', type: 'spki' }));
  t.deepEqual(readPublicKey(join(keys, SECRET_FILE)), readPublicKey(join(keys, PUBLIC_FILE)));
  const again = await bodycam('firmware', 'keygen', '--out', keys);
  t.is(again.code, 1);
  t.regex(again.errors.join('\n'), /E_EXISTS/);
  t.is((await bodycam('firmware', 'keygen', '--out', other)).code, 0);
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
  t.is((await bodycam('firmware', 'sign', '--key', join(keys, SECRET_FILE), '--version', '1.4.0', '--board', 'no_such_board', app, signed)).code, 1);
  t.is((await bodycam('firmware', 'sign', '--key', join(keys, PUBLIC_FILE), '--version', '1.4.0', '--board', 'xiao_esp32s3_sense', app, signed)).code, 1, 'a public key can not sign');
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
    t.is(await buildCommand(argv, () => {}, true, { env: { MODDABLE: '/sdk' }, spawn }), 1);
    t.deepEqual(runs, []);
    t.regex(errors.join('\n'), /E_FW_UNSIGNED: .*--development-board/);
    t.is(await buildCommand([...argv, '--development-board'], () => {}, true, { env: { MODDABLE: '/sdk' }, spawn }), 0);
    t.deepEqual(runs, ['mcconfig']);
    t.is(await buildCommand(['--board', 'xiao_esp32s3_sense'], () => {}, false, { env: { MODDABLE: '/sdk' }, spawn }), 0, 'build needs no such flag');
  } finally {
    console.error = orig;
  }
});
