// Dock upload over real loopback TCP into a real SQLite-indexed store, on both engines.

import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENGINES } from '../host-sim/engine.js';
import { dock, startCamera, startStation } from './helpers/dock.js';
import { run } from '../cli/bodycam.js';

for (const engine of ENGINES) {
  test(`[${engine}] a camera uploads everything; the dock verifies and stores it; the camera frees exactly what the receipt covers`, async (t) => {
    const { station, port, storeDir } = await startStation({ batch: 4 });
    const camera = await startCamera(engine);
    try {
      const made = (await camera.engine.call('dock.camera.record', { segments: 6, frames: 3, bodyBytes: 3000 })).value as number[];
      t.deepEqual(made, [0, 1, 2, 3, 4, 5]);
      const s = await dock(camera, port);
      await station.idle();
      t.deepEqual(s.pending, [], `camera still holds ${s.pending}`);
      t.deepEqual(s.released.sort((a, b) => a - b), made);
      t.is(s.awaitingUpload, 0);
      t.is(s.receipts, 2, 'one receipt per batch of 4, then the rest');
      const r = station.results[0];
      t.true(r.ok, `${r.code} ${r.message}`);
      t.deepEqual(r.stored, made);
      t.deepEqual(r.released.sort((a, b) => a - b), made);
      for (const seq of made) {
        const row = station.store.segment('CAM-0001', seq)!;
        t.is(row.state, 'stored');
        const media = join(storeDir, 'devices', 'CAM-0001', 'segments', `${String(seq).padStart(10, '0')}.media`);
        t.true(existsSync(media));
        t.is(readFileSync(media).length, row.length);
      }
      const events = station.store.custody('CAM-0001').map((e) => e.event);
      t.true(events.includes('camera-authenticated') && events.includes('receipt-signed') && events.includes('camera-released'));
      t.true(s.events.some((e) => e.startsWith('authenticated DOCK-1')));
      // The store is an evidence directory that verifies offline, receipts and all.
      const lines: string[] = [];
      t.is(await run(['verify', storeDir], (l) => lines.push(l)), 0, lines.join('\n'));
    } finally {
      await camera.close();
      await station.close();
    }
  });
}
