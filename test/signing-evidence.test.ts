// Evidence integrity on Node: certificates, revocation, the device identity in the KeyStore, the
// manifest builder, checkpoints and receipts, and the verifier catching every tamper case with
// the right reason code (and nothing else flagged).

import test from 'ava';
import { decode, encode, Tag, type CborValue } from '../firmware/codec/cbor.js';
import { errorCode } from '../firmware/errors.js';
import { issueCertificate, peekCertificate, verifyCertificate, verifyRevocationList } from '../firmware/signing/certificate.js';
import { DeviceIdentity, KEY_SEED } from '../firmware/signing/identity.js';
import { FLAG_CLEAN_CLOSE, FLAG_PRE_EVENT, ManifestBuilder, peekManifest, verifyManifest } from '../firmware/signing/manifest.js';
import { checkReceipt, verifyCheckpoint } from '../firmware/signing/receipt.js';
import { KeyPairSigner } from '../firmware/signing/signer.js';
import { verifyEvidence, type EvidenceInput, type EvidenceReport } from '../firmware/signing/verifier.js';
import { SimHardware } from '../host-sim/node/hardware.js';
import { Agency, Camera, concat, digest, Dock, frame, scenario, seedOf, segmentInput, sha256, T0, YEAR } from './helpers/signing.js';

/** Every finding as "device: code" or "device#seq: code", sorted, for exact comparisons. */
function findings(r: EvidenceReport): string[] {
  const out = r.reasons.map((f) => `*: ${f.code}`);
  for (const d of r.devices) {
    for (const f of d.reasons) out.push(`${d.device}: ${f.code}`);
    for (const s of d.segments) for (const f of s.reasons) out.push(`${d.device}#${s.seq}: ${f.code}`);
  }
  return [...new Set(out)].sort();
}

const verify = (e: EvidenceInput) => verifyEvidence(e, { digest });
const code = (f: () => unknown) => {
  try {
    f();
    return 'ok';
  } catch (e) {
    return errorCode(e);
  }
};

// ---------------------------------------------------------------- certificates and identity

test('certificates: issued by the root, verified offline; wrong root, kind, window and tampering refused', (t) => {
  const agency = new Agency();
  const cam = new Camera('CAM-0001', agency);
  const c = verifyCertificate(cam.certificate, agency.root.publicKey, { digest, kind: 'device', at: T0 });
  t.is(c.id, 'CAM-0001');
  t.deepEqual(c.publicKey, cam.key.publicKey);
  t.deepEqual(c.keyId, cam.key.keyId);
  t.is(peekCertificate(cam.certificate).agency, agency.name);
  const other = new KeyPairSigner({ seed: seedOf('other-root'), digest });
  t.is(code(() => verifyCertificate(cam.certificate, other.publicKey, { digest })), 'E_COSE_SIGNATURE');
  t.is(code(() => verifyCertificate(cam.certificate, agency.root.publicKey, { digest, kind: 'dock' })), 'E_CERT_KIND');
  t.is(code(() => verifyCertificate(cam.certificate, agency.root.publicKey, { digest, at: T0 + 2 * YEAR })), 'E_CERT_EXPIRED');
  // A time before the certificate's start is a clock behind, not an expiry: its own code.
  t.is(code(() => verifyCertificate(cam.certificate, agency.root.publicKey, { digest, at: T0 - 2 * YEAR })), 'E_CERT_NOT_YET_VALID');
  // A certificate signed by a camera (not the root) for itself.
  const selfSigned = issueCertificate({ id: 'CAM-0001', kind: 'device', publicKey: cam.key.publicKey, agency: 'x', serial: 9, notBefore: 0, notAfter: T0 * 2 }, cam.key);
  t.is(code(() => verifyCertificate(selfSigned, agency.root.publicKey, { digest })), 'E_COSE_SIGNATURE');
  // A manifest is not a certificate, even though both are signed structures.
  t.is(code(() => verifyCertificate(cam.record().manifest, cam.key.publicKey, { digest })), 'E_CERT_FORMAT');
});

