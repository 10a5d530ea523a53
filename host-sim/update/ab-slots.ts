// A simulated A/B slot pair over the Flash port, standing in for what `embedded:update` and the
// ESP-IDF bootloader do on a camera (two OTA partitions and an otadata selector), with a
// "boot" that picks the committed image. Pure ECMAScript: it runs inside XS with the firmware,
// reaching the flash only through the Flash port, so a power cut can hit any of its operations.
//
// Layout of the partition (blocks of `blockLength`):
//   block 0, block 1   control records (two copies; record seq n lives in block n % 2)
//   slot A, slot B     `slotBlocks` blocks each: a payload, from the slot's first byte
//
// A control record (52 bytes at the start of its block, little-endian):
//   magic u32 "BCOT" | seq u32 | slot u8 | 3 zero bytes | length u32 | sha256 32 | crc32 u32
// The CRC-32 (Checksum port) covers the 48 bytes before it.
//
// Promises:
// - writes go only to the slot that is not booted; the booted slot and its record are never
//   touched before commit;
// - commit (complete()) reads the payload back, hashes it through the Digest port, then erases
//   and programs the older control block: a cut anywhere before the program ends leaves the
//   old record the newest valid one, so the old image boots;
// - boot() takes valid records newest first and boots the first whose slot hashes to the
//   record's SHA-256 — a torn slot never boots.

import { BodycamError } from '../../firmware/errors.js';
import { toBytes, type BufferLike } from '../../firmware/platform/buffers.js';
import type { Checksum } from '../../firmware/platform/checksum.js';
import type { Digest } from '../../firmware/platform/digest.js';
import type { Flash } from '../../firmware/platform/flash.js';
import { sameBytes } from '../../firmware/signing/signer.js';
import type { UpdateTarget, UpdateTargetOpener, UpdateTargetOptions } from '../../firmware/update/target.js';

export const OTA_PARTITION = 'bodycam-ota';
const RECORD_MAGIC = 0x544f4342; // "BCOT" read as little-endian u32
const RECORD_SIZE = 52;
const CONTROL_BLOCKS = 2;

export interface SlotRecord {
  seq: number;
  slot: number;
  length: number;
  sha256: Uint8Array;
}

export interface AbSlotsOptions {
  flash: Flash;
  digest: Digest;
  checksum: Checksum;
  /** Bytes per program operation (the NOR page): payload writes are buffered to it. */
  pageLength?: number;
}

export class AbSlots implements UpdateTargetOpener {
  #flash: Flash;
  #digest: Digest;
  #checksum: Checksum;
  #page: number;
  readonly blockLength: number;
  readonly slotBlocks: number;

