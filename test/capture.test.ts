// Capture on both engines: the record path from the (simulated) camera to the sink, pacing, drop
// accounting, disposable frames, raw-only sensors, and node/xs byte identity of frame records.

import test from 'ava';
import type { CborValue } from '../firmware/codec/cbor.js';
import { decodeFrameHeader, FRAME_HEADER_LENGTH, FrameFlags, parseMedia, type FrameHeader } from '../firmware/encoder/frame-record.js';
import type { SimHardware } from '../host-sim/node/hardware.js';
import { attachCamera, type SimCameraControl, type SimCameraOptions } from '../host-sim/sensor/sim-camera.js';
import { runVirtualTime } from '../host-sim/node/hardware.js';
import { bothEngines, withBoth } from './helpers/engines.js';
import { concat } from './helpers/signing.js';

const QVGA = { width: 320, height: 240, frameRate: 15 };

function headers(records: CborValue): FrameHeader[] {
  return (records as Uint8Array[]).map((r) => decodeFrameHeader(r));
}

/** A map result (CBOR maps come back as Map) as a record. */
function rec(v: CborValue): Record<string, CborValue> {
  return v instanceof Map ? Object.fromEntries(v) : (v as Record<string, CborValue>);
}


const cams = new WeakMap<SimHardware, SimCameraControl>();
/** Attach a simulated camera to each engine's hardware; the test body finds it by its hw. */
const withCamera = (options: SimCameraOptions = {}) => ({ setup: (hw: SimHardware) => void cams.set(hw, attachCamera(hw, options)) });

bothEngines('capture: 2 s at 15 fps gives 30 paced, numbered JPEG frame records; every buffer goes back', async (t, { engine, hw }) => {
  const cam = cams.get(hw)!;
  await engine.call('capture.open', QVGA);
  await engine.call('capture.start');
  await runVirtualTime(hw, engine, 2000);
  const records = (await engine.call('capture.take')).value as Uint8Array[];
  const hs = headers(records);
  t.is(hs.length, 30);
  t.deepEqual(hs.map((h) => h.frameNumber), [...Array(30).keys()]);
  t.true(hs.every((h) => h.width === 320 && h.height === 240 && h.frameRate === 15 && h.droppedBefore === 0));
  t.is(hs[0].flags, FrameFlags.KEYFRAME | FrameFlags.FIRST);
  t.true(hs.slice(1).every((h) => h.flags === FrameFlags.KEYFRAME));
  t.true(hs.slice(1).every((h, i) => h.monotonicMs > hs[i].monotonicMs && h.gapMs === h.monotonicMs - hs[i].monotonicMs));
  t.is(hs[0].utcMs - hs[0].monotonicMs, Date.UTC(2026, 10, 25, 6, 0, 0));
  // Each record is header || JPEG, self-delimiting when concatenated.
  const media = parseMedia(concat(records));
  t.is(media.length, 30);
  t.true(media.every((f, i) => f.jpeg.length === records[i].length - FRAME_HEADER_LENGTH && f.jpeg[f.jpeg.length - 2] === 0xff && f.jpeg[f.jpeg.length - 1] === 0xd9));
  t.is(cam.lent, 0);
  t.is(cam.returned, 30);
  t.is(cam.overruns, 0);
}, withCamera());

bothEngines('capture: a sensor faster than the target is paced down without counting drops', async (t, { engine, hw }) => {
  const cam = cams.get(hw)!;
  await engine.call('capture.open', QVGA);
  await engine.call('capture.start');
  await runVirtualTime(hw, engine, 4000);
  const hs = headers((await engine.call('capture.take')).value);
  const stats = rec((await engine.call('capture.stats')).value) as Record<string, number>;
  t.true(hs.length >= 59 && hs.length <= 61, `${hs.length} frames in 4 s`);
  t.true(hs.every((h) => h.droppedBefore === 0));
  t.is(stats.dropped, 0);
  t.true(stats.skipped > 30);
  t.is(cam.lent, 0);
}, withCamera({ sensorRate: 25, jitterMs: 7 }));

bothEngines('capture: a frame the sink refuses is closed, counted, and charged to the next frame', async (t, { engine, hw }) => {
  const cam = cams.get(hw)!;
  await engine.call('capture.open', QVGA);
  await engine.call('capture.start');
  await runVirtualTime(hw, engine, 500);
  await engine.call('capture.failSink', 2);
  await runVirtualTime(hw, engine, 1500);
  const hs = headers((await engine.call('capture.take')).value);
  const stats = rec((await engine.call('capture.stats')).value);
  t.deepEqual(stats.errors, ['E_STORE_IO', 'E_STORE_IO']);
  t.is(stats.lost, 2);
  t.is(stats.dropped, 2);
  // Every buffer lent was given back, the refused ones included.
  t.is(cam.lent, 0);
  t.is(cam.returned, hs.length + 2);
  const after = hs.find((h) => h.droppedBefore > 0)!;
  t.is(after.droppedBefore, 2);
  t.is(after.droppedTotal, 2);
  t.is(after.flags, FrameFlags.KEYFRAME | FrameFlags.AFTER_GAP | FrameFlags.STORAGE_DROP);
  const before = hs[hs.indexOf(after) - 1];
  t.is(after.frameNumber, before.frameNumber + 1, 'a lost frame takes no number');
  t.is(after.gapMs, after.monotonicMs - before.monotonicMs);
  t.true(after.gapMs >= 3 * 66 && after.gapMs <= 3 * 67 + 1, `gap ${after.gapMs} ms`);
  t.is(hs.length + 2, 1 + Math.round((hs[hs.length - 1].monotonicMs - hs[0].monotonicMs) / (1000 / 15)));
}, withCamera());

