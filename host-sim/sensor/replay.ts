// The replay sensor's pictures: the JPEG frames of a recording, fed again in a loop. Reads an
// AVI (MJPEG: the '##dc' / '##db' chunks of its 'movi' list), bodycam segment media (frame
// records, firmware/encoder/frame-record.ts), or a raw MJPEG stream (JPEGs back to back).
//
//   attachCamera(hw, { source: () => ReplayFrames.fromFile('shift.avi') })

import { readFileSync } from 'node:fs';
import { parseMedia, FRAME_MAGIC_0, FRAME_MAGIC_1 } from '../../firmware/encoder/frame-record.js';
import { BodycamError } from '../../firmware/errors.js';
import { jpegSize } from './jpeg.js';
import type { FrameSource } from './synthetic.js';

const ascii = (b: Uint8Array, o: number) => String.fromCharCode(b[o], b[o + 1], b[o + 2], b[o + 3]);
const u32le = (b: Uint8Array, o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;

/** The video frames of an AVI's movi list, in file order (empty chunks skipped). */
export function aviFrames(avi: Uint8Array): Uint8Array[] {
  if (avi.length < 12 || ascii(avi, 0) !== 'RIFF' || ascii(avi, 8) !== 'AVI ') throw new BodycamError('E_REPLAY_FORMAT', 'not a RIFF AVI file');
  const frames: Uint8Array[] = [];
  const walk = (start: number, end: number, inMovi: boolean) => {
    let o = start;
    while (o + 8 <= end) {
      const id = ascii(avi, o);
      const size = u32le(avi, o + 4);
      const body = o + 8;
      if (body + size > avi.length) throw new BodycamError('E_REPLAY_FORMAT', `AVI chunk ${id} at ${o} runs past the end of the file`);
      if (id === 'LIST' || id === 'RIFF') walk(body + 4, body + size, inMovi || ascii(avi, body) === 'movi');
      else if (inMovi && /^[0-9]{2}d[cb]$/.test(id) && size > 0) frames.push(avi.subarray(body, body + size));
      o = body + size + (size & 1);
    }
  };
  walk(12, Math.min(avi.length, 8 + u32le(avi, 4)), false);
  return frames;
}

/** JPEGs of a raw MJPEG stream (SOI .. EOI, back to back). Host code: scans bytes. */
export function mjpegFrames(data: Uint8Array): Uint8Array[] {
  const frames: Uint8Array[] = [];
  let start = -1;
  for (let i = 0; i + 1 < data.length; i++) {
    if (data[i] !== 0xff) continue;
    if (data[i + 1] === 0xd8 && start < 0) start = i;
    else if (data[i + 1] === 0xd9 && start >= 0) {
      frames.push(data.subarray(start, i + 2));
      start = -1;
    }
  }
  return frames;
}

export class ReplayFrames implements FrameSource {
  readonly width: number;
  readonly height: number;
  readonly #frames: Uint8Array[];

  constructor(frames: Uint8Array[]) {
    if (frames.length === 0) throw new BodycamError('E_REPLAY_EMPTY', 'the recording to replay holds no JPEG frames');
    this.#frames = frames;
    ({ width: this.width, height: this.height } = jpegSize(frames[0]));
  }

  /** From the bytes of an AVI, segment media, or raw MJPEG. */
  static fromBytes(data: Uint8Array): ReplayFrames {
    if (data.length >= 12 && ascii(data, 0) === 'RIFF') return new ReplayFrames(aviFrames(data));
    if (data[0] === FRAME_MAGIC_0 && data[1] === FRAME_MAGIC_1) return new ReplayFrames(parseMedia(data).map((f) => f.jpeg));
    return new ReplayFrames(mjpegFrames(data));
  }

  static fromFile(path: string): ReplayFrames {
    return ReplayFrames.fromBytes(new Uint8Array(readFileSync(path)));
  }

  get length(): number {
    return this.#frames.length;
  }

  frame(index: number): ArrayBuffer {
    return this.#frames[index % this.#frames.length].slice().buffer;
  }
}
