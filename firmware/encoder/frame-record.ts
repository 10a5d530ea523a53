// Frame records: the bytes of one captured frame inside a segment.
//
// A frame is ONE storage record (the store frames records with length and CRC; this module
// does not frame twice) whose payload is a fixed 48-byte frame header followed by the JPEG.
// The segment media is the concatenation of those payloads in order, and it is self-delimiting:
// each header carries the JPEG length, so the export and the verifier can walk a media stream
// without the store. Every field is documented in docs/FORMAT.md, "Frame records and the
// segment container". Big-endian, like every other format here.
//
// Promises: encoding never allocates per frame (FrameHeaderEncoder reuses one buffer) and never
// touches the JPEG bytes beyond its first two (the SOI check): the JS cost of a frame does not
// grow with its size. Decoding is strict: a wrong magic, version, flag or length is an error
// with a stable code, never a guess.

import { BodycamError } from '../errors.js';
import { toBytes, type BufferLike } from '../platform/buffers.js';
import type { ClockSource } from '../platform/clock.js';
import { AUDIO_HEADER_LENGTH, decodeAudioHeader, isAudioRecord, type MediaAudio } from './audio-record.js';

/** Where frame records go: the storage SegmentWriter (or the pre-event ring) satisfies it. */
export interface FrameSink {
  /**
   * Store one frame record whose payload is `header` followed by `body`. Synchronous; it must
   * not keep a reference to either after it returns (the header buffer is reused for the next
   * frame and the body is a camera buffer that is closed right after). Throws a BodycamError
   * when the frame could not be stored; the frame is then counted as dropped.
   */
  append(header: Uint8Array, body: BufferLike): void;
}

/** Media format name of a segment made of frame records only (for the manifest). */
export const MEDIA_FORMAT = 'bodycam-frames/1';
/** Media format name of a segment of frame records and audio records (audio-record.ts), interleaved. */
export const MEDIA_FORMAT_AV = 'bodycam-av/1';

export const FRAME_MAGIC_0 = 0x46; // 'F'
export const FRAME_MAGIC_1 = 0x52; // 'R'
export const FRAME_VERSION = 1;
export const FRAME_HEADER_LENGTH = 48;
/** Largest JPEG a record may carry (16 MiB: far above any sensor we support). */
export const MAX_JPEG_LENGTH = 16 * 1024 * 1024;

/** Frame flags (u16). Bits not named here are reserved and must be 0. */
export const FrameFlags = Object.freeze({
  /** Decodable on its own (every MJPEG frame is). */
  KEYFRAME: 0x0001,
  /** Captured into the pre-event buffer, before recording was triggered. */
  PRE_EVENT: 0x0002,
  /** One or more frames were lost just before this one (droppedBefore > 0). */
  AFTER_GAP: 0x0004,
  /** First frame since the capture started (monotonic time and numbering begin here). */
  FIRST: 0x0008,
  /** Of the frames lost before this one, at least one was lost because storing it failed. */
  STORAGE_DROP: 0x0010,
  /** Of the frames lost before this one, at least one was never delivered by the sensor in its slot. */
  SENSOR_DROP: 0x0020,
});
const KNOWN_FLAGS = 0x003f;

const CLOCK_SOURCES: readonly ClockSource[] = Object.freeze(['none', 'rtc', 'dock']);

export interface FrameHeader {
  flags: number;
  width: number;
  height: number;
  /** The target frame rate the pacer keeps (frames per second, 1..255). */
  frameRate: number;
  /** Who set the wall clock last, when the frame was taken. */
  clockSource: ClockSource;
  /** Counts stored frames from the capture start, without holes (a lost frame takes no number). */
  frameNumber: number;
  /** Clock port monotonic ms at capture. */
  monotonicMs: number;
  /** Clock port UTC ms (the RTC's belief) at capture. */
  utcMs: number;
  /** Frames lost between the previous stored frame and this one. */
  droppedBefore: number;
  /** Monotonic ms since the previous stored frame of this capture (0 for the first). */
  gapMs: number;
  /** Frames lost since the capture started, this gap included. */
  droppedTotal: number;
  jpegLength: number;
}

