// Ed25519 on @noble/curves' edwards25519 (abstract/edwards.js: the group law, constant-time
// fixed-base multiplication with a lazily built wNAF table), with SHA-512 through the Digest port
// (native on a device) and scalars mod L in BigInt. Byte-identical to tweetnacl (RFC 8032 is
// deterministic). Verification is libsodium's, like the others': the shared strictPrecheck, then
// the cofactorless equation comparing the encoding of [S]B - [k]A with R byte for byte (noble's
// own verify is cofactored, which accepts signatures libsodium rejects).
//
// Only abstract/edwards.js is imported, not @noble/curves/ed25519.js: that one imports
// @noble/hashes' SHA-512 (module-level working buffers) and a dozen modules the camera never uses.
// The curve constants and the square root below are noble's ed25519.ts (MIT, Paul Miller).

import { edwards, type EdwardsPoint, type EdwardsPointCons } from '@noble/curves/abstract/edwards.js';
import { isNegativeLE, mod, pow2 } from '@noble/curves/abstract/modular.js';
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js';
import type { Digest } from '../platform/digest.js';
import { BodycamError } from '../errors.js';
import type { Ed25519, Ed25519KeyPair, SignSteps } from './ed25519-interface.js';
import { strictPrecheck } from './ed25519.js';

const P = BigInt('0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed');
const L = BigInt('0x1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed');
const SQRT_M1 = BigInt('19681161376707505956807079304988542015446066515923890162744021073123829784752');

/** x^((p-5)/8) (noble's ed25519_pow_2_252_3). */
function pow2523(x: bigint): bigint {
  const x2 = (x * x) % P;
  const b2 = (x2 * x) % P;
  const b4 = (pow2(b2, 2n, P) * b2) % P;
  const b5 = (pow2(b4, 1n, P) * x) % P;
  const b10 = (pow2(b5, 5n, P) * b5) % P;
  const b20 = (pow2(b10, 10n, P) * b10) % P;
  const b40 = (pow2(b20, 20n, P) * b20) % P;
  const b80 = (pow2(b40, 40n, P) * b40) % P;
  const b160 = (pow2(b80, 80n, P) * b80) % P;
  const b240 = (pow2(b160, 80n, P) * b80) % P;
  const b250 = (pow2(b240, 10n, P) * b10) % P;
  return (pow2(b250, 2n, P) * x) % P;
}

/** sqrt(u/v) for point decoding (noble's uvRatio). */
function uvRatio(u: bigint, v: bigint): { isValid: boolean; value: bigint } {
  const v3 = mod(v * v * v, P);
  const v7 = mod(v3 * v3 * v, P);
  let x = mod(u * v3 * pow2523(u * v7), P);
  const vx2 = mod(v * x * x, P);
  const root2 = mod(x * SQRT_M1, P);
  const useRoot1 = vx2 === u;
  const useRoot2 = vx2 === mod(-u, P);
  const noRoot = vx2 === mod(-u * SQRT_M1, P);
  if (useRoot2 || noRoot) x = root2;
  if (isNegativeLE(x, P)) x = mod(-x, P);
  return { isValid: useRoot1 || useRoot2, value: x };
}

/**
 * Window of the fixed-base table: 2^(W-1) points for each of ceil(253 / W) + 1 windows, one
 * addition per window when signing. W = 4: 520 points. noble's default, 6, makes 1,408 points,
 * about 7,000 slots in RAM, which with the firmware's own passes the boards' 8,192-slot heap;
 * measured in XS, a W = 6 signature is 0.31 M units against W = 4's 0.41 M.
 */
export const BASE_WINDOW = 4;

/**
 * edwards25519. Its fixed-base table is built at the first multiplication (the device key pair,
 * at boot) and kept in RAM: noble's modules are not preloaded (toolchain/module-graph.ts
 * NOT_PRELOADED says why).
 */
const Point: EdwardsPointCons = edwards({
  p: P,
  n: L,
  h: 8n,
  a: BigInt('0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffec'),
  d: BigInt('0x52036cee2b6ffe738cc740797779e89800700a4d4141d8ab75eb4dca135978a3'),
  Gx: BigInt('0x216936d3cd6e53fec0a4e231fdd6dc5c692cc7609525a7b2c9562d608f25d51a'),
  Gy: BigInt('0x6666666666666666666666666666666666666666666666666666666666666658'),
}, { uvRatio });
Point.BASE.precompute(BASE_WINDOW);