test('revocation list: signed by the root; a list signed by anyone else is refused', (t) => {
  const agency = new Agency();
  const list = agency.revocations([{ keyId: new Uint8Array(8).fill(7), reason: 'lost' }]);
  const r = verifyRevocationList(list, agency.root.publicKey);
  t.is(r.revoked.length, 1);
  t.is(r.revoked[0].reason, 'lost');
  const forged = agency.revocations([], new KeyPairSigner({ seed: seedOf('mallory'), digest }));
  t.is(code(() => verifyRevocationList(forged, agency.root.publicKey)), 'E_COSE_SIGNATURE');
});

test('device identity: made from the Random port, kept in the KeyStore, same key after reopening; provisioning checks the certificate', (t) => {
  const hw = new SimHardware({ seed: 'identity' });
  const p = hw.platform();
  const keyStore = new p.KeyStore({ path: 'bodycam-keys' });
  t.false(DeviceIdentity.exists(keyStore));
  const id = new DeviceIdentity({ keyStore, random: p.random, digest: p.digest });
  t.true(DeviceIdentity.exists(keyStore));
  t.is(new Uint8Array(keyStore.get(KEY_SEED)!).length, 32);
  const again = new DeviceIdentity({ keyStore: new p.KeyStore({ path: 'bodycam-keys' }), random: p.random, digest: p.digest });
  t.deepEqual(again.publicKey, id.publicKey);
  // The identity offers no way to read the secret: only public fields and methods.
  t.deepEqual(Object.keys(id).sort(), ['keyId', 'publicKey']);
  const other = new DeviceIdentity({ keyStore: new p.KeyStore({ path: 'other' }), random: p.random, digest: p.digest });
  t.notDeepEqual(other.publicKey, id.publicKey);
  // Signatures verify with the public key.
  const msg = new TextEncoder().encode('m');
  t.true(new KeyPairSigner({ seed: seedOf('x'), digest }).sign(msg).length === 64);
  const agency = new Agency();
  const cert = agency.certify('CAM-0042', 'device', id);
  t.is(id.provision(agency.root.publicKey, cert).id, 'CAM-0042');
  t.is(id.deviceId(), 'CAM-0042');
  t.deepEqual(id.rootKey(), agency.root.publicKey);
  // Someone else's certificate, or a dock certificate, is refused.
  t.is(code(() => other.provision(agency.root.publicKey, cert)), 'E_CERT_KEY');
  t.is(code(() => other.provision(agency.root.publicKey, agency.certify('CAM-0043', 'dock', other))), 'E_CERT_KIND');
  // A dead RNG (all zeros) does not make a key.
  const zeros = { fill: (b: Uint8Array) => b.fill(0) };
  t.is(code(() => new DeviceIdentity({ keyStore: new p.KeyStore({ path: 'z' }), random: zeros, digest: p.digest })), 'E_RANDOM');
});

// ---------------------------------------------------------------- manifests

