// The littlefs-style linear power-cut sweep: run the scripted workload (segments across block
// and extent boundaries, a pre-event ring promoted, a release, a segment left open, a reboot
// that recovers it and a trailer attached to it), cut the power at every single flash
// operation, remount, and check every sealed segment bit-exact, the open one short of at most
// the frame in flight, an attached trailer whole or absent, released segments still released,
// that what came back recovered takes its trailer, and a store that takes new evidence afterwards. On Node every cut point; in XS every 3rd (all of
// them with BODYCAM_LONG). A failure prints the seed and the operation index; replay one with
// BODYCAM_STORAGE_SEED=s BODYCAM_STORAGE_CUT=n.

import { bothEngines } from './helpers/engines.js';
import { FlashSlot, SimFlash } from '../host-sim/flash/sim-flash.js';
import type { SimHardware } from '../host-sim/node/hardware.js';
import type { WorkloadProgress } from '../host-sim/guest/storage.js';
import { asSummary, checkAfterCut, checkAttach, checkWritable, plain } from './helpers/storage-check.js';

const SEED0 = Number(process.env.BODYCAM_STORAGE_SEED ?? 1);
const LONG_SEEDS = [1, 2, 3, 4, 5];
const ONLY = process.env.BODYCAM_STORAGE_CUT ? Number(process.env.BODYCAM_STORAGE_CUT) : undefined;
const LONG = !!process.env.BODYCAM_LONG;
// With BODYCAM_LONG: five workloads (seeds change frame sizes and how pages tear), every point on both engines.
const SEEDS = process.env.BODYCAM_STORAGE_SEED || !LONG ? [SEED0] : LONG_SEEDS;

// Small on purpose: 1 KiB blocks, 128-byte pages, 4-block extents, 4-byte write alignment.
const DEVICE = { blockLength: 1024, blocks: 96, writeAlign: 4, pageLength: 128, tear: 'page' as const };
const FORMAT = { pageLength: 128, extentBlocks: 4, slotBlocks: 2 }; // two compactions in the workload

const slots = new WeakMap<SimHardware, FlashSlot>();
const setup = (hw: SimHardware) => {
  const slot = new FlashSlot(new SimFlash(DEVICE));
  slots.set(hw, slot);
  hw.devices.Flash = slot.portClass();
};

for (const tear of ['page', 'range'] as const) {
  bothEngines(`storage: power cut at every flash operation of the workload (${tear} tear), remount, check`, async (t, { engine, hw }) => {
    const slot = slots.get(hw)!;
    for (const SEED of SEEDS) {
      slot.device = new SimFlash({ ...DEVICE, tear });
      await engine.call('storage.format', FORMAT);
      const image = slot.device.clone();
      // A clean run: how many flash operations the workload takes.
      slot.device = image.clone();
      await engine.call('storage.mount');
      const ops0 = slot.device.counters.operations;
      await engine.call('storage.workload', SEED);
      const total = slot.device.counters.operations - ops0;
      t.true(total > 100, `the workload should take many flash operations (${total})`);
      const stride = engine.name === 'xs' && !LONG ? 3 : 1;
      const points: number[] = [];
      if (ONLY !== undefined) points.push(ONLY);
      else for (let n = 1; n <= total; n += stride) points.push(n);
      let checked = 0;
      for (const n of points) {
        const where = `seed ${SEED} cut at operation ${n} of ${total} (${engine.name}, ${tear} tear); replay: BODYCAM_STORAGE_SEED=${SEED} BODYCAM_STORAGE_CUT=${n}`;
        slot.device = image.clone(`${SEED}:${n}`);
        await engine.call('storage.mount');
        slot.device.cutAfter(n);
        const err = await engine.call('storage.workload', SEED).then(() => undefined, (e: Error & { code?: string }) => e);
        if (!err || err.code !== 'E_POWER_CUT') {
          t.fail(`${where}: expected a power cut, got ${err ? err.message : 'none'}`);
          return;
        }
        const progress = plain<WorkloadProgress>((await engine.call('storage.workload.progress')).value);
        slot.device.reboot();
        let problems: string[];
        try {
          const summary = asSummary((await engine.call('storage.mount')).value);
          problems = await checkAfterCut(engine, SEED, summary, progress);
          // Writing after recovery (a trailer attached to what came back recovered, then a new
          // segment): every point on Node, every 4th in XS.
          if (problems.length === 0 && (engine.name === 'node' || checked % 4 === 0)) {
            const attached = await checkAttach(engine, SEED, summary, progress);
            problems = attached.problems;
            if (problems.length === 0) problems = await checkWritable(t, engine, SEED, attached.summary);
          }
        } catch (e) {
          problems = [`mount or read failed: ${(e as Error).message}`];
        }
        if (problems.length) {
          t.fail(`${where}:\n  ${problems.join('\n  ')}`);
          return;
        }
        checked++;
      }
      t.log(`seed ${SEED}: ${checked} cut points of ${total} flash operations checked`);
      t.is(checked, points.length);
    }
  }, { setup });
}
