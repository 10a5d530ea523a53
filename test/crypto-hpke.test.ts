// HPKE (firmware/crypto/hpke.ts) against RFC 9180 Appendix A.1 — DHKEM(X25519, HKDF-SHA256),
// HKDF-SHA256, AES-128-GCM, base mode — byte for byte: DeriveKeyPair, enc, shared secret, key
// schedule, the six encryptions and the three exports, on the node and xs engines (the AEAD
// through the Cipher port, across the bridge in XS). Our suite, AES-256-GCM, has no vector in the
// RFC's text: it is checked against an independent implementation, @hpke/core with
// @hpke/dhkem-x25519, in both directions.

import test from 'ava';
import { Aes256Gcm } from '@hpke/core';
import { randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';
import { isBodycamError } from '../firmware/errors.js';
import {
  HPKE_X25519_SHA256_AES128GCM, HPKE_X25519_SHA256_AES256GCM, hpkeDeriveKeyPair, openBase, sealBase, setupBaseS,
} from '../firmware/crypto/hpke.js';
import { bothEngines } from './helpers/engines.js';
import { env, hex, hpkeCore, theySealWeOpen, toHex, weSealTheyOpen } from './helpers/hpke.js';
import { ascii } from './helpers/tables.js';


// RFC 9180, Appendix A.1.1 (Base Setup Information), A.1.1.1 (Encryptions), A.1.1.2 (Exported Values).
const A1 = Object.freeze({
  info: '4f6465206f6e2061204772656369616e2055726e',
  ikmE: '7268600d403fce431561aef583ee1613527cff655c1343f29812e66706df3234',
  pkEm: '37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431',
  skEm: '52c4a758a802cd8b936eceea314432798d5baf2d7e9235dc084ab1b9cfa2f736',
  ikmR: '6db9df30aa07dd42ee5e8181afdb977e538f5e1fec8a06223f33f7013e525037',
  pkRm: '3948cfe0ad1ddb695d780e59077195da6c56506b027329794ab02bca80815c4d',
  skRm: '4612c550263fc8ad58375df3f557aac531d26850903e55a9f23f21d8534e8ac8',
  enc: '37fda3567bdbd628e88668c3c8d7e97d1d1253b6d4ea6d44c150f741f1bf4431',
  sharedSecret: 'fe0e18c9f024ce43799ae393c7e8fe8fce9d218875e8227b0187c04e7d2ea1fc',
  key: '4531685d41d65f03dc48f6b8302c05b0',
  baseNonce: '56d890e5accaaf011cff4b7d',
  exporterSecret: '45ff1c2e220db587171952c0592d5f5ebe103f1561a2614e38f2ffd47e99e3f8',
  pt: '4265617574792069732074727574682c20747275746820626561757479',
  encryptions: [
    { seq: 0, aad: '436f756e742d30', ct: 'f938558b5d72f1a23810b4be2ab4f84331acc02fc97babc53a52ae8218a355a96d8770ac83d07bea87e13c512a' },
    { seq: 1, aad: '436f756e742d31', ct: 'af2d7e9ac9ae7e270f46ba1f975be53c09f8d875bdc8535458c2494e8a6eab251c03d0c22a56b8ca42c2063b84' },
    { seq: 2, aad: '436f756e742d32', ct: '498dfcabd92e8acedc281e85af1cb4e3e31c7dc394a1ca20e173cb72516491588d96a19ad4a683518973dcc180' },
    { seq: 4, aad: '436f756e742d34', ct: '583bd32bc67a5994bb8ceaca813d369bca7b2a42408cddef5e22f880b631215a09fc0012bc69fccaa251c0246d' },
    { seq: 255, aad: '436f756e742d323535', ct: '7175db9717964058640a3a11fb9007941a5d1757fda1a6935c805c21af32505bf106deefec4a49ac38d71c9e0a' },
    { seq: 256, aad: '436f756e742d323536', ct: '957f9800542b0b8891badb026d79cc54597cb2d225b54c00c5238c25d05c30e3fbeda97d2e0e1aba483a2df9f2' },
  ],
  exports: [
    { context: '', value: '3853fe2b4035195a573ffc53856e77058e15d9ea064de3e59f4961d0095250ee' },
    { context: '00', value: '2e8f0b54673c7029649d4eb9d5e33bf1872cf76d623ff164ac185da9e88c21a5' },
    { context: toHex(ascii('TestContext')), value: 'e9e43065102c3836401bed8c3c3c75ae46be1639869391d62c61f1ec7af54931' },
  ],
});

function code(e: unknown): string | undefined {
  return isBodycamError(e) ? e.code : undefined;
}

bothEngines('RFC 9180 A.1: DeriveKeyPair, enc, shared secret and key schedule, byte for byte', async (t, { engine }) => {
  const { value } = await engine.call('crypto.hpke.setup', 'AES-128-GCM', hex(A1.ikmR), hex(A1.ikmE), hex(A1.info));
  t.deepEqual((value as Uint8Array[]).map(toHex), [A1.skRm, A1.pkRm, A1.skEm, A1.enc, A1.sharedSecret, A1.key, A1.baseNonce, A1.exporterSecret]);
  t.is(A1.enc, A1.pkEm, 'enc is the ephemeral public key');
});

bothEngines('RFC 9180 A.1: the six encryptions (sequence numbers 0, 1, 2, 4, 255, 256) and the three exports, sealed and opened', async (t, { engine }) => {
  const seqs = A1.encryptions.map((x) => x.seq);
  const aads = A1.encryptions.map((x) => hex(x.aad));
  const pts = A1.encryptions.map(() => hex(A1.pt));
  const contexts = A1.exports.map((x) => hex(x.context));
  const sealed = (await engine.call('crypto.hpke.seal', 'AES-128-GCM', hex(A1.pkRm), hex(A1.ikmE), hex(A1.info), seqs, aads, pts, contexts, 32)).value as [Uint8Array, Uint8Array[], Uint8Array[]];
  t.is(toHex(sealed[0]), A1.enc);
  t.deepEqual(sealed[1].map(toHex), A1.encryptions.map((x) => x.ct));
  t.deepEqual(sealed[2].map(toHex), A1.exports.map((x) => x.value));
  // The receiver: the first three (consecutive) open; its exports are the sender's.
  const opened = (await engine.call('crypto.hpke.open', 'AES-128-GCM', hex(A1.enc), hex(A1.skRm), hex(A1.info), [0, 1, 2], aads.slice(0, 3), A1.encryptions.slice(0, 3).map((x) => hex(x.ct)), contexts, 32)).value as [Uint8Array[], Uint8Array[]];
  t.deepEqual(opened[0].map(toHex), [A1.pt, A1.pt, A1.pt]);
  t.deepEqual(opened[1].map(toHex), A1.exports.map((x) => x.value));
});

bothEngines('HPKE refuses with its codes: a flipped bit, another recipient, another info or aad (E_HPKE_OPEN); a low-order or short key (E_HPKE_KEY)', async (t, { engine }) => {
  const ct = hex(A1.encryptions[0].ct);
  const open = (over: Partial<{ enc: Uint8Array; sk: Uint8Array; info: Uint8Array; aad: Uint8Array; ct: Uint8Array }>) =>
    engine.call('crypto.hpke.openBase', 'AES-128-GCM', over.enc ?? hex(A1.enc), over.sk ?? hex(A1.skRm), over.info ?? hex(A1.info), over.aad ?? hex(A1.encryptions[0].aad), over.ct ?? ct);
  t.is(toHex((await open({})).value as Uint8Array), A1.pt);
  for (let bit = 0; bit < ct.length * 8; bit += 37) {
    const bad = ct.slice();
    bad[bit >> 3] ^= 1 << (bit & 7);
    t.is(code(await t.throwsAsync(open({ ct: bad }))), 'E_HPKE_OPEN', `bit ${bit}`);
  }
  t.is(code(await t.throwsAsync(open({ sk: hex(A1.skEm) }))), 'E_HPKE_OPEN', 'another recipient key');
  t.is(code(await t.throwsAsync(open({ info: ascii('Ode on a Grecian Urn!') }))), 'E_HPKE_OPEN', 'another info');
  t.is(code(await t.throwsAsync(open({ aad: ascii('Count-1') }))), 'E_HPKE_OPEN', 'another aad');
  t.is(code(await t.throwsAsync(open({ ct: ct.subarray(0, 15) }))), 'E_HPKE_OPEN', 'shorter than a tag');
  t.is(code(await t.throwsAsync(open({ enc: new Uint8Array(32) }))), 'E_HPKE_KEY', 'the all-zero point');
  // u = 1 has order 1 (RFC 7748 §6.1's small-order list): every DH with it is zero.
  const one = new Uint8Array(32);
  one[0] = 1;
  t.is(code(await t.throwsAsync(engine.call('crypto.hpke.sealBase', 'AES-256-GCM', one, hex(A1.info), new Uint8Array(0), hex(A1.pt), hex(A1.ikmE)))), 'E_HPKE_KEY');
  t.is(code(await t.throwsAsync(engine.call('crypto.hpke.sealBase', 'AES-256-GCM', hex(A1.pkRm).subarray(0, 31), hex(A1.info), new Uint8Array(0), hex(A1.pt), hex(A1.ikmE)))), 'E_HPKE_KEY');
});

// ------------------------------------------------------------ AES-256-GCM against @hpke/core


function ab(b: Uint8Array): ArrayBuffer {
  return b.slice().buffer;
}

test('AES-256-GCM: a recipient key pair derived by @hpke/core from the same seed is ours', async (t) => {
  const suite = hpkeCore(new Aes256Gcm());
  for (let i = 0; i < 8; i++) {
    const ikm = randomBytes(32);
    const ours = hpkeDeriveKeyPair(env, HPKE_X25519_SHA256_AES256GCM, ikm);
    const theirs = await suite.kem.deriveKeyPair(ab(ikm));
    t.is(toHex(new Uint8Array(await suite.kem.serializePublicKey(theirs.publicKey))), toHex(ours.publicKey));
    t.is(toHex(new Uint8Array(await suite.kem.serializePrivateKey(theirs.privateKey))), toHex(ours.secret));
  }
});

test('AES-256-GCM: what we seal, @hpke/core opens (segment keys wrapped by the camera, opened by anyone\'s HPKE)', async (t) => {
  const suite = hpkeCore(new Aes256Gcm());
  for (const size of [0, 1, 32, 1000]) await weSealTheyOpen(t, HPKE_X25519_SHA256_AES256GCM, suite, size);
});

test('AES-256-GCM: what @hpke/core seals, we open; one flipped bit and we refuse (E_HPKE_OPEN)', async (t) => {
  const suite = hpkeCore(new Aes256Gcm());
  for (const size of [0, 5, 64, 777]) await theySealWeOpen(t, HPKE_X25519_SHA256_AES256GCM, suite, size);
});

test('sealBase is deterministic in its seed and opens with openBase; a context refuses use after close (E_HPKE_CLOSED)', (t) => {
  const r = hpkeDeriveKeyPair(env, HPKE_X25519_SHA256_AES256GCM, hex(A1.ikmR));
  const ikmE = hex(A1.ikmE);
  const a = sealBase(env, HPKE_X25519_SHA256_AES256GCM, r.publicKey, hex(A1.info), new Uint8Array(0), hex(A1.pt), ikmE);
  const b = sealBase(env, HPKE_X25519_SHA256_AES256GCM, r.publicKey, hex(A1.info), new Uint8Array(0), hex(A1.pt), ikmE);
  t.is(toHex(a.ciphertext), toHex(b.ciphertext));
  t.is(a.ciphertext.length, hex(A1.pt).length + 16);
  t.is(toHex(openBase(env, HPKE_X25519_SHA256_AES256GCM, a.enc, r.secret, hex(A1.info), new Uint8Array(0), a.ciphertext)), A1.pt);
  // The AES-128 suite's ciphertext under the same seeds differs (another key length, another suite_id).
  const c = sealBase(env, HPKE_X25519_SHA256_AES128GCM, r.publicKey, hex(A1.info), new Uint8Array(0), hex(A1.pt), ikmE);
  t.not(toHex(c.ciphertext), toHex(a.ciphertext));
  const { context } = setupBaseS(env, HPKE_X25519_SHA256_AES256GCM, r.publicKey, new Uint8Array(0), ikmE);
  context.close();
  t.is(code(t.throws(() => context.seal(new Uint8Array(0), new Uint8Array(1)))), 'E_HPKE_CLOSED');
});

bothEngines("X25519: the camera's (BigInt field) and the bench's baseline, tweetnacl's scalarMult ported, agree with the npm tweetnacl", async (t, { engine }) => {
  for (let i = 0; i < 4; i++) {
    const k = Uint8Array.from(randomBytes(32));
    const u = Uint8Array.from(randomBytes(32));
    u[31] &= 0x7f;
    const want = toHex(nacl.scalarMult(k, u));
    t.is(toHex((await engine.call('crypto.x25519', 'ours', k, u)).value as Uint8Array), want);
    t.is(toHex((await engine.call('crypto.x25519', 'tweetnacl', k, u)).value as Uint8Array), want);
  }
});