test('manifest builder: streams the media through the Digest port; every field as recorded', (t) => {
  const agency = new Agency();
  const cam = new Camera('CAM-0007', agency);
  const writes: number[] = [];
  const counting = { create: (a: 'SHA256' | 'SHA512') => {
    const ctx = digest.create(a);
    return { write: (d: ArrayBuffer | ArrayBufferView) => (writes.push(d.byteLength), ctx.write(d)), close: () => ctx.close(), reset: () => ctx.reset() };
  } };
  const b = new ManifestBuilder({ digest: counting, device: 'CAM-0007', seq: 0, boot: 3, recording: 12, prev: null, format: { format: 'jpeg', width: 800, height: 600 }, firmware: '1.2.3', flags: FLAG_PRE_EVENT });
  const parts: Uint8Array[] = [];
  for (let i = 0; i < 5; i++) {
    const f = frame('CAM-0007', 0, i, 1000 + i);
    b.addFrame(f.header, f.body, { mono: 5000 + i * 40, utc: T0 + i * 40 });
    parts.push(f.header, f.body);
  }
  b.addDropped(2);
  t.deepEqual(writes, parts.map((p) => p.length)); // one port write per part, nothing else hashed
  const s = b.finish({ signer: cam.key, clock: { source: 'dock', lastSync: T0 - 1000 }, flags: FLAG_CLEAN_CLOSE });
  const media = concat(parts);
  const m = verifyManifest(s.bytes, cam.key.publicKey);
  t.deepEqual(m, s.manifest);
  t.like(m, { device: 'CAM-0007', seq: 0, boot: 3, recording: 12, firstMono: 5000, lastMono: 5160, firstUtc: T0, lastUtc: T0 + 160, clockSource: 'dock', lastSync: T0 - 1000, frames: 5, dropped: 2, bytes: media.length, format: 'jpeg', width: 800, height: 600, prev: null, flags: FLAG_PRE_EVENT | FLAG_CLEAN_CLOSE, firmware: '1.2.3' });
  t.deepEqual(m.media, sha256(media));
  t.deepEqual(m.keyId, cam.key.keyId);
  t.deepEqual(s.digest, sha256(s.bytes));
  // Deterministic: the same inputs sign to the same bytes.
  const b2 = new ManifestBuilder({ digest, device: 'CAM-0007', seq: 0, boot: 3, recording: 12, prev: null, format: { format: 'jpeg', width: 800, height: 600 }, firmware: '1.2.3', flags: FLAG_PRE_EVENT });
  for (let i = 0; i < 5; i++) {
    const f = frame('CAM-0007', 0, i, 1000 + i);
    b2.addFrame(f.header, f.body, { mono: 5000 + i * 40, utc: T0 + i * 40 });
  }
  b2.addDropped(2);
  t.deepEqual(b2.finish({ signer: cam.key, clock: { source: 'dock', lastSync: T0 - 1000 }, flags: FLAG_CLEAN_CLOSE }).bytes, s.bytes);
  // Misuse is refused with a code.
  t.is(code(() => b.finish({ signer: cam.key, clock: { source: 'rtc', lastSync: 0 } })), 'E_MANIFEST_FINISHED');
  t.is(code(() => new ManifestBuilder({ digest, device: 'x', seq: 1, boot: 0, recording: 0, prev: null, format: { format: 'jpeg', width: 1, height: 1 }, firmware: '' })), 'E_MANIFEST_CHAIN');
  const b3 = new ManifestBuilder({ digest, device: 'x', seq: 0, boot: 0, recording: 0, prev: null, format: { format: 'jpeg', width: 1, height: 1 }, firmware: '' });
  b3.addFrame(new Uint8Array(1), new Uint8Array(1), { mono: 10, utc: 0 });
  t.is(code(() => b3.addFrame(new Uint8Array(1), new Uint8Array(1), { mono: 9, utc: 0 })), 'E_MANIFEST_TIME');
});

test('manifest fields are integers and known values only: a float, a negative or an unknown flag is refused', (t) => {
  const agency = new Agency();
  const cam = new Camera('CAM-0008', agency);
  const s = cam.record();
  t.is(code(() => cam.forge({ flags: 64 }, s)), 'E_MANIFEST_FORMAT');
  t.is(code(() => cam.forge({ lastMono: 1.5 }, s)), 'E_MANIFEST_FORMAT');
  t.is(code(() => cam.forge({ seq: -1 }, s)), 'E_MANIFEST_FORMAT');
  t.is(code(() => cam.forge({ media: new Uint8Array(31) }, s)), 'E_MANIFEST_FORMAT');
  t.is(peekManifest(s.manifest).manifest.seq, 0);
});

// ---------------------------------------------------------------- checkpoints and receipts

