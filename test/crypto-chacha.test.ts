// ChaCha20-Poly1305 (RFC 8439) through the Cipher port, and HPKE's ChaCha20Poly1305 suite (AEAD
// 0x0003): RFC 8439 §2.8.2's AEAD vector on the host's port (libsodium), which must give
// node:crypto's bytes for every length and for views at any offset; RFC 9180 Appendix A.2 (DHKEM(X25519,
// HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305, base mode) byte for byte on the node and xs
// engines; and the suite against an independent implementation, @hpke/core with
// @hpke/chacha20poly1305, in both directions. The device adapter (crypt's ChaCha20 with the
// firmware's Poly1305 in C) is checked in the moddable engine by test/crypto-device.test.ts.
// STREAM takes the AEAD as a parameter: under CHACHA20-POLY1305 each chunk is node:crypto's
// chacha20-poly1305 under the STREAM nonce, and the attacks are refused on both engines. Sealed
// segments name their AEAD: the camera writes bodycam-sealed/2 (records of version 2,
// ChaCha20-Poly1305), and a bodycam-sealed/1 segment (version 1, AES-256-GCM) still opens.

import test from 'ava';
import { Aes256Gcm, CipherSuite, HkdfSha256 } from '@hpke/core';
import { Chacha20Poly1305 } from '@hpke/chacha20poly1305';
import { DhkemX25519HkdfSha256 } from '@hpke/dhkem-x25519';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { isBodycamError } from '../firmware/errors.js';
import { RecordSealer, resealRecords, SealedMediaOpener, SEALED_SCHEME, SEALED_SCHEME_AES, unwrapContentKey, walkSealedMedia, wrapContentKey } from '../firmware/encoder/sealed-record.js';
import type { Manifest } from '../firmware/signing/manifest.js';
import { openSealedSegment, type ExaminerKey } from '../evidence/sealed.js';
import { HPKE_X25519_SHA256_CHACHA20POLY1305, hpkeDeriveKeyPair, openBase, sealBase, setupBaseR, setupBaseS } from '../firmware/crypto/hpke.js';
import { StreamOpener, StreamSealer, streamNonce } from '../firmware/crypto/stream.js';
import { nodeCipher, nodeDigest } from '../host/ports.js';
import { bothEngines } from './helpers/engines.js';
import { env, hex, hpkeCore, theySealWeOpen, toHex, weSealTheyOpen } from './helpers/hpke.js';
import { ascii } from './helpers/tables.js';


// RFC 8439 §2.8.2: the AEAD_CHACHA20_POLY1305 example.
const RFC8439_AEAD = Object.freeze({
  key: '808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f',
  nonce: '070000004041424344454647',
  aad: '50515253c0c1c2c3c4c5c6c7',
  pt: toHex(ascii("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.")),
  ct:
    'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b' +
    '1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc' +
    '3ff4def08e4b7a9de576d26586cec64b6116',
  tag: '1ae10b594f09e26a7e902ecbd0600691',
});

