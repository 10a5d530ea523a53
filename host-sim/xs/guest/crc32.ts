// CRC-32 (zlib's) of a few bytes inside XS, for the crc32 calls the guest answers itself
// (main.ts: localCrc). The same function as firmware/platform/soft-checksum.ts, eight bytes a
// step (slicing-by-8: two 32-bit reads, eight table lookups): about half the compute units of
// the byte-at-a-time loop. Pure ECMAScript.

const TABLES = new Uint32Array(256 * 8);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLES[n] = c >>> 0;
}
for (let n = 0; n < 256; n++) {
  let c = TABLES[n];
  for (let k = 1; k < 8; k++) {
    c = TABLES[c & 0xff] ^ (c >>> 8);
    TABLES[k * 256 + n] = c;
  }
}
// T[k][n]: the CRC of byte n followed by k zero bytes.
const T0 = TABLES.subarray(0, 256);
const T1 = TABLES.subarray(256, 512);
const T2 = TABLES.subarray(512, 768);
const T3 = TABLES.subarray(768, 1024);
const T4 = TABLES.subarray(1024, 1280);
const T5 = TABLES.subarray(1280, 1536);
const T6 = TABLES.subarray(1536, 1792);
const T7 = TABLES.subarray(1792, 2048);

/** crc32(bytes, seed) as zlib computes it. */
export function crc32Bytes(b: Uint8Array, seed: number): number {
  let c = ~seed;
  const n = b.length;
  let i = 0;
  if (n >= 16) {
    const d = new DataView(b.buffer, b.byteOffset, n);
    const end = n - 7;
    for (; i < end; i += 8) {
      const lo = c ^ d.getUint32(i, true);
      const hi = d.getUint32(i + 4, true);
      c = T7[lo & 0xff] ^ T6[(lo >>> 8) & 0xff] ^ T5[(lo >>> 16) & 0xff] ^ T4[lo >>> 24] ^ T3[hi & 0xff] ^ T2[(hi >>> 8) & 0xff] ^ T1[(hi >>> 16) & 0xff] ^ T0[hi >>> 24];
    }
  }
  for (; i < n; i++) c = T0[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
