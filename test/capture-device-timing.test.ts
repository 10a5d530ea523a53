// The record path on device timing (host-sim runDeviceTime): every callback's measured work keeps
// the camera's 240 MHz core busy (xs: XS units × 46.5 instructions; node has no meter and costs
// nothing) while the sensor goes on capturing into the driver's 3 buffers. A rollover used to
// seal and sign inside the camera callback (≈ 2.2 M units, 420 ms): the driver overran and 5
// frames were lost at every rollover. Now the rollover closes the segment unsigned and opens the
// next one, the signature is made in timer slices between frames, and frames carry their capture
// time. What these tests watch: no frame is lost at a rollover, every frame the sensor took is
// stored with the time it was taken at, the evidence is the same on both engines, and a power cut
// while a signature is in slices loses nothing (the next boot signs the segment).

import test from 'ava';
import { TestCamera, type StoredSegment } from './helpers/recorder.js';
import type { BusySpan } from '../host-sim/node/hardware.js';
import { nodeChecksum } from '../host-sim/node/hardware.js';
import type { EngineName } from '../host-sim/engine.js';
import { SegmentStore } from '../firmware/storage/index.js';
import { FLAG_CLEAN_CLOSE, FLAG_RECOVERED } from '../firmware/signing/manifest.js';
import { manifestDigest } from '../firmware/signing/manifest.js';
import { nodeDigest } from '../host-sim/node/hardware.js';
import { createHash } from 'node:crypto';
import { evidenceKeyPair } from '../evidence/evidence-keys.js';
import type { ExaminerKey } from '../evidence/sealed.js';
import type { RecorderStatus } from '../firmware/recorder/recorder.js';

const RATE = 15;

/** How a run records: picture size and rate, and whether an evidence key is installed (every segment sealed). */
interface Mode {
  name: string;
  sealed: boolean;
  frameRate: number;
  width?: number;
  height?: number;
  /** Flash blocks of 4 KiB (SVGA needs more than the default 8 MiB for 13 s). */
  blocks?: number;
}

const CLEAR: Mode = { name: 'clear, QVGA 15 fps', sealed: false, frameRate: RATE };
const SEALED: Mode = { name: 'sealed, QVGA 15 fps', sealed: true, frameRate: RATE };
const SEALED_SVGA: Mode = { name: 'sealed, SVGA 25 fps', sealed: true, frameRate: 25, width: 800, height: 600, blocks: 8192 };

/** The agency's evidence key the sealed runs record to (the test reads the frames with its secret). */
function evidenceKey(): ExaminerKey {
  const secret = new Uint8Array(createHash('sha256').update('device-timing').digest());
  return { secret, ...evidenceKeyPair(secret), file: '(test key)', form: 'raw' };
}

async function rollovers(engine: EngineName, mode: Mode): Promise<{ c: TestCamera; status: RecorderStatus; segs: StoredSegment[]; busy: BusySpan[] }> {
  const key = evidenceKey();
  const c = await TestCamera.start({
    engine, frameRate: mode.frameRate, width: mode.width, height: mode.height, blocks: mode.blocks, segmentSeconds: 5, preEventSeconds: 0, camera: { buffers: 3, logCaptures: true },
    ...(mode.sealed ? { evidenceKeys: [{ keyId: key.keyId, publicKey: key.publicKey }] } : {}),
  });
  await c.run(1000);
  await c.press();
  const busy: BusySpan[] = [];
  await c.runDevice(12_000, busy); // two rollovers, at 5 s and 10 s of the recording
  const status = await c.status();
  await c.longPress();
  return { c, status, segs: c.segments(key).sort((a, b) => a.seq - b.seq), busy };
}

const evidence = new Map<string, StoredSegment[]>();

