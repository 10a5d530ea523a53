// A long capture on the node engine: every slot of the shift is either a stored frame or a counted
// drop. Ten minutes by default; the full 12-hour shift at 15 fps with BODYCAM_LONG set.

import test from 'ava';
import { startEngine } from '../host-sim/engine.js';
import { SimHardware } from '../host-sim/node/hardware.js';
import { attachCamera } from '../host-sim/sensor/sim-camera.js';
import { runVirtualTime } from '../host-sim/node/hardware.js';

const minutes = process.env.BODYCAM_LONG ? 12 * 60 : 10;

test(`capture: a ${minutes}-minute shift at 15 fps, VGA, with sensor hiccups: every slot is a frame or a counted drop`, async (t) => {
  const hw = new SimHardware({ seed: 11 });
  const cam = attachCamera(hw);
  const engine = await startEngine('node', hw.platform());
  await engine.call('capture.open', { width: 640, height: 480, frameRate: 15, keep: false });
  await engine.call('capture.start');
  let skipped = 0;
  const end = minutes * 60_000;
  for (let at = 60_000; at <= end; at += 60_000) {
    await runVirtualTime(hw, engine, at - 1000);
    cam.skip(1 + ((at / 60_000) % 5));
    skipped += 1 + ((at / 60_000) % 5);
    await runVirtualTime(hw, engine, at);
  }
  const stats = (await engine.call('capture.stats')).value as Map<string, number>;
  await engine.close();
  // Slot 0 is at the first frame (1/15 s after start); the last slot is at `end`.
  t.is(stats.get('stored')! + stats.get('dropped')!, (end * 15) / 1000);
  t.is(stats.get('dropped'), skipped);
  t.is(cam.lent, 0);
  t.is(cam.overruns, 0);
});
