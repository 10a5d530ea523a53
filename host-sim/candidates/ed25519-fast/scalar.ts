// Scalars modulo L = 2^252 + 27742317777372353535851937790883648493 (the order of the base
// point), on bytes held in a Float64Array: tweetnacl's modL, which is constant time (fixed loops,
// no branch on the value) — the nonce r and the result S are secret when signing.

import { modL } from '../../../firmware/signing/tweetnacl.js';

// The 64-limb working value is made per call: a preloaded module's load-time buffers are read-only.

/** out (32 bytes) = the 64-byte little-endian h mod L. */
export function reduce(out: Uint8Array, h: Uint8Array): void {
  const wide = new Float64Array(64);
  for (let i = 0; i < 64; i++) wide[i] = h[i];
  modL(out, wide);
}

/** out (32 bytes) = (r + k * a) mod L, all 32-byte little-endian. */
export function mulAdd(out: Uint8Array, k: Uint8Array, a: Uint8Array, r: Uint8Array): void {
  const wide = new Float64Array(64);
  for (let i = 0; i < 32; i++) wide[i] = r[i];
  for (let i = 0; i < 32; i++) {
    const ki = k[i];
    for (let j = 0; j < 32; j++) wide[i + j] += ki * a[j];
  }
  modL(out, wide);
}
