// Evidence figures: how long `bodycam verify` takes on a store of 10,000 segments (with its
// custody log checked against an outside checkpoint) against the firmware verifier alone on the
// same evidence in memory, and the sizes of the custody log's checkpoint and proofs.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { verifyEvidence } from '../../firmware/signing/verifier.js';
import { hostEd25519 } from '../../host/ed25519-node.js';
import { nodeDigest } from '../../host/ports.js';
import { consistencyProof, inclusionProof, verifyConsistency, verifyInclusion, treeHash } from '../../evidence/merkle.js';
import { writeEvidenceDir } from '../../evidence/layout.js';
import { pinnedTrust } from '../../evidence/trust.js';
import { verifyStore } from '../../evidence/verify-store.js';
import { EvidenceStore } from '../../dock-station/store.js';
import { KeyPairSigner } from '../../firmware/signing/signer.js';
import { Agency, Camera, Dock, seedOf, segmentInput } from '../../test/helpers/signing.js';
import { bestOf, type Report } from '../report.js';

const SEGMENTS = 10_000;
const BATCH = 16;

export default async function evidence(report: Report): Promise<void> {
  report.section(`evidence: bodycam verify of a store of ${SEGMENTS.toLocaleString('en')} segments, custody-log proofs`);
  const dir = mkdtempSync(join(tmpdir(), 'bodycam-bench-evidence-'));
  try {
    const agency = new Agency();
    const dock = new Dock('DOCK-1', agency);
    const cam = new Camera('CAM-0001', agency);
    // The same keys, signing with Node's native Ed25519 (the helpers default to TweetNaCl).
    const fast = (label: string) => new KeyPairSigner({ seed: seedOf(label), digest: nodeDigest, ed25519: hostEd25519() });
    (cam as unknown as { key: KeyPairSigner }).key = fast('camera:CAM-0001');
    (dock as unknown as { key: KeyPairSigner }).key = fast('dock:DOCK-1');
    for (let i = 0; i < SEGMENTS; i++) cam.record({ frames: 2 });
    const nonce = seedOf('bench-nonce').slice(0, 16);
    const cp = cam.checkpoint(nonce);
    const receipts: Uint8Array[] = [];
    for (let i = 0; i < SEGMENTS; i += BATCH) receipts.push(dock.receipt(cam.id, cam.segments.slice(i, i + BATCH), cp, nonce));
    const store = join(dir, 'store');
    const es = new EvidenceStore(store);
    writeEvidenceDir(store, {
      root: agency.root.publicKey,
      docks: [{ id: dock.id, certificate: dock.certificate }],
      devices: [{ id: cam.id, certificate: cam.certificate, segments: cam.segments.map((s) => ({ seq: s.seq, manifest: s.manifest, media: s.media })), checkpoints: [cp.bytes], receipts }],
    });
    // The station's custody log over the same store: a leaf per segment and per receipt, and a checkpoint.
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    es.custodySigner = { dock: dock.id, signer: dock.key };
    es.db.transaction(() => {
      for (const s of cam.segments) es.log('segment-stored', { dock: dock.id, device: cam.id, detail: { seq: s.seq, bytes: s.media.length, media: sha(s.media), manifest: sha(s.manifest) } });
      receipts.forEach((r, n) => es.log('object-stored', { dock: dock.id, device: cam.id, detail: { path: `devices/${cam.id}/receipts/${n}.cose`, sha256: sha(r), kind: 'receipt' } }));
    })();
    const checkpoint = es.checkpointLog()!;
    es.close();
    const outside = { bytes: new Uint8Array(readFileSync(checkpoint.path)), file: checkpoint.path };
    const trust = pinnedTrust(agency.root.publicKey, 'bench');
    const ed25519 = hostEd25519();

    const input = { root: agency.root.publicKey, docks: [dock.certificate], devices: [{ id: cam.id, certificate: cam.certificate, segments: cam.segments.map((s) => segmentInput(s)), checkpoints: [cp.bytes], receipts }] };
    const inMemory = await bestOf(2, () => verifyEvidence(input, { digest: nodeDigest, ed25519 }));
    let valid = false;
    const whole = await bestOf(2, () => {
      valid = verifyStore(store, { trust, ed25519, checkpoint: outside }).valid;
    });
    if (!valid) throw new Error('the benchmark store does not verify');
    report.add({ name: `bodycam verify (store on disk, custody log against an outside checkpoint), ${SEGMENTS} segments`, value: whole, unit: 'ms', baseline: { name: 'firmware verifier alone, in memory', value: inMemory } });
    report.add({ name: 'per segment', value: (whole / SEGMENTS) * 1000, unit: 'µs' });

    // Proof sizes at this log size.
    const r = verifyStore(store, { trust, ed25519, checkpoint: outside });
    const hashes = r.custody.hashes;
    const n = hashes.length;
    const incl = inclusionProof(hashes, 0);
    const cons = consistencyProof(hashes, Math.floor(n / 2) + 1);
    if (!verifyInclusion(0, n, hashes[0], incl, treeHash(hashes))) throw new Error('inclusion proof');
    if (!verifyConsistency(Math.floor(n / 2) + 1, n, treeHash(hashes, 0, Math.floor(n / 2) + 1), treeHash(hashes), cons)) throw new Error('consistency proof');
    report.add({ name: `custody log: ${n} leaves; log checkpoint`, value: outside.bytes.length, unit: 'bytes' });
    report.add({ name: 'inclusion proof of one segment', value: incl.length * 32, unit: `bytes (${incl.length} hashes)` });
    report.add({ name: `consistency proof from ${Math.floor(n / 2) + 1} to ${n} entries`, value: cons.length * 32, unit: `bytes (${cons.length} hashes)` });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
