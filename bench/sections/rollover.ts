// Rollover on device timing (host-sim runDeviceTime, xs: XS units × 46.5 instructions at
// 240 MHz, the camera capturing into 3 driver buffers meanwhile): frames dropped at rollovers,
// and the longest stretch the core is busy while recording — a rollover closes the segment
// unsigned and signs it in timer slices — against all a rollover costs in one piece (what the
// camera callback ran before the slices). Beside it the same
// recording with a driver that stamps no capture time (Moddable's ESP32 camera module): frames
// read late then get the read time.

import { TestCamera } from '../../test/helpers/recorder.js';
import type { BusySpan } from '../../host-sim/node/hardware.js';
import type { Report } from '../report.js';

async function record(stampCapture: boolean): Promise<{ dropped: number; rollovers: number; overruns: number; slice: BusySpan; seal: number }> {
  const c = await TestCamera.start({ engine: 'xs', frameRate: 15, segmentSeconds: 5, preEventSeconds: 0, camera: { buffers: 3, stampCapture } });
  try {
    await c.run(1000);
    await c.press();
    const busy: BusySpan[] = [];
    await c.runDevice(16_000, busy); // three rollovers
    await c.longPress();
    const segs = c.segments().sort((a, b) => a.seq - b.seq);
    // What a rollover costs in all: the units charged in the 700 ms from the frame that rolled
    // over (the seal and its slices, and frames) less those of the 700 ms before it (frames only).
    const units = (from: number, to: number) => busy.filter((b) => b.at >= from && b.at < to).reduce((n, b) => n + b.units, 0);
    const seals = segs.slice(1).map((s) => units(s.monotonic[0], s.monotonic[0] + 700) - units(s.monotonic[0] - 700, s.monotonic[0]));
    return {
      dropped: segs.reduce((n, s) => n + s.manifest.dropped, 0),
      rollovers: segs.length - 1,
      overruns: c.cam.overruns,
      slice: busy.reduce((a, b) => (b.units > a.units ? b : a), { at: 0, ms: 0, units: 0 }),
      seal: Math.max(...seals),
    };
  } finally {
    await c.close();
  }
}

export default async function rollover(report: Report): Promise<void> {
  report.section('rollover on device timing: xs units × 46.5 / 240 MHz, 15 fps, 3 driver buffers');
  const stamped = await record(true);
  const unstamped = await record(false);
  report.add({ name: `frames dropped at ${stamped.rollovers} rollovers, driver stamps capture time (driver overruns: ${stamped.overruns})`, value: stamped.dropped, unit: 'frames' });
  report.add({ name: `frames dropped at ${unstamped.rollovers} rollovers, driver without capture time (as Moddable's ESP32 camera; overruns: ${unstamped.overruns})`, value: unstamped.dropped, unit: 'frames' });
  const sealMs = (stamped.seal * 46.5) / 240_000;
  report.add({ name: `longest busy stretch while recording (a signing slice or a frame; ${stamped.slice.units.toLocaleString('en')} units)`, value: stamped.slice.ms, unit: 'ms', baseline: { name: `a rollover's seal in one piece (${stamped.seal.toLocaleString('en')} units: what the camera callback ran before the slices)`, value: sealMs } });
  report.note('a rollover that sealed in the camera callback lost 5 frames at each (the issue 18 figure, 3 buffers); the frame interval at 15 fps is 67 ms, 3 buffers hold 200 ms');
}