for (const mode of [CLEAR, SEALED, SEALED_SVGA]) {
  for (const engine of ['node', 'xs'] as EngineName[]) {
    test.serial(`[${engine}] device timing, ${mode.name}, 3 driver buffers: no frame is lost at a rollover, and every frame keeps the time the sensor took it at`, async (t) => {
      const { c, status, segs, busy } = await rollovers(engine, mode);
      try {
        if (engine === 'xs') t.true(busy.some((b) => b.units > 0), 'the xs meter charged the callbacks');
        t.true(segs.length >= 3, `two rollovers or more (${segs.length} segments)`);
        t.deepEqual(segs.map((s) => s.manifest.sealed !== undefined), segs.map(() => mode.sealed), mode.sealed ? 'every segment is sealed' : 'every segment is in the clear');
        const captured = new Set(c.cam.captureTimes);
        const frames = segs.flatMap((s) => s.monotonic);
        for (let i = 1; i < frames.length; i++) t.true(frames[i] > frames[i - 1], 'frame times increase');
        t.deepEqual(frames.filter((m) => !captured.has(m)), [], 'every stored frame carries a time the sensor captured a frame at');

        // Every capture between the first and the last stored frame is stored: nothing lost, nothing skipped.
        const first = frames[0];
        const last = frames[frames.length - 1];
        const lost = c.cam.captureTimes.filter((m) => m >= first && m <= last).length - frames.length;
        t.log(`${engine}, ${mode.name}: ${segs.length - 1} rollovers, ${lost} frames lost, ${c.cam.overruns} driver overruns, keys ${JSON.stringify(status.keys)}, longest callback ${busy.reduce((n, b) => Math.max(n, b.units), 0).toLocaleString('en')} units`);
        // A sealed segment's key is prepared in slices while the one before is open; only the ring's after the boot is wrapped on the spot.
        t.deepEqual(status.keys, mode.sealed ? { ahead: segs.length - 1, inline: 1 } : { ahead: 0, inline: 0 }, 'every rollover took a key prepared ahead');
        t.is(lost, 0, 'every frame captured is stored');
        t.is(c.cam.overruns, 0, 'the driver never ran out of buffers');
        t.deepEqual(segs.map((s) => s.manifest.dropped), segs.map(() => 0), 'no segment counts a dropped frame');
        t.deepEqual(segs.flatMap((s) => s.droppedBefore), frames.map(() => 0));
        t.is(segs.reduce((n, s) => n + s.manifest.frames, 0), frames.length, 'the manifests count the stored frames');
        // One run of frame numbers across the rollovers, each segment chained to the one before.
        const numbers = segs.flatMap((s) => s.frameNumbers);
        for (let i = 1; i < numbers.length; i++) t.is(numbers[i], numbers[i - 1] + 1);
        const manifests = c.manifests();
        for (const s of segs.slice(1)) t.deepEqual(s.manifest.prev, manifestDigest(manifests.get(s.seq - 1)!, nodeDigest), `segment ${s.seq} chains to ${s.seq - 1}`);
        for (const s of segs) t.is(s.manifest.flags & FLAG_CLEAN_CLOSE, FLAG_CLEAN_CLOSE);
        t.true(segs.every((s) => s.state === 'sealed'));
        evidence.set(`${engine} ${mode.name}`, segs);
      } finally {
        await c.close();
      }
    });
  }

  test.serial(`[node][xs] device timing, ${mode.name}: the same segments on both engines (the busy core on xs cost no frame)`, (t) => {
    const node = evidence.get(`node ${mode.name}`);
    const xs = evidence.get(`xs ${mode.name}`);
    if (!node || !xs) return t.fail('both engines ran');
    t.is(xs.length, node.length);
    // The last segment ends at the stop, later on xs (its clock ran on while the core was busy): compared up to it.
    const shape = (segs: StoredSegment[]) => segs.map((s) => ({ seq: s.seq, frames: s.manifest.frames, media: s.manifest.media, first: s.manifest.firstMono, last: s.manifest.lastMono }));
    t.deepEqual(shape(xs.slice(0, -1)), shape(node.slice(0, -1)));
    t.true(node.length >= 3);
  });
}

/** Segments closed at a rollover whose signature is not attached yet. */
function unsigned(c: TestCamera): number[] {
  const store = SegmentStore.mount({ flash: new (c.flash.clone().portClass())({ path: 'x' }), checksum: nodeChecksum });
  return store.segments().filter((s) => s.state === 'sealed' && !s.trailer).map((s) => s.sequence);
}

