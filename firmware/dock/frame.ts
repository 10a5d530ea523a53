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

/** Reassembles frames from arbitrary pieces of the stream. Bounded: never buffers more than one frame. */
export class FrameReader {
  #checksum: Checksum;
  // Pieces of the stream not yet consumed, joined only once a whole frame is there (a 256 KiB
  // chunk arrives in many TCP pieces: joining on every piece would copy it over and over).
  #parts: Uint8Array[] = [];
  #total = 0;
  #dead: BodycamError | undefined;
  #adopt: boolean;
  #alloc: (n: number) => Uint8Array;
  #sealedFirst: boolean;
  /**
   * `adopt`: the pieces pushed are handed over (the caller never reuses them, as with Node's
   * socket reads), so they are kept as they are rather than copied. `alloc`: where a frame that
   * spans pieces is joined (n bytes; a new array if not given), so a receiver can reuse buffers.
   * `sealedFirst`: a frame flagged sealed is handed over with its CRC not checked (`checked`
   * false), for a receiver that opens the seal first and checks the CRC only if the seal fails.
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
  /** The first n buffered bytes as one array (n ≤ buffered), joined into `alloc(n)` if they span pieces. */
  #peek(n: number, alloc: (n: number) => Uint8Array = (k) => new Uint8Array(k)): Uint8Array {
    if (this.#parts[0].length >= n) return this.#parts[0].subarray(0, n);
    const out = alloc(n);
    let o = 0;
    for (const p of this.#parts) {
      const take = Math.min(p.length, n - o);
      out.set(p.subarray(0, take), o);
      o += take;
      if (o === n) break;
    }
    return out;
  }
  /** Remove and return the first n buffered bytes. */
  #take(n: number): Uint8Array {
    const out = this.#peek(n, this.#alloc);
    let left = n;
    while (left > 0) {
      const p = this.#parts[0];
      if (p.length <= left) {
        this.#parts.shift();
        left -= p.length;
      } else {
        this.#parts[0] = p.subarray(left);
        left = 0;
      }
    }
    this.#total -= n;
    return out;
  }
  /** Feed bytes; returns every complete frame (or error) they finish. */
  push(data: BufferLike): FrameEvent[] {
    if (this.#dead) return [];
    const bytes = toBytes(data);
    if (bytes.length === 0) return [];
    this.#parts.push(this.#adopt ? bytes : bytes.slice());
    this.#total += bytes.length;
    const events: FrameEvent[] = [];
    for (;;) {
      if (this.#total === 0) break;
      const head = this.#peek(Math.min(this.#total, HEADER_BYTES));
      if (head[0] !== MAGIC0) return this.#fatal(events, 'E_PROTO_MAGIC', 'stream does not start with a bodycam frame');
      if (head.length >= 2 && head[1] !== MAGIC1) return this.#fatal(events, 'E_PROTO_MAGIC', 'stream does not start with a bodycam frame');
      if (head.length >= 3 && head[2] === OLD_PROTOCOL_VERSION) return this.#fatal(events, 'E_PROTO_DOWNGRADE', `protocol version ${OLD_PROTOCOL_VERSION} (authenticated, not encrypted) is refused: this side speaks only ${PROTOCOL_VERSION}`);
      if (head.length >= 3 && head[2] !== PROTOCOL_VERSION) return this.#fatal(events, 'E_PROTO_VERSION', `protocol version ${head[2]} (this side speaks ${PROTOCOL_VERSION})`);
      if (head.length < HEADER_BYTES) break;
      const len = new DataView(head.buffer, head.byteOffset, HEADER_BYTES).getUint32(4);
      if (len > MAX_PAYLOAD) return this.#fatal(events, 'E_PROTO_TOO_LARGE', `frame of ${len} bytes exceeds ${MAX_PAYLOAD}`);
      const total = HEADER_BYTES + len + TRAILER_BYTES;
      if (this.#total < total) break;
      const frame = this.#take(total);
      const crc = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(HEADER_BYTES + len);
      const framed = frame.subarray(0, HEADER_BYTES + len);
      const deferred = this.#sealedFirst && frame[3] === FLAG_SEALED;
      if (!deferred && !frameCrcHolds(this.#checksum, framed, crc)) {
        events.push({ kind: 'corrupt', error: frameCrcFailed(len) });
      } else {
        events.push({ kind: 'message', payload: frame.subarray(HEADER_BYTES, HEADER_BYTES + len), flags: frame[3], framed, crc, checked: !deferred });
      }
    }
    return events;
  }
  #fatal(events: FrameEvent[], code: string, message: string): FrameEvent[] {
    this.#dead = new BodycamError(code, message);
    this.#parts = [];
    this.#total = 0;
    events.push({ kind: 'fatal', error: this.#dead });
    return events;
  }
}
