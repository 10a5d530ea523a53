// Capture figures: XS firmware compute units per captured frame on the record path (camera
// callback → frame record handed to the sink; bridge excluded, no digest on this path), the
// synthetic sensor's speed on Node (and what a 12-hour shift at 15 fps costs in it), and the
// export's throughput against a plain copy of the same bytes.

import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportMediaFiles } from '../../evidence/export.js';
import { startEngine } from '../../host-sim/engine.js';
import { SimHardware } from '../../host-sim/node/hardware.js';
import { attachCamera } from '../../host-sim/sensor/sim-camera.js';
import { runVirtualTime } from '../../host-sim/node/hardware.js';
import { SyntheticFrames } from '../../host-sim/sensor/synthetic.js';
import { bestOf, type Report } from '../report.js';

const SHIFT_FRAMES = 12 * 3600 * 15;

export default async function capture(report: Report): Promise<void> {
  report.section('capture: record path, synthetic sensor, export');

  // XS: firmware units per stored frame, VGA at 15 fps, sink that only counts (storage not included).
  {
    const hw = new SimHardware({ seed: 1 });
    attachCamera(hw);
    const engine = await startEngine('xs', hw.platform());
    try {
      await engine.call('capture.open', { width: 640, height: 480, frameRate: 15, keep: false });
      await engine.call('capture.start');
      await runVirtualTime(hw, engine, 1000); // warm up
      engine.takeCallbackCompute();
      const before = ((await engine.call('capture.stats')).value as Map<string, number>).get('stored')!;
      await runVirtualTime(hw, engine, 9000);
      const units = engine.takeCallbackCompute();
      const stored = ((await engine.call('capture.stats')).value as Map<string, number>).get('stored')! - before;
      report.add({ name: 'XS: firmware units per captured frame, camera callback → record handed to the sink (VGA JPEG, bridge excluded)', value: units / stored, unit: 'compute units', baseline: { name: 'the goal', value: 50_000 } });
    } finally {
      await engine.close();
    }
  }

  // Node: the synthetic sensor alone, and the whole simulated record path on the node engine.
  const sensor = new SyntheticFrames({ width: 640, height: 480 });
  const n = 3000;
  const ms = await bestOf(3, () => {
    for (let i = 0; i < n; i++) sensor.frame(i, 1_795_000_000_000 + i * 67);
  });
  const fps = (n * 1000) / ms;
  report.add({ name: 'Node: synthetic sensor, VGA JPEG frames per second', value: fps, unit: 'frames/s', baseline: { name: 'real time at 15 fps', value: 15 } });
  {
    const hw = new SimHardware({ seed: 1 });
    attachCamera(hw);
    const engine = await startEngine('node', hw.platform());
    await engine.call('capture.open', { width: 640, height: 480, frameRate: 15, keep: false });
    await engine.call('capture.start');
    const t0 = performance.now();
    await runVirtualTime(hw, engine, 120_000);
    const wall = performance.now() - t0;
    await engine.close();
    const pathFps = (1800 * 1000) / wall;
    report.add({ name: 'Node: simulated record path (sensor → capture → sink), frames per second', value: pathFps, unit: 'frames/s', baseline: { name: 'real time at 15 fps', value: 15 } });
    report.note(`a 12-hour shift at 15 fps (${SHIFT_FRAMES.toLocaleString('en')} frames) would take ${(SHIFT_FRAMES / pathFps / 60).toFixed(1)} minutes of capture on the node engine`);
  }

  // Export throughput: segment media (≈ 57 MB of VGA frames) → AVI + sidecar, against copying the media file.
  const dir = mkdtempSync(join(tmpdir(), 'bodycam-bench-export-'));
  try {
    const hw = new SimHardware({ seed: 2 });
    attachCamera(hw);
    const engine = await startEngine('node', hw.platform());
    await engine.call('capture.open', { width: 640, height: 480, frameRate: 15 });
    await engine.call('capture.start');
    await runVirtualTime(hw, engine, 100_000);
    const records = (await engine.call('capture.take')).value as Uint8Array[];
    await engine.close();
    const media = join(dir, 'segment.media');
    writeFileSync(media, Buffer.concat(records));
    const mb = statSync(media).size / 1e6;
    const copyMs = await bestOf(3, () => copyFileSync(media, join(dir, 'copy.media')));
    const exportMs = await bestOf(3, () => exportMediaFiles([media], join(dir, 'out.avi')));
    report.add({ name: `Node: export of ${mb.toFixed(0)} MB of segment media to AVI + sidecar`, value: mb / (exportMs / 1000), unit: 'MB/s', baseline: { name: 'plain file copy, MB/s', value: mb / (copyMs / 1000) } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
