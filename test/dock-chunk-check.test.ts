// What checks a chunk's bytes: the seal's tag proves they are the bytes the camera sent (a frame
// corrupted on the way fails it and its CRC, and is discarded and pulled again:
// test/dock-faults.test.ts); what the camera read is checked by the segment's SHA-256 against its
// signed manifest.
// Chunks carry no CRC of their own: the camera made it over the bytes it was sending, so it
// caught nothing the two checks above don't, and cost both sides a pass over every byte.

import test from 'ava';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { UploadSource } from '../firmware/dock/camera-session.js';
import { keeper } from '../host-sim/guest/dock.js';
import { dockLocal, inProcessCamera, startStation } from './helpers/dock.js';

test('[node] a camera that sends one wrong bit under a good seal: that segment is refused by its digest (E_MEDIA_DIGEST), stays on the camera, and is stored whole at the next docking', async (t) => {
  const CHUNK = 8 * 1024;
  const env = inProcessCamera({ seed: 'bad-read', segments: 2, frames: 6, bodyBytes: 4000 });
  const held = keeper(env);
  // The camera's read of segment 1 flips a bit once (a flash read error past its own checks).
  let flips = 1;
  const source: UploadSource = {
    pending: () => held.pending(),
    checkpoint: (nonce) => held.checkpoint(nonce),
    acceptReceipt: (cose, dock, nonce) => held.acceptReceipt(cose, dock, nonce),
    read: (seq, offset, length) => {
      const data = held.read(seq, offset, length);
      if (seq !== 1 || offset !== CHUNK || flips === 0) return data;
      flips--;
      const bad = data.slice();
      bad[100] ^= 0x04;
      return bad;
    },
  };
  const { station, port } = await startStation({ chunkSize: CHUNK });
  try {
    await dockLocal(env, port, { source });
    await station.idle();
    const first = station.results[0];
    t.is(flips, 0, 'the camera sent the wrong bit');
    t.deepEqual(first.stored, [0]);
    t.deepEqual(first.rejected.map((r) => [r.seq, r.code]), [[1, 'E_MEDIA_DIGEST']]);
    t.deepEqual(held.pending().map((s) => s.seq), [1], 'the refused segment stays on the camera');

    await dockLocal(env, port, { source });
    await station.idle();
    const second = station.results[1];
    t.true(second.ok, `${second.code} ${second.message}`);
    t.deepEqual(second.stored, [1]);
    t.deepEqual(held.pending(), []);
    const segs = station.store.segments('CAM-0001');
    t.deepEqual(segs.map((x) => [x.seq, x.state]), [[0, 'stored'], [1, 'stored']]);
    for (const s of segs) {
      const sha = String(s.mediaSha256);
      t.is(createHash('sha256').update(readFileSync(station.store.objectPath(sha))).digest('hex'), sha);
    }
  } finally {
    await station.close();
  }
});