test('checkpoint and receipt: the camera checks one signature per batch and frees exactly the listed segments', (t) => {
  const { cameras, dock, checkpoints } = scenario({ cameras: 1, segments: 5 });
  const cam = cameras[0];
  const cp = checkpoints[0];
  const c = verifyCheckpoint(cp.bytes, cam.key.publicKey);
  t.like(c, { device: cam.id, seq: 4, boot: 1 });
  t.deepEqual(c.head, cam.head!.signed.digest);
  const nonce = seedOf('session').slice(0, 16);
  const cp2 = cam.checkpoint(nonce);
  const receipt = dock.receipt(cam.id, cam.segments.slice(0, 3), cp2, nonce);
  const held = (seq: number) => cam.segments[seq]?.signed.digest;
  const ok = checkReceipt(receipt, { dockPublicKey: dock.key.publicKey, device: cam.id, nonce, checkpoint: cp2.digest, manifestDigest: held });
  t.deepEqual(ok.seqs, [0, 1, 2]);
  const opts = { dockPublicKey: dock.key.publicKey, device: cam.id, nonce, checkpoint: cp2.digest, manifestDigest: held };
  t.is(code(() => checkReceipt(receipt, { ...opts, nonce: new Uint8Array(16) })), 'E_RECEIPT_SESSION');
  t.is(code(() => checkReceipt(receipt, { ...opts, checkpoint: cp.digest })), 'E_RECEIPT_SESSION');
  t.is(code(() => checkReceipt(receipt, { ...opts, device: 'CAM-9999' })), 'E_RECEIPT_DEVICE');
  t.is(code(() => checkReceipt(receipt, { ...opts, manifestDigest: (s) => (s === 1 ? new Uint8Array(32) : held(s)) })), 'E_RECEIPT_MISMATCH');
  t.is(code(() => checkReceipt(receipt, { ...opts, manifestDigest: (s) => (s === 2 ? undefined : held(s)) })), 'E_RECEIPT_UNKNOWN');
  const rogue = new Dock('DOCK-X', new Agency());
  t.is(code(() => checkReceipt(receipt, { ...opts, dockPublicKey: rogue.key.publicKey })), 'E_COSE_SIGNATURE');
  t.is(code(() => checkReceipt(cp2.bytes, opts)), 'E_RECEIPT_FORMAT');
});

// ---------------------------------------------------------------- the verifier

test('verifier: a complete, untouched evidence set is valid, device by device and segment by segment', (t) => {
  const { evidence } = scenario();
  const r = verify(evidence);
  t.deepEqual(findings(r), []);
  t.true(r.valid);
  t.is(r.devices.length, 2);
  for (const d of r.devices) {
    t.true(d.valid);
    t.is(d.segments.length, 4);
    t.true(d.segments.every((s) => s.valid));
    t.is(d.head?.seq, 3);
    t.is(d.certificate?.id, d.device);
  }
  // Media bytes given instead of digests: hashed through the Digest port, same verdict.
  const cams = scenario({ cameras: 1, segments: 2 });
  cams.evidence.devices[0].segments = cams.cameras[0].segments.map((s) => segmentInput(s, 'media'));
  t.true(verify(cams.evidence).valid);
});

test('tamper: a flipped signature byte is a bad signature', (t) => {
  const { evidence } = scenario();
  const s = evidence.devices[0].segments[1];
  s.manifest = s.manifest.slice();
  s.manifest[s.manifest.length - 5] ^= 0x20;
  t.deepEqual(findings(verify(evidence)), ['CAM-0001#1: bad-signature']);
});

test('tamper: an edited manifest field (frame count) is a bad signature', (t) => {
  const { evidence } = scenario();
  const s = evidence.devices[0].segments[2];
  const top = decode(s.manifest) as Tag;
  const [p, u, payload, sig] = top.value as [Uint8Array, CborValue, Uint8Array, Uint8Array];
  const fields = decode(payload) as Map<string, CborValue>;
  fields.set('frames', 3);
  s.manifest = encode(new Tag(18, [p, u, encode(fields), sig]));
  t.deepEqual(findings(verify(evidence)), ['CAM-0001#2: bad-signature']);
});

test('tamper: a manifest signed by a key the agency never certified is an unknown key', (t) => {
  const { evidence, cameras } = scenario();
  const cam = cameras[0];
  const rogue = new KeyPairSigner({ seed: seedOf('rogue'), digest });
  const forged = cam.forge({}, cam.segments[3], rogue);
  evidence.devices[0].segments[3] = segmentInput(forged);
  t.deepEqual(findings(verify(evidence)), ['CAM-0001#3: unknown-key']);
});

