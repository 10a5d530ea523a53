// The agency evidence keys (issue 22): `bodycam provision evidence-key create|list|rotate|retire`,
// the sealed secret files (0600 from creation) and loading one for export, the public half in
// the signed configuration a camera is provisioned with (on Node and in XS), a configuration
// another root signed refused, and a rotation reaching a camera at its docking.

import test, { type ExecutionContext } from 'ava';
import { createHash, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex, toHex, type CborValue } from '../firmware/codec/cbor.js';
import { BodycamError } from '../firmware/errors.js';
import { KEY_CONFIG } from '../firmware/provision/camera.js';
import { ANY_DEVICE, checkNewerConfig, DEFAULT_SETTINGS, signConfig, verifyConfig, type CameraConfig } from '../firmware/provision/config.js';
import type { EvidenceRecipient } from '../firmware/provision/evidence-keys.js';
import { peekManifest } from '../firmware/signing/manifest.js';
import { hostEd25519 } from '../host/ed25519-node.js';
import { seal } from '../host/sealed-secret.js';
import { evidenceKeyPair, loadEvidenceKey, sealEvidenceKey } from '../evidence/evidence-keys.js';
import { loadExaminerKey } from '../evidence/sealed.js';
import { createEvidenceKey, evidenceKeyPath, listEvidenceKeys, retireEvidenceKey, rotateEvidenceKey } from '../cli/evidence-key.js';
import { createRoot, HandlerTransport, issueConfig, provisionCamera, provisionCommand, ProvisioningClient, readRegister, ROOT_FILES, type AgencyRoot } from '../cli/provision.js';
import { ENGINES, startEngine, type EngineName } from '../host-sim/engine.js';
import { FileKeyStores } from '../host-sim/node/file-keystore.js';
import { SimHardware } from '../host-sim/node/hardware.js';
import { AGENCY, certificate, root as testRoot, startStation } from './helpers/dock.js';
import { DEVICE, TestCamera, type CameraOptions } from './helpers/recorder.js';
import { ConfigShelf } from '../dock-station/config-shelf.js';
import { tempDir } from './helpers/tmp.js';

const ed25519 = hostEd25519();
const PASS = 'correct horse battery staple';
const EVIDENCE_PASS = 'evidence office passphrase';
const N = 1 << 12; // cheap scrypt for tests; the tool's default is 2^17

function tmp(label: string): string {
  return tempDir(`bodycam-${label}-`);
}

function agency(name = 'Metro Police'): AgencyRoot {
  return createRoot({ dir: join(tmp('evroot'), 'agency'), agency: name, passphrase: PASS, operator: 'sgt.armourer', scryptN: N, ed25519 });
}

const keyOptions = (root: AgencyRoot) => ({ root, passphrase: EVIDENCE_PASS, operator: 'sgt.armourer', scryptN: N });

function code(t: ExecutionContext, f: () => unknown, expected: string): BodycamError {
  const e = t.throws(f, { instanceOf: BodycamError });
  t.is(e.code, expected, e.message);
  return e;
}

async function codeAsync(t: ExecutionContext, p: Promise<unknown>, expected: string): Promise<BodycamError> {
  const e = await t.throwsAsync(p, { instanceOf: BodycamError });
  t.is(e.code, expected, e.message);
  return e;
}

const recipients = (c: CameraConfig) => (c.evidenceKeys ?? []).map((k) => ({ keyId: toHex(k.keyId), publicKey: toHex(k.publicKey) }));

