// A minimal baseline JPEG encoder for the synthetic sensor, one restart interval per MCU, in one
// of two samplings:
// - '4:2:2' (H2V1): a 16x8 MCU of four blocks, Y0 Y1 Cb Cr, the chroma averaged over each
//   horizontal pair of pixels: what an OV2640 gives in JPEG mode.
// - '4:4:4': an 8x8 MCU of three blocks, Y Cb Cr (narrow frames; synthetic.ts says why).
// A synthetic frame's size is mostly its count of MCUs, whatever the quality: the pictures are
// mostly flat, and every MCU costs its blocks' DC and end-of-block codes, padding to a byte and
// a 2-byte restart marker (a flat 4:2:2 MCU about 7 bytes). At SVGA 4:4:4 made about 57 KB a
// frame (7,500 MCUs); 4:2:2 makes about 32 KB (3,750), nearer an OV2640's 25 KB at quality 12.
// Because every MCU sits in its own restart interval (DC predictors reset, bit stream
// byte-aligned, an RSTn marker after it), an encoded tile is a fixed byte string that can be
// placed anywhere in any frame: frames are assembled from pre-encoded tiles (glyphs of a bitmap
// font, background, a moving band) by copying bytes, which is what makes a 12-hour shift of real,
// decodable JPEG frames simulate in minutes.
//
// Host only (the sensor is simulated hardware); never imported by firmware.

import { BodycamError } from '../../firmware/errors.js';

/** Natural-order (row-major) zigzag table: ZIGZAG[k] is the natural index of the k-th coefficient. */
const ZIGZAG: number[] = (() => {
  const out: number[] = [];
  for (let s = 0; s < 15; s++) {
    const cells: number[] = [];
    for (let y = 0; y < 8; y++) {
      const x = s - y;
      if (x >= 0 && x < 8) cells.push(y * 8 + x);
    }
    // Even diagonals run bottom-left to top-right (y decreasing), odd ones the other way.
    if (s % 2 === 0) cells.reverse();
    out.push(...cells);
  }
  return out;
})();

const LUMA_Q = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
  18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const CHROMA_Q = [
  17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
  ...new Array<number>(32).fill(99),
];

function scaleQuant(base: number[], quality: number): number[] {
  const q = Math.min(100, Math.max(1, quality));
  const scale = q < 50 ? 5000 / q : 200 - 2 * q;
  return base.map((v) => Math.min(255, Math.max(1, Math.floor((v * scale + 50) / 100))));
}

interface HuffTable {
  bits: number[]; // counts of codes of length 1..16
  values: number[];
  code: Map<number, [number, number]>; // symbol -> [code, length]
}

function huffTable(bits: number[], values: number[]): HuffTable {
  const code = new Map<number, [number, number]>();
  let c = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < bits[len - 1]; i++) code.set(values[k++], [c++, len]);
    c <<= 1;
  }
  return { bits, values, code };
}

const DC_BITS_LUMA = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_BITS_CHROMA = [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0];
const AC_BITS_LUMA = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
const AC_BITS_CHROMA = [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77];
const DC_VALUES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
/** All 162 AC symbols (EOB, ZRL, run/size 0..15 x 1..10), the likelier ones (short runs, small sizes) first. */
const AC_VALUES: number[] = (() => {
  const symbols = [0x00, 0xf0];
  for (let run = 0; run < 16; run++) for (let size = 1; size <= 10; size++) symbols.push((run << 4) | size);
  const cost = (s: number) => (s === 0x00 ? -1 : s === 0xf0 ? 40 : (s >> 4) * 1.5 + (s & 15));
  return symbols.sort((a, b) => cost(a) - cost(b) || a - b);
})();

const DC_LUMA = huffTable(DC_BITS_LUMA, DC_VALUES);
const DC_CHROMA = huffTable(DC_BITS_CHROMA, DC_VALUES);
const AC_LUMA = huffTable(AC_BITS_LUMA, AC_VALUES);
const AC_CHROMA = huffTable(AC_BITS_CHROMA, AC_VALUES);

const COS: number[] = [];
for (let x = 0; x < 8; x++) for (let u = 0; u < 8; u++) COS[x * 8 + u] = Math.cos(((2 * x + 1) * u * Math.PI) / 16);

function fdct(block: number[]): number[] {
  const out = new Array<number>(64);
  for (let v = 0; v < 8; v++) {
    for (let u = 0; u < 8; u++) {
      let s = 0;
      for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) s += block[y * 8 + x] * COS[x * 8 + u] * COS[y * 8 + v];
      const cu = u === 0 ? Math.SQRT1_2 : 1;
      const cv = v === 0 ? Math.SQRT1_2 : 1;
      out[v * 8 + u] = 0.25 * cu * cv * s;
    }
  }
  return out;
}

