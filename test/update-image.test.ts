// The firmware image format (firmware/update/image.ts) byte by byte against MCUboot's layout,
// checked with Node's own crypto (KEYHASH over the DER SubjectPublicKeyInfo, the Ed25519
// signature over the SHA-256), and the one-shot verifier the armoury uses: every kind of damage
// is refused with its code.

import test from 'ava';
import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import { softDigest } from '../firmware/platform/soft-digest.js';
import {
  buildImage, parseHeader, parseVersion, versionText, autoSecurityCounter, verifyImage, MemoryTrust, IMAGE_MAGIC, TLV, TLV_INFO_MAGIC, TLV_PROT_INFO_MAGIC,
} from '../firmware/update/index.js';
import { BOARD, firmwareSigner, payloadOf, signedImage } from '../host-sim/update/fixture.js';

const signer = firmwareSigner();
const trust = () => new MemoryTrust({ keys: [signer.publicKey] });
const payload = payloadOf(5000, 1);
const image = signedImage(payload, { version: '1.2.3+7' });
const le16 = (b: Uint8Array, at: number) => b[at] | (b[at + 1] << 8);
const le32 = (b: Uint8Array, at: number) => (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;

test('header: MCUboot magic, sizes, flags 0 and the version, little-endian', (t) => {
  t.is(le32(image, 0), IMAGE_MAGIC);
  t.is(le32(image, 4), 0, 'load address');
  t.is(le16(image, 8), 32, 'ih_hdr_size');
  t.is(le32(image, 12), payload.length, 'ih_img_size');
  t.is(le32(image, 16), 0, 'flags');
  t.deepEqual([image[20], image[21], le16(image, 22), le32(image, 24)], [1, 2, 3, 7]);
  t.deepEqual(image.subarray(32, 32 + payload.length), payload);
  const h = parseHeader(image);
  t.is(h.protectedTlvSize, le16(image, 10));
  t.is(versionText(h.version), '1.2.3+7');
});

test('protected TLVs: SEC_CNT (imgtool auto value) and the board id 0x00a0; then SHA256, KEYHASH, ED25519', (t) => {
  const h = parseHeader(image);
  let at = 32 + payload.length;
  t.is(le16(image, at), TLV_PROT_INFO_MAGIC);
  t.is(le16(image, at + 2), h.protectedTlvSize);
  t.deepEqual([le16(image, at + 4), le16(image, at + 6), le32(image, at + 8)], [TLV.SEC_CNT, 4, autoSecurityCounter(parseVersion('1.2.3'))]);
  t.is(autoSecurityCounter(parseVersion('1.2.3')), (1 << 24) + (2 << 16) + 3);
  t.deepEqual([le16(image, at + 12), le16(image, at + 14)], [TLV.BOARD, BOARD.length]);
  t.is(Buffer.from(image.subarray(at + 16, at + 16 + BOARD.length)).toString(), BOARD);
  at += h.protectedTlvSize;
  t.is(le16(image, at), TLV_INFO_MAGIC);
  t.is(at + le16(image, at + 2), image.length, 'the TLV area ends the image');
  const types = [];
  for (let p = at + 4; p < image.length; p += 4 + le16(image, p + 2)) types.push([le16(image, p), le16(image, p + 2)]);
  t.deepEqual(types, [[0x10, 32], [0x01, 32], [0x24, 64]]);
});

test('SHA256 covers header, payload and protected TLVs; KEYHASH is SHA-256 of the DER key; Ed25519 signs the digest (Node crypto agrees)', (t) => {
  const h = parseHeader(image);
  const tlvAt = 32 + payload.length + h.protectedTlvSize;
  const digest = createHash('sha256').update(image.subarray(0, tlvAt)).digest();
  t.deepEqual(Buffer.from(image.subarray(tlvAt + 8, tlvAt + 40)), digest);
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(signer.publicKey).toString('base64url') }, format: 'jwk' });
  const der = key.export({ format: 'der', type: 'spki' });
  t.deepEqual(Buffer.from(image.subarray(tlvAt + 44, tlvAt + 76)), createHash('sha256').update(der).digest());
  const signature = image.subarray(tlvAt + 80, tlvAt + 144);
  t.true(nodeVerify(null, digest, key, signature), 'signature over the 32-byte SHA-256, as imgtool sign_digest');
  t.false(nodeVerify(null, image.subarray(0, tlvAt), key, signature), 'not over the image itself');
});

