// The host layer: Node.js adapters of firmware ports that host programs share — the simulator
// (host-sim/), the dock station (dock-station/), the evidence library (evidence/) and the CLI.
// It may import firmware/ (the port interfaces) and Node built-ins, nothing else of this repo;
// the station reaches these through here, never through the simulator.

import { createHash } from 'node:crypto';
import * as zlib from 'node:zlib';
import { toBytes, type BufferLike } from '../firmware/platform/buffers.js';
import type { Checksum, Digest } from '../firmware/platform/index.js';
import { hasherDigest } from '../firmware/platform/soft-digest.js';
import { softChecksum } from '../firmware/platform/soft-checksum.js';

/** The Digest port on a host: Node's native crypto (the simulator's "hardware SHA engine"). */
export const nodeDigest: Digest = hasherDigest((algorithm) => createHash(algorithm === 'SHA256' ? 'sha256' : 'sha512'));

const zlibCrc32 = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** The Checksum port on a host: zlib's crc32 where Node has it (the simulator's "native CRC"). */
export const nodeChecksum: Checksum = Object.freeze({
  crc32(data: BufferLike, previous = 0): number {
    return zlibCrc32 ? zlibCrc32(toBytes(data), previous) >>> 0 : softChecksum.crc32(data, previous);
  },
});
