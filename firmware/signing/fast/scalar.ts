// Scalars modulo L = 2^252 + 27742317777372353535851937790883648493 (the order of the base
// point), on bytes held in a Float64Array: tweetnacl's modL, which is constant time (fixed loops,
// no branch on the value) — the nonce r and the result S are secret when signing.

const L = new Float64Array([
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
]);

/** r (32 bytes) = x mod L, x 64 signed "digits" of 8 bits (destroyed). */
export function modL(r: Uint8Array, x: Float64Array): void {
  let carry: number, i: number, j: number, k: number;
  for (i = 63; i >= 32; --i) {
    carry = 0;
    for (j = i - 32, k = i - 12; j < k; ++j) {
      x[j] += carry - 16 * x[i] * L[j - (i - 32)];
      carry = Math.floor((x[j] + 128) / 256);
      x[j] -= carry * 256;
    }
    x[j] += carry;
    x[i] = 0;
  }
  carry = 0;
  for (j = 0; j < 32; j++) {
    x[j] += carry - (x[31] >> 4) * L[j];
    carry = x[j] >> 8;
    x[j] &= 255;
  }
  for (j = 0; j < 32; j++) x[j] -= carry * L[j];
  for (i = 0; i < 32; i++) {
    x[i + 1] += x[i] >> 8;
    r[i] = x[i] & 255;
  }
}

const wide = new Float64Array(64);

/** out (32 bytes) = the 64-byte little-endian h mod L. */
export function reduce(out: Uint8Array, h: Uint8Array): void {
  for (let i = 0; i < 64; i++) wide[i] = h[i];
  modL(out, wide);
}

/** out (32 bytes) = (r + k * a) mod L, all 32-byte little-endian. */
export function mulAdd(out: Uint8Array, k: Uint8Array, a: Uint8Array, r: Uint8Array): void {
  wide.fill(0);
  for (let i = 0; i < 32; i++) wide[i] = r[i];
  for (let i = 0; i < 32; i++) {
    const ki = k[i];
    for (let j = 0; j < 32; j++) wide[i + j] += ki * a[j];
  }
  modL(out, wide);
}
