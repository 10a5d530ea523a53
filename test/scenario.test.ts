// The shipped scenarios, run end to end on the node engine — scaled down by their testScale,
// full length with BODYCAM_LONG — each must lose nothing and verify; the same scenario and seed
// give byte-identical evidence on node and xs; the format refuses bad scenarios clearly.

import test from 'ava';
import { peekManifest } from '../firmware/signing/manifest.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseScenario, parseTime, testScaleOf } from '../host-sim/scenario/format.js';
import { runScenario } from '../host-sim/scenario/runner.js';
import { loadScenario } from '../cli/sim.js';
import { run } from '../cli/bodycam.js';
import { repoRoot } from '../host-sim/xs/bundle.js';
import { tempDir } from './helpers/tmp.js';

const long = !!process.env.BODYCAM_LONG;
const tmp = () => tempDir('bodycam-scenario-');

const shipped = readdirSync(join(repoRoot, 'host-sim', 'scenarios')).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -5));

test('the four scenarios of the issue are shipped', (t) => {
  for (const n of ['quiet-12h-shift', 'power-cuts-50', 'storage-full', 'dock-cable-pulled', 'default-shift']) t.true(shipped.includes(n), n);
});

for (const name of shipped) {
  test(`scenario ${name}${long ? '' : ' (scaled down)'}: nothing lost, everything verified`, async (t) => {
    const json = loadScenario(name);
    const sc = parseScenario(json, { scale: long ? 1 : testScaleOf(json) });
    const r = await runScenario(sc, { engine: 'node', seed: 1, out: tmp(), export: name === 'default-shift' });
    t.true(r.ok, JSON.stringify({ lost: r.lost, verify: r.verify, upload: r.upload }));
    t.is(r.lost.frames + r.lost.segments, 0);
    t.true(r.footage.frames > 0);
    t.is(r.upload.segmentsVerified, r.upload.segmentsStored);
    t.true(r.verify.ledger.valid);
    if (name === 'power-cuts-50') {
      t.is(r.powerCuts.happened, 50);
      t.is(r.powerCuts.survived, 50);
      t.is(r.powerCuts.resumedRecording, r.powerCuts.wereRecording);
      t.is(r.verify.ledger.events['power-cut-detected'], 50);
    }
    if (name === 'storage-full') {
      t.is(r.verify.ledger.events['storage-full'], 1);
      t.true(r.states['storage-full'] > 0);
    }
    if (name === 'dock-cable-pulled') {
      t.is(r.upload.failed, 3);
      t.is(r.upload.completed, 1);
    }
    if (name === 'quiet-12h-shift') t.is(r.footage.recordings, 3);
    if (name === 'sd-12h-shift') {
      // Six and a half hours recorded on a 64 GB card (scaled down in npm test), every power cut survived.
      t.is(r.storage.medium, 'sd-card');
      t.is(r.footage.recordings, 5);
      t.is(r.powerCuts.survived, 3);
      t.true(r.footage.seconds >= (long ? 6.5 * 3600 : 0.01 * 6.5 * 3600), `${r.footage.seconds} s recorded`);
      t.true(r.storage.usedAtDock > 0 && r.storage.freeAtDock > 0 && r.storage.usedAtDock + r.storage.freeAtDock === r.storage.bytes);
      t.log(`${(r.footage.seconds / 3600).toFixed(2)} hours recorded; at docking ${(r.storage.usedAtDock / 2 ** 30).toFixed(2)} GiB of the card's ${(r.storage.bytes / 2 ** 30).toFixed(1)} GiB used, ${(r.storage.freeAtDock / 2 ** 30).toFixed(2)} GiB left; ${r.storage.destroyedAtCuts} acknowledged frames went with an internal page at a cut, counted`);
    }
    if (name === 'default-shift') {
      t.is(r.powerCuts.resumedRecording, 1);
      // The frame the cut tore in flight is counted, in the ledger and the recovered manifest.
      t.is(r.powerCuts.torn, 1);
      t.is(r.dropped.atCuts, 1);
      t.true(r.dropped.inEvidence >= r.dropped.atCuts);
      // The reboot stays in the export's timeline as repeats, so the video lasts as the recording did.
      const sidecar = JSON.parse(readFileSync(r.export!.sidecar[0], 'utf8')) as { gaps: { kind: string; filled: number; gapMs: number }[] };
      const reboot = sidecar.gaps.filter((g) => g.kind === 'reboot');
      t.is(reboot.length, 1);
      t.true(Math.abs(reboot[0].gapMs - r.dropped.powerCutGapMs) < 200, `${reboot[0].gapMs} vs ${r.dropped.powerCutGapMs}`);
      t.is(r.export!.frames, r.footage.frames + reboot[0].filled);
      t.is(r.export!.findings.length, 0);
    }
  });
}

