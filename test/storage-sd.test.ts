// The segment store on an SD card: the simulated card behaves as cards do (512-byte sectors, no
// erase, a write torn at a sector, a cut that destroys the whole internal page around it), and
// the linear power-cut sweep runs on it: a cut at every card operation of the scripted
// workload, remount, check. Sealed segments come back bit-exact at every point; the open one
// keeps every acknowledged frame outside the loss unit the cut hit. On Node every point; in XS
// every 4th (all with BODYCAM_LONG, and more seeds). Replay one failure with
// BODYCAM_STORAGE_SEED=s BODYCAM_STORAGE_CUT=n (the title says which card).

import test from 'ava';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bothEngines } from './helpers/engines.js';
import { cardAfterCut, SdSlot, SimSd } from '../host-sim/flash/sim-sd.js';
import { startEngine } from '../host-sim/engine.js';
import { SimHardware } from '../host-sim/node/hardware.js';
import { nodeChecksum } from '../host-sim/node/hardware.js';
import type { WorkloadProgress } from '../host-sim/guest/storage.js';
import { SegmentStore } from '../firmware/storage/index.js';
import { listBoards } from '../toolchain/boards.js';
import { asSummary, checkAfterCut, checkAttach, checkWritable, plain } from './helpers/storage-check.js';

const KiB = 1024;
const LONG = !!process.env.BODYCAM_LONG;
const SEED0 = Number(process.env.BODYCAM_STORAGE_SEED ?? 1);
const ONLY = process.env.BODYCAM_STORAGE_CUT ? Number(process.env.BODYCAM_STORAGE_CUT) : undefined;
const SEEDS = process.env.BODYCAM_STORAGE_SEED || !LONG ? [SEED0] : [1, 2, 3, 4, 5];

// ---------------------------------------------------------------- the card model

test('sd model: 512-byte sectors, no erase (a write replaces), blank reads 0x00', (t) => {
  const sd = new SimSd({ bytes: 256 * KiB, blockLength: 64 * KiB, internalPage: 16 * KiB, lossUnit: 64 * KiB });
  t.deepEqual(sd.status(), { size: 256 * KiB, blockLength: 64 * KiB, blocks: 4, writeAlign: 512, eraseValue: 0xff, lossUnit: 64 * KiB });
  t.true(new Uint8Array(sd.read(512, 1024)).every((b) => b === 0));
  sd.write(new Uint8Array(512).fill(0x0f), 1024);
  sd.write(new Uint8Array(512).fill(0xf0), 1024);
  t.true(new Uint8Array(sd.read(512, 1024)).every((b) => b === 0xf0), 'a write replaces bytes (NOR would AND them to 0x00)');
  t.is((t.throws(() => sd.write(new Uint8Array(256), 0)) as Error & { code?: string }).code, 'E_FLASH_ALIGN', 'whole sectors only');
  sd.eraseBlock(0);
  t.true(sd.peek(0, 64 * KiB).every((b) => b === 0xff), 'an erase is 0xFF written');
  t.is(sd.residentPages, 0, 'an erased block costs no memory');
});

