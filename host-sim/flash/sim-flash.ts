// A simulated NOR flash partition behind the Flash port (firmware/platform/flash.ts), with the
// faults real parts have, for the storage power-cut tests.
//
// Promises:
// - NOR semantics: erased bytes read 0xFF; a write can only clear bits (new = old & data);
//   writes start and end on `writeAlign`; erase works on whole blocks.
// - Sparse: only blocks that hold a cleared bit take memory, so a 1 GiB (or 32 GiB) device
//   costs what is written to it.
// - Faults, all deterministic from `seed`:
//   * power cut at operation N (writes and erases count; reads don't): the operation in flight
//     is torn — pages before the cut point are programmed, the page at the cut point is
//     undefined (in 'page' mode the whole 256-byte page, including bytes programmed earlier,
//     as field notes say a W25Q128 may leave it; in 'range' mode only the bytes being
//     written), the rest is left as it was — and every later operation fails with
//     E_POWER_CUT until `reboot()`;
//   * bit flips on read (transient: the stored bytes are unchanged);
//   * wear-out: a block erased more than its endurance fails to erase (E_FLASH_ERASE, left
//     half-erased) and to program (E_FLASH_PROGRAM, bits left undefined);
//   * slow erases and programs: busy time accumulated and reported through `onBusy`.
// - Counters: operations, reads, writes, erases, bytes programmed and read, erases per block.
// - Survives a "reboot": the bytes stay; a new port (a new store mounted) sees them.

import { BodycamError } from '../../firmware/errors.js';
import { toBytes, type BufferLike } from '../../firmware/platform/buffers.js';
import type { Flash, FlashConstructor, FlashOptions, FlashStatus } from '../../firmware/platform/flash.js';
import { BRIDGE_GRANT } from '../bridge/host.js';
import type { Grant } from '../bridge/marshal.js';

export interface SimFlashTiming {
  /** Busy time of one block erase, ms (W25Q128 4 KiB sector: 45 typical, 400 worst). */
  eraseMs?: number;
  /** Busy time of one page program, ms (0.4 typical, 3 worst). */
  pageProgramMs?: number;
}

export interface SimFlashOptions {
  blockLength?: number;
  blocks?: number;
  writeAlign?: number;
  /** Program page: the unit a power cut tears. */
  pageLength?: number;
  /** How much a torn program destroys: the whole page ('page', default) or only the written bytes. */
  tear?: 'page' | 'range';
  /** Seed for every fault decision (which bits tear, which bits flip). */
  seed?: number | string;
  /** Erase cycles every block survives (default: unlimited). */
  endurance?: number;
  /** Probability that a read returns one flipped bit. */
  bitFlipRate?: number;
  timing?: SimFlashTiming;
  /** Called with the busy time of every erase/program (e.g. to advance a virtual clock). */
  onBusy?: (ms: number) => void;
}

export interface SimFlashCounters {
  /** Writes and erases (the operations a power cut can hit). */
  operations: number;
  reads: number;
  writes: number;
  erases: number;
  bytesProgrammed: number;
  bytesRead: number;
  bitFlips: number;
  busyMs: number;
}

