// The playable export: segment media (frame records, and audio records when the camera recorded
// sound) → RIFF AVI with one MJPEG video stream, a PCM audio stream (16-bit mono) when there is
// sound, and an idx1 index, as ffmpeg, ffprobe and VLC read it, plus the per-frame timing that
// travels beside it (a sidecar JSON: UTC, monotonic time and clock offset per frame, NISTIR 8161r1).
//
// Timing: an AVI stream has one constant frame rate. Every frame lost during capture (its count
// is in the next frame's header) is replaced by a REPEAT of the frame before it, so the video's
// clock stays in step with capture time and a gap shows as a freeze; the sidecar marks each
// repeat (`duplicateOf`) and lists every drop with its count and time. Gaps longer than
// `maxFillMs`, and capture restarts (FIRST flag), are not filled: they are listed as
// discontinuities. Segment boundaries are invisible: frames run on across them.
//
// Sound follows the video's clock, not its own: within a run of frames (from a capture start to
// the next), an audio sample captured at monotonic time t plays at the run's first frame's video
// time plus (t − that frame's capture time), so picture and sound stay together as long as the
// pacer keeps frames on their slots; every run (after a reboot or a restart) is anchored again at
// its first frame. Stretches with no stored sound (a power cut, lost blocks, before the
// microphone started) are silence. Each video frame is followed by the sound of its frame time
// (a "01wb" chunk), so the file is interleaved.
//
// Pure ECMAScript (the dock station and the CLI both call it): it produces byte chunks and never
// copies a JPEG — chunks() hands out views of the media it was given. Large exports are split
// into parts (maxBytes, 1 GiB by default: AVI 1.0 without OpenDML extensions).

import { BodycamError } from '../errors.js';
import type { BufferLike } from '../platform/buffers.js';
import type { ClockSource } from '../platform/clock.js';
import { FrameFlags, parseSegmentMedia } from './frame-record.js';
import { layOutSound, soundRate, type SegmentSound, type SoundSummary } from './sound-track.js';

export interface AviExportOptions {
  /** Fill gaps up to this long with repeated frames (default 60 000 ms). */
  maxFillMs?: number;
  /** Largest AVI part in bytes (default 1 GiB); the export is split at frame boundaries. */
  maxBytes?: number;
  /** Camera RTC minus reference UTC (ms), measured by the dock at its last time sync, if known. */
  clockOffsetMs?: number | null;
  /** Written into the AVI's INFO list (ISFT). */
  software?: string;
  /** The evidence sequence number of each media segment, in order (default: its place in the list). */
  segmentSeqs?: readonly number[];
  /** Put the sound in the AVI when the evidence has any (default true). */
  audio?: boolean;
}

/** What the export did with the evidence's sound (sound-track.ts). */
export type AviAudio = SoundSummary;

/** One frame of the AVI, in order. */
export interface AviFrame {
  /** Index of the frame in its AVI part. */
  index: number;
  /** Which media (segment) input the picture came from. */
  segment: number;
  /** The stored frame shown (for a repeat: the frame repeated). */
  frameNumber: number;
  /** Capture times of a stored frame; for a repeat, the time of the lost frame's slot (estimated). */
  monotonicMs: number;
  utcMs: number;
  clockSource: ClockSource;
  flags: number;
  /** Set on repeats: the frame number shown again in place of a lost frame. */
  duplicateOf?: number;
  jpeg: Uint8Array;
}

export interface AviGap {
  /** The stored frame after the gap. */
  frameNumber: number;
  segment: number;
  /** Frames lost (from the frame header). */
  dropped: number;
  /** Monotonic ms between the stored frames on either side. */
  gapMs: number;
  /** Capture time of the frame after the gap. */
  utcMs: number;
  monotonicMs: number;
  /** Repeats written for it (0 for a discontinuity). */
  filled: number;
  kind: 'drop' | 'reboot' | 'restart' | 'long-gap' | 'missing-records';
}

