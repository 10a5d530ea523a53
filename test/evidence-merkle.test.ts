// The custody log's Merkle tree (RFC 9162 §2.1): the root of a known tree, every inclusion and
// consistency proof up to 33 leaves verifies and a changed one does not, the compact range gives
// the same roots, and a signed log checkpoint opens only with its dock's certificate.

import test from 'ava';
import { createHash } from 'node:crypto';
import { CompactRange, rootsAt, consistencyProof, EMPTY_ROOT, inclusionProof, leafHash, nodeHash, treeHash, verifyConsistency, verifyInclusion } from '../evidence/merkle.js';
import { decodeCustodyLeaf, encodeCustodyLeaf, openLogCheckpoint, signLogCheckpoint } from '../evidence/custody-log.js';
import { verifyCertificate } from '../firmware/signing/certificate.js';
import { nodeDigest } from '../host/ports.js';
import { Agency, Dock } from './helpers/signing.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const leaves = (n: number) => Array.from({ length: n }, (_, i) => leafHash(new TextEncoder().encode(`leaf ${i}`)));

test('RFC 6962 hashing: empty tree, one leaf, and a three-leaf tree built by hand', (t) => {
  t.is(hex(EMPTY_ROOT), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  t.is(hex(leafHash(new Uint8Array())), '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
  const h = leaves(3);
  t.deepEqual(treeHash(h), nodeHash(nodeHash(h[0], h[1]), h[2]));
  const direct = createHash('sha256').update(Buffer.concat([Buffer.from([1]), h[0], h[1]])).digest();
  t.deepEqual(nodeHash(h[0], h[1]), new Uint8Array(direct));
});

test('every inclusion proof in trees of 1 to 33 leaves verifies; a wrong leaf, index or path does not', (t) => {
  let checked = 0;
  for (let n = 1; n <= 33; n++) {
    const h = leaves(n);
    const root = treeHash(h);
    for (let m = 0; m < n; m++) {
      const proof = inclusionProof(h, m);
      t.true(verifyInclusion(m, n, h[m], proof, root), `leaf ${m} of ${n}`);
      if (n > 1) {
        t.false(verifyInclusion(m, n, h[(m + 1) % n], proof, root));
        t.false(verifyInclusion((m + 1) % n, n, h[m], proof, root));
        const bent = proof.map((p, i) => (i === 0 ? leafHash(p) : p));
        t.false(verifyInclusion(m, n, h[m], bent, root));
      }
      checked++;
    }
  }
  t.is(checked, 561);
});

test('every consistency proof between trees of 1 to 33 leaves verifies; a different old tree does not', (t) => {
  for (let n = 1; n <= 33; n++) {
    const h = leaves(n);
    const rootN = treeHash(h);
    for (let m = 1; m <= n; m++) {
      const proof = consistencyProof(h, m);
      const rootM = treeHash(h, 0, m);
      t.true(verifyConsistency(m, n, rootM, rootN, proof), `${m} → ${n}`);
      if (m < n) {
        const other = [...h.slice(0, m - 1), leafHash(new Uint8Array([9]))];
        t.false(verifyConsistency(m, n, treeHash(other), rootN, proof), `forked ${m} → ${n}`);
        t.false(verifyConsistency(m, n, rootM, rootN, []), 'an empty proof proves nothing');
      }
    }
  }
});

test('the compact range a station keeps gives the full tree\'s root at every size', (t) => {
  const h = leaves(100);
  const some = rootsAt(h, [0, 1, 37, 64, 100, 101]);
  t.deepEqual([...some.keys()], [0, 1, 37, 64, 100]);
  for (const [n, root] of some) t.deepEqual(root, treeHash(h, 0, n), `size ${n}`);
  const r = new CompactRange();
  t.deepEqual(r.root(), EMPTY_ROOT);
  for (let i = 0; i < h.length; i++) {
    r.append(h[i]);
    t.deepEqual(r.root(), treeHash(h, 0, i + 1), `size ${i + 1}`);
  }
});

test('the custody leaf is byte for byte the one docs/custody-log.md shows', (t) => {
  const leaf = encodeCustodyLeaf({ at: 1796246404323, dock: 'DOCK-SIM-1', session: null, device: null, event: 'station-start', detail: null });
  t.is(hex(leaf), 'a76261741b000001a238a0fce364646f636b6a444f434b2d53494d2d31647479706571626f647963616d2f637573746f64792f31656576656e746d73746174696f6e2d73746172746664657461696cf666646576696365f66773657373696f6ef6');
  t.is(leaf.length, 97);
  // And the checkpoint of a log of just that leaf, by the helpers' DOCK-1 key.
  const cp = signLogCheckpoint({ dock: 'DOCK-1', size: 1, root: leafHash(leaf), utc: 1796246404323 }, new Dock('DOCK-1', new Agency()).key);
  t.is(hex(cp), 'd28443a10127a1044879a0a2f3480b50b25890a7636c6f6776626f647963616d2d637573746f64792f444f434b2d31637574631b000001a238a0fce364646f636b66444f434b2d3164726f6f74582072b0ebaeab04d730deadc73fc5a8d220c05c4a5042f4022bd76f35da6e1821a06473697a650164747970657818626f647963616d2f6c6f672d636865636b706f696e742f31656b657949644879a0a2f3480b50b2584049cb2f9bf7efcd02fac61c7399cadc350283659196b3812f08e3618c10df514c448e22c7fd96331260d896ad5868e168073ca03c3687efbe3e295e5144293d0d');
});

test('custody leaves round-trip; a log checkpoint opens with its dock\'s certificate only', (t) => {
  const e = { at: 1_790_000_000_000, dock: 'DOCK-1', session: 'ab', device: 'CAM-1', event: 'segment-stored', detail: '{"seq":3}' };
  t.deepEqual(decodeCustodyLeaf(encodeCustodyLeaf(e)), e);
  const agency = new Agency();
  const dock = new Dock('DOCK-1', agency);
  const other = new Dock('DOCK-2', agency);
  const cert = (d: Dock) => verifyCertificate(d.certificate, agency.root.publicKey, { digest: nodeDigest, kind: 'dock' });
  const cp = signLogCheckpoint({ dock: 'DOCK-1', size: 5, root: leafHash(new Uint8Array([1])), utc: 7 }, dock.key);
  t.like(openLogCheckpoint(cp, [cert(dock)], { root: agency.root.publicKey, ed25519: undefined as never }), { size: 5, dock: 'DOCK-1', log: 'bodycam-custody/DOCK-1' });
  t.throws(() => openLogCheckpoint(cp, [cert(other)], { root: agency.root.publicKey, ed25519: undefined as never }), { message: /E_LOG_CHECKPOINT_DOCK/ });
  // Signed by DOCK-2's key in DOCK-1's name: refused.
  const forged = signLogCheckpoint({ dock: 'DOCK-1', size: 5, root: leafHash(new Uint8Array([1])), utc: 7 }, other.key);
  t.throws(() => openLogCheckpoint(forged, [cert(dock), cert(other)], { root: agency.root.publicKey, ed25519: undefined as never }));
});
