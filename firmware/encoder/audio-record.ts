// Audio records: one block of microphone samples inside a segment, beside the frame records.
//
// An audio block is ONE storage record whose payload is a fixed 48-byte audio header followed by
// the block's coded samples. It sits in the same segment media as the frame records (the
// concatenation of record payloads in the order the recorder appended them), so it is hashed into
// the same manifest, uploaded, verified and freed with the video. The header starts "AU" where a
// frame header starts "FR"; the monotonic time (offset 16), the UTC time (offset 24) and the clock
// source (offset 11) sit where a frame header has them, so the store's pre-event ring and the
// recorder read a record's time the same way for both kinds. Big-endian header; the samples are
// what the codec says (PCM: signed 16-bit little-endian, as the microphone driver delivers them
// and as WAV and AVI carry them — no JavaScript touches a PCM sample). Every field is in
// docs/FORMAT.md, "Audio records".
//
// Promises: encoding never allocates per block (AudioHeaderEncoder reuses one buffer); decoding
// is strict (a wrong magic, version, codec, flag or length is an error with a stable code).

import { BodycamError } from '../errors.js';
import { toBytes, type BufferLike } from '../platform/buffers.js';
import type { ClockSource } from '../platform/clock.js';

export const AUDIO_MAGIC_0 = 0x41; // 'A'
export const AUDIO_MAGIC_1 = 0x55; // 'U'
export const AUDIO_VERSION = 1;
export const AUDIO_HEADER_LENGTH = 48;
/** Largest block a record may carry (1 MiB: 32 s of 16 kHz PCM; the capture writes 200 ms). */
export const MAX_AUDIO_LENGTH = 1024 * 1024;

/** Sample codings of an audio block. */
export const AudioCodec = Object.freeze({
  /** Linear PCM, signed 16-bit little-endian, 2 bytes a sample. */
  PCM_S16LE: 1,
  /** IMA ADPCM, 4 bits a sample, low nibble first; the block's predictor and step index are in the header. */
  IMA_ADPCM: 2,
} as const);
export type AudioCodecId = 1 | 2;

/** Audio flags (u16); same bits as the frame flags where the meaning is the same. Others reserved, 0. */
export const AudioFlags = Object.freeze({
  /** Captured into the pre-event buffer, before recording was triggered. */
  PRE_EVENT: 0x0002,
  /** Samples were lost just before this block (droppedBefore > 0). */
  AFTER_GAP: 0x0004,
  /** First block since the microphone started (its time is an anchor, not a continuation). */
  FIRST: 0x0008,
  /** Of the samples lost before this block, some were lost because storing a block failed. */
  STORAGE_DROP: 0x0010,
  /** Of the samples lost before this block, some never reached the firmware (driver overrun). */
  DRIVER_DROP: 0x0020,
});
const KNOWN_FLAGS = 0x003e;

const CLOCK_SOURCES: readonly ClockSource[] = Object.freeze(['none', 'rtc', 'dock']);

export interface AudioHeader {
  flags: number;
  codec: AudioCodecId;
  channels: number;
  /** Samples per second (1..65535). */
  sampleRate: number;
  clockSource: ClockSource;
  /** Counts stored blocks from the microphone's start, without holes. */
  blockNumber: number;
  /** Clock port monotonic ms of the block's first sample. */
  monotonicMs: number;
  /** Clock port UTC ms of the block's first sample. */
  utcMs: number;
  /** Samples lost between the previous stored block and this one. */
  droppedBefore: number;
  /** Samples in this block. */
  sampleCount: number;
  /** IMA ADPCM: the decoder state at the block's first sample (0 for PCM). */
  predictor: number;
  stepIndex: number;
  /** Bytes of coded samples after the header. */
  dataLength: number;
}

const U32 = 0x1_0000_0000;

function checkUint(v: number, max: number, what: string): void {
  if (!Number.isSafeInteger(v) || v < 0 || v > max) throw new BodycamError('E_AUDIO_FIELD', `audio header ${what} must be an integer in 0..${max}, got ${v}`);
}

