// GF(2^255 - 19) for the fast Ed25519: an element is a Float64Array of 15 signed limbs of 17 bits
// (value = sum of limb[i] * 2^(17 i), limbs may be negative and a little over 2^17 between
// reductions). Why this shape: XS has no 64-bit integers, so products must stay exact in a
// double (< 2^53); 17-bit limbs leave 4 bits of headroom after the x19 fold, and 15 x 17 = 255
// makes the fold a plain multiply by 19. Measured in XS: multiply ~1.5 k compute units against
// tweetnacl's ~3.4 k (16 limbs, `+=` per product). 10 limbs of 25.5 bits (ref10) would need
// 2^60 column sums: not exact in doubles.
//
// Everything here is constant time (no branch or index depends on a value) except `isZero`
// and `equal`, which verification uses on public values only.
//
// No working buffer lives at module level: the camera preloads this module, and a preloaded
// module's load-time buffers are in flash, read-only. Temporaries are made per call (the
// functions that need them run a few times per signature, never in the inner loops).

import { mul, sqr } from './field-mul.js';

export { mul, sqr };

export type Fe = Float64Array;

export const LIMBS = 15;
const RADIX = 131072; // 2^17

export function fe(values: readonly number[] = []): Fe {
  const f = new Float64Array(LIMBS);
  for (let i = 0; i < values.length; i++) f[i] = values[i];
  return f;
}

export function copy(o: Fe, a: Fe): void {
  o.set(a);
}

export function add(o: Fe, a: Fe, b: Fe): void {
  o[0] = a[0] + b[0]; o[1] = a[1] + b[1]; o[2] = a[2] + b[2]; o[3] = a[3] + b[3]; o[4] = a[4] + b[4];
  o[5] = a[5] + b[5]; o[6] = a[6] + b[6]; o[7] = a[7] + b[7]; o[8] = a[8] + b[8]; o[9] = a[9] + b[9];
  o[10] = a[10] + b[10]; o[11] = a[11] + b[11]; o[12] = a[12] + b[12]; o[13] = a[13] + b[13]; o[14] = a[14] + b[14];
}

export function sub(o: Fe, a: Fe, b: Fe): void {
  o[0] = a[0] - b[0]; o[1] = a[1] - b[1]; o[2] = a[2] - b[2]; o[3] = a[3] - b[3]; o[4] = a[4] - b[4];
  o[5] = a[5] - b[5]; o[6] = a[6] - b[6]; o[7] = a[7] - b[7]; o[8] = a[8] - b[8]; o[9] = a[9] - b[9];
  o[10] = a[10] - b[10]; o[11] = a[11] - b[11]; o[12] = a[12] - b[12]; o[13] = a[13] - b[13]; o[14] = a[14] - b[14];
}

export function neg(o: Fe, a: Fe): void {
  for (let i = 0; i < LIMBS; i++) o[i] = -a[i];
}

/** o = a^(2^n), n >= 1. */
export function sqrN(o: Fe, a: Fe, n: number): void {
  sqr(o, a);
  for (let i = 1; i < n; i++) sqr(o, o);
}

/** z^(2^250 - 1): leaves z^11 in `z11` and z^(2^250-1) in `o` (ref10's chain). */
function pow2250m1(o: Fe, z11: Fe, z: Fe): void {
  const t0 = fe(), t1 = fe(), t2 = fe();
  sqr(t0, z); // z^2
  sqrN(t1, t0, 2); // z^8
  mul(t1, z, t1); // z^9
  mul(z11, t0, t1); // z^11
  sqr(t0, z11); // z^22
  mul(t0, t1, t0); // z^(2^5-1)
  sqrN(t1, t0, 5);
  mul(t0, t1, t0); // 2^10-1
  sqrN(t1, t0, 10);
  mul(t1, t1, t0); // 2^20-1
  sqrN(t2, t1, 20);
  mul(t1, t2, t1); // 2^40-1
  sqrN(t1, t1, 10);
  mul(t0, t1, t0); // 2^50-1
  sqrN(t1, t0, 50);
  mul(t1, t1, t0); // 2^100-1
  sqrN(t2, t1, 100);
  mul(t1, t2, t1); // 2^200-1
  sqrN(t1, t1, 50);
  mul(o, t1, t0); // 2^250-1
}

