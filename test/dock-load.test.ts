// Load: 64 cameras docking at once on one station (this machine has 2 cores) all complete —
// nothing timed out, everything stored once, every camera empty. The station takes segments a
// few at a time (upload slots) and makes the rest wait their turn instead of starving them;
// a wait for a slot is not a wait on the camera, so no timeout runs out. Rates and memory are
// measured in `npm run bench -- dock`, not asserted here.

import test from 'ava';
import { dock, startCamera, startStation, type Camera } from './helpers/dock.js';
import { DEFAULT_TIMEOUT_MS } from '../dock-station/session.js';

const CAMERAS = 64;

test(`[node] ${CAMERAS} cameras docking at once all complete: nothing timed out, everything stored once`, async (t) => {
  // The station's defaults (per-message timeout, upload slots, connection cap), not test ones.
  const { station, port } = await startStation({ timeoutMs: DEFAULT_TIMEOUT_MS });
  const cameras: Camera[] = [];
  try {
    for (let i = 0; i < CAMERAS; i++) {
      const c = await startCamera('node', { id: `CAM-${String(i + 1).padStart(4, '0')}` });
      await c.engine.call('dock.camera.record', { segments: 2, frames: 4, bodyBytes: 4096 });
      cameras.push(c);
    }
    const statuses = await Promise.all(cameras.map((c) => dock(c, port, 10 * 60_000)));
    await station.idle();
    t.is(station.results.length, CAMERAS);
    t.deepEqual(station.results.filter((r) => !r.ok).map((r) => `${r.device}: ${r.code} ${r.message}`), []);
    t.deepEqual(statuses.filter((s) => s.pending.length > 0).map((s) => s.closeReason), []);
    for (let i = 0; i < CAMERAS; i++) t.deepEqual(station.store.segments(`CAM-${String(i + 1).padStart(4, '0')}`).map((s) => [s.seq, s.state]), [[0, 'stored'], [1, 'stored']]);
  } finally {
    await Promise.all(cameras.map((c) => c.close()));
    await station.close();
  }
});
