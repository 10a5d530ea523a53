// Flash port over a partition of an SD card, reached sector by sector (bodycam/native's SD
// functions: ESP-IDF's SD-over-SPI driver). No file system is involved: the evidence partition
// is an MBR partition of type 0xDA ("non-file-system data") that the armoury creates once,
// aligned to the card's loss unit; the store writes only inside it, so a power cut can never
// damage a FAT table, and nothing but the store's own records is ever written while recording.
//
// An SD card has no erase a host can rely on: eraseBlock writes 0xFF over the block (the store's
// format needs erased = 0xFF). A card may destroy a whole internal page (16–64 KiB) around a
// write cut short; status() says `lossUnit` (from the board file) and the store keeps every
// committed record out of the unit it writes next. Blocks are whole loss units.

import { BodycamError } from '../errors.js';
import { toBytes, type BufferLike } from '../platform/buffers.js';
import type { Flash, FlashConstructor, FlashOptions, FlashStatus } from '../platform/flash.js';

export const SECTOR = 512;
/** MBR partition type of the evidence partition: 0xDA, "non-file-system data". */
export const EVIDENCE_PARTITION_TYPE = 0xda;

/** The SD sector functions of bodycam/native. */
export interface SdNative {
  /** Start the card on the SPI pins; returns its size in 512-byte sectors. */
  sdOpen(cs: number, sck: number, miso: number, mosi: number): number;
  /** Read whole sectors into `buffer` from `sector` on. */
  sdRead(buffer: Uint8Array, sector: number): void;
  /** Write whole sectors of `buffer` at `sector`; returns when the card has them. */
  sdWrite(buffer: Uint8Array, sector: number): void;
  sdClose(): void;
}

export interface SdPins {
  cs: number;
  sck: number;
  miso: number;
  mosi: number;
}

export interface SdFlashOptions {
  sd: SdNative;
  pins: SdPins;
  blockLength: number;
  lossUnit: number;
}

/** The evidence partition in a master boot record: first and count of sectors, or a reason there is none. */
export function findEvidencePartition(mbr: Uint8Array, cardSectors: number): { first: number; sectors: number } | string {
  if (mbr.length < SECTOR || mbr[510] !== 0x55 || mbr[511] !== 0xaa) return 'the card has no partition table';
  const v = new DataView(mbr.buffer, mbr.byteOffset, SECTOR);
  for (let i = 0; i < 4; i++) {
    const e = 446 + i * 16;
    if (mbr[e + 4] !== EVIDENCE_PARTITION_TYPE) continue;
    const first = v.getUint32(e + 8, true);
    const sectors = v.getUint32(e + 12, true);
    if (first === 0 || sectors === 0 || first + sectors > cardSectors) return `partition ${i + 1} (type 0xDA) lies outside the card`;
    return { first, sectors };
  }
  return 'the card has no evidence partition (MBR type 0xDA)';
}

export function sdFlash({ sd, pins, blockLength, lossUnit }: SdFlashOptions): FlashConstructor {
  if (blockLength % lossUnit !== 0 || lossUnit % SECTOR !== 0) {
    throw new BodycamError('E_FLASH_GEOMETRY', `SD blocks of ${blockLength} bytes are not whole ${lossUnit}-byte loss units of whole sectors`);
  }
  return class SdFlash implements Flash {
    #first = 0;
    #open = false;
    #status: FlashStatus;
    #erased: Uint8Array | undefined;
    #path: string;
    constructor({ path }: FlashOptions) {
      this.#path = path;
      let cardSectors: number;
      try {
        cardSectors = sd.sdOpen(pins.cs, pins.sck, pins.miso, pins.mosi);
      } catch (e) {
        throw new BodycamError('E_SD_CARD', `no SD card answers (CS on GPIO${pins.cs}): insert the camera's card`, e);
      }
      this.#open = true;
      const mbr = new Uint8Array(SECTOR);
      sd.sdRead(mbr, 0);
      const found = findEvidencePartition(mbr, cardSectors);
      if (typeof found === 'string') throw new BodycamError('E_SD_PARTITION', `${found}: prepare the card in the armoury (README, "The SD card")`);
      if ((found.first * SECTOR) % lossUnit !== 0) throw new BodycamError('E_SD_PARTITION', `the evidence partition starts at sector ${found.first}, not on a ${lossUnit}-byte boundary: prepare the card again`);
      this.#first = found.first;
      const blocks = Math.floor((found.sectors * SECTOR) / blockLength);
      this.#status = Object.freeze({ size: blocks * blockLength, blockLength, blocks, writeAlign: SECTOR, eraseValue: 0xff, lossUnit });
    }
    #range(offset: number, length: number, what: string): void {
      if (!this.#open) throw new BodycamError('E_FLASH_CLOSED', `SD partition "${this.#path}" is closed`);
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.#status.size) {
        throw new BodycamError('E_FLASH_RANGE', `${what} of ${length} bytes at ${offset} is outside SD partition "${this.#path}" (${this.#status.size} bytes)`);
      }
    }
    read(length: number, offset: number): ArrayBuffer {
      this.#range(offset, length, 'read');
      // Whole sectors from the card; the bytes asked for out of them.
      const from = Math.floor(offset / SECTOR);
      const to = Math.ceil((offset + length) / SECTOR);
      const sectors = new Uint8Array((to - from) * SECTOR);
      if (sectors.length) sd.sdRead(sectors, this.#first + from);
      const skip = offset - from * SECTOR;
      return sectors.buffer.slice(skip, skip + length);
    }
    write(buffer: BufferLike, offset: number): void {
      const bytes = toBytes(buffer);
      this.#range(offset, bytes.byteLength, 'write');
      if (offset % SECTOR !== 0 || bytes.byteLength % SECTOR !== 0) {
        throw new BodycamError('E_FLASH_ALIGN', `write of ${bytes.byteLength} bytes at ${offset} is not whole ${SECTOR}-byte sectors`);
      }
      if (bytes.byteLength) sd.sdWrite(bytes, this.#first + offset / SECTOR);
    }
    eraseBlock(start: number, end: number = start + 1): void {
      const s = this.#status;
      if (!this.#open) throw new BodycamError('E_FLASH_CLOSED', `SD partition "${this.#path}" is closed`);
      if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end <= start || end > s.blocks) {
        throw new BodycamError('E_FLASH_RANGE', `erase of blocks [${start}, ${end}) is outside SD partition "${this.#path}" (${s.blocks} blocks)`);
      }
      // 0xFF written a loss unit at a time (one buffer, made on the first erase, not at load).
      const ones = (this.#erased ??= new Uint8Array(lossUnit).fill(0xff));
      for (let a = start * blockLength; a < end * blockLength; a += lossUnit) sd.sdWrite(ones, this.#first + a / SECTOR);
    }
    status(): FlashStatus {
      return this.#status;
    }
    close(): void {
      if (this.#open) sd.sdClose();
      this.#open = false;
    }
  };
}