test('evidence-key create, list, rotate and retire through the command line; the register keeps who and when', async (t) => {
  const root = agency();
  const env = { BODYCAM_PASSPHRASE: PASS, BODYCAM_EVIDENCE_PASSPHRASE: EVIDENCE_PASS, USER: 'x' };
  const cli = async (...argv: string[]) => {
    const lines: string[] = [];
    await provisionCommand(['evidence-key', ...argv, '--root', root.dir, '--operator', 'sgt.armourer', '--json'], (l) => void lines.push(l), { env });
    return JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
  };
  t.deepEqual((await cli('list')).keys, []);
  await codeAsync(t, provisionCommand(['evidence-key', 'create', '--root', root.dir], () => {}, { env: { BODYCAM_PASSPHRASE: PASS } }), 'E_EVIDENCE_PASSPHRASE_MISSING');
  await codeAsync(t, provisionCommand(['evidence-key', 'rotate', '--root', root.dir], () => {}, { env }), 'E_EVIDENCE_KEY_NONE');
  await codeAsync(t, provisionCommand(['evidence-key', 'make', '--root', root.dir], () => {}, { env }), 'E_USAGE');

  const first = await cli('create');
  const firstId = first.keyId as string;
  t.regex(firstId, /^[0-9a-f]{16}$/);
  t.is(first.file, evidenceKeyPath(root.dir, firstId));
  t.true(existsSync(first.file as string));
  await codeAsync(t, cli('create'), 'E_EVIDENCE_KEY_EXISTS');

  const rotated = await cli('rotate', '--out', join(root.dir, 'all.cose'));
  const secondId = rotated.keyId as string;
  t.not(secondId, firstId);
  t.is(rotated.replaces, firstId);
  // The rotation signed a configuration for every camera that carries the new key (and only it).
  const pushed = verifyConfig(readFileSync(join(root.dir, 'all.cose')), root.publicKey, { ed25519, device: 'ANY-CAMERA' });
  t.is(pushed.device, ANY_DEVICE);
  t.is(pushed.version, rotated.configVersion as number);
  t.deepEqual(recipients(pushed), [{ keyId: secondId, publicKey: rotated.publicKey as string }]);

  await codeAsync(t, cli('retire', '--key-id', secondId, '--reason', 'oops'), 'E_EVIDENCE_KEY_CURRENT');
  await codeAsync(t, cli('retire', '--key-id', '0123456789abcdef', '--reason', 'typo'), 'E_EVIDENCE_KEY_UNKNOWN');
  const retired = await cli('retire', '--key-id', firstId, '--reason', 'retention ended');
  t.is(retired.keyId, firstId);
  await codeAsync(t, cli('retire', '--key-id', firstId, '--reason', 'again'), 'E_EVIDENCE_KEY_RETIRED');

  const listed = (await cli('list')).keys as { keyId: string; status: string; by: string; present: boolean; retired?: { reason: string } }[];
  t.deepEqual(listed.map((k) => [k.keyId, k.status, k.by, k.present]), [[firstId, 'retired', 'sgt.armourer', true], [secondId, 'current', 'sgt.armourer', true]]);
  t.is(listed[0].retired?.reason, 'retention ended');
  const events = readRegister(root.dir).events.filter((e) => e.action.startsWith('evidence-key'));
  t.deepEqual(events.map((e) => [e.action, e.keyId, e.by]), [['evidence-key-created', firstId, 'sgt.armourer'], ['evidence-key-created', secondId, 'sgt.armourer'], ['evidence-key-retired', firstId, 'sgt.armourer']]);
  t.is(events[1].replaces, firstId);

  // Export opens the current key, and the retired one only when asked to.
  t.is(toHex(loadEvidenceKey(evidenceKeyPath(root.dir, secondId), EVIDENCE_PASS).keyId), secondId);
  const e = code(t, () => loadEvidenceKey(evidenceKeyPath(root.dir, firstId), EVIDENCE_PASS), 'E_EVIDENCE_KEY_RETIRED');
  t.regex(e.message, /retention ended/);
  const old = loadEvidenceKey(evidenceKeyPath(root.dir, firstId), EVIDENCE_PASS, { allowRetired: true });
  t.is(toHex(old.keyId), firstId);
  t.is(old.retired?.reason, 'retention ended');
  // bodycam export's loader allows it: evidence sealed to the key before it was retired still opens.
  t.is(toHex(loadExaminerKey(evidenceKeyPath(root.dir, firstId), EVIDENCE_PASS).keyId), firstId);
});

