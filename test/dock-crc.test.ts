// The station checks a chunk's `crc` against its data (decrypted from the sealed frame): a chunk
// whose crc is not its data's is discarded and pulled again.

import test from 'ava';
import type { CborValue } from '../firmware/codec/cbor.js';
import type { Checksum } from '../firmware/platform/checksum.js';
import { SimFlash, attachFlash } from '../host-sim/flash/sim-flash.js';
import { dockEntries } from '../host-sim/guest/dock.js';
import type { GuestEnv } from '../host-sim/guest/env.js';
import { NobleEd25519 } from '../firmware/signing/ed25519-noble.js';
import { SimHardware } from '../host-sim/node/hardware.js';
import { certificate, dockLocal, root, startStation } from './helpers/dock.js';

test("[node] a chunk whose crc field is not its data's CRC (its frame's own CRC and seal good) is discarded and pulled again; everything arrives once", async (t) => {
  const CHUNK = 8 * 1024;
  const hw = new SimHardware({ seed: 'crc-liar' });
  attachFlash(hw, new SimFlash({ blockLength: 4096, blocks: 256 }));
  const platform = hw.platform();
  const env: GuestEnv = { platform, state: {}, cameraEd25519: new NobleEd25519({ digest: platform.digest }) };
  const publicKey = dockEntries['dock.camera.identity'](env) as Uint8Array;
  dockEntries['dock.camera.install'](env, root.publicKey, certificate({ id: 'CAM-0001', kind: 'device', publicKey }), null);
  dockEntries['dock.camera.format'](env);
  dockEntries['dock.camera.record'](env, new Map<CborValue, CborValue>([['segments', 2], ['frames', 6], ['bodyBytes', 4000]]));
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
