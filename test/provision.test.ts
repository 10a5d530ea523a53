// The armoury tool's keys: the agency root (made once, passphrase-protected), dock identities
// that the dock station loads, the signed camera configuration, the revocation list, the file
// key store a simulated camera keeps, and the `bodycam provision` command line itself.

import test from 'ava';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '../firmware/codec/cbor.js';
import { BodycamError } from '../firmware/errors.js';
import { checkNewerConfig, DEFAULT_SETTINGS, parseResolution, peekConfig, signConfig, verifyConfig } from '../firmware/provision/config.js';
import { decodeProvisionMessage, encodeProvisionMessage } from '../firmware/provision/messages.js';
import { peekFirmwareKeys, signFirmwareKeys, verifyFirmwareKeys } from '../firmware/provision/firmware-keys.js';
import { verifyRevocationList } from '../firmware/signing/certificate.js';
import { KeyPairSigner } from '../firmware/signing/signer.js';
import { hostEd25519 } from '../host/ed25519-node.js';
import { loadDockIdentity } from '../dock-station/identity.js';
import { assignCamera, createRoot, issueDock, openRoot, provisionCommand, readRegister, readSettingsFile, revoke, ROOT_FILES } from '../cli/provision.js';
import { run as bodycam } from '../cli/bodycam.js';
import { PUBLIC_FILE, readPublicKey } from '../cli/firmware.js';
import { FileKeyStores as CameraKeyStores } from '../host-sim/node/file-keystore.js';
import { PROVISION_KEYSTORE } from '../host-sim/guest/provision.js';
import { KEY_FIRMWARE_KEYS } from '../firmware/update/trust.js';
import { FileKeyStores } from '../host-sim/node/file-keystore.js';
import { MemoryKeyStores, nodeDigest } from '../host-sim/node/hardware.js';
import { tempDir } from './helpers/tmp.js';

// `bodycam firmware keygen` (run in this process) encrypts the signing key with this passphrase.
process.env.BODYCAM_FIRMWARE_PASSPHRASE = 'armoury test passphrase';

const ed25519 = hostEd25519();
const PASS = 'correct horse battery staple';
const N = 1 << 12; // cheap scrypt for tests; the tool's default is 2^17

function tmp(label: string): string {
  return tempDir(`bodycam-${label}-`);
}

function newRoot(label = 'root') {
  const dir = join(tmp(label), 'agency');
  return { dir, root: createRoot({ dir, agency: 'Metro Police', passphrase: PASS, operator: 'sgt.armourer', scryptN: N, ed25519 }) };
}

test('the agency root is made once: a second root in the same folder is refused and the first is untouched', (t) => {
  const { dir, root } = newRoot();
  const before = readFileSync(join(dir, ROOT_FILES.secret));
  const e = t.throws(() => createRoot({ dir, agency: 'Other', passphrase: PASS, scryptN: N, ed25519 }), { instanceOf: BodycamError });
  t.is(e.code, 'E_ROOT_EXISTS');
  t.deepEqual(readFileSync(join(dir, ROOT_FILES.secret)), before);
  t.deepEqual(new Uint8Array(readFileSync(join(dir, ROOT_FILES.pub))), root.publicKey);
  t.is(statSync(join(dir, ROOT_FILES.secret)).mode & 0o077, 0, 'the secret file is private to its owner');
  // The secret is not in the file in the clear.
  const reopened = openRoot(dir, PASS, ed25519);
  t.deepEqual(reopened.publicKey, root.publicKey);
  t.is(reopened.agency, 'Metro Police');
  const register = readRegister(dir);
  t.is(register.events[0].action, 'root-created');
  t.is(register.events[0].by, 'sgt.armourer');
});

