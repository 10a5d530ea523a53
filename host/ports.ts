// The host layer: Node.js adapters of firmware ports that host programs share — the simulator
// (host-sim/), the dock station (dock-station/), the evidence library (evidence/) and the CLI.
// It may import firmware/ (the port interfaces) and Node built-ins, nothing else of this repo;
// the station reaches these through here, never through the simulator.

import { createHash } from 'node:crypto';
import * as zlib from 'node:zlib';
import { BodycamError } from '../firmware/errors.js';
import { toBytes, type BufferLike } from '../firmware/platform/buffers.js';
import type { Checksum, Digest, DigestAlgorithm, DigestContext } from '../firmware/platform/index.js';
import { softChecksum } from '../firmware/platform/soft-checksum.js';

class NodeDigestContext implements DigestContext {
  #alg: string;
  #hash: ReturnType<typeof createHash> | undefined;
  constructor(algorithm: DigestAlgorithm) {
    if (algorithm !== 'SHA256' && algorithm !== 'SHA512') throw new BodycamError('E_DIGEST_ALGORITHM', `unsupported digest ${String(algorithm)}`);
    this.#alg = algorithm === 'SHA256' ? 'sha256' : 'sha512';
    this.#hash = createHash(this.#alg);
  }
  write(data: BufferLike): void {
    if (!this.#hash) throw new BodycamError('E_DIGEST_CLOSED', 'write after close');
    this.#hash.update(toBytes(data));
  }
  close(): ArrayBuffer {
    if (!this.#hash) throw new BodycamError('E_DIGEST_CLOSED', 'close after close');
    const d = this.#hash.digest();
    this.#hash = undefined;
    return d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength) as ArrayBuffer;
  }
  reset(): void {
    this.#hash = createHash(this.#alg);
  }
}

/** The Digest port on a host: Node's native crypto (the simulator's "hardware SHA engine"). */
export const nodeDigest: Digest = Object.freeze({
  create: (algorithm: DigestAlgorithm): DigestContext => new NodeDigestContext(algorithm),
});

const zlibCrc32 = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** The Checksum port on a host: zlib's crc32 where Node has it (the simulator's "native CRC"). */
export const nodeChecksum: Checksum = Object.freeze({
  crc32(data: BufferLike, previous = 0): number {
    return zlibCrc32 ? zlibCrc32(toBytes(data), previous) >>> 0 : softChecksum.crc32(data, previous);
  },
});
