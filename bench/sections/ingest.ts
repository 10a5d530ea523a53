// Dock ingest against a plain copy (issue 18 part 3), in one run:
// - station-only: a replay camera in its own process (bench/dock-replay.ts: ready-made chunk
//   messages, only the session seal and frame CRC made per pull) docks to a station in a process
//   of its own, as a station runs (bench/dock-receiver-worker.ts); the time from "go" to the
//   session's end (every segment verified, durable, indexed and receipted) against a plain TCP
//   copy of the same bytes from the same sender into one file with one fsync at the end, received
//   by the same kind of process, twice: reading as a stream (a new buffer from Node for every
//   read), and reading into one reused buffer as the station does (readDirect), the faster copy.
//   Rounds are interleaved (copy, direct copy, station, ...); each figure is the median ratio.
//   Three ways: with the chunks a station pulls (DEFAULT_CHUNK, 64 KiB) as node starts by
//   default; the same with both receivers under V8's --single-threaded-gc; and with the largest
//   chunks the protocol allows (256 KiB), each chunk size from a replay camera of its own.
// - end to end: a simulated camera (node engine, its own thread: flash simulator, records, framing)
//   docks the same way, against a plain copy of its bytes in the same run.

import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DEFAULT_CHUNK, MAX_CHUNK } from '../../firmware/dock/messages.js';
import type { ReceiverAsk, ReceiverDone } from '../dock-receiver-worker.js';
import type { Report } from '../report.js';

/** 32 ten-second segments of 4.4 MiB (15 fps of 30 KiB frames): 141 MiB, two receipt batches. */
const SEGMENTS = 32;
const SEGMENT_BYTES = 150 * (30 * 1024 + 40);
const ROUNDS = 5;

type Done = { done: true; cpuMs: number; released: number; closeReason: string; digest?: string };

function ask(child: ChildProcess, m: { port?: number; mode?: 'copy' | 'replay' | 'floor'; bytes?: number; key?: string; exit?: boolean }): Promise<Done> {
  if (m.exit) {
    child.send(m);
    return new Promise((resolve) => child.once('exit', () => resolve({ done: true, cpuMs: 0, released: 0, closeReason: 'exit' })));
  }
  return new Promise((resolve) => {
    child.once('message', (r: Done) => resolve(r));
    child.send(m);
  });
}

