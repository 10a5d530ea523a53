// The NOR flash simulator and the segment store: semantics, the pre-event ring, retention,
// capacity, wear, and every error case with its code. Store behaviour that an engine could
// change runs on both engines through the storage entries; the rest drives the store directly.

import test, { type ExecutionContext } from 'ava';
import { isBodycamError } from '../firmware/errors.js';
import { SegmentStore, type FormatOptions } from '../firmware/storage/index.js';
import { SimFlash, type SimFlashOptions } from '../host-sim/flash/sim-flash.js';
import { nodeChecksum, VirtualClock } from '../host-sim/node/hardware.js';
import { bothEngines } from './helpers/engines.js';
import { eq, plain, type SegView, type Summary } from './helpers/storage-check.js';

const bytes = (n: number, seed: number) => {
  const b = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
};

function rig(device: SimFlashOptions = {}, format: Partial<FormatOptions> = {}) {
  const flash = new SimFlash({ blockLength: 4096, blocks: 512, ...device });
  const Port = flash.portClass();
  const clock = new VirtualClock();
  const opts = () => ({ flash: new Port({ path: 'bodycam-store' }), checksum: nodeChecksum, clock });
  const store = SegmentStore.format({ ...opts(), ...format });
  return { flash, clock, store, mount: () => SegmentStore.mount(opts()), opts };
}

function code(t: ExecutionContext, fn: () => unknown, c: string) {
  t.throws(fn, { message: new RegExp(`^${c}:`) });
}

// ---------------------------------------------------------------- the simulator

test('sim: NOR semantics — erased reads 0xFF, a write only clears bits, writes are aligned', (t) => {
  const f = new SimFlash({ blockLength: 256, blocks: 8, writeAlign: 4, pageLength: 64 });
  const port = new (f.portClass())({ path: 'p' });
  t.deepEqual(port.status(), { size: 2048, blockLength: 256, blocks: 8, writeAlign: 4, eraseValue: 0xff });
  t.true(new Uint8Array(port.read(16, 100)).every((b) => b === 0xff));
  port.write(new Uint8Array([0xf0, 0x0f, 0xff, 0x00]), 256);
  port.write(new Uint8Array([0x0f, 0xff, 0xf0, 0xff]), 256);
  t.deepEqual([...new Uint8Array(port.read(4, 256))], [0x00, 0x0f, 0xf0, 0x00]);
  code(t, () => port.write(new Uint8Array(3), 0), 'E_FLASH_ALIGN');
  code(t, () => port.write(new Uint8Array(4), 2), 'E_FLASH_ALIGN');
  code(t, () => port.read(4, 2046), 'E_FLASH_RANGE');
  port.eraseBlock(1);
  t.true(new Uint8Array(port.read(4, 256)).every((b) => b === 0xff));
  t.is(f.eraseCount(1), 1);
  t.is(f.counters.bytesProgrammed, 8);
  port.close();
  code(t, () => port.read(1, 0), 'E_CLOSED');
});

test('sim: sparse — a 1 GiB device holds only the blocks written', (t) => {
  const f = new SimFlash({ blockLength: 4096, blocks: 262144 });
  f.write(new Uint8Array([1, 2, 3]), f.size - 3);
  t.deepEqual([...new Uint8Array(f.read(4, f.size - 4))], [0xff, 1, 2, 3]);
  t.is(f.residentBlocks, 1);
});

test('sim: a power cut tears the operation in flight, then every operation fails until reboot; the bytes survive', (t) => {
  const f = new SimFlash({ blockLength: 1024, blocks: 4, pageLength: 128, seed: 3 });
  const Port = f.portClass();
  const p = new Port({ path: 'p' });
  p.write(new Uint8Array(128).fill(0x11), 0);
  f.cutAfter(1);
  const data = new Uint8Array(512).fill(0);
  code(t, () => p.write(data, 128), 'E_POWER_CUT');
  code(t, () => p.read(1, 0), 'E_POWER_CUT');
  f.reboot();
  const after = new Uint8Array(new Port({ path: 'p' }).read(640, 0));
  // Bytes before the write untouched ('page' tear only disturbs the page being written).
  t.true(after.subarray(0, 128).every((b) => b === 0x11));
  const torn = after.subarray(128);
  const programmed = torn.filter((b) => b === 0).length;
  t.true(programmed < 512, 'the write did not complete');
  t.true(torn.some((b) => b !== 0 && b !== 0xff) || programmed % 128 === 0, 'the page at the cut is garbage, or the cut fell on a page edge');
  t.deepEqual(f.lastCut, { operation: 2, kind: 'write', offset: 128 });
});

