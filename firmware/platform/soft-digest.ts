// The Digest port in software, for hosts without a hardware SHA engine (Node, tests, the
// dock station): @noble/hashes, which is pure ECMAScript and runs in XS too. On a camera the
// device adapter over Moddable's native `crypt` Digest replaces it; in the XS runner the
// host answers Digest calls across the bridge, as a hardware engine would.

import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { BodycamError } from '../errors.js';
import { toBytes, type BufferLike } from './buffers.js';
import type { Digest, DigestAlgorithm, DigestContext } from './digest.js';

/** What a hash library gives: feed bytes, then the digest once (@noble/hashes, Node's crypto). */
export interface Hasher {
  update(data: Uint8Array): unknown;
  digest(): Uint8Array;
}

class HasherContext implements DigestContext {
  #make: () => Hasher;
  #hash: Hasher | undefined;
  constructor(make: () => Hasher) {
    this.#make = make;
    this.#hash = make();
  }
  write(data: BufferLike): void {
    if (!this.#hash) throw new BodycamError('E_DIGEST_CLOSED', 'write after close');
    this.#hash.update(toBytes(data));
  }
  close(): ArrayBuffer {
    if (!this.#hash) throw new BodycamError('E_DIGEST_CLOSED', 'close after close');
    const out = this.#hash.digest();
    this.#hash = undefined;
    return new Uint8Array(out).buffer; // a copy of exactly the digest's bytes (a host library's pooled slice would share its pool)
  }
  reset(): void {
    this.#hash = this.#make();
  }
}

/** The Digest port over a hash library: one context per create(), as the port requires. */
export function hasherDigest(make: (algorithm: DigestAlgorithm) => Hasher): Digest {
  return Object.freeze({
    create(algorithm: DigestAlgorithm): DigestContext {
      if (algorithm !== 'SHA256' && algorithm !== 'SHA512') throw new BodycamError('E_DIGEST_ALGORITHM', `unsupported digest ${String(algorithm)}`);
      return new HasherContext(() => make(algorithm));
    },
  });
}

export const softDigest: Digest = hasherDigest((algorithm) => (algorithm === 'SHA256' ? sha256.create() : sha512.create()));

// sha256Of lives with the port (digest.ts), so firmware that only hashes through a port never
// loads @noble/hashes; re-exported here for host code that pairs it with softDigest.
export { sha256Of } from './digest.js';
