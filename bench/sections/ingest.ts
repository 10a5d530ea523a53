// Dock ingest against a plain copy (issue 18 part 3), in one run:
// - station-only: a replay camera in its own process (bench/dock-replay.ts: ready-made chunk
//   messages, only the session seal and frame CRC made per pull) docks to a station; the time from
//   "go" to the session's end (every segment verified, durable, indexed and receipted) against a
//   plain TCP copy of the same bytes from the same process into one file with one fsync at the end.
//   Rounds are interleaved (copy, station, copy, station, ...); the figure is the median ratio.
// - end to end: a simulated camera (node engine, its own thread: flash simulator, records, framing)
//   docks the same way, against a plain copy of its bytes in the same run.

import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { startStation } from '../../test/helpers/dock.js';
import type { SessionResult } from '../../dock-station/session.js';
import type { Report } from '../report.js';

const CHUNK = 256 * 1024;
/** 32 ten-second segments of 4.4 MiB (15 fps of 30 KiB frames): 141 MiB, two receipt batches. */
const SEGMENTS = 32;
const SEGMENT_BYTES = 150 * (30 * 1024 + 40);
const ROUNDS = 5;

type Done = { done: true; cpuMs: number; released: number; closeReason: string };

function ask(child: ChildProcess, m: { port?: number; mode?: 'copy' | 'replay'; bytes?: number; exit?: boolean }): Promise<Done> {
  if (m.exit) {
    child.send(m);
    return new Promise((resolve) => child.once('exit', () => resolve({ done: true, cpuMs: 0, released: 0, closeReason: 'exit' })));
  }
  return new Promise((resolve) => {
    child.once('message', (r: Done) => resolve(r));
    child.send(m);
  });
}