for (const engine of ['node', 'xs'] as EngineName[]) {
  test(`[${engine}] a power cut while a rollover's signature is in slices: the next boot signs the closed segment, and the chain holds`, async (t) => {
    const c = await TestCamera.start({ engine, frameRate: RATE, segmentSeconds: 5, preEventSeconds: 0 });
    try {
      await c.run(1000);
      await c.press();
      await c.run(4800);
      // Timer by timer up to the rollover, and stop while the closed segment waits for its signature.
      let pending: number[] = [];
      for (let i = 0; i < 100 && pending.length === 0; i++) {
        c.hw.timer.runUntil(c.hw.timer.nextAt()!);
        await c.engine.pump();
        pending = unsigned(c);
      }
      t.is(pending.length, 1, 'the rollover closed a segment and its signature is still in slices');
      const status = await c.powerCutNow();
      t.true(status.powerCutDetected);
      t.deepEqual(unsigned(c), [], 'the boot signed it');
      await c.run(3000);
      await c.longPress();
      const segs = c.segments().sort((a, b) => a.seq - b.seq);
      const closed = segs.find((s) => s.seq === pending[0])!;
      t.truthy(closed, 'the closed segment is evidence');
      t.is(closed.manifest.flags & FLAG_RECOVERED, FLAG_RECOVERED, 'signed at the boot after the cut');
      t.is(closed.manifest.frames, closed.frameNumbers.length);
      t.is(closed.manifest.dropped, 0, 'every frame of it is there');
      const manifests = c.manifests();
      for (const s of segs.slice(1)) t.deepEqual(s.manifest.prev, manifestDigest(manifests.get(s.seq - 1)!, nodeDigest), `segment ${s.seq} chains to ${s.seq - 1}`);
    } finally {
      await c.close();
    }
  });
}

/** Hold the record button down or let it go while the camera runs on device timing. */
async function buttonOnDevice(c: TestCamera, down: boolean, ms: number, busy: BusySpan[]): Promise<void> {
  c.hw.buttons.set('record', down);
  await c.runDevice(ms, busy);
}

const CLEAR_SVGA: Mode = { ...SEALED_SVGA, name: 'clear, SVGA 25 fps', sealed: false };

// The press promotes the pre-event ring: its frames were read back and hashed in that callback
// (5 s of SVGA: 15 M units, 2.9 s of the core; 41 frames lost as the recording started) and are
// now hashed in timer slices. The stop signed its segment, wrapped the ring's key and signed two
// ledger entries in one callback (11 frames lost); now each is sliced or deferred.
for (const mode of [CLEAR_SVGA, SEALED_SVGA]) {
  test.serial(`[xs] device timing, ${mode.name}, 3 driver buffers, 5 s of pre-event: the press that starts a recording and the long press that stops it lose no frame, and the segment holds every frame from the ring on`, async (t) => {
    const key = evidenceKey();
    const c = await TestCamera.start({
      engine: 'xs', frameRate: mode.frameRate, width: mode.width, height: mode.height, blocks: mode.blocks, segmentSeconds: 60, preEventSeconds: 5, camera: { buffers: 3, logCaptures: true },
      ...(mode.sealed ? { evidenceKeys: [{ keyId: key.keyId, publicKey: key.publicKey }] } : {}),
    });
    try {
      await c.run(1000);
      const busy: BusySpan[] = [];
      await c.runDevice(6000, busy); // standby: the pre-event ring fills
      const before = c.cam.overruns;
      await buttonOnDevice(c, true, 200, busy);
      await buttonOnDevice(c, false, 3000, busy);
      const atStart = c.cam.overruns - before;
      t.is((await c.status()).state, 'recording');
      await buttonOnDevice(c, true, 2300, busy); // held past the long-press time
      await buttonOnDevice(c, false, 2000, busy);
      const atStop = c.cam.overruns - before - atStart;
      const s = await c.status();
      t.is(s.state, 'standby');
      t.log(`${mode.name}: overruns ${atStart} at the press, ${atStop} at the stop; keys ${JSON.stringify(s.keys)}; longest callback ${busy.reduce((n, b) => Math.max(n, b.units), 0).toLocaleString('en')} units`);
      t.is(atStart, 0, 'no frame lost as the recording starts');
      t.is(atStop, 0, 'no frame lost as it stops');
      t.deepEqual(s.keys, mode.sealed ? { ahead: 1, inline: 1 } : { ahead: 0, inline: 0 }, "the ring after the stop took the key prepared while recording; only the boot's was wrapped on the spot");
      const segs = c.segments(key);
      t.is(segs.length, 1);
      const [seg] = segs;
      t.true(seg.state === 'sealed', 'the stopped segment was signed in slices');
      const frames = seg.monotonic;
      t.true(frames[0] < 7000 - 4000, 'it starts with the pre-event frames');
      const captured = c.cam.captureTimes.filter((m) => m >= frames[0] && m <= frames[frames.length - 1]);
      t.is(frames.length, captured.length, "every frame the sensor took from the ring's first to the stop is in the segment");
      t.is(seg.manifest.frames, frames.length, 'and hashed into its manifest');
    } finally {
      await c.close();
    }
  });
}