const U32 = 0x1_0000_0000;

function checkUint(v: number, max: number, what: string): void {
  if (!Number.isSafeInteger(v) || v < 0 || v > max) throw new BodycamError('E_FRAME_FIELD', `frame header ${what} must be an integer in 0..${max}, got ${v}`);
}

/** Encodes frame headers into one reused 48-byte buffer (no allocation per frame). */
export class FrameHeaderEncoder {
  readonly #bytes = new Uint8Array(FRAME_HEADER_LENGTH);
  readonly #view = new DataView(this.#bytes.buffer);

  /** The header's bytes; valid until the next call. */
  encode(h: FrameHeader): Uint8Array {
    const v = this.#view;
    const source = CLOCK_SOURCES.indexOf(h.clockSource);
    if (source < 0) throw new BodycamError('E_FRAME_FIELD', `unknown clock source ${String(h.clockSource)}`);
    if ((h.flags & ~KNOWN_FLAGS) !== 0) throw new BodycamError('E_FRAME_FIELD', `unknown frame flags 0x${h.flags.toString(16)}`);
    checkUint(h.width, 0xffff, 'width');
    checkUint(h.height, 0xffff, 'height');
    checkUint(h.frameRate, 0xff, 'frame rate');
    checkUint(h.frameNumber, U32 - 1, 'frame number');
    checkUint(h.monotonicMs, Number.MAX_SAFE_INTEGER, 'monotonic time');
    checkUint(h.utcMs, Number.MAX_SAFE_INTEGER, 'UTC time');
    checkUint(h.droppedBefore, U32 - 1, 'dropped count');
    checkUint(h.gapMs, U32 - 1, 'gap');
    checkUint(h.droppedTotal, U32 - 1, 'dropped total');
    checkUint(h.jpegLength, MAX_JPEG_LENGTH, 'JPEG length');
    v.setUint8(0, FRAME_MAGIC_0);
    v.setUint8(1, FRAME_MAGIC_1);
    v.setUint8(2, FRAME_VERSION);
    v.setUint8(3, FRAME_HEADER_LENGTH);
    v.setUint16(4, h.flags);
    v.setUint16(6, h.width);
    v.setUint16(8, h.height);
    v.setUint8(10, h.frameRate);
    v.setUint8(11, source);
    v.setUint32(12, h.frameNumber);
    v.setUint32(16, Math.floor(h.monotonicMs / U32));
    v.setUint32(20, h.monotonicMs % U32);
    v.setUint32(24, Math.floor(h.utcMs / U32));
    v.setUint32(28, h.utcMs % U32);
    v.setUint32(32, h.droppedBefore);
    v.setUint32(36, h.gapMs);
    v.setUint32(40, h.droppedTotal);
    v.setUint32(44, h.jpegLength);
    return this.#bytes;
  }
}

/** A fresh copy of one encoded header (for tests and tools; the capture path uses the encoder). */
export function encodeFrameHeader(h: FrameHeader): Uint8Array {
  return new FrameHeaderEncoder().encode(h).slice();
}

