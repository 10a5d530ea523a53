// The sound of an export: audio blocks (audio-record.ts) laid on a video timeline, for the AVI
// export (avi.ts) and any other container (the MP4 export takes it the same way).
//
// How a container uses it: walk the segments (parseSegmentMedia) and number the boots as the
// frames show them (a FIRST frame whose monotonic time went back is a new boot; every segment
// belongs to the boot of its frames); for each run of frames (from a FIRST frame to the next)
// give an anchor — the boot, the first frame's monotonic ms, and the sample position on the
// output timeline where that frame is shown — and the position where the next run starts.
// layOutSound() then puts every sample captured at monotonic t of that boot at
// anchor.at + (t − anchor.mono) × rate / 1000, within the run's stretch, and leaves silence
// where nothing was stored. The result is one 16-bit little-endian mono PCM track.
//
// Host-side (exports): it loops over samples; the camera never runs it.

import { BodycamError } from '../errors.js';
import { AudioCodec, type MediaAudio } from './audio-record.js';
import { decodeImaAdpcm } from './ima-adpcm.js';

/** A run of frames on the output timeline: samples of `boot` captured from `mono` on play from sample `at`, up to `end` (exclusive). */
export interface SoundAnchor {
  boot: number;
  /** Monotonic ms (of that boot) of the run's first frame. */
  mono: number;
  /** Sample position on the output timeline where that frame is shown. */
  at: number;
  /** Sample position where the next run begins (or the track's end). */
  end: number;
}

/** A segment's audio blocks and the boot they were captured in (numbered as the frames show). */
export interface SegmentSound {
  boot: number;
  audio: readonly MediaAudio[];
}

export interface SoundSummary {
  sampleRate: number;
  /** Audio blocks and samples found in the evidence. */
  blocks: number;
  samples: number;
  /** Samples lost on the camera (the sum of every block's dropped count). */
  dropped: number;
  /** Samples of the track that are silence (no stored sound for that time). */
  silent: number;
}

export interface LaidOutSound {
  sampleRate: number;
  /** The track: 16-bit little-endian mono PCM, `samples` long. */
  pcm: Uint8Array;
  samples: number;
  summary: SoundSummary;
}

/** The sample rate of the first block, or undefined when there is no sound. */
export function soundRate(segments: readonly SegmentSound[]): number | undefined {
  for (const s of segments) if (s.audio.length) return s.audio[0].header.sampleRate;
  return undefined;
}

/** One block's samples as 16-bit integers (PCM read as it is, IMA ADPCM decoded from the block's own state). */
export function blockSamples(a: MediaAudio): Int16Array {
  const h = a.header;
  if (h.codec === AudioCodec.IMA_ADPCM) return decodeImaAdpcm(a.data, h.sampleCount, h.predictor, h.stepIndex);
  const out = new Int16Array(h.sampleCount);
  for (let j = 0; j < h.sampleCount; j++) out[j] = (a.data[2 * j] | (a.data[2 * j + 1] << 8)) << 16 >> 16;
  return out;
}

/** Lay every block on the timeline `total` samples long (see the header comment). */
export function layOutSound(segments: readonly SegmentSound[], anchors: readonly SoundAnchor[], total: number, rate: number): LaidOutSound {
  const pcm = new Uint8Array(2 * total);
  const written = new Uint8Array(total);
  const summary: SoundSummary = { sampleRate: rate, blocks: 0, samples: 0, dropped: 0, silent: 0 };
  for (const { boot, audio } of segments) {
    const mine = anchors.filter((r) => r.boot === boot);
    for (const block of audio) {
      const h = block.header;
      if (h.sampleRate !== rate) throw new BodycamError('E_EXPORT_MIXED', `audio block ${h.blockNumber} is at ${h.sampleRate} Hz, the export so far at ${rate} Hz; export them separately`);
      summary.blocks++;
      summary.samples += h.sampleCount;
      summary.dropped += h.droppedBefore;
      if (mine.length === 0) continue;
      // The run the block was captured in: the last one that started before the block ends.
      const ends = h.monotonicMs + (h.sampleCount * 1000) / rate;
      let k = 0;
      while (k + 1 < mine.length && mine[k + 1].mono < ends) k++;
      const run = mine[k];
      const p0 = run.at + Math.round(((h.monotonicMs - run.mono) * rate) / 1000);
      const samples = blockSamples(block);
      const from = Math.max(0, run.at);
      const to = Math.min(total, run.end);
      for (let j = 0; j < samples.length; j++) {
        const p = p0 + j;
        if (p < from || p >= to) continue;
        pcm[2 * p] = samples[j] & 255;
        pcm[2 * p + 1] = (samples[j] >> 8) & 255;
        written[p] = 1;
      }
    }
  }
  for (let p = 0; p < total; p++) if (!written[p]) summary.silent++;
  return { sampleRate: rate, pcm, samples: total, summary };
}