test('verifyImage accepts a good image and reports it', (t) => {
  const r = verifyImage(image, { trust: trust(), digest: softDigest });
  t.is(r.code, 'OK', r.message);
  t.like(r.image, { version: '1.2.3+7', board: BOARD, payloadLength: payload.length, securityCounter: autoSecurityCounter(parseVersion('1.2.3')) });
});

function flip(at: number): Uint8Array {
  const b = image.slice();
  b[at] ^= 0x01;
  return b;
}

test('every damaged region is refused with its code', (t) => {
  const h = parseHeader(image);
  const prot = 32 + payload.length;
  const tlvAt = prot + h.protectedTlvSize;
  const code = (b: Uint8Array, board?: string) => verifyImage(b, { trust: trust(), digest: softDigest, board }).code;
  t.is(code(flip(0)), 'E_FW_FORMAT', 'magic');
  t.is(code(flip(20)), 'E_FW_HASH', 'version byte');
  t.is(code(flip(30)), 'E_FW_HASH', 'header padding');
  t.is(code(flip(32 + 1234)), 'E_FW_HASH', 'payload');
  t.is(code(flip(prot + 8)), 'E_FW_HASH', 'security counter value');
  t.is(code(flip(prot + 20)), 'E_FW_HASH', 'board name byte');
  t.is(code(flip(prot + 4)), 'E_FW_FORMAT', 'protected TLV type');
  t.is(code(flip(tlvAt)), 'E_FW_FORMAT', 'TLV info magic');
  t.is(code(flip(tlvAt + 10)), 'E_FW_HASH', 'SHA256 TLV value');
  t.is(code(flip(tlvAt + 50)), 'E_FW_KEY', 'KEYHASH TLV value');
  t.is(code(flip(tlvAt + 100)), 'E_FW_SIGNATURE', 'signature');
  t.is(code(flip(tlvAt + 4)), 'E_FW_FORMAT', 'SHA256 TLV type');
  t.is(code(image.subarray(0, image.length - 1)), 'E_FW_TRUNCATED', 'last byte missing');
  t.is(code(image.subarray(0, 32 + 100)), 'E_FW_TRUNCATED', 'cut in the payload');
  t.is(code(image.subarray(0, 10)), 'E_FW_FORMAT', 'not even a header');
  t.is(code(signedImage(payload, { signer: firmwareSigner(7) })), 'E_FW_KEY', 'another key');
  t.is(code(image, 'another-board'), 'E_FW_BOARD');
  t.is(verifyImage(image, { trust: new MemoryTrust({ keys: [signer.publicKey], counter: 0x02000000 }), digest: softDigest }).code, 'E_FW_ROLLBACK');
  t.is(verifyImage(image, { trust: new MemoryTrust({ keys: [] }), digest: softDigest }).code, 'E_FW_NO_KEY');
});

test('a byte flip anywhere in a small image is refused (exhaustive)', (t) => {
  const small = signedImage(payloadOf(64, 3));
  const codes = new Set<string>();
  for (let i = 0; i < small.length; i++) {
    for (const bit of [0x01, 0x80]) {
      const b = small.slice();
      b[i] ^= bit;
      const r = verifyImage(b, { trust: trust(), digest: softDigest, board: BOARD });
      if (r.code === 'OK') t.fail(`flip 0x${bit.toString(16)} at byte ${i} was accepted`);
      codes.add(r.code);
    }
  }
  t.true(codes.has('E_FW_HASH') && codes.has('E_FW_SIGNATURE') && codes.has('E_FW_KEY') && codes.has('E_FW_FORMAT'), [...codes].join());
});

test('the image builder refuses versions and boards it cannot encode', (t) => {
  t.throws(() => parseVersion('1.2'), { message: /E_USAGE/ });
  t.throws(() => parseVersion('256.0.0'), { message: /E_USAGE/ });
  t.throws(() => buildImage({ payload, version: parseVersion('1.0.0'), board: '', signer, digest: softDigest }), { message: /E_USAGE/ });
  t.throws(() => buildImage({ payload: new Uint8Array(0), version: parseVersion('1.0.0'), board: BOARD, signer, digest: softDigest }), { message: /E_USAGE/ });
});