test('tamper: a revoked device key invalidates its device; a revoked dock key its receipts', (t) => {
  const { evidence, agency, cameras, dock } = scenario();
  evidence.revocations = agency.revocations([{ keyId: cameras[1].key.keyId, reason: 'stolen' }]);
  const f = findings(verify(evidence));
  t.deepEqual(f, ['CAM-0002#0: revoked-key', 'CAM-0002#1: revoked-key', 'CAM-0002#2: revoked-key', 'CAM-0002#3: revoked-key', 'CAM-0002: revoked-key']);
  evidence.revocations = agency.revocations([{ keyId: dock.key.keyId, reason: 'decommissioned' }]);
  t.deepEqual(findings(verify(evidence)), ['CAM-0001: revoked-key', 'CAM-0002: revoked-key']);
  // A revocation list not signed by the root makes nothing trustworthy.
  evidence.revocations = agency.revocations([], cameras[0].key);
  const r = verify(evidence);
  t.false(r.valid);
  t.deepEqual(findings(r), ['*: bad-trust']);
});

test('tamper: one changed media byte, or a shortened media file, is a media digest mismatch; no media is missing media', (t) => {
  const { evidence, cameras } = scenario();
  const media = cameras[0].segments[1].media.slice();
  media[media.length >> 1] ^= 1;
  evidence.devices[0].segments[1] = { ...evidence.devices[0].segments[1], mediaDigest: sha256(media) };
  evidence.devices[0].segments[2] = { ...evidence.devices[0].segments[2], mediaDigest: sha256(media.subarray(10)), mediaLength: media.length - 10 };
  evidence.devices[1].segments[0] = { seq: 0, manifest: evidence.devices[1].segments[0].manifest };
  t.deepEqual(findings(verify(evidence)), ['CAM-0001#1: media-digest-mismatch', 'CAM-0001#2: media-digest-mismatch', 'CAM-0002#0: missing-media']);
});

test('tamper: a deleted middle segment is a gap', (t) => {
  const { evidence } = scenario();
  evidence.devices[0].segments.splice(2, 1);
  t.deepEqual(findings(verify(evidence)), ['CAM-0001: gap']);
  const { evidence: e2 } = scenario();
  e2.devices[1].segments.splice(0, 1);
  t.deepEqual(findings(verify(e2)), ['CAM-0002: gap']);
});

test('tamper: segments stored under each other\'s numbers, or listed out of order, are reordered', (t) => {
  const { evidence } = scenario();
  const segs = evidence.devices[0].segments;
  [segs[1].seq, segs[2].seq] = [segs[2].seq, segs[1].seq];
  t.deepEqual(findings(verify(evidence)), ['CAM-0001#1: reordered', 'CAM-0001#2: reordered']);
  const { evidence: e2 } = scenario();
  const list = e2.devices[0].segments.map((s) => ({ ...s, seq: undefined }));
  [list[1], list[2]] = [list[2], list[1]];
  e2.devices[0].segments = list;
  t.deepEqual(findings(verify(e2)), ['CAM-0001#1: reordered']);
});

test('tamper: a segment stored twice is duplicated; two different manifests for one number too', (t) => {
  const { evidence, cameras } = scenario();
  evidence.devices[0].segments.push({ ...evidence.devices[0].segments[1], seq: undefined });
  t.deepEqual(findings(verify(evidence)), ['CAM-0001#1: duplicated']);
  const { evidence: e2, cameras: c2 } = scenario();
  const cam = c2[0];
  const fork = cam.forge({ recording: 99 }, cam.segments[2]);
  e2.devices[0].segments.push({ ...segmentInput(fork), seq: undefined });
  t.deepEqual(findings(verify(e2)), ['CAM-0001#2: duplicated']);
  t.truthy(cameras);
});

