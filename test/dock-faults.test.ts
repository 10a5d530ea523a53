// Dock upload under faults: the link cut at every message boundary and mid-chunk, corrupted
// bytes both ways, the station killed and restarted mid-session. Afterwards nothing is lost,
// nothing is stored twice, released is exactly what was receipted, and resuming does not resend
// what the station had durably stored.

import test from 'ava';
import type { LinkFaults } from '../host-sim/link/tcp-link.js';
import { dock, rootFile, startCamera, startStation, type Camera } from './helpers/dock.js';
import { run } from '../cli/bodycam.js';

const LONG = !!process.env.BODYCAM_LONG;

function setFaults(camera: Camera, f: LinkFaults): void {
  for (const k of Object.keys(camera.faults)) delete (camera.faults as Record<string, unknown>)[k];
  Object.assign(camera.faults, f);
}

const SEGMENTS = 3;
const RECORD = { segments: SEGMENTS, frames: 3, bodyBytes: 3000 };
const CHUNK = 4096;

test('[node] link cut at every camera message boundary and in the middle of every chunk: nothing lost, nothing stored twice, no durable chunk resent', async (t) => {
  // A clean run first, to learn where the camera's frames end on the wire.
  const probe = await startStation({ chunkSize: CHUNK, batch: 2 });
  const probeCam = await startCamera('node');
  const boundaries: number[] = [];
  let mediaTotal = 0;
  try {
    await probeCam.engine.call('dock.camera.record', RECORD);
    setFaults(probeCam, { sentBoundaries: boundaries });
    const s = await dock(probeCam, probe.port);
    t.deepEqual(s.pending, []);
    mediaTotal = probe.station.store.segments('CAM-0001').reduce((n, r) => n + r.length, 0);
  } finally {
    await probeCam.close();
    await probe.station.close();
  }
  const cuts = new Set<number>();
  let prev = 0;
  for (const b of boundaries) {
    cuts.add(b);
    if (b - prev > 1000) cuts.add(prev + Math.floor((b - prev) / 2)); // inside a chunk
    prev = b;
  }
  const points = [...cuts].filter((c) => c < boundaries[boundaries.length - 1]).sort((a, b) => a - b);
  t.true(points.length >= 15, `${points.length} cut points`);
  for (const cut of LONG ? points : points.filter((_, i) => i % 2 === 0 || i === points.length - 1)) {
    const { station, port, storeDir } = await startStation({ chunkSize: CHUNK, batch: 2 });
    const camera = await startCamera('node');
    try {
      await camera.engine.call('dock.camera.record', RECORD);
      setFaults(camera, { cutAfterSent: cut });
      const first = await dock(camera, port);
      await station.idle();
      const releasedFirst = first.released.slice();
      // Whatever the camera freed, the station holds verified and stored.
      for (const seq of releasedFirst) t.is(station.store.segment('CAM-0001', seq)?.state, 'stored', `cut ${cut}: seq ${seq} released but not stored`);
      const durableBefore = station.store.segments('CAM-0001').reduce((n, r) => n + r.durable, 0);
      setFaults(camera, {});
      const second = await dock(camera, port);
      await station.idle();
      t.deepEqual(second.pending, [], `cut ${cut}: still pending after the second docking`);
      const rows = station.store.segments('CAM-0001');
      t.deepEqual(rows.map((r) => r.seq), [0, 1, 2], `cut ${cut}: each segment exactly once`);
      t.true(rows.every((r) => r.state === 'stored'));
      const result = station.results[station.results.length - 1];
      t.true(result.ok, `cut ${cut}: ${result.code} ${result.message}`);
      const lines: string[] = [];
      t.is(await run(['verify', storeDir, '--root', rootFile()], (l) => lines.push(l)), 0, `cut ${cut}: ${lines.join('\n')}`);
      // Resuming sends only what was not durable: the second session's media bytes are the rest.
      const media = mediaTotal - durableBefore;
      t.true(result.bytesReceived < media + 8 * 1024 + 2000 * SEGMENTS, `cut ${cut}: resent durable data (${result.bytesReceived} bytes for ${media} missing)`);
    } finally {
      await camera.close();
      await station.close();
    }
  }
});