test('the same scenario and seed give byte-identical evidence on node and xs', async (t) => {
  const sc = parseScenario(loadScenario('default-shift'), { scale: 0.4 });
  const node = await runScenario(sc, { engine: 'node', seed: 9, out: tmp(), export: false });
  const xs = await runScenario(sc, { engine: 'xs', seed: 9, out: tmp(), export: false });
  t.true(node.ok && xs.ok);
  t.is(node.evidenceSha256, xs.evidenceSha256);
  t.true(xs.xs!.firmwareUnits > 0);
  const files = (dir: string) => readdirSync(join(dir, 'devices', 'CAM-SIM-0001', 'segments')).sort();
  t.deepEqual(files(node.evidence), files(xs.evidence));
  for (const f of files(node.evidence)) t.deepEqual(readFileSync(join(node.evidence, 'devices', 'CAM-SIM-0001', 'segments', f)), readFileSync(join(xs.evidence, 'devices', 'CAM-SIM-0001', 'segments', f)), f);
  // Sealed at capture (the runner installs an evidence key): the same content keys, HPKE wraps and STREAM chunks on both engines.
  const manifests = files(node.evidence).filter((f) => f.endsWith('.manifest.cose'));
  t.true(manifests.length > 0);
  for (const f of manifests) t.truthy(peekManifest(new Uint8Array(readFileSync(join(xs.evidence, 'devices', 'CAM-SIM-0001', 'segments', f)))).manifest.sealed, `${f} is sealed`);
});

test('bodycam sim writes report.json and summary.txt and exits 0', async (t) => {
  const out = tmp();
  const lines: string[] = [];
  t.is(await run(['sim', '--scale', '0.3', '--out', out, '--no-export', '--seed', '2'], (l) => lines.push(l)), 0);
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  t.true(report.ok);
  t.regex(readFileSync(join(out, 'summary.txt'), 'utf8'), /lost: nothing/);
  t.true(lines.some((l) => l.startsWith('OK: scenario default-shift')));
  // --engine mcu: test/mcu-scenario.test.ts.
});

test('the scenario format refuses mistakes with the field and the fix', (t) => {
  const ok = { name: 'x', duration: '1m' };
  t.is(parseScenario(ok).durationMs, 60_000);
  t.is(parseTime('1h30m', 't'), 5_400_000);
  t.is(parseTime(90, 't'), 90_000);
  const bad: [unknown, RegExp][] = [
    [{ ...ok, duration: '1 hour' }, /duration: "1 hour" is not a time/],
    [{ ...ok, colour: 'red' }, /scenario.colour: unknown field/],
    [{ ...ok, camera: { frameRate: 100 } }, /camera.frameRate: must be a whole number from 1 to 30/],
    [{ ...ok, camera: { width: 333 } }, /camera: .*resolution 333x240/],
    [{ ...ok, incidents: [{ at: '2m', length: '1m' }] }, /incidents\[0\].at: is after the end of the shift/],
    [{ ...ok, presses: [{ at: '10s', gesture: 'double' }] }, /presses\[0\].gesture: must be "press"/],
    [{ ...ok, powerCuts: { random: { count: 3, from: '50s', to: '10s' } } }, /powerCuts.random: "to" must be after "from"/],
    [{ ...ok, battery: [{ at: '30s', millivolts: 4000 }, { at: '10s', millivolts: 3900 }] }, /battery\[1\].at: battery points must be in time order/],
    [{ ...ok, link: { faults: [{ unplug: 1 }] } }, /link.faults\[0\].unplug: unknown field/],
    [{ ...ok, name: 'Has Spaces' }, /name: must be lower-case/],
  ];
  for (const [json, re] of bad) t.throws(() => parseScenario(json), { code: 'E_SCENARIO', message: re } as never);
});
