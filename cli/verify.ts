// `bodycam verify DIR`: argument parsing and printing over evidence/verify-store.ts. Human output,
// or --json (always a report, even when the command can't start); exit 0 only when everything
// verifies, 1 when anything doesn't, 2 on a usage error (no such directory, no pinned root).

import { BodycamError, errorMessage } from '../firmware/errors.js';
import { asBodycamError, exitCodeOf } from './exit.js';
import { tweetEd25519 } from '../firmware/signing/ed25519.js';
import type { LedgerReport } from '../firmware/recorder/ledger-verify.js';
import { hostEd25519 } from '../host/ed25519-node.js';
import { resolveTrust, type Trust } from '../evidence/trust.js';
import { verifyStore, type StoreReport } from '../evidence/verify-store.js';
import type { CustodyReport } from '../evidence/custody-log.js';
import { SafeReader } from '../evidence/layout.js';
import { verifyMp4, type Mp4Report } from '../evidence/mp4-verify.js';
import { CENTRAL_VIEW_HELP, CENTRAL_VIEW_OPTIONS, isCentral, onCentralView } from './central-view.js';
import { parseArgs, stringOption, type OptionSpec, type Parsed } from './args.js';

/** The trust options verify and export share. */
export const TRUST_OPTIONS: Record<string, OptionSpec> = { root: { value: true }, revocations: { value: true }, trust: { value: true }, 'trust-store-root': {} };

export const TRUST_HELP = [
  '  --root FILE           the agency root public key (32 raw bytes), from outside the store',
  '  --revocations FILE    the agency\'s signed revocation list (default: revocations.cose beside --root)',
  '  --trust DIR           a trust folder outside the store: root.pub, revocations.cose',
  '                        (default: the BODYCAM_TRUST environment variable)',
  '  --trust-store-root    trust the root key the store itself holds (the report says so)',
];

export function trustFromArgs(p: Parsed, storeDir: string, ed25519: ReturnType<typeof hostEd25519>): Trust {
  const rootFile = stringOption(p, 'root');
  const trustDir = stringOption(p, 'trust') ?? (rootFile ? undefined : process.env.BODYCAM_TRUST || undefined);
  return resolveTrust({ storeDir, rootFile, revocationsFile: stringOption(p, 'revocations'), trustDir, trustStoreRoot: p.options['trust-store-root'] === true, ed25519 });
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The report with bytes as hex, for JSON. */
export function jsonable(v: unknown): unknown {
  if (v instanceof Uint8Array) return hex(v);
  if (Array.isArray(v)) return v.map(jsonable);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonable(x)]));
  return v;
}

/** The trust lines every human report starts with. */
export function trustLines(t: StoreReport['trust']): string[] {
  return [
    `root     ${t.fingerprint} (SHA-256 of the agency root key, ${t.source === 'pinned' ? 'pinned' : 'TAKEN FROM THE STORE'}: ${t.rootFrom})`,
    ...(t.revocationsFrom ? [`revoked  list from ${t.revocationsFrom}`] : []),
    ...t.statements.map((s) => `  NOTE   ${s}`),
  ];
}

function ledgerLines(reports: LedgerReport[]): string[] {
  return reports.flatMap((r) => [
    `${r.valid ? 'VALID  ' : 'INVALID'}  ${r.device} ledger: ${r.entries.length} entr${r.entries.length === 1 ? 'y' : 'ies'}${r.entries.length ? ` (${r.startsAt}-${r.entries[r.entries.length - 1].index})` : ''}${r.startsAt > 0 ? `, earlier entries are with another dock's evidence` : ''}`,
    ...r.findings.map((f) => `    ledger: ${f.code}: ${f.message}`),
  ]);
}

export function custodyLines(c: CustodyReport): string[] {
  const ref = c.reference;
  return [
    ref ? `custody  log of ${c.logSize} entries checked against ${ref.source === 'outside' ? 'the OUTSIDE' : 'the store\'s own'} checkpoint ${ref.file}: ${ref.size} entries, root ${ref.root.slice(0, 16)}…, signed by ${ref.dock} at ${ref.utc}` : `custody  log of ${c.logSize} entries, no checkpoint to check it against`,
    ...(c.consistency ? [`  the store's newer checkpoint (${c.consistency.to} entries) extends it: consistency proof of ${c.consistency.proof.length} hashes in --json, for a witness`] : []),
    ...c.statements.map((s) => `  NOTE   ${s}`),
    ...c.findings.map((f) => `  CUSTODY  ${f.code}: ${f.message}`),
  ];
}

