// The simulator's fast paths give exactly what the slow ones gave, so evidence is unchanged:
// - synthetic frames, now assembled from a cached tail per band position and text tiles written
//   straight into the frame, are byte for byte the frames the row-by-row assembly made (the
//   digests below were taken from that implementation: frames at chosen indices and every frame of
//   ten minutes at 15 fps, burned-in counter and time included, for several sizes and paddings).
//   The two sizes from 640 wide up are 4:2:2 since the sensor went to the OV2640's sampling: their
//   digests were taken then, from frames that are byte for byte the picture encoded MCU by MCU
//   and assembled in raster order (the reference below, which states the picture pixel by pixel);
//   the narrower sizes' digests are the row-by-row assembly's, unchanged;
// - the simulated NOR flash, now programming erased runs with a copy and the rest word by word,
//   reusing erased blocks' buffers, holds exactly what a byte-by-byte model of NOR holds after a
//   long random run of writes (any alignment, overlapping, rewriting), erases and power cuts.

import test from 'ava';
import { createHash } from 'node:crypto';
import { counterText, SyntheticFrames, timeText, type SyntheticFramesOptions } from '../host-sim/sensor/synthetic.js';
import { TileJpegEncoder } from '../host-sim/sensor/jpeg.js';
import { glyphPixel } from '../host-sim/sensor/font.js';
import { prng, SimFlash } from '../host-sim/flash/sim-flash.js';

const GOLDEN: [SyntheticFramesOptions, string][] = [
  [{"width":320,"height":240}, 'dff241cd7a5bdbaf5ac9dc743dbd88395c43dda3f1c44ca2045e22dccec269be'],
  [{"width":640,"height":480}, '94fe4e79ad7f2fcf163c9a17ea712389c8c22f89fb0bc9fe549852d30b96ec23'],
  [{"width":800,"height":600,"quality":60}, '8e5db29d824a856e331dbeff56b5750651c225ae262db73a260757275c456301'],
  [{"width":96,"height":96}, 'e3b69e6e4eb16fd7ce8456f33f2ff5c751daa0163113273ad08c551c0127df0f'],
  [{"width":64,"height":16}, '2d4f726a44a131c92066393db3a55d8efdfdb02bd19af8226bdadb641be391b0'],
  [{"width":320,"height":240,"frameBytes":30000}, 'f06ad4f9da5116cfed316c4fb6997244c9dddc8709dcb54164523181c31f22ac'],
  [{"width":160,"height":120,"frameBytes":70000}, '5060abcfa9e3dbd36322fcfa992c9e27e5ca34a13b1338cce1f4ed9ff1514fa0'],
];

for (const [options, digest] of GOLDEN) {
  test(`synthetic frames ${JSON.stringify(options)} are the frames the row-by-row assembly made`, (t) => {
    const s = new SyntheticFrames(options);
    const h = createHash('sha256');
    const utc = Date.UTC(2026, 10, 25, 6, 0, 0);
    for (const i of [0, 1, 2, 27, 28, 29, 56, 999, 123456, 9999999]) h.update(new Uint8Array(s.frame(i, utc + i * 66.667)));
    for (let i = 0; i < 9000; i++) h.update(new Uint8Array(s.frame(i, utc + Math.round((i * 1000) / 15))));
    t.is(h.digest('hex'), digest);
  });
}

/**
 * The synthetic picture from 640 wide up, pixel by pixel: 16x8 MCUs; the counter and the time
 * in the 8x8 font at scale 2 (16-pixel cells) from the top left, white on near-black; the band
 * of diagonal stripes on MCU row textRows + index % (rows below the text); elsewhere the
 * gradient, one colour per MCU.
 */
function picture422(width: number, height: number, index: number, utcMs: number): (x: number, y: number) => readonly [number, number, number] {
  const cols = width / 16;
  const rows = height / 8;
  const scale = 2 * Math.max(1, Math.floor(width / 640));
  const textRows = Math.min(rows, 2 * scale);
  const bandRow = textRows + (index % (rows - textRows));
  const lines = [counterText(index), timeText(utcMs)];
  return (x, y) => {
    const line = lines[Math.floor(y / (8 * scale))];
    const c = Math.floor(x / (8 * scale));
    if (Math.floor(y / 8) < textRows && line !== undefined && c < line.length) {
      return glyphPixel(line[c], Math.floor(x / scale) % 8, Math.floor(y / scale) % 8) ? [255, 255, 255] : [12, 12, 12];
    }
    if (Math.floor(y / 8) === bandRow) return (x + y) & 4 ? [250, 210, 40] : [200, 60, 20];
    const cx = Math.floor(x / 16);
    const cy = Math.floor(y / 8);
    return [40 + 22 * Math.floor((8 * cx) / cols), 50 + 18 * Math.floor((8 * cy) / rows), 150 - 12 * Math.floor((8 * cx) / cols)];
  };
}

