// Link port (to the dock), shaped on `embedded:io/socket/tcp`: a byte stream with
// onReadable(count) / onWritable(count) / onError callbacks, read() and write(). Over USB
// serial the same shape holds (`embedded:io/serial`).

import type { BufferLike } from './buffers.js';

export interface LinkOptions {
  address?: string;
  port?: number;
  onReadable?: (count: number) => void;
  onWritable?: (count: number) => void;
  onError?: (message: string) => void;
}

export interface Link {
  /** Up to `count` bytes that have arrived (all if omitted); undefined when none. */
  read(count?: number): ArrayBuffer | undefined;
  /** Queue bytes; returns how many more can be queued before onWritable. */
  write(buffer: BufferLike): number;
  close(): void;
}

export type LinkConstructor = new (options: LinkOptions) => Link;