/** Decode the frame header at `offset` of `bytes`. Strict: any doubt is an error. */
export function decodeFrameHeader(data: BufferLike, offset = 0): FrameHeader {
  const bytes = toBytes(data);
  if (bytes.length - offset < FRAME_HEADER_LENGTH) throw new BodycamError('E_FRAME_TRUNCATED', `a frame header needs ${FRAME_HEADER_LENGTH} bytes, ${bytes.length - offset} left at offset ${offset}`);
  const v = new DataView(bytes.buffer, bytes.byteOffset + offset, FRAME_HEADER_LENGTH);
  if (v.getUint8(0) !== FRAME_MAGIC_0 || v.getUint8(1) !== FRAME_MAGIC_1) throw new BodycamError('E_FRAME_MAGIC', `no frame record at offset ${offset} (magic is not "FR")`);
  if (v.getUint8(2) !== FRAME_VERSION) throw new BodycamError('E_FRAME_VERSION', `frame record version ${v.getUint8(2)} at offset ${offset}; this build reads version ${FRAME_VERSION}`);
  if (v.getUint8(3) !== FRAME_HEADER_LENGTH) throw new BodycamError('E_FRAME_VERSION', `frame header length ${v.getUint8(3)} at offset ${offset}; version 1 headers are ${FRAME_HEADER_LENGTH} bytes`);
  const flags = v.getUint16(4);
  if ((flags & ~KNOWN_FLAGS) !== 0) throw new BodycamError('E_FRAME_FLAGS', `reserved frame flags set (0x${flags.toString(16)}) at offset ${offset}`);
  const clockSource = CLOCK_SOURCES[v.getUint8(11)];
  if (!clockSource) throw new BodycamError('E_FRAME_FIELD', `unknown clock source ${v.getUint8(11)} at offset ${offset}`);
  const jpegLength = v.getUint32(44);
  if (jpegLength > MAX_JPEG_LENGTH) throw new BodycamError('E_FRAME_FIELD', `JPEG length ${jpegLength} at offset ${offset} exceeds ${MAX_JPEG_LENGTH}`);
  const droppedBefore = v.getUint32(32);
  if ((droppedBefore > 0) !== ((flags & FrameFlags.AFTER_GAP) !== 0)) throw new BodycamError('E_FRAME_FIELD', `AFTER_GAP flag disagrees with the dropped count ${droppedBefore} at offset ${offset}`);
  return {
    flags,
    width: v.getUint16(6),
    height: v.getUint16(8),
    frameRate: v.getUint8(10),
    clockSource,
    frameNumber: v.getUint32(12),
    monotonicMs: v.getUint32(16) * U32 + v.getUint32(20),
    utcMs: v.getUint32(24) * U32 + v.getUint32(28),
    droppedBefore,
    gapMs: v.getUint32(36),
    droppedTotal: v.getUint32(40),
    jpegLength,
  };
}

/** One frame found in a media stream: its header, its JPEG (a view, no copy), where it starts. */
export interface MediaFrame {
  header: FrameHeader;
  jpeg: Uint8Array;
  offset: number;
}

/** A segment's media walked: its frames and its audio blocks, each in order. */
export interface SegmentMedia {
  frames: MediaFrame[];
  audio: MediaAudio[];
}

/**
 * Walk a segment's media (concatenated record payloads: frame records, and audio records in a
 * "bodycam-av/1" segment). Steps from header to header by the body length: the cost is per
 * record, not per byte. Checks each JPEG starts with SOI.
 */
export function parseSegmentMedia(data: BufferLike): SegmentMedia {
  const media = toBytes(data);
  const frames: MediaFrame[] = [];
  const audio: MediaAudio[] = [];
  let o = 0;
  while (o < media.length) {
    if (isAudioRecord(media, o)) {
      const header = decodeAudioHeader(media, o);
      const start = o + AUDIO_HEADER_LENGTH;
      const end = start + header.dataLength;
      if (end > media.length) throw new BodycamError('E_AUDIO_TRUNCATED', `audio block ${header.blockNumber} at offset ${o} claims ${header.dataLength} bytes, only ${media.length - start} remain`);
      audio.push({ header, data: media.subarray(start, end), offset: o });
      o = end;
      continue;
    }
    const header = decodeFrameHeader(media, o);
    const start = o + FRAME_HEADER_LENGTH;
    const end = start + header.jpegLength;
    if (end > media.length) throw new BodycamError('E_FRAME_TRUNCATED', `frame ${header.frameNumber} at offset ${o} claims ${header.jpegLength} JPEG bytes, only ${media.length - start} remain`);
    const jpeg = media.subarray(start, end);
    if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new BodycamError('E_FRAME_NOT_JPEG', `frame ${header.frameNumber} at offset ${o} does not start with a JPEG SOI marker`);
    frames.push({ header, jpeg, offset: o });
    o = end;
  }
  return { frames, audio };
}

/** The frames of a segment's media (parseSegmentMedia without the audio blocks). */
export function parseMedia(data: BufferLike): MediaFrame[] {
  return parseSegmentMedia(data).frames;
}
