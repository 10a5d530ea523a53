// The Cipher port: node:crypto's AES-GCM on a host (host/ports.ts nodeCipher), and the device
// adapter (firmware/device/cipher.ts) that composes AES-GCM from crypt's BlockCipher, Mode("CTR")
// and GHASH, here over a stand-in that follows modCrypt.c (test/helpers/fake-crypt.ts; the real
// natives run in test/crypto-device.test.ts). Both against the GCM specification's test cases
// and each other; seal works in place on any view; a failed open leaves the bytes alone; bad
// arguments get their codes. And through the xs engine's bridge, where the ciphertext must end
// up in the guest's own bytes.

import test from 'ava';
import { createHash, randomBytes } from 'node:crypto';
import { isBodycamError } from '../firmware/errors.js';
import { cryptCipher } from '../firmware/device/cipher.js';
import type { AeadAlgorithm, Cipher } from '../firmware/platform/cipher.js';
import { nodeCipher } from '../host/ports.js';
import { fakeCrypt } from './helpers/fake-crypt.js';
import { StreamOpener } from '../firmware/crypto/stream.js';
import { nodeChecksum, runVirtualTime } from '../host-sim/node/hardware.js';
import { attachCamera } from '../host-sim/sensor/sim-camera.js';
import type { FrameSource } from '../host-sim/sensor/synthetic.js';
import { bothEngines } from './helpers/engines.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const toHex = (b: Uint8Array | ArrayBuffer): string => Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b).toString('hex');
const deviceCipher = cryptCipher(fakeCrypt);
const CIPHERS: [string, Cipher][] = [['node', nodeCipher], ['device', deviceCipher]];

function code(e: unknown): string | undefined {
  return isBodycamError(e) ? e.code : undefined;
}

// McGrew and Viega, "The Galois/Counter Mode of Operation (GCM)", test cases 1-4 (AES-128) and 13-16 (AES-256).
const GCM_CASES = [
  { n: 1, alg: 'AES-128-GCM', key: '00000000000000000000000000000000', iv: '000000000000000000000000', pt: '', aad: '', ct: '', tag: '58e2fccefa7e3061367f1d57a4e7455a' },
  { n: 2, alg: 'AES-128-GCM', key: '00000000000000000000000000000000', iv: '000000000000000000000000', pt: '00000000000000000000000000000000', aad: '', ct: '0388dace60b6a392f328c2b971b2fe78', tag: 'ab6e47d42cec13bdf53a67b21257bddf' },
  {
    n: 4, alg: 'AES-128-GCM', key: 'feffe9928665731c6d6a8f9467308308', iv: 'cafebabefacedbaddecaf888',
    pt: 'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39',
    aad: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
    ct: '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091',
    tag: '5bc94fbc3221a5db94fae95ae7121a47',
  },
  { n: 13, alg: 'AES-256-GCM', key: '0000000000000000000000000000000000000000000000000000000000000000', iv: '000000000000000000000000', pt: '', aad: '', ct: '', tag: '530f8afbc74536b9a963b4f1c4cb738b' },
  { n: 14, alg: 'AES-256-GCM', key: '0000000000000000000000000000000000000000000000000000000000000000', iv: '000000000000000000000000', pt: '00000000000000000000000000000000', aad: '', ct: 'cea7403d4d606b6e074ec5d3baf39d18', tag: 'd0d1c8a799996bf0265b98b5d48ab919' },
  {
    n: 16, alg: 'AES-256-GCM', key: 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308', iv: 'cafebabefacedbaddecaf888',
    pt: 'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39',
    aad: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
    ct: '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662',
    tag: '76fc6ece0f4e1768cddf8853bb2d551b',
  },
] as const;

