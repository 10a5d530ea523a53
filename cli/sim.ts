// `bodycam sim`: simulate a shift (host-sim/scenarios/*.json, format in host-sim/scenario/format.ts)
// with the real firmware on the node, xs or mcu engine, dock it at a real dock station on loopback
// TCP, verify what the dock stored, and report: DIR/report.json, DIR/summary.txt, the evidence
// in DIR/evidence and a playable DIR/export.avi. Exit 0 only if nothing was lost and every
// segment and the ledger verified.

import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { BodycamError } from '../firmware/errors.js';
import { repoRoot } from '../host-sim/xs/bundle.js';
import { parseScenario } from '../host-sim/scenario/format.js';
import { practiceShift, runScenario, type PracticeReport, type Progress, type ScenarioReport } from '../host-sim/scenario/runner.js';
import type { EngineName } from '../host-sim/engine.js';
import type { HeapCeiling } from '../host-sim/mcu/engine.js';
import { mcuElfPath } from '../host-sim/mcu/device.js';
import { parseArgs, stringOption } from './args.js';

export const DEFAULT_SCENARIO = 'default-shift';

const HELP = [
  'usage: bodycam sim [--scenario FILE|NAME] [--engine node|xs|mcu|moddable] [--board NAME] [--heap-ceiling SIZE] [--seed N] [--out DIR] [--scale F] [--no-export] [--json]',
  '       bodycam sim --dock HOST:PORT --camera DIR [--scenario ...] [--out DIR]   (practice docking)',
  '       bodycam sim --list   (the scenarios that come with bodycam)',
  '',
  'Simulates a shift with the camera firmware on virtual time (button presses, power cuts,',
  'battery, sensor and link faults from the scenario), docks it at a dock station on loopback',
  'TCP, verifies the evidence and reports what was recorded, dropped, uploaded and lost.',
  '  --scenario   a scenario file, or the name of one in host-sim/scenarios/ (default default-shift;',
  '               bodycam sim --list names them)',
  '  --engine     node (default), xs (the real XS engine; reports firmware compute units), mcu or',
  '               moddable (the firmware as the real mcconfig builds and preloads it, in a board\'s',
  '               own machine: fixed chunk and slot heaps; reports their use; first build ~1 minute)',
  '  --board      moddable: whose preload and creation (default xiao_esp32s3_sense)',
  '               (XS on a Cortex-M7 under QEMU; reports instructions and the device\'s peak heap;',
  '               slow: the default 5-minute shift takes about 6 minutes, so scale long shifts down)',
  '  --heap-ceiling  mcu: the device heap\'s ceiling, e.g. 4MiB (default) or 3000KiB; +SIZE is a',
  '               ceiling above what the loaded firmware holds (the run-time heap, e.g. +512KiB)',
  '  --seed       seed for the simulated hardware and random power cuts (default 1)',
  '  --out        output directory (default sim-out): report.json, summary.txt, evidence/, export.avi;',
  '               a new or empty folder, or one an earlier run made (any other is refused: E_OUT_EXISTS)',
  '  --scale      run every time of the shift scaled by F (0 < F <= 1), e.g. 0.05 for a quick run',
  '  --dock HOST:PORT --camera DIR   practice docking: the camera `bodycam provision camera --sim DIR`',
  '               made records the shift and docks at the running `bodycam dock` at HOST:PORT (over TCP);',
  '               the dock stores and verifies its evidence; report.json and summary.txt say what the camera did',
  'Exit status 0 means nothing was lost and everything verified; 1 that something was lost or did not verify.',
];

/** "4MiB", "512KiB", "1500000" (bytes); a leading + means above the loaded firmware. */
export function parseHeapCeiling(v: string): HeapCeiling {
  const m = /^(\+?)(\d+(?:\.\d+)?)(KiB|MiB|)$/.exec(v);
  const bytes = m ? Math.floor(Number(m[2]) * (m[3] === 'MiB' ? 1048576 : m[3] === 'KiB' ? 1024 : 1)) : 0;
  if (!m || bytes < 1) throw new BodycamError('E_USAGE', `--heap-ceiling must be a size like 4MiB, 3000KiB or +512KiB, not ${v}`);
  return m[1] ? { aboveLoaded: bytes } : bytes;
}

export function scenarioPath(v: string): string {
  if (v.endsWith('.json') || v.includes('/')) return resolve(v);
  return join(repoRoot, 'host-sim', 'scenarios', `${v}.json`);
}