test('an evidence key is X25519 as node:crypto computes it, its id is SHA-256(public key)[0..8], and its file opens only with its passphrase', (t) => {
  const root = agency();
  const made = createEvidenceKey(keyOptions(root));
  const key = loadEvidenceKey(made.file, EVIDENCE_PASS);
  t.is(key.secret.length, 32);
  t.is(key.agency, 'Metro Police');
  // node:crypto's X25519 (OpenSSL) from the raw secret gives the same public key...
  const ours = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b656e04220420', 'hex'), key.secret]), format: 'der', type: 'pkcs8' });
  t.is(toHex(new Uint8Array(createPublicKey(ours).export({ format: 'der', type: 'spki' })).slice(-32)), made.publicKey);
  // ...and a DH with it agrees with one against the public key the file names.
  const peer = generateKeyPairSync('x25519');
  const theirs = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b656e032100', 'hex'), key.publicKey]), format: 'der', type: 'spki' });
  t.deepEqual(diffieHellman({ privateKey: ours, publicKey: peer.publicKey }), diffieHellman({ privateKey: peer.privateKey, publicKey: theirs }));
  t.is(toHex(key.keyId), createHash('sha256').update(key.publicKey).digest('hex').slice(0, 16));
  t.is(made.keyId, toHex(key.keyId));
  // The secret is not in the file in the clear.
  t.false(readFileSync(made.file, 'utf8').includes(toHex(key.secret)));

  code(t, () => loadEvidenceKey(made.file, 'not the passphrase'), 'E_EVIDENCE_PASSPHRASE');
  code(t, () => loadEvidenceKey(made.file, PASS), 'E_EVIDENCE_PASSPHRASE'); // the root's passphrase is not this one
  t.regex(code(t, () => loadEvidenceKey(join(root.dir, ROOT_FILES.secret), PASS), 'E_EVIDENCE_KEY_FORMAT').message, /ROOT secret/);
  code(t, () => loadEvidenceKey(join(root.dir, 'nothing.secret'), EVIDENCE_PASS), 'E_EVIDENCE_KEY_MISSING');
  const dir = tmp('evfiles');
  writeFileSync(join(dir, 'junk'), 'not json');
  code(t, () => loadEvidenceKey(join(dir, 'junk'), EVIDENCE_PASS), 'E_EVIDENCE_KEY_FORMAT');
  const json = JSON.parse(readFileSync(made.file, 'utf8')) as Record<string, unknown>;
  writeFileSync(join(dir, 'other-agency'), JSON.stringify({ ...json, agency: 'Other Force' }));
  code(t, () => loadEvidenceKey(join(dir, 'other-agency'), EVIDENCE_PASS), 'E_EVIDENCE_PASSPHRASE'); // the fields are bound to the ciphertext
  // A file whose sealed secret is not the key it names (made by hand): refused after opening.
  const stranger = new Uint8Array(32).fill(7);
  const bound = `bodycam-evidence-secret/1\nMetro Police\n${made.keyId}\n${made.publicKey}`;
  writeFileSync(join(dir, 'mismatch'), JSON.stringify({ ...json, ...seal(stranger, EVIDENCE_PASS, bound, N) }));
  code(t, () => loadEvidenceKey(join(dir, 'mismatch'), EVIDENCE_PASS), 'E_EVIDENCE_KEY_MISMATCH');
  code(t, () => createEvidenceKey({ ...keyOptions(agency()), passphrase: 'short' }), 'E_PASSPHRASE_WEAK');
});

test.serial('an evidence key file is 0600 in a 0700 folder from its creation (umask 0: the mode comes from the open), and stays so when retired', (t) => {
  const root = agency();
  const previous = process.umask(0);
  try {
    const a = createEvidenceKey(keyOptions(root));
    const b = rotateEvidenceKey(keyOptions(root));
    for (const f of [a.file, b.file]) t.is(statSync(f).mode & 0o777, 0o600, f);
    t.is(statSync(join(root.dir, ROOT_FILES.evidenceKeys)).mode & 0o777, 0o700);
    retireEvidenceKey({ root, keyId: a.keyId, reason: 'compromised', operator: 'sgt.armourer' });
    t.is(statSync(a.file).mode & 0o777, 0o600);
    t.deepEqual(readdirSync(join(root.dir, ROOT_FILES.evidenceKeys)).sort(), [`${a.keyId}.secret`, `${b.keyId}.secret`].sort(), 'no temporary file left behind');
  } finally {
    process.umask(previous);
  }
});

