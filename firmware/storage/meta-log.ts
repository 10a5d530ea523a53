// The metadata log: two slots (A and B) interleaved over the first 2 × slotBlocks blocks of the
// partition — slot k's i-th block is block 2i + k — so both slot heads sit at fixed places
// (blocks 0 and 1) whatever the geometry. A slot holds one HEAD entry (magic, revision,
// geometry, a snapshot of the store state) followed by DELTA entries, each a record
// (record.ts) starting on a page. The slot with the higher valid revision is current.
//
// When the current slot is full, the state is compacted into the other slot (erase it, write
// a HEAD with revision + 1); a cut during compaction leaves the old slot, which is still the
// newest valid one. Mount reads the two heads and replays the deltas after the newer one: its
// cost is bounded by the slot size, not by the flash size. Reads that fail their CRC are
// retried (a transient bit flip must not end the log early); a log that ends in anything but
// an erased page (a torn entry) is compacted at once, so no entry is ever programmed over
// garbage.

import { decode, encode, type CborValue } from '../codec/cbor.js';
import { BodycamError, isBodycamError } from '../errors.js';
import type { Checksum } from '../platform/checksum.js';
import type { Flash, FlashStatus } from '../platform/flash.js';
import { alignUp, encodeRecordHead, parseRecordHead, recordCrcMatches, RECORD_HEAD, RecordType } from './record.js';
import type { Geometry } from './state.js';

export const STORE_MAGIC = 'bodycam-store';
export const STORE_VERSION = 1;
/** Reads of an entry before a CRC failure is believed. */
export const READ_ATTEMPTS = 4;
/** Reads before a record that has data after it is declared damaged. */
export const HARD_READ_ATTEMPTS = 32;

export interface LogHead {
  revision: number;
  geometry: Geometry;
  snapshot: CborValue;
}

export interface MountedLog {
  head: LogHead;
  deltas: CborValue[];
  /** The log ended in an erased page (false: a torn entry; compact before appending). */
  clean: boolean;
}

export function encodeGeometry(g: Geometry): CborValue {
  const v = [g.blockLength, g.blocks, g.writeAlign, g.pageLength, g.slotBlocks, g.extentBlocks, g.maxSegments, g.maxRecord];
  if (g.lossUnit) v.push(g.lossUnit);
  return v;
}

function decodeGeometry(v: CborValue): Geometry | undefined {
  if (!Array.isArray(v) || (v.length !== 8 && v.length !== 9) || !v.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x > 0)) return undefined;
  const [blockLength, blocks, writeAlign, pageLength, slotBlocks, extentBlocks, maxSegments, maxRecord, lossUnit] = v as number[];
  const g: Geometry = { blockLength, blocks, writeAlign, pageLength, slotBlocks, extentBlocks, maxSegments, maxRecord };
  if (lossUnit !== undefined) g.lossUnit = lossUnit;
  return g;
}

/** Where metadata entries start: a program page, or on media that lose a whole unit at a cut, a unit of their own. */
export function entryAlign(g: Geometry): number {
  return Math.max(g.pageLength, g.lossUnit ?? 0);
}

export class MetaLog {
  #flash: Flash;
  #checksum: Checksum;
  #g: Geometry;
  #slot = 0;
  #revision = 0;
  #pos = 0;

  constructor(options: { flash: Flash; checksum: Checksum; geometry: Geometry }) {
    this.#flash = options.flash;
    this.#checksum = options.checksum;
    this.#g = options.geometry;
  }

  get revision(): number {
    return this.#revision;
  }

  /** Bytes of the current slot used. */
  get used(): number {
    return this.#pos;
  }

  get capacity(): number {
    return this.#g.slotBlocks * this.#g.blockLength;
  }

