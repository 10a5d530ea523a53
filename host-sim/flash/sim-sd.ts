// A simulated SD card (or the region of one that holds the segment store) behind the Flash
// port, with the faults real cards have — not NOR's. For the storage power-cut tests, the
// SD-card shift scenarios and the mount-cost bench.
//
// Promises:
// - SD semantics: 512-byte sectors; no erase (eraseBlock is what an SD adapter does instead:
//   a write of 0xFF over the block); a write replaces bytes; sectors never written read
//   `blank` (0x00 by default, as most cards read after their factory erase).
// - Sparse: memory only for the internal pages written, so a 64 GB card costs what is written;
//   with `file`, the written pages live in a sparse file instead (a 12-hour shift writes tens of
//   GB), and memory holds one number per page.
// - Power cut at operation N (writes and erases count, reads don't): the write in flight tears
//   at a sector — sectors before it are written, the ones after are not — and, with
//   probability `pageLoss`, the card loses the whole internal page (`internalPage`, 16–64 KiB,
//   aligned) around that sector: every byte of it, written before or not, becomes garbage. Every
//   later operation fails with E_POWER_CUT until `reboot()`.
// - status() reports `lossUnit` (what the adapter claims: the largest internal page it
//   guards against), which may be larger than the card's own `internalPage`, never smaller.
// - Counters as SimFlash's: operations, writes, erases, bytes programmed and read.

import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { BodycamError } from '../../firmware/errors.js';
import { toBytes, type BufferLike } from '../../firmware/platform/buffers.js';
import type { Flash, FlashConstructor, FlashOptions, FlashStatus } from '../../firmware/platform/flash.js';
import { softChecksum } from '../../firmware/platform/soft-checksum.js';
import { SegmentStore } from '../../firmware/storage/index.js';
import { prng, type SimFlashCounters } from './sim-flash.js';

export const SECTOR = 512;

export interface SimSdOptions {
  /** Bytes of the card region (a whole number of blocks). */
  bytes: number;
  /** The store's allocation block (what status() says), a multiple of lossUnit. Default 64 KiB. */
  blockLength?: number;
  /** The card's internal page: what a cut can destroy around the write in flight. Default 32 KiB. */
  internalPage?: number;
  /** What the adapter tells the store it guards against (status().lossUnit). Default 64 KiB. */
  lossUnit?: number;
  /** Probability that a cut destroys the internal page around the torn sector (default 0.5). */
  pageLoss?: number;
  /** What never-written sectors read (default 0x00). */
  blank?: number;
  seed?: number | string;
  /** Keep written pages in this file (created, and removed by close()) instead of memory. */
  file?: string;
}

export interface SdCut {
  operation: number;
  kind: string;
  offset: number;
  /** The internal page the cut destroyed, if it did: [from, to). */
  lost?: [number, number];
}

