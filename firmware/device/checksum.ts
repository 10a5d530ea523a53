// Checksum and Random ports over bodycam/native (firmware/device/native): CRC-32 in C, and the
// ESP32 hardware RNG. Moddable's `crc` module offers only CRC-8 and CRC-16, and its `rng`
// module is an RC4 stream seeded from rand(), not fit for keys — hence our own native module.

import { BodycamError } from '../errors.js';
import { toBytes, type BufferLike } from '../platform/buffers.js';
import type { Checksum } from '../platform/checksum.js';
import type { Random } from '../platform/random.js';
import type { BodycamNative } from './moddable.js';

export function nativeChecksum(native: BodycamNative): Checksum {
  return Object.freeze({
    crc32(data: BufferLike, previous = 0): number {
      return native.crc32(toBytes(data), previous >>> 0) >>> 0;
    },
  });
}

export function hardwareRandom(native: BodycamNative): Random {
  return Object.freeze({
    fill(bytes: Uint8Array): void {
      if (!(bytes instanceof Uint8Array)) throw new BodycamError('E_RANDOM_ARGUMENT', 'Random.fill needs a Uint8Array');
      if (bytes.byteLength) native.fillRandom(bytes);
    },
  });
}
