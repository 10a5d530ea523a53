// Digest port over `crypt`'s native Digest (hardware SHA on an ESP32-S3). One native context
// per create(); close() returns the digest and retires the context, as the port requires.

import { BodycamError } from '../errors.js';
import { toBytes, type BufferLike } from '../platform/buffers.js';
import type { Digest, DigestAlgorithm, DigestContext } from '../platform/digest.js';
import type { CryptDigest, CryptDigestConstructor } from './moddable.js';

const ALGORITHMS: readonly DigestAlgorithm[] = Object.freeze(['SHA256', 'SHA512']);

class NativeDigestContext implements DigestContext {
  #native: CryptDigest;
  #open = true;
  constructor(native: CryptDigest) {
    this.#native = native;
  }
  write(data: BufferLike): void {
    if (!this.#open) throw new BodycamError('E_DIGEST_CLOSED', 'write after close');
    this.#native.write(toBytes(data));
  }
  close(): ArrayBuffer {
    if (!this.#open) throw new BodycamError('E_DIGEST_CLOSED', 'close after close');
    this.#open = false;
    return this.#native.close();
  }
  reset(): void {
    this.#native.reset();
    this.#open = true;
  }
}

export function nativeDigest(NativeDigest: CryptDigestConstructor): Digest {
  return Object.freeze({
    create(algorithm: DigestAlgorithm): DigestContext {
      if (!ALGORITHMS.includes(algorithm)) throw new BodycamError('E_DIGEST_ALGORITHM', `unsupported digest ${String(algorithm)}`);
      return new NativeDigestContext(new NativeDigest(algorithm));
    },
  });
}