test('the root secret opens only with its passphrase; a weak passphrase is refused at creation', (t) => {
  const { dir } = newRoot();
  t.is(t.throws(() => openRoot(dir, PASS + '!', ed25519), { instanceOf: BodycamError }).code, 'E_PASSPHRASE');
  t.is(t.throws(() => createRoot({ dir: join(tmp('weak'), 'a'), agency: 'X', passphrase: 'short', scryptN: N }), { instanceOf: BodycamError }).code, 'E_PASSPHRASE_WEAK');
  // A root.pub swapped for another key is caught, not trusted.
  writeFileSync(join(dir, ROOT_FILES.pub), new Uint8Array(32).fill(9));
  t.is(t.throws(() => openRoot(dir, PASS, ed25519), { instanceOf: BodycamError }).code, 'E_ROOT_MISMATCH');
});

test('a dock identity issued by the armoury loads in the dock station, and refuses to overwrite', (t) => {
  const { dir, root } = newRoot();
  const out = join(tmp('dock'), 'dock-1');
  const now = Date.now();
  const r = issueDock({ root, id: 'DOCK-1', out, days: 30, now, ed25519, operator: 'sgt.armourer' });
  const dock = loadDockIdentity(out, ed25519, now);
  t.is(dock.id, 'DOCK-1');
  t.deepEqual(dock.rootKey, root.publicKey);
  t.is(toHex(dock.signer.keyId), r.keyId);
  t.is(dock.revocations, undefined);
  t.is(statSync(join(out, 'dock.seed')).mode & 0o077, 0);
  t.is(t.throws(() => loadDockIdentity(out, ed25519, now + 31 * 86400000), { instanceOf: BodycamError }).code, 'E_CERT_EXPIRED');
  t.is(t.throws(() => issueDock({ root, id: 'DOCK-1', out, now, ed25519 }), { instanceOf: BodycamError }).code, 'E_DOCK_EXISTS');
  const reg = readRegister(dir);
  t.is(reg.docks['DOCK-1'].keyId, r.keyId);
  t.true(existsSync(join(dir, ROOT_FILES.issued, `dock-DOCK-1-${r.serial}.cert.cose`)));
  // A dock issued after a revocation carries the list.
  revoke({ root, keyId: 'aa'.repeat(8), reason: 'lost', ed25519 });
  const out2 = join(tmp('dock'), 'dock-2');
  issueDock({ root, id: 'DOCK-2', out: out2, now, ed25519 });
  t.is(loadDockIdentity(out2, ed25519, now).revocations?.revoked.length, 1);
});

test('revocation lists are signed by the root and their numbers increase; a key is revoked once', (t) => {
  const { dir, root } = newRoot();
  issueDock({ root, id: 'DOCK-9', out: join(tmp('dock'), 'd'), ed25519 });
  const a = revoke({ root, keyId: '0011223344556677', reason: 'lost', ed25519, now: 1_800_000_000_000 });
  const b = revoke({ root, device: 'DOCK-9', reason: 'stolen', ed25519, effective: null });
  t.is(a.number, 1);
  t.is(b.number, 2);
  const list = verifyRevocationList(readFileSync(join(dir, ROOT_FILES.revocations)), root.publicKey, { ed25519 });
  t.is(list.number, 2);
  t.deepEqual(list.revoked.map((r) => [toHex(r.keyId), r.reason]), [['0011223344556677', 'lost'], [readRegister(dir).docks['DOCK-9'].keyId, 'stolen']]);
  // Revoked from the moment of revoking by default (earlier receipts stay valid), or from the start.
  t.deepEqual(list.revoked.map((r) => r.effective), [1_800_000_000_000, undefined]);
  t.is(t.throws(() => revoke({ root, keyId: '0011223344556677', reason: 'again', ed25519 }), { instanceOf: BodycamError }).code, 'E_ALREADY_REVOKED');
  t.is(t.throws(() => revoke({ root, device: 'CAM-NOPE', reason: 'x', ed25519 }), { instanceOf: BodycamError }).code, 'E_UNKNOWN_DEVICE');
  t.is(t.throws(() => revoke({ root, keyId: 'xyz', reason: 'x', ed25519 }), { instanceOf: BodycamError }).code, 'E_USAGE');
  t.is(revoke({ root, keyId: '8899aabbccddeeff', reason: 'retired', ed25519 }).number, 3);
  t.deepEqual(readRegister(dir).events.filter((e) => e.action === 'revoked').map((e) => e.list), [1, 2, 3]);
});