test('sd model: a cut tears the write at a sector and can destroy the whole internal page around it', (t) => {
  let torn = 0;
  let lost = 0;
  for (let seed = 1; seed <= 40; seed++) {
    const sd = new SimSd({ bytes: 256 * KiB, internalPage: 16 * KiB, lossUnit: 64 * KiB, seed });
    const before = new Uint8Array(16 * KiB).fill(0x11);
    sd.write(before, 32 * KiB); // earlier data in the same internal page as the next write
    sd.cutAfter(1);
    const data = new Uint8Array(8 * KiB).fill(0x22);
    const e = t.throws(() => sd.write(data, 40 * KiB)) as Error & { code?: string };
    t.is(e.code, 'E_POWER_CUT');
    t.is((t.throws(() => sd.read(512, 0)) as Error & { code?: string }).code, 'E_POWER_CUT', 'no power until reboot');
    sd.reboot();
    const cut = sd.lastCut!;
    const after = sd.peek(32 * KiB, 16 * KiB);
    if (cut.lost) {
      lost++;
      t.deepEqual(cut.lost, [32 * KiB, 48 * KiB], 'the aligned internal page around the torn sector');
      t.false(after.subarray(0, 8 * KiB).every((b) => b === 0x11), 'bytes written before, in the same page, are garbage');
    } else {
      torn++;
      t.true(after.subarray(0, 8 * KiB).every((b) => b === 0x11), 'earlier data kept');
      // The new write: whole sectors, a prefix of them.
      const got = after.subarray(8 * KiB);
      let written = 0;
      while (written < got.length && got[written] === 0x22) written++;
      t.is(written % 512, 0, 'torn at a sector boundary');
      t.true(got.subarray(written).every((b) => b === 0x11));
    }
    t.true(sd.peek(0, 32 * KiB).every((b) => b === 0) && sd.peek(48 * KiB, 16 * KiB).every((b) => b === 0), 'nothing outside the internal page changed');
  }
  t.true(torn > 5 && lost > 5, `both outcomes happen (${torn} torn only, ${lost} page lost)`);
});

test('sd model: a 64 GB card is sparse (memory for what is written only)', (t) => {
  const sd = new SimSd({ bytes: 64 * 1024 * 1024 * 1024, seed: 1 });
  t.is(sd.status().blocks, 1024 * 1024);
  const store = SegmentStore.format({ flash: new (sd.portClass())({ path: 'sd' }), checksum: nodeChecksum });
  const w = store.openSegment(new Uint8Array([1]));
  for (let i = 0; i < 10; i++) w.append(new Uint8Array(8).fill(i), new Uint8Array(20000).fill(i));
  w.seal(new Uint8Array([9, 9]));
  t.true(sd.residentPages < 64, `${sd.residentPages} internal pages of 32 KiB hold bytes`);
  const again = SegmentStore.mount({ flash: new (sd.portClass())({ path: 'sd' }), checksum: nodeChecksum });
  t.is(again.segments()[0].records, 10);
  t.is(again.geometry.lossUnit, 64 * KiB);
  t.is(again.usage().total, (1024 * 1024 - 2 * again.geometry.slotBlocks - 2) * 64 * KiB, "all but the two metadata slots and the two blocks of the progress journal");
});

test('sd model: a file-backed card behaves as one in memory, and close() removes its file', (t) => {
  const file = join(tmpdir(), `bodycam-sd-test-${process.pid}.img`);
  const cards = [new SimSd({ bytes: 512 * KiB, internalPage: 16 * KiB, lossUnit: 64 * KiB, seed: 3 }), new SimSd({ bytes: 512 * KiB, internalPage: 16 * KiB, lossUnit: 64 * KiB, seed: 3, file })];
  for (const sd of cards) {
    sd.write(new Uint8Array(1536).fill(5), 1024);
    sd.eraseBlock(1);
    sd.write(new Uint8Array(512).fill(6), 64 * KiB + 512);
    sd.cutAfter(1);
    t.throws(() => sd.write(new Uint8Array(8 * KiB).fill(7), 128 * KiB + 4096));
    sd.reboot();
  }
  t.deepEqual(cards[1].peek(0, 512 * KiB), cards[0].peek(0, 512 * KiB));
  t.true(existsSync(file));
  cards[1].close();
  t.false(existsSync(file));
});

test('sd: a blank card (all zeros) is unformatted; the store refuses a block that is not whole loss units', (t) => {
  const sd = new SimSd({ bytes: 16 * 1024 * KiB });
  const port = () => new (sd.portClass())({ path: 'sd' });
  t.is((t.throws(() => SegmentStore.mount({ flash: port(), checksum: nodeChecksum })) as Error & { code?: string }).code, 'E_STORE_UNFORMATTED');
  const s = SegmentStore.format({ flash: port(), checksum: nodeChecksum });
  t.is(s.geometry.pageLength, 512);
  t.is(s.geometry.extentBlocks, 16, '1 MiB extents on a card');
  const odd = { read: () => new ArrayBuffer(16), write() {}, eraseBlock() {}, close() {}, status: () => ({ size: 64 * 4096, blockLength: 4096, blocks: 64, writeAlign: 512, eraseValue: 0xff, lossUnit: 16 * KiB }) };
  t.is((t.throws(() => SegmentStore.format({ flash: odd, checksum: nodeChecksum })) as Error & { code?: string }).code, 'E_STORE_GEOMETRY');
});