  /** Read both heads and the deltas of the newer slot. */
  static mount(flash: Flash, checksum: Checksum, status: FlashStatus): { log: MetaLog; mounted: MountedLog } {
    if (status.blocks < 2) throw new BodycamError('E_STORE_GEOMETRY', `a ${status.blocks}-block partition is too small for a store`);
    const heads: (LogHead | 'erased' | 'corrupt')[] = [0, 1].map((k) => MetaLog.#readHead(flash, checksum, status, k));
    let best = -1;
    for (const k of [0, 1]) {
      const h = heads[k];
      if (typeof h === 'object' && (best < 0 || h.revision > (heads[best] as LogHead).revision)) best = k;
    }
    if (best < 0) {
      if (heads[0] === 'erased' && heads[1] === 'erased') throw new BodycamError('E_STORE_UNFORMATTED', 'no store on this flash partition: format it (SegmentStore.format) first');
      throw new BodycamError('E_STORE_CORRUPT', 'both superblock slots are unreadable (blocks 0 and 1); the partition is not a bodycam store or is damaged');
    }
    const head = heads[best] as LogHead;
    const g = head.geometry;
    if (g.blockLength !== status.blockLength || g.blocks !== status.blocks || g.writeAlign !== status.writeAlign) {
      throw new BodycamError(
        'E_STORE_GEOMETRY',
        `the store was formatted for ${g.blocks} blocks of ${g.blockLength} bytes (write alignment ${g.writeAlign}), this flash has ${status.blocks} of ${status.blockLength} (${status.writeAlign}); mount it on its own partition`,
      );
    }
    const log = new MetaLog({ flash, checksum, geometry: g });
    log.#slot = best;
    log.#revision = head.revision;
    const first = log.#readEntry(best, 0);
    if (first.kind !== 'ok') throw new BodycamError('E_STORE_CORRUPT', 'the superblock changed while it was read');
    log.#pos = first.next;
    const deltas: CborValue[] = [];
    let clean = false;
    for (;;) {
      if (log.#pos >= log.capacity) {
        clean = true;
        break;
      }
      let e = log.#readEntry(best, log.#pos);
      if (e.kind === 'bad') e = log.#confirmTail(best, log.#pos, e.next) ?? e;
      if (e.kind === 'erased') {
        clean = log.#pageErased(best, log.#pos);
        break;
      }
      if (e.kind !== 'ok' || e.type !== RecordType.DELTA || e.owner !== (head.revision >>> 0)) break;
      let d: CborValue;
      try {
        d = decode(e.payload);
      } catch {
        break;
      }
      deltas.push(d);
      log.#pos = e.next;
    }
    return { log, mounted: { head, deltas, clean } };
  }

  /** Write a fresh slot A (revision 1) and erase slot B's head block. */
  format(snapshot: CborValue): void {
    const other = 1;
    for (let i = 0; i < this.#g.slotBlocks; i++) this.#flash.eraseBlock(2 * i + other);
    this.#slot = 1;
    this.#revision = 0;
    this.compact(snapshot);
  }

  /** Append a delta; if the slot is full, write `snapshot()` (the state with the delta applied) into the other slot instead. */
  append(delta: CborValue, snapshot: () => CborValue): void {
    const payload = encode(delta);
    const span = alignUp(RECORD_HEAD + payload.length, entryAlign(this.#g));
    if (this.#pos + span > this.capacity) {
      this.compact(snapshot());
      return;
    }
    try {
      this.#write(this.#slot, this.#pos, RecordType.DELTA, this.#revision, payload);
    } catch (e) {
      if (!isBodycamError(e, 'E_FLASH_PROGRAM')) throw e;
      this.compact(snapshot());
      return;
    }
    this.#pos += span;
  }

  /** Write the state into the other slot with the next revision, and make it current. */
  compact(snapshot: CborValue): void {
    const other = 1 - this.#slot;
    const revision = this.#revision + 1;
    const payload = encode([STORE_MAGIC, STORE_VERSION, revision, encodeGeometry(this.#g), snapshot]);
    const span = alignUp(RECORD_HEAD + payload.length, entryAlign(this.#g));
    if (span > this.capacity) {
      throw new BodycamError('E_STORE_FULL', `the segment table (${payload.length} bytes) no longer fits a metadata slot of ${this.capacity} bytes; upload and release segments`);
    }
    try {
      for (let i = 0; i < this.#g.slotBlocks; i++) this.#flash.eraseBlock(2 * i + other);
      this.#write(other, 0, RecordType.HEAD, revision, payload);
    } catch (e) {
      if (isBodycamError(e, 'E_FLASH_ERASE') || isBodycamError(e, 'E_FLASH_PROGRAM')) {
        throw new BodycamError('E_STORE_WORN_OUT', `metadata slot ${other === 0 ? 'A' : 'B'} failed (${(e as Error).message}); the flash is worn out: replace the storage`);
      }
      throw e;
    }
    this.#slot = other;
    this.#revision = revision;
    this.#pos = span;
  }

  #address(slot: number, offset: number): number {
    const bl = this.#g.blockLength;
    return (2 * Math.floor(offset / bl) + slot) * bl + (offset % bl);
  }

  #write(slot: number, offset: number, type: number, owner: number, payload: Uint8Array): void {
    const head = encodeRecordHead(this.#checksum, type, owner, new Uint8Array(0), payload);
    const buf = new Uint8Array(alignUp(RECORD_HEAD + payload.length, this.#g.writeAlign)).fill(0xff);
    buf.set(head, 0);
    buf.set(payload, RECORD_HEAD);
    const bl = this.#g.blockLength;
    for (let i = 0; i < buf.length; ) {
      const n = Math.min(buf.length - i, bl - ((offset + i) % bl));
      this.#flash.write(buf.subarray(i, i + n), this.#address(slot, offset + i));
      i += n;
    }
  }

  #read(slot: number, offset: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    const bl = this.#g.blockLength;
    for (let i = 0; i < length; ) {
      const n = Math.min(length - i, bl - ((offset + i) % bl));
      out.set(new Uint8Array(this.#flash.read(n, this.#address(slot, offset + i))), i);
      i += n;
    }
    return out;
  }

  #pageErased(slot: number, offset: number): boolean {
    const p = this.#read(slot, offset, Math.min(this.#g.pageLength, this.capacity - offset));
    for (let i = 0; i < p.length; i++) if (p[i] !== 0xff) return false;
    return true;
  }

  #readEntry(slot: number, offset: number, attempts = READ_ATTEMPTS): { kind: 'ok'; type: number; owner: number; payload: Uint8Array; next: number } | { kind: 'erased' } | { kind: 'bad'; next: number } {
    let next = -1;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const h = this.#read(slot, offset, RECORD_HEAD);
      const head = parseRecordHead(h);
      if (head === 'erased') return { kind: 'erased' };
      if (!head || head.headerLength !== 0 || offset + RECORD_HEAD + head.bodyLength > this.capacity) continue;
      next = offset + alignUp(RECORD_HEAD + head.bodyLength, entryAlign(this.#g));
      const payload = this.#read(slot, offset + RECORD_HEAD, head.bodyLength);
      if (!recordCrcMatches(this.#checksum, h, payload, head.crc)) continue;
      return { kind: 'ok', type: head.type, owner: head.owner, payload, next };
    }
    return { kind: 'bad', next };
  }

  /**
   * An entry that fails its CRC is the torn tail of the log only if nothing was written after
   * it. If something was, the failure must be a read error: read harder, and if the entry
   * stays bad, refuse to mount rather than forget the deltas after it (an EXTENT or ASSIGN
   * forgotten would let evidence be overwritten).
   */
  #confirmTail(slot: number, offset: number, next: number): { kind: 'ok'; type: number; owner: number; payload: Uint8Array; next: number } | undefined {
    if (next < 0 || next + RECORD_HEAD > this.capacity) return undefined;
    for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) if (parseRecordHead(this.#read(slot, next, RECORD_HEAD)) === 'erased') return undefined;
    const e = this.#readEntry(slot, offset, HARD_READ_ATTEMPTS);
    if (e.kind === 'ok') return e;
    throw new BodycamError('E_STORE_CORRUPT', `metadata entry at ${offset} of slot ${slot === 0 ? 'A' : 'B'} is damaged and entries follow it; the store can't be mounted safely (recover its evidence with a raw reader)`);
  }

  static #readHead(flash: Flash, checksum: Checksum, status: FlashStatus, slot: number): LogHead | 'erased' | 'corrupt' {
    // The head entry lies in the slot's first block (block `slot`) unless the snapshot is big;
    // read it through a provisional log whose geometry is only the block length.
    const probe = new MetaLog({ flash, checksum, geometry: { blockLength: status.blockLength, blocks: status.blocks, writeAlign: status.writeAlign, pageLength: 1, slotBlocks: Math.floor(status.blocks / 2), extentBlocks: 1, maxSegments: 1, maxRecord: 1 } });
    // A blank SD card reads 0x00 (or 0xFF) where nothing was written: a head of all zeros on a
    // medium that says lossUnit is blank too. (NOR never reads erased as zeros.)
    if (status.lossUnit && probe.#read(slot, 0, RECORD_HEAD).every((b) => b === 0)) return 'erased';
    const e = probe.#readEntry(slot, 0);
    if (e.kind === 'erased') return 'erased';
    if (e.kind !== 'ok' || e.type !== RecordType.HEAD) return 'corrupt';
    let v: CborValue;
    try {
      v = decode(e.payload);
    } catch {
      return 'corrupt';
    }
    if (!Array.isArray(v) || v.length !== 5 || v[0] !== STORE_MAGIC || v[1] !== STORE_VERSION || typeof v[2] !== 'number' || v[2] !== e.owner) return 'corrupt';
    const geometry = decodeGeometry(v[3]);
    if (!geometry) return 'corrupt';
    return { revision: v[2], geometry, snapshot: v[4] };
  }
}
