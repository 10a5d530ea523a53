// The receiving side of the dock ingest bench in a process of its own, as a station runs: for
// each request it listens once, reports its port, and reports again when what it received is
// done — 'station': a dock station with a fresh store, done when the session ends (every segment
// verified, durable, indexed, receipted); 'copy': the plain TCP receiver, every byte written to
// one file as it arrives and one fsync at the end, reading as a stream (a new buffer from Node
// for every read); 'copy-direct': the same, reading into one reused 256 KiB buffer (readDirect,
// as the station reads); 'floor': sealed records opened, hashed and written, no protocol (below).
// With each "done" go this process's CPU time and event-loop busy time since it listened. "done"
// is sent before the receiver deletes what it received (and closes the station): deleting a store
// is not ingest, and it had taken about 90 ms of a station's 600 ms round (and the copies' deleted
// file a share of theirs). The next round listens once that is finished. Run by
// bench/sections/ingest.ts through child_process.fork, one process for each of its settings (as
// node starts by default, or with the V8 flags it is given).

import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync, writevSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sodium from 'sodium-native';
import type { SessionResult } from '../dock-station/session.js';
import { readDirect } from '../dock-station/session.js';
import { AEAD_TAG_BYTES } from '../firmware/platform/cipher.js';
import { startStation } from '../test/helpers/dock.js';

export type ReceiverAsk = { mode: 'station' | 'copy' | 'copy-direct' | 'floor'; bytes?: number; chunk?: number; segmentBytes?: number; key?: string } | { exit: true };
export type ReceiverDone = { done: true; cpuMs: number; busyMs: number; ok: boolean; code?: string; message?: string; bytes: number; digest?: string };

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
  await serve(server, done, () => {
    closeSync(fd);
    return { bytes: got };
  });
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Listen, report the port, and once `done` report "done" with this process's CPU and busy time
 * and what `ended` says (it closes the receiver's file). The caller deletes what was received
 * after this returns: removing it is not receiving it.
 */
async function serve(server: Server, done: Promise<void>, ended: () => { bytes: number; digest?: string }): Promise<void> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const took = meter();
  await send({ port: (server.address() as { port: number }).port });
  await done;
  const m = took();
  const what = ended();
  server.close();
  await send({ done: true, ...m, ok: true, ...what } satisfies ReceiverDone);
}

/**
 * The floor: the records floorSend() sends (chunks sealed with ChaCha20-Poly1305, each followed by
 * its tag), read into place (readDirect), opened in place, hashed with SHA-256 and written, four
 * at a time, to one file with one fsync at the end. This much any station that opens and hashes
 * what it stores must do; what a station does beyond it is its protocol (pulls, messages, frames,
 * manifests, receipts, the index, per-segment files).
 */
async function floor(bytes: number, chunk: number, segmentBytes: number, key: Uint8Array): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bodycam-floor-'));
  const fd = openSync(join(dir, 'floor.bin'), 'w');
  const GATHER = 4;
  const records = Array.from({ length: GATHER }, () => new Uint8Array(chunk + AEAD_TAG_BYTES));
  const nonce = new Uint8Array(12);
  const sha = createHash('sha256');
  const gathered: Uint8Array[] = [];
  let got = 0;
  let k = 0;
  let filled = 0;
  let finish!: () => void;
  let fail!: (e: Error) => void;
  const done = new Promise<void>((r, j) => ((finish = r), (fail = j)));
  // The record now being read: its media bytes run to the chunk or to the end of its segment.
  const length = () => Math.min(chunk, segmentBytes - (got % segmentBytes));
  const write = () => {
    let n = 0;
    for (const g of gathered) n += g.length;
    for (let w = writevSync(fd, gathered); w < n; ) w += writeSync(fd, Buffer.concat(gathered).subarray(w));
    gathered.length = 0;
  };
  const server = createServer({ pauseOnConnect: true }, (s) => {
    const took = (n: number) => {
      filled += n;
      const media = length();
      if (filled < media + AEAD_TAG_BYTES) return true;
      const rec = records[k % GATHER];
      new DataView(nonce.buffer).setUint32(0, k, true);
      try {
        sodium.crypto_aead_chacha20poly1305_ietf_decrypt_detached(rec.subarray(0, media), null, rec.subarray(0, media), rec.subarray(media, media + AEAD_TAG_BYTES), null, nonce, key);
      } catch {
        fail(new Error(`record ${k}: its tag does not hold`));
        return false;
      }
      sha.update(rec.subarray(0, media));
      gathered.push(rec.subarray(0, media));
      got += media;
      k++;
      filled = 0;
      if (gathered.length === GATHER || got >= bytes) write();
      if (got >= bytes) {
        fsyncSync(fd);
        finish();
      }
      return true;
    };
    if (!readDirect(s, () => records[k % GATHER].subarray(filled, length() + AEAD_TAG_BYTES), took)) throw new Error('this Node cannot read an accepted connection into a buffer of ours');
  });
  await serve(server, done, () => {
    closeSync(fd);
    return { bytes: got, digest: sha.digest('hex') };
  });
  rmSync(dir, { recursive: true, force: true });
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
  // "done" goes before the station is closed and its store deleted (a station runs for hours).
  await send({ done: true, ...m, ok: r.ok, code: r.code, message: r.message, bytes } satisfies ReceiverDone);
  await st.close();
  rmSync(storeDir, { recursive: true, force: true });
}

let rounds: Promise<void> = Promise.resolve();
process.on('message', (m: ReceiverAsk) => {
  if ('exit' in m) {
    process.disconnect();
    return;
  }
  // A round starts only once the last one has cleaned up after itself, which it does after its "done".
  const run = () => (m.mode === 'station' ? station(m.chunk!) : m.mode === 'floor' ? floor(m.bytes!, m.chunk!, m.segmentBytes!, Buffer.from(m.key!, 'hex')) : copy(m.bytes!, m.mode === 'copy-direct'));
  rounds = rounds.then(run);
});
await send({ ready: true });
