// `bodycam export`: argument parsing and printing over evidence/export.ts. From a store, the
// device is verified first against pinned trust; any finding refuses the export unless
// --accept-findings, which prints each one and writes it into the integrity report.

import { writeFileSync } from 'node:fs';
import { BodycamError } from '../firmware/errors.js';
import { planAviExport } from '../firmware/encoder/avi.js';
import { hostEd25519 } from '../host/ed25519-node.js';
import { exportMediaFiles, planStoreExport, UNVERIFIED_NOTE, writeAviExport, type AviExportResult, type StoreExport } from '../evidence/export.js';
import { intOption, parseArgs, stringOption } from './args.js';
import { checkpointFromArgs, jsonable, TRUST_HELP, TRUST_OPTIONS, trustFromArgs, trustLines } from './verify.js';

const HELP = [
  'usage: bodycam export --store DIR --device ID [--from SEQ] [--to SEQ] (--root FILE | --trust DIR | --trust-store-root) [options]',
  '       bodycam export [options] MEDIA...',
  '',
  'From a dock station store, the device is verified first (certificate, signatures, chain, media',
  'digests, receipts, ledger, clock statements, custody) against an agency root from outside the',
  'store. Any finding refuses the export unless --accept-findings; a chosen segment that does',
  'not verify is never exported. <out>.integrity.json says what was checked, under which root,',
  'every finding accepted, and the clock offset used (from the camera\'s signed drift statement).',
  '',
  'Muxes segment media (frame records, in the order given) into a playable AVI (MJPEG) and',
  'writes the per-frame timing next to it as <out>.json (UTC, monotonic time, clock offset).',
  'Lost frames are filled with repeats of the frame before them; the sidecar lists each one.',
  '',
  ...TRUST_HELP,
  '  --checkpoint FILE   a custody-log checkpoint kept outside the store (as bodycam verify)',
  '  --accept-findings   export despite findings about the device; each is printed and recorded',
  '  --out FILE          the AVI to write (default export.avi); an existing one is refused (E_OUT_EXISTS)',
  '  --force             replace an existing export at --out',
  '  --from, --to SEQ    the segments to export; a range the store does not hold whole is refused',
  '  --clock-offset MS   (media files only) camera RTC minus reference UTC, if known',
  '  --max-fill MS       fill gaps up to this long (default 60000); longer ones are listed only',
  '  --max-bytes N       split into parts of at most N bytes (default 1 GiB)',
  '  --json              print one JSON object: what was written, or why it was refused',
];

function integrityPath(outPath: string): string {
  return outPath.replace(/\.avi$/i, '') + '.integrity.json';
}