test('sim: bit flips on read are transient; worn blocks fail to erase and program', (t) => {
  const f = new SimFlash({ blockLength: 256, blocks: 4, bitFlipRate: 1, endurance: 2 });
  f.write(new Uint8Array(8).fill(0), 0);
  const r = new Uint8Array(f.read(8, 0));
  let bits = 0;
  for (const b of r) for (let k = 0; k < 8; k++) bits += (b >> k) & 1;
  t.is(bits, 1, 'exactly one bit flipped');
  t.true(f.peek(0, 8).every((b) => b === 0), 'the stored bytes are unchanged');
  f.eraseBlock(2);
  f.eraseBlock(2);
  code(t, () => f.eraseBlock(2), 'E_FLASH_ERASE');
  code(t, () => f.write(new Uint8Array(4).fill(0), 512), 'E_FLASH_PROGRAM');
  f.weakBlocks.set(3, 0);
  code(t, () => f.eraseBlock(3), 'E_FLASH_ERASE');
  t.is(f.counters.bitFlips, 1);
});

test('sim: slow erases report busy time', (t) => {
  let busy = 0;
  const f = new SimFlash({ blockLength: 4096, blocks: 4, timing: { eraseMs: 45, pageProgramMs: 0.4 }, onBusy: (ms) => (busy += ms) });
  f.slowBlocks.set(1, 10);
  f.eraseBlock(0, 2);
  f.write(new Uint8Array(1024), 0);
  t.is(Math.round(busy * 10) / 10, 45 + 450 + 1.6);
  t.is(f.counters.busyMs, busy);
});

// ---------------------------------------------------------------- the store, both engines

/** A 16 MiB NOR partition (W25Q128-like) on the engine's hardware. */
const withFlash = { setup: (hw: { devices: { Flash?: unknown } }) => void (hw.devices.Flash = new SimFlash({ blockLength: 4096, blocks: 4096 }).portClass()) };

bothEngines('storage: segments round-trip — records, media in chunks, meta, trailer, sequences across remounts', async (t, { engine }) => {
  await engine.call('storage.format', { firstSequence: 41 });
  const frames = [0, 1, 2, 3, 4].map((i) => ({ header: bytes(24, i + 1), body: bytes(30 * 1024 + i * 777, i + 100) }));
  await engine.call('storage.open', new Uint8Array([1, 2, 3]));
  for (const f of frames) await engine.call('storage.append', f.header, f.body);
  const sealed = plain<SegView>((await engine.call('storage.seal', new Uint8Array([9, 9]))).value);
  t.is(sealed.state, 'sealed');
  t.is(sealed.sequence, 41);
  const summary = plain<Summary>((await engine.call('storage.mount')).value);
  t.is(summary.segments.length, 1);
  const s = summary.segments[0];
  t.true(eq(s.meta, new Uint8Array([1, 2, 3])));
  t.true(eq(s.trailer, new Uint8Array([9, 9])));
  const recs = (await engine.call('storage.records', s.id)).value as [Uint8Array, Uint8Array][];
  t.is(recs.length, 5);
  for (let i = 0; i < 5; i++) t.true(eq(recs[i][0], frames[i].header) && eq(recs[i][1], frames[i].body), `record ${i}`);
  const media = Buffer.concat(frames.flatMap((f) => [f.header, f.body]));
  t.is(s.mediaLength, media.length);
  // Upload in 20 000-byte chunks, as the dock does, resuming at each offset.
  const parts: Uint8Array[] = [];
  for (let off = 0; off < media.length; off += 20000) parts.push((await engine.call('storage.readMedia', s.id, off, 20000)).value as Uint8Array);
  t.true(eq(Buffer.concat(parts), media));
  t.is(((await engine.call('storage.readMedia', s.id, media.length, 10)).value as Uint8Array).length, 0);
  await t.throwsAsync(engine.call('storage.readMedia', s.id, media.length + 1, 10), { message: /E_ARGUMENT/ });
  // Sequences keep counting after a remount.
  await engine.call('storage.open', new Uint8Array([4]));
  await engine.call('storage.append', new Uint8Array([1]), new Uint8Array(10));
  t.is(plain<SegView>((await engine.call('storage.seal', new Uint8Array([1]))).value).sequence, 42);
}, withFlash);

