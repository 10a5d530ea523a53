// The receiving side of the dock ingest bench in a process of its own, as a station runs: for
// each request it listens once, reports its port, and reports again when what it received is
// done — 'station': a dock station with a fresh store, done when the session ends (every segment
// verified, durable, indexed, receipted); 'copy': the plain TCP receiver, every byte written to
// one file as it arrives and one fsync at the end, reading as a stream (a new buffer from Node
// for every read); 'copy-direct': the same, reading into one reused 256 KiB buffer (readDirect,
// as the station reads). With each "done" go this process's CPU time and event-loop busy time
// since it listened. Run by bench/sections/ingest.ts through child_process.fork, one process for
// each of its settings (as node starts by default, or with the V8 flags it is given).

import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SessionResult } from '../dock-station/session.js';
import { readDirect } from '../dock-station/session.js';
import { startStation } from '../test/helpers/dock.js';

export type ReceiverAsk = { mode: 'station' | 'copy' | 'copy-direct'; bytes?: number; chunk?: number } | { exit: true };
export type ReceiverDone = { done: true; cpuMs: number; busyMs: number; ok: boolean; code?: string; message?: string; bytes: number };

const send = (m: unknown) => new Promise<void>((resolve) => process.send!(m, () => resolve()));

function meter() {
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  return () => {
    const c = process.cpuUsage(cpu0);
    return { cpuMs: (c.user + c.system) / 1000, busyMs: performance.eventLoopUtilization(elu0).active };
  };
}

async function copy(bytes: number, direct: boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bodycam-copy-'));
  const fd = openSync(join(dir, 'copy.bin'), 'w');
  let got = 0;
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const write = (c: Uint8Array, n: number) => {
    for (let o = 0; o < n; ) o += writeSync(fd, c, o, n - o);
    got += n;
    if (got >= bytes) {
      fsyncSync(fd);
      finish();
    }
  };
  const reused = new Uint8Array(256 * 1024);
  const server = createServer({ pauseOnConnect: true }, (s) => {
    if (direct && readDirect(s, () => reused, (n, into) => (write(into, n), true))) return;
    if (direct) throw new Error('this Node cannot read an accepted connection into a buffer of ours');
    s.on('data', (c: Buffer) => write(c, c.length)).resume();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const took = meter();
  await send({ port: (server.address() as { port: number }).port });
  await done;
  const m = took();
  closeSync(fd);
  server.close();
  rmSync(dir, { recursive: true, force: true });
  await send({ done: true, ...m, ok: true, bytes: got } satisfies ReceiverDone);
}

async function station(chunk: number): Promise<void> {
  let ended!: (r: SessionResult) => void;
  const result = new Promise<SessionResult>((r) => (ended = r));
  const { station: st, port, storeDir } = await startStation({ chunkSize: chunk, onResult: (r) => ended(r) });
  const took = meter();
  await send({ port });
  const r = await result;
  const m = took();
  const bytes = r.device ? st.store.segments(r.device).reduce((n, s) => n + (s.state === 'stored' ? s.length : 0), 0) : 0;
  await st.close();
  rmSync(storeDir, { recursive: true, force: true });
  await send({ done: true, ...m, ok: r.ok, code: r.code, message: r.message, bytes } satisfies ReceiverDone);
}

process.on('message', (m: ReceiverAsk) => {
  if ('exit' in m) {
    process.disconnect();
    return;
  }
  void (m.mode === 'station' ? station(m.chunk!) : copy(m.bytes!, m.mode === 'copy-direct'));
});
await send({ ready: true });
