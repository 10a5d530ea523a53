// `bodycam sim --engine mcu`: a very short shift (12 s of virtual time, one incident, one
// docking) with the firmware in XS on the emulated Cortex-M7, its heap held to 512 KiB above
// what the loaded firmware holds. Nothing may be lost, the evidence must verify and be byte for
// byte what the node engine produces, and the report gives instructions and the device's heap
// instead of XS compute units. About 15 s of wall time.
//
// Needs Debian's gcc-arm-none-eabi, libnewlib-arm-none-eabi and qemu-system-arm (.ci/run
// installs them). BODYCAM_MCU=skip skips this file on a machine without them.

import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseScenario } from '../host-sim/scenario/format.js';
import { runScenario, type ScenarioReport } from '../host-sim/scenario/runner.js';
import { parseHeapCeiling } from '../cli/sim.js';
import { run } from '../cli/bodycam.js';
import { tempDir } from './helpers/tmp.js';

const mcuTest = process.env.BODYCAM_MCU === 'skip' ? test.skip : test;
const tmp = () => tempDir('bodycam-mcu-sim-');
const KiB = 1024;

const SHORT = {
  name: 'mcu-short',
  description: 'A few seconds on the emulated MCU: pre-event buffering, one incident across two segments, docking.',
  duration: '12s',
  camera: { width: 320, height: 240, frameRate: 5, segmentSeconds: 5, preEventSeconds: 2 },
  storage: { mib: 4 },
  incidents: [{ at: '3s', length: '6s' }],
  dock: { at: 'end' },
};

mcuTest('bodycam sim --engine mcu: a short shift loses nothing, verifies, matches node, and reports instructions and heap', async (t) => {
  const dir = tmp();
  const file = join(dir, 'mcu-short.json');
  writeFileSync(file, JSON.stringify(SHORT));
  const out = join(dir, 'out');
  const lines: string[] = [];
  const code = await run(['sim', '--scenario', file, '--engine', 'mcu', '--heap-ceiling', '+512KiB', '--seed', '3', '--out', out, '--no-export'], (l) => lines.push(l));
  const r = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as ScenarioReport;
  t.is(code, 0, lines.join('\n'));
  t.true(r.ok, JSON.stringify({ lost: r.lost, verify: r.verify, upload: r.upload }));
  t.is(r.engine, 'mcu');
  t.is(r.lost.frames + r.lost.segments, 0);
  t.is(r.footage.recordings, 1);
  t.true(r.footage.segments >= 2 && r.footage.preEventSegments === 1, JSON.stringify(r.footage));
  t.is(r.upload.completed, 1);
  t.is(r.upload.segmentsVerified, r.upload.segmentsStored);
  t.is(r.upload.notUploaded, 0);
  t.true(r.verify.valid && r.verify.ledger.valid);

  // Instructions and heap instead of XS compute units.
  t.is(r.xs, undefined);
  const m = r.mcu!;
  t.is(m.boots, 1);
  t.true(m.firmwareInstructions > 0 && m.instructions > m.firmwareInstructions, JSON.stringify(m));
  t.is(m.heapCeiling, m.heapLoaded + 512 * KiB);
  t.true(m.heapPeak > m.heapLoaded && m.heapPeak <= m.heapCeiling, JSON.stringify(m));
  t.is(m.runtimeHeapPeak, m.heapPeak - m.heapLoaded);
  t.true(m.bytecode > 0 && m.bytecode < m.heapLoaded);
  const summary = readFileSync(join(out, 'summary.txt'), 'utf8');
  t.regex(summary, /^OK: scenario mcu-short on mcu/);
  t.regex(summary, /firmware cost \(Cortex-M7\): [\d,]+ instructions/);
  t.regex(summary, /device heap: peak [\d,]+ KiB of a [\d,]+ KiB ceiling/);
  t.regex(summary, /lost: nothing/);

  // The same shift and seed on node: the very same evidence.
  const node = await runScenario(parseScenario(SHORT), { engine: 'node', seed: 3, out: join(dir, 'node'), export: false });
  t.true(node.ok);
  t.is(r.evidenceSha256, node.evidenceSha256);
});

test('--heap-ceiling: sizes in bytes, KiB or MiB, + for above the loaded firmware; only with --engine mcu', async (t) => {
  t.is(parseHeapCeiling('4MiB'), 4 * 1024 * KiB);
  t.is(parseHeapCeiling('3000KiB'), 3000 * KiB);
  t.is(parseHeapCeiling('1500000'), 1_500_000);
  t.deepEqual(parseHeapCeiling('+512KiB'), { aboveLoaded: 512 * KiB });
  for (const bad of ['', '512kb', '-1MiB', '0', '+', 'MiB']) t.throws(() => parseHeapCeiling(bad), { message: /E_USAGE|--heap-ceiling/ }, bad);
  t.is(await run(['sim', '--heap-ceiling', '4MiB', '--out', tmp()], () => {}), 2);
  t.is(await run(['sim', '--engine', 'qemu', '--out', tmp()], () => {}), 2);
});