bothEngines('storage: the pre-event ring keeps the last N seconds and promote() continues it with no gap', async (t, { engine }) => {
  await engine.call('storage.format', {});
  await engine.call('storage.ring.open', 2);
  const pre = Array.from({ length: 60 }, (_, i) => ({ header: bytes(8, i + 1), body: bytes(20000, i + 7), time: i * 100 }));
  for (const f of pre) await engine.call('storage.ring.append', f.header, f.body, f.time);
  // At 6000 ms with a 2 s window: frames at 4000 ms and later.
  const kept = pre.filter((f) => f.time >= 6000 - 2000);
  t.is((await engine.call('storage.promote', new Uint8Array([7]), 6000)).value, kept.length);
  const rec = [{ header: bytes(8, 500), body: bytes(20000, 501) }];
  for (const f of rec) await engine.call('storage.append', f.header, f.body);
  await engine.call('storage.seal', new Uint8Array([1]));
  const s = plain<Summary>((await engine.call('storage.mount')).value).segments[0];
  const recs = (await engine.call('storage.records', s.id)).value as [Uint8Array, Uint8Array][];
  const all = [...kept, ...rec];
  t.is(recs.length, all.length);
  t.true(all.every((f, i) => eq(recs[i][0], f.header) && eq(recs[i][1], f.body)));
  // The ring gave its old blocks back: the store holds little more than the segment.
  const u = plain<Summary>((await engine.call('storage.summary')).value).usage;
  t.true(u.held < s.mediaLength + 200 * 1024, `held ${u.held} for ${s.mediaLength} media bytes`);
  // A ring that is never promoted is not evidence: gone after a remount.
  await engine.call('storage.ring.open', 1);
  await engine.call('storage.ring.append', new Uint8Array([1]), bytes(5000, 3), 7000);
  const after = plain<Summary>((await engine.call('storage.mount')).value);
  t.is(after.segments.length, 1);
}, withFlash);

bothEngines('storage: error codes — empty segment, empty frame, oversized record, busy, unknown and open segments', async (t, { engine }) => {
  await engine.call('storage.format', { maxRecord: 65536 });
  await engine.call('storage.open', new Uint8Array([1]));
  await t.throwsAsync(engine.call('storage.seal', new Uint8Array([1])), { message: /E_SEGMENT_EMPTY/ });
  await t.throwsAsync(engine.call('storage.append', new Uint8Array(0), new Uint8Array(0)), { message: /E_ARGUMENT/ });
  await t.throwsAsync(engine.call('storage.append', new Uint8Array(0), new Uint8Array(65537)), { message: /E_RECORD_TOO_LARGE/ });
  await t.throwsAsync(engine.call('storage.open', new Uint8Array([2])), { message: /E_STORE_BUSY/ });
  await engine.call('storage.abandon');
  // Abandoning an empty segment costs no sequence number.
  await engine.call('storage.open', new Uint8Array([1]));
  await engine.call('storage.append', new Uint8Array(16), new Uint8Array(65536 - 16));
  const s = plain<SegView>((await engine.call('storage.seal', new Uint8Array([1]))).value);
  t.is(s.sequence, 1);
  t.is(s.mediaLength, 65536, 'a maximal record fits');
  await t.throwsAsync(engine.call('storage.release', [99], new Uint8Array([1])), { message: /E_SEGMENT_UNKNOWN/ });
  await engine.call('storage.open', new Uint8Array([1]));
  await engine.call('storage.append', new Uint8Array(1), new Uint8Array(1));
  const open = plain<Summary>((await engine.call('storage.summary')).value).segments.find((x) => x.state === 'open')!;
  await t.throwsAsync(engine.call('storage.release', [open.id], new Uint8Array([1])), { message: /E_SEGMENT_STATE/ });
  await engine.call('storage.release', [s.id], new Uint8Array([5, 5]));
  await t.throwsAsync(engine.call('storage.readMedia', s.id, 0, 1), { message: /E_SEGMENT_STATE/ });
  await t.throwsAsync(engine.call('storage.ring.open', 121), { message: /E_ARGUMENT|E_STORE_BUSY/ });
}, withFlash);

// ---------------------------------------------------------------- the store, directly

test('store: release is persisted with its receipt and survives a remount; released space is reused', (t) => {
  const { store, mount } = rig();
  const ids: number[] = [];
  for (let k = 0; k < 3; k++) {
    const w = store.openSegment(new Uint8Array([k]));
    for (let i = 0; i < 10; i++) w.append(bytes(16, i), bytes(20000, k * 100 + i));
    ids.push(w.seal(new Uint8Array([k])).id);
  }
  const before = store.usage();
  store.release([ids[0], ids[1]], new Uint8Array([0xaa, 0xbb]));
  const after = store.usage();
  t.is(after.segmentsAwaitingUpload, 1);
  t.true(after.free > before.free + 2 * 190000);
  const again = mount();
  t.deepEqual(again.segments().map((s) => s.state), ['released', 'released', 'sealed']);
  t.deepEqual(again.receipts(), [{ ids: [ids[0], ids[1]], receipt: new Uint8Array([0xaa, 0xbb]) }]);
  t.is(again.segments()[0].meta, undefined);
  t.true(eq(again.segments()[2].meta, new Uint8Array([2])));
});

