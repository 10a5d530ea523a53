// NOT FIRMWARE: the Ed25519 the camera signed with before issue 18, kept only as the bench's
// other candidate (bench/sections/ed25519.ts measures it beside @noble/curves, which replaced it
// in firmware/signing/ed25519-noble.ts because it signs 6x and verifies 3.4x faster on the
// device). Nothing in firmware/ imports this folder.
//
// The fast Ed25519 (RFC 8032, byte-identical to tweetnacl). Where the speed comes from, measured in XS (see the bench
// section "ed25519"): field arithmetic on 15 x 17-bit limbs, fully unrolled and allocation-free
// (field-mul.ts); a fixed-base table of 256 precomputed points (base-table.ts), so R = rB is 64
// mixed additions and 4 doublings instead of tweetnacl's 256-step ladder of 512 additions; and
// SHA-512 through the Digest port, native on a device. signSteps() makes the same signature in
// slices (the recorder signs a closed segment between camera frames).
//
// Constant time where secrets are involved (the seed, the clamped scalar a, the nonce r, S):
// the base table is read by scanning every entry under a mask (point.ts selectBase), scalar
// recoding and reduction have no value-dependent branch or index (point.ts recode, scalar.ts),
// and field arithmetic has none either. Verification handles public data only and is variable
// time. It is strict like libsodium's crypto_sign_verify_detached: S < L, R and A not of small
// order, A canonical, and the recomputed R compared byte for byte (cofactorless).

import { BodycamError } from '../../../firmware/errors.js';
import type { Digest } from '../../../firmware/platform/digest.js';
import type { Ed25519, Ed25519KeyPair, SignSteps } from '../../../firmware/signing/ed25519-interface.js';
import { strictPrecheck } from '../../../firmware/signing/ed25519.js';
import { BaseMultSteps, decodeNegate, doubleScalarMult, encode, p3, scalarMultBase, type P3 } from './point.js';
import { mulAdd, reduce } from './scalar.js';

export interface FastEd25519Options {
  /** SHA-512 comes from here: the native `crypt` Digest on a device, softDigest on a host. */
  digest: Digest;
}

/** R = rB's additions per signing slice (64 in all). */
const ADDITIONS_PER_STEP = 8;

function checkLength(v: unknown, length: number, what: string): void {
  if (!(v instanceof Uint8Array) || v.length !== length) {
    throw new BodycamError('E_ED25519_LENGTH', `${what} must be ${length} bytes (got ${v instanceof Uint8Array ? v.length : typeof v})`);
  }
}

export class FastEd25519 implements Ed25519 {
  readonly name = 'fast';
  #digest: Digest;
  // Reused buffers (keys, verification); a signature's scratch is its own (signSteps).
  #a = new Uint8Array(32);
  #k = new Uint8Array(32);
  #point = p3();
  #check = new Uint8Array(32);

  constructor(options: FastEd25519Options) {
    this.#digest = options.digest;
  }

  #sha512(...parts: Uint8Array[]): Uint8Array {
    const ctx = this.#digest.create('SHA512');
    for (const p of parts) ctx.write(p);
    return new Uint8Array(ctx.close());
  }

  /** The clamped scalar a (into #a) and the 32-byte nonce prefix of a seed. */
  #expand(seed: Uint8Array): Uint8Array {
    const h = this.#sha512(seed);
    for (let i = 0; i < 32; i++) this.#a[i] = h[i];
    this.#a[0] &= 248;
    this.#a[31] &= 127;
    this.#a[31] |= 64;
    return h.subarray(32);
  }

  keyPairFromSeed(seed: Uint8Array): Ed25519KeyPair {
    checkLength(seed, 32, 'an Ed25519 seed');
    this.#expand(seed);
    const publicKey = new Uint8Array(32);
    scalarMultBase(this.#point, this.#a);
    encode(publicKey, this.#point);
    this.#a.fill(0);
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

  /**
   * sign() in 10 slices: 8 of R = rB's 64 additions each, R's encoding (its inversion), then S —
   * after the two SHA-512 of the nonce, made here. The scratch (a, r, the point) is
   * the job's own, zeroed when it ends, so a verify may run between slices.
   */
  signSteps(message: Uint8Array, secretKey: Uint8Array): SignSteps {
    checkLength(secretKey, 64, 'an Ed25519 secret key (seed || public key)');
    if (!(message instanceof Uint8Array)) throw new BodycamError('E_ED25519_MESSAGE', 'the message to sign must be a Uint8Array');
    const a = new Uint8Array(32);
    const r = new Uint8Array(32);
    const h = this.#sha512(secretKey.subarray(0, 32));
    for (let i = 0; i < 32; i++) a[i] = h[i];
    a[0] &= 248;
    a[31] &= 127;
    a[31] |= 64;
    const prefix = h.subarray(32);
    reduce(r, this.#sha512(prefix, message)); // r: secret nonce
    h.fill(0);
    const publicKey = secretKey.subarray(32);
    const point: P3 = p3();
    const mult = new BaseMultSteps(point, r);
    const signature = new Uint8Array(64);
    let done = false;
    let multiplied = false;
    let encoded = false;
    return {
      step: (): boolean => {
        if (done) return true;
        if (!multiplied) {
          multiplied = mult.step(ADDITIONS_PER_STEP);
          return false;
        }
        if (!encoded) {
          encode(signature, point); // R
          encoded = true;
          return false;
        }
        const k = new Uint8Array(32);
        reduce(k, this.#sha512(signature.subarray(0, 32), publicKey, message));
        mulAdd(signature.subarray(32), k, a, r); // S = r + k a mod L
        a.fill(0);
        r.fill(0);
        mult.wipe();
        done = true;
        return true;
      },
      signature: (): Uint8Array => {
        if (!done) throw new BodycamError('E_ED25519_STEPS', 'the signature is not finished: step() until it returns true');
        return signature;
      },
    };
  }

  verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
    if (!(message instanceof Uint8Array) || !(signature instanceof Uint8Array) || !(publicKey instanceof Uint8Array)) return false;
    // S < L, R and A not of small order, A canonical: the reference's checks, shared.
    if (!strictPrecheck(signature, publicKey)) return false;
    const minusA = p3();
    if (!decodeNegate(minusA, publicKey)) return false;
    reduce(this.#k, this.#sha512(signature.subarray(0, 32), publicKey, message));
    doubleScalarMult(this.#point, this.#k, minusA, signature.subarray(32));
    encode(this.#check, this.#point);
    let diff = 0;
    for (let i = 0; i < 32; i++) diff |= this.#check[i] ^ signature[i];
    return diff === 0;
  }
}
