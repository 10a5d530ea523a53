// `bodycam export`: argument parsing and printing over evidence/export.ts. From a store, the
// device is verified first against pinned trust; any finding refuses the export unless
// --accept-findings, which prints each one and writes it into the integrity report.

import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { BodycamError } from '../firmware/errors.js';
import { planAviExport } from '../firmware/encoder/avi.js';
import { hostEd25519 } from '../host/ed25519-node.js';
import { exportMediaFiles, planStoreExport, UNVERIFIED_NOTE, writeAviExport, type AviExportResult, type StoreExport } from '../evidence/export.js';
import { verifyStore } from '../evidence/verify-store.js';
import { planMp4 } from '../evidence/mp4.js';
import { mp4ExportReport, storeMp4, UNSIGNED_MP4, writeMp4, type StoreMp4, type WrittenMp4 } from '../evidence/mp4-export.js';
import { loadSignerIdentity } from '../evidence/c2pa-certs.js';
import { version } from './bodycam.js';
import { CENTRAL_VIEW_HELP, CENTRAL_VIEW_OPTIONS, isCentral, onCentralView } from './central-view.js';
import { intOption, parseArgs, secretOption, stringOption } from './args.js';
import { loadExaminerKey } from '../evidence/sealed.js';
import { EVIDENCE_PASSPHRASE_ENV, EVIDENCE_PASSPHRASE_OPTION } from '../evidence/evidence-keys.js';
import { SEALED_MAGIC_0, SEALED_MAGIC_1 } from '../firmware/encoder/sealed-record.js';
import { checkpointFromArgs, jsonable, TRUST_HELP, TRUST_OPTIONS, trustFromArgs, trustLines } from './verify.js';

const HELP = [
  'usage: bodycam export --store DIR --device ID [--from SEQ] [--to SEQ] (--root FILE | --trust DIR | --trust-store-root) [options]',
  '       bodycam export [options] MEDIA...',
  '       bodycam export --store s3://BUCKET[/PREFIX] --db URL [--station ID] --device ID ... (a central store)',
  '',
  'From a dock station store, the device is verified first (certificate, signatures, chain, media',
  'digests, receipts, ledger, clock statements, custody) against an agency root from outside the',
  'store. Any finding refuses the export unless --accept-findings; a chosen segment that does',
  'not verify is never exported. <out>.integrity.json says what was checked, under which root,',
  'every finding accepted, and the clock offset used (from the camera\'s signed drift statement).',
  '',
  'MP4 (the default): a fragmented MP4, one movie fragment per segment, the JPEG frames exactly',
  'as captured (no re-encoding), each frame timed as its header says; a reboot is a hole in the',
  'timeline. A timed-text track gives every frame\'s UTC and the clock offset (NISTIR 8161r1).',
  'With --signer, C2PA content credentials signed by the export signer carry the camera\'s signed',
  'manifests, frame headers, certificate, checkpoints, dock receipts and custody checkpoint:',
  '`bodycam verify FILE.mp4 --root FILE` re-checks them down to the camera\'s signatures.',
  '',
  'AVI (--format avi, or --out ending in .avi): MJPEG at a constant frame rate, lost frames filled',
  'with repeats of the frame before them, per-frame timing in <out>.json beside it.',
  '',
  ...TRUST_HELP,
  '  --checkpoint FILE   a custody-log checkpoint kept outside the store (as bodycam verify)',
  '  --evidence-key FILE the agency evidence key (evidence-keys/<key id>.secret) that opens sealed',
  '                      segments; every chunk is authenticated as it is decrypted, and any that',
  '                      fails refuses the export (E_STREAM_AUTH, E_STREAM_ORDER, E_STREAM_TRUNCATED,',
  '                      E_HPKE_OPEN). Sealed segments without it: E_EVIDENCE_KEY_REQUIRED',
  `  --${EVIDENCE_PASSPHRASE_OPTION} FILE  the key file's passphrase (or ${EVIDENCE_PASSPHRASE_ENV})`,
  '  --examiner NAME     who decrypts, for the integrity report (default: the operating system user)',
  ...CENTRAL_VIEW_HELP,
  '  --accept-findings   export despite findings about the device; each is printed and recorded',
  '  --format mp4|avi    the container (default mp4, or avi when --out ends in .avi)',
  '  --signer DIR        (mp4) sign C2PA content credentials with this export signer',
  '                      (made by `bodycam provision export-signer`); without it the MP4 is UNSIGNED',
  '  --out FILE          the file to write (default export.mp4); an existing one is refused (E_OUT_EXISTS)',
  '  --force             replace an existing export at --out',
  '  --from, --to SEQ    the segments to export; a range the store does not hold whole is refused',
  '  --clock-offset MS   (media files only) camera RTC minus reference UTC, if known',
  '  --max-fill MS       (avi) fill gaps up to this long (default 60000); longer ones are listed only',
  '  --max-bytes N       (avi) split into parts of at most N bytes (default 1 GiB)',
  '  --json              print one JSON object: what was written, or why it was refused',
];