// RFC 9180, Appendix A.2.1 (Base Setup Information) and A.2.1.1 (Encryptions), as the CFRG's
// test-vectors.json holds them (Go's crypto/internal/hpke/testdata/rfc9180-vectors.json).
const A2 = Object.freeze({
  info: '4f6465206f6e2061204772656369616e2055726e',
  ikmE: '909a9b35d3dc4713a5e72a4da274b55d3d3821a37e5d099e74a647db583a904b',
  pkEm: '1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a',
  skEm: 'f4ec9b33b792c372c1d2c2063507b684ef925b8c75a42dbcbf57d63ccd381600',
  ikmR: '1ac01f181fdf9f352797655161c58b75c656a6cc2716dcb66372da835542e1df',
  pkRm: '4310ee97d88cc1f088a5576c77ab0cf5c3ac797f3d95139c6c84b5429c59662a',
  skRm: '8057991eef8f1f1af18f4a9491d16a1ce333f695d4db8e38da75975c4478e0fb',
  enc: '1afa08d3dec047a643885163f1180476fa7ddb54c6a8029ea33f95796bf2ac4a',
  sharedSecret: '0bbe78490412b4bbea4812666f7916932b828bba79942424abb65244930d69a7',
  key: 'ad2744de8e17f4ebba575b3f5f5a8fa1f69c2a07f6e7500bc60ca6e3e3ec1c91',
  baseNonce: '5c4d98150661b848853b547f',
  exporterSecret: 'a3b010d4994890e2c6968a36f64470d3c824c8f5029942feb11e7a74b2921922',
  pt: '4265617574792069732074727574682c20747275746820626561757479',
  encryptions: [
    { seq: 0, aad: '436f756e742d30', ct: '1c5250d8034ec2b784ba2cfd69dbdb8af406cfe3ff938e131f0def8c8b60b4db21993c62ce81883d2dd1b51a28' },
    { seq: 1, aad: '436f756e742d31', ct: '6b53c051e4199c518de79594e1c4ab18b96f081549d45ce015be002090bb119e85285337cc95ba5f59992dc98c' },
    { seq: 2, aad: '436f756e742d32', ct: '71146bd6795ccc9c49ce25dda112a48f202ad220559502cef1f34271e0cb4b02b4f10ecac6f48c32f878fae86b' },
    { seq: 4, aad: '436f756e742d34', ct: '63357a2aa291f5a4e5f27db6baa2af8cf77427c7c1a909e0b37214dd47db122bb153495ff0b02e9e54a50dbe16' },
    { seq: 255, aad: '436f756e742d323535', ct: '18ab939d63ddec9f6ac2b60d61d36a7375d2070c9b683861110757062c52b8880a5f6b3936da9cd6c23ef2a95c' },
    { seq: 256, aad: '436f756e742d323536', ct: '7a4a13e9ef23978e2c520fd4d2e757514ae160cd0cd05e556ef692370ca53076214c0c40d4c728d6ed9e727a5b' },
  ],
});

function code(e: unknown): string | undefined {
  return isBodycamError(e) ? e.code : undefined;
}

test("RFC 8439 §2.8.2 on the host's port: sealed in place with a detached tag, opened in place, a bad tag refused with the bytes left alone", (t) => {
  const c = nodeCipher.create('CHACHA20-POLY1305', hex(RFC8439_AEAD.key));
  const data = hex(RFC8439_AEAD.pt);
  const tag = c.seal(hex(RFC8439_AEAD.nonce), hex(RFC8439_AEAD.aad), data);
  t.is(toHex(data), RFC8439_AEAD.ct);
  t.is(toHex(tag), RFC8439_AEAD.tag);
  const bad = hex(RFC8439_AEAD.tag);
  bad[15] ^= 1;
  t.false(c.open(hex(RFC8439_AEAD.nonce), hex(RFC8439_AEAD.aad), data, bad));
  t.is(toHex(data), RFC8439_AEAD.ct, 'a refused open leaves the ciphertext');
  t.true(c.open(hex(RFC8439_AEAD.nonce), hex(RFC8439_AEAD.aad), data, tag));
  t.is(toHex(data), RFC8439_AEAD.pt);
  c.close();
  t.is(code(t.throws(() => c.seal(hex(RFC8439_AEAD.nonce), new Uint8Array(0), data))), 'E_CIPHER_CLOSED');
  t.is(code(t.throws(() => nodeCipher.create('CHACHA20-POLY1305', new Uint8Array(16)))), 'E_CIPHER_KEY', 'a ChaCha20-Poly1305 key is 32 bytes');
  const k = nodeCipher.create('CHACHA20-POLY1305', new Uint8Array(32));
  t.is(code(t.throws(() => k.seal(new Uint8Array(8), new Uint8Array(0), data))), 'E_CIPHER_NONCE', "the port's nonce is RFC 8439's 12 bytes");
  t.is(code(t.throws(() => k.open(new Uint8Array(12), new Uint8Array(0), data, new Uint8Array(12)))), 'E_CIPHER_TAG');
});

