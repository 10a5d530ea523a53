// Record framing on flash: every record (a frame, a segment's meta or trailer, a metadata-log
// entry) is a 16-byte head followed by its payload, starting on a program-page boundary.
//
//   0  u8   type        FRAME 0x01, META 0x02, TRAILER 0x03, HEAD 0x10, DELTA 0x11 (never 0xFF)
//   1  u8   magic       0xB5
//   2  u16  headerLength   first part of the payload (a frame header; 0 for the others)
//   4  u32  bodyLength     second part of the payload
//   8  u32  owner       the segment id (records) or the slot revision (metadata entries)
//   12 u32  crc         CRC-32 of bytes 0..11, then the payload, through the Checksum port
//
// Big-endian. The payload is opaque here. A record occupies align(16 + payload, page) bytes;
// the padding is never programmed. Nothing in this module loops over payload bytes.

import type { BufferLike } from '../platform/buffers.js';
import type { Checksum } from '../platform/checksum.js';

export const RECORD_HEAD = 16;
export const RECORD_MAGIC = 0xb5;

export const RecordType = Object.freeze({
  FRAME: 0x01,
  META: 0x02,
  TRAILER: 0x03,
  HEAD: 0x10,
  DELTA: 0x11,
});

export interface RecordHead {
  type: number;
  headerLength: number;
  bodyLength: number;
  owner: number;
  crc: number;
}

/** `n` rounded up to a multiple of `unit` (a power of two). */
export function alignUp(n: number, unit: number): number {
  return Math.ceil(n / unit) * unit;
}

/** Bytes a record with this payload occupies on flash. */
export function recordSpan(payloadLength: number, page: number): number {
  return alignUp(RECORD_HEAD + payloadLength, page);
}

/** The 16-byte head of a record, its CRC computed through the port over head and payload. */
export function encodeRecordHead(checksum: Checksum, type: number, owner: number, header: Uint8Array, body: BufferLike | undefined): Uint8Array {
  const bodyLength = body ? body.byteLength : 0;
  const h = new Uint8Array(RECORD_HEAD);
  const v = new DataView(h.buffer);
  h[0] = type;
  h[1] = RECORD_MAGIC;
  v.setUint16(2, header.length);
  v.setUint32(4, bodyLength);
  v.setUint32(8, owner >>> 0);
  let crc = checksum.crc32(h.subarray(0, 12));
  if (header.length) crc = checksum.crc32(header, crc);
  if (body && bodyLength) crc = checksum.crc32(body, crc);
  v.setUint32(12, crc >>> 0);
  return h;
}

/** 'erased' if the 16 bytes are all 0xFF, undefined if they are not a plausible head. */
export function parseRecordHead(h: Uint8Array): RecordHead | 'erased' | undefined {
  let ones = true;
  for (let i = 0; i < RECORD_HEAD; i++) if (h[i] !== 0xff) ones = false;
  if (ones) return 'erased';
  if (h[1] !== RECORD_MAGIC) return undefined;
  const type = h[0];
  if (type !== RecordType.FRAME && type !== RecordType.META && type !== RecordType.TRAILER && type !== RecordType.HEAD && type !== RecordType.DELTA) return undefined;
  const v = new DataView(h.buffer, h.byteOffset, RECORD_HEAD);
  return { type, headerLength: v.getUint16(2), bodyLength: v.getUint32(4), owner: v.getUint32(8), crc: v.getUint32(12) };
}

/** True if `payload` (header || body, as read back) matches the head's CRC. */
export function recordCrcMatches(checksum: Checksum, head: Uint8Array, payload: Uint8Array, crc: number): boolean {
  let c = checksum.crc32(head.subarray(0, 12));
  if (payload.length) c = checksum.crc32(payload, c);
  return c >>> 0 === crc >>> 0;
}