/** Small deterministic PRNG (mulberry32) for fault decisions. */
/** A small seeded PRNG (mulberry32 over an FNV-1a hash of the seed): fault decisions, test workloads. */
export function prng(seed: number | string): () => number {
  let h = 2166136261;
  const s = String(seed);
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  let a = h >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class SimFlash {
  readonly blockLength: number;
  readonly blocks: number;
  readonly writeAlign: number;
  readonly pageLength: number;
  readonly tear: 'page' | 'range';
  endurance: number;
  bitFlipRate: number;
  timing: Required<SimFlashTiming>;
  onBusy: ((ms: number) => void) | undefined;
  /** Blocks that wear out sooner than `endurance`: block → erase cycles it survives. */
  readonly weakBlocks = new Map<number, number>();
  /** Blocks whose erase takes this many times longer. */
  readonly slowBlocks = new Map<number, number>();
  readonly counters: SimFlashCounters = { operations: 0, reads: 0, writes: 0, erases: 0, bytesProgrammed: 0, bytesRead: 0, bitFlips: 0, busyMs: 0 };
  /** Blocks holding a cleared bit: their bytes, and `top`: every byte from there on is still 0xFF. */
  #data = new Map<number, { bytes: Uint8Array; top: number }>();
  /** Buffers of erased blocks, reused for the next blocks written (a shift erases and rewrites millions). */
  #free: Uint8Array[] = [];
  #eraseCounts = new Map<number, number>();
  #random: () => number;
  #cutAt = 0;
  #powered = true;
  #cutLog: { operation: number; kind: string; offset: number } | undefined;

  constructor(options: SimFlashOptions = {}) {
    this.blockLength = options.blockLength ?? 4096;
    this.blocks = options.blocks ?? 4096;
    this.writeAlign = options.writeAlign ?? 1;
    this.pageLength = options.pageLength ?? 256;
    this.tear = options.tear ?? 'page';
    this.endurance = options.endurance ?? Infinity;
    this.bitFlipRate = options.bitFlipRate ?? 0;
    this.timing = { eraseMs: 0, pageProgramMs: 0, ...options.timing };
    this.onBusy = options.onBusy;
    this.#random = prng(options.seed ?? 1);
    for (const [n, v] of [['blockLength', this.blockLength], ['pageLength', this.pageLength], ['writeAlign', this.writeAlign]] as const) {
      if (!Number.isInteger(v) || v <= 0 || (v & (v - 1)) !== 0) throw new BodycamError('E_SIM_FLASH', `${n} must be a power of two, not ${v}`);
    }
    if (this.blockLength % this.pageLength !== 0 || this.pageLength % this.writeAlign !== 0) throw new BodycamError('E_SIM_FLASH', 'blockLength must be a multiple of pageLength, pageLength of writeAlign');
    if (!Number.isInteger(this.blocks) || this.blocks <= 0) throw new BodycamError('E_SIM_FLASH', `blocks must be a positive integer, not ${this.blocks}`);
  }

  get size(): number {
    return this.blockLength * this.blocks;
  }

  status(): FlashStatus {
    return { size: this.size, blockLength: this.blockLength, blocks: this.blocks, writeAlign: this.writeAlign, eraseValue: 0xff };
  }

  /** Cut the power during operation `n` (1-based count of writes and erases from now on the counter); 0 disarms. */
  cutAtOperation(n: number): void {
    this.#cutAt = n;
  }

  /** Arm a cut `n` operations from now (1 = the next write or erase is torn). */
  cutAfter(n: number): void {
    this.#cutAt = n > 0 ? this.counters.operations + n : 0;
  }

  get powered(): boolean {
    return this.#powered;
  }

  /** Where the last power cut hit, for replay messages. */
  get lastCut(): { operation: number; kind: string; offset: number } | undefined {
    return this.#cutLog;
  }

  /** Power comes back: the bytes are as the cut left them. */
  reboot(): void {
    this.#powered = true;
    this.#cutAt = 0;
  }

  eraseCount(block: number): number {
    return this.#eraseCounts.get(block) ?? 0;
  }

  /** Erase counts of every block ever erased (block → count). */
  eraseCounts(): ReadonlyMap<number, number> {
    return this.#eraseCounts;
  }

  /** Blocks holding data (memory the simulator uses). */
  get residentBlocks(): number {
    return this.#data.size;
  }

  /** A deep copy of the device (same bytes and counters, no armed cut), e.g. to branch a sweep; `seed` reseeds its faults. */
  clone(seed?: number | string): SimFlash {
    const c = new SimFlash({ blockLength: this.blockLength, blocks: this.blocks, writeAlign: this.writeAlign, pageLength: this.pageLength, tear: this.tear, endurance: this.endurance, bitFlipRate: this.bitFlipRate, timing: this.timing, seed: seed ?? 1 });
    for (const [b, d] of this.#data) c.#data.set(b, { bytes: d.bytes.slice(), top: d.top });
    for (const [b, n] of this.#eraseCounts) c.#eraseCounts.set(b, n);
    for (const [b, n] of this.weakBlocks) c.weakBlocks.set(b, n);
    Object.assign(c.counters, this.counters);
    return c;
  }

  /**
   * Writes and erases that certainly succeed from now on when their arguments are valid (-1: any
   * number): none without power, with a finite endurance or weak blocks (wear fails a program),
   * or when busy time is reported (its callback may move a clock); up to the armed cut otherwise.
   * The bridge lets the guest post that many without waiting for each (bridge/marshal.ts).
   */
  safeOperations(): number {
    if (!this.#powered || this.endurance !== Infinity || this.weakBlocks.size > 0 || this.onBusy) return 0;
    return this.#cutAt > 0 ? Math.max(0, this.#cutAt - this.counters.operations - 1) : -1;
  }

  /** Raw bytes, for tests (never faulted, never counted). */
  peek(offset: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.#copyOut(out, offset);
    return out;
  }

  /** Overwrite raw bytes (set, not AND), for tests that corrupt the medium deliberately. */
  poke(offset: number, bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length; i++) {
      const a = offset + i;
      this.#blockData(Math.floor(a / this.blockLength))[a % this.blockLength] = bytes[i];
    }
  }

  read(length: number, offset: number): ArrayBuffer {
    this.#alive();
    this.#range(offset, length, 'read');
    const out = new Uint8Array(length);
    this.#copyOut(out, offset);
    this.counters.reads++;
    this.counters.bytesRead += length;
    if (this.bitFlipRate > 0 && length > 0 && this.#random() < this.bitFlipRate) {
      const bit = Math.floor(this.#random() * length * 8);
      out[bit >> 3] ^= 1 << (bit & 7);
      this.counters.bitFlips++;
    }
    return out.buffer;
  }

  write(buffer: BufferLike, offset: number): void {
    this.#alive();
    const data = toBytes(buffer);
    this.#range(offset, data.length, 'write');
    if (offset % this.writeAlign !== 0 || data.length % this.writeAlign !== 0) {
      throw new BodycamError('E_FLASH_ALIGN', `write of ${data.length} bytes at ${offset} is not aligned to ${this.writeAlign}`);
    }
    const op = ++this.counters.operations;
    this.counters.writes++;
    const pages = Math.ceil(data.length / this.pageLength) || 0;
    this.#busy(pages * this.timing.pageProgramMs);
    if (op === this.#cutAt) {
      this.#tornWrite(data, offset);
      this.#cut(op, 'write', offset);
    }
    let worn = -1;
    for (let i = 0; i < data.length; ) {
      const a = offset + i;
      const block = Math.floor(a / this.blockLength);
      const inBlock = a % this.blockLength;
      const n = Math.min(data.length - i, this.blockLength - inBlock);
      if (this.#worn(block)) {
        worn = block;
        const d = this.#blockData(block);
        for (let k = 0; k < n; k++) d[inBlock + k] &= data[i + k] | this.#randomByte();
      } else if (!this.#allOnes(data, i, n)) {
        this.#program(block, inBlock, data, i, n);
      }
      i += n;
    }
    this.counters.bytesProgrammed += data.length;
    if (worn >= 0) throw new BodycamError('E_FLASH_PROGRAM', `program failed in worn block ${worn} (${this.eraseCount(worn)} erases)`, { block: worn });
  }

  eraseBlock(start: number, end?: number): void {
    this.#alive();
    const last = end ?? start + 1;
    if (!Number.isInteger(start) || !Number.isInteger(last) || start < 0 || last > this.blocks || last <= start) {
      throw new BodycamError('E_FLASH_RANGE', `erase of blocks [${start}, ${last}) is outside 0..${this.blocks}`);
    }
    for (let b = start; b < last; b++) {
      const op = ++this.counters.operations;
      this.counters.erases++;
      this.#busy(this.timing.eraseMs * (this.slowBlocks.get(b) ?? 1));
      if (op === this.#cutAt) {
        this.#tornErase(b);
        this.#cut(op, 'erase', b * this.blockLength);
      }
      const count = this.eraseCount(b) + 1;
      this.#eraseCounts.set(b, count);
      if (count > (this.weakBlocks.get(b) ?? this.endurance)) {
        this.#tornErase(b);
        throw new BodycamError('E_FLASH_ERASE', `erase failed: block ${b} is worn out after ${count - 1} erases`, { block: b });
      }
      const d = this.#data.get(b);
      if (d) {
        if (this.#free.length < FREE_BLOCKS) this.#free.push(d.bytes);
        this.#data.delete(b);
      }
    }
  }

  /** The Flash port class bound to this device: `hw.devices.Flash = sim.portClass()`. */
  portClass(): FlashConstructor {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const device = this;
    return class SimFlashPort implements Flash {
      #open = true;
      readonly path: string;
      constructor(options: FlashOptions) {
        if (!options || typeof options.path !== 'string') throw new BodycamError('E_ARGUMENT', 'Flash needs {path}');
        this.path = options.path;
      }
      #check(): void {
        if (!this.#open) throw new BodycamError('E_CLOSED', `flash ${this.path} is closed`);
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
      [BRIDGE_GRANT](): Grant {
        return { methods: ['write', 'eraseBlock'], budget: this.#open ? device.safeOperations() : 0, flash: [device.size, device.writeAlign, device.blocks] };
      }
    };
  }

  #alive(): void {
    if (!this.#powered) throw new BodycamError('E_POWER_CUT', 'the flash has no power (simulated cut); reboot the simulator');
  }

  #cut(op: number, kind: string, offset: number): never {
    this.#powered = false;
    this.#cutAt = 0;
    this.#cutLog = { operation: op, kind, offset };
    throw new BodycamError('E_POWER_CUT', `power cut during ${kind} at ${offset} (operation ${op})`, { operation: op });
  }

  #busy(ms: number): void {
    if (ms <= 0) return;
    this.counters.busyMs += ms;
    this.onBusy?.(ms);
  }

  #worn(block: number): boolean {
    return this.eraseCount(block) > (this.weakBlocks.get(block) ?? this.endurance);
  }

  #range(offset: number, length: number, what: string): void {
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new BodycamError('E_FLASH_RANGE', `${what} of ${length} bytes at ${offset} is outside the ${this.size}-byte partition`);
    }
  }

  #randomByte(): number {
    return Math.floor(this.#random() * 256);
  }

  #allOnes(d: Uint8Array, from: number, n: number): boolean {
    for (let k = 0; k < n; k++) if (d[from + k] !== 0xff) return false;
    return true;
  }

  /** A block's record, made (erased) if it holds nothing yet: from a reused buffer when there is one. */
  #block(block: number): { bytes: Uint8Array; top: number } {
    let d = this.#data.get(block);
    if (!d) {
      const reused = this.#free.pop();
      this.#data.set(block, (d = { bytes: reused ? reused.fill(0xff) : new Uint8Array(this.blockLength).fill(0xff), top: 0 }));
    }
    return d;
  }

  /** A block's bytes for a change made byte by byte (faults, poke): where 0xFF still runs is no longer known. */
  #blockData(block: number): Uint8Array {
    const d = this.#block(block);
    d.top = this.blockLength;
    return d.bytes;
  }

  /**
   * Program n bytes of `data` (from `from`) at `at` in a block: new = old & data. Where the block
   * is still erased (from its `top`), that is a copy; below it, an AND, word by word when both
   * sides are 4-byte aligned.
   */
  #program(block: number, at: number, data: Uint8Array, from: number, n: number): void {
    const d = this.#block(block);
    const below = Math.max(0, Math.min(n, d.top - at));
    if (below > 0) andInto(d.bytes, at, data, from, below);
    if (below < n) d.bytes.set(data.subarray(from + below, from + n), at + below);
    d.top = Math.max(d.top, at + n);
  }

  #copyOut(out: Uint8Array, offset: number): void {
    for (let i = 0; i < out.length; ) {
      const a = offset + i;
      const block = Math.floor(a / this.blockLength);
      const inBlock = a % this.blockLength;
      const n = Math.min(out.length - i, this.blockLength - inBlock);
      const d = this.#data.get(block);
      if (d) out.set(d.bytes.subarray(inBlock, inBlock + n), i);
      else out.fill(0xff, i, i + n);
      i += n;
    }
  }

  /** Program the pages before a random cut point; leave the page at it undefined. */
  #tornWrite(data: Uint8Array, offset: number): void {
    if (data.length === 0) return;
    const cutByte = Math.floor(this.#random() * data.length);
    const pageStart = Math.floor((offset + cutByte) / this.pageLength) * this.pageLength;
    for (let i = 0; i < pageStart - offset; i++) this.#and(offset + i, data[i]);
    const from = this.tear === 'page' ? pageStart : Math.max(pageStart, offset);
    const to = this.tear === 'page' ? pageStart + this.pageLength : Math.min(pageStart + this.pageLength, offset + data.length);
    for (let a = from; a < to; a++) {
      const i = a - offset;
      // Some of the intended bits cleared, some not; in 'page' mode the page's other bytes
      // (programmed earlier, or erased) are disturbed too.
      if (i >= 0 && i < data.length) this.#and(a, data[i] | this.#randomByte());
      else this.#and(a, this.#randomByte() | this.#randomByte());
    }
  }

  /** Leave each page of the block either erased or half-cleared garbage. */
  #tornErase(block: number): void {
    const d = this.#blockData(block);
    for (let p = 0; p < this.blockLength; p += this.pageLength) {
      const erased = this.#random() < 0.5;
      for (let k = p; k < p + this.pageLength; k++) d[k] = erased ? 0xff : d[k] & this.#randomByte();
    }
  }

  #and(address: number, value: number): void {
    if (value === 0xff) return;
    this.#blockData(Math.floor(address / this.blockLength))[address % this.blockLength] &= value;
  }
}