/** Bytes `sampleCount` samples take in `codec` (mono). */
export function audioDataLength(codec: number, sampleCount: number): number {
  return codec === AudioCodec.PCM_S16LE ? 2 * sampleCount : (sampleCount + 1) >> 1;
}

/** Encodes audio headers into one reused 48-byte buffer (no allocation per block). */
export class AudioHeaderEncoder {
  readonly #bytes = new Uint8Array(AUDIO_HEADER_LENGTH);
  readonly #view = new DataView(this.#bytes.buffer);

  /** The header's bytes; valid until the next call. */
  encode(h: AudioHeader): Uint8Array {
    const v = this.#view;
    const source = CLOCK_SOURCES.indexOf(h.clockSource);
    if (source < 0) throw new BodycamError('E_AUDIO_FIELD', `unknown clock source ${String(h.clockSource)}`);
    if ((h.flags & ~KNOWN_FLAGS) !== 0) throw new BodycamError('E_AUDIO_FIELD', `unknown audio flags 0x${h.flags.toString(16)}`);
    if (h.codec !== AudioCodec.PCM_S16LE && h.codec !== AudioCodec.IMA_ADPCM) throw new BodycamError('E_AUDIO_FIELD', `unknown audio codec ${String(h.codec)}`);
    if (h.channels !== 1) throw new BodycamError('E_AUDIO_FIELD', `audio records are mono, not ${h.channels} channels`);
    checkUint(h.sampleRate, 0xffff, 'sample rate');
    checkUint(h.blockNumber, U32 - 1, 'block number');
    checkUint(h.monotonicMs, Number.MAX_SAFE_INTEGER, 'monotonic time');
    checkUint(h.utcMs, Number.MAX_SAFE_INTEGER, 'UTC time');
    checkUint(h.droppedBefore, U32 - 1, 'dropped count');
    checkUint(h.sampleCount, U32 - 1, 'sample count');
    checkUint(h.stepIndex, 88, 'step index');
    if (!Number.isInteger(h.predictor) || h.predictor < -32768 || h.predictor > 32767) throw new BodycamError('E_AUDIO_FIELD', `audio predictor ${h.predictor} is not a 16-bit sample`);
    if (h.dataLength !== audioDataLength(h.codec, h.sampleCount) || h.dataLength > MAX_AUDIO_LENGTH) throw new BodycamError('E_AUDIO_FIELD', `${h.sampleCount} samples take ${audioDataLength(h.codec, h.sampleCount)} bytes in codec ${h.codec}, not ${h.dataLength} (at most ${MAX_AUDIO_LENGTH})`);
    v.setUint8(0, AUDIO_MAGIC_0);
    v.setUint8(1, AUDIO_MAGIC_1);
    v.setUint8(2, AUDIO_VERSION);
    v.setUint8(3, AUDIO_HEADER_LENGTH);
    v.setUint16(4, h.flags);
    v.setUint8(6, h.codec);
    v.setUint8(7, h.channels);
    v.setUint16(8, h.sampleRate);
    v.setUint8(10, 16);
    v.setUint8(11, source);
    v.setUint32(12, h.blockNumber);
    v.setUint32(16, Math.floor(h.monotonicMs / U32));
    v.setUint32(20, h.monotonicMs % U32);
    v.setUint32(24, Math.floor(h.utcMs / U32));
    v.setUint32(28, h.utcMs % U32);
    v.setUint32(32, h.droppedBefore);
    v.setUint32(36, h.sampleCount);
    v.setInt16(40, h.predictor);
    v.setUint8(42, h.stepIndex);
    v.setUint8(43, 0);
    v.setUint32(44, h.dataLength);
    return this.#bytes;
  }
}

/** A fresh copy of one encoded header (for tests and tools; the capture path uses the encoder). */
export function encodeAudioHeader(h: AudioHeader): Uint8Array {
  return new AudioHeaderEncoder().encode(h).slice();
}

