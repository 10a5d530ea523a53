// Recorder figures: how fast a shift simulates (simulated seconds per wall second for the quiet
// 12-hour scenario: the full shift on node — the goal is under 5 minutes — and a 1 % slice on
// xs, extrapolated), and what 15 fps recording costs the firmware in XS compute units per
// second (bridge excluded; digests and CRCs are native on a device), split into the capture
// path, signing (frames into the Digest port, one manifest signature per segment) and the
// rest (storage and the recorder's own glue), with standby (pre-event buffering) beside it.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseScenario } from '../../host-sim/scenario/format.js';
import { runScenario } from '../../host-sim/scenario/runner.js';
import { startEngine } from '../../host-sim/engine.js';
import { SimHardware } from '../../host-sim/node/hardware.js';
import { attachCamera } from '../../host-sim/sensor/sim-camera.js';
import { runVirtualTime } from '../../host-sim/node/hardware.js';
import { loadScenario } from '../../cli/sim.js';
import { TestCamera } from '../../test/helpers/recorder.js';
import type { Report } from '../report.js';

const SHIFT_S = 12 * 3600;

async function shift(engine: 'node' | 'xs', scale: number): Promise<{ speed: number; wall: number; virtual: number; ok: boolean }> {
  const out = mkdtempSync(join(tmpdir(), 'bodycam-bench-shift-'));
  try {
    const r = await runScenario(parseScenario(loadScenario('quiet-12h-shift'), { scale }), { engine, seed: 1, out, export: false });
    return { speed: r.virtualSeconds / Math.max(0.001, r.wallSeconds), wall: r.wallSeconds, virtual: r.virtualSeconds, ok: r.ok };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export default async function recorder(report: Report): Promise<void> {
  report.section('recorder: shift simulation speed, firmware cost of recording');

  const node = await shift('node', 1);
  report.add({ name: `node: quiet 12-hour shift, simulated seconds per wall second (${node.wall} s wall, ${node.ok ? 'nothing lost' : 'FAILED'})`, value: node.speed, unit: 'x', baseline: { name: '12 h in 5 minutes', value: SHIFT_S / 300 } });
  const xs = await shift('xs', 0.01);
  report.add({ name: `xs: 1 % slice of the 12-hour shift (${xs.virtual} s), simulated seconds per wall second`, value: xs.speed, unit: 'x', baseline: { name: 'node', value: node.speed } });
  report.note(`xs: the full 12-hour shift would take about ${Math.round(SHIFT_S / xs.speed / 60)} minutes`);

  // XS units per second of 15 fps QVGA: the recorder recording, and in standby.
  const seconds = 60;
  const c = await TestCamera.start({ engine: 'xs', frameRate: 15, segmentSeconds: 30, preEventSeconds: 30, blocks: 16384 });
  let standby = 0;
  let recording = 0;
  try {
    await c.run(35_000);
    c.engine.takeCallbackCompute();
    await c.run(seconds * 1000);
    standby = c.engine.takeCallbackCompute() / seconds;
    await c.press();
    await c.run(5000);
    c.engine.takeCallbackCompute();
    await c.run(seconds * 1000);
    recording = c.engine.takeCallbackCompute() / seconds;
  } finally {
    await c.close();
  }

  // The capture path alone (camera callback, pacing, frame header; the sink only counts).
  let capture = 0;
  {
    const hw = new SimHardware({ seed: 1 });
    attachCamera(hw);
    const engine = await startEngine('xs', hw.platform());
    try {
      await engine.call('capture.open', { width: 320, height: 240, frameRate: 15, keep: false });
      await engine.call('capture.start');
      await runVirtualTime(hw, engine, 2000);
      engine.takeCallbackCompute();
      await runVirtualTime(hw, engine, 2000 + seconds * 1000);
      capture = engine.takeCallbackCompute() / seconds;
    } finally {
      await engine.close();
    }
  }

  // Signing: frames into the manifest's digest (15 a second) and one manifest signature per
  // 30-s segment with the Ed25519 the camera uses (@noble/curves).
  let signing = 0;
  {
    const hw = new SimHardware({ seed: 1 });
    const engine = await startEngine('xs', hw.platform());
    try {
      const seed = new Uint8Array(32).fill(3);
      await engine.call('signing.segment.open', { device: 'CAM-0001', seq: 0, boot: 1, recording: 1, prev: null, format: { format: 'bodycam-frames/1', width: 320, height: 240 }, firmware: '0.1.0' });
      const frames = 150;
      const list = Array.from({ length: frames }, (_, i) => [new Uint8Array(48), new Uint8Array(12_000), i * 66, i * 66]);
      const add = (await engine.call('signing.segment.frames', list)).meter!.firmware / frames;
      const [, cameraSecret] = (await engine.call('ed25519.keyPair', 'noble', seed)).value as Uint8Array[];
      // The manifest's encoding is small beside its signature; the signature is the camera's Ed25519.
      const manifest = (await engine.call('ed25519.sign', 'noble', new Uint8Array(420), cameraSecret)).meter!.firmware;
      signing = add * 15 + manifest / 30;
      report.note(`signing: ${Math.round(add).toLocaleString('en')} units per frame into the digest, ${Math.round(manifest).toLocaleString('en')} units per manifest signature (the camera's Ed25519, noble, 420 bytes)`);
    } finally {
      await engine.close();
    }
  }

  report.add({ name: 'XS: recording at 15 fps (QVGA, 30-s segments), firmware units per second of footage', value: recording, unit: 'compute units/s', baseline: { name: 'standby with the pre-event buffer', value: standby } });
  report.add({ name: 'XS:   of which the capture path (camera callback, pacing, frame header)', value: capture, unit: 'compute units/s', baseline: { name: 'recording', value: recording } });
  report.add({ name: 'XS:   of which signing (frames into the digest, a manifest signature per segment)', value: signing, unit: 'compute units/s', baseline: { name: 'recording', value: recording } });
  report.add({ name: 'XS:   the rest: storage (records, CRC and flash calls) and the recorder', value: Math.max(0, recording - capture - signing), unit: 'compute units/s', baseline: { name: 'recording', value: recording } });
  report.note(`at about 40 Cortex-M instructions per XS unit, recording takes ${((recording * 40) / 240e6 * 100).toFixed(0)} % of a 240 MHz core`);
}