test('the simulated agency\'s key file (bodycam sim) is an evidence key file like the armoury\'s', (t) => {
  const secret = new Uint8Array(32).fill(3);
  const dir = tmp('evsim');
  writeFileSync(join(dir, 'k.secret'), JSON.stringify(sealEvidenceKey({ secret, passphrase: EVIDENCE_PASS, agency: 'Sim', created: '2026-01-01T00:00:00.000Z', scryptN: N })));
  const k = loadEvidenceKey(join(dir, 'k.secret'), EVIDENCE_PASS);
  t.deepEqual(k.secret, secret);
  t.deepEqual(k.publicKey, evidenceKeyPair(secret).publicKey);
});

test('a configuration carries at most four distinct evidence keys of the right sizes, and a newer one may replace the key but not drop it', (t) => {
  const k = (n: number): EvidenceRecipient => ({ keyId: new Uint8Array(8).fill(n), publicKey: new Uint8Array(32).fill(n) });
  const base = { ...DEFAULT_SETTINGS, agency: AGENCY, device: 'CAM-1', issued: 1 };
  const sign = (version: number, evidenceKeys?: EvidenceRecipient[]) => verifyConfig(signConfig({ ...base, version, evidenceKeys }, testRoot), testRoot.publicKey);
  t.deepEqual(sign(1, [k(1)]).evidenceKeys, [k(1)]);
  t.false('evidenceKeys' in sign(1), 'a configuration without keys reads back as it was signed');
  code(t, () => sign(1, [k(1), k(2), k(3), k(4), k(5)]), 'E_CONFIG_VALUE');
  code(t, () => sign(1, [k(1), k(1)]), 'E_CONFIG_VALUE');
  code(t, () => sign(1, [{ keyId: new Uint8Array(8), publicKey: new Uint8Array(31) }]), 'E_CONFIG_VALUE');
  checkNewerConfig(sign(2, [k(2)]), sign(1, [k(1)])); // a rotation
  checkNewerConfig(sign(2, [k(2)]), sign(1)); // a camera provisioned before keys gets its first
  code(t, () => checkNewerConfig(sign(2), sign(1, [k(1)])), 'E_CONFIG_EVIDENCE_KEY');
  code(t, () => checkNewerConfig(sign(1, [k(2)]), sign(1, [k(1)])), 'E_CONFIG_STALE');
});

/** A simulated camera's provisioning service on an engine, its key store in files under `dir`. */
async function provisioningCamera(name: EngineName, dir: string, seed: string) {
  const hw = new SimHardware({ seed });
  const engine = await startEngine(name, { ...hw.platform(), KeyStore: new FileKeyStores(dir, { nvsNames: true }).port() });
  await engine.call('provision.open');
  const transport = new HandlerTransport(async (b) => (await engine.call('provision.receive', b)).value as Uint8Array[], () => engine.close());
  const config = async () => ((await engine.call('provision.state')).value as Map<string, Uint8Array>).get('config');
  return { transport, config };
}

