// Checksum port, shaped on Moddable's `crc` module (native CRC-32, IEEE 802.3 polynomial,
// reflected, init and xorout 0xFFFFFFFF — the zlib/PNG CRC). Records on flash and messages on
// the dock link are checked through it.

import type { BufferLike } from './buffers.js';

export interface Checksum {
  /** CRC-32 of `data`, continuing from `previous` (the result of an earlier call) if given. */
  crc32(data: BufferLike, previous?: number): number;
}
