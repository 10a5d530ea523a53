// Digest port, shaped on Moddable's `crypt` Digest (native, hardware SHA on an ESP32-S3):
// create a context, write() media as it arrives, close() returns the digest. Media bytes are
// hashed only through this port, so no JavaScript loop touches every byte of a frame.

import type { BufferLike } from './buffers.js';

export type DigestAlgorithm = 'SHA256' | 'SHA512';

export interface DigestContext {
  write(data: BufferLike): void;
  /** The digest of everything written; the context can't be written after. */
  close(): ArrayBuffer;
  reset(): void;
}

export interface Digest {
  create(algorithm: DigestAlgorithm): DigestContext;
}

/** One-shot SHA-256 through a Digest port. */
export function sha256Of(digest: Digest, ...parts: BufferLike[]): Uint8Array {
  const ctx = digest.create('SHA256');
  for (const p of parts) ctx.write(p);
  return new Uint8Array(ctx.close());
}