test('the camera configuration: signed by the root, bounded, for one device or all, newer versions only', (t) => {
  const root = new KeyPairSigner({ seed: new Uint8Array(32).fill(1), digest: nodeDigest, ed25519 });
  const base = { ...DEFAULT_SETTINGS, agency: 'Metro Police', device: 'CAM-1', version: 3, issued: 1 };
  const bytes = signConfig(base, root);
  t.deepEqual(verifyConfig(bytes, root.publicKey, { ed25519, device: 'CAM-1' }), base);
  t.is(t.throws(() => verifyConfig(bytes, root.publicKey, { ed25519, device: 'CAM-2' }), { instanceOf: BodycamError }).code, 'E_CONFIG_DEVICE');
  t.is(verifyConfig(signConfig({ ...base, device: '*' }, root), root.publicKey, { ed25519, device: 'CAM-2' }).device, '*');
  const other = new KeyPairSigner({ seed: new Uint8Array(32).fill(2), digest: nodeDigest, ed25519 });
  t.is(t.throws(() => verifyConfig(bytes, other.publicKey, { ed25519 }), { instanceOf: BodycamError }).code, 'E_COSE_SIGNATURE');
  const bad = (patch: object, pattern: RegExp) => {
    const e = t.throws(() => signConfig({ ...base, ...patch }, root), { instanceOf: BodycamError });
    t.is(e.code, 'E_CONFIG_VALUE');
    t.regex(e.message, pattern);
  };
  bad({ segmentSeconds: 1 }, /segmentSeconds must be a whole number from 5 to 600, not 1/);
  bad({ preEventSeconds: 121 }, /preEventSeconds .* 0 to 120/);
  bad({ frameRate: 2.5 }, /frameRate/);
  bad({ width: 641, height: 480 }, /resolution 641x480 is not one the cameras give/);
  bad({ version: 0 }, /version/);
  t.deepEqual(parseResolution('svga'), [800, 600]);
  t.deepEqual(parseResolution('1280x720'), [1280, 720]);
  t.is(t.throws(() => parseResolution('big')).message.includes('neither a name'), true);
  t.is(peekConfig(bytes).version, 3);
  t.notThrows(() => checkNewerConfig({ ...base, version: 4 }, base));
  t.is(t.throws(() => checkNewerConfig(base, base), { instanceOf: BodycamError }).code, 'E_CONFIG_STALE');
});

test('a settings file is read strictly: unknown settings and bad values are named', (t) => {
  const dir = tmp('cfg');
  const f = (name: string, body: unknown) => {
    const p = join(dir, name);
    writeFileSync(p, JSON.stringify(body));
    return p;
  };
  t.deepEqual(readSettingsFile(f('ok.json', { resolution: 'SVGA', frameRate: 10 })), { ...DEFAULT_SETTINGS, width: 800, height: 600, frameRate: 10 });
  t.regex(t.throws(() => readSettingsFile(f('u.json', { segmentSecs: 10 }))).message, /unknown setting "segmentSecs"/);
  t.regex(t.throws(() => readSettingsFile(f('v.json', { preEventSeconds: 600 }))).message, /E_CONFIG_VALUE: preEventSeconds/);
  t.regex(t.throws(() => readSettingsFile(f('s.json', { frameRate: '10' }))).message, /frameRate must be a number/);
});

test('provisioning messages: the schema refuses unknown, missing and oversized fields', (t) => {
  const m = decodeProvisionMessage(encodeProvisionMessage('identify'));
  t.is(m.t, 'identify');
  t.is(t.throws(() => encodeProvisionMessage('install', { cert: new Uint8Array(5) }), { instanceOf: BodycamError }).code, 'E_PROTO_FIELD');
  t.is(t.throws(() => encodeProvisionMessage('identify', { extra: 1 }), { instanceOf: BodycamError }).code, 'E_PROTO_FIELD');
  const big = { cert: new Uint8Array(4001), root: new Uint8Array(32), config: new Uint8Array(10), revocations: null, force: false };
  t.is(t.throws(() => encodeProvisionMessage('install', big), { instanceOf: BodycamError }).code, 'E_PROTO_FIELD');
  t.is(t.throws(() => decodeProvisionMessage(new Uint8Array([0xa1, 0x61, 0x74, 0x63, 0x66, 0x6f, 0x6f])), { instanceOf: BodycamError }).code, 'E_PROTO_UNKNOWN');
});