for (const name of ENGINES) {
  test(`[${name}] a camera is provisioned with the agency's current evidence key, refuses one in a configuration another root signed, and a camera provisioned after a rotation gets the new key`, async (t) => {
    const root = agency();
    const key1 = createEvidenceKey(keyOptions(root));
    const a = await provisioningCamera(name, tmp('evcam-a'), 'evcam-a');
    const b = await provisioningCamera(name, tmp('evcam-b'), 'evcam-b');
    try {
      const ra = await provisionCamera({ root, device: 'CAM-A', officer: 'PC 1', transport: a.transport, ed25519 });
      t.deepEqual(ra.evidenceKeyIds, [key1.keyId]);
      const held = verifyConfig((await a.config())!, root.publicKey, { ed25519, device: 'CAM-A' });
      t.deepEqual(recipients(held), [{ keyId: key1.keyId, publicKey: key1.publicKey }]);
      t.is(readRegister(root.dir).events.find((e) => e.action === 'camera-provisioned')?.evidenceKey, key1.keyId);

      // Someone on A's provisioning link replays its (public) certificate with force and a key of
      // their own, in a configuration another agency root signed: refused, nothing changes.
      const other = agency('Other Force');
      const attacker = evidenceKeyPair(new Uint8Array(32).fill(0x66));
      const forged = signConfig({ ...DEFAULT_SETTINGS, agency: 'Metro Police', device: 'CAM-A', version: 99, issued: 1, evidenceKeys: [attacker] }, other.signer);
      const install = { cert: ra.certificate, root: root.publicKey, config: forged, revocations: null, force: true };
      await codeAsync(t, new ProvisioningClient(a.transport).request('install', install as Record<string, CborValue>), 'E_COSE_SIGNATURE');
      t.deepEqual(await a.config(), ra.config, 'the camera keeps the configuration (and key) from its provisioning');

      const key2 = rotateEvidenceKey(keyOptions(root));
      const rb = await provisionCamera({ root, device: 'CAM-B', officer: 'PC 2', transport: b.transport, ed25519 });
      t.deepEqual(rb.evidenceKeyIds, [key2.keyId], 'the next install gets the current key, not the previous one');
      t.deepEqual(recipients(verifyConfig((await b.config())!, root.publicKey, { ed25519 })), [{ keyId: key2.keyId, publicKey: key2.publicKey }]);
    } finally {
      await a.transport.close();
      await b.transport.close();
    }
  });
}

test('a register that names a retired key as current (edited by hand) gives no camera that key', (t) => {
  const root = agency();
  const k = createEvidenceKey(keyOptions(root));
  const path = join(root.dir, ROOT_FILES.register);
  const reg = JSON.parse(readFileSync(path, 'utf8'));
  reg.evidenceKeys[k.keyId].retired = { at: '2026-01-01T00:00:00.000Z', by: 'someone', reason: 'edited' };
  writeFileSync(path, JSON.stringify(reg));
  code(t, () => issueConfig({ root, device: 'CAM-1', settings: DEFAULT_SETTINGS }), 'E_EVIDENCE_KEY_RETIRED');
  t.deepEqual(listEvidenceKeys(root.dir).map((x) => x.keyId), [k.keyId]);
});

/** Which evidence keys (ids, hex) the segments the camera holds are sealed to, by sequence. */
function sealedTo(c: TestCamera): Map<number, string[]> {
  return new Map([...c.manifests()].map(([seq, m]) => [seq, (peekManifest(m).manifest.sealed?.recipients ?? []).map((r) => toHex(r.kid))]));
}

/**
 * A recorder provisioned with `config` records a segment, then docks (on charge) at a station
 * that pushes `push`, then records another segment off the dock: its held configuration after,
 * and the keys the segments on the camera were sealed to before and after the docking.
 */
async function dockWithPush(engine: EngineName, config: Uint8Array, push: Uint8Array, board?: CameraOptions['board']) {
  const { station, port } = await startStation({ configFor: () => push });
  const c = new TestCamera({ engine, dockPort: port, board });
  c.engine = await startEngine(engine, c.hw.platform());
  try {
    const publicKey = (await c.engine.call('recorder.identity')).value as Uint8Array;
    await c.engine.call('recorder.provision', testRoot.publicKey, certificate({ id: DEVICE, kind: 'device', publicKey }), config, null);
    await c.boot();
    await c.press();
    await c.run(12_000);
    await c.longPress();
    const before = sealedTo(c);
    const qualityBefore = c.cam.quality;
    c.battery(4100, true);
    await c.run(11_000); // the next battery poll finds it on charge: it docks
    for (let i = 0; i < 500 && (station.results.length === 0 || (await c.status()).session === 'active'); i++) {
      await new Promise((r) => setTimeout(r, 20));
      await c.engine.pump();
    }
    await station.idle();
    const result = station.results[0];
    const held = verifyConfig(c.keys().get(KEY_CONFIG)!, testRoot.publicKey, { device: DEVICE });
    c.battery(4100, false);
    await c.run(11_000); // off the dock
    const docked = new Set(sealedTo(c).keys());
    await c.press();
    await c.run(12_000);
    await c.longPress();
    const after = [...sealedTo(c)].filter(([seq]) => !docked.has(seq)).map(([, kids]) => kids);
    const s = await c.status();
    const limited = c.ledgerEntries().filter((e) => Buffer.from(e).includes(Buffer.from('recording-mode-limited'))).length;
    return { result, held, before: [...before.values()], after, quality: { before: qualityBefore, after: c.cam.quality }, mode: [s.config.width, s.config.height, s.config.frameRate], limited };
  } finally {
    await c.close();
    await station.close();
  }
}