/** Is there an audio record (magic "AU") at `offset`? */
export function isAudioRecord(bytes: Uint8Array, offset = 0): boolean {
  return bytes.length - offset >= 2 && bytes[offset] === AUDIO_MAGIC_0 && bytes[offset + 1] === AUDIO_MAGIC_1;
}

/** Decode the audio header at `offset` of `bytes`. Strict: any doubt is an error. */
export function decodeAudioHeader(data: BufferLike, offset = 0): AudioHeader {
  const bytes = toBytes(data);
  if (bytes.length - offset < AUDIO_HEADER_LENGTH) throw new BodycamError('E_AUDIO_TRUNCATED', `an audio header needs ${AUDIO_HEADER_LENGTH} bytes, ${bytes.length - offset} left at offset ${offset}`);
  const v = new DataView(bytes.buffer, bytes.byteOffset + offset, AUDIO_HEADER_LENGTH);
  if (v.getUint8(0) !== AUDIO_MAGIC_0 || v.getUint8(1) !== AUDIO_MAGIC_1) throw new BodycamError('E_AUDIO_MAGIC', `no audio record at offset ${offset} (magic is not "AU")`);
  if (v.getUint8(2) !== AUDIO_VERSION || v.getUint8(3) !== AUDIO_HEADER_LENGTH) throw new BodycamError('E_AUDIO_VERSION', `audio record version ${v.getUint8(2)} (header ${v.getUint8(3)} bytes) at offset ${offset}; this build reads version ${AUDIO_VERSION} (${AUDIO_HEADER_LENGTH} bytes)`);
  const flags = v.getUint16(4);
  if ((flags & ~KNOWN_FLAGS) !== 0) throw new BodycamError('E_AUDIO_FLAGS', `reserved audio flags set (0x${flags.toString(16)}) at offset ${offset}`);
  const codec = v.getUint8(6);
  if (codec !== AudioCodec.PCM_S16LE && codec !== AudioCodec.IMA_ADPCM) throw new BodycamError('E_AUDIO_CODEC', `unknown audio codec ${codec} at offset ${offset}`);
  if (v.getUint8(7) !== 1 || v.getUint8(10) !== 16 || v.getUint8(43) !== 0) throw new BodycamError('E_AUDIO_FIELD', `audio record at offset ${offset} is not 16-bit mono`);
  const clockSource = CLOCK_SOURCES[v.getUint8(11)];
  if (!clockSource) throw new BodycamError('E_AUDIO_FIELD', `unknown clock source ${v.getUint8(11)} at offset ${offset}`);
  const droppedBefore = v.getUint32(32);
  if ((droppedBefore > 0) !== ((flags & AudioFlags.AFTER_GAP) !== 0)) throw new BodycamError('E_AUDIO_FIELD', `AFTER_GAP flag disagrees with the dropped count ${droppedBefore} at offset ${offset}`);
  const sampleCount = v.getUint32(36);
  const dataLength = v.getUint32(44);
  const stepIndex = v.getUint8(42);
  if (dataLength !== audioDataLength(codec, sampleCount) || dataLength > MAX_AUDIO_LENGTH || stepIndex > 88) throw new BodycamError('E_AUDIO_FIELD', `audio record at offset ${offset}: ${sampleCount} samples in codec ${codec} can't be ${dataLength} bytes (step index ${stepIndex})`);
  return {
    flags,
    codec: codec as AudioCodecId,
    channels: 1,
    sampleRate: v.getUint16(8),
    clockSource,
    blockNumber: v.getUint32(12),
    monotonicMs: v.getUint32(16) * U32 + v.getUint32(20),
    utcMs: v.getUint32(24) * U32 + v.getUint32(28),
    droppedBefore,
    sampleCount,
    predictor: v.getInt16(40),
    stepIndex,
    dataLength,
  };
}

/** One audio block found in a media stream: its header, its coded samples (a view), where it starts. */
export interface MediaAudio {
  header: AudioHeader;
  data: Uint8Array;
  offset: number;
}