test('tamper: another camera\'s segment filed under this camera is replayed', (t) => {
  const { evidence, cameras } = scenario();
  // CAM-0002's segment 3 put in CAM-0001's place as its segment 3.
  evidence.devices[0].segments[3] = segmentInput(cameras[1].segments[3]);
  const f = findings(verify(evidence));
  t.true(f.includes('CAM-0001#3: replayed'));
  t.false(f.some((x) => x.startsWith('CAM-0002')));
  // Also when the other camera is not in the evidence set (its key is then unknown too).
  const lone = scenario({ cameras: 2 });
  lone.evidence.devices[0].segments[3] = segmentInput(lone.cameras[1].segments[3]);
  lone.evidence.devices.pop();
  t.deepEqual(findings(verify(lone.evidence)), ['CAM-0001#3: replayed', 'CAM-0001#3: unknown-key']);
});

test('tamper: a deleted tail is caught by the checkpoint and by the receipt', (t) => {
  const { evidence } = scenario();
  evidence.devices[0].segments.pop();
  t.deepEqual(findings(verify(evidence)), ['CAM-0001: truncated']);
  const r = verify(evidence).devices[0].reasons;
  t.true(r.some((f) => f.code === 'truncated' && f.message.startsWith('checkpoint')));
  t.true(r.some((f) => f.code === 'truncated' && f.message.startsWith('receipt')));
  // Without a checkpoint the receipt alone still tells.
  evidence.devices[0].checkpoints = [];
  const f = findings(verify(evidence));
  t.true(f.includes('CAM-0001: truncated'));
});

test('tamper: a receipt or checkpoint naming another manifest, a forged receipt, an unknown dock', (t) => {
  const { evidence, cameras, dock, checkpoints } = scenario({ cameras: 1 });
  const cam = cameras[0];
  const nonce = seedOf(`nonce:${cam.id}`).slice(0, 16);
  const fake = cam.forge({ recording: 77 }, cam.segments[1]);
  const segs = [...cam.segments];
  segs[1] = fake;
  evidence.devices[0].receipts = [dock.receipt(cam.id, segs, checkpoints[0], nonce)];
  t.deepEqual(findings(verify(evidence)), ['CAM-0001: head-mismatch']);
  evidence.devices[0].receipts = [dock.receipt(cam.id, cam.segments, checkpoints[0], nonce, new KeyPairSigner({ seed: seedOf('dock:DOCK-1'), digest }))];
  t.deepEqual(findings(verify(evidence)), []);
  const mallory = new KeyPairSigner({ seed: seedOf('mallory'), digest });
  evidence.devices[0].receipts = [dock.receipt(cam.id, cam.segments, checkpoints[0], nonce, mallory)];
  t.deepEqual(findings(verify(evidence)), ['CAM-0001: unknown-key']);
  evidence.devices[0].receipts = [dock.receipt(cam.id, cam.segments, checkpoints[0], nonce)];
  evidence.docks = [];
  t.deepEqual(findings(verify(evidence)), ['CAM-0001: unknown-key']);
  evidence.docks = [dock.certificate];
  const rc = evidence.devices[0].receipts[0].slice();
  rc[rc.length - 1] ^= 1;
  evidence.devices[0].receipts = [rc];
  t.deepEqual(findings(verify(evidence)), ['CAM-0001: bad-signature']);
});