/** A whole frame: each MCU of the picture encoded (equal MCUs once) and placed in raster order, a restart marker between. */
function reference422(options: { width: number; height: number; quality?: number }, index: number, utcMs: number): Uint8Array {
  const enc = new TileJpegEncoder({ ...options, sampling: '4:2:2' });
  const pixel = picture422(options.width, options.height, index, utcMs);
  const encoded = new Map<string, Uint8Array>();
  const parts: Uint8Array[] = [enc.head(), enc.scanHeader()];
  const mcus = enc.mcuColumns * enc.mcuRows;
  for (let k = 0; k < mcus; k++) {
    const x0 = (k % enc.mcuColumns) * 16;
    const y0 = Math.floor(k / enc.mcuColumns) * 8;
    const at = (x: number, y: number) => pixel(x0 + x, y0 + y);
    const key = Array.from({ length: 128 }, (_, i) => at(i % 16, i >> 4).join()).join(' ');
    let tile = encoded.get(key);
    if (!tile) encoded.set(key, (tile = enc.tile(at)));
    parts.push(tile);
    if (k < mcus - 1) parts.push(Uint8Array.of(0xff, 0xd0 + (k & 7)));
  }
  parts.push(Uint8Array.of(0xff, 0xd9));
  return new Uint8Array(Buffer.concat(parts));
}

test('4:2:2 synthetic frames are the picture encoded MCU by MCU and assembled in raster order', (t) => {
  const utc = Date.UTC(2026, 10, 25, 6, 0, 0);
  for (const options of [{ width: 640, height: 480 }, { width: 800, height: 600, quality: 60 }]) {
    const s = new SyntheticFrames(options);
    const movable = options.height / 8 - 4;
    // The band just below the text, at the bottom, and elsewhere; a 7- and an 8-digit counter.
    for (const i of [0, movable - 1, 123456, 9999999, 12345678]) {
      const utcMs = utc + i * 40;
      t.deepEqual(new Uint8Array(s.frame(i, utcMs)), reference422(options, i, utcMs), `${options.width}x${options.height} frame ${i}`);
    }
  }
});

test('each frame is a buffer of its own', (t) => {
  const s = new SyntheticFrames({ width: 320, height: 240 });
  const a = s.frame(5, 0);
  const b = s.frame(5, 0);
  t.not(a, b);
  new Uint8Array(a).fill(0);
  t.deepEqual(new Uint8Array(s.frame(5, 0)), new Uint8Array(b));
});

/** NOR, one byte at a time: what the simulator promises (erase to 0xFF, program ANDs). */
class ByteNor {
  readonly bytes: Uint8Array;
  constructor(readonly blockLength: number, blocks: number) {
    this.bytes = new Uint8Array(blockLength * blocks).fill(0xff);
  }
  write(data: Uint8Array, offset: number): void {
    for (let i = 0; i < data.length; i++) this.bytes[offset + i] &= data[i];
  }
  erase(block: number): void {
    this.bytes.fill(0xff, block * this.blockLength, (block + 1) * this.blockLength);
  }
}

test('the flash holds what a byte-by-byte NOR model holds after a long random run', (t) => {
  const blockLength = 512;
  const blocks = 64;
  const flash = new SimFlash({ blockLength, blocks, pageLength: 64, seed: 3 });
  const model = new ByteNor(blockLength, blocks);
  const random = prng('sim-flash-fast');
  const pick = (n: number) => Math.floor(random() * n);
  const backing = new Uint8Array(4096 + 8);
  for (let op = 0; op < 20_000; op++) {
    const r = random();
    if (r < 0.15) {
      const b = pick(blocks);
      flash.eraseBlock(b);
      model.erase(b);
    } else {
      // Any length and alignment, from a view at any offset (word-aligned or not), often all 0xFF
      // or rewriting programmed bytes.
      const length = r < 0.5 ? pick(16) : pick(2000);
      const offset = pick(blocks * blockLength - length);
      const data = new Uint8Array(backing.buffer, pick(8), length);
      const kind = pick(4);
      for (let i = 0; i < length; i++) data[i] = kind === 0 ? 0xff : kind === 1 ? 0 : pick(256);
      flash.write(data, offset);
      model.write(data, offset);
    }
    if (op % 500 === 0) t.deepEqual(flash.peek(0, blocks * blockLength), model.bytes, `after operation ${op}`);
  }
  t.deepEqual(flash.peek(0, blocks * blockLength), model.bytes);
  // A copy is the same device, and erasing a block gives its buffer back for reuse without leaking bytes into the next.
  t.deepEqual(flash.clone().peek(0, blocks * blockLength), model.bytes);
  for (let b = 0; b < blocks; b++) flash.eraseBlock(b);
  flash.write(new Uint8Array([0x0f]), 7);
  const fresh = new Uint8Array(blocks * blockLength).fill(0xff);
  fresh[7] = 0x0f;
  t.deepEqual(flash.peek(0, blocks * blockLength), fresh);
});

test('a torn program and poke leave the block in a state later programs still AND into', (t) => {
  const flash = new SimFlash({ blockLength: 256, blocks: 4, pageLength: 64, seed: 9 });
  const model = new ByteNor(256, 4);
  flash.write(new Uint8Array(100).fill(0xf0), 0);
  model.write(new Uint8Array(100).fill(0xf0), 0);
  flash.poke(150, Uint8Array.of(0x01));
  model.bytes[150] = 0x01;
  flash.cutAfter(1);
  t.throws(() => flash.write(new Uint8Array(64).fill(0x3c), 128), { code: 'E_POWER_CUT' } as never);
  flash.reboot();
  // What the cut left is whatever it left; from here both must agree again.
  model.bytes.set(flash.peek(0, 1024));
  flash.write(new Uint8Array(200).fill(0x55), 40);
  model.write(new Uint8Array(200).fill(0x55), 40);
  t.deepEqual(flash.peek(0, 1024), model.bytes);
});