for (const [name, cipher] of CIPHERS) {
  test(`${name}: the GCM specification's test cases 1, 2, 4, 13, 14 and 16, sealed in place and opened`, (t) => {
    for (const c of GCM_CASES) {
      const data = hex(c.pt);
      const ctx = cipher.create(c.alg, hex(c.key));
      const tag = ctx.seal(hex(c.iv), hex(c.aad), data);
      t.is(toHex(data), c.ct, `case ${c.n} ciphertext`);
      t.is(toHex(tag), c.tag, `case ${c.n} tag`);
      t.true(ctx.open(hex(c.iv), hex(c.aad), data, hex(c.tag)));
      t.is(toHex(data), c.pt, `case ${c.n} opened`);
      ctx.close();
    }
  });

  test(`${name}: a failed open returns false and leaves the bytes as they were; bad arguments get their codes`, (t) => {
    const key = randomBytes(32);
    const ctx = cipher.create('AES-256-GCM', key);
    const nonce = randomBytes(12);
    const data = Uint8Array.from(randomBytes(100));
    const tag = new Uint8Array(ctx.seal(nonce, new Uint8Array(3), data));
    const sealed = toHex(data);
    const badTag = tag.slice();
    badTag[15] ^= 1;
    t.false(ctx.open(nonce, new Uint8Array(3), data, badTag));
    t.is(toHex(data), sealed);
    t.false(ctx.open(nonce, new Uint8Array(4), data, tag), 'other additional data');
    t.false(cipher.create('AES-256-GCM', randomBytes(32)).open(nonce, new Uint8Array(3), data, tag), 'another key');
    t.is(toHex(data), sealed);
    t.is(code(t.throws(() => ctx.seal(randomBytes(16), new Uint8Array(0), data))), 'E_CIPHER_NONCE');
    t.is(code(t.throws(() => ctx.open(nonce, new Uint8Array(0), data, tag.subarray(0, 8)))), 'E_CIPHER_TAG');
    t.is(code(t.throws(() => cipher.create('AES-256-GCM', randomBytes(16)))), 'E_CIPHER_KEY');
    t.is(code(t.throws(() => cipher.create('AES-128-GCM', randomBytes(32)))), 'E_CIPHER_KEY');
    t.is(code(t.throws(() => cipher.create('AES-192-GCM' as AeadAlgorithm, randomBytes(24)))), 'E_CIPHER_ALGORITHM');
    t.true(ctx.open(nonce, new Uint8Array(3), data, tag));
    ctx.close();
    t.is(code(t.throws(() => ctx.seal(nonce, new Uint8Array(0), data))), 'E_CIPHER_CLOSED');
    t.is(key.length, 32);
    t.not(toHex(key), '00'.repeat(32), "close() forgets the context's copy, never the caller's key");
  });

  test(`${name}: sealTwo seals two chunks exactly as two seal() calls, the tags side by side; wrong nonce or tag room refused before anything is sealed`, (t) => {
    const key = randomBytes(32);
    const ctx = cipher.create('AES-256-GCM', key);
    const nonces = Uint8Array.from(randomBytes(24));
    const aad = Uint8Array.from(randomBytes(12));
    const a = Uint8Array.from(randomBytes(48));
    const room = new Uint8Array(1003);
    const b = room.subarray(3); // a view, as a frame's body inside the camera's buffer can be
    b.set(randomBytes(1000));
    const [wantA, wantB] = [a.slice(), b.slice()];
    const tagA = toHex(nodeCipher.create('AES-256-GCM', key).seal(nonces.subarray(0, 12), aad, wantA));
    const tagB = toHex(nodeCipher.create('AES-256-GCM', key).seal(nonces.subarray(12), aad, wantB));
    const tags = new Uint8Array(40).fill(0xee);
    const before = [toHex(a), toHex(b)];
    t.is(code(t.throws(() => ctx.sealTwo(nonces.subarray(0, 12), aad, a, b, tags.subarray(4, 36)))), 'E_CIPHER_NONCE');
    t.is(code(t.throws(() => ctx.sealTwo(nonces, aad, a, b, tags.subarray(4, 20)))), 'E_CIPHER_TAG');
    t.deepEqual([toHex(a), toHex(b), toHex(tags)], [...before, 'ee'.repeat(40)], 'a refused sealTwo changes nothing');
    ctx.sealTwo(nonces, aad, a, b, tags.subarray(4, 36));
    t.is(toHex(a), toHex(wantA));
    t.is(toHex(b), toHex(wantB));
    t.is(toHex(tags), 'ee'.repeat(4) + tagA + tagB + 'ee'.repeat(4), "a's tag, then b's, where they were asked for");
    t.is(toHex(room.subarray(0, 3)), '000000');
  });
}