bothEngines('capture: frames the sensor never delivered are counted from the pacing grid', async (t, { engine, hw }) => {
  const cam = cams.get(hw)!;
  await engine.call('capture.open', QVGA);
  await engine.call('capture.start');
  await runVirtualTime(hw, engine, 1000);
  cam.skip(3);
  await runVirtualTime(hw, engine, 2000);
  const hs = headers((await engine.call('capture.take')).value);
  const gap = hs.filter((h) => h.droppedBefore > 0);
  t.is(gap.length, 1);
  t.is(gap[0].droppedBefore, 3);
  t.is(gap[0].flags, FrameFlags.KEYFRAME | FrameFlags.AFTER_GAP | FrameFlags.SENSOR_DROP);
  t.true(gap[0].gapMs >= 266 && gap[0].gapMs <= 268, `gap ${gap[0].gapMs} ms`);
  t.is(hs.length + 3, 30);
}, withCamera());

bothEngines('capture: storage too slow (the firmware falls behind) overruns the driver; the loss is in the evidence', async (t, { engine, hw }) => {
  const cam = cams.get(hw)!;
  await engine.call('capture.open', QVGA);
  await engine.call('capture.start');
  await runVirtualTime(hw, engine, 1000);
  // One second in which the firmware is busy: the driver fills its 3 buffers, then discards.
  hw.timer.runUntil(2000);
  await engine.pump();
  await runVirtualTime(hw, engine, 3000);
  const hs = headers((await engine.call('capture.take')).value);
  t.true(cam.overruns >= 10, `${cam.overruns} overruns`);
  const dropped = hs.reduce((n, h) => n + h.droppedBefore, 0);
  t.is(hs.length + dropped, 45);
  t.true(hs.some((h) => (h.flags & FrameFlags.SENSOR_DROP) !== 0));
  t.is(cam.lent, 0);
}, withCamera());

bothEngines('capture: stop and start is a pause, not a loss; pre-event routing flags frames', async (t, { engine, hw }) => {
  const cam = cams.get(hw)!;
  await engine.call('capture.open', { ...QVGA, preEvent: true });
  await engine.call('capture.start');
  await runVirtualTime(hw, engine, 400);
  await engine.call('capture.route', false);
  await runVirtualTime(hw, engine, 800);
  await engine.call('capture.stop');
  await runVirtualTime(hw, engine, 5000);
  await engine.call('capture.start');
  await runVirtualTime(hw, engine, 5400);
  const hs = headers((await engine.call('capture.take')).value);
  const restart = hs.findIndex((h, i) => i > 0 && (h.flags & FrameFlags.FIRST) !== 0);
  t.true(restart > 0);
  t.is(hs[restart].droppedBefore, 0);
  t.true(hs[restart].gapMs > 4000);
  t.is(hs[restart].frameNumber, hs[restart - 1].frameNumber + 1);
  t.true(hs.slice(0, 6).every((h) => (h.flags & FrameFlags.PRE_EVENT) !== 0));
  t.true(hs.slice(7).every((h) => (h.flags & FrameFlags.PRE_EVENT) === 0));
  t.is(cam.lent, 0);
}, withCamera());

bothEngines('capture: a raw-only sensor is refused by name before the camera opens (E_CAMERA_RAW_ONLY)', async (t, { engine, hw }) => {
  const cam = cams.get(hw)!;
  const e = await t.throwsAsync(engine.call('capture.open', { ...QVGA, sensor: 'GC0308' }));
  t.regex(e!.message, /E_CAMERA_RAW_ONLY.*GC0308.*raw frames/);
  t.is(cam.opened, 0);
}, withCamera());

bothEngines('capture: a camera that gives raw frames is closed and refused (E_CAMERA_RAW_ONLY)', async (t, { engine, hw }) => {
  const cam = cams.get(hw)!;
  const e = await t.throwsAsync(engine.call('capture.open', QVGA));
  t.regex(e!.message, /E_CAMERA_RAW_ONLY.*yuv422/);
  t.is(cam.opened, 1);
  t.is(cam.closed, 1);
}, withCamera({ imageType: 'yuv422' }));

test('capture: node and xs hand byte-identical frame records to storage for the same seed', async (t) => {
  const out = await withBoth(async (f) => {
    const result: Record<string, Uint8Array[]> = {};
    for (const [name, { engine, hw }] of Object.entries(f)) {
      await engine.call('capture.open', QVGA);
      await engine.call('capture.start');
      await runVirtualTime(hw, engine, 700);
      await engine.call('capture.failSink', 1);
      await runVirtualTime(hw, engine, 1400);
      cams.get(hw)!.skip(2);
      await runVirtualTime(hw, engine, 2500);
      result[name] = (await engine.call('capture.take')).value as Uint8Array[];
    }
    return result;
  }, { seed: 7, ...withCamera({ sensorRate: 20, jitterMs: 5 }) });
  t.true(out.node.length > 30);
  t.is(out.xs.length, out.node.length);
  t.deepEqual(concat(out.xs), concat(out.node));
  const hs = out.node.map((r) => decodeFrameHeader(r));
  t.is(hs.reduce((n, h) => n + h.droppedBefore, 0), 3);
});