test('tamper: clocks going backwards — monotonic time, UTC without a sync, the boot counter, inside a segment', (t) => {
  const agency = new Agency();
  const mk = (f: (cam: Camera) => void) => {
    const cam = new Camera('CAM-0100', agency);
    f(cam);
    return findings(verify({ root: agency.root.publicKey, devices: [{ id: cam.id, certificate: cam.certificate, segments: cam.segments.map((s) => segmentInput(s)) }] }));
  };
  t.deepEqual(mk((c) => { c.record(); c.record(); }), []);
  // Same boot, second segment starts before the first ended.
  t.deepEqual(mk((c) => { c.record({ mono: 10_000 }); c.record({ mono: 5_000 }); }), ['CAM-0100#1: clock-backwards']);
  // A new boot may restart monotonic time.
  t.deepEqual(mk((c) => { c.record({ mono: 10_000 }); c.record({ mono: 5_000, boot: 2 }); }), []);
  // The boot counter going down.
  t.deepEqual(mk((c) => { c.record({ boot: 5 }); c.record({ boot: 4, mono: 0 }); }), ['CAM-0100#1: clock-backwards']);
  // UTC going back with no clock sync in between is flagged; after a dock sync it is not.
  t.deepEqual(mk((c) => { c.record({ utc: T0 + 60_000 }); c.record({ utc: T0 }); }), ['CAM-0100#1: clock-backwards']);
  t.deepEqual(mk((c) => { c.record({ utc: T0 + 60_000 }); c.record({ utc: T0, lastSync: T0 }); }), []);
  // Inside one segment (firmware that signed nonsense).
  t.deepEqual(mk((c) => { const s = c.record(); c.segments[0] = c.forge({ lastUtc: s.signed.manifest.firstUtc - 1 }, s); }), ['CAM-0100#0: clock-backwards']);
});

test('tamper: a substituted manifest that breaks the chain, a chain that claims to start over', (t) => {
  const { evidence, cameras } = scenario({ cameras: 1 });
  const cam = cameras[0];
  evidence.devices[0].checkpoints = [];
  evidence.devices[0].receipts = [];
  evidence.devices[0].segments[2] = segmentInput(cam.forge({ prev: new Uint8Array(32).fill(1) }, cam.segments[2]));
  // Segment 2 no longer follows 1, and 3 no longer follows the new 2.
  t.deepEqual(findings(verify(evidence)), ['CAM-0001#2: chain-broken', 'CAM-0001#3: chain-broken']);
  const again = scenario({ cameras: 1 });
  again.evidence.devices[0].segments[0] = segmentInput(again.cameras[0].forge({ prev: new Uint8Array(32) }, again.cameras[0].segments[0]));
  t.true(findings(verify(again.evidence)).includes('CAM-0001#0: chain-broken'));
});

test('certificates in the evidence: missing, another device\'s, not from the root', (t) => {
  const { evidence } = scenario();
  const [a, b] = evidence.devices;
  const certA = a.certificate;
  a.certificate = undefined;
  t.true(findings(verify(evidence)).includes('CAM-0001: unknown-key'));
  t.true(findings(verify(evidence)).includes('CAM-0001#0: unknown-key'));
  a.certificate = b.certificate;
  t.true(findings(verify(evidence)).includes('CAM-0001: unknown-key'));
  a.certificate = certA;
  evidence.root = new KeyPairSigner({ seed: seedOf('not-the-root'), digest }).publicKey;
  const r = verify(evidence);
  t.false(r.valid);
  t.true(r.devices.every((d) => d.reasons.some((f) => f.code === 'unknown-key')));
});

test('garbage never crashes the verifier: every byte of a manifest flipped, truncated, or random', (t) => {
  const { evidence } = scenario({ cameras: 1, segments: 2 });
  const original = evidence.devices[0].segments[1].manifest;
  let flagged = 0;
  for (let i = 0; i < original.length; i += 3) {
    const bad = original.slice();
    bad[i] ^= 0x41;
    evidence.devices[0].segments[1] = { ...evidence.devices[0].segments[1], manifest: bad };
    const r = verify(evidence);
    // The kid lives in the unsigned header: flipping it makes the key unknown, never valid.
    if (!r.valid) flagged++;
  }
  t.is(flagged, Math.ceil(original.length / 3));
  for (const bad of [new Uint8Array(0), original.subarray(0, 40), new Uint8Array(100).fill(0xff), encode(new Tag(18, [1, 2, 3, 4]))]) {
    evidence.devices[0].segments[1] = { seq: 1, manifest: bad, mediaDigest: new Uint8Array(32) };
    const r = verify(evidence);
    t.deepEqual(findings(r), ['CAM-0001#1: malformed']);
  }
  evidence.devices[0].checkpoints = [new Uint8Array([1, 2, 3])];
  evidence.devices[0].receipts = [new Uint8Array([0xd2])];
  t.true(findings(verify(evidence)).includes('CAM-0001: malformed'));
});
