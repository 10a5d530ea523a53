// Message framing on the dock link (any byte stream: TCP, USB serial). Shared by the camera and
// the dock station, so both sides agree on every byte.
//
//   offset size  field
//   0      2     magic "BD" (0x42 0x44)
//   2      1     protocol version (2)
//   3      1     flags: bit 1 (FLAG_SEALED) = the payload is counter ‖ ciphertext ‖ tag, sealed
//                 under the session's keys (session-keys.ts); every other bit 0 (bit 0 was
//                 version 1's MAC-only frame, refused now)
//   4      4     payload length, big-endian, ≤ MAX_PAYLOAD
//   8      n     payload: one CBOR item (a message map, see messages.ts)
//   8+n    4     CRC-32 (zlib) of bytes 0 .. 8+n-1, big-endian
//
// A bad CRC loses only that frame (its length was readable), so the receiver answers with an
// error and the session goes on; a bad magic, version or length means the stream can't be
// trusted to find the next frame, so the receiver answers and closes. A frame of version 1 (whose
// sessions were authenticated but not encrypted) is refused as a downgrade (E_PROTO_DOWNGRADE).
// A receiver may check a sealed frame's seal before its CRC, and the CRC only when the seal fails
// (to tell a frame corrupted on the way from a forged one): a seal that holds proves more than the
// CRC would (FrameReader's `sealedFirst`).

import { BodycamError } from '../errors.js';
import { toBytes, type BufferLike } from '../platform/buffers.js';
import type { Checksum } from '../platform/checksum.js';

export const MAGIC0 = 0x42;
export const MAGIC1 = 0x44;
export const PROTOCOL_VERSION = 2;
/** The version before: MAC-only sessions, refused by both sides (E_PROTO_DOWNGRADE). */
export const OLD_PROTOCOL_VERSION = 1;
export const HEADER_BYTES = 8;
export const TRAILER_BYTES = 4;
/** Largest payload: a 256 KiB chunk plus its message fields (and the seal's counter and tag). */
export const MAX_PAYLOAD = 256 * 1024 + 1024;
/** Frame flag: the payload is counter ‖ ciphertext ‖ tag (a session's sealed frame, session-keys.ts). */
export const FLAG_SEALED = 0x02;

/** Write a frame's header (magic, version, flags, payload length) into the first HEADER_BYTES of `buffer`. */
export function writeFrameHeader(buffer: Uint8Array, flags: number, length: number): void {
  if (length > MAX_PAYLOAD) throw new BodycamError('E_PROTO_TOO_LARGE', `message of ${length} bytes exceeds ${MAX_PAYLOAD}`);
  buffer[0] = MAGIC0;
  buffer[1] = MAGIC1;
  buffer[2] = PROTOCOL_VERSION;
  buffer[3] = flags;
  new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength).setUint32(4, length);
}

/** Write the CRC after a frame's payload; returns the whole frame. */
export function writeFrameCrc(buffer: Uint8Array, length: number, checksum: Checksum): Uint8Array {
  new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength).setUint32(HEADER_BYTES + length, checksum.crc32(buffer.subarray(0, HEADER_BYTES + length)));
  return buffer.subarray(0, HEADER_BYTES + length + TRAILER_BYTES);
}

export function frameMessage(payload: Uint8Array, checksum: Checksum): Uint8Array {
  if (payload.length > MAX_PAYLOAD) throw new BodycamError('E_PROTO_TOO_LARGE', `message of ${payload.length} bytes exceeds ${MAX_PAYLOAD}`);
  const out = new Uint8Array(HEADER_BYTES + payload.length + TRAILER_BYTES);
  const v = new DataView(out.buffer);
  out[0] = MAGIC0;
  out[1] = MAGIC1;
  out[2] = PROTOCOL_VERSION;
  out[3] = 0;
  v.setUint32(4, payload.length);
  out.set(payload, HEADER_BYTES);
  v.setUint32(HEADER_BYTES + payload.length, checksum.crc32(out.subarray(0, HEADER_BYTES + payload.length)));
  return out;
}

/** Frame a payload that was encoded with HEADER_BYTES of room before it and TRAILER_BYTES after (no copy). */
export function frameEncoded(room: { buffer: Uint8Array; length: number }, checksum: Checksum): Uint8Array {
  writeFrameHeader(room.buffer, 0, room.length);
  return writeFrameCrc(room.buffer, room.length, checksum);
}

