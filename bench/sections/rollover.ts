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

  // The press that starts a recording promotes the pre-event ring: its frames are read back and
  // hashed in timer slices since, not in the press's callback, while the camera records on; the
  // officer's stop signs in slices. The press's own callback, how long the ring takes to hash
  // (device time: runDeviceTime runs a chain of timer slices to its end), and frames lost.
  for (const pre of [5, 30]) {
    const r = await pressAndStop(pre);
    const ms = (units: number) => Math.round((units * 46.5) / 240_000);
    report.add({ name: `SVGA 25 fps, ${pre} s of pre-event: the press's callback (${ms(r.press)} ms; ${r.ringFrames} frames (the ring's and those recorded meanwhile) hashed in slices within ${(r.drainMs / 1000).toFixed(1)} s of device time, longest callback meanwhile ${ms(r.longest)} ms; driver overruns from the press to the stop ${r.overruns}; longest callback at the stop ${ms(r.stop)} ms)`, value: r.press, unit: 'compute units' });
  }
  report.note('a stop (or rollover) before the promoted ring is all hashed hashes the rest in its own callback (the segment closes only with its manifest complete); the store reads a record within one extent as the flash returned it, without copying it (the XS meter charges 2 units a byte for a typed-array copy: before, 30 s of ring took 45.8 s of device time to hash)');
  report.note('before the ring was hashed in slices the press callback read back and hashed it (measured on the same bench: 3.4 M units at 1 s of pre-event, 15.0 M at 5 s, 29.5 M at 10 s; 41 frames lost at the press with 5 s, 11 at the stop)');
}

async function pressAndStop(preEventSeconds: number): Promise<{ press: number; ringFrames: number; drainMs: number; longest: number; overruns: number; stop: number }> {
  // 256 MiB of flash: the synthetic SVGA frames are about 32 KB, 30 s of ring alone is 24 MB.
  const c = await TestCamera.start({ engine: 'xs', frameRate: 25, width: 800, height: 600, blocks: 65536, segmentSeconds: 600, preEventSeconds, camera: { buffers: 3 } });
  try {
    await c.run(preEventSeconds * 1000 + 1500);
    const busy: BusySpan[] = [];
    const onDevice = async (down: boolean, ms: number) => {
      c.hw.buttons.set('record', down);
      await c.runDevice(ms, busy);
    };
    const before = c.cam.overruns;
    const at = c.hw.clock.monotonic();
    await onDevice(true, 200); // the slices' chain runs to its end
    const press = busy[0]?.units ?? 0;
    const drainMs = c.hw.clock.monotonic() - at;
    const ringFrames = (await c.status()).evidenceFrames;
    const longest = busy.slice(1).reduce((n, b) => Math.max(n, b.units), 0);
    await onDevice(false, 3000);
    const stopFrom = busy.length;
    await onDevice(true, 2300);
    await onDevice(false, 2000);
    const state = (await c.status()).state;
    if (state !== 'standby') throw new Error(`the camera is ${state} after the stop, not in standby`);
    return { press, ringFrames, drainMs, longest, overruns: c.cam.overruns - before, stop: busy.slice(stopFrom).reduce((n, b) => Math.max(n, b.units), 0) };
  } finally {
    await c.close();
  }
}