test('the file key store behaves like the memory one and persists across opens', (t) => {
  const dir = tmp('ks');
  const stores = [new MemoryKeyStores(), new FileKeyStores(dir)];
  for (const s of stores) {
    const ks = s.open({ path: 'bodycam' });
    t.is(ks.get('identity.seed'), undefined);
    const v = new Uint8Array([1, 2, 3]);
    ks.set('identity.seed', v);
    v[0] = 9; // the store kept a copy
    t.deepEqual(new Uint8Array(ks.get('identity.seed')!), new Uint8Array([1, 2, 3]));
    ks.set('a/b', new Uint8Array([4]).buffer);
    t.deepEqual(new Uint8Array(ks.get('a/b')!), new Uint8Array([4]));
    ks.delete('a/b');
    ks.delete('never-there');
    t.is(ks.get('a/b'), undefined);
    t.is(s.open({ path: 'other' }).get('identity.seed'), undefined, 'partitions are separate');
    ks.close();
    t.is(t.throws(() => ks.get('identity.seed'), { instanceOf: BodycamError }).code, 'E_CLOSED');
  }
  t.deepEqual(new Uint8Array(new FileKeyStores(dir).open({ path: 'bodycam' }).get('identity.seed')!), new Uint8Array([1, 2, 3]), 'a new process sees the same keys');
  const nvs = new FileKeyStores(dir, { nvsNames: true }).open({ path: 'bodycam' });
  t.is(t.throws(() => nvs.set('identity.certificate', new Uint8Array(1)), { instanceOf: BodycamError }).code, 'E_KEYSTORE_KEY');
  t.is(t.throws(() => nvs.set('big', new Uint8Array(4001)), { instanceOf: BodycamError }).code, 'E_KEYSTORE_VALUE');
});

test('bodycam provision --json: one object per step saying what was done, and nothing else on the output', async (t) => {
  const base = tmp('cli-json');
  const rootDir = join(base, 'agency');
  const lines: string[] = [];
  const env = { BODYCAM_PASSPHRASE: PASS };
  const run = (...argv: string[]) => provisionCommand([...argv, '--json'], (l) => void lines.push(l), { env });
  t.is(await run('root', '--agency', 'Metro Police', '--out', rootDir), 0);
  t.is(await run('dock', '--root', rootDir, '--id', 'DOCK-1', '--out', join(base, 'dock')), 0);
  t.is(await run('camera', '--root', rootDir, '--device', 'CAM-0042', '--officer', 'PC 1234 Smith', '--sim', join(base, 'cam')), 0);
  t.is(await run('revoke', '--root', rootDir, '--device', 'CAM-0042', '--reason', 'lost on patrol'), 0);
  t.is(lines.length, 4, 'one line per step');
  const [root, dock, camera, revoked] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  t.like(root, { ok: true, step: 'root', agency: 'Metro Police', secret: join(rootDir, 'root.secret') });
  t.like(dock, { ok: true, step: 'dock', id: 'DOCK-1', identity: join(base, 'dock') });
  t.like(camera, { ok: true, step: 'camera', device: 'CAM-0042', officer: 'PC 1234 Smith', forced: false });
  t.like(revoked, { ok: true, step: 'revoke', device: 'CAM-0042', number: 1 });
  t.regex(String(camera.keyId), /^[0-9a-f]+$/);
});