export interface AviPart {
  width: number;
  height: number;
  frameRate: number;
  frames: AviFrame[];
  /** Bytes of the whole AVI file. */
  byteLength: number;
  durationMs: number;
  /** Sample rate of the part's audio stream (absent: video only). */
  audioRate?: number;
  /** The file's bytes, in order (views into the media; never modify them). */
  chunks(): Iterable<Uint8Array>;
}

export interface AviExport {
  parts: AviPart[];
  width: number;
  height: number;
  frameRate: number;
  /** Frames found in the evidence. */
  stored: number;
  /** Repeats written in place of lost frames. */
  duplicated: number;
  /** Lost frames in the evidence (sum of every header's dropped count). */
  dropped: number;
  gaps: AviGap[];
  clockOffsetMs: number | null;
  /** The sound track (absent when the evidence has no sound or it was not asked for). */
  audio?: AviAudio;
}

const AVIF_HASINDEX = 0x10;
const AVIF_ISINTERLEAVED = 0x100;
const AVIIF_KEYFRAME = 0x10;
const CHUNK_ID: readonly number[] = Object.freeze([0x30, 0x30, 0x64, 0x63]); // "00dc"
const AUDIO_ID: readonly number[] = Object.freeze([0x30, 0x31, 0x77, 0x62]); // "01wb"

function fourcc(v: DataView, o: number, s: string): void {
  for (let i = 0; i < 4; i++) v.setUint8(o + i, s.charCodeAt(i));
}

