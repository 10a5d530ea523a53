// Segment manifests: what the camera signs for each segment, instead of the media itself.
//
// Promises:
// - The media digest is SHA-256 over the segment media, defined as the concatenation of the
//   segment's records as the recorder appends them (frame header || JPEG per frame, audio
//   header || samples per audio block; no storage framing). ManifestBuilder streams every frame into one Digest port context as it is
//   appended, so the media is never read twice and no JavaScript loop touches its bytes.
// - A manifest is deterministic CBOR (signed.ts) signed as COSE_Sign1 by the device key; the
//   same inputs give the same bytes on Node, in XS and on the camera.
// - The chain: every manifest holds the SHA-256 of the previous manifest's COSE bytes
//   (`prev`; null only for sequence 0), so a verifier can tell a gap or a substitution.

import type { ClockSource } from '../platform/clock.js';
import type { Digest, DigestContext } from '../platform/digest.js';
import type { BufferLike } from '../platform/buffers.js';
import { toBytes } from '../platform/buffers.js';
import { sha256Of } from '../platform/digest.js';
import { BodycamError } from '../errors.js';
import type { Ed25519 } from './ed25519.js';
import type { Signer } from './signer.js';
import { bytes, bytesOrNull, openStructure, peekStructure, prepareStructure, text, uint, type Fields } from './signed.js';
import { recipientsFrom, sealedValue, SEALED_SCHEME, SEALED_SCHEME_AES, type SealedRecipient } from '../encoder/sealed-record.js';
import { isUint } from '../codec/cbor.js';

export const MANIFEST_TYPE = 'bodycam/manifest/1';

/** Flags (a bit field). */
export const FLAG_PRE_EVENT = 1;
export const FLAG_RECOVERED = 2;
export const FLAG_CLEAN_CLOSE = 4;
/**
 * Signed without reading the records: a sealed segment a power cut left open, signed at the next
 * boot after its content key was gone. `frames` is 0, `dropped` the frames lost at the cut, the
 * times the segment's open time; only the decrypted records say more (docs/FORMAT.md).
 */
export const FLAG_UNREAD = 8;
const KNOWN_FLAGS = FLAG_PRE_EVENT | FLAG_RECOVERED | FLAG_CLEAN_CLOSE | FLAG_UNREAD;

/** A sealed segment's manifest entry: who can open it, and how many sealed records the media holds (END included). */
export interface ManifestSealing {
  recipients: SealedRecipient[];
  records: number;
  /** The sealing scheme (its AEAD); absent: the one this firmware writes, SEALED_SCHEME. */
  scheme?: string;
}

const CLOCK_SOURCES: readonly ClockSource[] = Object.freeze(['none', 'rtc', 'dock']);

export interface FrameTimes {
  /** Monotonic ms since boot. */
  mono: number;
  /** UTC ms as the RTC believed. */
  utc: number;
}

export interface MediaFormat {
  /** What the frame records hold, e.g. "jpeg". */
  format: string;
  width: number;
  height: number;
}

export interface Manifest {
  device: string;
  keyId: Uint8Array;
  /** Segment sequence number: 0 for a device's first segment, +1 each segment, across reboots. */
  seq: number;
  boot: number;
  recording: number;
  firstMono: number;
  firstUtc: number;
  lastMono: number;
  lastUtc: number;
  clockSource: ClockSource;
  /** UTC ms the wall clock was last set (0 if never). */
  lastSync: number;
  frames: number;
  dropped: number;
  /** Media length: the sum of every frame's header and body lengths. */
  bytes: number;
  format: string;
  width: number;
  height: number;
  /** SHA-256 of the segment media. */
  media: Uint8Array;
  /** SHA-256 of the previous manifest's COSE bytes; null for seq 0. */
  prev: Uint8Array | null;
  flags: number;
  firmware: string;
  /**
   * Sound in the segment (present only when it holds audio records): blocks, samples stored and
   * samples lost (driver overruns and blocks not stored). Absent fields mean no audio.
   */
  audioBlocks?: number;
  audioSamples?: number;
  audioDropped?: number;
  /** Present for a sealed segment (`media`, `bytes` are then the sealed media's). */
  sealed?: ManifestSealing;
}

export interface SignedManifest {
  manifest: Manifest;
  /** The COSE_Sign1 bytes, as stored beside the media. */
  bytes: Uint8Array;
  /** SHA-256 of `bytes`: what the next manifest's `prev`, checkpoints and receipts name. */
  digest: Uint8Array;
}

const CODE = 'E_MANIFEST_FORMAT';

