// Flash port over a preallocated file through `embedded:storage/files`: the file is the block
// device. No board uses it: boards with an SD card keep evidence in a partition of the card
// (sd-flash.ts), because a file system in the write path is what a power cut damages, and
// Moddable's `embedded:storage/files` on the ESP32 is littlefs on the internal flash anyway. Erase writes eraseValue bytes over whole blocks, so the segment store's
// NOR rules (erase before write, whole blocks) hold unchanged; a write is flushed before it
// returns, so a power cut loses at most the write in flight. The file is created full-size,
// erased, on first open: space is claimed once, never grown while recording.

import { BodycamError } from '../errors.js';
import { toBytes, type BufferLike } from '../platform/buffers.js';
import type { Flash, FlashConstructor, FlashOptions, FlashStatus } from '../platform/flash.js';
import type { FilesDirectory, FilesFile } from './moddable.js';

export interface FileFlashOptions {
  files: FilesDirectory;
  bytes: number;
  blockLength: number;
  writeAlign: number;
}

export function fileFlash({ files, bytes, blockLength, writeAlign }: FileFlashOptions): FlashConstructor {
  if (bytes % blockLength !== 0 || blockLength % writeAlign !== 0) {
    throw new BodycamError('E_FLASH_GEOMETRY', `a block file of ${bytes} bytes in blocks of ${blockLength} is not whole blocks of whole write units`);
  }
  const blocks = bytes / blockLength;
  const erased = new Uint8Array(blockLength).fill(0xff);
  return class FileFlash implements Flash {
    #file: FilesFile | undefined;
    #path: string;
    #status: FlashStatus = Object.freeze({ size: bytes, blockLength, blocks, writeAlign, eraseValue: 0xff });
    constructor({ path }: FlashOptions) {
      this.#path = path;
      let size = -1;
      try {
        size = files.status(path).size;
      } catch {
        size = -1; // no such file yet
      }
      if (size === bytes) {
        this.#file = files.openFile({ path, mode: 'r+' });
        return;
      }
      if (size > 0) throw new BodycamError('E_FLASH_GEOMETRY', `block file "${path}" is ${size} bytes, the board says ${bytes}: it belongs to another configuration; move it aside, don't delete evidence`);
      const file = files.openFile({ path, mode: 'w+' });
      for (let b = 0; b < blocks; b++) file.write(erased, b * blockLength);
      file.flush();
      this.#file = file;
    }
    #open(): FilesFile {
      if (!this.#file) throw new BodycamError('E_FLASH_CLOSED', `block file "${this.#path}" is closed`);
      return this.#file;
    }
    #range(offset: number, length: number, what: string): void {
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > bytes) {
        throw new BodycamError('E_FLASH_RANGE', `${what} of ${length} bytes at ${offset} is outside block file "${this.#path}" (${bytes} bytes)`);
      }
    }
    read(length: number, offset: number): ArrayBuffer {
      this.#range(offset, length, 'read');
      return this.#open().read(length, offset);
    }
    write(buffer: BufferLike, offset: number): void {
      const data = toBytes(buffer);
      this.#range(offset, data.byteLength, 'write');
      if (offset % writeAlign !== 0 || data.byteLength % writeAlign !== 0) {
        throw new BodycamError('E_FLASH_ALIGN', `write of ${data.byteLength} bytes at ${offset} is not aligned to ${writeAlign}`);
      }
      if (!data.byteLength) return;
      const file = this.#open();
      file.write(data, offset);
      file.flush();
    }
    eraseBlock(start: number, end: number = start + 1): void {
      if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end <= start || end > blocks) {
        throw new BodycamError('E_FLASH_RANGE', `erase of blocks [${start}, ${end}) is outside block file "${this.#path}" (${blocks} blocks)`);
      }
      const file = this.#open();
      for (let b = start; b < end; b++) file.write(erased, b * blockLength);
      file.flush();
    }
    status(): FlashStatus {
      return this.#status;
    }
    close(): void {
      this.#file?.close();
      this.#file = undefined;
    }
  };
}