test('store: a full store refuses new evidence with E_STORE_FULL, overwrites nothing, and says what awaits upload', (t) => {
  const { store, mount } = rig({ blocks: 128 });
  const sealed: { id: number; media: Uint8Array[] }[] = [];
  let err: unknown;
  try {
    for (let k = 0; ; k++) {
      const w = store.openSegment(new Uint8Array([k]));
      const media: Uint8Array[] = [];
      for (let i = 0; i < 8; i++) {
        const h = bytes(16, k * 10 + i);
        const b = bytes(30000, k * 1000 + i);
        w.append(h, b);
        media.push(h, b);
      }
      sealed.push({ id: w.seal(new Uint8Array([k])).id, media });
    }
  } catch (e) {
    err = e;
  }
  t.true(isBodycamError(err, 'E_STORE_FULL'), String(err));
  t.regex((err as Error).message, /\d+ segments \(.* MiB\) await upload/);
  t.true(sealed.length >= 1);
  // The segment that hit the wall is still there, open; seal it (the trailer always fits).
  const open = store.segments().find((s) => s.state === 'open');
  const u = store.usage();
  t.is(u.segmentsAwaitingUpload, sealed.length);
  const remounted = mount();
  for (const s of sealed) t.true(eq(remounted.readMedia(s.id, 0, 1 << 30), Buffer.concat(s.media)), `segment ${s.id} intact`);
  if (open) t.is(remounted.segment(open.id).state, 'recovered');
  // Releasing makes room again.
  remounted.release(sealed.map((s) => s.id), new Uint8Array([1]));
  const w = remounted.openSegment(new Uint8Array([1]));
  w.append(bytes(16, 1), bytes(30000, 2));
  t.is(w.seal(new Uint8Array([1])).state, 'sealed');
});

test('store: the trailer always fits — sealing right at the wall works', (t) => {
  const { store } = rig({ blocks: 96 });
  const w = store.openSegment(new Uint8Array([1]));
  let n = 0;
  try {
    for (;;) {
      w.append(bytes(16, n), bytes(9000, n));
      n++;
    }
  } catch (e) {
    t.true(isBodycamError(e, 'E_STORE_FULL'));
  }
  const info = w.seal(new Uint8Array(4000).fill(3));
  t.is(info.records, n);
  t.is(info.trailer!.length, 4000);
});

// ---------------------------------------------------------------- attachTrailer (a recovered segment's manifest)

/** A store whose segment was cut mid-frame (a torn record after its last complete one), remounted. */
function recoveredRig() {
  const r = rig({ blocks: 128, pageLength: 256, tear: 'page' }, { extentBlocks: 4 });
  const w = r.store.openSegment(new Uint8Array([7]));
  const frames = Array.from({ length: 6 }, (_, i) => ({ h: bytes(16, i), b: bytes(5000, i + 90) }));
  for (const f of frames) w.append(f.h, f.b);
  r.flash.cutAfter(2); // the next frame's second program is torn: garbage follows the last complete record
  t0(() => w.append(bytes(16, 99), bytes(9000, 99)));
  r.flash.reboot();
  const store = r.mount();
  return { ...r, store, id: w.id, media: Buffer.concat(frames.flatMap((f) => [f.h, f.b])), frames };
}

function t0(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!isBodycamError(e, 'E_POWER_CUT')) throw e;
    return;
  }
  throw new Error('expected a power cut');
}

