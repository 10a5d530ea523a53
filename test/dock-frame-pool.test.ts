// The station joins large frames into buffers it reuses (dock-station/session.ts FramePool), each
// given back only once the chunk in it has been written to disk. Reusing one sooner would let the
// next chunk overwrite bytes a write has not yet taken, and the file would not be what was hashed:
// so this test holds every write back (the thread pool's threads all blocked on FIFOs) while a
// whole docking arrives, then lets them go, and hashes every stored file against its manifest.

import test from 'ava';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, open, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { FramePool } from '../dock-station/session.js';
import { EvidenceStore, seqName, WRITE_GATHER } from '../dock-station/store.js';
import { dockLocal, inProcessCamera, startStation } from './helpers/dock.js';
import { tempDir } from './helpers/tmp.js';

test('FramePool: large frames share lent buffers, given back once; small ones are their own; at most KEEP kept', (t) => {
  const pool = new FramePool();
  const small = pool.take(FramePool.MIN - 1);
  t.is(small.buffer.byteLength, FramePool.MIN - 1, 'a small frame is an array of its own');
  const a = pool.take(200 * 1024);
  t.is(a.length, 200 * 1024);
  t.is(a.buffer.byteLength, FramePool.SIZE);
  const b = pool.take(FramePool.MIN);
  t.not(b.buffer, a.buffer, 'two frames out at once never share a buffer');
  pool.give(small);
  pool.give(new Uint8Array(FramePool.SIZE));
  t.is(pool.free, 0, 'a buffer it did not lend is not taken');
  pool.give(a.subarray(10, 20));
  t.is(pool.free, 1);
  pool.give(a);
  t.is(pool.free, 1, 'given back twice counts once');
  const c = pool.take(100 * 1024);
  t.is(c.buffer, a.buffer, 'a buffer given back is lent again');
  t.is(pool.free, 0);
  const d = pool.take(100 * 1024);
  t.not(d.buffer, a.buffer, 'and only once');
  const many = Array.from({ length: FramePool.KEEP + 4 }, () => pool.take(FramePool.MIN));
  for (const m of many) pool.give(m);
  t.is(pool.free, FramePool.KEEP, 'no more than KEEP are kept');
});

test('FramePool: a buffer lent and never given back (any frame but a written chunk) is not held by the pool', async (t) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const pool = new FramePool();
  const refs = Array.from({ length: 8 }, () => new WeakRef(pool.take(FramePool.SIZE).buffer));
  for (let i = 0; i < 10 && refs.some((r) => r.deref()); i++) {
    await new Promise((r) => setTimeout(r, 10));
    gc();
  }
  t.is(refs.filter((r) => r.deref() !== undefined).length, 0, 'all collected');
});

test('[node] a docking whose disk writes are all held back until it has arrived stores every file as it was hashed', async (t) => {
  const dir = tempDir('bodycam-pool-');
  const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
  const fifos = Array.from({ length: threads }, (_, i) => join(dir, `hold-${i}`));
  execFileSync('mkfifo', fifos);
  // Each open of a FIFO for reading takes a thread of the pool until a writer opens it.
  const held = fifos.map((f) => new Promise<number>((resolve, reject) => open(f, 'r', (e, fd) => (e ? reject(e) : resolve(fd)))));
  // 64 KiB chunks (pooled: at least FramePool.MIN), 2 segments of 5 chunks each. The session
  // waits for a segment's writes before it checks its digest, so the first segment's chunks all
  // arrive, and are joined, while its writes are held.
  const env = inProcessCamera({ seed: 'pool', segments: 2, frames: 8, bodyBytes: 40000 });
  let received = 0;
  const { station, port } = await startStation({ chunkSize: 64 * 1024, onProgress: (p) => (received = Math.max(received, p.bytesReceived)) });
  try {
    const docked = dockLocal(env, port, {});
    await new Promise((r) => setTimeout(r, 1500));
    t.is(station.results.length, 0, 'the session is still waiting on its writes');
    const before = received;
    for (const f of fifos) closeSync(openSync(f, constants.O_WRONLY | constants.O_NONBLOCK));
    for (const fd of await Promise.all(held)) closeSync(fd);
    await docked;
    await station.idle();
    const r = station.results[0];
    t.true(r.ok, `${r.code} ${r.message}`);
    t.deepEqual(r.stored, [0, 1]);
    const segs = station.store.segments('CAM-0001');
    t.is(segs.length, 2);
    t.true(before >= segs[0].length, `segment 0's chunks all arrived (${before} bytes) before any write was let go (${segs[0].length} bytes of media)`);
    for (const s of segs) {
      t.true(s.length > 4 * 64 * 1024, 'each segment took five chunks');
      const sha = String(s.mediaSha256);
      t.is(createHash('sha256').update(readFileSync(station.store.objectPath(sha))).digest('hex'), sha, `segment ${s.seq} on disk is what was hashed`);
    }
  } finally {
    await station.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

// Serial: the test above blocks the thread pool, which these writes need.
test.serial('Upload gathers chunks and writes them WRITE_GATHER bytes at a time: none is written (nor its buffer given back) before, all of them after; the rest at the segment end, or at written() for a cut', async (t) => {
  const storeDir = tempDir('bodycam-gather-');
  const store = new EvidenceStore(storeDir);
  const chunk = 64 * 1024;
  const per = WRITE_GATHER / chunk;
  t.is(per, 4);
  const media = new Uint8Array(randomBytes(per * chunk + 2 * chunk + 1000));
  const manifest = new Uint8Array([1, 2, 3]);
  // A write not started stays unstarted however long one waits; one started ends soon after.
  const settle = () => new Promise<void>((r) => setTimeout(r, 50));
  const writtenUpTo = async (n: number) => {
    for (let i = 0; i < 500 && done.length < n; i++) await settle();
  };
  const part = join(storeDir, 'partial', 'CAM-0001', `${seqName(7)}.part`);
  const onDisk = () => statSync(part).size;

  const done: number[] = [];
  const up = store.beginUpload('CAM-0001', 7, media.length, manifest, 's1')!;
  let offset = 0;
  const append = async (n: number) => {
    const at = offset;
    offset += n;
    await up.append(at, media.subarray(at, at + n), () => done.push(at));
  };
  for (let i = 0; i < per - 1; i++) await append(chunk);
  await settle();
  t.deepEqual(done, [], 'three chunks gathered, none written');
  t.is(onDisk(), 0);
  await append(chunk);
  await writtenUpTo(per);
  t.deepEqual(done, [0, chunk, 2 * chunk, 3 * chunk], 'the fourth writes all four, in one call');
  t.is(onDisk(), WRITE_GATHER);
  await append(chunk);
  await settle();
  t.is(done.length, per, 'the fifth waits');
  await append(chunk + 1000);
  await writtenUpTo(per + 2);
  t.is(done.length, per + 2, 'the last chunk of the segment writes what is gathered');
  await up.written();
  t.is(up.complete(), createHash('sha256').update(media).digest('hex'));
  t.deepEqual(new Uint8Array(readFileSync(part)), media);

  // A cut mid-segment: what was gathered is written and synced, and the index records it.
  const cut = store.beginUpload('CAM-0001', 8, media.length, manifest, 's1')!;
  await cut.append(0, media.subarray(0, chunk));
  await cut.abandon();
  t.is(store.segment('CAM-0001', 8)?.durable, chunk);
  t.deepEqual(new Uint8Array(readFileSync(join(storeDir, 'partial', 'CAM-0001', `${seqName(8)}.part`))), media.subarray(0, chunk));
  store.close();
});
