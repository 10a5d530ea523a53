// CRC-32 (zlib's) of a part of a frame from the frame's own CRC, without a second pass over the
// part: the station checks a chunk's `crc` field against the frame CRC the reader already made.
// CRC-32 is linear: crc(A ‖ B) = crc(A)·x^(8|B|) mod P ⊕ crc(B) (zlib's crc32_combine), and
// multiplying by x^k mod P is a bijection, so the test below holds exactly when `crc` is the CRC
// of the part. The arithmetic is zlib's multmodp / x2nmodp (crc32.c), on 32-bit words.

const POLY = 0xedb88320;

/** a·b mod P (reflected). */
function multmodp(a: number, b: number): number {
  let m = 0x80000000;
  let p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p >>> 0;
}

/** x^(2^k) mod P for k = 0..31. */
const X2N: readonly number[] = (() => {
  const t = [0x40000000];
  for (let k = 1; k < 32; k++) t.push(multmodp(t[k - 1], t[k - 1]));
  return Object.freeze(t);
})();

/** crc·x^(8·bytes) mod P: the CRC `crc` carried over `bytes` more bytes. */
function shift(crc: number, bytes: number): number {
  let p = 0x80000000;
  for (let n = bytes, k = 3; n > 0; n = Math.floor(n / 2), k++) if (n & 1) p = multmodp(X2N[k & 31], p);
  return multmodp(p, crc);
}

/** crc32(A ‖ B) from crc32(A), crc32(B) and B's length. */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  return (shift(crcA, lengthB) ^ crcB) >>> 0;
}

/**
 * Whether `partCrc` is the CRC-32 of `whole[start, start + length)`, given `wholeCrc`, the CRC-32
 * of all of `whole`: only the bytes before and after the part are read.
 */
export function partCrcMatches(whole: Uint8Array, wholeCrc: number, start: number, length: number, partCrc: number, crc32: (b: Uint8Array) => number): boolean {
  const before = crc32(whole.subarray(0, start));
  const after = whole.subarray(start + length);
  return crc32Combine(crc32Combine(before, partCrc >>> 0, length), crc32(after), after.length) === wholeCrc >>> 0;
}