  constructor(o: AbSlotsOptions) {
    this.#flash = o.flash;
    this.#digest = o.digest;
    this.#checksum = o.checksum;
    const s = o.flash.status();
    this.blockLength = s.blockLength;
    this.#page = Math.max(s.writeAlign, o.pageLength ?? 256);
    this.slotBlocks = Math.floor((s.blocks - CONTROL_BLOCKS) / 2);
    if (this.slotBlocks < 1) throw new BodycamError('E_UPDATE_LAYOUT', `the OTA partition has ${s.blocks} blocks; two slots and two control blocks need at least 4`);
    if (this.blockLength % this.#page !== 0) throw new BodycamError('E_UPDATE_LAYOUT', 'the block length must be a multiple of the page length');
  }

  /** Payload bytes one slot holds. */
  get slotSize(): number {
    return this.slotBlocks * this.blockLength;
  }

  slotOffset(slot: number): number {
    return (CONTROL_BLOCKS + slot * this.slotBlocks) * this.blockLength;
  }

  /** Valid control records, newest first. */
  records(): SlotRecord[] {
    const out: SlotRecord[] = [];
    for (let b = 0; b < CONTROL_BLOCKS; b++) {
      const r = this.#readRecord(b);
      if (r) out.push(r);
    }
    return out.sort((a, b) => b.seq - a.seq);
  }

  /** What the bootloader would run: the newest committed record whose slot verifies, or undefined. */
  boot(): SlotRecord | undefined {
    for (const r of this.records()) if (r.length <= this.slotSize && sameBytes(this.#hashSlot(r.slot, r.length), r.sha256)) return r;
    return undefined;
  }

  /** The payload of the booted image (tests compare it with what was installed). */
  readSlot(r: SlotRecord): Uint8Array {
    return new Uint8Array(this.#flash.read(r.length, this.slotOffset(r.slot)));
  }

  /** The factory image (what `bodycam flash` writes over USB): slot A, record seq 1. */
  installFactory(payload: Uint8Array): SlotRecord {
    const t = this.#openSlot(0, payload.length);
    t.write(payload, 0);
    t.complete();
    return this.boot()!;
  }

  open(options: UpdateTargetOptions): UpdateTarget {
    const booted = this.boot();
    return this.#openSlot(booted ? 1 - booted.slot : 0, options.byteLength);
  }

  #openSlot(slot: number, byteLength: number): UpdateTarget {
    if (!Number.isSafeInteger(byteLength) || byteLength <= 0) throw new BodycamError('E_FW_FORMAT', `an update of ${byteLength} bytes`);
    if (byteLength > this.slotSize) throw new BodycamError('E_FW_TOO_LARGE', `the payload is ${byteLength} bytes; a slot holds ${this.slotSize}`);
    const base = this.slotOffset(slot);
    const flash = this.#flash;
    const page = new Uint8Array(this.#page);
    const blockLength = this.blockLength;
    let pageAt = 0; // payload offset of page[0]
    let filled = 0;
    let erasedTo = 0; // payload bytes [0, erasedTo) lie in erased blocks
    let state: 'open' | 'complete' | 'closed' = 'open';
    const flush = () => {
      if (filled === 0) return;
      if (filled < page.length) page.fill(0xff, filled);
      while (erasedTo < pageAt + page.length) {
        flash.eraseBlock((base + erasedTo) / blockLength);
        erasedTo += blockLength;
      }
      flash.write(page, base + pageAt);
      pageAt += page.length;
      filled = 0;
    };
    const commit = () => {
      const previous = this.records()[0];
      const seq = (previous?.seq ?? 0) + 1;
      this.#writeRecord({ seq, slot, length: byteLength, sha256: this.#hashSlot(slot, byteLength) });
    };
    return {
      write(data: BufferLike, offset?: number): void {
        if (state !== 'open') throw new BodycamError('E_UPDATE_CLOSED', 'write() after complete() or close()');
        const bytes = toBytes(data);
        const at = offset ?? pageAt + filled;
        if (at !== pageAt + filled) throw new BodycamError('E_UPDATE_ORDER', `write at ${at}; this slot is written in order and the next byte is ${pageAt + filled}`);
        if (at + bytes.length > byteLength) throw new BodycamError('E_FW_TOO_LARGE', `write past the ${byteLength} bytes announced`);
        for (let i = 0; i < bytes.length; ) {
          const n = Math.min(bytes.length - i, page.length - filled);
          page.set(bytes.subarray(i, i + n), filled);
          filled += n;
          i += n;
          if (filled === page.length) flush();
        }
      },
      complete(): void {
        if (state !== 'open') throw new BodycamError('E_UPDATE_CLOSED', 'complete() after complete() or close()');
        if (pageAt + filled !== byteLength) throw new BodycamError('E_FW_TRUNCATED', `${pageAt + filled} of ${byteLength} payload bytes written`);
        flush();
        commit();
        state = 'complete';
      },
      close(): void {
        state = 'closed';
      },
    };
  }

  #hashSlot(slot: number, length: number): Uint8Array {
    const ctx = this.#digest.create('SHA256');
    const base = this.slotOffset(slot);
    for (let at = 0; at < length; at += this.blockLength) ctx.write(this.#flash.read(Math.min(this.blockLength, length - at), base + at));
    return new Uint8Array(ctx.close());
  }

  #readRecord(block: number): SlotRecord | undefined {
    const b = new Uint8Array(this.#flash.read(RECORD_SIZE, block * this.blockLength));
    const v = new DataView(b.buffer);
    if (v.getUint32(0, true) !== RECORD_MAGIC) return undefined;
    if (this.#checksum.crc32(b.subarray(0, RECORD_SIZE - 4)) >>> 0 !== v.getUint32(RECORD_SIZE - 4, true)) return undefined;
    const r = { seq: v.getUint32(4, true), slot: v.getUint8(8), length: v.getUint32(12, true), sha256: b.slice(16, 48) };
    if (r.slot > 1 || r.seq % CONTROL_BLOCKS !== block) return undefined;
    return r;
  }

  #writeRecord(r: SlotRecord): void {
    const align = this.#flash.status().writeAlign;
    const b = new Uint8Array(Math.ceil(RECORD_SIZE / align) * align);
    b.fill(0xff);
    const v = new DataView(b.buffer);
    v.setUint32(0, RECORD_MAGIC, true);
    v.setUint32(4, r.seq, true);
    v.setUint8(8, r.slot);
    v.setUint8(9, 0);
    v.setUint16(10, 0, true);
    v.setUint32(12, r.length, true);
    b.set(r.sha256, 16);
    v.setUint32(48, this.#checksum.crc32(b.subarray(0, 48)) >>> 0, true);
    const block = r.seq % CONTROL_BLOCKS;
    this.#flash.eraseBlock(block);
    this.#flash.write(b, block * this.blockLength);
  }
}
