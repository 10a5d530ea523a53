// HMAC-SHA256 (RFC 2104) and HKDF-SHA256 (RFC 5869) through the Digest port (native SHA-256 on a
// device): no loop over the bytes hashed. Used by the dock session's keys (firmware/dock/
// session-keys.ts) and by HPKE (hpke.ts).
//
// firmware/crypto/ holds the firmware's crypto constructions over the ports (Digest, Cipher) and
// the signer's field arithmetic (firmware/signing/x25519.ts). It may import firmware/errors.ts,
// firmware/platform/ and firmware/signing/x25519.ts, nothing else. Preloaded on a camera: no
// module here makes a buffer at load time (labels are made when they are used).

import { BodycamError } from '../errors.js';
import type { Digest } from '../platform/digest.js';

const BLOCK = 64;
/** Bytes of an HMAC-SHA256 output (HKDF-SHA256's hash length). */
export const HASH_BYTES = 32;

/** HMAC-SHA256 (RFC 2104) through the Digest port, over the concatenation of `parts`. */
export function hmacSha256(digest: Digest, key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  let k = key;
  if (k.length > BLOCK) {
    const c = digest.create('SHA256');
    c.write(k);
    k = new Uint8Array(c.close());
  }
  const pad = new Uint8Array(BLOCK);
  pad.set(k);
  for (let i = 0; i < BLOCK; i++) pad[i] ^= 0x36;
  const inner = digest.create('SHA256');
  inner.write(pad);
  for (const p of parts) inner.write(p);
  const ih = new Uint8Array(inner.close());
  for (let i = 0; i < BLOCK; i++) pad[i] ^= 0x36 ^ 0x5c;
  const outer = digest.create('SHA256');
  outer.write(pad);
  outer.write(ih);
  pad.fill(0);
  return new Uint8Array(outer.close());
}

/**
 * HKDF-Extract (RFC 5869 §2.2): PRK = HMAC-SHA256(salt, IKM). An empty salt is HashLen zero bytes,
 * which HMAC's zero padding of the key makes the same thing.
 */
export function hkdfExtract(digest: Digest, salt: Uint8Array, ikm: Uint8Array): Uint8Array {
  return hmacSha256(digest, salt, ikm);
}

/** HKDF-Expand (RFC 5869 §2.3): `length` bytes (at most 255 · 32) of OKM from `prk` and `info`. */
export function hkdfExpand(digest: Digest, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > 255 * HASH_BYTES) {
    throw new BodycamError('E_ARGUMENT', `HKDF-SHA256 expands to at most ${255 * HASH_BYTES} bytes, not ${length}`);
  }
  const out = new Uint8Array(length);
  const counter = new Uint8Array(1);
  let t: Uint8Array = new Uint8Array(0);
  for (let at = 0, i = 1; at < length; i++) {
    counter[0] = i;
    t = hmacSha256(digest, prk, t, info, counter);
    const n = Math.min(HASH_BYTES, length - at);
    out.set(n === HASH_BYTES ? t : t.subarray(0, n), at);
    at += n;
  }
  t.fill(0);
  return out;
}