/** The scenarios that come with bodycam (host-sim/scenarios/), by name. */
export function scenarioNames(): string[] {
  return readdirSync(join(repoRoot, 'host-sim', 'scenarios'))
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

export function loadScenario(v: string): unknown {
  const path = scenarioPath(v);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    const named = !(v.endsWith('.json') || v.includes('/'));
    throw new BodycamError('E_USAGE', named ? `no scenario named "${v}"; the scenarios are: ${scenarioNames().join(', ')} (or give a scenario file)` : `no scenario at ${path}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new BodycamError('E_SCENARIO', `${path} is not JSON: ${(e as Error).message}`);
  }
}

function bar(p: Progress): string {
  const f = p.durationMs ? Math.min(1, p.elapsedMs / p.durationMs) : 1;
  const w = 30;
  const full = Math.round(f * w);
  const t = (ms: number) => `${Math.floor(ms / 3_600_000)}:${String(Math.floor(ms / 60_000) % 60).padStart(2, '0')}:${String(Math.floor(ms / 1000) % 60).padStart(2, '0')}`;
  return `[${'#'.repeat(full)}${'.'.repeat(w - full)}] ${t(p.elapsedMs)} / ${t(p.durationMs)}  ${p.phase.padEnd(9)} ${p.state} (boot ${p.boot})`;
}

/** Off a terminal (CI, a log file), a progress line at most every this often, and at least this often while the shift runs. */
export const LOG_PROGRESS_EVERY_MS = 10_000;

/**
 * Where a run's progress goes: on a terminal one bar redrawn in place; off one (a CI log) a line
 * per phase and, while the shift runs, one every `everyMs` — so a long run (the mcu engine takes
 * minutes) is never silent, and a log is not flooded.
 */
export function progressPrinter(o: { tty: boolean; write: (s: string) => void; now?: () => number; everyMs?: number }): (p: Progress) => void {
  const now = o.now ?? Date.now;
  const every = o.everyMs ?? LOG_PROGRESS_EVERY_MS;
  let lastLine = '';
  let lastPhase = '';
  let lastAt = -Infinity;
  return (pr) => {
    const line = bar(pr);
    if (o.tty) o.write(`\r${line.padEnd(lastLine.length)}${pr.phase === 'done' ? '\n' : ''}`);
    else if (pr.phase !== lastPhase || (pr.phase === 'shift' && now() - lastAt >= every)) {
      o.write(`${line}\n`);
      lastAt = now();
    }
    lastLine = line;
    lastPhase = pr.phase;
  };
}

/** The human summary of a run. */
const kib = (n: number) => `${Math.round(n / 1024).toLocaleString('en')} KiB`;

export function summary(r: ScenarioReport): string[] {
  const l: string[] = [];
  l.push(`${r.ok ? 'OK' : 'FAILED'}: scenario ${r.scenario} on ${r.engine} (seed ${r.seed}), ${r.virtualSeconds} s of shift in ${r.wallSeconds} s (${r.simulatedSecondsPerWallSecond}x)`);
  l.push(`footage: ${r.footage.seconds} s in ${r.footage.frames} frames, ${r.footage.segments} segments, ${r.footage.recordings} recording${r.footage.recordings === 1 ? '' : 's'}, ${(r.footage.bytes / 1048576).toFixed(1)} MiB (${r.footage.preEventSegments} with pre-event, ${r.footage.recoveredSegments} recovered after a cut)`);
  const gib = (n: number) => `${(n / 1073741824).toFixed(n < 1073741824 ? 3 : 1)} GiB`;
  const medium = r.storage.medium === 'sd-card' ? 'SD card' : 'flash';
  l.push(`${medium}: ${(r.footage.seconds / 3600).toFixed(2)} hours recorded; at docking ${gib(r.storage.usedAtDock)} of the ${gib(r.storage.bytes)} store used, ${gib(r.storage.freeAtDock)} left${r.storage.destroyedAtCuts ? `; ${r.storage.destroyedAtCuts} acknowledged frames went with the card's internal page at power cuts, counted in the evidence` : ''}`);
  l.push(`dropped: ${r.dropped.total} frame${r.dropped.total === 1 ? '' : 's'} (sensor missed ${r.dropped.sensor}, storage refused ${r.dropped.storage}, in flight at a power cut ${r.dropped.atCuts}; ${r.dropped.inEvidence} counted in the evidence); ${r.dropped.powerCutGapMs / 1000} s of recording lost to reboots after power cuts (a freeze in the export)`);
  l.push(`power cuts: ${r.powerCuts.happened} of ${r.powerCuts.planned} (${r.powerCuts.torn} tore a flash write), ${r.powerCuts.survived} survived, ${r.powerCuts.resumedRecording} of ${r.powerCuts.wereRecording} recordings resumed`);
  l.push(`upload: ${r.upload.segmentsStored} segments stored, ${r.upload.segmentsVerified} verified, ${r.upload.notUploaded} left on the camera; ${r.upload.completed} dock session${r.upload.completed === 1 ? '' : 's'} completed, ${r.upload.failed} failed`);
  l.push(`ledger: ${r.verify.ledger.entries} signed entries, ${r.verify.ledger.valid ? 'verified' : 'INVALID'} (${Object.entries(r.verify.ledger.events).map(([k, v]) => `${k} ${v}`).join(', ')})`);
  for (const f of [...r.verify.findings, ...r.verify.ledger.findings]) l.push(`  finding: ${f}`);
  const counted = r.dropped.inEvidence ? `; ${r.dropped.inEvidence} dropped frame${r.dropped.inEvidence === 1 ? '' : 's'} counted in the evidence` : '';
  l.push(r.lost.frames || r.lost.segments ? `LOST: ${r.lost.frames} frames, ${r.lost.segments} segments the evidence does not account for${counted}` : `lost: nothing the evidence does not account for${counted}`);
  for (const d of r.lost.details) l.push(`  ${d}`);
  if (r.xs) l.push(`firmware cost (XS): ${r.xs.firmwareUnits.toLocaleString('en')} compute units, ${r.xs.unitsPerVirtualSecond.toLocaleString('en')} per second of shift`);
  if (r.moddable) {
    const m = r.moddable;
    l.push(`device heap (${m.board}'s creation, mcconfig build): live at most ${kib(m.liveChunks)} of ${kib(m.chunksMax)} chunks and ${m.liveSlots} of ${m.slotsMax} slots; ${kib(m.loadedChunks)} and ${m.loadedSlots} slots once loaded; in use at once with garbage ${kib(m.peakChunks)} and ${m.peakSlots} slots`);
  }
  if (r.mcu) {
    l.push(`firmware cost (Cortex-M7): ${r.mcu.firmwareInstructions.toLocaleString('en')} instructions, ${r.mcu.firmwareInstructionsPerVirtualSecond.toLocaleString('en')} per second of shift (${r.mcu.boots} boot${r.mcu.boots === 1 ? '' : 's'} of ${r.mcu.bootInstructions.toLocaleString('en')} more each)`);
    l.push(`device heap: peak ${kib(r.mcu.heapPeak)} of a ${kib(r.mcu.heapCeiling)} ceiling; the loaded firmware held ${kib(r.mcu.heapLoaded)} (${kib(r.mcu.bytecode)} bytecode), so the run needed ${kib(r.mcu.runtimeHeapPeak)} more`);
  }
  l.push(`evidence: ${r.evidence}   (bodycam verify ${r.evidence} --root ${join(dirname(r.evidence), 'root.pub')})`);
  if (r.export) l.push(`playable export: ${r.export.video.join(', ')} (${r.export.frames} frames; timing in ${r.export.sidecar.join(', ')})`);
  return l;
}

/** The human summary of a practice docking. */
export function practiceSummary(r: PracticeReport): string[] {
  return [
    `${r.ok ? 'OK' : 'NOT DOCKED'}: camera ${r.device} recorded ${r.virtualSeconds} s of scenario ${r.scenario} (${r.framesCommitted} frames, ${r.boots} boot${r.boots === 1 ? '' : 's'}, ${r.powerCuts} power cut${r.powerCuts === 1 ? '' : 's'}) and docked at ${r.dock}`,
    `dock sessions: ${r.sessions.completed} completed, ${r.sessions.failed} failed of ${r.sessions.attempts}; ${r.notUploaded === 0 ? 'everything receipted: the camera freed it' : `${r.notUploaded} segments still on the camera (not receipted): see the dock's output`}`,
    'the dock holds the evidence: check it there with `bodycam verify STORE --root AGENCY/root.pub`',
  ];
}

export async function simCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const p = parseArgs(argv, { dock: { value: true }, camera: { value: true }, scenario: { value: true }, engine: { value: true }, board: { value: true }, 'heap-ceiling': { value: true }, seed: { value: true }, out: { value: true }, scale: { value: true }, 'no-export': {}, json: {}, help: {}, list: {} });
  if (p.options.help) {
    HELP.forEach((l) => out(l));
    return 0;
  }
  if (p.options.list) {
    if (p.options.json) out(JSON.stringify(scenarioNames()));
    else scenarioNames().forEach((n) => out(n));
    return 0;
  }
  if (p.positionals.length) throw new BodycamError('E_USAGE', `unexpected ${p.positionals[0]} (bodycam sim --help)`);
  const engine = (stringOption(p, 'engine') ?? 'node') as EngineName;
  if (!['node', 'xs', 'mcu', 'moddable'].includes(engine)) throw new BodycamError('E_USAGE', `--engine must be node, xs, mcu or moddable, not ${engine}`);
  const board = stringOption(p, 'board');
  if (board !== undefined && engine !== 'moddable') throw new BodycamError('E_USAGE', '--board is for --engine moddable');
  const heapText = stringOption(p, 'heap-ceiling');
  if (heapText !== undefined && engine !== 'mcu') throw new BodycamError('E_USAGE', '--heap-ceiling is for --engine mcu');
  const heapCeiling = heapText === undefined ? undefined : parseHeapCeiling(heapText);
  const scaleText = stringOption(p, 'scale');
  const scale = scaleText === undefined ? 1 : Number(scaleText);
  if (!(scale > 0 && scale <= 1)) throw new BodycamError('E_USAGE', `--scale must be a number in (0, 1], not ${scaleText}`);
  const sc = parseScenario(loadScenario(stringOption(p, 'scenario') ?? DEFAULT_SCENARIO), { scale });
  const dir = resolve(stringOption(p, 'out') ?? 'sim-out');
  const tty = process.stderr.isTTY === true;
  const dockAt = stringOption(p, 'dock');
  const cameraDir = stringOption(p, 'camera');
  if ((dockAt === undefined) !== (cameraDir === undefined)) throw new BodycamError('E_USAGE', '--dock HOST:PORT and --camera DIR go together: the camera `bodycam provision camera --sim DIR` made, and the running dock it docks at');
  if (dockAt !== undefined && cameraDir !== undefined) {
    const m = /^(.+):(\d+)$/.exec(dockAt);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new BodycamError('E_USAGE', `--dock takes HOST:PORT (the address \`bodycam dock\` listens on), not ${dockAt}`);
    const r = await practiceShift(sc, { engine, seed: stringOption(p, 'seed') ?? '1', out: dir, cameraDir: resolve(cameraDir), dock: { address: m[1], port: Number(m[2]) }, onProgress: progressPrinter({ tty, write: (s) => process.stderr.write(s) }) });
    const lines = practiceSummary(r);
    writeFileSync(join(dir, 'report.json'), `${JSON.stringify(r, null, 2)}\n`);
    writeFileSync(join(dir, 'summary.txt'), `${lines.join('\n')}\n`);
    if (p.options.json) out(JSON.stringify(r, null, 2));
    else lines.forEach((l) => out(l));
    return r.ok ? 0 : 1;
  }
  if (engine === 'mcu' && !existsSync(mcuElfPath())) process.stderr.write('building the MCU image first (make -C host-sim/mcu; about a minute, once)\n');
  const report = await runScenario(sc, {
    engine,
    seed: stringOption(p, 'seed') ?? '1',
    out: dir,
    export: !p.options['no-export'],
    mcu: engine === 'mcu' ? { heapCeiling } : undefined,
    moddable: engine === 'moddable' ? { board, log: (l) => process.stderr.write(`${l}\n`) } : undefined,
    onProgress: progressPrinter({ tty, write: (s) => process.stderr.write(s) }),
  });
  const lines = summary(report);
  writeFileSync(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(dir, 'summary.txt'), `${lines.join('\n')}\n`);
  if (p.options.json) out(JSON.stringify(report, null, 2));
  else {
    lines.forEach((l) => out(l));
    out(`report: ${join(dir, 'report.json')}, summary: ${join(dir, 'summary.txt')}`);
  }
  return report.ok ? 0 : 1;
}