test('bodycam provision on the command line: root, dock, camera (simulated), config, revoke', async (t) => {
  const base = tmp('cli');
  const rootDir = join(base, 'agency');
  const passFile = join(base, 'pass.txt');
  writeFileSync(passFile, PASS + '\n');
  const lines: string[] = [];
  const out = (l: string) => void lines.push(l);
  const env = {};
  const run = (...argv: string[]) => provisionCommand(argv, out, { env });
  t.is(await run('root', '--agency', 'Metro Police', '--out', rootDir, '--passphrase-file', passFile), 0);
  t.true(lines.some((l) => l.includes('WARNING') && l.includes(join(rootDir, 'root.secret'))));
  t.true(lines.some((l) => /OFFLINE/.test(l)));
  await t.throwsAsync(run('root', '--agency', 'Metro Police', '--out', rootDir, '--passphrase-file', passFile), { message: /E_ROOT_EXISTS/ });
  await t.throwsAsync(run('dock', '--root', rootDir, '--id', 'DOCK-1', '--out', join(base, 'dock')), { message: /E_PASSPHRASE_MISSING.*BODYCAM_PASSPHRASE/ });
  Object.assign(env, { BODYCAM_PASSPHRASE: PASS });
  t.is(await run('dock', '--root', rootDir, '--id', 'DOCK-1', '--out', join(base, 'dock')), 0);
  t.is(loadDockIdentity(join(base, 'dock'), ed25519).id, 'DOCK-1');
  const cfg = join(base, 'cfg.json');
  writeFileSync(cfg, JSON.stringify({ segmentSeconds: 60, resolution: 'SVGA' }));
  t.is(await run('camera', '--root', rootDir, '--device', 'CAM-0042', '--officer', 'PC 1234 Smith', '--config', cfg, '--sim', join(base, 'cam')), 0);
  t.true(lines.some((l) => l.includes('camera CAM-0042 provisioned: assigned to PC 1234 Smith')));
  await t.throwsAsync(run('camera', '--root', rootDir, '--device', 'CAM-0042', '--officer', 'PC 99', '--sim', join(base, 'cam')), { message: /E_PROVISIONED.*--force/ });
  t.is(await run('camera', '--root', rootDir, '--device', 'CAM-0042', '--officer', 'PC 99 Jones', '--sim', join(base, 'cam'), '--force'), 0);
  await t.throwsAsync(run('camera', '--root', rootDir, '--device', 'CAM-1', '--officer', 'x', '--port', '/dev/ttyACM0'), { message: /E_UNSUPPORTED.*serial.*--connect/ });
  await t.throwsAsync(run('camera', '--root', rootDir, '--device', 'CAM-1', '--officer', 'x'), { message: /E_USAGE/ });
  t.is(await run('config', '--root', rootDir, '--device', '*', '--config', cfg, '--out', join(base, 'all.cose')), 0);
  t.is(peekConfig(readFileSync(join(base, 'all.cose'))).device, '*');
  t.is(await run('revoke', '--root', rootDir, '--device', 'CAM-0042', '--reason', 'lost on patrol'), 0);
  const reg = readRegister(rootDir);
  t.is(reg.cameras['CAM-0042'].officer, 'PC 99 Jones');
  const provisioned = reg.events.filter((e) => e.action === 'camera-provisioned');
  t.deepEqual(provisioned.map((e) => [e.officer, e.forced, e.previousOfficer]), [['PC 1234 Smith', false, null], ['PC 99 Jones', true, 'PC 1234 Smith']]);
  t.deepEqual(reg.events.map((e) => e.action), ['root-created', 'dock-issued', 'camera-certificate-issued', 'camera-provisioned', 'camera-certificate-issued', 'camera-provisioned', 'config-issued', 'revoked']);
  const lines2: string[] = [];
  t.is(await provisionCommand(['--help'], (l) => void lines2.push(l), { env }), 0);
  t.true(lines2.some((l) => l.includes('no prompt')));
});

