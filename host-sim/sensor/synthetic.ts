// The synthetic sensor's pictures: real baseline JPEGs at the configured size showing the
// sensor's own frame counter ("#0000123") and the UTC time of capture ("06:00:01.066") in a
// bitmap font over a colour gradient, with a striped band that moves down one tile row per frame
// (a viewer sees motion, and a gap in the counter shows a frame the driver discarded).
//
// Sampling: from 640 pixels wide up, 4:2:2 in 16x8 MCUs, as an OV2640 gives, and near the size
// it gives (SVGA about 32 KB a frame, where 4:4:4 made 57 KB; jpeg.ts says why). Narrower
// frames stay 4:4:4 in 8x8 MCUs: their font is drawn at scale 1, an 8-pixel character cell that
// a 16-pixel MCU could not hold one to a tile, and their frames (what most tests record, and the
// digests and 8x8 glyph readers in test/) stay byte for byte what they were. The font's scale
// makes a character cell a whole number of MCUs: 8·scale pixels across, with scale even in 4:2:2
// (2 from VGA to XGA, 4 from HD up), so each tile shows a piece of one character and text stays
// crisp. Glyphs are grey and the background flat in each MCU, so halving the chroma changes
// neither (only the band's stripe edges soften).
//
// Speed: tiles are encoded once (jpeg.ts: one restart interval per tile), and everything below
// the text is cached whole for each position of the band (the rows, the end of the scan, EOI):
// a frame is one buffer holding the header, the two text rows copied tile by tile from cached
// glyphs, and that cached tail — a dozen copies, no per-frame row buffers. Every frame is still
// a complete, valid JPEG, byte for byte what assembling it row by row gives
// (test/sim-sensor-flash.test.ts).

import { BodycamError } from '../../firmware/errors.js';
import { glyphPixel } from './font.js';
import { TileJpegEncoder, writeCommentPadding, type Sampling } from './jpeg.js';

/** Where a simulated camera gets its pictures. */
export interface FrameSource {
  readonly width: number;
  readonly height: number;
  /** The sensor's `index`-th frame (0-based), taken at `utcMs`: a fresh buffer per call. */
  frame(index: number, utcMs: number): ArrayBuffer;
}

export interface SyntheticFramesOptions {
  width: number;
  height: number;
  /** JPEG quality, 1..100 (default 75). */
  quality?: number;
  /** Pad each frame with COM segments to about this many bytes (a real sensor's frames are 20–60 KB at VGA). */
  frameBytes?: number;
}

/** The sampling the synthetic sensor uses at `width` (the file's header says why). */
function samplingFor(width: number): Sampling {
  return width >= 640 ? '4:2:2' : '4:4:4';
}

const EOI = Uint8Array.from([0xff, 0xd9]);
const RST = Array.from({ length: 8 }, (_, i) => Uint8Array.from([0xff, 0xd0 + i]));

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/** "HH:MM:SS.mmm" of a UTC time. */
export function timeText(utcMs: number): string {
  const d = new Date(utcMs);
  return `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}.${String(d.getUTCMilliseconds()).padStart(3, '0')}`;
}

/** "#0000123": the counter line of frame `index`. */
export function counterText(index: number): string {
  return `#${String(index).padStart(7, '0')}`;
}

export class SyntheticFrames implements FrameSource {
  readonly width: number;
  readonly height: number;
  readonly #enc: TileJpegEncoder;
  readonly #cols: number;
  readonly #rows: number;
  readonly #scale: number;
  /** MCU columns per character cell. */
  readonly #cellColumns: number;
  readonly #textRows: number;
  readonly #head: Uint8Array;
  readonly #sos: Uint8Array;
  readonly #frameBytes: number;
  readonly #tiles = new Map<string, Uint8Array>();
  readonly #bgRows: (Uint8Array | undefined)[] = [];
  readonly #bandRows: (Uint8Array | undefined)[] = [];
  /** By band position: the rows below the text, the last without its restart marker, then EOI. */
  readonly #tails: (Uint8Array | undefined)[] = [];
  /** By text tile position (cy·columns + cx): the tile for each character shown there ('' for none). */
  readonly #textTiles: Map<string, Uint8Array>[] = [];

  constructor(options: SyntheticFramesOptions) {
    const sampling = samplingFor(options.width);
    this.#enc = new TileJpegEncoder({ width: options.width, height: options.height, quality: options.quality, sampling });
    this.width = options.width;
    this.height = options.height;
    this.#cols = this.#enc.mcuColumns;
    this.#rows = this.#enc.mcuRows;
    // A character cell is 8·scale pixels: a whole number of MCUs (scale even for 16-pixel MCUs).
    const perCell = this.#enc.mcuWidth / 8;
    this.#scale = Math.max(perCell, perCell * Math.floor(this.width / (320 * perCell)));
    this.#cellColumns = this.#scale / perCell;
    this.#textRows = Math.min(this.#rows, 2 * this.#scale);
    this.#head = this.#enc.head();
    this.#sos = this.#enc.scanHeader();
    this.#frameBytes = options.frameBytes ?? 0;
    if (this.width < 64) throw new BodycamError('E_SIM_JPEG', `a synthetic frame needs at least 64 pixels of width, got ${this.width}`);
  }

