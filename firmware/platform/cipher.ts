// Cipher port: an AEAD over bytes that stay where they are, shaped on what Moddable's `crypt`
// offers natively (modules/crypt/digest/modCrypt.c: BlockCipher("AES") with Mode("CTR") and
// GHASH, the parts of crypt/etc/gcm.js — software AES in SDK 8.2.3; StreamCipher("ChaCha") with
// the firmware's Poly1305 in C for ChaCha20-Poly1305, RFC 8439), and on a host on node:crypto
// (AES-GCM) and libsodium (ChaCha20-Poly1305, host/ports.ts). Media bytes are sealed only
// through this port, so no JavaScript loop touches every byte of a frame: the firmware's cost per
// record is independent of the record's size.
//
// Sealing works in place with a detached tag, as a record is written: `data` is replaced by its
// ciphertext and the 16-byte tag is returned. Opening checks the tag first and decrypts in place
// only if it holds; otherwise `data` is left as it was and open() returns false.

import { BodycamError } from '../errors.js';
import { toBytes, type BufferLike } from './buffers.js';

export type AeadAlgorithm = 'AES-128-GCM' | 'AES-256-GCM' | 'CHACHA20-POLY1305';

/** Bytes of every AEAD nonce the port takes (GCM's 96-bit IV; RFC 8439's 96-bit nonce). */
export const AEAD_NONCE_BYTES = 12;
/** Bytes of every tag the port returns. */
export const AEAD_TAG_BYTES = 16;

export interface AeadContext {
  /** Encrypts `data` in place under `nonce` (12 bytes) and `aad`; returns the 16-byte tag. */
  seal(nonce: BufferLike, aad: BufferLike, data: BufferLike): ArrayBuffer;
  /**
   * Seals two chunks in one call, exactly as seal(nonces[0..12], aad, a) then seal(nonces[12..24],
   * aad, b) would: `a` and `b` in place, their tags written into `tags` (32 bytes: a's, then b's).
   * A sealed record's header and body (two STREAM chunks) for the cost of one port call.
   */
  sealTwo(nonces: BufferLike, aad: BufferLike, a: BufferLike, b: BufferLike, tags: BufferLike): void;
  /** Checks `tag` over `aad` and `data`; if it holds, decrypts `data` in place and returns true. */
  open(nonce: BufferLike, aad: BufferLike, data: BufferLike, tag: BufferLike): boolean;
  /** Forgets the key (zeroes what the implementation holds); the context can't be used after. */
  close(): void;
}

export interface Cipher {
  /** An AEAD context under `key` (16 bytes for AES-128-GCM, 32 for AES-256-GCM and CHACHA20-POLY1305). */
  create(algorithm: AeadAlgorithm, key: BufferLike): AeadContext;
}

/**
 * The key length of `algorithm`, after checking the arguments every implementation of the port
 * refuses alike: an unknown algorithm (E_CIPHER_ALGORITHM) or a key of the wrong length
 * (E_CIPHER_KEY). Implementations call it in create().
 */
export function aeadKeyBytes(algorithm: AeadAlgorithm, key: BufferLike): number {
  const n = algorithm === 'AES-128-GCM' ? 16 : algorithm === 'AES-256-GCM' || algorithm === 'CHACHA20-POLY1305' ? 32 : 0;
  if (n === 0) throw new BodycamError('E_CIPHER_ALGORITHM', `no AEAD ${String(algorithm)}: the Cipher port offers AES-128-GCM, AES-256-GCM and CHACHA20-POLY1305`);
  if (key.byteLength !== n) throw new BodycamError('E_CIPHER_KEY', `an ${algorithm} key is ${n} bytes, not ${key.byteLength}`);
  return n;
}

/** Checks a seal's or open's nonce (12 bytes: E_CIPHER_NONCE) and tag (16 bytes: E_CIPHER_TAG), as every implementation does. */
export function checkAeadArguments(nonce: BufferLike, tag?: BufferLike): void {
  if (nonce.byteLength !== AEAD_NONCE_BYTES) throw new BodycamError('E_CIPHER_NONCE', `an AEAD nonce is ${AEAD_NONCE_BYTES} bytes, not ${nonce.byteLength}`);
  if (tag !== undefined && tag.byteLength !== AEAD_TAG_BYTES) throw new BodycamError('E_CIPHER_TAG', `an AEAD tag is ${AEAD_TAG_BYTES} bytes, not ${tag.byteLength}`);
}

/**
 * sealTwo() by two seal() calls, as every implementation but a bridge does it: the arguments
 * checked first (E_CIPHER_NONCE: `nonces` is not 24 bytes; E_CIPHER_TAG: `tags` is not 32), so
 * nothing is sealed when either would be refused.
 */
export function sealTwoBySeal(ctx: AeadContext, nonces: BufferLike, aad: BufferLike, a: BufferLike, b: BufferLike, tags: BufferLike): void {
  if (nonces.byteLength !== 2 * AEAD_NONCE_BYTES) throw new BodycamError('E_CIPHER_NONCE', `sealTwo takes two ${AEAD_NONCE_BYTES}-byte nonces (${2 * AEAD_NONCE_BYTES} bytes), not ${nonces.byteLength} bytes`);
  if (tags.byteLength !== 2 * AEAD_TAG_BYTES) throw new BodycamError('E_CIPHER_TAG', `sealTwo writes two ${AEAD_TAG_BYTES}-byte tags (${2 * AEAD_TAG_BYTES} bytes), not ${tags.byteLength} bytes`);
  const n = toBytes(nonces);
  const t = toBytes(tags);
  t.set(new Uint8Array(ctx.seal(n.subarray(0, AEAD_NONCE_BYTES), aad, a)), 0);
  t.set(new Uint8Array(ctx.seal(n.subarray(AEAD_NONCE_BYTES), aad, b)), AEAD_TAG_BYTES);
}