test('provisioning messages: install without firmwareKeys (an older armoury tool) decodes; a bad one is refused', (t) => {
  const install = { cert: new Uint8Array(10), root: new Uint8Array(32), config: new Uint8Array(10), revocations: null, force: false };
  t.is(decodeProvisionMessage(encodeProvisionMessage('install', install)).f.has('firmwareKeys'), false);
  t.true(decodeProvisionMessage(encodeProvisionMessage('install', { ...install, firmwareKeys: new Uint8Array(100) })).f.get('firmwareKeys') instanceof Uint8Array);
  t.is(decodeProvisionMessage(encodeProvisionMessage('install', { ...install, firmwareKeys: null })).f.get('firmwareKeys'), null);
  t.is(t.throws(() => encodeProvisionMessage('install', { ...install, firmwareKeys: 'key' }), { instanceOf: BodycamError }).code, 'E_PROTO_FIELD');
  t.is(t.throws(() => encodeProvisionMessage('install', { ...install, firmwareKeys: new Uint8Array(4001) }), { instanceOf: BodycamError }).code, 'E_PROTO_FIELD');
  // The older fields stay required.
  const { force: _force, ...noForce } = install;
  t.is(t.throws(() => encodeProvisionMessage('install', noForce), { instanceOf: BodycamError }).code, 'E_PROTO_FIELD');
});

test('the firmware key set: signed by the root for one camera or all, 1 to 4 distinct 32-byte keys', (t) => {
  const root = new KeyPairSigner({ seed: new Uint8Array(32).fill(1), digest: nodeDigest, ed25519 });
  const k = (b: number) => new Uint8Array(32).fill(b);
  const set = { agency: 'Metro Police', device: 'CAM-1', issued: 5, keys: [k(1), k(2)] };
  const bytes = signFirmwareKeys(set, root);
  t.deepEqual(verifyFirmwareKeys(bytes, root.publicKey, { ed25519, device: 'CAM-1', agency: 'Metro Police' }), set);
  t.deepEqual(peekFirmwareKeys(bytes).keys, [k(1), k(2)]);
  t.is(t.throws(() => verifyFirmwareKeys(bytes, root.publicKey, { ed25519, device: 'CAM-2' }), { instanceOf: BodycamError }).code, 'E_FWKEYS_DEVICE');
  t.is(t.throws(() => verifyFirmwareKeys(bytes, root.publicKey, { ed25519, agency: 'Other' }), { instanceOf: BodycamError }).code, 'E_FWKEYS_DEVICE');
  t.is(verifyFirmwareKeys(signFirmwareKeys({ ...set, device: '*' }, root), root.publicKey, { ed25519, device: 'CAM-9' }).device, '*');
  const other = new KeyPairSigner({ seed: new Uint8Array(32).fill(2), digest: nodeDigest, ed25519 });
  t.is(t.throws(() => verifyFirmwareKeys(bytes, other.publicKey, { ed25519 }), { instanceOf: BodycamError }).code, 'E_COSE_SIGNATURE');
  for (const keys of [[], [k(1), k(2), k(3), k(4), k(5)], [k(1), k(1)], [new Uint8Array(31)]]) {
    t.is(t.throws(() => signFirmwareKeys({ ...set, keys }, root), { instanceOf: BodycamError }).code, 'E_FWKEYS_VALUE');
  }
  // A config signature is not a key set (the type field keeps structures apart).
  const config = signConfig({ ...DEFAULT_SETTINGS, agency: 'Metro Police', device: 'CAM-1', version: 1, issued: 1 }, root);
  t.throws(() => verifyFirmwareKeys(config, root.publicKey, { ed25519 }), { instanceOf: BodycamError });
});

