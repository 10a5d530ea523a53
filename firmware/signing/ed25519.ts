// The reference Ed25519 of the firmware: TweetNaCl (tweetnacl.ts) with strict verification.
//
// Promises:
// - keyPairFromSeed and sign are tweetnacl's, byte for byte (RFC 8032, deterministic);
// - verify accepts exactly what libsodium's crypto_sign_verify_detached accepts: S < L
//   (canonical), R and A not of small order (libsodium's list of encodings, sign bit ignored),
//   A a canonical encoding (y < p), A on the curve, and the cofactorless equation comparing the
//   encoding of [S]B - [h]A with R (so a non-canonical R never matches). tweetnacl alone skips
//   the first three; ed25519-speccheck cases 0-2, 6, 7 and 11 are what they catch.
// - The strict pre-checks are exported (`strictPrecheck`) so every implementation (the camera's,
//   ed25519-noble.ts) makes the very same decisions.
//
// Every signing API takes its implementation explicitly (`options.ed25519`); without one it uses
// this TweetNaCl. No module-level choice: a preloaded module's state is in flash on the camera,
// so firmware/main.ts hands the camera's (NobleEd25519) to everything it builds; the recorder,
// provisioning and firmware updates require one.

import type { Ed25519, Ed25519KeyPair } from './ed25519-interface.js';
import { BodycamError } from '../errors.js';
import { naclKeyPairFromSeed, naclSign, naclVerify } from './tweetnacl.js';

export type { Ed25519, Ed25519KeyPair } from './ed25519-interface.js';

/** The group order L, little-endian. */
const L = Uint8Array.of(
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
);

/** libsodium's ge25519_has_small_order list: every encoding of a point of order 1, 2, 4 or 8 (bit 255 ignored). */
const SMALL_ORDER: readonly Uint8Array[] = Object.freeze([
  // 0 (order 4)
  new Uint8Array(32),
  // 1 (order 1)
  Uint8Array.of(1, ...new Array<number>(31).fill(0)),
  // order 8
  Uint8Array.of(0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05),
  // order 8
  Uint8Array.of(0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a),
  // p - 1 (order 2)
  Uint8Array.of(0xec, ...new Array<number>(30).fill(0xff), 0x7f),
  // p (= 0, order 4)
  Uint8Array.of(0xed, ...new Array<number>(30).fill(0xff), 0x7f),
  // p + 1 (= 1, order 1)
  Uint8Array.of(0xee, ...new Array<number>(30).fill(0xff), 0x7f),
]);

/** S < L, reading 32 bytes little-endian (RFC 8032 §5.1.7 step 1). */
export function isCanonicalScalar(s: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    if (s[i] < L[i]) return true;
    if (s[i] > L[i]) return false;
  }
  return false; // S == L
}

/** The encoding is one of the small-order points (libsodium's check, bit 255 ignored). */
export function hasSmallOrder(p: Uint8Array): boolean {
  return SMALL_ORDER.some((b) => {
    for (let i = 0; i < 31; i++) if (p[i] !== b[i]) return false;
    return (p[31] & 0x7f) === b[31];
  });
}

/** The y coordinate is below p = 2^255 - 19 (libsodium's ge25519_is_canonical). */
export function isCanonicalPoint(p: Uint8Array): boolean {
  if ((p[31] & 0x7f) !== 0x7f) return true;
  for (let i = 30; i > 0; i--) if (p[i] !== 0xff) return true;
  return p[0] < 0xed;
}

/** The checks libsodium makes before the curve equation; false means reject. */
export function strictPrecheck(signature: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  if (!isCanonicalScalar(signature.subarray(32, 64))) return false;
  if (hasSmallOrder(signature.subarray(0, 32))) return false;
  if (!isCanonicalPoint(publicKey) || hasSmallOrder(publicKey)) return false;
  return true;
}

function checkLength(b: Uint8Array, n: number, what: string): void {
  if (!(b instanceof Uint8Array) || b.length !== n) throw new BodycamError('E_ED25519_LENGTH', `${what} must be ${n} bytes`);
}

/** TweetNaCl with libsodium's strict verification. */
export class TweetEd25519 implements Ed25519 {
  readonly name = 'tweetnacl';
  keyPairFromSeed(seed: Uint8Array): Ed25519KeyPair {
    checkLength(seed, 32, 'an Ed25519 seed');
    return naclKeyPairFromSeed(seed);
  }
  sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
    checkLength(secretKey, 64, 'an Ed25519 secret key (seed || public key)');
    return naclSign(message, secretKey);
  }
  verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
    if (!(signature instanceof Uint8Array) || !(publicKey instanceof Uint8Array)) return false;
    return strictPrecheck(signature, publicKey) && naclVerify(message, signature, publicKey);
  }
}

export const tweetEd25519: Ed25519 = Object.freeze(new TweetEd25519());

/** The implementation signing code uses when none is passed in: TweetNaCl with strict verification. */
export function defaultEd25519(): Ed25519 {
  return tweetEd25519;
}
