// IMA ADPCM (the IMA/DVI algorithm, as WAV's format 0x11 codes it): 16-bit PCM to 4 bits a
// sample, a quarter of the size. Here to measure what coding audio on the camera would cost (the
// bench's audio section; docs/FORMAT.md, "Audio records", says why PCM is stored), and to read
// blocks coded with it. On a device this is a JavaScript loop over every sample — the one place
// where firmware would touch media bytes one by one, which is why it is not the default.
//
// Each block starts from the state in its header (predictor, step index), so a block decodes on
// its own. Nibbles low first, as in WAV. Tables are frozen arrays (no typed array at load time).

import { deepFreeze } from '../frozen.js';

const STEPS: readonly number[] = deepFreeze([
  7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 19, 21, 23, 25, 28, 31, 34, 37, 41, 45, 50, 55, 60, 66, 73, 80, 88, 97, 107, 118, 130, 143, 157, 173, 190,
  209, 230, 253, 279, 307, 337, 371, 408, 449, 494, 544, 598, 658, 724, 796, 876, 963, 1060, 1166, 1282, 1411, 1552, 1707, 1878, 2066, 2272,
  2499, 2749, 3024, 3327, 3660, 4026, 4428, 4871, 5358, 5894, 6484, 7132, 7845, 8630, 9493, 10442, 11487, 12635, 13899, 15289, 16818, 18500,
  20350, 22385, 24623, 27086, 29794, 32767,
]);
const INDEX_ADJUST: readonly number[] = deepFreeze([-1, -1, -1, -1, 2, 4, 6, 8, -1, -1, -1, -1, 2, 4, 6, 8]);

/** Streams PCM blocks into IMA ADPCM, keeping the coder's state from one block to the next. */
export class ImaAdpcmEncoder {
  predictor = 0;
  stepIndex = 0;

  /**
   * Code `sampleCount` samples of signed 16-bit little-endian PCM from `pcm` into `out`
   * ((sampleCount + 1) >> 1 bytes). The state before the call is the block's header state.
   */
  encode(pcm: Uint8Array, sampleCount: number, out: Uint8Array): void {
    let predictor = this.predictor;
    let index = this.stepIndex;
    let byte = 0;
    for (let i = 0; i < sampleCount; i++) {
      const sample = ((pcm[2 * i] | (pcm[2 * i + 1] << 8)) << 16) >> 16;
      let step = STEPS[index];
      let diff = sample - predictor;
      let code = 0;
      if (diff < 0) {
        code = 8;
        diff = -diff;
      }
      let delta = step >> 3;
      if (diff >= step) {
        code |= 4;
        diff -= step;
        delta += step;
      }
      step >>= 1;
      if (diff >= step) {
        code |= 2;
        diff -= step;
        delta += step;
      }
      step >>= 1;
      if (diff >= step) {
        code |= 1;
        delta += step;
      }
      predictor += code & 8 ? -delta : delta;
      if (predictor > 32767) predictor = 32767;
      else if (predictor < -32768) predictor = -32768;
      index += INDEX_ADJUST[code];
      if (index < 0) index = 0;
      else if (index > 88) index = 88;
      if (i & 1) out[i >> 1] = byte | (code << 4);
      else byte = code;
    }
    if (sampleCount & 1) out[sampleCount >> 1] = byte;
    this.predictor = predictor;
    this.stepIndex = index;
  }
}

/** Decode one IMA ADPCM block (from its header's predictor and step index) to 16-bit samples. */
export function decodeImaAdpcm(data: Uint8Array, sampleCount: number, predictor: number, stepIndex: number): Int16Array {
  const out = new Int16Array(sampleCount);
  let p = predictor;
  let index = stepIndex;
  for (let i = 0; i < sampleCount; i++) {
    const code = i & 1 ? data[i >> 1] >> 4 : data[i >> 1] & 15;
    const step = STEPS[index];
    let delta = step >> 3;
    if (code & 4) delta += step;
    if (code & 2) delta += step >> 1;
    if (code & 1) delta += step >> 2;
    p += code & 8 ? -delta : delta;
    if (p > 32767) p = 32767;
    else if (p < -32768) p = -32768;
    index += INDEX_ADJUST[code];
    if (index < 0) index = 0;
    else if (index > 88) index = 88;
    out[i] = p;
  }
  return out;
}
