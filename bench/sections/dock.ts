// Dock figures: upload throughput camera → station over loopback TCP (verification and fsync
// included) against a plain TCP copy of the same bytes into a file; eight cameras at once
// against one; XS compute units the camera spends per MiB uploaded.

import { closeSync, fsyncSync, mkdtempSync, openSync, writeSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dock, startCamera, startStation } from '../../test/helpers/dock.js';
import type { Report } from '../report.js';
import { Worker } from 'node:worker_threads';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// Ten-second segments at 15 fps of 30 KiB VGA frames: 4.4 MiB each, as a camera records them.
const SEGMENTS = 8;
const RECORD = { segments: SEGMENTS, frames: 150, bodyBytes: 30 * 1024 };

/** Cameras in their own threads, recorded and ready; dockAll() docks them all at once and resolves when done. */
async function threadCameras(n: number): Promise<{ dockAll(port: number): Promise<void> }> {
  const workers: Worker[] = [];
  for (let i = 0; i < n; i++) {
    const w = new Worker(new URL('../dock-camera-worker.js', import.meta.url), { workerData: { id: `CAM-${String(i + 1).padStart(4, '0')}`, ...RECORD } });
    await new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', reject);
    });
    workers.push(w);
  }
  return {
    dockAll: async (port) => {
      await Promise.all(
        workers.map(
          (w) =>
            new Promise<void>((resolve, reject) => {
              w.once('message', (m: { pending: number }) => (m.pending === 0 ? resolve() : reject(new Error(`${m.pending} segments left on a camera`))));
              w.postMessage({ port });
            }),
        ),
      );
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

async function plainCopy(bytes: number): Promise<number> {
  const file = join(mkdtempSync(join(tmpdir(), 'bodycam-copy-')), 'copy.bin');
  const fd = openSync(file, 'w');
  let got = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const server = createServer((s) => {
    s.on('data', (c: Buffer) => {
      writeSync(fd, c);
      got += c.length;
      if (got >= bytes) {
        fsyncSync(fd);
        done();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const chunk = Buffer.alloc(64 * 1024, 7);
  const t0 = performance.now();
  const sock = connect(port, '127.0.0.1');
  await new Promise<void>((r) => sock.on('connect', () => r()));
  for (let sent = 0; sent < bytes; sent += chunk.length) {
    if (!sock.write(chunk.subarray(0, Math.min(chunk.length, bytes - sent)))) await new Promise((r) => sock.once('drain', r));
  }
  await finished;
  const ms = performance.now() - t0;
  sock.destroy();
  closeSync(fd);
  server.close();
  return ms;
}

export default async function dockBench(report: Report): Promise<void> {
  report.section('dock: upload over loopback TCP');
  // One camera, in its own thread (a camera is its own machine).
  const mbps = (b: number, m: number) => b / 1048576 / (m / 1000);
  let oneRate = 0;
  let bytes = 0;
  {
    const { station, port } = await startStation({ chunkSize: 256 * 1024 });
    const cams = await threadCameras(1);
    const elu0 = performance.eventLoopUtilization();
    const t0 = performance.now();
    await cams.dockAll(port);
    await station.idle();
    const ms = performance.now() - t0;
    // The station's own thread: how long it was busy (the camera runs in another thread).
    const busyMs = performance.eventLoopUtilization(elu0).active;
    bytes = station.store.segments('CAM-0001').reduce((n, s) => n + s.length, 0);
    const copyMs = await plainCopy(bytes);
    oneRate = mbps(bytes, ms);
    report.add({ name: `upload ${SEGMENTS} segments (${(bytes / 1048576).toFixed(1)} MiB), authenticated, verified, fsynced, receipted`, value: oneRate, unit: 'MiB/s', baseline: { name: 'plain TCP copy of the same bytes to a file (MiB/s)', value: mbps(bytes, copyMs) } });
    report.add({ name: "the station's thread alone: MiB per second of its busy time (the simulated camera excluded)", value: mbps(bytes, busyMs), unit: 'MiB/s', baseline: { name: 'plain TCP copy (MiB/s)', value: mbps(bytes, copyMs) } });
    report.note(`station busy ${busyMs.toFixed(0)} ms of ${ms.toFixed(0)} ms: the rest is the camera thread (flash simulator reads, record CRCs, framing) and waiting on fsync`);
    await station.close();
  }
  // Eight at once.
  {
    const eight = await startStation({ chunkSize: 256 * 1024 });
    const cams = await threadCameras(8);
    const t1 = performance.now();
    await cams.dockAll(eight.port);
    await eight.station.idle();
    const ms8 = performance.now() - t1;
    report.add({ name: 'upload from 8 cameras at once, aggregate', value: mbps(8 * bytes, ms8), unit: 'MiB/s', baseline: { name: 'one camera (MiB/s)', value: oneRate } });
    report.note('(2 cores: the 8 camera threads share them with the station)');
    await eight.station.close();
  }
  // Many cameras at once: the fleet in its own process, so the station's RSS is its own.
  {
    const fleetRecord = { segments: 2, frames: 60, bodyBytes: 30 * 1024 };
    report.section('dock: many cameras at once (1, 8, 32, 64), one station');
    report.note(`each camera: ${fleetRecord.segments} segments of ${fleetRecord.frames} frames of ${fleetRecord.bodyBytes / 1024} KiB; the cameras run in one other process (2 cores in all); station defaults (upload slots, per-message timeout)`);
    let single = 0;
    for (const n of [1, 8, 32, 64]) {
      const child = fork(fileURLToPath(new URL('../dock-fleet.js', import.meta.url)), [String(n), String(fleetRecord.segments), String(fleetRecord.frames), String(fleetRecord.bodyBytes)], { stdio: 'inherit' });
      await new Promise<void>((resolve, reject) => {
        child.once('message', () => resolve());
        child.once('error', reject);
      });
      const { station, port } = await startStation({ timeoutMs: 30_000 });
      const rss0 = process.memoryUsage().rss;
      let peak = rss0;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
      const t0 = performance.now();
      const done = await new Promise<{ empty: number; reasons: string[] }>((resolve) => {
        child.once('message', (m: { empty: number; reasons: string[] }) => resolve(m));
        child.send({ port });
      });
      await station.idle();
      const ms = performance.now() - t0;
      clearInterval(sampler);
      const ok = station.results.filter((r) => r.ok).length;
      const timedOut = station.results.filter((r) => r.code === 'E_TIMEOUT').length;
      const total = station.results.reduce((sum, r) => sum + (r.device ? station.store.segments(r.device).reduce((x, s) => x + s.length, 0) : 0), 0);
      const rate = mbps(total, ms);
      if (n === 1) single = rate;
      report.add({ name: `${n} camera${n > 1 ? 's' : ''} at once: sessions completed`, value: ok, unit: `of ${n} (${timedOut} timed out; ${done.empty} cameras left empty)` });
      report.add({ name: `${n} camera${n > 1 ? 's' : ''} at once: aggregate upload`, value: rate, unit: 'MiB/s', ...(n > 1 ? { baseline: { name: 'one camera (MiB/s)', value: single } } : {}) });
      report.add({ name: `${n} camera${n > 1 ? 's' : ''} at once: station RSS at peak`, value: peak / 1048576, unit: `MiB (${((peak - rss0) / 1048576).toFixed(1)} MiB above its idle ${(rss0 / 1048576).toFixed(0)} MiB)` });
      if (done.reasons.length) report.note(`cameras not emptied: ${done.reasons.slice(0, 3).join(' | ')}`);
      await station.close();
    }
  }
  // XS compute units on the camera side: a session's fixed cost (handshake, checkpoint, receipt
  // check: Ed25519 with the fast signer) and the cost per MiB of media on top of it.
  {
    const xsUnits = async (segments: number) => {
      const { station, port } = await startStation({ chunkSize: 64 * 1024 });
      const cam = await startCamera('xs', { flashBlocks: 16384 });
      if (segments) await cam.engine.call('dock.camera.record', { segments, frames: 150, bodyBytes: 30 * 1024 });
      cam.engine.takeCallbackCompute();
      await dock(cam, port);
      await station.idle();
      const units = cam.engine.takeCallbackCompute();
      const mib = station.store.segments('CAM-0001').reduce((n, s) => n + s.length, 0) / 1048576;
      await cam.close();
      await station.close();
      return { units, mib };
    };
    const empty = await xsUnits(0);
    const full = await xsUnits(2);
    report.add({ name: 'XS: camera side of a dock session with nothing to upload (handshake, checkpoint)', value: empty.units, unit: 'compute units' });
    report.add({ name: `XS: camera-side firmware units per MiB uploaded, above that (${full.mib.toFixed(1)} MiB; bridge and digests excluded)`, value: (full.units - empty.units) / full.mib, unit: 'compute units' });
  }
}
