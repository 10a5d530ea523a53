// Foundation entries: digests, checksums and CBOR, for the shared Node/XS test tables.

import { decode, encode, type CborValue } from '../../firmware/codec/cbor.js';
import { BodycamError } from '../../firmware/errors.js';
import type { Entry } from './env.js';
import { softDigest, sha256Of } from '../../firmware/platform/soft-digest.js';
import { softChecksum } from '../../firmware/platform/soft-checksum.js';


function bytes(v: CborValue, what: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new BodycamError('E_ARGUMENT', `${what} must be bytes`);
  return v;
}

export const foundationEntries: Record<string, Entry> = Object.freeze({
  /** SHA-256 computed in the engine itself (@noble/hashes in JS). */
  'sha256.soft': (_e, data) => sha256Of(softDigest, bytes(data, 'data')),
  /** SHA-256 through the Digest port (native on a device, the host across the bridge in XS). */
  'sha256.port': (e, data) => sha256Of(e.platform.digest, bytes(data, 'data')),
  /** SHA-256 of `count` repetitions of `data` in the engine, for cost measurement. */
  'sha256.soft.repeat': (_e, data, count) => {
    const ctx = softDigest.create('SHA256');
    for (let i = 0; i < (count as number); i++) ctx.write(bytes(data, 'data'));
    return new Uint8Array(ctx.close());
  },
  'crc32.soft': (_e, data) => softChecksum.crc32(bytes(data, 'data')),
  'crc32.port': (e, data) => e.platform.checksum.crc32(bytes(data, 'data')),
  /** Decode CBOR and encode the value again (deterministically). */
  'cbor.reencode': (_e, data) => encode(decode(bytes(data, 'data'))),
  /** Encode a value that arrived over the bridge. */
  'cbor.encode': (_e, value) => encode(value),
  'noop': () => null,
});