/** Plan an export of segment media, in order. Throws if the frames can't share one stream. */
export function planAviExport(media: readonly BufferLike[], options: AviExportOptions = {}): AviExport {
  const maxFillMs = options.maxFillMs ?? 60_000;
  const maxBytes = options.maxBytes ?? 1024 * 1024 * 1024;
  const all: AviFrame[] = [];
  const gaps: AviGap[] = [];
  let format: { width: number; height: number; frameRate: number } | undefined;
  let prev: AviFrame | undefined;
  let stored = 0;
  let duplicated = 0;
  let dropped = 0;
  // Sound: each segment's blocks with the boot they were captured in; runs of frames to anchor them.
  const sound: SegmentSound[] = [];
  const runs: Run[] = [];
  let boot = 0;
  media.forEach((m, i) => {
    const segment = options.segmentSeqs?.[i] ?? i;
    const parsed = parseSegmentMedia(m);
    let segmentBoot: number | undefined;
    for (const { header: h, jpeg } of parsed.frames) {
      if (!format) format = { width: h.width, height: h.height, frameRate: h.frameRate };
      else if (h.width !== format.width || h.height !== format.height || h.frameRate !== format.frameRate) {
        throw new BodycamError('E_EXPORT_MIXED', `frame ${h.frameNumber} of segment ${segment} is ${h.width}x${h.height} at ${h.frameRate} fps, the export so far ${format.width}x${format.height} at ${format.frameRate} fps; export them separately`);
      }
      stored++;
      dropped += h.droppedBefore;
      const restart = (h.flags & FrameFlags.FIRST) !== 0;
      if (prev && restart && h.monotonicMs < prev.monotonicMs) boot++;
      segmentBoot ??= boot;
      if (prev) {
        let kind: AviGap['kind'] | undefined;
        let fill = 0;
        let spanMs = h.gapMs;
        if (restart && h.monotonicMs < prev.monotonicMs && h.utcMs > prev.utcMs && h.utcMs - prev.utcMs <= maxFillMs) {
          // A reboot (monotonic time starts again) inside the recording: the camera was off for
          // the UTC gap. It stays in the timeline as a freeze, so the video lasts as long as the
          // recording did.
          kind = 'reboot';
          spanMs = h.utcMs - prev.utcMs;
          fill = Math.max(0, Math.round((spanMs * h.frameRate) / 1000) - 1);
        } else if (restart) kind = 'restart';
        else if (h.frameNumber !== prev.frameNumber + 1) kind = 'missing-records';
        else if (h.droppedBefore > 0) {
          if (h.gapMs <= maxFillMs) {
            kind = 'drop';
            fill = h.droppedBefore;
          } else kind = 'long-gap';
        }
        if (kind) gaps.push({ frameNumber: h.frameNumber, segment, dropped: h.droppedBefore, gapMs: spanMs, utcMs: h.utcMs, monotonicMs: h.monotonicMs, filled: fill, kind });
        for (let k = 1; k <= fill; k++) {
          const at = Math.round((spanMs * k) / (fill + 1));
          all.push({ ...prev, index: 0, monotonicMs: prev.monotonicMs + at, utcMs: prev.utcMs + at, duplicateOf: prev.frameNumber });
        }
        duplicated += fill;
      } else if (h.droppedBefore > 0) {
        gaps.push({ frameNumber: h.frameNumber, segment, dropped: h.droppedBefore, gapMs: h.gapMs, utcMs: h.utcMs, monotonicMs: h.monotonicMs, filled: 0, kind: restart ? 'restart' : 'drop' });
      }
      const f: AviFrame = { index: 0, segment, frameNumber: h.frameNumber, monotonicMs: h.monotonicMs, utcMs: h.utcMs, clockSource: h.clockSource, flags: h.flags, jpeg };
      if (!prev || restart) runs.push({ boot, frame: all.length, mono: h.monotonicMs });
      all.push(f);
      prev = f;
    }
    if (parsed.audio.length) sound.push({ boot: segmentBoot ?? boot, audio: parsed.audio });
  });
  if (!format) throw new BodycamError('E_EXPORT_EMPTY', 'the segments hold no frames to export');
  const fmt = format;
  const track = options.audio === false || sound.length === 0 ? undefined : soundTrack(sound, runs, all.length, fmt.frameRate);
  const software = options.software ?? 'bodycam export';
  const parts: AviPart[] = [];
  let start = 0;
  while (start < all.length) {
    let bytes = fixedBytes(software, track !== undefined);
    let end = start;
    while (end < all.length) {
      const audioBytes = track ? 8 + track.bytesOf(end).length + 16 : 0;
      const cost = 8 + all[end].jpeg.length + (all[end].jpeg.length & 1) + 16 + audioBytes;
      if (bytes + cost > maxBytes && end > start) break;
      bytes += cost;
      end++;
    }
    if (bytes > 0xffff_fff0) throw new BodycamError('E_EXPORT_TOO_LARGE', `one frame does not fit in an AVI part of ${maxBytes} bytes`);
    const frames = all.slice(start, end).map((f, i) => ({ ...f, index: i }));
    const first = start;
    parts.push(makePart(fmt, frames, software, track && { rate: track.rate, bytes: (i: number) => track.bytesOf(first + i) }));
    start = end;
  }
  return { parts, ...fmt, stored, duplicated, dropped, gaps, clockOffsetMs: options.clockOffsetMs ?? null, ...(track ? { audio: track.summary } : {}) };
}

/** A run of frames from a capture start: its boot (counted in the export), first frame and that frame's capture time. */
interface Run {
  boot: number;
  frame: number;
  mono: number;
}

/** The export's sound on the video's clock (sound-track.ts), and the bytes that go with each video frame. */
function soundTrack(sound: SegmentSound[], runs: Run[], frames: number, fps: number): { rate: number; summary: AviAudio; bytesOf(frame: number): Uint8Array } {
  const rate = soundRate(sound)!;
  const at = (frame: number) => Math.round((frame * rate) / fps);
  const total = at(frames);
  const anchors = runs.map((r, i) => ({ boot: r.boot, mono: r.mono, at: at(r.frame), end: i + 1 < runs.length ? at(runs[i + 1].frame) : total }));
  const laid = layOutSound(sound, anchors, total, rate);
  return { rate, summary: laid.summary, bytesOf: (frame) => laid.pcm.subarray(2 * at(frame), 2 * at(frame + 1)) };
}

