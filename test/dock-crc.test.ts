// The station checks a chunk's `crc` against its data (decrypted from the sealed frame): a chunk
// whose crc is not its data's is discarded and pulled again.

import test from 'ava';
import type { Checksum } from '../firmware/platform/checksum.js';
import { dockLocal, inProcessCamera, startStation } from './helpers/dock.js';

test("[node] a chunk whose crc field is not its data's CRC (its frame's own CRC and seal good) is discarded and pulled again; everything arrives once", async (t) => {
  const CHUNK = 8 * 1024;
  const env = inProcessCamera({ seed: 'crc-liar', segments: 2, frames: 6, bodyBytes: 4000 });
  // The camera's session checksums a whole chunk's data only for its crc field (frames are longer): lie twice.
  let lies = 2;
  const checksum: Checksum = {
    crc32: (data, previous) => {
      const crc = env.platform.checksum.crc32(data, previous);
      const n = data instanceof Uint8Array ? data.length : (data as ArrayBuffer).byteLength;
      if (n !== CHUNK || lies === 0) return crc;
      lies--;
      return (crc ^ 0x10) >>> 0;
    },
  };
  const { station, port } = await startStation({ chunkSize: CHUNK });
  await dockLocal(env, port, { checksum });
  await station.idle();
  const r = station.results[0];
  t.true(r.ok, `${r.code} ${r.message}`);
  t.is(lies, 0, 'the camera sent two chunks with a wrong crc');
  t.true(r.chunksResent >= 2, `${r.chunksResent} chunks pulled again`);
  t.deepEqual(station.store.segments('CAM-0001').map((x) => [x.seq, x.state]), [[0, 'stored'], [1, 'stored']]);
  await station.close();
});