function integrityPath(outPath: string): string {
  return outPath.replace(/\.(avi|mp4)$/i, '') + '.integrity.json';
}

export async function exportCommand(argv: string[], print: (line: string) => void): Promise<number> {
  const p = parseArgs(argv, { ...TRUST_OPTIONS, ...CENTRAL_VIEW_OPTIONS, out: { value: true }, 'clock-offset': { value: true }, 'max-fill': { value: true }, 'max-bytes': { value: true }, format: { value: true }, signer: { value: true }, checkpoint: { value: true }, 'evidence-key': { value: true }, [EVIDENCE_PASSPHRASE_OPTION]: { value: true }, examiner: { value: true }, store: { value: true }, device: { value: true }, from: { value: true }, to: { value: true }, 'accept-findings': {}, force: {}, json: {}, help: {} });
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
  if (isCentral(storeDir)) return await onCentralView(storeDir, p, argv, print, exportCommand);
  const outOption = stringOption(p, 'out');
  const format = stringOption(p, 'format') ?? (outOption?.toLowerCase().endsWith('.avi') ? 'avi' : 'mp4');
  if (format !== 'mp4' && format !== 'avi') throw new BodycamError('E_USAGE', `--format takes mp4 or avi, not "${format}"`);
  const outPath = outOption ?? `export.${format}`;
  const signerDir = stringOption(p, 'signer');
  if (signerDir && format !== 'mp4') throw new BodycamError('E_USAGE', '--signer signs C2PA credentials, which only the MP4 carries (--format mp4)');
  if (signerDir && !storeDir) throw new BodycamError('E_USAGE', '--signer needs --store: only evidence verified from a store is signed');
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
    // The signer is checked before anything is verified or written: a wrong one stops at once.
    const identity = signerDir ? loadSignerIdentity(signerDir, trust.root, ed25519) : undefined;
    const checkpoint = checkpointFromArgs(p);
    const keyFile = stringOption(p, 'evidence-key');
    const evidenceKey = keyFile ? loadExaminerKey(keyFile, secretOption(p, process.env, EVIDENCE_PASSPHRASE_OPTION, EVIDENCE_PASSPHRASE_ENV)) : undefined;
    const verified = verifyStore(storeDir, { trust, ed25519, checkpoint });
    try {
      plan = planStoreExport(storeDir, device, intOption(p, 'from', 0), intOption(p, 'to', Number.MAX_SAFE_INTEGER), { trust, ed25519, checkpoint, verified, evidenceKey, examiner: stringOption(p, 'examiner') });
    } finally {
      evidenceKey?.secret.fill(0);
    }
    trustLines(plan.trust).forEach((l) => out(l));
    for (const b of plan.blocked) out(`REFUSED: ${b}`);
    if (plan.blocked.length) return answer(1, { verified: true, trust: plan.trust, refused: plan.blocked, findings: plan.findings });
    const accept = p.options['accept-findings'] === true;
    for (const f of plan.findings) out(`${accept ? 'ACCEPTED FINDING' : 'FINDING'}  ${f.scope}${f.seq !== undefined ? ` segment ${f.seq}` : ''}: ${f.code}: ${f.message}${f.path ? ` (${f.path})` : ''}`);
    if (plan.findings.length && !accept) {
      out(`REFUSED: verification of ${device} found ${plan.findings.length} thing${plan.findings.length === 1 ? '' : 's'} (above); export with --accept-findings to record them in the integrity report`);
      return answer(1, { verified: true, trust: plan.trust, refused: ['findings'], findings: plan.findings });
    }
    if (format === 'mp4') {
      const made = storeMp4(verified, plan, device, { signer: identity, title: basename(outPath), generator: { name: 'bodycam', version: version() }, checkpoint });
      const written = writeMp4(made.mp4, outPath, { credentials: made.credentials, overwrite, alsoWrites: [integrityPath(outPath)] });
      return mp4Done(made, written, { plan, out, answer, reportPath: integrityPath(outPath) });
    }
    const exp = planAviExport(plan.mediaBytes, { ...options, clockOffsetMs: plan.clockOffsetMs, segmentSeqs: plan.seqs });
    result = { exp, written: writeAviExport(exp, outPath, { overwrite, alsoWrites: [integrityPath(outPath)] }) };
  } else {
    if (p.positionals.length === 0) throw new BodycamError('E_USAGE', 'name at least one segment media file, or --store DIR --device ID (bodycam export --help)');
    for (const f of p.positionals) {
      const head = readFileSync(f).subarray(0, 2);
      if (head[0] === SEALED_MAGIC_0 && head[1] === SEALED_MAGIC_1) throw new BodycamError('E_EVIDENCE_KEY_REQUIRED', `${f} is sealed media: only its manifest says who can open it, so export it from the store (--store DIR --device ID --evidence-key FILE)`);
    }
    const clock = stringOption(p, 'clock-offset');
    if (format === 'mp4') {
      const media = p.positionals.map((f) => new Uint8Array(readFileSync(f)));
      const mp4 = planMp4(media, { clockOffsetMs: clock === undefined ? null : Number(clock) });
      const written = writeMp4(mp4, outPath, { overwrite });
      return mp4Done({ mp4 }, written, { out, answer });
    }
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

/** Print and answer for a written MP4 (and write the integrity report of a store export). */
function mp4Done(made: StoreMp4, written: WrittenMp4, o: { plan?: StoreExport; out: (l: string) => void; answer: (code: number, fields: Record<string, unknown>) => number; reportPath?: string }): number {
  const { plan, out } = o;
  const { mp4, signer: identity } = made;
  const holes = mp4.gaps.filter((g) => g.kind === 'reboot' || g.kind === 'restart');
  out(`${written.file}: MP4, ${mp4.width}x${mp4.height} MJPEG as captured, ${mp4.frames} frames in ${mp4.fragments.length} fragments, ${(mp4.durationMs / 1000).toFixed(3)} s, ${mp4.dropped} frames lost in capture (held frames, listed below)${holes.length ? `, ${holes.length} hole${holes.length === 1 ? '' : 's'} in the timeline` : ''}, ${written.bytes} bytes`);
  for (const [seq, n] of plan?.lostAfterLastFrame ?? []) out(`  segment ${seq}: ${n} frame${n === 1 ? '' : 's'} lost after its last frame (in flight when the power was cut), counted in its signed manifest`);
  for (const g of mp4.gaps) out(`  ${g.kind === 'reboot' || g.kind === 'restart' ? 'hole' : 'gap'} before frame ${g.frameNumber} (segment ${g.segment}) at ${(g.time / 1000).toFixed(3)} s: ${g.dropped} lost over ${g.gapMs} ms at ${new Date(g.utcMs).toISOString()} — ${g.kind}`);
  out(`timing: every frame's UTC and the clock offset (${mp4.clockOffsetMs === null ? 'not known' : `${mp4.clockOffsetMs} ms`}) are in the file's timed-text track`);
  if (identity) out(`credentials: C2PA manifest (${written.credentialsBytes} bytes) signed by ${identity.checked.subject}, certificate ${identity.checked.serial} from ${identity.checked.issuer}; validators take the agency root certificate as trust anchor`);
  else out(plan ? `UNSIGNED: no --signer, so ${UNSIGNED_MP4}` : UNVERIFIED_NOTE);
  let reportPath: string | null = null;
  if (plan && o.reportPath) {
    reportPath = o.reportPath;
    const report = mp4ExportReport(plan, made, { video: written.file, credentialsBytes: written.credentialsBytes });
    writeFileSync(reportPath, JSON.stringify(jsonable(report), null, 2) + '\n');
    out(`integrity report: ${reportPath}`);
  }
  return o.answer(0, {
    verified: plan !== undefined,
    ...(plan ? { trust: plan.trust, acceptedFindings: plan.findings, lostAfterLastFrame: Object.fromEntries(plan.lostAfterLastFrame) } : { note: UNVERIFIED_NOTE }),
    format: 'mp4',
    videos: [written.file],
    integrityReport: reportPath,
    credentials: identity ? { bytes: written.credentialsBytes, signer: identity.checked.subject, serial: identity.checked.serial } : null,
    width: mp4.width,
    height: mp4.height,
    frames: mp4.frames,
    fragments: mp4.fragments.length,
    durationMs: mp4.durationMs,
    dropped: mp4.dropped,
    gaps: mp4.gaps,
    bytes: written.bytes,
  });
}
