// One simulated flash chip cut into named partitions, as an ESP32's partition table cuts its
// flash: the Flash port's `path` picks the partition, offsets are relative to it, and every
// partition shares the chip's operation counter — so a power-cut sweep over an update also
// proves that the evidence store's partition on the same chip is never touched.

import { BodycamError } from '../../firmware/errors.js';
import type { BufferLike } from '../../firmware/platform/buffers.js';
import type { Flash, FlashConstructor, FlashOptions, FlashStatus } from '../../firmware/platform/flash.js';
import type { SimFlash } from '../flash/sim-flash.js';

export interface Partition {
  path: string;
  firstBlock: number;
  blocks: number;
}

/** A Flash port class over `chip` that opens the partition named by `path`. */
export function partitionedFlash(chip: SimFlash, table: Partition[]): FlashConstructor {
  let end = 0;
  for (const p of [...table].sort((a, b) => a.firstBlock - b.firstBlock)) {
    if (p.firstBlock < end || p.blocks <= 0 || p.firstBlock + p.blocks > chip.blocks) throw new BodycamError('E_SIM_FLASH', `partition ${p.path} overlaps another or lies outside the chip`);
    end = p.firstBlock + p.blocks;
  }
  return class PartitionPort implements Flash {
    #p: Partition;
    #base: number;
    #open = true;
    constructor(options: FlashOptions) {
      const p = table.find((x) => x.path === options?.path);
      if (!p) throw new BodycamError('E_FLASH_PARTITION', `no flash partition "${String(options?.path)}"; the chip has ${table.map((x) => x.path).join(', ')}`);
      this.#p = p;
      this.#base = p.firstBlock * chip.blockLength;
    }
    #range(offset: number, length: number, what: string): void {
      if (!this.#open) throw new BodycamError('E_CLOSED', `flash ${this.#p.path} is closed`);
      if (!Number.isInteger(offset) || offset < 0 || offset + length > this.#p.blocks * chip.blockLength) {
        throw new BodycamError('E_FLASH_RANGE', `${what} of ${length} bytes at ${offset} is outside partition ${this.#p.path}`);
      }
    }
    read(length: number, offset: number): ArrayBuffer {
      this.#range(offset, length, 'read');
      return chip.read(length, this.#base + offset);
    }
    write(buffer: BufferLike, offset: number): void {
      this.#range(offset, buffer.byteLength, 'write');
      chip.write(buffer, this.#base + offset);
    }
    eraseBlock(start: number, end?: number): void {
      const last = end ?? start + 1;
      if (!Number.isInteger(start) || !Number.isInteger(last) || start < 0 || last > this.#p.blocks || last <= start) {
        throw new BodycamError('E_FLASH_RANGE', `erase of blocks [${start}, ${last}) is outside partition ${this.#p.path}`);
      }
      chip.eraseBlock(this.#p.firstBlock + start, this.#p.firstBlock + last);
    }
    status(): FlashStatus {
      return { ...chip.status(), size: this.#p.blocks * chip.blockLength, blocks: this.#p.blocks };
    }
    close(): void {
      this.#open = false;
    }
  };
}