for (const engine of ['node', 'xs'] as EngineName[]) {
  test(`[${engine}] a rotation reaches a recorder at its docking through the signed configuration and seals its next segments; a configuration that drops the key is refused`, async (t) => {
    const k1 = evidenceKeyPair(new Uint8Array(32).fill(1));
    const k2 = evidenceKeyPair(new Uint8Array(32).fill(2));
    const cfg = (version: number, evidenceKeys?: EvidenceRecipient[]) =>
      signConfig({ ...DEFAULT_SETTINGS, width: 320, height: 240, segmentSeconds: 10, preEventSeconds: 0, audio: false, agency: AGENCY, device: DEVICE, version, issued: Date.UTC(2026, 5, 1), evidenceKeys }, testRoot);
    const rotated = await dockWithPush(engine, cfg(1, [k1]), cfg(2, [k2]));
    t.true(rotated.result?.ok, `${rotated.result?.code}: ${rotated.result?.message}`);
    t.is(rotated.held.version, 2);
    t.deepEqual(rotated.held.evidenceKeys, [{ keyId: k2.keyId, publicKey: k2.publicKey }]);
    t.true(rotated.before.length > 0 && rotated.before.every((kids) => kids.join() === toHex(k1.keyId)), JSON.stringify(rotated.before));
    t.true(rotated.after.length > 0 && rotated.after.every((kids) => kids.join() === toHex(k2.keyId)), `recorded after the docking: ${JSON.stringify(rotated.after)}`);

    const dropped = await dockWithPush(engine, cfg(1, [k1]), cfg(2));
    t.is(dropped.result?.code, 'E_CONFIG_EVIDENCE_KEY');
    t.is(dropped.held.version, 1, 'the camera keeps the configuration with its key');
    t.deepEqual(dropped.held.evidenceKeys, [{ keyId: k1.keyId, publicKey: k1.publicKey }]);
    t.true(dropped.after.length > 0 && dropped.after.every((kids) => kids.join() === toHex(k1.keyId)), `recorded after the refused push: ${JSON.stringify(dropped.after)}`);
  });
}

test('[node] a dock offering the configuration the camera already holds pushes nothing, and the docking succeeds', async (t) => {
  // The camera reports its configuration's version in its status; a dock pushing the same version
  // at every docking would be refused (E_CONFIG_STALE) and fail the session, docking after docking.
  const k1 = evidenceKeyPair(new Uint8Array(32).fill(1));
  const cfg = signConfig({ ...DEFAULT_SETTINGS, width: 320, height: 240, segmentSeconds: 10, preEventSeconds: 0, audio: false, agency: AGENCY, device: DEVICE, version: 4, issued: Date.UTC(2026, 5, 1), evidenceKeys: [k1] }, testRoot);
  const same = await dockWithPush('node', cfg, cfg);
  t.true(same.result?.ok, `${same.result?.code}: ${same.result?.message}`);
  t.is(same.held.version, 4);
});

