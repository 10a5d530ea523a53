// Flash port over `embedded:storage/flash`: one data partition (e.g. "bcstore" from the board's
// partition table). The Moddable module leaves alignment and bounds to the caller and reports
// no writeAlign or eraseValue on ESP32, so this adapter enforces the port's NOR contract
// itself — aligned writes inside the partition, whole-block erases — and fills in status()
// from the board (16-byte writes keep flash encryption possible).

import { BodycamError } from '../errors.js';
import { toBytes, type BufferLike } from '../platform/buffers.js';
import type { Flash, FlashConstructor, FlashOptions, FlashStatus } from '../platform/flash.js';
import type { FlashPartition, FlashStorageModule } from './moddable.js';

export interface PartitionFlashOptions {
  storage: FlashStorageModule;
  writeAlign: number;
}

export function partitionFlash({ storage, writeAlign }: PartitionFlashOptions): FlashConstructor {
  return class PartitionFlash implements Flash {
    #partition: FlashPartition | undefined;
    #status: FlashStatus;
    #path: string;
    constructor({ path }: FlashOptions) {
      this.#path = path;
      try {
        this.#partition = storage.open({ path, mode: 'r+' });
      } catch (e) {
        throw new BodycamError('E_FLASH_PARTITION', `no flash partition "${path}": flash the firmware with its partition table (bodycam flash)`, e);
      }
      const s = this.#partition.status();
      if (s.size % s.blockLength !== 0 || s.blockLength % writeAlign !== 0) {
        throw new BodycamError('E_FLASH_GEOMETRY', `partition "${path}" is ${s.size} bytes in blocks of ${s.blockLength}: not whole blocks of whole write units`);
      }
      this.#status = Object.freeze({ size: s.size, blockLength: s.blockLength, blocks: s.size / s.blockLength, writeAlign, eraseValue: 0xff });
    }
    #open(): FlashPartition {
      if (!this.#partition) throw new BodycamError('E_FLASH_CLOSED', `partition "${this.#path}" is closed`);
      return this.#partition;
    }
    #range(offset: number, length: number, what: string): void {
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.#status.size) {
        throw new BodycamError('E_FLASH_RANGE', `${what} of ${length} bytes at ${offset} is outside partition "${this.#path}" (${this.#status.size} bytes)`);
      }
    }
    read(length: number, offset: number): ArrayBuffer {
      this.#range(offset, length, 'read');
      return this.#open().read(length, offset);
    }
    write(buffer: BufferLike, offset: number): void {
      const bytes = toBytes(buffer);
      this.#range(offset, bytes.byteLength, 'write');
      if (offset % writeAlign !== 0 || bytes.byteLength % writeAlign !== 0) {
        throw new BodycamError('E_FLASH_ALIGN', `write of ${bytes.byteLength} bytes at ${offset} is not aligned to ${writeAlign}`);
      }
      if (bytes.byteLength) this.#open().write(bytes, offset);
    }
    eraseBlock(start: number, end: number = start + 1): void {
      if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end <= start || end > this.#status.blocks) {
        throw new BodycamError('E_FLASH_RANGE', `erase of blocks [${start}, ${end}) is outside partition "${this.#path}" (${this.#status.blocks} blocks)`);
      }
      this.#open().eraseBlock(start, end);
    }
    status(): FlashStatus {
      return this.#status;
    }
    close(): void {
      this.#partition?.close();
      this.#partition = undefined;
    }
  };
}
