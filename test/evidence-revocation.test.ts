// Revocations with an effective time, in the firmware verifier on both engines: what a dock
// receipted before a camera's key was revoked stays valid, what came after does not; a dock
// revoked from a time keeps the receipts it signed before it.

import test from 'ava';
import type { CborValue } from '../firmware/codec/cbor.js';
import { issueRevocationList, isRevoked, verifyRevocationList } from '../firmware/signing/certificate.js';
import type { EvidenceInput, EvidenceReport } from '../firmware/signing/verifier.js';
import { bothEngines } from './helpers/engines.js';
import { Agency, Camera, Dock, seedOf, segmentInput, T0 } from './helpers/signing.js';
import { keyIdOf } from '../firmware/signing/signer.js';
import { nodeDigest } from '../host/ports.js';

const HOUR = 3600_000;

/** One camera, 4 segments: 0-1 receipted at T0+1h, 2-3 receipted at T0+5h, by one dock. */
function evidence(revoke: (cam: Camera, dock: Dock) => { keyId: Uint8Array; reason: string; effective?: number }[]): { e: EvidenceInput; agency: Agency } {
  const agency = new Agency();
  const dock = new Dock('DOCK-1', agency);
  const cam = new Camera('CAM-0001', agency);
  for (let i = 0; i < 4; i++) cam.record();
  const nonce1 = seedOf('n1').slice(0, 16);
  const nonce2 = seedOf('n2').slice(0, 16);
  // The first docking saw segments 0-1 (its checkpoint names segment 1's head).
  const early = new Camera('CAM-0001', agency);
  early.record();
  early.record();
  const cp1 = early.checkpoint(nonce1);
  const cp2 = cam.checkpoint(nonce2);
  const receipts = [dock.receipt(cam.id, cam.segments.slice(0, 2), cp1, nonce1, dock.key, T0 + HOUR), dock.receipt(cam.id, cam.segments.slice(2), cp2, nonce2, dock.key, T0 + 5 * HOUR)];
  const revocations = issueRevocationList({ agency: agency.name, number: 2, issued: T0 + 6 * HOUR, revoked: revoke(cam, dock) }, agency.root);
  return {
    agency,
    e: { root: agency.root.publicKey, revocations, docks: [dock.certificate], devices: [{ id: cam.id, certificate: cam.certificate, segments: cam.segments.map((s) => segmentInput(s)), checkpoints: [cp1.bytes, cp2.bytes], receipts }] },
  };
}

function plain(v: CborValue): unknown {
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), plain(x)]));
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

const verdict = (r: EvidenceReport) => r.devices.map((d) => ({ valid: d.valid, device: d.reasons.map((f) => f.code), segments: d.segments.map((s) => [s.seq, s.reasons.map((f) => f.code).join(',')]) }));

const keyOf = (pub: Uint8Array) => keyIdOf(pub, nodeDigest);

bothEngines('a camera revoked after a receipt: the receipted segments stay valid, the later ones do not', async (t, { engine }) => {
  const { e } = evidence((cam) => [{ keyId: keyOf(cam.key.publicKey), reason: 'lost', effective: T0 + 3 * HOUR }]);
  const r = plain((await engine.call('signing.evidence.verify', e as unknown as CborValue)).value) as EvidenceReport;
  t.deepEqual(verdict(r), [{ valid: false, device: [], segments: [[0, ''], [1, ''], [2, 'revoked-key'], [3, 'revoked-key']] }]);
  t.deepEqual(plain(r.devices[0].revocation as unknown as CborValue), { reason: 'lost', effective: T0 + 3 * HOUR });
  // Effective after both receipts: everything stays valid, and the report still says the key is revoked.
  const later = evidence((cam) => [{ keyId: keyOf(cam.key.publicKey), reason: 'retired', effective: T0 + 6 * HOUR }]).e;
  const r2 = plain((await engine.call('signing.evidence.verify', later as unknown as CborValue)).value) as EvidenceReport;
  t.true(r2.valid);
  t.is((r2.devices[0].revocation as { reason: string }).reason, 'retired');
  // No effective time: revoked from the start, as before.
  const always = evidence((cam) => [{ keyId: keyOf(cam.key.publicKey), reason: 'key compromise' }]).e;
  const r3 = plain((await engine.call('signing.evidence.verify', always as unknown as CborValue)).value) as EvidenceReport;
  t.deepEqual(verdict(r3)[0].device, ['revoked-key']);
  t.true(verdict(r3)[0].segments.every(([, codes]) => codes === 'revoked-key'));
});

bothEngines('a dock revoked from a time: its receipts signed before then count, later ones do not', async (t, { engine }) => {
  const { e } = evidence((_cam, dock) => [{ keyId: keyOf(dock.key.publicKey), reason: 'stolen', effective: T0 + 3 * HOUR }]);
  const r = plain((await engine.call('signing.evidence.verify', e as unknown as CborValue)).value) as EvidenceReport;
  // The second receipt (T0+5h) is not counted; nothing it alone vouched for is then missing, so
  // the only finding is the refused receipt itself.
  t.deepEqual(verdict(r), [{ valid: false, device: ['revoked-key'], segments: [[0, ''], [1, ''], [2, ''], [3, '']] }]);
  t.regex(r.devices[0].reasons[0].message, /receipt 1 .*revoked from/);
});

test('revocation lists carry the effective time; lists without one read as before and isRevoked honours it', (t) => {
  const agency = new Agency();
  const key = new Uint8Array(8).fill(3);
  const list = verifyRevocationList(issueRevocationList({ agency: agency.name, number: 1, issued: T0, revoked: [{ keyId: key, reason: 'lost', effective: T0 + HOUR }, { keyId: new Uint8Array(8), reason: 'old' }] }, agency.root), agency.root.publicKey);
  t.is(list.revoked[0].effective, T0 + HOUR);
  t.is(list.revoked[1].effective, undefined);
  t.truthy(isRevoked(list, key));
  t.is(isRevoked(list, key, T0), undefined);
  t.truthy(isRevoked(list, key, T0 + HOUR));
  t.truthy(isRevoked(list, new Uint8Array(8), 0));
});
