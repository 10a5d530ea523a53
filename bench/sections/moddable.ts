// The real Moddable build and the machine each board declares. Per board: how long mcconfig,
// tsc, xsc and xsl take (the board image, up to ESP-IDF), how many instances xsl preloaded into
// flash; then a scaled shift (the default scenario at 0.05: pre-event, recording, rollover, a
// power cut, docking) on the moddable engine inside the board's own `creation`, with the chunk
// heap and slots the firmware held (live after a collection at the end of each request: the
// loaded firmware, the most at any time, where those bytes were) beside the declared sizes.
// Then the smallest chunk heap (in steps) in which the same shift still completes, which is what
// the declared 1 MiB is headroom over. Wall times are for this machine; heap figures are exact.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenario } from '../../cli/sim.js';
import { isBodycamError } from '../../firmware/errors.js';
import { buildDir } from '../../host-sim/moddable/engine.js';
import { parseScenario } from '../../host-sim/scenario/format.js';
import { runScenario } from '../../host-sim/scenario/runner.js';
import { listBoards } from '../../toolchain/boards.js';
import { buildBoardImage, type Creation } from '../../toolchain/mcconfig.js';
import { ensureSdk } from '../../toolchain/sdk.js';
import type { Report } from '../report.js';

const KiB = 1024;
const shift = () => parseScenario(loadScenario('default-shift'), { scale: 0.05 });

export default async function moddable(report: Report): Promise<void> {
  report.section('moddable: the real build, and each board in its own machine (scaled default shift, seed 1)');
  const sdk = ensureSdk();
  const dir = mkdtempSync(join(tmpdir(), 'bodycam-bench-moddable-'));
  try {
    const out = join(dir, 'build');
    for (const board of listBoards()) {
      const image = buildBoardImage(sdk, board, { out });
      report.note(`${board.name}: ${image.ok ? 'built' : 'FAILED'} to mc.xs.c in ${image.seconds.toFixed(1)} s (${image.summary.replace(/^### /, '') || 'no xsl summary'})`);
      const declared = board.creation;
      const r = await runScenario(shift(), { engine: 'moddable', seed: 1, out: join(dir, board.name), export: false, moddable: { board: board.name } });
      const m = r.moddable!;
      const chunks = { name: `declared chunk heap (${declared.chunk.initial / KiB} KiB)`, value: declared.chunk.initial };
      const slots = { name: `declared slots (${declared.heap.initial})`, value: declared.heap.initial };
      report.add({ name: `${board.name} chunk heap live once loaded`, value: m.loadedChunks, unit: 'bytes', baseline: chunks });
      report.add({ name: `${board.name} chunk heap live at most during the shift`, value: m.liveChunks, unit: 'bytes', baseline: chunks });
      report.add({ name: `${board.name} chunk heap in use at once, garbage included`, value: m.peakChunks, unit: 'bytes', baseline: chunks });
      report.add({ name: `${board.name} slots live once loaded`, value: m.loadedSlots, unit: 'slots', baseline: slots });
      report.add({ name: `${board.name} slots live at most during the shift`, value: m.liveSlots, unit: 'slots', baseline: slots });
      report.add({ name: `${board.name} slots in use at once, garbage included`, value: m.peakSlots, unit: 'slots', baseline: slots });
      const s = m.liveSplit;
      if (s) report.note(`${board.name}: at the most live, the chunks were strings ${s.strings} B, arrays ${s.arrays} B, ArrayBuffer data ${s.buffers} B, other ${s.other} B; the shift ${r.ok ? 'verified' : 'FAILED'}`);
    }
    // The smallest chunk heap that still completes the shift (the board's preload and slots).
    const board = listBoards()[0];
    let smallest: number | undefined;
    for (const kib of [256, 384, 512, 640, 768, 1024]) {
      const creation: Creation = { chunk: { initial: kib * KiB, incremental: 0 }, heap: board.creation.heap, stack: 3072, keys: { initial: 64, incremental: 0 } };
      try {
        const r = await runScenario(shift(), { engine: 'moddable', seed: 1, out: join(dir, `search-${kib}`), export: false, moddable: { board: board.name, creation } });
        if (r.ok) {
          smallest = kib * KiB;
          break;
        }
      } catch (e) {
        if (!isBodycamError(e, 'E_XS_OUT_OF_MEMORY')) throw e;
        report.note(`${kib} KiB chunk heap: E_XS_OUT_OF_MEMORY`);
      }
    }
    if (smallest) report.add({ name: 'smallest chunk heap (in steps) that completes the shift', value: smallest, unit: 'bytes', baseline: { name: 'declared 1 MiB', value: 1024 * KiB } });
    report.note(`measured on a 64-bit host (slots and chunk headers twice the ESP32-S3's); the simulator's bridge holds frames in the JS heap that a camera keeps in PSRAM; engine builds in ${buildDir()}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