test('bodycam provision camera --firmware-key installs the key; assign records a reassignment without the camera', async (t) => {
  const base = tmp('assign');
  const rootDir = join(base, 'agency');
  const env = { BODYCAM_PASSPHRASE: PASS };
  const lines: string[] = [];
  const run = (...argv: string[]) => provisionCommand(argv, (l) => void lines.push(l), { env });
  t.is(await run('root', '--agency', 'Metro Police', '--out', rootDir, '--operator', 'sgt.a'), 0);
  t.is(await bodycam(['firmware', 'keygen', '--out', join(base, 'fw')], () => {}), 0);
  const pub = join(base, 'fw', PUBLIC_FILE);
  t.is(await run('camera', '--root', rootDir, '--device', 'CAM-0042', '--officer', 'PC 1234 Smith', '--firmware-key', pub, '--sim', join(base, 'cam'), '--operator', 'sgt.a'), 0);
  t.true(lines.some((l) => /installs firmware signed by key [0-9a-f]{16}/.test(l)));
  const ks = new CameraKeyStores(join(base, 'cam'), { nvsNames: true }).open({ path: PROVISION_KEYSTORE });
  t.deepEqual(new Uint8Array(ks.get(KEY_FIRMWARE_KEYS)!), readPublicKey(pub));
  ks.close();
  t.is(await run('camera', '--root', rootDir, '--device', 'CAM-0043', '--officer', 'PC 7', '--sim', join(base, 'cam2')), 0);
  t.true(lines.some((l) => /WARNING: no --firmware-key/.test(l)));
  await t.throwsAsync(run('revoke', '--root', rootDir, '--device', 'CAM-0043', '--reason', 'x', '--firmware-key', pub), { message: /E_USAGE: --firmware-key goes with/ });

  // assign: no passphrase needed; the history keeps who, when and the previous officer.
  const before = readRegister(rootDir).events.length;
  t.is(await provisionCommand(['assign', '--root', rootDir, '--device', 'CAM-0042', '--officer', 'PC 99 Jones', '--operator', 'sgt.b'], (l) => void lines.push(l), { env: {}, now: () => Date.parse('2025-03-01T08:00:00Z') }), 0);
  t.true(lines.some((l) => l.includes('camera CAM-0042 assigned to PC 99 Jones (was PC 1234 Smith)')));
  const reg = readRegister(rootDir);
  t.is(reg.events.length, before + 1, 'one event appended');
  t.like(reg.events.at(-1), { action: 'camera-assigned', by: 'sgt.b', at: '2025-03-01T08:00:00.000Z', device: 'CAM-0042', officer: 'PC 99 Jones', previousOfficer: 'PC 1234 Smith', keyId: reg.cameras['CAM-0042'].keyId });
  t.like(reg.cameras['CAM-0042'], { officer: 'PC 99 Jones', since: '2025-03-01T08:00:00.000Z', by: 'sgt.b' });
  const provisioned = reg.events.find((e) => e.action === 'camera-provisioned' && e.device === 'CAM-0042');
  t.is(provisioned?.officer, 'PC 1234 Smith', 'earlier events are untouched');
  t.is(typeof provisioned?.firmwareKeys, 'string');
  assignCamera({ rootDir, device: 'CAM-0042', officer: 'PC 5', operator: 'sgt.a' });
  t.deepEqual(readRegister(rootDir).events.filter((e) => e.action === 'camera-assigned').map((e) => [e.previousOfficer, e.officer]), [['PC 1234 Smith', 'PC 99 Jones'], ['PC 99 Jones', 'PC 5']]);

  const code = (f: () => unknown) => (t.throws(f, { instanceOf: BodycamError }) as BodycamError).code;
  t.is(code(() => assignCamera({ rootDir, device: 'CAM-NOPE', officer: 'PC 1' })), 'E_UNKNOWN_DEVICE');
  t.is(code(() => assignCamera({ rootDir, device: 'CAM-0042', officer: 'PC 5' })), 'E_ALREADY_ASSIGNED');
  t.is(code(() => assignCamera({ rootDir, device: 'CAM-0042', officer: '  ' })), 'E_USAGE');
  t.is(await run('revoke', '--root', rootDir, '--device', 'CAM-0043', '--reason', 'lost'), 0);
  t.is(code(() => assignCamera({ rootDir, device: 'CAM-0043', officer: 'PC 8' })), 'E_CERT_REVOKED');
  await t.throwsAsync(provisionCommand(['assign', '--root', rootDir, '--device', 'CAM-0042'], () => {}, { env: {} }), { message: /E_USAGE: --officer is required/ });
  t.is(readRegister(rootDir).cameras['CAM-0042'].officer, 'PC 5');
});
