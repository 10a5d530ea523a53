// The quiet 12-hour shift in the real XS engine (issue 18): what the bridge now does to save round
// trips (posted calls, lent frames, the clock and CRCs answered in the guest, empty reads) must
// leave the evidence byte for byte what the node engine makes. A 2 % slice in `npm test`; the
// whole shift with BODYCAM_LONG (about 15 minutes here), which must also lose nothing and verify.

import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenario } from '../cli/sim.js';
import { parseScenario } from '../host-sim/scenario/format.js';
import { runScenario } from '../host-sim/scenario/runner.js';

const long = !!process.env.BODYCAM_LONG;
const scale = long ? 1 : 0.02;

test(`quiet-12h-shift${long ? '' : ' (2 % slice)'} on xs: byte-identical to node, nothing lost, verified`, async (t) => {
  const sc = parseScenario(loadScenario('quiet-12h-shift'), { scale });
  const dirs = [mkdtempSync(join(tmpdir(), 'bodycam-xs-shift-')), mkdtempSync(join(tmpdir(), 'bodycam-xs-shift-'))];
  t.teardown(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const node = await runScenario(sc, { engine: 'node', seed: 4, out: dirs[0], export: false });
  const w0 = Date.now();
  const xs = await runScenario(sc, { engine: 'xs', seed: 4, out: dirs[1], export: false });
  t.log(`xs: ${xs.virtualSeconds} virtual s in ${((Date.now() - w0) / 1000).toFixed(0)} s wall; ${xs.footage.frames} frames in evidence`);
  t.true(xs.ok, JSON.stringify({ lost: xs.lost, findings: xs.verify.findings }));
  t.is(xs.lost.frames + xs.lost.segments, 0);
  t.is(xs.footage.recordings, 3);
  t.is(xs.evidenceSha256, node.evidenceSha256);
  // The bridge's share of the XS units: what the firmware cost is the rest.
  const x = xs.xs!;
  t.true(x.computeUnits > x.bridgeUnits && x.bridgeUnits > 0);
  t.true(x.firmwareUnits > 0 && x.firmwareUnits <= x.computeUnits - x.bridgeUnits);
});
