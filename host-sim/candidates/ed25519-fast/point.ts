// Points of edwards25519 for the fast Ed25519, in ref10's coordinate systems: extended
// (X:Y:Z:T, x = X/Z, y = Y/Z, xy = T/Z), "niels" affine precomputed points (y+x, y-x, 2dxy) for
// the fixed base table, and "cached" (Y+X, Y-X, Z, 2dT) for variable points in verification.
// The formulas are the complete ones for a = -1 (valid for every pair, identity included).
//
// No working buffer lives at module level: the camera preloads this module, and a preloaded
// module's load-time buffers are in flash, read-only (the constants D, D2, SQRTM1 and the base
// table are only read). Each scalar multiplication makes its scratch once (a `Work`, the digits,
// the selected table entry) and hands it to the point operations it runs hundreds of times, so
// allocation stays per operation, not per addition (a Float64Array costs ~60 XS units and heap).

import { add, fe, mul, sqr, sub, cmov, copy, invert, isNegative, toBytes, fromBytes, pow2523, isZero, neg, LIMBS, type Fe } from './field.js';
import { BASE_TABLE } from './base-table.js';
import { scan8 } from './field-mul.js';

export interface P3 { X: Fe; Y: Fe; Z: Fe; T: Fe }
export interface Niels { yplusx: Fe; yminusx: Fe; xy2d: Fe }
export interface Cached { YplusX: Fe; YminusX: Fe; Z: Fe; T2d: Fe }

export const p3 = (): P3 => ({ X: fe(), Y: fe(), Z: fe([1]), T: fe() });
export const niels = (): Niels => ({ yplusx: fe([1]), yminusx: fe([1]), xy2d: fe() });
export const cached = (): Cached => ({ YplusX: fe([1]), YminusX: fe([1]), Z: fe([1]), T2d: fe() });

