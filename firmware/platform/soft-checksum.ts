// The Checksum port in software (table-driven CRC-32, the zlib polynomial), for Node and the
// dock station. On a camera Moddable's native `crc` module backs the port; in the XS runner the
// host answers across the bridge, so no JavaScript loop runs over frame bytes in XS.

import { toBytes, type BufferLike } from './buffers.js';
import type { Checksum } from './checksum.js';

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export const softChecksum: Checksum = Object.freeze({
  crc32(data: BufferLike, previous = 0): number {
    const b = toBytes(data);
    let c = (previous ^ 0xffffffff) >>> 0;
    for (let i = 0; i < b.length; i++) c = TABLE[(c ^ b[i]) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  },
});