test('store: attachTrailer gives a segment recovered after a torn frame its trailer — frames untouched, still recovered, kept across a remount', (t) => {
  const { store, mount, id, media, frames } = recoveredRig();
  const before = store.segment(id);
  t.is(before.state, 'recovered');
  t.is(before.trailer, undefined);
  t.is(before.records, frames.length);
  const trailer = bytes(700, 5);
  const info = store.attachTrailer(id, trailer);
  t.is(info.state, 'recovered');
  t.true(eq(info.trailer, trailer));
  t.is(info.records, before.records);
  t.is(info.mediaLength, before.mediaLength);
  t.true(eq(info.meta, new Uint8Array([7])));
  const again = mount();
  const a = again.segment(id);
  t.is(a.state, 'recovered');
  t.true(eq(a.trailer, trailer));
  t.true(eq(again.readMedia(id, 0, 1 << 30), media));
  t.deepEqual([...again.records(id)].length, frames.length);
  t.is(again.usage().segmentsAwaitingUpload, 1);
  // The trailer took only the block it needs beyond the recovered segment's blocks.
  t.true(a.flashBytes - before.flashBytes <= again.geometry.blockLength, `${a.flashBytes} vs ${before.flashBytes}`);
  // A new segment after it, then a release of both: everything is freed.
  const w = again.openSegment(new Uint8Array([8]));
  w.append(bytes(16, 1), bytes(3000, 1));
  const next = w.seal(new Uint8Array([8])).id;
  again.release([id, next], new Uint8Array([1]));
  t.is(again.usage().held, 0);
});

test('store: attachTrailer refuses what is not a recovered segment without a trailer', (t) => {
  const { store, id } = recoveredRig();
  code(t, () => store.attachTrailer(id, new Uint8Array(16 * 1024 + 1)), 'E_ARGUMENT');
  code(t, () => store.attachTrailer(12345, new Uint8Array([1])), 'E_SEGMENT_UNKNOWN');
  store.attachTrailer(id, new Uint8Array([1]));
  code(t, () => store.attachTrailer(id, new Uint8Array([2])), 'E_SEGMENT_STATE');
  const w = store.openSegment(new Uint8Array([2]));
  w.append(bytes(16, 2), bytes(100, 2));
  code(t, () => store.attachTrailer(w.id, new Uint8Array([1])), 'E_SEGMENT_STATE');
  const sealed = w.seal(new Uint8Array([2])).id;
  code(t, () => store.attachTrailer(sealed, new Uint8Array([1])), 'E_SEGMENT_STATE');
  store.release([id], new Uint8Array([1]));
  code(t, () => store.attachTrailer(id, new Uint8Array([1])), 'E_SEGMENT_STATE');
});

test('store: close() ends a segment unsigned — sealed without a trailer, the next segment opens at once, attachTrailer signs it later (kept across a remount), once', (t) => {
  const r = rig({ blocks: 128 }, { extentBlocks: 4 });
  const w = r.store.openSegment(new Uint8Array([7]));
  const frames = Array.from({ length: 5 }, (_, i) => ({ h: bytes(16, i), b: bytes(3000, i + 40) }));
  for (const f of frames) w.append(f.h, f.b);
  const closed = w.close();
  t.is(closed.state, 'sealed');
  t.is(closed.trailer, undefined);
  code(t, () => w.append(bytes(16, 9), bytes(10, 9)), 'E_SEGMENT_STATE');
  const next = r.store.openSegment(new Uint8Array([8])); // the store is idle again
  next.append(bytes(16, 20), bytes(2000, 20));
  t.is(next.sequence, closed.sequence + 1);
  // A cut here (a copy of the flash, mounted: the store itself goes on): still sealed, no trailer, frames intact.
  const remounted = SegmentStore.mount({ flash: new (r.flash.clone().portClass())({ path: 'bodycam-store' }), checksum: nodeChecksum });
  t.is(remounted.segment(closed.id).state, 'sealed');
  t.is(remounted.segment(closed.id).trailer, undefined);
  t.true(eq(remounted.readMedia(closed.id, 0, 1 << 30), Buffer.concat(frames.flatMap((f) => [f.h, f.b]))));
  const trailer = bytes(600, 3);
  const info = r.store.attachTrailer(closed.id, trailer);
  t.is(info.state, 'sealed');
  t.true(eq(info.trailer, trailer));
  code(t, () => r.store.attachTrailer(closed.id, trailer), 'E_SEGMENT_STATE');
  next.seal(new Uint8Array([9]));
  const again = r.mount();
  t.true(eq(again.segment(closed.id).trailer, trailer));
  t.is(again.segment(closed.id).state, 'sealed');
  t.true(eq(again.readMedia(closed.id, 0, 1 << 30), Buffer.concat(frames.flatMap((f) => [f.h, f.b]))));
  const empty = again.openSegment(new Uint8Array([1]));
  code(t, () => empty.close(), 'E_SEGMENT_EMPTY');
});