  #tile(key: string, pixel: (x: number, y: number) => readonly [number, number, number]): Uint8Array {
    let t = this.#tiles.get(key);
    if (!t) this.#tiles.set(key, (t = this.#enc.tile(pixel)));
    return t;
  }

  #background(cx: number, cy: number): Uint8Array {
    const r = 40 + 22 * Math.floor((8 * cx) / this.#cols);
    const g = 50 + 18 * Math.floor((8 * cy) / this.#rows);
    const b = 150 - 12 * Math.floor((8 * cx) / this.#cols);
    const rgb = [r, g, b] as const;
    return this.#tile(`bg:${r},${g},${b}`, () => rgb);
  }

  #band(): Uint8Array {
    return this.#tile('band', (x, y) => ((x + y) & 4 ? [250, 210, 40] : [200, 60, 20]));
  }

  /** The piece of `ch`'s cell at MCU column qx, MCU row qy of the cell. */
  #glyph(ch: string, qx: number, qy: number): Uint8Array {
    const s = this.#scale;
    const w = this.#enc.mcuWidth;
    return this.#tile(`g:${ch}:${qx}:${qy}`, (x, y) => (glyphPixel(ch, Math.floor((qx * w + x) / s), Math.floor((qy * 8 + y) / s)) ? [255, 255, 255] : [12, 12, 12]));
  }

  /** A row of tiles with the restart marker after each tile (its number depends on the row). */
  #row(cy: number, tileAt: (cx: number) => Uint8Array): Uint8Array {
    const tiles: Uint8Array[] = [];
    let n = 0;
    for (let cx = 0; cx < this.#cols; cx++) {
      const t = tileAt(cx);
      tiles.push(t);
      n += t.length + 2;
    }
    const out = new Uint8Array(n);
    let o = 0;
    for (let cx = 0; cx < this.#cols; cx++) {
      out.set(tiles[cx], o);
      o += tiles[cx].length;
      out.set(RST[(cy * this.#cols + cx) & 7], o);
      o += 2;
    }
    return out;
  }

  /** Everything after the text rows for a band at `bandRow` (-1: none): cached per position. */
  #tail(bandRow: number): Uint8Array {
    const key = bandRow + 1;
    let tail = this.#tails[key];
    if (tail) return tail;
    const rows: Uint8Array[] = [];
    for (let cy = this.#textRows; cy < this.#rows; cy++) {
      if (cy === bandRow) rows.push((this.#bandRows[cy] ??= this.#row(cy, () => this.#band())));
      else rows.push((this.#bgRows[cy] ??= this.#row(cy, (cx) => this.#background(cx, cy))));
    }
    // No restart marker after the last MCU: the scan ends with EOI.
    if (rows.length) rows[rows.length - 1] = rows[rows.length - 1].subarray(0, rows[rows.length - 1].length - 2);
    let n = EOI.length;
    for (const r of rows) n += r.length;
    tail = new Uint8Array(n);
    let o = 0;
    for (const r of rows) {
      tail.set(r, o);
      o += r.length;
    }
    tail.set(EOI, o);
    this.#tails[key] = tail;
    return tail;
  }

  /** The tile at column cx of text row cy (a character cell is #cellColumns MCUs by #scale). */
  #textTile(cy: number, cx: number, lines: readonly string[]): Uint8Array {
    const s = this.#scale;
    const cw = this.#cellColumns;
    const line = lines[Math.floor(cy / s)] ?? '';
    const c = Math.floor(cx / cw);
    const ch = c < line.length ? line[c] : '';
    const at = (this.#textTiles[cy * this.#cols + cx] ??= new Map());
    let t = at.get(ch);
    if (!t) at.set(ch, (t = ch ? this.#glyph(ch, cx % cw, cy % s) : this.#background(cx, cy)));
    return t;
  }

  frame(index: number, utcMs: number): ArrayBuffer {
    const lines = [counterText(index), timeText(utcMs)];
    const movable = this.#rows - this.#textRows;
    const bandRow = movable > 0 ? this.#textRows + (index % movable) : -1;
    const tail = this.#tail(bandRow);
    const cols = this.#cols;
    const textTiles = this.#textRows * cols;
    const tiles: Uint8Array[] = [];
    let length = this.#head.length + this.#sos.length + tail.length;
    for (let cy = 0; cy < this.#textRows; cy++) {
      for (let cx = 0; cx < cols; cx++) {
        const t = this.#textTile(cy, cx, lines);
        tiles.push(t);
        length += t.length + 2;
      }
    }
    // With no rows below the text, the last text tile ends the scan: no restart marker after it.
    if (movable <= 0 && textTiles > 0) length -= 2;
    let pad = Math.max(0, this.#frameBytes - length);
    if (pad < 4) pad = 0;
    const out = new Uint8Array(length + pad);
    let o = 0;
    out.set(this.#head, o);
    o += this.#head.length;
    if (pad) {
      writeCommentPadding(out, o, pad);
      o += pad;
    }
    out.set(this.#sos, o);
    o += this.#sos.length;
    for (let k = 0; k < textTiles; k++) {
      const t = tiles[k];
      out.set(t, o);
      o += t.length;
      if (movable > 0 || k < textTiles - 1) {
        out.set(RST[k & 7], o);
        o += 2;
      }
    }
    out.set(tail, o);
    return out.buffer;
  }
}