function infoBytes(software: string): number {
  const n = software.length + 1;
  return 12 + 8 + n + (n & 1);
}

/** The audio stream's strl LIST: strh 56 + strf (WAVEFORMATEX, 18) with their chunk headers. */
const AUDIO_STRL = 12 + 8 + 56 + 8 + 18;

function fixedBytes(software: string, audio: boolean): number {
  // RIFF header 12, hdrl LIST 200 (+ the audio strl), INFO LIST, movi LIST header 12, idx1 header 8.
  return 12 + 200 + (audio ? AUDIO_STRL : 0) + infoBytes(software) + 12 + 8;
}

function makePart(fmt: { width: number; height: number; frameRate: number }, frames: AviFrame[], software: string, audio?: { rate: number; bytes(i: number): Uint8Array }): AviPart {
  let movi = 4;
  let largest = 0;
  let largestAudio = 0;
  let audioBytes = 0;
  for (const f of frames) {
    movi += 8 + f.jpeg.length + (f.jpeg.length & 1);
    if (f.jpeg.length > largest) largest = f.jpeg.length;
  }
  if (audio) {
    for (let i = 0; i < frames.length; i++) {
      const n = audio.bytes(i).length;
      movi += 8 + n;
      audioBytes += n;
      if (n > largestAudio) largestAudio = n;
    }
  }
  const idx = 16 * frames.length * (audio ? 2 : 1);
  const info = infoBytes(software);
  const hdrl = 200 + (audio ? AUDIO_STRL : 0);
  const riff = 4 + hdrl + info + 8 + movi + 8 + idx;
  const byteLength = 8 + riff;
  return {
    ...fmt,
    frames,
    byteLength,
    durationMs: Math.round((frames.length * 1000) / fmt.frameRate),
    ...(audio ? { audioRate: audio.rate } : {}),
    *chunks() {
      yield headerBytes(fmt, frames.length, largest, riff, movi, software, audio && { rate: audio.rate, samples: audioBytes / 2, largest: largestAudio });
      const pad = new Uint8Array(1);
      const chunk = (id: readonly number[], length: number) => {
        const ch = new Uint8Array(8);
        ch.set(id);
        new DataView(ch.buffer).setUint32(4, length, true);
        return ch;
      };
      for (let i = 0; i < frames.length; i++) {
        const f = frames[i];
        yield chunk(CHUNK_ID, f.jpeg.length);
        yield f.jpeg;
        if (f.jpeg.length & 1) yield pad;
        if (audio) {
          const a = audio.bytes(i);
          yield chunk(AUDIO_ID, a.length);
          yield a;
        }
      }
      const index = new Uint8Array(8 + idx);
      const v = new DataView(index.buffer);
      fourcc(v, 0, 'idx1');
      v.setUint32(4, idx, true);
      let offset = 4; // relative to the "movi" fourcc, as players expect
      let o = 8;
      const entry = (id: readonly number[], length: number) => {
        index.set(id, o);
        v.setUint32(o + 4, AVIIF_KEYFRAME, true);
        v.setUint32(o + 8, offset, true);
        v.setUint32(o + 12, length, true);
        offset += 8 + length + (length & 1);
        o += 16;
      };
      for (let i = 0; i < frames.length; i++) {
        entry(CHUNK_ID, frames[i].jpeg.length);
        if (audio) entry(AUDIO_ID, audio.bytes(i).length);
      }
      yield index;
    },
  };
}

