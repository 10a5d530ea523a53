// Firmware entry points the host can call by name, in either engine. Each takes the Platform
// and CBOR-able arguments and returns a CBOR-able value, so the same table of test cases runs
// against Node and XS and the results can be compared byte for byte.
//
// Pure ECMAScript: bundled into the XS guest. Later modules add their entries here.

import { decode, encode, type CborValue } from '../../firmware/codec/cbor.js';
import { BodycamError } from '../../firmware/errors.js';
import type { Platform } from '../../firmware/platform/index.js';
import { softDigest, sha256Of } from '../../firmware/platform/soft-digest.js';
import { softChecksum } from '../../firmware/platform/soft-checksum.js';

export type Entry = (platform: Platform, ...args: CborValue[]) => CborValue;

function bytes(v: CborValue, what: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new BodycamError('E_ARGUMENT', `${what} must be bytes`);
  return v;
}

export const entries: Record<string, Entry> = {
  /** SHA-256 computed in the engine itself (@noble/hashes in JS). */
  'sha256.soft': (_p, data) => sha256Of(softDigest, bytes(data, 'data')),
  /** SHA-256 through the Digest port (native on a device, the host across the bridge in XS). */
  'sha256.port': (p, data) => sha256Of(p.digest, bytes(data, 'data')),
  /** SHA-256 of `count` repetitions of `data` in the engine, for cost measurement. */
  'sha256.soft.repeat': (_p, data, count) => {
    const ctx = softDigest.create('SHA256');
    for (let i = 0; i < (count as number); i++) ctx.write(bytes(data, 'data'));
    return new Uint8Array(ctx.close());
  },
  'crc32.soft': (_p, data) => softChecksum.crc32(bytes(data, 'data')),
  'crc32.port': (p, data) => p.checksum.crc32(bytes(data, 'data')),
  /** Decode CBOR and encode the value again (deterministically). */
  'cbor.reencode': (_p, data) => encode(decode(bytes(data, 'data'))),
  /** Encode a value that arrived over the bridge. */
  'cbor.encode': (_p, value) => encode(value),
  'noop': () => null,
};
