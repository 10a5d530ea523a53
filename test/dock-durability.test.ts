// The durability rule of the ingest path (docs/protocol.md, "What is synced when"): no receipt
// names a byte that is not durable, while chunks are written unsynced and synced a receipt batch
// at a time.
// - `bodycam dock` is killed with SIGKILL at many points of an upload (after its 1st, 4th, 9th, ...
//   progress event), restarted on the same store each time, and the camera resumes: after every
//   kill, each segment the camera was told is receipted is stored, indexed, and its media hashes
//   to its signed manifest; at the end everything is stored once and released once.
// - In process, every sync the store makes is traced: before each receipt goes out, every file it
//   names (segment media and manifests by their device-tree names, the receipt itself) and every
//   folder whose entries the batch changed were fsynced, and the index committed after them.

import test, { type ExecutionContext } from 'ava';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DockStation } from '../dock-station/station.js';
import { EvidenceStore, seqName } from '../dock-station/store.js';
import { peekManifest } from '../firmware/signing/manifest.js';
import { peekReceipt } from '../firmware/signing/receipt.js';
import { dock, startCamera, startStation } from './helpers/dock.js';
import { bodycamDock, dockProcessArgs } from './helpers/dock-process.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Every segment in `seqs` is stored and indexed, and its media is what its manifest signed. */
function receiptedAreDurable(storeDir: string, device: string, seqs: number[]): string[] {
  const store = new EvidenceStore(storeDir);
  const problems: string[] = [];
  try {
    for (const seq of seqs) {
      const row = store.segment(device, seq);
      if (row?.state !== 'stored') {
        problems.push(`segment ${seq} was receipted but the index says ${row?.state ?? 'nothing'}`);
        continue;
      }
      const folder = join(storeDir, 'devices', device, 'segments');
      const manifest = peekManifest(new Uint8Array(readFileSync(join(folder, `${seqName(seq)}.manifest.cose`)))).manifest;
      const media = readFileSync(join(folder, `${seqName(seq)}.media`));
      if (sha256(media) !== Buffer.from(manifest.media).toString('hex') || media.length !== manifest.bytes) problems.push(`segment ${seq}: its media is not what its manifest signed`);
      if (row.mediaSha256 !== sha256(media)) problems.push(`segment ${seq}: the index names other media`);
    }
  } finally {
    store.close();
  }
  return problems;
}

test('[node] bodycam dock killed with SIGKILL at many points of an upload: after each restart nothing receipted is missing, and everything arrives once', async (t) => {
  const { args, storeDir } = dockProcessArgs();
  const camera = await startCamera('node', { flashBlocks: 4096 });
  const SEGMENTS = 20;
  try {
    // 20 segments of 2 chunks: two receipt batches (16 + 4), so kills land before, between and after receipts.
    await camera.engine.call('dock.camera.record', { segments: SEGMENTS, frames: 10, bodyBytes: 9 * 1024 });
    const killedAfter = [1, 4, 9, 16, 25, 36, 44, 52, 60, 70];
    let kills = 0;
    // What each session's receipts released on the camera (its events start afresh each session).
    const released: number[] = [];
    for (let round = 0; ; round++) {
      const station = bodycamDock(args);
      const port = (await station.waitFor((e) => e.event === 'listening')).port as number;
      const docking = dock(camera, port);
      const at = killedAfter[round];
      if (at !== undefined) {
        // Killed at the at-th progress event of this session, unless the session ends first.
        await station.waitFor((e) => e.event === 'session' || station.events.filter((x) => x.event === 'progress').length >= at);
        if (!station.events.some((e) => e.event === 'session')) {
          station.child.kill('SIGKILL');
          kills++;
        }
      }
      const s = await docking;
      released.push(...s.events.filter((e) => e.startsWith('released ')).flatMap((e) => e.slice('released '.length).split(',').map(Number)));
      if (station.child.exitCode === null && station.child.signalCode === null) station.child.kill('SIGTERM');
      await station.exit;
      const problems = receiptedAreDurable(storeDir, 'CAM-0001', s.released);
      t.deepEqual(problems, [], `after round ${round} (killed at progress event ${at ?? 'never'})`);
      if (s.pending.length === 0) break;
      if (round > killedAfter.length + 3) t.fail(`the camera still holds ${s.pending.join(',')} after ${round} rounds`);
    }
    t.true(kills >= 5, `the station was killed mid-session ${kills} times`);
    const status = await camera.status();
    t.deepEqual(status.pending, []);
    // Released once each: no receipt named a segment another one had.
    t.deepEqual([...released].sort((a, b) => a - b), [...Array(SEGMENTS).keys()]);
    t.deepEqual(receiptedAreDurable(storeDir, 'CAM-0001', released), []);
    // Stored once each, and nothing left half-uploaded.
    const store = new EvidenceStore(storeDir);
    t.deepEqual(
      store.segments('CAM-0001').map((r) => [r.seq, r.state]),
      [...Array(SEGMENTS).keys()].map((seq) => [seq, 'stored']),
    );
    store.close();
    t.is(readdirSync(join(storeDir, 'devices', 'CAM-0001', 'segments')).length, 2 * SEGMENTS);
    t.deepEqual(readdirSync(join(storeDir, 'partial', 'CAM-0001')), []);
  } finally {
    await camera.close();
  }
});