test('store: a cut at every flash operation of attachTrailer leaves no trailer or all of it; a retry leaks no block', (t) => {
  const { flash, store, opts, id, media } = recoveredRig();
  const trailer = bytes(2500, 11); // spans several pages and, at 256-byte pages, several programs
  const image = flash.clone();
  const ops0 = flash.counters.operations;
  const clean = store.attachTrailer(id, trailer);
  const total = flash.counters.operations - ops0;
  const held = store.usage().held;
  t.true(total >= 3, `attachTrailer took ${total} flash operations`);
  let none = 0;
  let whole = 0;
  for (let n = 1; n <= total; n++) {
    const f = image.clone(`attach:${n}`);
    const Port = f.portClass();
    const o = () => ({ ...opts(), flash: new Port({ path: 'bodycam-store' }) });
    const s = SegmentStore.mount(o());
    f.cutAfter(n);
    t0(() => s.attachTrailer(id, trailer));
    f.reboot();
    const m = SegmentStore.mount(o());
    const info = m.segment(id);
    t.is(info.state, 'recovered', `cut ${n}`);
    t.true(eq(m.readMedia(id, 0, 1 << 30), media), `cut ${n}: frames intact`);
    if (info.trailer) {
      t.true(eq(info.trailer, trailer), `cut ${n}: the whole trailer or none`);
      whole++;
    } else {
      none++;
      const retried = m.attachTrailer(id, trailer);
      t.true(eq(retried.trailer, trailer));
      t.is(m.usage().held, held, `cut ${n}: the retry holds what a clean attach does`);
    }
    t.true(eq(SegmentStore.mount(o()).segment(id).trailer, trailer), `cut ${n}: kept after the retry`);
  }
  // The SEAL delta is attachTrailer's last operation: a cut in it may still leave the delta whole.
  t.true(none > 0, `${none} cuts left no trailer, ${whole} all of it`);
  t.is(none + whole, total);
  t.is(clean.flashBytes, store.segment(id).flashBytes);
});

test('store: mount refuses an unformatted partition, another geometry, and a corrupt superblock with clear codes', (t) => {
  const blank = new SimFlash({ blockLength: 4096, blocks: 64 });
  const opts = (f: SimFlash) => ({ flash: new (f.portClass())({ path: 'p' }), checksum: nodeChecksum });
  code(t, () => SegmentStore.mount(opts(blank)), 'E_STORE_UNFORMATTED');
  SegmentStore.format(opts(blank));
  // The same bytes on a larger partition.
  const bigger = new SimFlash({ blockLength: 4096, blocks: 128 });
  bigger.poke(0, blank.peek(0, blank.size));
  code(t, () => SegmentStore.mount(opts(bigger)), 'E_STORE_GEOMETRY');
  // Another block size.
  const other = new SimFlash({ blockLength: 2048, blocks: 128 });
  other.poke(0, blank.peek(0, 2048 * 2));
  t.throws(() => SegmentStore.mount(opts(other)), { message: /^E_STORE_(GEOMETRY|CORRUPT):/ });
  // Garbage in both superblock slots.
  const corrupt = blank.clone();
  corrupt.poke(0, bytes(64, 1));
  corrupt.poke(4096, bytes(64, 2));
  code(t, () => SegmentStore.mount(opts(corrupt)), 'E_STORE_CORRUPT');
  // A partition too small for a store.
  code(t, () => SegmentStore.format(opts(new SimFlash({ blockLength: 4096, blocks: 8 }))), 'E_STORE_GEOMETRY');
});

test('store: one damaged superblock slot falls back to the other after a compaction', (t) => {
  const { store, flash, mount } = rig({ blocks: 256 }, { slotBlocks: 2, maxSegments: 30 });
  let k = 0;
  while (store.revision < 3) {
    const w = store.openSegment(new Uint8Array([k]));
    w.append(bytes(8, k), bytes(100, k));
    w.seal(new Uint8Array([k++]));
  }
  const revision = store.revision;
  const segments = store.segments().length;
  // Damage the older slot's head: the store mounts from the newer one, unchanged.
  const older = revision % 2 === 0 ? 0 : 1;
  flash.poke(older * 4096, bytes(32, 9));
  const m = mount();
  t.is(m.segments().length, segments);
  t.is(m.revision, revision);
});

test('store: metadata compaction keeps the table as it was (many segments, many revisions)', (t) => {
  const { store, mount } = rig({ blocks: 1024 }, { slotBlocks: 3, maxSegments: 64 });
  const expect: number[] = [];
  for (let k = 0; k < 60; k++) {
    const w = store.openSegment(new Uint8Array([k]));
    w.append(bytes(8, k), bytes(3000, k));
    const info = w.seal(new Uint8Array([k]));
    if (k % 3 === 0) store.release([info.id], new Uint8Array([k]));
    else expect.push(info.sequence);
  }
  t.true(store.revision > 3, `revision ${store.revision}`);
  const m = mount();
  t.deepEqual(m.segments().filter((s) => s.state === 'sealed').map((s) => s.sequence), expect);
  t.is(m.nextSequence, 61);
});

