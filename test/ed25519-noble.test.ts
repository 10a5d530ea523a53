// The camera's Ed25519 (@noble/curves, firmware/signing/ed25519-noble.ts) against tweetnacl, the
// reference: RFC 8032 vectors (with the 1023-byte message), random keys and messages giving
// identical keys and signatures, each implementation verifying the other's, strict verdicts on
// ed25519-speccheck and on tampered signatures, on Node and inside XS. Random cases come from a
// printed seed.

import test from 'ava';
import nacl from 'tweetnacl';
import { isBodycamError } from '../firmware/errors.js';
import { tweetEd25519 } from '../firmware/signing/ed25519.js';
import { NobleEd25519 } from '../firmware/signing/ed25519-noble.js';
import { nodeDigest } from '../host-sim/node/hardware.js';
import { softDigest } from '../firmware/platform/soft-digest.js';
import { bothEngines } from './helpers/engines.js';
import { bytesToHex, hexToBytes, readVector } from './helpers/vectors.js';

const LONG = Boolean(process.env.BODYCAM_LONG);

/** RFC 8032 section 7.1, Ed25519 TEST 1, 2, 3, 1024 and SHA(abc): seed, public key, message, signature. */
const RFC8032 = [
  ['9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', '', 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b'],
  ['4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb', '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c', '72', '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00'],
  ['c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7', 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025', 'af82', '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a'],
  [
    'f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5',
    '278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e',
    '08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98fa6e264bf09efe12ee50f8f54e9f77b1' +
      'e355f6c50544e23fb1433ddf73be84d879de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d' +
      '658675fc6ea534e0810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc1a858efcb8550ee3a5e1998bd177e93a' +
      '7363c344fe6b199ee5d02e82d522c4feba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e' +
      '06203b33890cc9b832f79ef80560ccb9a39ce767967ed628c6ad573cb116dbefefd75499da96bd68a8a97b928a8bbc10' +
      '3b6621fcde2beca1231d206be6cd9ec7aff6f6c94fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed1' +
      '85ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5d0532ed8a5aa3fb2d17ba70eb6248e594e1a2297acbbb39d' +
      '502f1a8c6eb6f1ce22b3de1a1f40cc24554119a831a9aad6079cad88425de6bde1a9187ebb6092cf67bf2b13fd65f270' +
      '88d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc2732e69485bbc9c90bfbd62481d9089b' +
      'eccf80cfe2df16a2cf65bd92dd597b0707e0917af48bbb75fed413d238f5555a7a569d80c3414a8d0859dc65a46128ba' +
      'b27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51addd3b75a2b1ae0784504df543af8969b' +
      'e3ea7082ff7fc9888c144da2af58429ec96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9b47acdb7' +
      '51fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c42f58c30c04aafdb038dda0847dd988d' +
      'cda6f3bfd15c4b4c4525004aa06eeff8ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34df' +
      'f7310fdc82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08d78ff4ef5d63653a65040cf9bfd4aca7' +
      '984a74d37145986780fc0b16ac451649de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e4' +
      '88acba6b965610b5480109c8b17b80e1b7b750dfc7598d5d5011fd2dcc5600a32ef5b52a1ecc820e308aa342721aac09' +
      '43bf6686b64b2579376504ccc493d97e6aed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5f' +
      'b93246f6b1116398a346f1a641f3b041e989f7914f90cc2c7fff357876e506b50d334ba77c225bc307ba537152f3f161' +
      '0e4eafe595f6d9d90d11faa933a15ef1369546868a7f3a45a96768d40fd9d03412c091c6315cf4fde7cb68606937380d' +
      'b2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86aba41c0618983f8741c5ef68d3a101e8a3b8ca' +
      'c60c905c15fc910840b94c00a0b9d0',
    '0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350aa5371b1508f9f4528ecea23c436d94b5e8fcd4f681e30a6ac00a9704a188a03',
  ],
  ['833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42', 'ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf', 'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f', 'dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704'],
] as const;

interface SpeccheckCase { message: string; pub_key: string; signature: string }
const SPECCHECK = readVector<SpeccheckCase[]>('ed25519-speccheck-cases.json');

/** A small deterministic generator (xorshift32), so a failing case is replayed from its seed. */
function randomBytesFrom(seed: number): (n: number) => Uint8Array {
  let s = seed >>> 0 || 1;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      s ^= s << 13; s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5; s >>>= 0;
      out[i] = s & 255;
    }
    return out;
  };
}

/** Random [seed, message] pairs; message lengths 0..300 with a few long ones. */
function randomCases(seed: number, count: number): [Uint8Array, Uint8Array][] {
  const rnd = randomBytesFrom(seed);
  return Array.from({ length: count }, (_, i) => {
    const [a, b] = rnd(2);
    const length = i % 50 === 49 ? 1000 + a * 8 : (a * 256 + b) % 301;
    return [rnd(32), rnd(length)];
  });
}

