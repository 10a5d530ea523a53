// The station checks a chunk's `crc` from its frame's CRC (dock-station/crc-combine.ts) instead of
// a second pass over the data: it must agree with zlib's crc32 exactly, and refuse any other value.

import test from 'ava';
import { randomBytes } from 'node:crypto';
import * as zlib from 'node:zlib';
import type { CborValue } from '../firmware/codec/cbor.js';
import { crc32Combine, partCrcMatches } from '../dock-station/crc-combine.js';
import type { Checksum } from '../firmware/platform/checksum.js';
import { softChecksum } from '../firmware/platform/soft-checksum.js';
import { SimFlash, attachFlash } from '../host-sim/flash/sim-flash.js';
import { dockEntries } from '../host-sim/guest/dock.js';
import type { GuestEnv } from '../host-sim/guest/env.js';
import { NobleEd25519 } from '../firmware/signing/ed25519-noble.js';
import { SimHardware } from '../host-sim/node/hardware.js';
import { certificate, dockLocal, root, startStation } from './helpers/dock.js';

const crc32 = (b: Uint8Array) => softChecksum.crc32(b);

test('crc32Combine agrees with the CRC of the concatenation (zlib crc32_combine), for empty and long parts', (t) => {
  for (const [a, b] of [[0, 0], [0, 5], [7, 0], [1, 1], [100, 256 * 1024], [3000, 65_537], [1 << 20, 17]]) {
    const x = randomBytes(a);
    const y = randomBytes(b);
    t.is(crc32Combine(crc32(x), crc32(y), y.length), crc32(Buffer.concat([x, y])), `${a} + ${b}`);
  }
  const zcrc = (zlib as unknown as { crc32?: (d: Uint8Array) => number }).crc32;
  if (zcrc) {
    const x = randomBytes(1000);
    t.is(zcrc(x) >>> 0, crc32(x), "our CRC-32 is zlib's");
  }
});

test("partCrcMatches accepts exactly the part's CRC: every single-bit change, and a CRC of other bytes, is refused", (t) => {
  const whole = new Uint8Array(randomBytes(64 * 1024 + 77));
  const start = 41;
  const length = 64 * 1024;
  const wholeCrc = crc32(whole);
  const part = crc32(whole.subarray(start, start + length));
  t.true(partCrcMatches(whole, wholeCrc, start, length, part, crc32));
  for (let bit = 0; bit < 32; bit++) t.false(partCrcMatches(whole, wholeCrc, start, length, (part ^ (1 << bit)) >>> 0, crc32), `bit ${bit}`);
  t.false(partCrcMatches(whole, wholeCrc, start, length, crc32(whole.subarray(start + 1, start + 1 + length)), crc32));
  t.false(partCrcMatches(whole, wholeCrc, start + 1, length, part, crc32), 'the same CRC at another place');
  // The part at either end of the frame.
  t.true(partCrcMatches(whole, wholeCrc, 0, 10, crc32(whole.subarray(0, 10)), crc32));
  t.true(partCrcMatches(whole, wholeCrc, whole.length - 9, 9, crc32(whole.subarray(whole.length - 9)), crc32));
});

test("[node] a chunk whose crc field is not its data's CRC (its frame's own CRC and MAC good) is discarded and pulled again; everything arrives once", async (t) => {
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