function checkLength(v: unknown, length: number, what: string): void {
  if (!(v instanceof Uint8Array) || v.length !== length) {
    throw new BodycamError('E_ED25519_LENGTH', `${what} must be ${length} bytes (got ${v instanceof Uint8Array ? v.length : typeof v})`);
  }
}

export interface NobleEd25519Options {
  /** SHA-512 comes from here: the native `crypt` Digest on a device, softDigest on a host. */
  digest: Digest;
}

export class NobleEd25519 implements Ed25519 {
  readonly name = 'noble';
  #digest: Digest;

  constructor(options: NobleEd25519Options) {
    this.#digest = options.digest;
  }

  #sha512(...parts: Uint8Array[]): Uint8Array {
    const ctx = this.#digest.create('SHA512');
    for (const p of parts) ctx.write(p);
    return new Uint8Array(ctx.close());
  }

  /** The 64-byte hash of parts as a scalar mod L. */
  #scalar(...parts: Uint8Array[]): bigint {
    return bytesToNumberLE(this.#sha512(...parts)) % L;
  }

  /** The clamped secret scalar a and the nonce prefix of a seed (RFC 8032 5.1.5). */
  #expand(seed: Uint8Array): { a: bigint; prefix: Uint8Array } {
    const h = this.#sha512(seed);
    h[0] &= 248;
    h[31] &= 127;
    h[31] |= 64;
    const a = bytesToNumberLE(h.subarray(0, 32)) % L;
    const prefix = h.slice(32);
    h.fill(0);
    return { a, prefix };
  }

  keyPairFromSeed(seed: Uint8Array): Ed25519KeyPair {
    checkLength(seed, 32, 'an Ed25519 seed');
    const publicKey = Point.BASE.multiply(this.#expand(seed).a).toBytes();
    const secretKey = new Uint8Array(64);
    secretKey.set(seed);
    secretKey.set(publicKey, 32);
    return { publicKey, secretKey };
  }

  sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
    const steps = this.signSteps(message, secretKey);
    while (!steps.step());
    return steps.signature();
  }

  /** sign() in 3 slices: the nonce, R = rB (noble's multiply: one piece), then S = r + k a. */
  signSteps(message: Uint8Array, secretKey: Uint8Array): SignSteps {
    checkLength(secretKey, 64, 'an Ed25519 secret key (seed || public key)');
    if (!(message instanceof Uint8Array)) throw new BodycamError('E_ED25519_MESSAGE', 'the message to sign must be a Uint8Array');
    const signature = new Uint8Array(64);
    let a = 0n, r = 0n;
    let stage = 0;
    return {
      step: (): boolean => {
        if (stage === 0) {
          const e = this.#expand(secretKey.subarray(0, 32));
          a = e.a;
          r = this.#scalar(e.prefix, message);
          e.prefix.fill(0);
        } else if (stage === 1) {
          signature.set(Point.BASE.multiply(r).toBytes());
        } else if (stage === 2) {
          const k = this.#scalar(signature.subarray(0, 32), secretKey.subarray(32), message);
          signature.set(numberToBytesLE((r + k * a) % L, 32), 32);
          a = 0n;
          r = 0n;
        }
        if (stage < 3) stage++;
        return stage === 3;
      },
      signature: (): Uint8Array => {
        if (stage !== 3) throw new BodycamError('E_ED25519_STEPS', 'the signature is not finished: step() until it returns true');
        return signature;
      },
    };
  }

  verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
    if (!(message instanceof Uint8Array) || !(signature instanceof Uint8Array) || !(publicKey instanceof Uint8Array)) return false;
    if (!strictPrecheck(signature, publicKey)) return false;
    let A: EdwardsPoint;
    try {
      A = Point.fromBytes(publicKey, false);
    } catch {
      return false; // not on the curve
    }
    const k = this.#scalar(signature.subarray(0, 32), publicKey, message);
    const s = bytesToNumberLE(signature.subarray(32));
    const check = Point.BASE.multiplyUnsafe(s).subtract(A.multiplyUnsafe(k)).toBytes();
    let diff = 0;
    for (let i = 0; i < 32; i++) diff |= check[i] ^ signature[i];
    return diff === 0;
  }
}