test("the host's port (libsodium, in the caller's bytes) gives node:crypto's bytes for lengths 0 to 300 and 256 KiB, in views at odd offsets; its scratch survives a larger open, a refused one and close", (t) => {
  const key = randomBytes(32);
  const c = nodeCipher.create('CHACHA20-POLY1305', key);
  const aad = randomBytes(13);
  const lengths = [...Array.from({ length: 301 }, (_, i) => i), 65536 + 7, 262144, 1000];
  for (const [i, n] of lengths.entries()) {
    const nonce = randomBytes(12);
    const plain = randomBytes(n);
    const ref = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 }).setAAD(aad, { plaintextLength: n });
    const want = Buffer.concat([ref.update(plain), ref.final()]);
    const wantTag = ref.getAuthTag();
    // A view at an odd offset inside a larger buffer: the bytes around it must stay as they are.
    const host = randomBytes(n + 10);
    const around = Buffer.from(host);
    const view = new Uint8Array(host.buffer, host.byteOffset + 3 + (i % 5), n);
    view.set(plain);
    around.set(plain, 3 + (i % 5));
    const tag = new Uint8Array(c.seal(nonce, aad, view));
    if (!Buffer.from(view).equals(want) || !Buffer.from(tag).equals(wantTag)) return t.fail(`length ${n}: sealed bytes or tag differ from node:crypto's`);
    const bad = tag.slice();
    bad[i % 16] ^= 0x80;
    if (c.open(nonce, aad, view, bad) || !Buffer.from(view).equals(want)) return t.fail(`length ${n}: a bad tag opened, or changed the bytes`);
    if (!c.open(nonce, aad, view, tag) || !Buffer.from(view).equals(plain)) return t.fail(`length ${n}: did not open to the plaintext`);
    if (!host.subarray(0, 3 + (i % 5)).equals(around.subarray(0, 3 + (i % 5))) || !host.subarray(3 + (i % 5) + n).equals(around.subarray(3 + (i % 5) + n))) return t.fail(`length ${n}: bytes outside the view changed`);
  }
  t.pass(`${lengths.length} lengths`);
  c.close();
  t.is(code(t.throws(() => c.open(randomBytes(12), aad, new Uint8Array(4), new Uint8Array(16)))), 'E_CIPHER_CLOSED');
});

bothEngines('RFC 9180 A.2 (ChaCha20Poly1305): DeriveKeyPair, enc, shared secret and key schedule, byte for byte', async (t, { engine }) => {
  const { value } = await engine.call('crypto.hpke.setup', 'CHACHA20-POLY1305', hex(A2.ikmR), hex(A2.ikmE), hex(A2.info));
  t.deepEqual((value as Uint8Array[]).map(toHex), [A2.skRm, A2.pkRm, A2.skEm, A2.enc, A2.sharedSecret, A2.key, A2.baseNonce, A2.exporterSecret]);
  t.is(A2.enc, A2.pkEm, 'enc is the ephemeral public key');
});

bothEngines('RFC 9180 A.2 (ChaCha20Poly1305): the six encryptions (sequence numbers 0, 1, 2, 4, 255, 256) sealed byte for byte, and opened', async (t, { engine }) => {
  const seqs = A2.encryptions.map((x) => x.seq);
  const aads = A2.encryptions.map((x) => hex(x.aad));
  const pts = A2.encryptions.map(() => hex(A2.pt));
  const sealed = (await engine.call('crypto.hpke.seal', 'CHACHA20-POLY1305', hex(A2.pkRm), hex(A2.ikmE), hex(A2.info), seqs, aads, pts, [], 32)).value as [Uint8Array, Uint8Array[]];
  t.is(toHex(sealed[0]), A2.enc);
  t.deepEqual(sealed[1].map(toHex), A2.encryptions.map((x) => x.ct));
  const opened = (await engine.call('crypto.hpke.open', 'CHACHA20-POLY1305', hex(A2.enc), hex(A2.skRm), hex(A2.info), [0, 1, 2], aads.slice(0, 3), A2.encryptions.slice(0, 3).map((x) => hex(x.ct)), [], 32)).value as [Uint8Array[]];
  t.deepEqual(opened[0].map(toHex), [A2.pt, A2.pt, A2.pt]);
  // A flipped bit anywhere (ciphertext or tag) is refused.
  const ct = hex(A2.encryptions[0].ct);
  for (let bit = 0; bit < ct.length * 8; bit += 41) {
    const bad = ct.slice();
    bad[bit >> 3] ^= 1 << (bit & 7);
    t.is(code(await t.throwsAsync(engine.call('crypto.hpke.openBase', 'CHACHA20-POLY1305', hex(A2.enc), hex(A2.skRm), hex(A2.info), hex(A2.encryptions[0].aad), bad))), 'E_HPKE_OPEN', `bit ${bit}`);
  }
});

// ------------------------------------------------------------ against @hpke/core + @hpke/chacha20poly1305

function ab(b: Uint8Array): ArrayBuffer {
  return b.slice().buffer;
}