/** Erased blocks' buffers kept for reuse (16 MiB of 4 KiB blocks at most). */
const FREE_BLOCKS = 4096;

/** d[at..at+n) &= src[from..from+n): 32-bit words where both are aligned, bytes otherwise. */
function andInto(d: Uint8Array, at: number, src: Uint8Array, from: number, n: number): void {
  let k = 0;
  if (n >= 16 && ((d.byteOffset + at) & 3) === 0 && ((src.byteOffset + from) & 3) === 0) {
    const words = n >>> 2;
    const dw = new Uint32Array(d.buffer, d.byteOffset + at, words);
    const sw = new Uint32Array(src.buffer, src.byteOffset + from, words);
    for (let w = 0; w < words; w++) dw[w] &= sw[w];
    k = words << 2;
  }
  for (; k < n; k++) d[at + k] &= src[from + k];
}

/** Attach a simulated flash to SimHardware-like devices: `attachFlash(hw, new SimFlash(...))`. */
export function attachFlash(hw: { devices: { Flash?: FlashConstructor } }, flash: SimFlash): SimFlash {
  hw.devices.Flash = flash.portClass();
  return flash;
}

/**
 * A socket for simulated flash devices: ports opened through `portClass()` bind to whatever
 * device is plugged in at that moment, so one running engine can be handed a fresh device
 * (a clone of a formatted image, say) for every cut point of a sweep.
 */
export class FlashSlot {
  device: SimFlash;
  constructor(device: SimFlash) {
    this.device = device;
  }
  portClass(): FlashConstructor {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const slot = this;
    return function SlotFlashPort(options: FlashOptions): Flash {
      return new (slot.device.portClass())(options);
    } as unknown as FlashConstructor;
  }
}