function headerBytes(fmt: { width: number; height: number; frameRate: number }, frames: number, largest: number, riff: number, movi: number, software: string, audio?: { rate: number; samples: number; largest: number }): Uint8Array {
  const info = infoBytes(software);
  const strl = audio ? AUDIO_STRL : 0;
  const b = new Uint8Array(12 + 200 + strl + info + 12);
  const v = new DataView(b.buffer);
  const { width, height, frameRate } = fmt;
  fourcc(v, 0, 'RIFF');
  v.setUint32(4, riff, true);
  fourcc(v, 8, 'AVI ');
  // LIST hdrl
  fourcc(v, 12, 'LIST');
  v.setUint32(16, 192 + strl, true);
  fourcc(v, 20, 'hdrl');
  fourcc(v, 24, 'avih');
  v.setUint32(28, 56, true);
  v.setUint32(32, Math.round(1_000_000 / frameRate), true); // dwMicroSecPerFrame
  v.setUint32(36, (largest + 8) * frameRate + (audio ? 2 * audio.rate : 0), true); // dwMaxBytesPerSec
  v.setUint32(40, 0, true); // dwPaddingGranularity
  v.setUint32(44, AVIF_HASINDEX | AVIF_ISINTERLEAVED, true);
  v.setUint32(48, frames, true); // dwTotalFrames
  v.setUint32(52, 0, true); // dwInitialFrames
  v.setUint32(56, audio ? 2 : 1, true); // dwStreams
  v.setUint32(60, largest + 8, true); // dwSuggestedBufferSize
  v.setUint32(64, width, true);
  v.setUint32(68, height, true);
  // dwReserved[4] at 72..87 stay 0
  fourcc(v, 88, 'LIST');
  v.setUint32(92, 116, true);
  fourcc(v, 96, 'strl');
  fourcc(v, 100, 'strh');
  v.setUint32(104, 56, true);
  fourcc(v, 108, 'vids');
  fourcc(v, 112, 'MJPG');
  // dwFlags, wPriority, wLanguage, dwInitialFrames: 0 (116..127)
  v.setUint32(128, 1, true); // dwScale
  v.setUint32(132, frameRate, true); // dwRate
  v.setUint32(136, 0, true); // dwStart
  v.setUint32(140, frames, true); // dwLength
  v.setUint32(144, largest + 8, true); // dwSuggestedBufferSize
  v.setUint32(148, 0xffffffff, true); // dwQuality: default
  v.setUint32(152, 0, true); // dwSampleSize: varies
  v.setInt16(156, 0, true); // rcFrame
  v.setInt16(158, 0, true);
  v.setInt16(160, width, true);
  v.setInt16(162, height, true);
  fourcc(v, 164, 'strf');
  v.setUint32(168, 40, true);
  v.setUint32(172, 40, true); // biSize
  v.setInt32(176, width, true);
  v.setInt32(180, height, true);
  v.setUint16(184, 1, true); // biPlanes
  v.setUint16(186, 24, true); // biBitCount
  fourcc(v, 188, 'MJPG'); // biCompression
  v.setUint32(192, width * height * 3, true); // biSizeImage
  // biXPelsPerMeter, biYPelsPerMeter, biClrUsed, biClrImportant: 0 (196..211)
  let o = 212;
  if (audio) {
    // LIST strl of the audio stream: 16-bit PCM mono, one sample a block.
    fourcc(v, o, 'LIST');
    v.setUint32(o + 4, AUDIO_STRL - 8, true);
    fourcc(v, o + 8, 'strl');
    fourcc(v, o + 12, 'strh');
    v.setUint32(o + 16, 56, true);
    fourcc(v, o + 20, 'auds');
    // fccHandler, dwFlags, wPriority, wLanguage, dwInitialFrames: 0 (o+24..o+39)
    v.setUint32(o + 40, 2, true); // dwScale: nBlockAlign
    v.setUint32(o + 44, 2 * audio.rate, true); // dwRate: bytes a second (rate / scale = samples a second)
    v.setUint32(o + 48, 0, true); // dwStart
    v.setUint32(o + 52, audio.samples, true); // dwLength, in blocks (samples)
    v.setUint32(o + 56, audio.largest, true); // dwSuggestedBufferSize
    v.setUint32(o + 60, 0xffffffff, true); // dwQuality
    v.setUint32(o + 64, 2, true); // dwSampleSize
    // rcFrame: 0 (o+68..o+75)
    fourcc(v, o + 76, 'strf');
    v.setUint32(o + 80, 18, true);
    v.setUint16(o + 84, 1, true); // wFormatTag: WAVE_FORMAT_PCM
    v.setUint16(o + 86, 1, true); // nChannels
    v.setUint32(o + 88, audio.rate, true); // nSamplesPerSec
    v.setUint32(o + 92, 2 * audio.rate, true); // nAvgBytesPerSec
    v.setUint16(o + 96, 2, true); // nBlockAlign
    v.setUint16(o + 98, 16, true); // wBitsPerSample
    v.setUint16(o + 100, 0, true); // cbSize
    o += AUDIO_STRL;
  }
  // LIST INFO: ISFT
  fourcc(v, o, 'LIST');
  v.setUint32(o + 4, info - 8, true);
  fourcc(v, o + 8, 'INFO');
  fourcc(v, o + 12, 'ISFT');
  v.setUint32(o + 16, software.length + 1, true);
  for (let i = 0; i < software.length; i++) b[o + 20 + i] = software.charCodeAt(i) & 0x7f;
  o += info;
  fourcc(v, o, 'LIST');
  v.setUint32(o + 4, movi, true);
  fourcc(v, o + 8, 'movi');
  return b;
}