test('ChaCha20Poly1305: @hpke/core derives A.2\'s keys from its seeds and opens its first encryption; its exports are ours', async (t) => {
  const suite = hpkeCore(new Chacha20Poly1305());
  const eph = await suite.kem.deriveKeyPair(ab(hex(A2.ikmE)));
  t.is(toHex(new Uint8Array(await suite.kem.serializePublicKey(eph.publicKey))), A2.pkEm);
  const recipient = await suite.kem.deriveKeyPair(ab(hex(A2.ikmR)));
  const r = await suite.createRecipientContext({ recipientKey: recipient, enc: ab(hex(A2.enc)), info: ab(hex(A2.info)) });
  t.is(toHex(new Uint8Array(await r.open(ab(hex(A2.encryptions[0].ct)), ab(hex(A2.encryptions[0].aad))))), A2.pt);
  // Exports are not in Go's copy of the vectors: ours must equal @hpke/core's.
  const ours = setupBaseR(env, HPKE_X25519_SHA256_CHACHA20POLY1305, hex(A2.enc), hex(A2.skRm), hex(A2.info));
  for (const context of [new Uint8Array(0), Uint8Array.of(0), ascii('TestContext')]) {
    t.is(toHex(ours.exportSecret(context, 32)), toHex(new Uint8Array(await r.export(ab(context), 32))));
  }
  ours.close();
});

test('ChaCha20Poly1305: what we seal, @hpke/core opens; what it seals, we open (both ways, exports equal)', async (t) => {
  const suite = hpkeCore(new Chacha20Poly1305());
  for (const size of [0, 1, 32, 1000, 25 * 1024 + 7]) {
    await weSealTheyOpen(t, HPKE_X25519_SHA256_CHACHA20POLY1305, suite, size);
    await theySealWeOpen(t, HPKE_X25519_SHA256_CHACHA20POLY1305, suite, size);
  }
  const single = sealBase(env, HPKE_X25519_SHA256_CHACHA20POLY1305, hex(A2.pkRm), hex(A2.info), hex(A2.encryptions[0].aad), hex(A2.pt), hex(A2.ikmE));
  t.is(toHex(single.ciphertext), A2.encryptions[0].ct, 'SealBase is A.2\'s first encryption');
});

// ------------------------------------------------------------ STREAM under ChaCha20-Poly1305

test("STREAM under CHACHA20-POLY1305: each chunk is node:crypto's chacha20-poly1305 under its STREAM nonce; the default stays AES-256-GCM", (t) => {
  const key = Uint8Array.from(randomBytes(32));
  const chunks = [0, 1, 64, 1000].map((n) => Uint8Array.from(randomBytes(n)));
  const sealer = new StreamSealer(nodeCipher, key, 'CHACHA20-POLY1305');
  chunks.forEach((c, i) => {
    const data = Uint8Array.from(c);
    const aad = Uint8Array.of(i, 7);
    const final = i === chunks.length - 1;
    const tag = sealer.seal(data, aad, final);
    const ref = createCipheriv('chacha20-poly1305', key, streamNonce(i, final), { authTagLength: 16 });
    ref.setAAD(aad, { plaintextLength: c.length });
    const want = Buffer.concat([ref.update(c), ref.final()]);
    t.is(toHex(data), want.toString('hex'), `chunk ${i}`);
    t.is(toHex(tag), ref.getAuthTag().toString('hex'));
  });
  sealer.close();
  // The same key and nonce under the default AEAD give other bytes: the parameter is used.
  const a = Uint8Array.from(chunks[3]);
  const b = Uint8Array.from(chunks[3]);
  new StreamSealer(nodeCipher, key).seal(a, new Uint8Array(0), false);
  new StreamSealer(nodeCipher, key, 'CHACHA20-POLY1305').seal(b, new Uint8Array(0), false);
  t.not(toHex(a), toHex(b));
  const gcm = createCipheriv('aes-256-gcm', key, streamNonce(0, false));
  t.is(toHex(a), Buffer.concat([gcm.update(chunks[3]), gcm.final()]).toString('hex'), 'the default is AES-256-GCM');
  t.is(code(t.throws(() => new StreamSealer(nodeCipher, key, 'AES-128-GCM' as 'AES-256-GCM'))), 'E_CIPHER_ALGORITHM');
  // A ChaCha20-Poly1305 chunk does not open as AES-256-GCM.
  const opener = new StreamOpener(nodeCipher, key);
  const c = Uint8Array.from(chunks[2]);
  const tag = new StreamSealer(nodeCipher, key, 'CHACHA20-POLY1305').seal(c, new Uint8Array(0), false);
  t.is(code(t.throws(() => opener.open(0, false, new Uint8Array(0), c, tag))), 'E_STREAM_AUTH');
});