function checkManifest(m: Manifest): void {
  const ints: (keyof Manifest)[] = ['seq', 'boot', 'recording', 'firstMono', 'firstUtc', 'lastMono', 'lastUtc', 'lastSync', 'frames', 'dropped', 'bytes', 'width', 'height', 'flags'];
  const audio = m.audioBlocks !== undefined || m.audioSamples !== undefined || m.audioDropped !== undefined;
  if (audio) ints.push('audioBlocks', 'audioSamples', 'audioDropped');
  for (const k of ints) {
    const v = m[k];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new BodycamError(CODE, `manifest field ${k} must be an unsigned integer, not ${String(v)}`);
  }
  if (m.media.length !== 32) throw new BodycamError(CODE, 'manifest media digest must be 32 bytes');
  if (m.prev !== null && m.prev.length !== 32) throw new BodycamError(CODE, 'manifest prev must be 32 bytes or null');
  if ((m.flags & ~KNOWN_FLAGS) !== 0) throw new BodycamError(CODE, `unknown manifest flags 0x${m.flags.toString(16)}`);
  if (!CLOCK_SOURCES.includes(m.clockSource)) throw new BodycamError(CODE, `unknown clock source ${String(m.clockSource)}`);
}

/** Sign a complete manifest (its keyId is set to the signer's). */
export function signManifest(fields: Manifest, signer: Signer, digest: Digest): SignedManifest {
  const prepared = prepareManifest(fields, signer.keyId, digest);
  return prepared.complete(signer.sign(prepared.toBeSigned));
}

/** A manifest ready to sign: the bytes the signature covers, and the signed manifest from it. */
export interface PreparedManifest {
  readonly manifest: Manifest;
  readonly toBeSigned: Uint8Array;
  complete(signature: Uint8Array): SignedManifest;
}

/** signManifest up to the signature (made by the key `keyId` names, possibly a slice at a time). */
export function prepareManifest(fields: Manifest, keyId: Uint8Array, digest: Digest): PreparedManifest {
  const manifest = { ...fields, keyId };
  checkManifest(manifest);
  const prepared = prepareStructure(MANIFEST_TYPE, {
    device: manifest.device,
    keyId: manifest.keyId,
    seq: manifest.seq,
    boot: manifest.boot,
    recording: manifest.recording,
    firstMono: manifest.firstMono,
    firstUtc: manifest.firstUtc,
    lastMono: manifest.lastMono,
    lastUtc: manifest.lastUtc,
    clockSource: manifest.clockSource,
    lastSync: manifest.lastSync,
    frames: manifest.frames,
    dropped: manifest.dropped,
    bytes: manifest.bytes,
    format: manifest.format,
    width: manifest.width,
    height: manifest.height,
    media: manifest.media,
    prev: manifest.prev,
    flags: manifest.flags,
    firmware: manifest.firmware,
    ...(manifest.audioBlocks === undefined ? {} : { audioBlocks: manifest.audioBlocks, audioSamples: manifest.audioSamples!, audioDropped: manifest.audioDropped! }),
    ...(manifest.sealed === undefined ? {} : { sealed: sealedValue(manifest.sealed.recipients, manifest.sealed.records, manifest.sealed.scheme) }),
  }, keyId);
  return {
    manifest,
    toBeSigned: prepared.toBeSigned,
    complete: (signature) => {
      const out = prepared.assemble(signature);
      return { manifest, bytes: out, digest: sha256Of(digest, out) };
    },
  };
}

function manifestFields(f: Fields): Manifest {
  const t = 'manifest';
  const clockSource = text(f, 'clockSource', CODE, t) as ClockSource;
  const m: Manifest = {
    device: text(f, 'device', CODE, t),
    keyId: bytes(f, 'keyId', CODE, t),
    seq: uint(f, 'seq', CODE, t),
    boot: uint(f, 'boot', CODE, t),
    recording: uint(f, 'recording', CODE, t),
    firstMono: uint(f, 'firstMono', CODE, t),
    firstUtc: uint(f, 'firstUtc', CODE, t),
    lastMono: uint(f, 'lastMono', CODE, t),
    lastUtc: uint(f, 'lastUtc', CODE, t),
    clockSource,
    lastSync: uint(f, 'lastSync', CODE, t),
    frames: uint(f, 'frames', CODE, t),
    dropped: uint(f, 'dropped', CODE, t),
    bytes: uint(f, 'bytes', CODE, t),
    format: text(f, 'format', CODE, t),
    width: uint(f, 'width', CODE, t),
    height: uint(f, 'height', CODE, t),
    media: bytes(f, 'media', CODE, t, 32),
    prev: bytesOrNull(f, 'prev', CODE, t, 32),
    flags: uint(f, 'flags', CODE, t),
    firmware: text(f, 'firmware', CODE, t),
  };
  if (f.has('audioBlocks') || f.has('audioSamples') || f.has('audioDropped')) {
    m.audioBlocks = uint(f, 'audioBlocks', CODE, t);
    m.audioSamples = uint(f, 'audioSamples', CODE, t);
    m.audioDropped = uint(f, 'audioDropped', CODE, t);
  }
  if (f.has('sealed')) {
    const s = f.get('sealed');
    const get = (k: string) => (s instanceof Map ? s.get(k) : undefined);
    const records = get('records');
    const scheme = get('scheme');
    if ((scheme !== SEALED_SCHEME && scheme !== SEALED_SCHEME_AES) || !isUint(records)) throw new BodycamError(CODE, `manifest: field "sealed" is not a ${SEALED_SCHEME} (or ${SEALED_SCHEME_AES}) map with recipients and records`);
    m.sealed = { recipients: recipientsFrom(get('recipients'), CODE), records, scheme };
  }
  checkManifest(m);
  return m;
}