for (const [name, faults] of [
  ['a corrupted byte from the camera (in a chunk)', { corruptSentAt: 2600 }],
  ['a corrupted byte from the dock', { corruptReceivedAt: 700 }],
] as [string, LinkFaults][]) {
  test(`[node] ${name}: the frame is discarded and asked for again; the session completes`, async (t) => {
    const { station, port } = await startStation({ chunkSize: CHUNK, batch: 2 });
    const camera = await startCamera('node');
    try {
      await camera.engine.call('dock.camera.record', RECORD);
      setFaults(camera, faults);
      const first = await dock(camera, port);
      await station.idle();
      const r1 = station.results[0];
      t.true(r1.ok, `${r1.code} ${r1.message}`);
      t.true(r1.chunksResent > 0, 'the corrupted frame was asked for again');
      t.deepEqual(first.pending, []);
      setFaults(camera, {});
      const second = await dock(camera, port);
      await station.idle();
      t.deepEqual(second.pending, []);
      t.deepEqual(station.store.segments('CAM-0001').map((r) => [r.seq, r.state]), [[0, 'stored'], [1, 'stored'], [2, 'stored']]);
    } finally {
      await camera.close();
      await station.close();
    }
  });
}

test('[node] the station killed mid-upload and restarted on the same store resumes at its durable offsets', async (t) => {
  // Stopped abruptly once two chunks of the first segment are written (not yet synced: chunks
  // are synced with their receipt batch, or when a session ends mid-segment, as this one does).
  let written!: () => void;
  const twoChunks = new Promise<void>((r) => (written = r));
  const first = await startStation({ chunkSize: CHUNK, batch: 8, onProgress: (p) => p.bytesDone >= CHUNK * 2 && written() });
  const camera = await startCamera('node');
  try {
    await camera.engine.call('dock.camera.record', { segments: 2, frames: 6, bodyBytes: 4000 });
    const killed = (async () => {
      await twoChunks;
      await first.station.close({ abrupt: true });
    })();
    const s1 = await dock(camera, first.port);
    await killed;
    t.true(s1.pending.length > 0, 'the camera kept everything unreceipted');
    const second = await startStation({ chunkSize: CHUNK, storeDir: first.storeDir });
    const partial = second.station.store.segments('CAM-0001');
    t.true(partial.some((r) => r.durable > 0), 'the station kept its durable chunks');
    const durable = partial.reduce((n, r) => n + r.durable, 0);
    const s2 = await dock(camera, second.port);
    await second.station.idle();
    t.deepEqual(s2.pending, []);
    const r = second.station.results[0];
    t.true(r.ok, `${r.code} ${r.message}`);
    const total = second.station.store.segments('CAM-0001').reduce((n, x) => n + x.length, 0);
    t.true(r.bytesReceived < total - durable + 8000, `resent ${r.bytesReceived} for ${total - durable} missing`);
    await second.station.close();
  } finally {
    await camera.close();
  }
});

test('[xs] a cut mid-upload in XS, then a clean docking: everything arrives once', async (t) => {
  const { station, port } = await startStation({ chunkSize: CHUNK, batch: 2 });
  const camera = await startCamera('xs');
  try {
    await camera.engine.call('dock.camera.record', RECORD);
    setFaults(camera, { cutAfterSent: 9000 });
    await dock(camera, port);
    await station.idle();
    setFaults(camera, {});
    const s = await dock(camera, port);
    await station.idle();
    t.deepEqual(s.pending, []);
    t.deepEqual(station.store.segments('CAM-0001').map((r) => r.state), ['stored', 'stored', 'stored']);
  } finally {
    await camera.close();
    await station.close();
  }
});