/** The baseline receiver: every byte written to one file as it arrives, one fsync at the end. */
async function plainReceiver(bytes: number): Promise<{ port: number; done: Promise<void>; close(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'bodycam-copy-'));
  const fd = openSync(join(dir, 'copy.bin'), 'w');
  let got = 0;
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const server = createServer((s) => {
    s.on('data', (c: Buffer) => {
      for (let o = 0; o < c.length; ) o += writeSync(fd, c, o);
      got += c.length;
      if (got >= bytes) {
        fsyncSync(fd);
        finish();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    port: (server.address() as { port: number }).port,
    done,
    close: () => {
      closeSync(fd);
      server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** CPU time of this process (every thread: the event loop and the thread pool) since `from`, ms. */
const cpuMs = (from: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(from);
  return (c.user + c.system) / 1000;
};

async function timedCopy(bytes: number, send: (port: number) => Promise<unknown>): Promise<{ ms: number; cpuMs: number; sender: unknown }> {
  const rx = await plainReceiver(bytes);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const [sender] = await Promise.all([send(rx.port), rx.done]);
  const ms = performance.now() - t0;
  const cpu = cpuMs(cpu0);
  rx.close();
  return { ms, cpuMs: cpu, sender };
}

async function timedStation(send: (port: number) => Promise<unknown>): Promise<{ ms: number; cpuMs: number; result: SessionResult; busyMs: number; sender: unknown; bytes: number }> {
  let ended!: (r: SessionResult) => void;
  const result = new Promise<SessionResult>((r) => (ended = r));
  const { station, port, storeDir } = await startStation({ chunkSize: CHUNK, onResult: (r) => ended(r) });
  const elu0 = performance.eventLoopUtilization();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const [sender, r] = await Promise.all([send(port), result]);
  const ms = performance.now() - t0;
  const cpu = cpuMs(cpu0);
  const busyMs = performance.eventLoopUtilization(elu0).active;
  const bytes = r.device ? station.store.segments(r.device).reduce((n, s) => n + (s.state === 'stored' ? s.length : 0), 0) : 0;
  await station.close();
  rmSync(storeDir, { recursive: true, force: true });
  return { ms, cpuMs: cpu, result: r, busyMs, sender, bytes };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mibps = (bytes: number, ms: number) => bytes / 1048576 / (ms / 1000);

export default async function ingestBench(report: Report): Promise<void> {
  report.section('dock ingest against a plain copy (station-only: replay camera; end to end: simulated camera)');
  // The replay camera stands in for another machine: V8's garbage-collector helper threads would
  // take this machine's second core from the station, so its process collects on one thread
  // (its CPU a MiB fell from about 2.7 ms to 2.0; the plain copy's sender is the same process).
  const child = fork(fileURLToPath(new URL('../dock-replay-worker.js', import.meta.url)), [String(SEGMENTS), String(SEGMENT_BYTES), String(CHUNK)], { stdio: 'inherit', execArgv: ['--single-threaded-gc'] });
  const { bytes } = await new Promise<{ bytes: number }>((resolve) => child.once('message', (m: { bytes: number }) => resolve(m)));
  const ratios: number[] = [];
  const copies: number[] = [];
  const stations: number[] = [];
  let cameraCpu = 0;
  let copyCpu = 0;
  let busy = 0;
  let stationCpu = 0;
  let receiverCpu = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const copy = await timedCopy(bytes, (port) => ask(child, { port, mode: 'copy' }));
    const st = await timedStation((port) => ask(child, { port, mode: 'replay' }));
    const cam = st.sender as Done;
    if (!st.result.ok || cam.released !== SEGMENTS) throw new Error(`replay session failed: ${st.result.code} ${st.result.message} (camera: ${cam.closeReason}, released ${cam.released})`);
    copies.push(copy.ms);
    stations.push(st.ms);
    ratios.push(copy.ms / st.ms);
    cameraCpu += cam.cpuMs / ROUNDS;
    copyCpu += (copy.sender as Done).cpuMs / ROUNDS;
    busy += st.busyMs / ROUNDS;
    stationCpu += st.cpuMs / ROUNDS;
    receiverCpu += copy.cpuMs / ROUNDS;
  }
  const mib = bytes / 1048576;
  const i = ratios.indexOf(median(ratios));
  report.add({ name: `station-only: ${SEGMENTS} segments (${mib.toFixed(1)} MiB) from a replay camera, authenticated, verified, durable, indexed, receipted (median of ${ROUNDS} interleaved rounds)`, value: mibps(bytes, stations[i]), unit: 'MiB/s', baseline: { name: 'plain TCP copy of the same bytes into a file, one fsync (MiB/s)', value: mibps(bytes, copies[i]) } });
  report.note(`ratios by round: ${ratios.map((r) => r.toFixed(2)).join(', ')}; station thread busy ${busy.toFixed(0)} ms of ${median(stations).toFixed(0)} ms`);
  report.add({ name: 'station-only: station CPU per MiB (all its threads; a figure the machine\'s other load does not inflate)', value: stationCpu / mib, unit: 'ms', baseline: { name: 'the plain copy receiver\'s CPU per MiB (ms)', value: receiverCpu / mib } });
  report.note(`replay camera CPU ${(cameraCpu / mib).toFixed(2)} ms per MiB (the session seal, in place, and the frame CRC per chunk); the copy's sender ${(copyCpu / mib).toFixed(2)} ms per MiB`);

  // End to end: the simulated camera, in its own thread, against a plain copy of its bytes.
  const RECORD = { segments: 8, frames: 150, bodyBytes: 30 * 1024 };
  const w = new Worker(new URL('../dock-camera-worker.js', import.meta.url), { workerData: { id: 'CAM-0001', ...RECORD } });
  await new Promise<void>((resolve, reject) => {
    w.once('message', () => resolve());
    w.once('error', reject);
  });
  const e2e = await timedStation(
    (port) =>
      new Promise<void>((resolve, reject) => {
        w.once('message', (m: { pending: number }) => (m.pending === 0 ? resolve() : reject(new Error(`${m.pending} segments left on the camera`))));
        w.postMessage({ port });
      }),
  );
  await w.terminate();
  const e2eCopy = await timedCopy(e2e.bytes, (port) => ask(child, { port, mode: 'copy', bytes: e2e.bytes }));
  report.add({ name: `end to end: ${RECORD.segments} segments (${(e2e.bytes / 1048576).toFixed(1)} MiB) from a simulated camera (node engine, its own thread)`, value: mibps(e2e.bytes, e2e.ms), unit: 'MiB/s', baseline: { name: 'plain TCP copy of the same bytes (MiB/s)', value: mibps(e2e.bytes, e2eCopy.ms) } });
  report.note(`station thread busy ${e2e.busyMs.toFixed(0)} ms of ${e2e.ms.toFixed(0)} ms: the rest is the camera thread (flash simulator reads, record CRCs, framing)`);
  await ask(child, { exit: true });
}