bothEngines('STREAM under CHACHA20-POLY1305: sealed and opened in the engine as on node; a flipped bit, a swap, a dropped chunk and a cut tail refused (E_STREAM_AUTH)', async (t, { engine }) => {
  const key = Uint8Array.from(randomBytes(32));
  const chunks = [0, 100, 4096, 25 * 1024].map((n) => Uint8Array.from(randomBytes(n)));
  const aads = chunks.map((_, i) => Uint8Array.of(i));
  const [cts, tags] = (await engine.call('crypto.stream.seal', key, chunks, aads, 'CHACHA20-POLY1305')).value as [Uint8Array[], Uint8Array[]];
  const sealer = new StreamSealer(nodeCipher, key, 'CHACHA20-POLY1305');
  const ours = chunks.map((c) => Uint8Array.from(c));
  const ourTags = ours.map((c, i) => sealer.seal(c, aads[i], i === ours.length - 1));
  t.deepEqual(cts.map(toHex), ours.map(toHex));
  t.deepEqual(tags.map(toHex), ourTags.map(toHex));
  const opened = (await engine.call('crypto.stream.open', key, cts, tags, aads, 'CHACHA20-POLY1305')).value as Uint8Array[];
  t.deepEqual(opened.map(toHex), chunks.map(toHex));
  const refused = async (c: Uint8Array[], g: Uint8Array[], a: Uint8Array[], what: string) => {
    const e = await t.throwsAsync(engine.call('crypto.stream.open', key, c, g, a, 'CHACHA20-POLY1305'));
    t.is(code(e), 'E_STREAM_AUTH', what);
  };
  const flipped = cts.map((c) => Uint8Array.from(c));
  flipped[2][17] ^= 0x20;
  await refused(flipped, tags, aads, 'a flipped bit');
  await refused([cts[1], cts[0], ...cts.slice(2)], [tags[1], tags[0], ...tags.slice(2)], aads, 'two chunks swapped');
  await refused([cts[0], ...cts.slice(2)], [tags[0], ...tags.slice(2)], [aads[0], ...aads.slice(2)], 'a dropped chunk');
  await refused(cts.slice(0, 3), tags.slice(0, 3), aads.slice(0, 3), 'the tail cut off (the last chunk left is not final)');
  await t.throwsAsync(engine.call('crypto.stream.open', key, cts, tags, aads), { message: /does not authenticate/ }, 'not as AES-256-GCM');
});

// ------------------------------------------------------------ sealed segments name their AEAD

/** Plaintext records as the camera's encoder makes them: a 48-byte header, a body. */
function plainRecords(n: number): { header: Uint8Array; body: Uint8Array }[] {
  return Array.from({ length: n }, (_, i) => ({ header: Uint8Array.from(randomBytes(48)), body: Uint8Array.from(randomBytes(100 + 37 * i)) }));
}