/** o = 1/z = z^(p-2) (0 for 0). 254 squarings and 11 multiplications. */
export function invert(o: Fe, z: Fe): void {
  const z11 = fe(), p250 = fe();
  pow2250m1(p250, z11, z);
  sqrN(p250, p250, 5); // 2^255-32
  mul(o, p250, z11); // 2^255-21 = p-2
}

/** o = z^((p-5)/8) = z^(2^252-3), for square roots. */
export function pow2523(o: Fe, z: Fe): void {
  const z11 = fe(), p250 = fe();
  pow2250m1(p250, z11, z);
  sqrN(p250, p250, 2); // 2^252-4
  mul(o, p250, z);
}

/**
 * Constant-time conditional move: o = flag ? a : o, flag 0 or 1. Limbs are integers below 2^31,
 * so the mask works on their int32 form. Used by the signer's table scan.
 */
export function cmov(o: Fe, a: Fe, flag: number): void {
  const m = -flag;
  for (let i = 0; i < LIMBS; i++) o[i] ^= (o[i] ^ a[i]) & m;
}

/** The canonical limbs (0 <= limb < 2^17, value < p) of a, in `o`. Constant time. */
function normalize(o: Fe, a: Fe): void {
  o.set(a);
  for (let pass = 0; pass < 3; pass++) {
    for (let i = 0; i < LIMBS - 1; i++) {
      const c = Math.floor(o[i] / RADIX);
      o[i] -= c * RADIX;
      o[i + 1] += c;
    }
    const c = Math.floor(o[14] / RADIX);
    o[14] -= c * RADIX;
    o[0] += 19 * c;
  }
  // Now 0 <= value < 2^255 + small: subtract p once if value >= p, i.e. if value + 19 >= 2^255.
  let q = (o[0] + 19) >> 17;
  for (let i = 1; i < LIMBS; i++) q = (o[i] + q) >> 17;
  o[0] += 19 * q;
  for (let i = 0; i < LIMBS - 1; i++) {
    o[i + 1] += o[i] >> 17;
    o[i] &= RADIX - 1;
  }
  o[14] &= RADIX - 1;
}

/** Little-endian 32 bytes of the canonical value (top bit 0). */
export function toBytes(out: Uint8Array, a: Fe): void {
  const n = fe();
  normalize(n, a);
  let acc = 0, bits = 0, k = 0;
  for (let i = 0; i < LIMBS; i++) {
    acc |= n[i] << bits;
    bits += 17;
    while (bits >= 8) {
      out[k++] = acc & 255;
      acc >>>= 8;
      bits -= 8;
    }
  }
  out[31] = acc;
}

/** The element of 32 little-endian bytes, bit 255 ignored (not reduced: may be >= p). */
export function fromBytes(o: Fe, s: Uint8Array): void {
  let acc = 0, bits = 0, i = 0;
  for (let k = 0; k < 32 && i < LIMBS; k++) {
    acc |= s[k] << bits;
    bits += 8;
    if (bits >= 17) {
      o[i++] = acc & (RADIX - 1);
      acc >>>= 17;
      bits -= 17;
    }
  }
}

/** The low bit of the canonical value ("negative" in RFC 8032's encoding). Constant time. */
export function isNegative(a: Fe): number {
  const n = fe();
  normalize(n, a);
  return n[0] & 1;
}

/** Whether a = 0 mod p. Variable time: public values only. */
export function isZero(a: Fe): boolean {
  const nb = new Uint8Array(32);
  toBytes(nb, a);
  for (let i = 0; i < 32; i++) if (nb[i] !== 0) return false;
  return true;
}