/**
 * A whole frame: `payload` is what the header's length covers; `flags` its flags byte; `framed`
 * the header and payload together (a sealed frame's header and counter are its seal's additional
 * data); `crc` the CRC-32 the frame carries; `checked` whether the reader checked it (always, but
 * for a sealed frame read with `sealedFirst`: see frameCrcHolds).
 */
export type FrameEvent = { kind: 'message'; payload: Uint8Array; flags: number; framed: Uint8Array; crc: number; checked: boolean } | { kind: 'corrupt'; error: BodycamError } | { kind: 'fatal'; error: BodycamError };

/** Whether a frame's CRC-32 (`crc`, as it carries it) holds over its header and payload (`framed`). */
export function frameCrcHolds(checksum: Checksum, framed: Uint8Array, crc: number): boolean {
  return checksum.crc32(framed) === crc;
}

/** The error a frame of `length` payload bytes whose CRC fails is discarded with. */
export function frameCrcFailed(length: number): BodycamError {
  return new BodycamError('E_PROTO_CHECKSUM', `frame of ${length} bytes failed its CRC; discarded`);
}

/**
 * Reassembles frames from arbitrary pieces of the stream. Bounded: never holds more than one
 * frame. A frame's bytes go straight to the array it is handed over in (`alloc`, once its header
 * is read): one copy at most, however many pieces it arrives in, and none for a frame that lies
 * whole in a piece the caller hands over (`adopt`) or that was read straight into place
 * (`readInto`).
 */