test('sealed segments: the camera writes bodycam-sealed/2 (ChaCha20-Poly1305, HPKE AEAD 0x0003); node:crypto and @hpke/chacha20poly1305 open it', async (t) => {
  const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Chacha20Poly1305() });
  const ikm = randomBytes(32);
  const recipient = hpkeDeriveKeyPair(env, HPKE_X25519_SHA256_CHACHA20POLY1305, ikm);
  const random = { fill: (b: Uint8Array) => b.set(randomBytes(b.length)) };
  const sealer = new RecordSealer({ cipher: nodeCipher, digest: nodeDigest, random, recipients: [recipient.publicKey] });
  const records = plainRecords(3);
  const parts: Uint8Array[] = [];
  for (const r of records) {
    const body = Uint8Array.from(r.body);
    parts.push(Uint8Array.from(sealer.seal(r.header, body)), body);
  }
  parts.push(sealer.end(0, 2));
  const media = Uint8Array.from(Buffer.concat(parts));
  const walked = walkSealedMedia(media);
  t.deepEqual(walked.map((w) => w.version), [2, 2, 2, 2], 'every record prefix says version 2');
  // The wrapped content key opens with @hpke/core and ChaCha20Poly1305; record 1's body with node:crypto.
  const r0 = sealer.recipients[0];
  const ctx = await suite.createRecipientContext({ recipientKey: await suite.kem.deriveKeyPair(ab(ikm)), enc: ab(r0.enc), info: ab(ascii('bodycam/content-key/1')) });
  const contentKey = Buffer.from(await ctx.open(ab(r0.key)));
  sealer.close();
  const w = walked[1];
  const bodyAt = w.offset + 12 + 48 + 32;
  const nonce = Buffer.alloc(12);
  nonce.writeUInt32BE(2 * w.index + 1, 7);
  const d = createDecipheriv('chacha20-poly1305', contentKey, nonce, { authTagLength: 16 });
  d.setAAD(media.subarray(w.offset, w.offset + 12), { plaintextLength: w.bodyLength });
  d.setAuthTag(media.subarray(w.offset + 12 + 48 + 16, bodyAt));
  t.is(Buffer.concat([d.update(media.subarray(bodyAt, bodyAt + w.bodyLength)), d.final()]).toString('hex'), toHex(records[1].body));
  // resealRecords makes the camera's bytes again; the opener gives the plaintext back.
  t.is(toHex(resealRecords(nodeCipher, contentKey, records, 0, 3)), toHex(media));
  const opened = new SealedMediaOpener(nodeCipher, contentKey).open(media);
  t.is(toHex(opened.media), toHex(Buffer.concat(records.flatMap((r) => [r.header, r.body]))));
  // Opened as the other scheme, it is refused before any chunk is tried.
  t.is(code(t.throws(() => new SealedMediaOpener(nodeCipher, contentKey, SEALED_SCHEME_AES).open(media))), 'E_SEALED_FORMAT');
});

test('sealed segments: a bodycam-sealed/1 segment (AES-256-GCM, records of version 1) still opens, through bodycam export\'s openSealedSegment', async (t) => {
  const ikm = randomBytes(32);
  const pair = hpkeDeriveKeyPair(env, HPKE_X25519_SHA256_CHACHA20POLY1305, ikm); // the KEM's key pair does not depend on the AEAD
  const contentKey = Uint8Array.from(randomBytes(32));
  const recipient = wrapContentKey(env, pair.publicKey, contentKey, randomBytes(32), SEALED_SCHEME_AES);
  // The wrap is AES-256-GCM's: @hpke/core with Aes256Gcm opens it, and our default (ChaCha) does not.
  const aes = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
  const ctx = await aes.createRecipientContext({ recipientKey: await aes.kem.deriveKeyPair(ab(ikm)), enc: ab(recipient.enc), info: ab(ascii('bodycam/content-key/1')) });
  t.is(toHex(new Uint8Array(await ctx.open(ab(recipient.key)))), toHex(contentKey));
  t.is(code(t.throws(() => unwrapContentKey(env, [recipient], pair.secret, pair.publicKey))), 'E_HPKE_OPEN');
  const records = plainRecords(2);
  const media = resealRecords(nodeCipher, contentKey, records, 0, 2, SEALED_SCHEME_AES);
  t.deepEqual(walkSealedMedia(media).map((w) => w.version), [1, 1, 1]);
  // Record 0's header chunk is node:crypto's AES-256-GCM under STREAM nonce 0.
  const gcm = createCipheriv('aes-256-gcm', contentKey, streamNonce(0, false));
  gcm.setAAD(media.subarray(0, 12));
  t.is(toHex(media.subarray(12, 60)), Buffer.concat([gcm.update(records[0].header), gcm.final()]).toString('hex'));
  const m = { seq: 7, flags: 0, sealed: { recipients: [recipient], records: 3, scheme: SEALED_SCHEME_AES } } as unknown as Manifest;
  const key: ExaminerKey = { secret: pair.secret, publicKey: pair.publicKey, keyId: recipient.kid, file: 'test', form: 'raw' };
  const opened = openSealedSegment(media, m, key);
  t.is(toHex(opened.media), toHex(Buffer.concat(records.flatMap((r) => [r.header, r.body]))));
  t.true(opened.final);
  // The same segment under the current scheme's name is refused with its code.
  t.is(code(t.throws(() => openSealedSegment(media, { ...m, sealed: { ...m.sealed!, scheme: SEALED_SCHEME } } as Manifest, key))), 'E_HPKE_OPEN');
});
