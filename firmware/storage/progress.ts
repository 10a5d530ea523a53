// The progress journal, on media that lose a whole unit around a cut write (an SD card): after
// every frame of an evidence segment the store writes one sector saying how many frames the
// segment holds, alternately into two blocks of their own (A, B, A, …). A cut that destroys
// the unit of the frames in flight leaves this journal whole, and a cut during a journal write
// destroys only that block, so the other holds the count one frame earlier. Recovery compares
// the newest count with what it walks: the frames a cut destroyed are counted, not guessed.
//
// Entry (one 512-byte sector, the rest 0xFF), big-endian:
//   0 u32 magic 0x42435052 ("BCPR")   4 u32 generation (grows by one per entry)
//   8 u32 segment id   12 u32 frame records   16 u32 media bytes (high)   20 u32 media bytes (low)
//   24 u32 CRC-32 of bytes 0..23
// Entry g goes to block (g mod 2), sector (floor(g / 2) mod sectorsPerBlock): the journal
// wraps, overwriting entries long superseded. Mount reads both blocks once (a fixed cost).

import type { Checksum } from '../platform/checksum.js';
import type { Flash } from '../platform/flash.js';

export const PROGRESS_MAGIC = 0x42435052;
export const PROGRESS_SECTOR = 512;
const ENTRY = 28;

export interface Progress {
  generation: number;
  id: number;
  records: number;
  media: number;
}

export class ProgressJournal {
  #flash: Flash;
  #checksum: Checksum;
  #first: number;
  #blockLength: number;
  #next = 1;
  #sector: Uint8Array | undefined;

  /** The journal in blocks `first` and `first + 1`. */
  constructor(o: { flash: Flash; checksum: Checksum; first: number; blockLength: number }) {
    this.#flash = o.flash;
    this.#checksum = o.checksum;
    this.#first = o.first;
    this.#blockLength = o.blockLength;
  }

  /** An empty journal (both blocks erased). */
  format(): void {
    this.#flash.eraseBlock(this.#first, this.#first + 2);
    this.#next = 1;
  }

  /** Read both blocks: the newest whole entry (undefined if none); later entries follow it. */
  scan(): Progress | undefined {
    let best: Progress | undefined;
    for (let b = 0; b < 2; b++) {
      const bytes = new Uint8Array(this.#flash.read(this.#blockLength, (this.#first + b) * this.#blockLength));
      const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let at = 0; at + ENTRY <= bytes.length; at += PROGRESS_SECTOR) {
        if (v.getUint32(at) !== PROGRESS_MAGIC) continue;
        if (this.#checksum.crc32(bytes.subarray(at, at + 24)) >>> 0 !== v.getUint32(at + 24)) continue;
        const generation = v.getUint32(at + 4);
        if (best && generation <= best.generation) continue;
        best = { generation, id: v.getUint32(at + 8), records: v.getUint32(at + 12), media: v.getUint32(at + 16) * 4294967296 + v.getUint32(at + 20) };
      }
    }
    this.#next = best ? best.generation + 1 : 1;
    return best;
  }

  /** Segment `id` now holds `records` frames, `media` bytes. */
  note(id: number, records: number, media: number): void {
    const g = this.#next;
    const s = (this.#sector ??= new Uint8Array(PROGRESS_SECTOR));
    s.fill(0xff);
    const v = new DataView(s.buffer);
    v.setUint32(0, PROGRESS_MAGIC);
    v.setUint32(4, g >>> 0);
    v.setUint32(8, id >>> 0);
    v.setUint32(12, records >>> 0);
    v.setUint32(16, Math.floor(media / 4294967296));
    v.setUint32(20, media >>> 0);
    v.setUint32(24, this.#checksum.crc32(s.subarray(0, 24)) >>> 0);
    const perBlock = this.#blockLength / PROGRESS_SECTOR;
    const block = this.#first + (g % 2);
    this.#flash.write(s, block * this.#blockLength + (Math.floor(g / 2) % perBlock) * PROGRESS_SECTOR);
    this.#next = g + 1;
  }
}