test('[node] before each receipt goes out, every file it names and every folder its batch changed was fsynced, then the index committed', async (t) => {
  const { station, port, storeDir } = await startStation({ chunkSize: 16 * 1024, batch: 2 });
  const trace: { event: string; path: string }[] = [];
  station.store.syncTrace = (event, path) => void trace.push({ event, path });
  await dockFive(t, station, port, () => {
    const receipts = trace.map((e, i) => ({ ...e, i })).filter((e) => e.event === 'receipt');
    t.is(receipts.length, 3, 'batches of 2: three receipts for five segments');
    const fsyncedBefore = (path: string, i: number) => trace.findIndex((e, j) => j < i && e.event === 'fsync' && e.path === path);
    for (const r of receipts) {
      const receipt = peekReceipt(new Uint8Array(readFileSync(r.path))).receipt;
      const segments = join(storeDir, 'devices', 'CAM-0001', 'segments');
      const need = [r.path, dirname(r.path), segments];
      for (const e of receipt.entries) {
        const manifestFile = join(segments, `${seqName(e.seq)}.manifest.cose`);
        const mediaFile = join(segments, `${seqName(e.seq)}.media`);
        need.push(manifestFile, mediaFile);
        for (const object of [sha256(readFileSync(manifestFile)), sha256(readFileSync(mediaFile))]) need.push(join(storeDir, 'objects', 'sha256', object.slice(0, 2)));
      }
      need.push(join(storeDir, 'partial', 'CAM-0001'));
      let last = -1;
      for (const path of need) {
        const at = fsyncedBefore(path, r.i);
        t.true(at >= 0, `${path} was not fsynced before the receipt for ${receipt.entries.map((e) => e.seq).join(',')} went out`);
        last = Math.max(last, at);
      }
      const commit = trace.findIndex((e, j) => j > last && j < r.i && e.event === 'commit');
      t.true(commit >= 0, 'the index committed after the syncs and before the receipt');
    }
  });
});

test('[node] a sealed batch is synced while the next segments are pulled: its receipt waits for the sync, the upload does not', async (t) => {
  // The first batch's disk is slow (each of its fsyncs takes 300 ms more): the station pulls the
  // third segment meanwhile, and the first receipt goes out only after that batch's commit.
  const trace: { event: string; segmentsDone?: number; bytesDone?: number }[] = [];
  const { station, port } = await startStation({ chunkSize: 16 * 1024, batch: 2, onProgress: (p) => trace.push({ event: 'progress', segmentsDone: p.segmentsDone, bytesDone: p.bytesDone }) });
  let slow = true;
  station.store.syncTrace = (event) => {
    trace.push({ event });
    if (event === 'commit') slow = false;
    if (event === 'fsync' && slow) return new Promise((resolve) => setTimeout(resolve, 300));
  };
  await dockFive(t, station, port, () => {
    const receipt = trace.findIndex((e) => e.event === 'receipt');
    const commit = trace.findIndex((e) => e.event === 'commit');
    t.true(commit >= 0 && commit < receipt, 'the first batch committed before its receipt went out');
    const third = trace.slice(0, receipt).filter((e) => e.event === 'progress' && e.segmentsDone === 2).map((e) => e.bytesDone!);
    t.true(third.length > 1 && Math.max(...third) > Math.min(...third), `chunks of the third segment landed before the first receipt went out (${third.length} progress reports)`);
  });
});

/** A camera records five segments and docks them all to `station`; then `check`; then both close. */
async function dockFive(t: ExecutionContext, station: DockStation, port: number, check: () => void): Promise<void> {
  const camera = await startCamera('node');
  try {
    await camera.engine.call('dock.camera.record', { segments: 5, frames: 6, bodyBytes: 6000 });
    const s = await dock(camera, port);
    await station.idle();
    t.deepEqual(s.pending, []);
    check();
  } finally {
    await camera.close();
    await station.close();
  }
}
