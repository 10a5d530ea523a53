// docs/FORMAT.md's worked example is what the code produces, and an independent COSE reading
// (cbor-x to decode, Node's OpenSSL Ed25519 to verify) accepts it.

import test from 'ava';
import { Decoder, Encoder, Tag as CborXTag } from 'cbor-x';
import { createHash, createPublicKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { softDigest } from '../firmware/platform/soft-digest.js';
import { issueCertificate } from '../firmware/signing/certificate.js';
import { decodeSign1, sigStructure } from '../firmware/signing/cose.js';
import { FLAG_CLEAN_CLOSE, ManifestBuilder } from '../firmware/signing/manifest.js';
import { KeyPairSigner } from '../firmware/signing/signer.js';
import { repoRoot } from '../host-sim/xs/bundle.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const run32 = (a: number) => Uint8Array.from({ length: 32 }, (_, i) => a + i);

function example() {
  const root = new KeyPairSigner({ seed: run32(0), digest: softDigest });
  const dev = new KeyPairSigner({ seed: run32(32), digest: softDigest });
  const T = Date.UTC(2026, 10, 25, 6, 0, 0);
  const cert = issueCertificate({ id: 'CAM-0001', kind: 'device', publicKey: dev.publicKey, agency: 'Example Police', serial: 1, notBefore: T, notAfter: T + 365 * 86400000 }, root);
  const b = new ManifestBuilder({ digest: softDigest, device: 'CAM-0001', seq: 0, boot: 1, recording: 1, prev: null, format: { format: 'jpeg', width: 800, height: 600 }, firmware: '0.1.0' });
  const enc = new TextEncoder();
  b.addFrame(enc.encode('H1'), enc.encode('JPEG-1'), { mono: 1000, utc: T + 1000 });
  b.addFrame(enc.encode('H2'), enc.encode('JPEG-2'), { mono: 1040, utc: T + 1040 });
  const s = b.finish({ signer: dev, clock: { source: 'dock', lastSync: T }, flags: FLAG_CLEAN_CLOSE });
  const m = decodeSign1(s.bytes);
  return { root, dev, cert, media: enc.encode('H1JPEG-1H2JPEG-2'), signed: s, payload: m.payload, tbs: sigStructure(m.protectedBytes, m.payload) };
}

function formatSection(): string {
  const doc = readFileSync(join(repoRoot, 'docs', 'FORMAT.md'), 'utf8');
  const start = doc.indexOf('## Evidence: manifests, certificates, receipts');
  const end = doc.indexOf('\n## ', start + 10);
  return doc.slice(start, end < 0 ? undefined : end).replace(/\s+/g, '');
}

test('the worked example in docs/FORMAT.md is what the code produces', (t) => {
  const e = example();
  const doc = formatSection();
  for (const [what, value] of Object.entries({
    root: e.root.publicKey, rootKid: e.root.keyId, device: e.dev.publicKey, deviceKid: e.dev.keyId, certificate: e.cert,
    media: e.media, mediaSha: e.signed.manifest.media, payload: e.payload, tbs: e.tbs, cose: e.signed.bytes, digest: e.signed.digest,
  })) {
    t.true(doc.includes(hex(value)), `${what} in FORMAT.md is not ${hex(value)}`);
  }
});

test('an independent reading verifies the example: cbor-x decodes, OpenSSL Ed25519 verifies, SHA-256 matches', (t) => {
  const e = example();
  const decoder = new Decoder({ mapsAsObjects: true, useRecords: false });
  const encoder = new Encoder({ useRecords: false, tagUint8Array: false });
  const spki = (raw: Uint8Array) => createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw]), format: 'der', type: 'spki' });
  const open = (cose: Uint8Array, key: Uint8Array) => {
    const tagged = decoder.decode(cose) as CborXTag;
    t.is(tagged.tag, 18);
    const [p, , payload, sig] = tagged.value as [Uint8Array, unknown, Uint8Array, Uint8Array];
    t.is(hex(p), 'a10127');
    const tbs = encoder.encode(['Signature1', p, new Uint8Array(0), payload]);
    t.true(verify(null, tbs, spki(key), sig));
    return decoder.decode(payload) as Record<string, unknown>;
  };
  const cert = open(e.cert, e.root.publicKey);
  t.is(cert.type, 'bodycam/certificate/1');
  const devKey = new Uint8Array(cert.key as Uint8Array);
  t.deepEqual(devKey, e.dev.publicKey);
  const manifest = open(e.signed.bytes, devKey);
  t.is(manifest.type, 'bodycam/manifest/1');
  t.is(hex(manifest.media as Uint8Array), createHash('sha256').update(e.media).digest('hex'));
  t.is(manifest.bytes, e.media.length);
  t.is(hex(e.signed.digest), createHash('sha256').update(e.signed.bytes).digest('hex'));
  t.is(hex(e.dev.keyId), createHash('sha256').update(e.dev.publicKey).digest('hex').slice(0, 16));
});