test('store: wear levelling — erases spread across the data blocks; bad blocks are retired, data kept', (t) => {
  const { store, flash, mount } = rig({ blocks: 256 }, { extentBlocks: 8 });
  const weak = 100;
  flash.weakBlocks.set(weak, 2);
  let last: { id: number; media: Uint8Array[] } | undefined;
  for (let k = 0; k < 120; k++) {
    const w = store.openSegment(new Uint8Array([k]));
    const media: Uint8Array[] = [];
    for (let i = 0; i < 6; i++) {
      const h = bytes(16, k + i);
      const b = bytes(25000, k * 7 + i);
      w.append(h, b);
      media.push(h, b);
    }
    const id = w.seal(new Uint8Array([k])).id;
    if (last) store.release([last.id], new Uint8Array([k]));
    last = { id, media };
  }
  const g = store.geometry;
  const counts: number[] = [];
  for (let b = 2 * g.slotBlocks; b < g.blocks; b++) if (b !== weak) counts.push(flash.eraseCount(b));
  const min = Math.min(...counts);
  const max = Math.max(...counts);
  t.true(min > 0, 'every data block was used');
  t.true(max - min <= 2, `erase counts spread ${min}..${max}`);
  t.is(store.usage().badBlocks, 1);
  const m = mount();
  t.is(m.usage().badBlocks, 1);
  t.true(eq(m.readMedia(last!.id, 0, 1 << 30), Buffer.concat(last!.media)));
});

test('store: a program failure mid-record moves the record to a fresh extent; nothing is lost', (t) => {
  const { store, flash, mount } = rig({ blocks: 128 }, { extentBlocks: 4 });
  const w = store.openSegment(new Uint8Array([1]));
  const frames = Array.from({ length: 12 }, (_, i) => ({ h: bytes(16, i), b: bytes(7000, i + 50) }));
  for (let i = 0; i < frames.length; i++) {
    if (i === 5) {
      // Wear out the block the next frame will be programmed into.
      const data = 2 * store.geometry.slotBlocks;
      for (let b = data; b < data + 40; b++) if (flash.eraseCount(b) > 0) flash.weakBlocks.set(b, 0);
    }
    w.append(frames[i].h, frames[i].b);
  }
  const id = w.seal(new Uint8Array([1])).id;
  t.true(store.usage().badBlocks >= 1);
  const m = mount();
  const recs = [...m.records(id)];
  t.is(recs.length, frames.length);
  t.true(recs.every((r, i) => eq(r.header, frames[i].h) && eq(r.body, frames[i].b)));
});

test('store: reads retry through transient bit flips (mount, records, media)', (t) => {
  const { store, flash, mount } = rig({ blocks: 256, seed: 5 });
  const frames = Array.from({ length: 20 }, (_, i) => ({ h: bytes(16, i), b: bytes(9000, i + 9) }));
  const w = store.openSegment(new Uint8Array([1]));
  for (const f of frames) w.append(f.h, f.b);
  const id = w.seal(new Uint8Array([1])).id;
  flash.bitFlipRate = 0.2;
  for (let k = 0; k < 5; k++) {
    const m = mount();
    const recs = [...m.records(id)];
    t.true(recs.length === 20 && recs.every((r, i) => eq(r.header, frames[i].h) && eq(r.body, frames[i].b)));
  }
  t.true(flash.counters.bitFlips > 10, `flips ${flash.counters.bitFlips}`);
});

test('store: mount reads the same bytes on a 16 MiB and a 1 GiB partition (cost independent of size)', (t) => {
  const reads: number[] = [];
  const bytesRead: number[] = [];
  for (const blocks of [4096, 262144]) {
    const { store, flash, mount } = rig({ blocks }, { maxSegments: 64, slotBlocks: 16, extentBlocks: 32 });
    for (let k = 0; k < 4; k++) {
      const w = store.openSegment(new Uint8Array([k]));
      for (let i = 0; i < 20; i++) w.append(bytes(16, i), bytes(30000, k + i));
      if (k < 3) w.seal(new Uint8Array([k]));
    }
    // A cut while the fourth is open: mount must recover it.
    const r0 = flash.counters.reads;
    const b0 = flash.counters.bytesRead;
    const m = mount();
    reads.push(flash.counters.reads - r0);
    bytesRead.push(flash.counters.bytesRead - b0);
    t.is(m.segments()[3].state, 'recovered');
    t.true(flash.residentBlocks < 1000);
  }
  t.is(reads[0], reads[1], 'the same flash reads');
  // Block numbers take a byte or two more in the snapshot's CBOR on the bigger partition.
  t.true(Math.abs(bytesRead[0] - bytesRead[1]) <= 64, `bytes read ${bytesRead[0]} vs ${bytesRead[1]}`);
});