// ---------------------------------------------------------------- the power-cut sweep on cards

// Two cards: internal pages of 16 KiB and of 64 KiB, every cut losing its page (the worst case).
const CARDS = [
  { name: '16 KiB internal pages', card: { bytes: 160 * 16 * KiB, blockLength: 16 * KiB, internalPage: 16 * KiB, lossUnit: 16 * KiB, pageLoss: 1 } },
  { name: '64 KiB internal pages, half the cuts lose theirs', card: { bytes: 64 * 64 * KiB, blockLength: 64 * KiB, internalPage: 64 * KiB, lossUnit: 64 * KiB, pageLoss: 0.5 } },
];
// Small extents and slots, so records cross extents and the workload compacts the metadata.
const FORMAT = { pageLength: 512, extentBlocks: 2, slotBlocks: 4 };

for (const { name, card } of CARDS) {
  const slots = new WeakMap<SimHardware, SdSlot>();
  const setup = (hw: SimHardware) => {
    const slot = new SdSlot(new SimSd(card));
    slots.set(hw, slot);
    hw.devices.Flash = slot.portClass();
  };
  bothEngines(`storage on an SD card (${name}): power cut at every card operation of the workload, remount, check`, async (t, { engine, hw }) => {
    const slot = slots.get(hw)!;
    const lossy = { lossUnit: card.lossUnit, pageLength: FORMAT.pageLength };
    for (const SEED of SEEDS) {
      slot.device = new SimSd({ ...card, seed: SEED });
      await engine.call('storage.format', FORMAT);
      const image = slot.device.clone();
      slot.device = image.clone();
      await engine.call('storage.mount');
      const ops0 = slot.device.counters.operations;
      await engine.call('storage.workload', SEED);
      const total = slot.device.counters.operations - ops0;
      t.true(total > 60, `the workload should take many card operations (${total})`);
      const stride = engine.name === 'xs' && !LONG ? 4 : 1;
      const points: number[] = [];
      if (ONLY !== undefined) points.push(ONLY);
      else for (let n = 1; n <= total; n += stride) points.push(n);
      let checked = 0;
      let pagesLost = 0;
      for (const n of points) {
        const where = `seed ${SEED} cut at operation ${n} of ${total} (${engine.name}, ${name}); replay: BODYCAM_STORAGE_SEED=${SEED} BODYCAM_STORAGE_CUT=${n}`;
        slot.device = image.clone(`${SEED}:${n}`);
        await engine.call('storage.mount');
        slot.device.cutAfter(n);
        const err = await engine.call('storage.workload', SEED).then(() => undefined, (e: Error & { code?: string }) => e);
        if (!err || err.code !== 'E_POWER_CUT') {
          t.fail(`${where}: expected a power cut, got ${err ? err.message : 'none'}`);
          return;
        }
        if (slot.device.lastCut?.lost) pagesLost++;
        const progress = plain<WorkloadProgress>((await engine.call('storage.workload.progress')).value);
        slot.device.reboot();
        let problems: string[];
        try {
          const summary = asSummary((await engine.call('storage.mount')).value);
          problems = await checkAfterCut(engine, SEED, summary, progress, lossy);
          if (problems.length === 0 && (engine.name === 'node' || checked % 4 === 0)) {
            const attached = await checkAttach(engine, SEED, summary, progress);
            problems = attached.problems;
            if (problems.length === 0) problems = await checkWritable(t, engine, SEED, attached.summary);
          }
        } catch (e) {
          problems = [`mount or read failed: ${(e as Error).message}`];
        }
        if (problems.length) {
          t.fail(`${where}:\n  ${problems.join('\n  ')}${slot.device.lastCut?.lost ? `\n  (the cut destroyed the internal page at ${slot.device.lastCut.lost[0]})` : ''}`);
          return;
        }
        checked++;
      }
      t.log(`seed ${SEED}: ${checked} cut points of ${total} card operations checked, ${pagesLost} of them destroyed an internal page; 0 sealed segments lost`);
      t.is(checked, points.length);
      if (ONLY === undefined) t.true(pagesLost > 0);
    }
  }, { setup });
}

