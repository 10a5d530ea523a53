// SD-card store figures (issue 17): mount after a cut on a 16 MiB and a 64 GB card with the same
// segments (XS compute units, and Cortex-M7 instructions on the mcu engine): mount cost must not
// grow with the card; and the card space an hour of recording takes at each SD board's default
// rate, measured on a simulated shift (the recorder, the synthetic camera, the card) and
// reckoned for 25 KiB frames (what an OV2640 gives at VGA, quality 12).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SETTINGS } from '../../firmware/provision/config.js';
import { recordSpan, RECORD_HEAD } from '../../firmware/storage/record.js';
import { startEngine } from '../../host-sim/engine.js';
import { cardAfterCut } from '../../host-sim/flash/sim-sd.js';
import { startMcuEngine } from '../../host-sim/mcu/engine.js';
import { SimHardware } from '../../host-sim/node/hardware.js';
import { parseScenario } from '../../host-sim/scenario/format.js';
import { runScenario } from '../../host-sim/scenario/runner.js';
import { listBoards } from '../../toolchain/boards.js';
import type { Report } from '../report.js';

const GiB = 1024 * 1024 * 1024;
const FRAME_HEADER = 48;

export default async function sd(report: Report): Promise<void> {
  report.section('sd: the segment store on an SD card (64 KiB loss units, progress journal)');

  // Mount after a cut: the same 3 sealed segments and one recovered, on a 16 MiB and a 64 GB card.
  const workload = { sealed: 3, frames: 30, open: 20, frameBytes: 25 * 1024, maxSegments: 64 };
  const cards = [['16 MiB', 16 * 1024 * 1024], ['64 GB', 64 * GiB]] as const;
  const xs: number[] = [];
  const mcu: number[] = [];
  for (const [, bytes] of cards) {
    const hw = new SimHardware();
    hw.devices.Flash = cardAfterCut(bytes, workload).portClass();
    const e = await startEngine('xs', hw.platform());
    try {
      xs.push((await e.call('storage.mount')).meter!.firmware);
    } finally {
      await e.close();
    }
    try {
      const hm = new SimHardware();
      hm.devices.Flash = cardAfterCut(bytes, workload).portClass();
      const m = await startMcuEngine(hm.platform());
      try {
        mcu.push((await m.call('storage.mount')).meter.firmware);
      } finally {
        await m.close();
      }
    } catch (err) {
      report.note(`mcu engine unavailable for the card mount: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  report.add({ name: 'XS: mount after a cut, 64 GB card (3 sealed segments, the open one of 20 frames recovered), firmware only', value: xs[1], unit: 'units', baseline: { name: 'the same on a 16 MiB card', value: xs[0] } });
  if (mcu.length === 2) report.add({ name: 'MCU: the same mount, 64 GB card, Cortex-M7 instructions', value: mcu[1], unit: 'instructions', baseline: { name: 'the same on a 16 MiB card', value: mcu[0] } });

  // Card space per hour at each SD board's default rate: a simulated recording of 10 minutes.
  for (const b of listBoards().filter((x) => x.config.storage.kind === 'sd')) {
    const cam = b.config.camera;
    const sc = parseScenario({
      name: `sd-rate-${b.name.replace(/_/g, '-')}`, description: 'ten minutes recorded on a card at the board default', duration: '11m',
      camera: { width: cam.width, height: cam.height, frameRate: cam.frameRate, segmentSeconds: DEFAULT_SETTINGS.segmentSeconds, preEventSeconds: 0 },
      storage: { cardGB: 64 }, presses: [{ at: '30s', gesture: 'press' }, { at: '10m30s', gesture: 'long' }], dock: { at: 'end' },
    });
    const out = mkdtempSync(join(tmpdir(), 'bodycam-bench-sd-'));
    try {
      const r = await runScenario(sc, { engine: 'node', seed: 1, out, export: false });
      const hours = r.footage.seconds / 3600;
      report.add({ name: `${b.name} at its default ${cam.width}×${cam.height} ${cam.frameRate} fps: card bytes an hour of recording (simulated frames of ${Math.round(r.footage.bytes / Math.max(1, r.footage.frames) / 1024)} KiB)`, value: r.storage.usedAtDock / hours, unit: 'bytes/h', baseline: { name: 'media bytes an hour', value: r.footage.bytes / hours } });
      report.add({ name: `${b.name}: hours a 64 GB card holds at that rate`, value: r.storage.bytes / (r.storage.usedAtDock / hours), unit: 'h' });
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
    const perFrame = recordSpan(FRAME_HEADER + 25 * 1024, 512);
    report.add({ name: `${b.name}: reckoned card bytes an hour at ${cam.frameRate} fps with 25 KiB frames (record head ${RECORD_HEAD} B, 512-byte alignment)`, value: perFrame * cam.frameRate * 3600, unit: 'bytes/h', baseline: { name: 'the frames alone', value: 25 * 1024 * cam.frameRate * 3600 } });
    report.add({ name: `${b.name}: a 120 s pre-event buffer at ${cam.frameRate} fps with 25 KiB frames, card bytes`, value: perFrame * cam.frameRate * 120, unit: 'bytes' });
  }
}