function human(r: StoreReport, out: (l: string) => void): void {
  const report = r.evidence;
  out(`evidence in ${r.directory}`);
  trustLines(r.trust).forEach((l) => out(l));
  for (const f of report.reasons) out(`  TRUST    ${f.code}: ${f.message}`);
  for (const p of r.problems) out(`  LAYOUT   ${p.path}: ${p.code}: ${p.message}`);
  for (const d of report.devices) {
    const n = d.segments.length;
    const bad = d.segments.filter((s) => !s.valid).length;
    const range = n ? ` (${d.segments[0].seq ?? '?'}-${d.segments[n - 1].seq ?? '?'})` : '';
    out(`${d.valid ? 'VALID  ' : 'INVALID'}  ${d.device}: ${n} segment${n === 1 ? '' : 's'}${range}${bad ? `, ${bad} invalid` : ''}, ${d.checkpoints} checkpoint${d.checkpoints === 1 ? '' : 's'}, ${d.receipts} receipt${d.receipts === 1 ? '' : 's'}${d.certificate ? `, key ${hex(d.certificate.keyId)}` : ''}`);
    for (const f of d.reasons) out(`    ${f.code}: ${f.message}`);
    for (const s of d.segments) for (const f of s.reasons) out(`    segment ${s.seq ?? '?'}: ${f.code}: ${f.message}`);
    const sealed = r.sealed.find((x) => x.device === d.device);
    if (sealed) {
      out(`  SEALED   ${sealed.sealed} of ${sealed.segments} segments sealed to evidence key${sealed.recipients.length === 1 ? '' : 's'} ${sealed.recipients.join(', ')}: verified without the key (signature, sealed media digest, chain, custody)`);
      out(`    NOT CHECKED without the key: each frame's header and timing, the JPEGs and sound, the STREAM chunks — bodycam export --evidence-key FILE checks them`);
      if (sealed.unread.length) out(`    segments ${sealed.unread.join(', ')}: signed after a power cut without the content key (FLAG_UNREAD): their frame counts and times are known only to the key`);
    }
  }
  ledgerLines(r.ledgers).forEach((l) => out(l));
  for (const c of r.completeness) {
    for (const f of c.findings) out(`INCOMPLETE ${c.device}: ${f.code}: ${f.message}`);
    for (const e of c.elsewhere) out(`  NOTE   ${c.device}: segments ${e.seqs.join(', ')} were released to ${e.dock}, whose evidence is not in this store`);
  }
  custodyLines(r.custody).forEach((l) => out(l));
  const incomplete = r.completeness.reduce((n, c) => n + c.findings.length, 0) + r.custody.findings.length;
  const devicesBad = report.devices.filter((d) => !d.valid).length;
  const ledgersBad = r.ledgers.filter((l) => !l.valid).length;
  if (r.valid) out(`OK: ${report.devices.length} device${report.devices.length === 1 ? '' : 's'}, ${report.devices.reduce((n, d) => n + d.segments.length, 0)} segments, all verified against root ${r.trust.fingerprint.slice(0, 16)}…${r.trust.source === 'store' ? ' (TAKEN FROM THE STORE)' : ''}`);
  else out(`FAILED: ${devicesBad} of ${report.devices.length} devices with findings${report.reasons.length ? ', untrusted trust material' : ''}${r.problems.length ? `, ${r.problems.length} unusable file${r.problems.length === 1 ? '' : 's'}` : ''}${ledgersBad ? `, ${ledgersBad} audit ledger${ledgersBad === 1 ? '' : 's'} that do not verify` : ''}${incomplete ? `, ${incomplete} completeness finding${incomplete === 1 ? '' : 's'}` : ''}`);
}

const HELP = [
  'usage: bodycam verify DIR (--root FILE | --trust DIR | --trust-store-root) [--checkpoint FILE] [--json] [--reference]',
  '       bodycam verify --store s3://BUCKET[/PREFIX] --db URL [--station ID] (--root FILE | ...) [...]',
  '       bodycam verify FILE.mp4 (--root FILE | --trust DIR) [--json] [--reference]',
  '',
  'Verify a directory of evidence as the dock station stores it (docs/FORMAT.md):',
  'certificates, manifest signatures, media digests, the hash chain, checkpoints, receipts and',
  'audit ledgers, against an agency root given from outside the store. Sealed segments (encrypted',
  'at capture to the agency\'s evidence key) are verified without the key; what only the key can',
  'check (frame headers and timing inside the ciphertext) is said, and left to bodycam export.',
  'An MP4 export is checked from the file alone: its C2PA content credentials (the export',
  'signer\'s X.509 certificate from the agency root, the claim signature, the BMFF hash binding),',
  'then the camera\'s certificate, signed segment manifests, receipts and checkpoints inside them,',
  'each segment\'s media rebuilt from the file and hashed, and every frame\'s timing.',
  ...TRUST_HELP,
  '  --checkpoint FILE     a custody-log checkpoint kept outside the store (the station\'s',
  '                        DIR/log/checkpoints/<size>.cose, copied out): everything it covers must',
  '                        be present and unchanged (docs/custody-log.md)',
  ...CENTRAL_VIEW_HELP,
  '  --json                print the full report as JSON (always a report, even on a usage error)',
  '  --reference           verify with the firmware\'s TweetNaCl instead of Node\'s native Ed25519',
  'Exit status 0 means everything verifies; 1 that something does not.',
];