export class FrameReader {
  #checksum: Checksum;
  #dead: BodycamError | undefined;
  #adopt: boolean;
  #alloc: (n: number) => Uint8Array;
  #sealedFirst: boolean;
  /** A header split across pieces, gathered here until its length is known. */
  #head = new Uint8Array(HEADER_BYTES);
  #headLength = 0;
  /** The frame being joined (header, payload and CRC) and how much of it has arrived. */
  #frame: Uint8Array | undefined;
  #filled = 0;
  #scratch: Uint8Array | undefined;
  /**
   * `adopt`: the pieces pushed are handed over (the caller never reuses them, as with Node's
   * socket reads), so a frame that lies whole in one is handed on as a view of it, not copied.
   * `alloc`: the array a frame is joined into (n bytes; a new array if not given), so a receiver
   * can reuse buffers. `sealedFirst`: a frame flagged sealed is handed over with its CRC not
   * checked (`checked` false), for a receiver that opens the seal first and checks the CRC only
   * if the seal fails.
   */
  constructor(checksum: Checksum, o: { adopt?: boolean; alloc?: (n: number) => Uint8Array; sealedFirst?: boolean } = {}) {
    this.#checksum = checksum;
    this.#adopt = o.adopt === true;
    this.#alloc = o.alloc ?? ((n) => new Uint8Array(n));
    this.#sealedFirst = o.sealedFirst === true;
  }
  get dead(): BodycamError | undefined {
    return this.#dead;
  }
  /** Feed bytes; returns every complete frame (or error) they finish. */
  push(data: BufferLike): FrameEvent[] {
    const events: FrameEvent[] = [];
    this.#consume(toBytes(data), this.#adopt, events);
    return events;
  }
  /**
   * Where the stream's next bytes may be read to, for a receiver that reads into an array it
   * names (Node's socket `onread`): the rest of the frame being joined, when at least `direct`
   * bytes of it are missing, so they land in place with no copy; else a scratch array of
   * `scratch` bytes this reader keeps. Then call wrote() with it and how many bytes landed.
   */
  readInto(scratch = 64 * 1024, direct = 16 * 1024): Uint8Array {
    if (this.#frame && this.#frame.length - this.#filled >= direct) return this.#frame.subarray(this.#filled);
    if (!this.#scratch || this.#scratch.length !== scratch) this.#scratch = new Uint8Array(scratch);
    return this.#scratch;
  }
  /** `n` bytes were read into `into`, the array readInto() gave: returns every frame (or error) they finish. */
  wrote(into: Uint8Array, n: number): FrameEvent[] {
    const events: FrameEvent[] = [];
    const frame = this.#frame;
    if (frame && into.buffer === frame.buffer && into.byteOffset === frame.byteOffset + this.#filled && !this.#dead) {
      this.#filled += Math.min(n, into.length);
      if (this.#filled === frame.length) this.#finish(events);
    } else {
      // The scratch array is read into again next time: nothing may keep a view of it.
      this.#consume(into.subarray(0, n), false, events);
    }
    return events;
  }
  #consume(bytes: Uint8Array, adopt: boolean, events: FrameEvent[]): void {
    for (let at = 0; at < bytes.length && !this.#dead; ) {
      const frame = this.#frame;
      if (frame) {
        const take = Math.min(frame.length - this.#filled, bytes.length - at);
        frame.set(bytes.subarray(at, at + take), this.#filled);
        this.#filled += take;
        at += take;
        if (this.#filled === frame.length) this.#finish(events);
        continue;
      }
      let head: Uint8Array;
      if (this.#headLength === 0 && bytes.length - at >= HEADER_BYTES) {
        head = bytes.subarray(at, at + HEADER_BYTES);
      } else {
        const take = Math.min(HEADER_BYTES - this.#headLength, bytes.length - at);
        this.#head.set(bytes.subarray(at, at + take), this.#headLength);
        this.#headLength += take;
        at += take;
        head = this.#head.subarray(0, this.#headLength);
      }
      const length = this.#readHead(head, events);
      if (length < 0) continue;
      const total = HEADER_BYTES + length + TRAILER_BYTES;
      if (head.buffer === bytes.buffer) {
        // The header lies in this piece: so may the whole frame.
        if (adopt && bytes.length - at >= total) {
          this.#emit(bytes.subarray(at, at + total), events);
          at += total;
          continue;
        }
        this.#frame = this.#alloc(total);
        this.#filled = 0;
      } else {
        this.#frame = this.#alloc(total);
        this.#frame.set(this.#head);
        this.#filled = HEADER_BYTES;
        this.#headLength = 0;
        if (this.#filled === total) this.#finish(events);
      }
    }
  }
  /** A frame's payload length from its header, or -1 when the header is still partial or the stream is dead. */
  #readHead(head: Uint8Array, events: FrameEvent[]): number {
    if (head[0] !== MAGIC0) return this.#fatal(events, 'E_PROTO_MAGIC', 'stream does not start with a bodycam frame');
    if (head.length >= 2 && head[1] !== MAGIC1) return this.#fatal(events, 'E_PROTO_MAGIC', 'stream does not start with a bodycam frame');
    if (head.length >= 3 && head[2] === OLD_PROTOCOL_VERSION) return this.#fatal(events, 'E_PROTO_DOWNGRADE', `protocol version ${OLD_PROTOCOL_VERSION} (authenticated, not encrypted) is refused: this side speaks only ${PROTOCOL_VERSION}`);
    if (head.length >= 3 && head[2] !== PROTOCOL_VERSION) return this.#fatal(events, 'E_PROTO_VERSION', `protocol version ${head[2]} (this side speaks ${PROTOCOL_VERSION})`);
    if (head.length < HEADER_BYTES) return -1;
    const length = new DataView(head.buffer, head.byteOffset, HEADER_BYTES).getUint32(4);
    if (length > MAX_PAYLOAD) return this.#fatal(events, 'E_PROTO_TOO_LARGE', `frame of ${length} bytes exceeds ${MAX_PAYLOAD}`);
    return length;
  }
  #finish(events: FrameEvent[]): void {
    const frame = this.#frame!;
    this.#frame = undefined;
    this.#filled = 0;
    this.#emit(frame, events);
  }
  #emit(frame: Uint8Array, events: FrameEvent[]): void {
    const length = frame.length - HEADER_BYTES - TRAILER_BYTES;
    const crc = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(HEADER_BYTES + length);
    const framed = frame.subarray(0, HEADER_BYTES + length);
    const deferred = this.#sealedFirst && frame[3] === FLAG_SEALED;
    if (!deferred && !frameCrcHolds(this.#checksum, framed, crc)) {
      events.push({ kind: 'corrupt', error: frameCrcFailed(length) });
    } else {
      events.push({ kind: 'message', payload: frame.subarray(HEADER_BYTES, HEADER_BYTES + length), flags: frame[3], framed, crc, checked: !deferred });
    }
  }
  #fatal(events: FrameEvent[], code: string, message: string): -1 {
    this.#dead = new BodycamError(code, message);
    this.#frame = undefined;
    this.#headLength = 0;
    events.push({ kind: 'fatal', error: this.#dead });
    return -1;
  }
}