/** Read a manifest without verifying its signature; also returns the COSE kid. */
export function peekManifest(cose: Uint8Array): { manifest: Manifest; kid: Uint8Array | undefined } {
  const o = peekStructure(cose, MANIFEST_TYPE, CODE);
  return { manifest: manifestFields(o.fields), kid: o.kid };
}

/** Verify a manifest's signature with the device's public key and return its fields. */
export function verifyManifest(cose: Uint8Array, publicKey: Uint8Array, ed25519?: Ed25519): Manifest {
  return manifestFields(openStructure(cose, MANIFEST_TYPE, CODE, publicKey, ed25519).fields);
}

/** SHA-256 of a manifest's COSE bytes (the chain link). */
export function manifestDigest(cose: Uint8Array, digest: Digest): Uint8Array {
  return sha256Of(digest, cose);
}

export interface ManifestBuilderOptions {
  digest: Digest;
  device: string;
  seq: number;
  boot: number;
  recording: number;
  /**
   * Digest of the previous manifest (SignedManifest.digest); null for seq 0; undefined while the
   * previous one is still being signed (chain() gives it before this one is prepared).
   */
  prev: Uint8Array | null | undefined;
  format: MediaFormat;
  firmware: string;
  /** Initial flags (FLAG_PRE_EVENT for a segment promoted from the pre-event ring). */
  flags?: number;
  /** Times to record if the segment closes with no frame. */
  opened?: FrameTimes;
  /** The segment is sealed to these recipients: every record hashed is a sealed record. */
  sealed?: readonly SealedRecipient[];
}

export interface FinishOptions {
  signer: Signer;
  /** The clock's source and last sync at close (Clock.source()). */
  clock: { source: ClockSource; lastSync: number };
  /** Flags to add at close (FLAG_CLEAN_CLOSE, FLAG_RECOVERED). */
  flags?: number;
}

/**
 * The recorder's per-segment accumulator: addFrame() for every frame appended to the segment,
 * in order, then finish() once to sign. Costs O(1) JavaScript per frame: the bytes go to the
 * Digest port.
 */
export class ManifestBuilder {
  #o: ManifestBuilderOptions;
  #ctx: DigestContext;
  #frames = 0;
  #dropped = 0;
  #bytes = 0;
  #audioBlocks = 0;
  #audioSamples = 0;
  #audioDropped = 0;
  #flags: number;
  #first: FrameTimes | undefined;
  #last: FrameTimes | undefined;
  #finished = false;
  #records = 0;

  #prev: Uint8Array | null | undefined;

  constructor(o: ManifestBuilderOptions) {
    if (o.seq === 0 ? o.prev !== null : !(o.prev === undefined || (o.prev instanceof Uint8Array && o.prev.length === 32))) {
      throw new BodycamError('E_MANIFEST_CHAIN', o.seq === 0 ? 'segment 0 has no previous manifest (prev must be null)' : `segment ${o.seq} needs the 32-byte digest of manifest ${o.seq - 1}`);
    }
    this.#o = o;
    this.#prev = o.prev;
    this.#flags = o.flags ?? 0;
    this.#ctx = o.digest.create('SHA256');
  }