/** A copy of `signature` with one bit flipped, chosen by `n` (covers R, S and S's top bits). */
function tamper(signature: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(signature);
  out[n % 64] ^= 1 << ((n >> 6) % 8);
  return out;
}

const noble = new NobleEd25519({ digest: softDigest });

test('[node] RFC 8032 vectors: the noble signer and tweetnacl give the published keys and signatures', (t) => {
  for (const [seedHex, pkHex, msgHex, sigHex] of RFC8032) {
    const seed = hexToBytes(seedHex), message = hexToBytes(msgHex);
    const kp = noble.keyPairFromSeed(seed);
    t.is(bytesToHex(kp.publicKey), pkHex);
    t.is(bytesToHex(noble.sign(message, kp.secretKey)), sigHex);
    t.true(noble.verify(message, hexToBytes(sigHex), kp.publicKey));
    t.is(bytesToHex(nacl.sign.detached(message, nacl.sign.keyPair.fromSeed(seed).secretKey)), sigHex, 'the vector as transcribed');
  }
  t.is(hexToBytes(RFC8032[3][2]).length, 1023);
});

bothEngines('RFC 8032 vectors through the ed25519.* entries (SHA-512 through the Digest port)', async (t, { engine }) => {
  for (const [seedHex, pkHex, msgHex, sigHex] of RFC8032) {
    const [pk, sk] = (await engine.call('ed25519.keyPair', 'noble', hexToBytes(seedHex))).value as Uint8Array[];
    t.is(bytesToHex(pk), pkHex);
    const sig = (await engine.call('ed25519.sign', 'noble', hexToBytes(msgHex), sk)).value as Uint8Array;
    t.is(bytesToHex(sig), sigHex);
    t.true((await engine.call('ed25519.verify', 'noble', hexToBytes(msgHex), sig, pk)).value);
    t.false((await engine.call('ed25519.verify', 'noble', hexToBytes(msgHex + '00'), sig, pk)).value);
  }
});

bothEngines('ed25519-speccheck: the noble verifier accepts exactly case 3, as libsodium and the strict reference', async (t, { engine }) => {
  const verdicts: boolean[] = [];
  for (const c of SPECCHECK) {
    const args = [hexToBytes(c.message), hexToBytes(c.signature), hexToBytes(c.pub_key)];
    const ours = (await engine.call('ed25519.verify', 'noble', ...args)).value as boolean;
    const reference = (await engine.call('ed25519.verify', 'tweetnacl', ...args)).value as boolean;
    t.is(ours, reference, 'same verdict as the reference');
    verdicts.push(ours);
  }
  t.deepEqual(verdicts.flatMap((v, i) => (v ? [i] : [])), [3]);
});

test('[node] random keys and messages: identical keys and signatures, each verifies the other\'s, same verdicts on tampering', (t) => {
  const seed = 0x5eed0001;
  // One synchronous loop: kept well inside ava's inactivity timeout on a loaded 2-core machine.
  const count = LONG ? 20_000 : 400;
  const cases = randomCases(seed, count);
  const mismatches: string[] = [];
  cases.forEach(([keySeed, message], i) => {
    const ref = nacl.sign.keyPair.fromSeed(keySeed);
    const ours = noble.keyPairFromSeed(keySeed);
    const refSig = nacl.sign.detached(message, ref.secretKey);
    const ourSig = noble.sign(message, ours.secretKey);
    const bad = tamper(ourSig, i);
    const problems = [
      bytesToHex(ours.publicKey) !== bytesToHex(ref.publicKey) && 'public key',
      bytesToHex(ours.secretKey) !== bytesToHex(ref.secretKey) && 'secret key',
      bytesToHex(ourSig) !== bytesToHex(refSig) && 'signature',
      !noble.verify(message, refSig, ref.publicKey) && 'noble rejects tweetnacl\'s signature',
      !nacl.sign.detached.verify(message, ourSig, ours.publicKey) && 'tweetnacl rejects ours',
      // The strict reference is slow on Node (~6 ms): compare its verdict on every 8th case.
      i % 8 === 0 && noble.verify(message, bad, ours.publicKey) !== tweetEd25519.verify(message, bad, ours.publicKey) && 'verdict on a tampered signature',
      noble.verify(message, bad, ours.publicKey) && 'accepted a tampered signature',
    ].filter(Boolean);
    if (problems.length) mismatches.push(`case ${i} of seed ${seed.toString(16)}: ${problems.join(', ')}`);
  });
  t.deepEqual(mismatches.slice(0, 5), []);
});