// ---------------------------------------------------------------- mount cost and RAM vs card size

test('[xs] a 64 GB card mounts after a cut in the same XS units and the same heap as a 16 MiB one', async (t) => {
  const GiB = 1024 * 1024 * 1024;
  const workload = { sealed: 3, frames: 30, open: 20, frameBytes: 25 * KiB, maxSegments: 64 };
  const figures: { units: number; allocate: number; slots: number; records: number; bytesRead: number }[] = [];
  for (const bytes of [16 * 1024 * KiB, 64 * GiB]) {
    const card = cardAfterCut(bytes, workload);
    const hw = new SimHardware();
    hw.devices.Flash = card.portClass();
    const engine = await startEngine('xs', hw.platform());
    try {
      const r0 = card.counters.bytesRead;
      const r = await engine.call('storage.mount');
      const summary = asSummary(r.value);
      t.deepEqual(summary.segments.map((s) => s.state), ['sealed', 'sealed', 'sealed', 'recovered']);
      figures.push({ units: r.meter!.firmware, allocate: r.meter!.allocate, slots: r.meter!.currentHeapCount, records: summary.segments[3].records, bytesRead: card.counters.bytesRead - r0 });
    } finally {
      await engine.close();
    }
  }
  const [small, big] = figures;
  t.log(`mount after a cut: 16 MiB ${small.units} XS units, ${small.bytesRead} bytes read; 64 GB ${big.units} units, ${big.bytesRead} bytes read; heap ${small.allocate} / ${big.allocate} bytes, ${small.slots} / ${big.slots} slots`);
  t.is(big.records, small.records, 'the same frames recovered');
  // Only the geometry's block count differs: a 3-byte and a 5-byte CBOR integer in the HEAD, read twice.
  t.true(big.bytesRead - small.bytesRead <= 4, `${big.bytesRead} vs ${small.bytesRead} bytes read from the card`);
  t.true(Math.abs(big.units - small.units) <= small.units * 0.001, `${big.units} vs ${small.units} XS units`);
  t.is(big.allocate, small.allocate, 'the same heap');
  t.true(Math.abs(big.slots - small.slots) <= 2, `${big.slots} vs ${small.slots} slots in use`);
});

// ---------------------------------------------------------------- pre-event capacity at the default rate

test('sd: the pre-event buffer keeps 120 s at each SD board\'s default frame rate, promoted without a gap', (t) => {
  for (const b of listBoards().filter((x) => x.config.storage.kind === 'sd')) {
    const rate = b.config.camera.frameRate; // the rate the board records at by default
    const card = new SimSd({ bytes: 1024 * 1024 * KiB, seed: 2 });
    const store = SegmentStore.format({ flash: new (card.portClass())({ path: 'sd' }), checksum: nodeChecksum });
    const ring = store.openPreEvent({ seconds: 120, ringRecords: 120 * rate + 64 });
    const step = 1000 / rate;
    const total = 150 * rate; // two and a half minutes of standby
    for (let i = 0; i < total; i++) ring.append(new Uint8Array(48).fill(i & 255), new Uint8Array(25 * KiB).fill(i & 255), i * step);
    const w = ring.promote(new Uint8Array([1]), total * step);
    t.is(w.records, 120 * rate, `${b.name}: ${w.records} frames kept at ${rate} fps`);
    w.seal(new Uint8Array([2]));
    const recs = [...store.records(w.id)];
    // The first kept frame is the one 120 s before the press; none is missing after it.
    t.is(recs[0].header[0], (total - 120 * rate) & 255);
    t.true(recs.every((r, k) => r.header[0] === ((total - 120 * rate + k) & 255)));
  }
});