/** The sidecar JSON object for one part (NISTIR 8161r1: UTC and clock offset per frame). */
export function aviSidecar(exp: AviExport, part: AviPart, files: { video: string; part: number }): object {
  const offset = exp.clockOffsetMs;
  const partFrames = new Set(part.frames.map((f) => `${f.segment}:${f.frameNumber}`));
  return {
    format: 'bodycam-export-timing/1',
    video: { file: files.video, part: files.part, parts: exp.parts.length, codec: 'MJPG', container: 'AVI', width: part.width, height: part.height, frameRate: part.frameRate, frames: part.frames.length, durationMs: part.durationMs },
    timing: 'constant frame rate; each frame lost in capture, and each frame time of a reboot inside a recording, is a repeat of the frame before it (duplicateOf), so video time follows capture time; restarts within a boot and gaps longer than the fill limit are not filled and are listed in gaps',
    clock: {
      utc: 'camera RTC at capture (utcMs); monotonicMs is milliseconds since boot',
      clockOffsetMs: offset,
      clockOffset: offset === null ? 'not known to this export: no signed clock-drift statement of the camera was given, so no reference time is claimed' : 'camera RTC minus reference UTC, from the camera\'s signed drift statement at docking (see the integrity report); reference time = utcMs - clockOffsetMs',
    },
    evidence: { stored: exp.stored, dropped: exp.dropped, duplicated: exp.duplicated },
    ...(exp.audio && part.audioRate ? {
      audio: {
        codec: 'PCM', bitsPerSample: 16, channels: 1, sampleRate: exp.audio.sampleRate,
        timing: 'sound follows the video clock: within each run of frames a sample plays at its capture time relative to the run\'s first frame; stretches with no stored sound are silence',
        evidence: { blocks: exp.audio.blocks, samples: exp.audio.samples, dropped: exp.audio.dropped, silentSamples: exp.audio.silent },
      },
    } : {}),
    gaps: exp.gaps.filter((g) => partFrames.has(`${g.segment}:${g.frameNumber}`)),
    frames: part.frames.map((f) => ({
      index: f.index,
      segment: f.segment,
      frameNumber: f.frameNumber,
      monotonicMs: f.monotonicMs,
      utcMs: f.utcMs,
      utc: new Date(f.utcMs).toISOString(),
      ...(offset === null ? {} : { referenceUtcMs: f.utcMs - offset }),
      clockSource: f.clockSource,
      preEvent: (f.flags & FrameFlags.PRE_EVENT) !== 0,
      ...(f.duplicateOf === undefined ? {} : { duplicateOf: f.duplicateOf }),
    })),
  };
}