export async function exportCommand(argv: string[], print: (line: string) => void): Promise<number> {
  const p = parseArgs(argv, { ...TRUST_OPTIONS, out: { value: true }, 'clock-offset': { value: true }, 'max-fill': { value: true }, 'max-bytes': { value: true }, checkpoint: { value: true }, store: { value: true }, device: { value: true }, from: { value: true }, to: { value: true }, 'accept-findings': {}, force: {}, json: {}, help: {} });
  if (p.options.help) {
    HELP.forEach((l) => print(l));
    return 0;
  }
  // With --json the lines are kept for the object's `lines`, and one JSON object is printed.
  const json = p.options.json === true;
  const lines: string[] = [];
  const out = json ? (l: string) => void lines.push(l) : print;
  const answer = (code: number, fields: Record<string, unknown>): number => {
    if (json) print(JSON.stringify(jsonable({ ok: code === 0, exitCode: code, ...fields, lines })));
    return code;
  };
  const storeDir = stringOption(p, 'store');
  const outPath = stringOption(p, 'out') ?? 'export.avi';
  const overwrite = p.options.force === true;
  const options = { maxFillMs: intOption(p, 'max-fill', 60_000), maxBytes: intOption(p, 'max-bytes', 1024 * 1024 * 1024) };
  let result: AviExportResult;
  let plan: StoreExport | undefined;
  if (storeDir) {
    const device = stringOption(p, 'device');
    if (!device) throw new BodycamError('E_USAGE', '--store needs --device ID');
    if (p.positionals.length) throw new BodycamError('E_USAGE', 'give either --store DIR --device ID or media files, not both');
    if (stringOption(p, 'clock-offset') !== undefined) throw new BodycamError('E_USAGE', '--clock-offset is for media files; from a store the offset comes from the camera\'s signed drift statement');
    const ed25519 = hostEd25519();
    const trust = trustFromArgs(p, storeDir, ed25519);
    plan = planStoreExport(storeDir, device, intOption(p, 'from', 0), intOption(p, 'to', Number.MAX_SAFE_INTEGER), { trust, ed25519, checkpoint: checkpointFromArgs(p) });
    trustLines(plan.trust).forEach((l) => out(l));
    for (const b of plan.blocked) out(`REFUSED: ${b}`);
    if (plan.blocked.length) return answer(1, { verified: true, trust: plan.trust, refused: plan.blocked, findings: plan.findings });
    const accept = p.options['accept-findings'] === true;
    for (const f of plan.findings) out(`${accept ? 'ACCEPTED FINDING' : 'FINDING'}  ${f.scope}${f.seq !== undefined ? ` segment ${f.seq}` : ''}: ${f.code}: ${f.message}${f.path ? ` (${f.path})` : ''}`);
    if (plan.findings.length && !accept) {
      out(`REFUSED: verification of ${device} found ${plan.findings.length} thing${plan.findings.length === 1 ? '' : 's'} (above); export with --accept-findings to record them in the integrity report`);
      return answer(1, { verified: true, trust: plan.trust, refused: ['findings'], findings: plan.findings });
    }
    const exp = planAviExport(plan.mediaBytes, { ...options, clockOffsetMs: plan.clockOffsetMs, segmentSeqs: plan.seqs });
    result = { exp, written: writeAviExport(exp, outPath, { overwrite, alsoWrites: [integrityPath(outPath)] }) };
  } else {
    if (p.positionals.length === 0) throw new BodycamError('E_USAGE', 'name at least one segment media file, or --store DIR --device ID (bodycam export --help)');
    const clock = stringOption(p, 'clock-offset');
    result = exportMediaFiles(p.positionals, outPath, { ...options, clockOffsetMs: clock === undefined ? null : Number(clock) }, { overwrite });
  }
  const { exp, written } = result;
  const frames = exp.parts.reduce((n, part) => n + part.frames.length, 0);
  const overReboots = exp.gaps.filter((g) => g.kind === 'reboot').reduce((n, g) => n + g.filled, 0);
  out(`${written.videos.join(', ')}: ${exp.width}x${exp.height} at ${exp.frameRate} fps, ${frames} frames (${exp.stored} stored, ${exp.duplicated - overReboots} repeats for ${exp.dropped} lost${overReboots ? `, ${overReboots} repeats over reboot gaps` : ''}), ${written.bytes} bytes`);
  for (const [seq, n] of plan?.lostAfterLastFrame ?? []) out(`  segment ${seq}: ${n} frame${n === 1 ? '' : 's'} lost after its last frame (in flight when the power was cut), counted in its signed manifest`);
  for (const g of exp.gaps) out(`  gap before frame ${g.frameNumber} (segment ${g.segment}): ${g.dropped} lost over ${g.gapMs} ms at ${new Date(g.utcMs).toISOString()} — ${g.kind}${g.filled ? `, ${g.filled} repeats` : ''}`);
  out(`timing: ${written.sidecars.join(', ')}`);
  if (!plan) out(UNVERIFIED_NOTE);
  let reportPath: string | undefined;
  if (plan) {
    reportPath = integrityPath(outPath);
    const report = { ...plan.report, acceptedFindings: plan.findings, export: { videos: written.videos, sidecars: written.sidecars, frames, stored: exp.stored, repeats: exp.duplicated, dropped: exp.dropped } };
    writeFileSync(reportPath, JSON.stringify(jsonable(report), null, 2) + '\n');
    out(`integrity report: ${reportPath}`);
  }
  return answer(0, {
    verified: plan !== undefined,
    ...(plan ? { trust: plan.trust, acceptedFindings: plan.findings, lostAfterLastFrame: Object.fromEntries(plan.lostAfterLastFrame) } : { note: UNVERIFIED_NOTE }),
    videos: written.videos,
    sidecars: written.sidecars,
    integrityReport: reportPath ?? null,
    width: exp.width,
    height: exp.height,
    frameRate: exp.frameRate,
    frames,
    stored: exp.stored,
    repeats: exp.duplicated,
    dropped: exp.dropped,
    gaps: exp.gaps,
    bytes: written.bytes,
  });
}