  /** The previous manifest's digest, once it is signed (a builder opened with prev undefined). */
  chain(prev: Uint8Array): void {
    if (this.#prev !== undefined) throw new BodycamError('E_MANIFEST_CHAIN', `segment ${this.#o.seq} is already chained`);
    if (!(prev instanceof Uint8Array && prev.length === 32)) throw new BodycamError('E_MANIFEST_CHAIN', `segment ${this.#o.seq} needs the 32-byte digest of manifest ${this.#o.seq - 1}`);
    this.#prev = prev;
  }

  get frames(): number {
    return this.#frames;
  }
  get bytes(): number {
    return this.#bytes;
  }
  get seq(): number {
    return this.#o.seq;
  }

  /** One frame record appended to the segment: its header, its JPEG, and its times. */
  addFrame(header: BufferLike, body: BufferLike, times: FrameTimes): void {
    if (this.#last && times.mono < this.#last.mono) throw new BodycamError('E_MANIFEST_TIME', `frame time ${times.mono} ms is before the previous frame's ${this.#last.mono} ms`);
    this.#hash(header, body);
    this.#frames++;
    if (!this.#first) this.#first = { mono: times.mono, utc: times.utc };
    this.#last = { mono: times.mono, utc: times.utc };
  }

  /**
   * One audio record appended to the segment (audio-record.ts): hashed into the media like a
   * frame, counted as sound, not as a frame; its time does not move the frame times.
   */
  addAudio(header: BufferLike, body: BufferLike, samples: number, droppedBefore: number): void {
    this.#hash(header, body);
    this.#audioBlocks++;
    this.#audioSamples += samples;
    this.#audioDropped += droppedBefore;
  }

  /** A record's header and body into the media digest and length. */
  #hash(header: BufferLike, body: BufferLike): void {
    if (this.#finished) throw new BodycamError('E_MANIFEST_FINISHED', `segment ${this.#o.seq} is already signed`);
    const h = toBytes(header);
    const b = toBytes(body);
    this.#ctx.write(h);
    this.#ctx.write(b);
    this.#bytes += h.byteLength + b.byteLength;
    this.#records++;
  }

  /** A sealed segment's END record (sealed-record.ts), the media's last: hashed, counted as a record. */
  addEnd(record: BufferLike): void {
    if (!this.#o.sealed) throw new BodycamError('E_ARGUMENT', `segment ${this.#o.seq} is not sealed; it has no END record`);
    this.#hash(record, new Uint8Array(0));
  }

  /** Sealed records a recovered segment holds that the camera could not read (FLAG_UNREAD): hashed as they are, counted as records only. */
  addUnread(header: BufferLike, body: BufferLike): void {
    this.#hash(header, body);
  }

  /** Frames the sensor produced that were not stored (counted, never hidden). */
  addDropped(count = 1): void {
    this.#dropped += count;
  }

  addFlags(flags: number): void {
    this.#flags |= flags;
  }

  /** Close the digest and sign the manifest. */
  finish(f: FinishOptions): SignedManifest {
    const prepared = this.prepare({ keyId: f.signer.keyId, clock: f.clock, flags: f.flags });
    return prepared.complete(f.signer.sign(prepared.toBeSigned));
  }

  /** Close the digest and make the manifest, to be signed by the key `keyId` names (finish() without the signature). */
  prepare(f: { keyId: Uint8Array; clock: FinishOptions['clock']; flags?: number }): PreparedManifest {
    if (this.#finished) throw new BodycamError('E_MANIFEST_FINISHED', `segment ${this.#o.seq} is already signed`);
    const prev = this.#prev;
    if (prev === undefined) throw new BodycamError('E_MANIFEST_CHAIN', `segment ${this.#o.seq} is not chained yet: manifest ${this.#o.seq - 1} is still being signed`);
    this.#finished = true;
    const media = new Uint8Array(this.#ctx.close());
    const opened = this.#o.opened ?? { mono: 0, utc: 0 };
    const first = this.#first ?? opened;
    const last = this.#last ?? first;
    const o = this.#o;
    return prepareManifest({
      device: o.device,
      keyId: f.keyId,
      seq: o.seq,
      boot: o.boot,
      recording: o.recording,
      firstMono: first.mono,
      firstUtc: first.utc,
      lastMono: last.mono,
      lastUtc: last.utc,
      clockSource: f.clock.source,
      lastSync: f.clock.lastSync,
      frames: this.#frames,
      dropped: this.#dropped,
      bytes: this.#bytes,
      format: o.format.format,
      width: o.format.width,
      height: o.format.height,
      media,
      prev,
      flags: this.#flags | (f.flags ?? 0),
      firmware: o.firmware,
      ...(this.#audioBlocks > 0 ? { audioBlocks: this.#audioBlocks, audioSamples: this.#audioSamples, audioDropped: this.#audioDropped } : {}),
      ...(o.sealed ? { sealed: { recipients: o.sealed.slice(), records: this.#records, scheme: SEALED_SCHEME } } : {}),
    }, f.keyId, o.digest);
  }
}