test('store: erase runs ahead of the writer — every frame lands in blocks erased by an earlier call', (t) => {
  const { store } = rig({ blocks: 2048 }, { extentBlocks: 16 });
  const w = store.openSegment(new Uint8Array([1]));
  w.append(bytes(16, 0), bytes(1000, 0));
  // Stream so far: META record (16 + 1 bytes → one 256-byte page), the first frame (16 + 1016 → 1280).
  let end = 256 + 1280;
  for (let i = 1; i < 200; i++) {
    const before = store.segment(w.id).flashBytes;
    w.append(bytes(16, i), bytes(30000, i));
    end += 30208; // 16 + 30016 rounded up to 256
    t.true(before >= end, `frame ${i}: ${before} bytes erased before it, the stream now ends at ${end}`);
  }
});

test('store: a worn-out metadata slot stops the store with E_STORE_WORN_OUT, not with silent loss', (t) => {
  const { store, flash, mount } = rig({ blocks: 256 }, { slotBlocks: 2, maxSegments: 30 });
  // Slot B's blocks (odd ones) fail at their next erase: the first compaction into slot B fails.
  flash.weakBlocks.set(1, flash.eraseCount(1));
  flash.weakBlocks.set(3, flash.eraseCount(3));
  let err: unknown;
  const sealed: number[] = [];
  try {
    for (let k = 0; k < 200; k++) {
      const w = store.openSegment(new Uint8Array([k]));
      w.append(bytes(8, k), bytes(100, k));
      sealed.push(w.seal(new Uint8Array([k])).id);
    }
  } catch (e) {
    err = e;
  }
  t.true(isBodycamError(err, 'E_STORE_WORN_OUT'), String(err));
  // What was committed before is still there.
  const m = mount();
  for (const id of sealed) t.is(m.segment(id).state, 'sealed');
});

// ---------------------------------------------------------------- the frame in flight at a cut

const flashes = new WeakMap<object, SimFlash>();
const withTearingFlash = {
  setup: (hw: { devices: { Flash?: unknown } }) => {
    const f = new SimFlash({ blockLength: 4096, blocks: 256, pageLength: 256, tear: 'page', seed: 5 });
    flashes.set(hw, f);
    hw.devices.Flash = f.portClass();
  },
};

bothEngines('storage: a frame record torn by a cut is counted lost at the cut (kept through attachTrailer and remounts); a cut between records counts none', async (t, { engine, hw }) => {
  const flash = flashes.get(hw)!;
  await engine.call('storage.format', { pageLength: 256, extentBlocks: 4 });
  await engine.call('storage.open', new Uint8Array([7]));
  for (let i = 0; i < 3; i++) await engine.call('storage.append', bytes(16, i), bytes(5000, i + 90));
  flash.cutAfter(2); // the next frame's second page program is torn
  await t.throwsAsync(engine.call('storage.append', bytes(16, 99), bytes(9000, 99)), { message: /E_POWER_CUT/ });
  flash.reboot();
  const torn = plain<Summary>((await engine.call('storage.mount')).value).segments[0] as SegView & { lostAtCut: number };
  t.like(torn, { state: 'recovered', records: 3, lostAtCut: 1 });
  await engine.call('storage.attachTrailer', torn.id, new Uint8Array([1, 2]));
  const again = plain<Summary>((await engine.call('storage.mount')).value).segments[0] as SegView & { lostAtCut: number };
  t.like(again, { state: 'recovered', records: 3, lostAtCut: 1 });
  // A second segment: the power goes with no write in flight.
  await engine.call('storage.open', new Uint8Array([8]));
  for (let i = 0; i < 2; i++) await engine.call('storage.append', bytes(16, i), bytes(3000, i));
  flash.reboot();
  const segs = plain<Summary>((await engine.call('storage.mount')).value).segments as (SegView & { lostAtCut: number })[];
  t.deepEqual(segs.map((s) => [s.state, s.records, s.lostAtCut]), [['recovered', 3, 1], ['recovered', 2, 0]]);
}, withTearingFlash);