/** A receiver process: asked to listen, it answers with its port, then with its "done". */
class Receiver {
  #child: ChildProcess;
  #inbox: unknown[] = [];
  #waiting: ((m: unknown) => void)[] = [];
  constructor(readonly flags: string[]) {
    this.#child = fork(fileURLToPath(new URL('../dock-receiver-worker.js', import.meta.url)), [], { stdio: 'inherit', execArgv: flags });
    this.#child.on('message', (m) => {
      const w = this.#waiting.shift();
      if (w) w(m);
      else this.#inbox.push(m);
    });
  }
  next<T>(): Promise<T> {
    if (this.#inbox.length) return Promise.resolve(this.#inbox.shift() as T);
    return new Promise((resolve) => this.#waiting.push(resolve as (m: unknown) => void));
  }
  async listen(m: ReceiverAsk): Promise<number> {
    this.#child.send(m);
    return (await this.next<{ port: number }>()).port;
  }
  close(): Promise<void> {
    this.#child.send({ exit: true } satisfies ReceiverAsk);
    return new Promise((resolve) => this.#child.once('exit', () => resolve()));
  }
}

/** One timed transfer: the receiver listens, then from "go" until both the sender and the receiver are done. */
async function timed(rx: Receiver, m: ReceiverAsk, send: (port: number) => Promise<unknown>): Promise<{ ms: number; rx: ReceiverDone; sender: unknown }> {
  const port = await rx.listen(m);
  const t0 = performance.now();
  const [sender, done] = await Promise.all([send(port), rx.next<ReceiverDone>()]);
  return { ms: performance.now() - t0, rx: done, sender };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mibps = (bytes: number, ms: number) => bytes / 1048576 / (ms / 1000);

export default async function ingestBench(report: Report): Promise<void> {
  report.section('dock ingest against a plain copy (station-only: replay camera; end to end: simulated camera)');
  // The replay camera stands in for another machine: V8's garbage-collector helper threads would
  // take this machine's second core from the station, so its process collects on one thread
  // (its CPU a MiB fell from about 2.7 ms to 2.0; the plain copy's sender is the same process).
  const cameras = new Map<number, ChildProcess>();
  let bytes = 0;
  for (const chunk of [DEFAULT_CHUNK, MAX_CHUNK]) {
    const child = fork(fileURLToPath(new URL('../dock-replay-worker.js', import.meta.url)), [String(SEGMENTS), String(SEGMENT_BYTES), String(chunk)], { stdio: 'inherit', execArgv: ['--single-threaded-gc'] });
    bytes = (await new Promise<{ bytes: number }>((resolve) => child.once('message', (m: { bytes: number }) => resolve(m)))).bytes;
    cameras.set(chunk, child);
  }
  const child = cameras.get(DEFAULT_CHUNK)!;
  const key = randomBytes(32).toString('hex');
  const mib = bytes / 1048576;
  for (const [chunk, flags] of [[DEFAULT_CHUNK, []], [DEFAULT_CHUNK, ['--single-threaded-gc']], [MAX_CHUNK, []]] as const) {
    const rx = new Receiver([...flags]);
    await rx.next();
    const how = `${chunk / 1024} KiB chunks${chunk === DEFAULT_CHUNK ? " (the station's)" : ''}, ${flags.length ? `both receivers under ${flags.join(' ')}` : 'as node starts by default'}`;
    const camera = cameras.get(chunk)!;
    const copies: number[] = [];
    const directs: number[] = [];
    const stations: number[] = [];
    const floors: number[] = [];
    let floorCpu = 0;
    let floorSenderCpu = 0;
    let cameraCpu = 0;
    let copySenderCpu = 0;
    let busy = 0;
    let stationCpu = 0;
    let receiverCpu = 0;
    let directCpu = 0;
    // One round of each first, not counted: a station runs for hours, its code compiled and its
    // pool of frame buffers filled; a receiver process starts cold (the first rounds ran 20 % slower).
    const floorRound = async () => {
      const f = await timed(rx, { mode: 'floor', bytes, chunk, segmentBytes: SEGMENT_BYTES, key }, (port) => ask(camera, { port, mode: 'floor', key }));
      if (!f.rx.digest || f.rx.digest !== (f.sender as Done).digest) throw new Error(`the floor's receiver hashed ${f.rx.digest}, the sender's media is ${(f.sender as Done).digest}`);
      return f;
    };
    for (const mode of ['copy', 'copy-direct', 'station'] as const) {
      const warm = await timed(rx, { mode, bytes, chunk }, (port) => ask(camera, { port, mode: mode === 'station' ? 'replay' : 'copy' }));
      if (!warm.rx.ok) throw new Error(`warm-up ${mode} failed: ${warm.rx.code} ${warm.rx.message}`);
    }
    await floorRound();
    for (let round = 0; round < ROUNDS; round++) {
      const copy = await timed(rx, { mode: 'copy', bytes }, (port) => ask(camera, { port, mode: 'copy' }));
      const direct = await timed(rx, { mode: 'copy-direct', bytes }, (port) => ask(camera, { port, mode: 'copy' }));
      const fl = await floorRound();
      const st = await timed(rx, { mode: 'station', chunk }, (port) => ask(camera, { port, mode: 'replay' }));
      const cam = st.sender as Done;
      if (!st.rx.ok || cam.released !== SEGMENTS) throw new Error(`replay session failed: ${st.rx.code} ${st.rx.message} (camera: ${cam.closeReason}, released ${cam.released})`);
      copies.push(copy.ms);
      directs.push(direct.ms);
      floors.push(fl.ms);
      floorCpu += fl.rx.cpuMs / ROUNDS;
      floorSenderCpu += (fl.sender as Done).cpuMs / ROUNDS;
      stations.push(st.ms);
      cameraCpu += cam.cpuMs / ROUNDS;
      copySenderCpu += (copy.sender as Done).cpuMs / ROUNDS;
      busy += st.rx.busyMs / ROUNDS;
      stationCpu += st.rx.cpuMs / ROUNDS;
      receiverCpu += copy.rx.cpuMs / ROUNDS;
      directCpu += direct.rx.cpuMs / ROUNDS;
    }
    await rx.close();
    const what = `station-only, ${how}: ${SEGMENTS} segments (${mib.toFixed(1)} MiB) from a replay camera, authenticated, verified, durable, indexed, receipted (median of ${ROUNDS} interleaved rounds)`;
    const rate = (name: string, value: number[], against: string, baseline: number[]) => {
      // The round whose ratio is the median, and every round's ratio.
      const ratios = baseline.map((ms, k) => ms / value[k]);
      const i = ratios.indexOf(median(ratios));
      report.add({ name, value: mibps(bytes, value[i]), unit: 'MiB/s', baseline: { name: against, value: mibps(bytes, baseline[i]) } });
      report.note(`ratios by round: ${ratios.map((r) => r.toFixed(2)).join(', ')}`);
    };
    rate(what, stations, 'plain TCP copy of the same bytes into a file, one fsync, reading as a stream (MiB/s)', copies);
    rate(what, stations, 'the same copy reading into one reused buffer, as the station reads (MiB/s)', directs);
    report.note(`station thread busy ${busy.toFixed(0)} ms of ${median(stations).toFixed(0)} ms`);
    // The floor against the faster copy is the most any station that opens and hashes can reach
    // here; the station against the floor is what its protocol costs.
    rate(`the floor, ${how}: the same bytes sealed with ChaCha20-Poly1305 by the sender in ${chunk / 1024} KiB records, opened in place, SHA-256 hashed and written by the receiver, one fsync, no protocol (MiB/s)`, floors, 'the copy reading into one reused buffer (MiB/s)', directs);
    rate(`station-only, ${how} (MiB/s)`, stations, 'the floor (MiB/s)', floors);
    report.note(`the floor's receiver ${(floorCpu / mib).toFixed(2)} ms of CPU per MiB, its sender ${(floorSenderCpu / mib).toFixed(2)}`);
    report.add({ name: `station-only, ${how}: station CPU per MiB (all its threads; a figure the machine's other load does not inflate)`, value: stationCpu / mib, unit: 'ms', baseline: { name: "the plain copy receiver's CPU per MiB, reading as a stream (ms)", value: receiverCpu / mib } });
    report.note(`the copy reading into one buffer: ${(directCpu / mib).toFixed(2)} ms per MiB; replay camera CPU ${(cameraCpu / mib).toFixed(2)} ms per MiB (the session seal, in place, and the frame CRC per chunk); the copy's sender ${(copySenderCpu / mib).toFixed(2)} ms per MiB`);
  }

  // End to end: the simulated camera, in its own thread, against a plain copy of its bytes.
  const rx = new Receiver([]);
  await rx.next();
  const RECORD = { segments: 8, frames: 150, bodyBytes: 30 * 1024 };
  const w = new Worker(new URL('../dock-camera-worker.js', import.meta.url), { workerData: { id: 'CAM-0001', ...RECORD } });
  await new Promise<void>((resolve, reject) => {
    w.once('message', () => resolve());
    w.once('error', reject);
  });
  const e2e = await timed(
    rx,
    { mode: 'station', chunk: DEFAULT_CHUNK },
    (port) =>
      new Promise<void>((resolve, reject) => {
        w.once('message', (m: { pending: number }) => (m.pending === 0 ? resolve() : reject(new Error(`${m.pending} segments left on the camera`))));
        w.postMessage({ port });
      }),
  );
  await w.terminate();
  if (!e2e.rx.ok) throw new Error(`end-to-end session failed: ${e2e.rx.code} ${e2e.rx.message}`);
  const e2eBytes = e2e.rx.bytes;
  const e2eCopy = await timed(rx, { mode: 'copy', bytes: e2eBytes }, (port) => ask(child, { port, mode: 'copy', bytes: e2eBytes }));
  const e2eDirect = await timed(rx, { mode: 'copy-direct', bytes: e2eBytes }, (port) => ask(child, { port, mode: 'copy', bytes: e2eBytes }));
  await rx.close();
  const e2eWhat = `end to end: ${RECORD.segments} segments (${(e2eBytes / 1048576).toFixed(1)} MiB) from a simulated camera (node engine, its own thread)`;
  report.add({ name: e2eWhat, value: mibps(e2eBytes, e2e.ms), unit: 'MiB/s', baseline: { name: 'plain TCP copy of the same bytes, reading as a stream (MiB/s)', value: mibps(e2eBytes, e2eCopy.ms) } });
  report.add({ name: e2eWhat, value: mibps(e2eBytes, e2e.ms), unit: 'MiB/s', baseline: { name: 'the same copy reading into one reused buffer (MiB/s)', value: mibps(e2eBytes, e2eDirect.ms) } });
  report.note(`station thread busy ${e2e.rx.busyMs.toFixed(0)} ms of ${e2e.ms.toFixed(0)} ms: the rest is the camera thread (flash simulator reads, record CRCs, framing)`);
  for (const c of cameras.values()) await ask(c, { exit: true });
}