function pow2(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

export class SimSd {
  readonly size: number;
  readonly blockLength: number;
  readonly blocks: number;
  readonly internalPage: number;
  readonly lossUnit: number;
  readonly pageLoss: number;
  readonly blank: number;
  readonly counters: SimFlashCounters = { operations: 0, reads: 0, writes: 0, erases: 0, bytesProgrammed: 0, bytesRead: 0, bitFlips: 0, busyMs: 0 };
  /** Internal page → its bytes, or one byte value when the whole page holds it (an erased page costs no memory). */
  #pages = new Map<number, Uint8Array | number>();
  /** File-backed: the descriptor, and the pages whose bytes are in the file (the rest are one value or blank). */
  #fd: number | undefined;
  #file: string | undefined;
  #inFile = new Set<number>();
  #random: () => number;
  #cutAt = 0;
  #powered = true;
  #cutLog: SdCut | undefined;
  #seed: number | string;

  constructor(o: SimSdOptions) {
    this.blockLength = o.blockLength ?? 65536;
    this.internalPage = o.internalPage ?? 32768;
    this.lossUnit = o.lossUnit ?? 65536;
    this.pageLoss = o.pageLoss ?? 0.5;
    this.blank = o.blank ?? 0;
    this.#seed = o.seed ?? 1;
    this.#random = prng(this.#seed);
    for (const [n, v] of [['blockLength', this.blockLength], ['internalPage', this.internalPage], ['lossUnit', this.lossUnit]] as const) {
      if (!pow2(v) || v < SECTOR) throw new BodycamError('E_SIM_FLASH', `${n} must be a power of two of at least ${SECTOR}, not ${v}`);
    }
    if (this.lossUnit < this.internalPage) throw new BodycamError('E_SIM_FLASH', `lossUnit ${this.lossUnit} is smaller than the card's internal page ${this.internalPage}: the store would not be guarded`);
    if (this.blockLength % this.lossUnit !== 0) throw new BodycamError('E_SIM_FLASH', 'blockLength must be a multiple of lossUnit');
    if (!Number.isSafeInteger(o.bytes) || o.bytes <= 0 || o.bytes % this.blockLength !== 0) throw new BodycamError('E_SIM_FLASH', `bytes must be a whole number of ${this.blockLength}-byte blocks, not ${o.bytes}`);
    this.size = o.bytes;
    this.blocks = o.bytes / this.blockLength;
    if (o.file) {
      this.#file = o.file;
      this.#fd = openSync(o.file, 'w+', 0o600);
    }
  }

  /** Remove the backing file, if any. */
  close(): void {
    if (this.#fd === undefined) return;
    closeSync(this.#fd);
    rmSync(this.#file!, { force: true });
    this.#fd = undefined;
  }

  status(): FlashStatus {
    return { size: this.size, blockLength: this.blockLength, blocks: this.blocks, writeAlign: SECTOR, eraseValue: 0xff, lossUnit: this.lossUnit };
  }

  /** Cut the power during operation `n` (of the counter's count); 0 disarms. */
  cutAtOperation(n: number): void {
    this.#cutAt = n;
  }

  /** Arm a cut `n` operations from now (1 = the next write or erase is torn); 0 disarms. */
  cutAfter(n: number): void {
    this.#cutAt = n > 0 ? this.counters.operations + n : 0;
  }

  get powered(): boolean {
    return this.#powered;
  }

  get lastCut(): SdCut | undefined {
    return this.#cutLog;
  }

  reboot(): void {
    this.#powered = true;
    this.#cutAt = 0;
  }

  /** Internal pages holding bytes (the simulator's memory, in pages; erased pages cost none). */
  get residentPages(): number {
    let n = this.#inFile.size;
    for (const d of this.#pages.values()) if (d instanceof Uint8Array) n++;
    return n;
  }

  clone(seed?: number | string): SimSd {
    if (this.#fd !== undefined) throw new BodycamError('E_SIM_FLASH', 'a file-backed card is not cloned');
    const c = new SimSd({ bytes: this.size, blockLength: this.blockLength, internalPage: this.internalPage, lossUnit: this.lossUnit, pageLoss: this.pageLoss, blank: this.blank, seed: seed ?? this.#seed });
    for (const [p, d] of this.#pages) c.#pages.set(p, typeof d === 'number' ? d : d.slice());
    Object.assign(c.counters, this.counters);
    return c;
  }

  /** Raw bytes, for tests (never faulted, never counted). */
  peek(offset: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.#copyOut(out, offset);
    return out;
  }

  read(length: number, offset: number): ArrayBuffer {
    this.#alive();
    this.#range(offset, length, 'read');
    const out = new Uint8Array(length);
    this.#copyOut(out, offset);
    this.counters.reads++;
    this.counters.bytesRead += length;
    return out.buffer;
  }

  write(buffer: BufferLike, offset: number): void {
    this.#alive();
    const data = toBytes(buffer);
    this.#range(offset, data.length, 'write');
    if (offset % SECTOR !== 0 || data.length % SECTOR !== 0) throw new BodycamError('E_FLASH_ALIGN', `write of ${data.length} bytes at ${offset} is not whole ${SECTOR}-byte sectors`);
    const op = ++this.counters.operations;
    this.counters.writes++;
    if (op === this.#cutAt) this.#torn(op, 'write', offset, data.length, (from, to) => this.#set(offset + from, data.subarray(from, to)));
    this.#set(offset, data);
    this.counters.bytesProgrammed += data.length;
  }

  /** What an SD adapter does for an erase: 0xFF written over the blocks, one write per block. */
  eraseBlock(start: number, end?: number): void {
    this.#alive();
    const last = end ?? start + 1;
    if (!Number.isInteger(start) || !Number.isInteger(last) || start < 0 || last > this.blocks || last <= start) {
      throw new BodycamError('E_FLASH_RANGE', `erase of blocks [${start}, ${last}) is outside 0..${this.blocks}`);
    }
    for (let b = start; b < last; b++) {
      const op = ++this.counters.operations;
      this.counters.erases++;
      const offset = b * this.blockLength;
      if (op === this.#cutAt) this.#torn(op, 'erase', offset, this.blockLength, (from, to) => this.#fill(offset + from, to - from, 0xff));
      this.#fill(offset, this.blockLength, 0xff);
      this.counters.bytesProgrammed += this.blockLength;
    }
  }

  portClass(): FlashConstructor {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const device = this;
    return class SimSdPort implements Flash {
      #open = true;
      readonly path: string;
      constructor(options: FlashOptions) {
        if (!options || typeof options.path !== 'string') throw new BodycamError('E_ARGUMENT', 'Flash needs {path}');
        this.path = options.path;
      }
      #check(): void {
        if (!this.#open) throw new BodycamError('E_CLOSED', `card region ${this.path} is closed`);
      }
      read(length: number, offset: number): ArrayBuffer {
        this.#check();
        return device.read(length, offset);
      }
      write(buffer: BufferLike, offset: number): void {
        this.#check();
        device.write(buffer, offset);
      }
      eraseBlock(start: number, end?: number): void {
        this.#check();
        device.eraseBlock(start, end);
      }
      status(): FlashStatus {
        this.#check();
        return device.status();
      }
      close(): void {
        this.#open = false;
      }
    };
  }

  /** The write of `length` bytes at `offset` is cut at a sector: write the sectors before it, maybe lose the internal page around it, then fail. */
  #torn(op: number, kind: string, offset: number, length: number, writePrefix: (from: number, to: number) => void): never {
    const sectors = length / SECTOR;
    const at = Math.floor(this.#random() * sectors);
    if (at > 0) writePrefix(0, at * SECTOR);
    const cut: SdCut = { operation: op, kind, offset };
    if (this.#random() < this.pageLoss) {
      const from = Math.floor((offset + at * SECTOR) / this.internalPage) * this.internalPage;
      const garbage = new Uint8Array(this.internalPage);
      for (let i = 0; i < garbage.length; i++) garbage[i] = (this.#random() * 256) | 0;
      this.#set(from, garbage);
      cut.lost = [from, from + this.internalPage];
    }
    this.#powered = false;
    this.#cutAt = 0;
    this.#cutLog = cut;
    throw new BodycamError('E_POWER_CUT', `power cut during ${kind} at ${offset} (operation ${op}, sector ${at}${cut.lost ? `, internal page at ${cut.lost[0]} lost` : ''})`, { operation: op });
  }

  #alive(): void {
    if (!this.#powered) throw new BodycamError('E_POWER_CUT', 'the card has no power (simulated cut); reboot the simulator');
  }

  #range(offset: number, length: number, what: string): void {
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new BodycamError('E_FLASH_RANGE', `${what} of ${length} bytes at ${offset} is outside the ${this.size}-byte card region`);
    }
  }

  #page(p: number): Uint8Array {
    const d = this.#pages.get(p);
    if (d instanceof Uint8Array) return d;
    const bytes = new Uint8Array(this.internalPage).fill(d ?? this.blank);
    this.#pages.set(p, bytes);
    return bytes;
  }

  #set(offset: number, data: Uint8Array): void {
    const ip = this.internalPage;
    for (let i = 0; i < data.length; ) {
      const a = offset + i;
      const n = Math.min(data.length - i, ip - (a % ip));
      const part = i === 0 && n === data.length ? data : data.subarray(i, i + n);
      if (this.#fd !== undefined) this.#fileSet(Math.floor(a / ip), a, part);
      else this.#page(Math.floor(a / ip)).set(part, a % ip);
      i += n;
    }
  }

  /** File-backed write of `part` at `a` inside page `p`: a page first written whole from its value. */
  #fileSet(p: number, a: number, part: Uint8Array): void {
    const ip = this.internalPage;
    if (!this.#inFile.has(p)) {
      const v = this.#pages.get(p);
      if (part.length < ip) writeSync(this.#fd!, new Uint8Array(ip).fill(typeof v === 'number' ? v : this.blank), 0, ip, p * ip);
      this.#inFile.add(p);
      this.#pages.delete(p);
    }
    writeSync(this.#fd!, part, 0, part.length, a);
  }

  #fill(offset: number, length: number, value: number): void {
    const ip = this.internalPage;
    for (let i = 0; i < length; ) {
      const a = offset + i;
      const n = Math.min(length - i, ip - (a % ip));
      if (n === ip) {
        this.#pages.set(a / ip, value);
        this.#inFile.delete(a / ip);
      } else if (this.#fd !== undefined) this.#fileSet(Math.floor(a / ip), a, new Uint8Array(n).fill(value));
      else this.#page(Math.floor(a / ip)).fill(value, a % ip, (a % ip) + n);
      i += n;
    }
  }

  #copyOut(out: Uint8Array, offset: number): void {
    const ip = this.internalPage;
    for (let i = 0; i < out.length; ) {
      const a = offset + i;
      const n = Math.min(out.length - i, ip - (a % ip));
      const p = Math.floor(a / ip);
      const d = this.#pages.get(p);
      if (this.#inFile.has(p)) readSync(this.#fd!, out, i, n, a);
      else if (d instanceof Uint8Array) out.set(d.subarray(a % ip, (a % ip) + n), i);
      else out.fill(d ?? this.blank, i, i + n);
      i += n;
    }
  }
}

/** A socket for simulated cards: ports bind to whatever card is plugged in when they open (see FlashSlot). */
export class SdSlot {
  device: SimSd;
  constructor(device: SimSd) {
    this.device = device;
  }
  portClass(): FlashConstructor {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const slot = this;
    return function SlotSdPort(options: FlashOptions): Flash {
      return new (slot.device.portClass())(options);
    } as unknown as FlashConstructor;
  }
}

/**
 * A card after a shift's worth of work and a cut: `sealed` sealed segments of `frames` frames
 * of `frameBytes`, then one open with `open` frames whose last is in flight when the power
 * goes. The same workload on any card size, for the mount-cost test and bench.
 */
export function cardAfterCut(bytes: number, o: { sealed: number; frames: number; open: number; frameBytes: number; maxSegments: number }): SimSd {
  const card = new SimSd({ bytes, seed: 7, pageLoss: 1 });
  const port = () => new (card.portClass())({ path: 'bodycam-store' });
  const store = SegmentStore.format({ flash: port(), checksum: softChecksum, maxSegments: o.maxSegments });
  for (let s = 0; s <= o.sealed; s++) {
    const w = store.openSegment(new Uint8Array([s, 1, 2, 3]));
    const n = s < o.sealed ? o.frames : o.open;
    for (let i = 0; i < n; i++) {
      const header = new Uint8Array(48).fill(i & 255);
      const body = new Uint8Array(o.frameBytes);
      for (let k = 0; k < body.length; k += 61) body[k] = (s * 7 + i * 31 + k) & 255;
      if (s === o.sealed && i === n - 1) card.cutAfter(1);
      try {
        w.append(header, body);
      } catch {
        break;
      }
    }
    if (s < o.sealed) w.seal(new Uint8Array(400).fill(s));
  }
  card.reboot();
  return card;
}