bothEngines('random keys and messages in the engine: the noble signer matches tweetnacl on the host', async (t, { engine }) => {
  const seed = 0x5eed0002;
  const count = engine.name === 'xs' ? (LONG ? 2_000 : 200) : (LONG ? 5_000 : 500);
  const cases = randomCases(seed, count);
  for (let start = 0; start < count; start += 50) {
    const batch = cases.slice(start, start + 50);
    const results = (await engine.call('ed25519.batch', 'noble', batch)).value as [Uint8Array, Uint8Array, boolean][];
    results.forEach(([pk, sig, verifies], j) => {
      const [keySeed, message] = batch[j];
      const ref = nacl.sign.keyPair.fromSeed(keySeed);
      const where = `case ${start + j} of seed ${seed.toString(16)}`;
      t.is(bytesToHex(pk), bytesToHex(ref.publicKey), where);
      t.is(bytesToHex(sig), bytesToHex(nacl.sign.detached(message, ref.secretKey)), where);
      t.true(verifies, where);
    });
  }
});

bothEngines('tampered signatures and keys get the strict reference\'s verdict in the engine', async (t, { engine }) => {
  const rnd = randomBytesFrom(0x5eed0003);
  for (let i = 0; i < 40; i++) {
    const kp = nacl.sign.keyPair.fromSeed(rnd(32));
    const message = rnd(i * 3);
    const sig = nacl.sign.detached(message, kp.secretKey);
    const badSig = tamper(sig, i * 37);
    const badKey = new Uint8Array(kp.publicKey);
    badKey[i % 32] ^= 1 << (i % 8);
    for (const [m, s, pk] of [[message, badSig, kp.publicKey], [message, sig, badKey]] as const) {
      const ours = (await engine.call('ed25519.verify', 'noble', m, s, pk)).value;
      t.is(ours, tweetEd25519.verify(m, s, pk));
      t.false(ours);
    }
  }
});

test('[node] S >= L is rejected even when S - L would verify (malleability)', (t) => {
  const kp = noble.keyPairFromSeed(new Uint8Array(32).fill(9));
  const message = new Uint8Array([1, 2, 3]);
  const sig = noble.sign(message, kp.secretKey);
  // S + L: the same point equation, a non-canonical scalar.
  const L = 2n ** 252n + 27742317777372353535851937790883648493n;
  let s = 0n;
  for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(sig[32 + i]);
  s += L;
  const malleable = new Uint8Array(sig);
  for (let i = 0; i < 32; i++) malleable[32 + i] = Number((s >> BigInt(8 * i)) & 255n);
  t.true(noble.verify(message, sig, kp.publicKey));
  t.false(noble.verify(message, malleable, kp.publicKey));
  t.true(nacl.sign.detached.verify(message, malleable, kp.publicKey), 'tweetnacl alone is lenient here');
});

test('[node] wrong lengths: key material throws E_ED25519_LENGTH, verification says false', (t) => {
  const kp = noble.keyPairFromSeed(new Uint8Array(32));
  const code = (f: () => unknown) => {
    try {
      f();
      return 'no error';
    } catch (e) {
      return isBodycamError(e) ? e.code : String(e);
    }
  };
  t.is(code(() => noble.keyPairFromSeed(new Uint8Array(31))), 'E_ED25519_LENGTH');
  t.is(code(() => noble.sign(new Uint8Array(1), kp.secretKey.subarray(0, 63))), 'E_ED25519_LENGTH');
  const sig = noble.sign(new Uint8Array(1), kp.secretKey);
  t.false(noble.verify(new Uint8Array(1), sig.subarray(0, 63), kp.publicKey));
  t.false(noble.verify(new Uint8Array(1), sig, kp.publicKey.subarray(0, 31)));
  t.true(noble.verify(new Uint8Array(1), sig, kp.publicKey));
});

test('[node] SHA-512 from any Digest port gives the same signatures', (t) => {
  const viaPort = new NobleEd25519({ digest: nodeDigest });
  const kp = noble.keyPairFromSeed(new Uint8Array(32).fill(3));
  const message = new Uint8Array(333).fill(0x42);
  t.is(bytesToHex(viaPort.sign(message, kp.secretKey)), bytesToHex(noble.sign(message, kp.secretKey)));
});

test('[node] signSteps: the same signature a slice at a time, with a verify between slices; unfinished it refuses', (t) => {
  const kp = noble.keyPairFromSeed(new Uint8Array(32).fill(7));
  const other = noble.keyPairFromSeed(new Uint8Array(32).fill(8));
  const message = new Uint8Array(300).fill(0x5a);
  const otherSig = noble.sign(message, other.secretKey);
  const steps = noble.signSteps(message, kp.secretKey);
  const early = t.throws(() => steps.signature());
  t.true(isBodycamError(early, 'E_ED25519_STEPS'));
  let slices = 0;
  for (let done = false; !done; slices++) {
    done = steps.step();
    t.true(noble.verify(message, otherSig, other.publicKey), 'a verify between slices');
  }
  t.true(slices > 1, `more than one slice (${slices})`);
  t.is(bytesToHex(steps.signature()), bytesToHex(nacl.sign.detached(message, kp.secretKey)));
  t.true(steps.step(), 'a finished signature stays finished');
});
