// X25519 (RFC 7748) on the signer's field arithmetic: GF(2^255 - 19) in native BigInt, as
// @noble/curves' edwards25519 does it (ed25519-noble.ts). XS runs BigInt multiply and remainder
// in C, which is why noble beat our float-limb field 4-6x on the device (bench "ed25519").
// The Montgomery ladder is RFC 7748 section 5's, step for step: 255 ladder steps with a masked
// swap, no branch on the scalar (BigInt arithmetic itself is not constant time in any engine).
// Used for the dock session's ephemeral key exchange (firmware/dock/session-keys.ts); checked
// against RFC 7748's vectors and Node's X25519 (test/dock-session-mac.test.ts).
//
// Not noble's abstract/montgomery.js: that module imports noble's utils and modular modules,
// which can't be preloaded (toolchain/module-graph.ts NOT_PRELOADED), and the dock session
// that calls this is preloaded. Only BigInt constants live at module level (no buffers).

import { BodycamError } from '../errors.js';

const P = BigInt('0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed');
const A24 = 121665n;
/** Steps of one ladder (bits 254 down to 0 of the clamped scalar). */
export const X25519_LADDER_STEPS = 255;

function decodeLE(b: Uint8Array): bigint {
  let n = 0n;
  for (let i = 31; i >= 0; i--) n = (n << 8n) | BigInt(b[i]);
  return n;
}

function encodeLE(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(n & 255n);
    n >>= 8n;
  }
  return out;
}

/** a^(p-2) mod p: 1/a (0 for 0). */
function invert(a: bigint): bigint {
  let result = 1n, base = a % P, e = P - 2n;
  while (e > 0n) {
    if (e & 1n) result = (result * base) % P;
    base = (base * base) % P;
    e >>= 1n;
  }
  return result;
}

/**
 * X25519(k, u) a few ladder steps at a time (the recorder prepares the next segment's key wrap in
 * timer slices between frames): step(n) runs up to n of the 255 steps and says whether the ladder
 * is done; result() then gives the 32-byte output and forgets the scalar. x25519() is this run to
 * the end, so both are RFC 7748's ladder and checked by the same vectors.
 */
export class X25519Ladder {
  #k: Uint8Array;
  #x1: bigint;
  #x2 = 1n;
  #z2 = 0n;
  #x3: bigint;
  #z3 = 1n;
  #swap = 0n;
  #t = 254;

  /** 32-byte scalar (clamped here, copied) and 32-byte u-coordinate (bit 255 ignored). */
  constructor(scalar: Uint8Array, u: Uint8Array) {
    const k = (this.#k = new Uint8Array(scalar.subarray(0, 32))); // a copy (a Buffer's slice would share)
    k[0] &= 248;
    k[31] &= 127;
    k[31] |= 64;
    const uBytes = new Uint8Array(u.subarray(0, 32));
    uBytes[31] &= 127;
    this.#x1 = decodeLE(uBytes) % P;
    this.#x3 = this.#x1;
  }

  /** Run up to `n` ladder steps; true when all 255 are done. */
  step(n: number): boolean {
    const k = this.#k;
    const x1 = this.#x1;
    let x2 = this.#x2, z2 = this.#z2, x3 = this.#x3, z3 = this.#z3, swap = this.#swap;
    let t = this.#t;
    for (const stop = Math.max(-1, t - n); t > stop; t--) {
      const bit = BigInt((k[t >>> 3] >>> (t & 7)) & 1);
      swap ^= bit;
      const mask = -swap; // all ones (-1n) or 0n
      let d = mask & (x2 ^ x3);
      x2 ^= d;
      x3 ^= d;
      d = mask & (z2 ^ z3);
      z2 ^= d;
      z3 ^= d;
      swap = bit;
      const a = x2 + z2;
      const aa = (a * a) % P;
      const b = x2 - z2 + P;
      const bb = (b * b) % P;
      const e = aa - bb + P;
      const c = x3 + z3;
      const dd = x3 - z3 + P;
      const da = (dd * a) % P;
      const cb = (c * b) % P;
      const s = da + cb;
      x3 = (s * s) % P;
      const m = da - cb + P;
      z3 = (x1 * ((m * m) % P)) % P;
      x2 = (aa * bb) % P;
      z2 = (e * ((aa + A24 * e) % P)) % P;
    }
    this.#x2 = x2;
    this.#z2 = z2;
    this.#x3 = x3;
    this.#z3 = z3;
    this.#swap = swap;
    this.#t = t;
    return t < 0;
  }

  /** The output, once step() said done (E_ARGUMENT before); the scalar copy is zeroed. */
  result(): Uint8Array {
    if (this.#t >= 0) throw new BodycamError('E_ARGUMENT', `the X25519 ladder has ${this.#t + 1} steps left`);
    const mask = -this.#swap;
    const x2 = this.#x2 ^ (mask & (this.#x2 ^ this.#x3));
    const z2 = this.#z2 ^ (mask & (this.#z2 ^ this.#z3));
    this.#k.fill(0);
    return encodeLE((x2 * invert(z2)) % P);
  }

  /** Forget the scalar without finishing. */
  close(): void {
    this.#k.fill(0);
    this.#x2 = this.#z2 = this.#x3 = this.#z3 = 0n;
  }
}

/** X25519(k, u): 32-byte scalar (clamped here) and 32-byte u-coordinate (bit 255 ignored). */
export function x25519(scalar: Uint8Array, u: Uint8Array): Uint8Array {
  const ladder = new X25519Ladder(scalar, u);
  ladder.step(X25519_LADDER_STEPS);
  return ladder.result();
}

/** The base point u = 9, made per call (a preloaded module's load-time buffers are read-only). */
function basePoint(): Uint8Array {
  const b = new Uint8Array(32);
  b[0] = 9;
  return b;
}

/** The public key of a 32-byte X25519 secret. */
export function x25519Public(secret: Uint8Array): Uint8Array {
  return x25519(secret, basePoint());
}
