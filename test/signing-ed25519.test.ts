// Ed25519: RFC 8032 vectors, the strict verifier against ed25519-speccheck (accepts exactly what
// libsodium accepts), the ES-module TweetNaCl against the npm package byte for byte, and the
// same results inside XS.

import test from 'ava';
import nacl from 'tweetnacl';
import { createHash } from 'node:crypto';
import { hasSmallOrder, isCanonicalPoint, isCanonicalScalar, tweetEd25519 } from '../firmware/signing/ed25519.js';
import { naclVerify } from '../firmware/signing/tweetnacl.js';
import { bothEngines } from './helpers/engines.js';
import { bytesToHex, hexToBytes, readVector } from './helpers/vectors.js';

// RFC 8032 §7.1, TEST 1-3 and TEST SHA(abc).
const RFC8032 = [
  { sk: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', pk: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', msg: '', sig: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b' },
  { sk: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb', pk: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c', msg: '72', sig: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00' },
  { sk: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7', pk: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025', msg: 'af82', sig: '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a' },
  {
    sk: '833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42',
    pk: 'ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf',
    msg: createHash('sha512').update('abc').digest('hex'),
    sig: 'dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704',
  },
];

interface SpeccheckCase {
  message: string;
  pub_key: string;
  signature: string;
}

test('RFC 8032 vectors: key from seed, signature, verification', (t) => {
  for (const v of RFC8032) {
    const kp = tweetEd25519.keyPairFromSeed(hexToBytes(v.sk));
    t.is(bytesToHex(kp.publicKey), v.pk);
    t.is(bytesToHex(kp.secretKey), v.sk + v.pk);
    const sig = tweetEd25519.sign(hexToBytes(v.msg), kp.secretKey);
    t.is(bytesToHex(sig), v.sig);
    t.true(tweetEd25519.verify(hexToBytes(v.msg), sig, kp.publicKey));
    const wrong = hexToBytes(v.msg + '00');
    t.false(tweetEd25519.verify(wrong, sig, kp.publicKey));
  }
});

test('ed25519-speccheck: the strict verifier accepts only case 3, as libsodium; TweetNaCl alone accepts 0-3, 6, 7, 11', (t) => {
  const cases = readVector<SpeccheckCase[]>('ed25519-speccheck-cases.json');
  t.is(cases.length, 12);
  const strict = cases.flatMap((c, i) => (tweetEd25519.verify(hexToBytes(c.message), hexToBytes(c.signature), hexToBytes(c.pub_key)) ? [i] : []));
  t.deepEqual(strict, [3]);
  const lenient = cases.flatMap((c, i) => (naclVerify(hexToBytes(c.message), hexToBytes(c.signature), hexToBytes(c.pub_key)) ? [i] : []));
  t.deepEqual(lenient, [0, 1, 2, 3, 6, 7, 11]);
});

test('strict checks: S >= L, small-order and non-canonical points', (t) => {
  const L = hexToBytes('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010');
  t.false(isCanonicalScalar(L));
  const below = L.slice();
  below[0] -= 1;
  t.true(isCanonicalScalar(below));
  const above = L.slice();
  above[0] += 1;
  t.false(isCanonicalScalar(above));
  // A valid signature with S replaced by S + L still satisfies tweetnacl's equation; strict refuses it.
  const kp = tweetEd25519.keyPairFromSeed(new Uint8Array(32).fill(9));
  const msg = new TextEncoder().encode('bodycam');
  const sig = tweetEd25519.sign(msg, kp.secretKey);
  const s = sig.slice(32);
  let carry = 0;
  for (let i = 0; i < 32; i++) {
    const v = s[i] + L[i] + carry;
    s[i] = v & 0xff;
    carry = v >> 8;
  }
  const malleated = new Uint8Array([...sig.slice(0, 32), ...s]);
  t.true(naclVerify(msg, malleated, kp.publicKey));
  t.false(tweetEd25519.verify(msg, malleated, kp.publicKey));
  // The identity point, in canonical and non-canonical (y = p + 1) form, has small order.
  t.true(hasSmallOrder(hexToBytes('0100000000000000000000000000000000000000000000000000000000000000')));
  t.true(hasSmallOrder(hexToBytes('eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f')));
  t.false(hasSmallOrder(kp.publicKey));
  t.false(isCanonicalPoint(hexToBytes('eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f')));
  t.true(isCanonicalPoint(kp.publicKey));
  // Wrong lengths are a plain "no", never a throw.
  t.false(tweetEd25519.verify(msg, sig.slice(1), kp.publicKey));
  t.false(tweetEd25519.verify(msg, sig, kp.publicKey.slice(1)));
});

test('the ES-module TweetNaCl gives the npm package\'s keys and signatures, byte for byte', (t) => {
  for (let i = 0; i < 64; i++) {
    const seed = new Uint8Array(createHash('sha256').update(`seed ${i}`).digest());
    const msg = new Uint8Array(createHash('sha512').update(`msg ${i}`).digest()).slice(0, i);
    const ours = tweetEd25519.keyPairFromSeed(seed);
    const theirs = nacl.sign.keyPair.fromSeed(seed);
    t.deepEqual(ours.secretKey, theirs.secretKey);
    const sig = tweetEd25519.sign(msg, ours.secretKey);
    t.deepEqual(sig, nacl.sign.detached(msg, theirs.secretKey));
    t.true(nacl.sign.detached.verify(msg, sig, theirs.publicKey));
  }
});

test('wrong key material is refused with a code', (t) => {
  t.is(t.throws(() => tweetEd25519.keyPairFromSeed(new Uint8Array(31)))?.message.split(':')[0], 'E_ED25519_LENGTH');
  t.is(t.throws(() => tweetEd25519.sign(new Uint8Array(1), new Uint8Array(32)))?.message.split(':')[0], 'E_ED25519_LENGTH');
});

bothEngines('Ed25519 in the engine: RFC 8032 TEST 3 keys, signature and strict verification', async (t, { engine }) => {
  const v = RFC8032[2];
  const kp = (await engine.call('signing.ed25519.keypair', hexToBytes(v.sk))).value as Map<string, Uint8Array>;
  t.is(bytesToHex(kp.get('publicKey')!), v.pk);
  const sig = (await engine.call('signing.ed25519.sign', hexToBytes(v.msg), kp.get('secretKey')!)).value as Uint8Array;
  t.is(bytesToHex(sig), v.sig);
  t.true((await engine.call('signing.ed25519.verify', hexToBytes(v.msg), sig, kp.get('publicKey')!)).value as boolean);
  const c = readVector<SpeccheckCase[]>('ed25519-speccheck-cases.json')[0];
  t.false((await engine.call('signing.ed25519.verify', hexToBytes(c.message), hexToBytes(c.signature), hexToBytes(c.pub_key))).value as boolean);
});