test('[node] a configuration a dock pushes with another JPEG quality: the camera records its next segments with it', async (t) => {
  const k1 = evidenceKeyPair(new Uint8Array(32).fill(1));
  const cfg = (version: number, quality: number) =>
    signConfig({ ...DEFAULT_SETTINGS, width: 320, height: 240, segmentSeconds: 10, preEventSeconds: 0, audio: false, quality, agency: AGENCY, device: DEVICE, version, issued: Date.UTC(2026, 5, 1), evidenceKeys: [k1] }, testRoot);
  const pushed = await dockWithPush('node', cfg(1, 12), cfg(2, 30));
  t.true(pushed.result?.ok, `${pushed.result?.code}: ${pushed.result?.message}`);
  t.is(pushed.held.quality, 30);
  t.deepEqual(pushed.quality, { before: 12, after: 30 });
});

test('[node] a configuration a dock pushes asking more than the board gives: the camera records its board\'s nearest mode from then on and says so once', async (t) => {
  const k1 = evidenceKeyPair(new Uint8Array(32).fill(1));
  const cfg = (version: number, width: number, height: number, frameRate: number) =>
    signConfig({ ...DEFAULT_SETTINGS, width, height, frameRate, segmentSeconds: 10, preEventSeconds: 0, audio: false, agency: AGENCY, device: DEVICE, version, issued: Date.UTC(2026, 5, 1), evidenceKeys: [k1] }, testRoot);
  const pushed = await dockWithPush('node', cfg(1, 320, 240, 5), cfg(2, 800, 600, 25), { width: 320, height: 240, frameRate: 5, modes: [[640, 480, 10]] });
  t.true(pushed.result?.ok, `${pushed.result?.code}: ${pushed.result?.message}`);
  t.is(pushed.held.width, 800, 'the camera holds the configuration as signed');
  t.deepEqual(pushed.mode, [640, 480, 10]);
  t.is(pushed.limited, 1);
});

test('a dock\'s configurations folder offers each camera the newest configuration the agency root signed for its id or "*", and lists what it skips', (t) => {
  const dir = tmp('config-shelf');
  const k1 = evidenceKeyPair(new Uint8Array(32).fill(1));
  const other = agency('Other Force');
  const make = (device: string, version: number, signer = testRoot) =>
    signConfig({ ...DEFAULT_SETTINGS, agency: AGENCY, device, version, issued: Date.UTC(2026, 5, version), evidenceKeys: [k1] }, signer);
  writeFileSync(join(dir, 'config-all-2.cose'), make(ANY_DEVICE, 2));
  writeFileSync(join(dir, 'config-CAM-A-3.cose'), make('CAM-A', 3));
  writeFileSync(join(dir, 'config-CAM-X-5.cose'), make('CAM-X', 5));
  writeFileSync(join(dir, 'config-all-9.cose'), make(ANY_DEVICE, 9, other.signer)); // another root's: never offered
  writeFileSync(join(dir, 'notes.txt'), 'not a configuration');
  const shelf = new ConfigShelf(dir, testRoot.publicKey, ed25519);
  t.is(shelf.newestFor('CAM-A')?.config.version, 3);
  t.is(shelf.newestFor('CAM-B')?.config.version, 2, 'a camera without its own gets the newest "*"');
  t.is(shelf.newestFor('CAM-X')?.config.version, 5);
  t.deepEqual(shelf.skipped.map((s) => s.file), [join(dir, 'config-all-9.cose')]);
  writeFileSync(join(dir, 'config-all-6.cose'), make(ANY_DEVICE, 6));
  t.is(shelf.newestFor('CAM-A')?.config.version, 6, 'the folder is read afresh at each docking');
});

test('the register\'s evidence keys are what list shows, with the files in the agency folder', (t) => {
  const root = agency();
  const a = createEvidenceKey(keyOptions(root));
  const listed = listEvidenceKeys(root.dir);
  t.is(listed.length, 1);
  t.like(listed[0], { keyId: a.keyId, publicKey: a.publicKey, status: 'current', present: true, file: a.file });
  t.deepEqual(fromHex(listed[0].publicKey), loadEvidenceKey(a.file, EVIDENCE_PASS).publicKey);
});
