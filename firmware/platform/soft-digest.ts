// The Digest port in software, for hosts without a hardware SHA engine (Node, tests, the
// dock station): @noble/hashes, which is pure ECMAScript and runs in XS too. On a camera the
// device adapter over Moddable's native `crypt` Digest replaces it; in the XS runner the
// host answers Digest calls across the bridge, as a hardware engine would.

import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { BodycamError } from '../errors.js';
import { toBytes, type BufferLike } from './buffers.js';
import type { Digest, DigestAlgorithm, DigestContext } from './digest.js';

type Hasher = ReturnType<typeof sha256.create> | ReturnType<typeof sha512.create>;

class SoftDigestContext implements DigestContext {
  #algorithm: DigestAlgorithm;
  #hash: Hasher | undefined;
  constructor(algorithm: DigestAlgorithm) {
    this.#algorithm = algorithm;
    this.#hash = SoftDigestContext.#make(algorithm);
  }
  static #make(algorithm: DigestAlgorithm): Hasher {
    if (algorithm === 'SHA256') return sha256.create();
    if (algorithm === 'SHA512') return sha512.create();
    throw new BodycamError('E_DIGEST_ALGORITHM', `unsupported digest ${String(algorithm)}`);
  }
  write(data: BufferLike): void {
    if (!this.#hash) throw new BodycamError('E_DIGEST_CLOSED', 'write after close');
    this.#hash.update(toBytes(data));
  }
  close(): ArrayBuffer {
    if (!this.#hash) throw new BodycamError('E_DIGEST_CLOSED', 'close after close');
    const out = this.#hash.digest();
    this.#hash = undefined;
    return out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength) as ArrayBuffer;
  }
  reset(): void {
    this.#hash = SoftDigestContext.#make(this.#algorithm);
  }
}

export const softDigest: Digest = Object.freeze({
  create(algorithm: DigestAlgorithm): DigestContext {
    return new SoftDigestContext(algorithm);
  },
});

// sha256Of lives with the port (digest.ts), so firmware that only hashes through a port never
// loads @noble/hashes; re-exported here for host code that pairs it with softDigest.
export { sha256Of } from './digest.js';