class BitWriter {
  readonly bytes: number[] = [];
  #acc = 0;
  #n = 0;
  write(code: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) {
      this.#acc = (this.#acc << 1) | ((code >> i) & 1);
      if (++this.#n === 8) this.#flushByte();
    }
  }
  #flushByte(): void {
    this.bytes.push(this.#acc);
    if (this.#acc === 0xff) this.bytes.push(0x00);
    this.#acc = 0;
    this.#n = 0;
  }
  /** Pad the last byte with 1-bits (as a restart interval ends). */
  finish(): Uint8Array {
    while (this.#n !== 0) this.write(1, 1);
    return Uint8Array.from(this.bytes);
  }
}

function category(v: number): number {
  let a = Math.abs(v);
  let n = 0;
  while (a) {
    n++;
    a >>= 1;
  }
  return n;
}

function emitValue(w: BitWriter, v: number, cat: number): void {
  if (cat === 0) return;
  w.write(v < 0 ? v + (1 << cat) - 1 : v, cat);
}

/** One block; `predictor` is the DC of the component's previous block in the interval (0 for its first). Returns its DC. */
function encodeBlock(w: BitWriter, samples: number[], quant: number[], dc: HuffTable, ac: HuffTable, predictor = 0): number {
  const coef = fdct(samples.map((s) => s - 128));
  const zz = ZIGZAG.map((n) => Math.round(coef[n] / quant[n]));
  const dcValue = zz[0];
  zz[0] -= predictor;
  const dcCat = category(zz[0]);
  const [dcCode, dcLen] = dc.code.get(dcCat)!;
  w.write(dcCode, dcLen);
  emitValue(w, zz[0], dcCat);
  let run = 0;
  for (let k = 1; k < 64; k++) {
    const v = Math.max(-1023, Math.min(1023, zz[k]));
    if (v === 0) {
      run++;
      continue;
    }
    while (run > 15) {
      const [c, l] = ac.code.get(0xf0)!;
      w.write(c, l);
      run -= 16;
    }
    const cat = category(v);
    const [c, l] = ac.code.get((run << 4) | cat)!;
    w.write(c, l);
    emitValue(w, v, cat);
    run = 0;
  }
  if (run > 0) {
    const [c, l] = ac.code.get(0x00)!;
    w.write(c, l);
  }
  return dcValue;
}

/** An MCU's tile of RGB pixels (mcuWidth x mcuHeight): `pixel(x, y)` returns [r, g, b], 0..255. */
export type TilePixels = (x: number, y: number) => readonly [number, number, number];

/** '4:2:2': H2V1, a 16x8 MCU (Y0 Y1 Cb Cr), as an OV2640 gives; '4:4:4': an 8x8 MCU (Y Cb Cr). */
export type Sampling = '4:2:2' | '4:4:4';

export class TileJpegEncoder {
  readonly width: number;
  readonly height: number;
  readonly sampling: Sampling;
  /** Pixels across one MCU: 16 in 4:2:2, 8 in 4:4:4. */
  readonly mcuWidth: number;
  readonly mcuHeight = 8;
  readonly #lq: number[];
  readonly #cq: number[];

  constructor(options: { width: number; height: number; quality?: number; sampling: Sampling }) {
    this.sampling = options.sampling;
    this.mcuWidth = options.sampling === '4:2:2' ? 16 : 8;
    if (options.width % this.mcuWidth || options.height % 8 || options.width <= 0 || options.height <= 0 || options.width > 65535 || options.height > 65535) {
      throw new BodycamError('E_SIM_JPEG', `${options.sampling} tile frames need a width that is a multiple of ${this.mcuWidth} and a height that is a multiple of 8, got ${options.width}x${options.height}`);
    }
    this.width = options.width;
    this.height = options.height;
    this.#lq = scaleQuant(LUMA_Q, options.quality ?? 75);
    this.#cq = scaleQuant(CHROMA_Q, options.quality ?? 75);
  }

  get mcuColumns(): number {
    return this.width / this.mcuWidth;
  }
  get mcuRows(): number {
    return this.height / this.mcuHeight;
  }

  /** The entropy-coded bytes of one MCU (its own restart interval), stuffed and padded. */
  tile(pixel: TilePixels): Uint8Array {
    const n = this.mcuWidth;
    // Full-resolution planes, row-major over the MCU (n x 8).
    const y: number[] = [];
    const cb: number[] = [];
    const cr: number[] = [];
    for (let j = 0; j < 8; j++) {
      for (let i = 0; i < n; i++) {
        const [r, g, b] = pixel(i, j);
        y.push(0.299 * r + 0.587 * g + 0.114 * b);
        cb.push(-0.168736 * r - 0.331264 * g + 0.5 * b + 128);
        cr.push(0.5 * r - 0.418688 * g - 0.081312 * b + 128);
      }
    }
    const w = new BitWriter();
    if (this.sampling === '4:4:4') {
      encodeBlock(w, y, this.#lq, DC_LUMA, AC_LUMA);
      encodeBlock(w, cb, this.#cq, DC_CHROMA, AC_CHROMA);
      encodeBlock(w, cr, this.#cq, DC_CHROMA, AC_CHROMA);
      return w.finish();
    }
    // 4:2:2: the left and right luma blocks (Y1's DC is coded against Y0's, as one interval's
    // predictor runs on), then each chroma plane averaged over horizontal pairs into one block.
    const lumaBlock = (x0: number) => Array.from({ length: 64 }, (_, k) => y[(k >> 3) * 16 + x0 + (k & 7)]);
    const halved = (plane: number[]) => Array.from({ length: 64 }, (_, k) => (plane[(k >> 3) * 16 + 2 * (k & 7)] + plane[(k >> 3) * 16 + 2 * (k & 7) + 1]) / 2);
    const dc0 = encodeBlock(w, lumaBlock(0), this.#lq, DC_LUMA, AC_LUMA);
    encodeBlock(w, lumaBlock(8), this.#lq, DC_LUMA, AC_LUMA, dc0);
    encodeBlock(w, halved(cb), this.#cq, DC_CHROMA, AC_CHROMA);
    encodeBlock(w, halved(cr), this.#cq, DC_CHROMA, AC_CHROMA);
    return w.finish();
  }

  /** SOI .. DRI: everything before the scan header (padding may go between this and scanHeader). */
  head(comment = 'bodycam synthetic sensor'): Uint8Array {
    const b: number[] = [0xff, 0xd8];
    // APP0 JFIF 1.01, no thumbnail.
    b.push(0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0);
    const text = Array.from(comment, (c) => c.charCodeAt(0) & 0x7f);
    b.push(0xff, 0xfe, (text.length + 2) >> 8, (text.length + 2) & 255, ...text);
    b.push(0xff, 0xdb, 0, 2 + 2 * 65, 0x00, ...ZIGZAG.map((n) => this.#lq[n]), 0x01, ...ZIGZAG.map((n) => this.#cq[n]));
    // SOF0: luma sampled H x 1 (H = 2 in 4:2:2), chroma 1 x 1.
    const luma = this.mcuWidth === 16 ? 0x21 : 0x11;
    b.push(0xff, 0xc0, 0, 17, 8, this.height >> 8, this.height & 255, this.width >> 8, this.width & 255, 3, 1, luma, 0, 2, 0x11, 1, 3, 0x11, 1);
    const tables: [number, HuffTable][] = [[0x00, DC_LUMA], [0x10, AC_LUMA], [0x01, DC_CHROMA], [0x11, AC_CHROMA]];
    const dhtLength = 2 + tables.reduce((n, [, t]) => n + 17 + t.values.length, 0);
    b.push(0xff, 0xc4, dhtLength >> 8, dhtLength & 255);
    for (const [id, t] of tables) b.push(id, ...t.bits, ...t.values);
    b.push(0xff, 0xdd, 0, 4, 0, 1); // DRI: restart every MCU
    return Uint8Array.from(b);
  }

  /** SOS for the three components. */
  scanHeader(): Uint8Array {
    return Uint8Array.from([0xff, 0xda, 0, 12, 3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]);
  }
}

/** A COM segment run padding a frame by exactly `n` bytes (n = 0 or n >= 4). */
export function commentPadding(n: number): Uint8Array {
  const out = new Uint8Array(n);
  writeCommentPadding(out, 0, n);
  return out;
}

/** commentPadding(n) written into `out` at `at`, whose n bytes there are zero. */
export function writeCommentPadding(out: Uint8Array, at: number, n: number): void {
  let o = 0;
  while (n - o > 0) {
    let len = Math.min(65535 + 2, n - o); // marker (2) + length field value (<= 65535)
    if (n - o - len > 0 && n - o - len < 4) len -= 4; // leave room for a last segment
    out[at + o] = 0xff;
    out[at + o + 1] = 0xfe;
    out[at + o + 2] = (len - 2) >> 8;
    out[at + o + 3] = (len - 2) & 255;
    o += len;
  }
}

/** Width and height from a JPEG's SOF marker (walking segments, not bytes). */
export function jpegSize(jpeg: Uint8Array): { width: number; height: number } {
  if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new BodycamError('E_JPEG', 'not a JPEG (no SOI)');
  let o = 2;
  while (o + 4 <= jpeg.length) {
    if (jpeg[o] !== 0xff) throw new BodycamError('E_JPEG', `no marker at offset ${o}`);
    const m = jpeg[o + 1];
    if (m === 0xff) {
      o++;
      continue;
    }
    const len = (jpeg[o + 2] << 8) | jpeg[o + 3];
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      return { height: (jpeg[o + 5] << 8) | jpeg[o + 6], width: (jpeg[o + 7] << 8) | jpeg[o + 8] };
    }
    if (m === 0xda) break;
    o += 2 + len;
  }
  throw new BodycamError('E_JPEG', 'no SOF marker before the scan');
}
