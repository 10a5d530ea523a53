// Flash (block device) port, shaped on Moddable's `embedded:storage/flash`: a partition opened
// by path, read/write at byte offsets, erase in whole blocks, status() for the geometry.
// NOR rules hold: erased bytes read `eraseValue` (0xFF); a write can only clear bits; writes
// start and end on `writeAlign`. On a device backed by an SD card the same port is a region
// of the card (512-byte sectors, no erase: an erase is a write of 0xFF, a write replaces),
// whose status() says `lossUnit`: how much a power cut may destroy around a write in flight.

import type { BufferLike } from './buffers.js';

export interface FlashStatus {
  /** Bytes in the partition (blocks × blockLength). */
  size: number;
  blockLength: number;
  blocks: number;
  /** Writes must start and end on multiples of this. */
  writeAlign: number;
  eraseValue: number;
  /**
   * Bytes (a power of two, aligned) that a power cut during a write may corrupt around it,
   * including bytes written earlier: an SD card's internal page (16–64 KiB). Absent on NOR,
   * where a cut damages at most the program page in flight.
   */
  lossUnit?: number;
}

export interface FlashOptions {
  /** Partition name, e.g. "bodycam-store". */
  path: string;
}

export interface Flash {
  /** Read `length` bytes at `offset` into a new ArrayBuffer. */
  read(length: number, offset: number): ArrayBuffer;
  /** Program `buffer` at `offset` (aligned); can only clear bits. */
  write(buffer: BufferLike, offset: number): void;
  /** Erase blocks [start, end). */
  eraseBlock(start: number, end?: number): void;
  status(): FlashStatus;
  close(): void;
}

export type FlashConstructor = new (options: FlashOptions) => Flash;