/** d and 2d of edwards25519, and sqrt(-1), from their canonical little-endian bytes. */
function feHex(hex: string): Fe {
  const b = new Uint8Array(32);
  for (let i = 0; i < 32; i++) b[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  const f = fe();
  fromBytes(f, b);
  return f;
}
const D = feHex('a3785913ca4deb75abd841414d0a700098e879777940c78c73fe6f2bee6c0352');
const D2 = feHex('59f1b226949bd6eb56b183829a14e00030d1f3eef2808e19e7fcdf56dcd90624');
const SQRTM1 = feHex('b0a00e4a271beec478e42fad0618432fa7d7fb3d99004d2b0bdfc14f8024832b');

export function setIdentity(p: P3): void {
  p.X.fill(0); p.Y.fill(0); p.Z.fill(0); p.T.fill(0);
  p.Y[0] = 1; p.Z[0] = 1;
}

/** The five temporaries of a point addition or doubling, made once per scalar multiplication. */
export interface Work { e: Fe; f: Fe; g: Fe; h: Fe; u: Fe }
export const work = (): Work => ({ e: fe(), f: fe(), g: fe(), h: fe(), u: fe() });

/** r = the p1p1 point (e, h, g, f) in extended coordinates (T only if needed). */
function complete(r: P3, withT: boolean, { e, f, g, h }: Work): void {
  mul(r.X, e, f);
  mul(r.Y, g, h);
  mul(r.Z, f, g);
  if (withT) mul(r.T, e, h);
}

/** r = p + q, q a niels point (ref10 ge_madd): 7 multiplications. r may be p. */
export function madd(r: P3, p: P3, q: Niels, w: Work): void {
  const { e, f, g, h, u } = w;
  add(e, p.Y, p.X);
  sub(f, p.Y, p.X);
  mul(g, e, q.yplusx); // A
  mul(h, f, q.yminusx); // B
  mul(u, q.xy2d, p.T); // C
  sub(e, g, h); // E = A - B
  add(h, g, h); // H = A + B
  add(f, p.Z, p.Z); // D = 2Z
  add(g, f, u); // G = D + C
  sub(f, f, u); // F = D - C
  complete(r, true, w);
}

/** r = p ± q, q a cached point (ref10 ge_add / ge_sub): 9 multiplications. r may be p. */
export function addCached(r: P3, p: P3, q: Cached, subtract: boolean, w: Work): void {
  const { e, f, g, h, u } = w;
  add(e, p.Y, p.X);
  sub(f, p.Y, p.X);
  mul(g, e, subtract ? q.YminusX : q.YplusX); // A
  mul(h, f, subtract ? q.YplusX : q.YminusX); // B
  mul(u, q.T2d, p.T); // C (negated below when subtracting)
  mul(f, p.Z, q.Z);
  add(f, f, f); // D = 2 Z1 Z2
  sub(e, g, h); // E
  add(h, g, h); // H
  if (subtract) {
    sub(g, f, u); // G = D - C
    add(f, f, u); // F = D + C
  } else {
    add(g, f, u);
    sub(f, f, u);
  }
  complete(r, true, w);
}

/** r = 2p (ref10 ge_p2_dbl: uses X, Y, Z only); T is computed only when asked. */
export function dbl(r: P3, p: P3, withT: boolean, w: Work): void {
  const { e, f, g, h, u } = w;
  sqr(e, p.X); // XX
  sqr(h, p.Y); // YY
  sqr(g, p.Z);
  add(g, g, g); // B = 2 ZZ
  add(f, p.X, p.Y);
  sqr(u, f); // AA = (X + Y)^2
  add(f, h, e); // YY + XX
  sub(h, h, e); // YY - XX  (ref10's r.Z)
  sub(e, u, f); // AA - (YY + XX)  (r.X)
  sub(u, g, h); // B - (YY - XX)   (r.T)
  // p1p1 (X=e, Y=f, Z=h, T=u) -> extended: X = X*T, Y = Y*Z, Z = Z*T, T = X*Y
  mul(r.X, e, u);
  mul(r.Y, f, h);
  mul(r.Z, h, u);
  if (withT) mul(r.T, e, f);
}

export function toCached(c: Cached, p: P3): void {
  add(c.YplusX, p.Y, p.X);
  sub(c.YminusX, p.Y, p.X);
  copy(c.Z, p.Z);
  mul(c.T2d, p.T, D2);
}

/** RFC 8032 encoding: y with the sign of x in bit 255. */
export function encode(out: Uint8Array, p: P3): void {
  const zi = fe(), x = fe(), y = fe();
  invert(zi, p.Z);
  mul(x, p.X, zi);
  mul(y, p.Y, zi);
  toBytes(out, y);
  out[31] ^= isNegative(x) << 7;
}

const one = fe([1]);

/**
 * Decode a public key and negate it (libsodium's ge25519_frombytes_negate_vartime): false if
 * the encoding is not a point. The caller checks canonical y and small order first. Variable
 * time: public keys only.
 */
export function decodeNegate(p: P3, s: Uint8Array): boolean {
  const u = fe(), h = fe(), vxx = fe(), v3 = fe(), chk = fe();
  fromBytes(p.Y, s);
  p.Z.fill(0); p.Z[0] = 1;
  sqr(u, p.Y);
  mul(h, u, D);
  sub(u, u, one); // u = y^2 - 1
  add(h, h, one); // v = d y^2 + 1
  sqr(v3, h);
  mul(v3, v3, h); // v^3
  sqr(p.X, v3);
  mul(p.X, p.X, h);
  mul(p.X, p.X, u); // u v^7
  pow2523(p.X, p.X);
  mul(p.X, p.X, v3);
  mul(p.X, p.X, u); // x = u v^3 (u v^7)^((p-5)/8)
  sqr(vxx, p.X);
  mul(vxx, vxx, h);
  sub(chk, vxx, u); // v x^2 - u
  if (!isZero(chk)) {
    add(chk, vxx, u);
    if (!isZero(chk)) return false;
    mul(p.X, p.X, SQRTM1);
  }
  if (isNegative(p.X) === s[31] >> 7) neg(p.X, p.X);
  mul(p.T, p.X, p.Y);
  return true;
}

// ---- fixed-base scalar multiplication (signing: constant time) ----

const ENTRY = 3 * LIMBS; // one niels point in the table: y+x, y-x, 2dxy

/**
 * sel = b * 256^pos * B for a digit b in [-8, 8]. When signing the digit is secret, so the
 * entry is found by scanning all 8 entries of the row under masks (scan8, field-mul.ts) and the
 * sign is applied under a mask too: no branch and no address depends on b. Verification
 * (`vartime`, public scalars) indexes the table directly.
 */
function selectBase(selected: Float64Array, pos: number, b: number, vartime: boolean): void {
  const negative = b >>> 31;
  const babs = b - ((-negative & b) << 1);
  selected.fill(0);
  selected[0] = 1; // identity (1, 1, 0)
  selected[LIMBS] = 1;
  const base = pos * 8 * ENTRY;
  if (vartime) {
    if (babs !== 0) selected.set(BASE_TABLE.subarray(base + (babs - 1) * ENTRY, base + babs * ENTRY));
  } else {
    scan8(selected, BASE_TABLE, base, babs);
  }
  // -(x, y) = (-x, y): swap y+x with y-x and negate 2dxy, under the sign mask.
  const m = -negative;
  for (let l = 0; l < LIMBS; l++) {
    const s = (selected[l] ^ selected[LIMBS + l]) & m;
    selected[l] ^= s;
    selected[LIMBS + l] ^= s;
    const t = selected[2 * LIMBS + l];
    selected[2 * LIMBS + l] = t ^ ((t ^ -t) & m);
  }
}

/** Signed radix-16 digits of a 32-byte scalar below 2^255: 64 digits in [-8, 8]. Constant time. */
function recode(digits: Int32Array, a: Uint8Array): void {
  for (let i = 0; i < 32; i++) {
    digits[2 * i] = a[i] & 15;
    digits[2 * i + 1] = (a[i] >> 4) & 15;
  }
  let carry = 0;
  for (let i = 0; i < 63; i++) {
    digits[i] += carry;
    carry = (digits[i] + 8) >> 4;
    digits[i] -= carry << 4;
  }
  digits[63] += carry;
}

/**
 * h = a * B, a a 32-byte little-endian scalar below 2^255 (ref10 ge_scalarmult_base). Constant
 * time unless `vartime` (public scalars only: verification).
 */
export function scalarMultBase(h: P3, a: Uint8Array, vartime = false): void {
  new BaseMultSteps(h, a, vartime).step(BaseMultSteps.ADDITIONS);
}

/**
 * scalarMultBase a few additions at a time, so that a signature can be spread over timer slices
 * (the recorder signs a segment between camera frames). The same operations in the same order,
 * so the same constant-time behaviour and result: 32 additions of the odd digits, 4 doublings,
 * 32 additions of the even digits. Its scratch belongs to the instance.
 */
export class BaseMultSteps {
  static readonly ADDITIONS = 64;
  readonly #h: P3;
  readonly #vartime: boolean;
  readonly #w = work();
  readonly #digits = new Int32Array(64);
  readonly #selected = new Float64Array(ENTRY);
  readonly #sel: Niels;
  #n = 0;

  constructor(h: P3, a: Uint8Array, vartime = false) {
    this.#h = h;
    this.#vartime = vartime;
    const selected = this.#selected;
    this.#sel = { yplusx: selected.subarray(0, LIMBS), yminusx: selected.subarray(LIMBS, 2 * LIMBS), xy2d: selected.subarray(2 * LIMBS) };
    recode(this.#digits, a);
    setIdentity(h);
  }

  /** Up to `additions` more additions (and the doublings between the halves); true when h = a * B. */
  step(additions: number): boolean {
    const h = this.#h;
    const w = this.#w;
    for (let k = 0; k < additions && this.#n < 64; k++, this.#n++) {
      const n = this.#n;
      if (n === 32) {
        dbl(h, h, false, w);
        dbl(h, h, false, w);
        dbl(h, h, false, w);
        dbl(h, h, true, w);
      }
      const i = n < 32 ? 2 * n + 1 : 2 * (n - 32);
      selectBase(this.#selected, i >> 1, this.#digits[i], this.#vartime);
      madd(h, h, this.#sel, w);
    }
    return this.#n >= 64;
  }

  /** Forget the digits of the scalar. */
  wipe(): void {
    this.#digits.fill(0);
    this.#selected.fill(0);
  }
}

// ---- double scalar multiplication (verification: public inputs, variable time) ----

/** r = s*B + k*A (A given as a point, k and s 32-byte scalars below 2^255). */
export function doubleScalarMult(r: P3, k: Uint8Array, a: P3, s: Uint8Array): void {
  const w = work();
  const multiples: Cached[] = Array.from({ length: 8 }, cached);
  const acc = p3(), sb = p3(), q2 = p3(), sbCached = cached();
  const kDigits = new Int32Array(64);
  // (j+1) * A for j = 0..7, cached.
  toCached(multiples[0], a);
  copy(q2.X, a.X); copy(q2.Y, a.Y); copy(q2.Z, a.Z); copy(q2.T, a.T);
  for (let j = 1; j < 8; j++) {
    addCached(q2, q2, multiples[0], false, w);
    toCached(multiples[j], q2);
  }
  recode(kDigits, k);
  setIdentity(acc);
  for (let i = 63; i >= 0; i--) {
    if (i !== 63) {
      dbl(acc, acc, false, w);
      dbl(acc, acc, false, w);
      dbl(acc, acc, false, w);
      dbl(acc, acc, true, w);
    }
    const d = kDigits[i];
    if (d !== 0) addCached(acc, acc, multiples[(d < 0 ? -d : d) - 1], d < 0, w);
  }
  scalarMultBase(sb, s, true);
  toCached(sbCached, sb);
  addCached(r, acc, sbCached, false, w);
}