const SPEC: Record<string, OptionSpec> = { ...TRUST_OPTIONS, ...CENTRAL_VIEW_OPTIONS, store: { value: true }, checkpoint: { value: true }, json: {}, reference: {}, help: {} };

/** --checkpoint FILE, read as any evidence file is (no links, no special files, bounded). */
export function checkpointFromArgs(p: Parsed): { bytes: Uint8Array; file: string } | undefined {
  const file = stringOption(p, 'checkpoint');
  if (!file) return undefined;
  const r = new SafeReader();
  const bytes = r.read(file);
  if (!bytes) throw new BodycamError('E_USAGE', `--checkpoint ${file}: ${r.problems.map((x) => `${x.code}: ${x.message}`).join('; ')}`);
  return { bytes, file };
}

export async function verifyCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const json = argv.includes('--json');
  try {
    const p = parseArgs(argv, SPEC);
    if (p.options.help) {
      HELP.forEach((l) => out(l));
      return 0;
    }
    const target = stringOption(p, 'store') ?? p.positionals[0];
    if (isCentral(target)) return await onCentralView(target, p, argv, out, verifyCommand);
    const dirs = stringOption(p, 'store') ? [...p.positionals, target] : p.positionals;
    if (dirs.length !== 1) throw new BodycamError('E_USAGE', 'bodycam verify takes one directory or one MP4 file (bodycam verify --help)');
    const dir = dirs[0];
    const ed25519 = p.options.reference ? tweetEd25519 : hostEd25519();
    if (new SafeReader().kind(dir) === 'file') {
      if (p.options['trust-store-root'] || p.options.checkpoint) throw new BodycamError('E_USAGE', 'an MP4 is verified against --root FILE or --trust DIR (it has no store; its custody checkpoint is inside it)');
      const r = verifyMp4(dir, { trust: trustFromArgs(p, dir, ed25519), ed25519 });
      if (json) out(JSON.stringify(jsonable(r), null, 2));
      else mp4Lines(r).forEach((l) => out(l));
      return r.valid ? 0 : 1;
    }
    const trust = trustFromArgs(p, dir, ed25519);
    const report = verifyStore(dir, { trust, ed25519, checkpoint: checkpointFromArgs(p) });
    if (json) {
      const { input: _input, ledgers, custody, ...rest } = report;
      const { entries, hashes: _hashes, ...custodySummary } = custody;
      out(JSON.stringify(jsonable({ ...rest, devices: rest.evidence.devices, reasons: rest.evidence.reasons, evidence: undefined, ledgers: ledgers.map((l) => ({ ...l, entries: l.entries.length })), custody: { ...custodySummary, entries: entries.length } }), null, 2));
    } else human(report, out);
    return report.valid ? 0 : 1;
  } catch (e) {
    if (!json) throw e;
    // A machine asked for JSON: it gets a report, with the reason nothing was verified.
    const be = asBodycamError(e);
    out(JSON.stringify({ valid: false, error: { code: be.code, message: errorMessage(be) } }, null, 2));
    return exitCodeOf(be.code);
  }
}

function mp4Lines(r: Mp4Report): string[] {
  const lines = [`MP4 ${r.file}`, ...trustLines(r.trust)];
  if (r.signer) lines.push(`signer   ${r.signer.subject}, certificate ${r.signer.serial}, from ${r.signer.issuer}, valid ${new Date(r.signer.notBefore).toISOString()} to ${new Date(r.signer.notAfter).toISOString()}`);
  if (r.manifest) lines.push(`C2PA     manifest ${r.manifest.label} (${r.manifest.title ?? 'untitled'}, by ${r.manifest.generator})`);
  if (r.device) lines.push(`device   ${r.device}${r.certificate ? `, key ${hex(r.certificate.keyId)}, certificate ${r.certificate.serial} of ${r.certificate.agency}` : ''}`);
  if (r.clock) lines.push(`clock    offset ${r.clock.offsetMs === null ? 'not known' : `${r.clock.offsetMs} ms`} (${r.clock.source})`);
  for (const s of r.segments) lines.push(`${s.valid ? 'VALID  ' : 'INVALID'}  segment ${s.seq ?? '?'}: ${s.frames} frames, fragment${s.fragments.length === 1 ? '' : 's'} ${s.fragments.join(', ')}${s.reasons.length ? `: ${s.reasons.map((x) => x.code).join(', ')}` : ''}`);
  for (const n of r.notes) lines.push(`  NOTE   ${n.code}: ${n.message} (outside the exported segments)`);
  for (const f of r.findings) lines.push(`  ${f.scope.toUpperCase()}  ${f.code}: ${f.message}`);
  lines.push(r.valid ? `OK: the C2PA credentials and ${r.segments.length} segments signed by the camera verify against root ${r.trust.fingerprint.slice(0, 16)}…, and every frame's bytes and timing are what the camera signed` : `FAILED: ${r.findings.length} finding${r.findings.length === 1 ? '' : 's'}`);
  return lines;
}