test('the device adapter gives node:crypto\'s bytes for every length and for views at any offset, both key sizes', (t) => {
  for (const alg of ['AES-128-GCM', 'AES-256-GCM'] as const) {
    const key = randomBytes(alg === 'AES-128-GCM' ? 16 : 32);
    const a = nodeCipher.create(alg, key);
    const b = deviceCipher.create(alg, key);
    for (const n of [0, 1, 15, 16, 17, 31, 32, 33, 255, 1000, 4097]) {
      const nonce = randomBytes(12);
      const aad = randomBytes(n % 37);
      const plain = randomBytes(n);
      const room = new Uint8Array(n + 13);
      const view = room.subarray(5, 5 + n);
      view.set(plain);
      const copy = Uint8Array.from(plain);
      const tagA = a.seal(nonce, aad, copy);
      const tagB = b.seal(nonce, aad.subarray(0), view);
      t.true(Buffer.from(view).equals(copy), `${alg}, ${n} bytes`);
      t.is(toHex(tagB), toHex(tagA));
      t.is(toHex(room.subarray(0, 5)) + toHex(room.subarray(5 + n)), '00'.repeat(13), 'nothing outside the view is touched');
      t.true(b.open(nonce, aad, view, new Uint8Array(tagA)));
      t.true(Buffer.from(view).equals(plain));
    }
  }
});

bothEngines('the Cipher port through the engine: seal in place, the ciphertext in the firmware\'s own bytes, open back; a bad tag refused', async (t, { engine }) => {
  for (const c of GCM_CASES) {
    const [ct, tag] = (await engine.call('crypto.aead.seal', c.alg, hex(c.key), hex(c.iv), hex(c.aad), hex(c.pt))).value as [Uint8Array, Uint8Array];
    t.is(toHex(ct), c.ct, `case ${c.n}`);
    t.is(toHex(tag), c.tag);
    const [ok, pt] = (await engine.call('crypto.aead.open', c.alg, hex(c.key), hex(c.iv), hex(c.aad), ct, tag)).value as [boolean, Uint8Array];
    t.true(ok);
    t.is(toHex(pt), c.pt);
  }
  const c = GCM_CASES[5];
  const bad = hex(c.tag);
  bad[0] ^= 1;
  const [ok, same] = (await engine.call('crypto.aead.open', c.alg, hex(c.key), hex(c.iv), hex(c.aad), hex(c.ct), bad)).value as [boolean, Uint8Array];
  t.false(ok);
  t.is(toHex(same), c.ct, 'refused: the bytes are as they came');
});

// A frame's body sealed in place through the port: in XS the body is the camera's buffer lent
// across the bridge, sealed by the host in its own buffer (the one every later write refers to);
// the firmware's copy, its CRC-32 (answered in the guest from the CRC that came with the frame)
// and the digest of what a record write would store must all be the ciphertext, as on Node.
const FRAME_BYTES = [25 * 1024, 100 * 1024, 777];
function frameSource(width: number, height: number): FrameSource {
  let n = 0;
  return {
    width,
    height,
    frame(index: number): ArrayBuffer {
      const size = FRAME_BYTES[n++ % FRAME_BYTES.length];
      const b = new Uint8Array(size);
      for (let i = 0; i < size; i += 64) b[i] = (index * 31 + i) & 0xff;
      b[0] = 0xff;
      b[1] = 0xd8;
      return b.buffer;
    },
  };
}

const sealedFrames = new Map<string, string[]>();
bothEngines(
  'a lent frame sealed in place: the firmware\'s bytes, their CRC-32 and their SHA-256 are the ciphertext\'s, identical on node and xs',
  async (t, { engine, hw }) => {
    const key = hex('7f'.repeat(32));
    await engine.call('crypto.camera.open', 640, 480, 10);
    await runVirtualTime(hw, engine, 350);
    const [tags, crcs, digests, bodies] = (await engine.call('crypto.camera.frames', key, true, true)).value as [Uint8Array[], number[], Uint8Array[], Uint8Array[]];
    t.is(bodies.length, 3, 'three frames ready (the driver has three buffers)');
    const opener = new StreamOpener(nodeCipher, key);
    bodies.forEach((body, i) => {
      t.is(body.length, FRAME_BYTES[i]);
      t.is(crcs[i], nodeChecksum.crc32(body), `frame ${i}: the CRC-32 is the ciphertext's`);
      t.is(toHex(digests[i]), createHash('sha256').update(body).digest('hex'), `frame ${i}: the digest is the ciphertext's`);
      t.not(body[1], 0xd8, 'no JPEG marker left');
      const plain = body.slice();
      opener.open(i, false, new Uint8Array(0), plain, tags[i]);
      t.is(plain[0], 0xff);
      t.is(plain[1], 0xd8);
    });
    const summary = [...tags, ...digests].map(toHex).concat(crcs.map(String));
    const other = sealedFrames.get(engine.name === 'node' ? 'xs' : 'node');
    if (other) t.deepEqual(summary, other, 'node and xs seal the same frames to the same bytes');
    sealedFrames.set(engine.name, summary);
  },
  { setup: (hw) => void attachCamera(hw, { source: frameSource }) },
);
