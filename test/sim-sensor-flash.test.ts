// The simulator's fast paths give exactly what the slow ones gave, so evidence is unchanged:
// - synthetic frames, now assembled from a cached tail per band position and text tiles written
//   straight into the frame, are byte for byte the frames the row-by-row assembly made (the
//   digests below were taken from that implementation: frames at chosen indices and every frame of
//   ten minutes at 15 fps, burned-in counter and time included, for several sizes and paddings);
// - the simulated NOR flash, now programming erased runs with a copy and the rest word by word,
//   reusing erased blocks' buffers, holds exactly what a byte-by-byte model of NOR holds after a
//   long random run of writes (any alignment, overlapping, rewriting), erases and power cuts.

import test from 'ava';
import { createHash } from 'node:crypto';
import { SyntheticFrames, type SyntheticFramesOptions } from '../host-sim/sensor/synthetic.js';
import { prng, SimFlash } from '../host-sim/flash/sim-flash.js';

const GOLDEN: [SyntheticFramesOptions, string][] = [
  [{"width":320,"height":240}, 'dff241cd7a5bdbaf5ac9dc743dbd88395c43dda3f1c44ca2045e22dccec269be'],
  [{"width":640,"height":480}, 'a6dae1cd54f5f5615fa3d4ba9a6cf0ce1a5f337f0d344ccb9ce6cd9e78f7880c'],
  [{"width":800,"height":600,"quality":60}, '71ecb62f4f5abc67331d06bf027258f3d21a8e00181645f36118d00663e87ec4'],
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
