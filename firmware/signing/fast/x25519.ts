// X25519 (RFC 7748) on the fast Ed25519's field (15 limbs of 17 bits, field.ts): the Montgomery
// ladder, constant time (the swaps are masked moves, no branch or index depends on the scalar).
// Used for the dock session's ephemeral key exchange (firmware/dock/session-keys.ts). Checked
// against RFC 7748's vectors and Node's X25519 (test/dock-session-keys.test.ts).

import { add, cmov, copy, fe, fromBytes, invert, mul, sqr, sub, toBytes, type Fe } from './field.js';

// A24 is only read; the ladder's temporaries are made per call (the camera preloads this module,
// and a preloaded module's load-time buffers are read-only). One exchange per dock session.
const A24 = fe([121665]);

function cswap(p: Fe, q: Fe, flag: number, t: Fe): void {
  copy(t, p);
  cmov(p, q, flag);
  cmov(q, t, flag);
}

/** X25519(k, u): 32-byte scalar (clamped here) and 32-byte u-coordinate (bit 255 ignored). */
export function x25519(scalar: Uint8Array, u: Uint8Array): Uint8Array {
  const x1 = fe(), x2 = fe(), z2 = fe(), x3 = fe(), z3 = fe();
  const a = fe(), aa = fe(), b = fe(), bb = fe(), e = fe(), c = fe(), d = fe(), da = fe(), cb = fe(), t = fe();
  const k = scalar.slice(0, 32);
  k[0] &= 248;
  k[31] &= 127;
  k[31] |= 64;
  fromBytes(x1, u);
  x2.fill(0);
  x2[0] = 1;
  z2.fill(0);
  copy(x3, x1);
  z3.fill(0);
  z3[0] = 1;
  let swap = 0;
  for (let i = 254; i >= 0; i--) {
    const bit = (k[i >>> 3] >>> (i & 7)) & 1;
    swap ^= bit;
    cswap(x2, x3, swap, t);
    cswap(z2, z3, swap, t);
    swap = bit;
    add(a, x2, z2);
    sqr(aa, a);
    sub(b, x2, z2);
    sqr(bb, b);
    sub(e, aa, bb);
    add(c, x3, z3);
    sub(d, x3, z3);
    mul(da, d, a);
    mul(cb, c, b);
    add(t, da, cb);
    sqr(x3, t);
    sub(t, da, cb);
    sqr(t, t);
    mul(z3, x1, t);
    mul(x2, aa, bb);
    mul(t, A24, e);
    add(t, aa, t);
    mul(z2, e, t);
  }
  cswap(x2, x3, swap, t);
  cswap(z2, z3, swap, t);
  invert(t, z2);
  mul(x2, x2, t);
  const out = new Uint8Array(32);
  toBytes(out, x2);
  k.fill(0);
  return out;
}

const BASE = new Uint8Array(32);
BASE[0] = 9;

/** The public key of a 32-byte X25519 secret. */
export function x25519Public(secret: Uint8Array): Uint8Array {
  return x25519(secret, BASE);
}
