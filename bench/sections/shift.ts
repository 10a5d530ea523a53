// The quiet 12-hour shift on the node and xs engines (issue 18, parts 4 and 5): CPU seconds (this
// process and the XS worker it ran, user + system), wall seconds, and on xs the XS compute units
// with the share spent marshalling across the bridge (a port call is native on a camera).
//
// node runs the whole shift (goal: 2 minutes of CPU or less). xs runs two slices of the same
// scenario (the scenario's own time scale: every time in it shrinks alike) and extrapolates the
// whole shift along the line through them — a slice's fixed part (boot, provisioning, docking
// overheads, verifying) is counted once, not once per slice. `BODYCAM_BENCH_XS_FULL=1` runs the
// whole shift on xs instead (about 15 minutes here), as the long suite does.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadScenario } from '../../cli/sim.js';
import { parseScenario } from '../../host-sim/scenario/format.js';
import { runScenario, type ScenarioReport } from '../../host-sim/scenario/runner.js';
import type { Report } from '../report.js';

const SCENARIO = 'quiet-12h-shift';

/** CPU seconds of this process and of its children that have exited (Linux: /proc/self/stat). */
export function cpuSeconds(): number {
  const own = process.cpuUsage();
  let children = 0;
  try {
    // Fields after the command name: ... utime stime cutime cstime (14th to 17th), in clock ticks.
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    children = (Number(f[13]) + Number(f[14])) / 100;
  } catch {
    // Not Linux: the workers' CPU is not counted (said in the figure's name).
  }
  return (own.user + own.system) / 1e6 + children;
}

interface Run {
  cpu: number;
  wall: number;
  r: ScenarioReport;
}

async function run(engine: 'node' | 'xs', scale: number): Promise<Run> {
  const out = mkdtempSync(join(tmpdir(), 'bodycam-bench-12h-'));
  try {
    const c0 = cpuSeconds();
    const w0 = performance.now();
    const r = await runScenario(parseScenario(loadScenario(SCENARIO), { scale }), { engine, seed: 1, out, export: false });
    if (!r.ok) throw new Error(`the ${engine} shift at scale ${scale} lost evidence: ${JSON.stringify(r.lost)}`);
    return { cpu: cpuSeconds() - c0, wall: (performance.now() - w0) / 1000, r };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** The whole shift (scale 1) on the line through two slices. */
function extrapolate(a: number, fa: number, b: number, fb: number): number {
  return fa + ((fb - fa) * (1 - a)) / (b - a);
}

export default async function shift(report: Report): Promise<void> {
  report.section('shift: the quiet 12-hour shift on node and xs (CPU seconds, XS units, bridge share)');

  const node = await run('node', 1);
  report.add({ name: `node: the whole 12-hour shift, CPU seconds (this process; ${node.wall.toFixed(0)} s wall)`, value: node.cpu, unit: 's', baseline: { name: 'the goal, 2 minutes', value: 120 } });

  let xsCpu: number;
  let xsWall: number;
  let compute: number;
  let bridge: number;
  let how: string;
  if (process.env.BODYCAM_BENCH_XS_FULL) {
    const x = await run('xs', 1);
    ({ cpu: xsCpu, wall: xsWall } = x);
    compute = x.r.xs!.computeUnits;
    bridge = x.r.xs!.bridgeUnits;
    how = 'the whole shift';
  } else {
    const [a, b] = [0.02, 0.05];
    const sa = await run('xs', a);
    const sb = await run('xs', b);
    xsCpu = extrapolate(a, sa.cpu, b, sb.cpu);
    xsWall = extrapolate(a, sa.wall, b, sb.wall);
    compute = extrapolate(a, sa.r.xs!.computeUnits, b, sb.r.xs!.computeUnits);
    bridge = extrapolate(a, sa.r.xs!.bridgeUnits, b, sb.r.xs!.bridgeUnits);
    how = `extrapolated from ${a * 100} % and ${b * 100} % slices (${sa.cpu.toFixed(1)} and ${sb.cpu.toFixed(1)} CPU s)`;
  }
  report.add({ name: `xs: the 12-hour shift, CPU seconds (this process and the XS worker), ${how}`, value: xsCpu, unit: 's', baseline: { name: 'node', value: node.cpu } });
  report.add({ name: 'xs: the 12-hour shift, wall seconds', value: xsWall, unit: 's', baseline: { name: 'an hour', value: 3600 } });
  report.add({ name: 'xs: the 12-hour shift, XS compute units', value: compute, unit: 'compute units' });
  report.add({ name: 'xs:   of which marshalling across the bridge', value: bridge, unit: 'compute units', baseline: { name: 'all units', value: compute } });
  report.note(`bridge share ${((100 * bridge) / compute).toFixed(1)} % (before issue 18: 87.6 %); firmware ${((compute - bridge) / 1e9).toFixed(2)} G units`);
}
