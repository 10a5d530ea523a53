// `bodycam verify DIR`: verify a directory of evidence as the dock station stores it (layout in
// docs/FORMAT.md, "Evidence directory"), with the firmware's own verifier. Human output, or
// --json for machines; exit 0 only when everything verifies, 1 when anything doesn't, 2 on a
// usage error (no such directory, no root key).
//
// Also here, for the dock station and the tests: readEvidenceDir / writeEvidenceDir (the
// layout, both ways). Signatures are checked with the host's Ed25519 (Node's native one behind
// the firmware's strict pre-checks, dock-station/ed25519-node.ts), or --reference: TweetNaCl.

import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BodycamError } from '../firmware/errors.js';
import { tweetEd25519 } from '../firmware/signing/ed25519.js';
import { hostEd25519 } from '../dock-station/ed25519-node.js';
import { verifyEvidence, type DeviceInput, type EvidenceInput, type EvidenceReport, type SegmentInput } from '../firmware/signing/verifier.js';
import { nodeDigest } from '../host-sim/node/hardware.js';
import { parseArgs, stringOption } from './args.js';
import { checkLedgers, ledgerLines } from './ledger-check.js';

// ---------------------------------------------------------------- the directory layout

export interface EvidenceLayout {
  root: Uint8Array;
  revocations?: Uint8Array;
  docks?: { id: string; certificate: Uint8Array }[];
  devices: {
    id: string;
    certificate?: Uint8Array;
    segments: { seq: number; manifest?: Uint8Array; media?: Uint8Array }[];
    checkpoints?: Uint8Array[];
    receipts?: Uint8Array[];
  }[];
}

/** The file name stem of a segment: its sequence number, 10 digits, zero-padded. */
export function segmentStem(seq: number): string {
  return String(seq).padStart(10, '0');
}

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function checkId(id: string, what: string): void {
  if (!SAFE_ID.test(id)) throw new BodycamError('E_EVIDENCE_ID', `${what} id ${JSON.stringify(id)} is not a safe directory name (letters, digits, . _ -)`);
}

/** Write evidence in the directory layout the dock station uses (for tests and tools). */
export function writeEvidenceDir(dir: string, e: EvidenceLayout): void {
  mkdirSync(join(dir, 'trust'), { recursive: true });
  writeFileSync(join(dir, 'trust', 'root.pub'), e.root);
  if (e.revocations) writeFileSync(join(dir, 'trust', 'revocations.cose'), e.revocations);
  for (const dock of e.docks ?? []) {
    checkId(dock.id, 'dock');
    mkdirSync(join(dir, 'docks', dock.id), { recursive: true });
    writeFileSync(join(dir, 'docks', dock.id, 'certificate.cose'), dock.certificate);
  }
  for (const d of e.devices) {
    checkId(d.id, 'device');
    const base = join(dir, 'devices', d.id);
    for (const sub of ['segments', 'checkpoints', 'receipts']) mkdirSync(join(base, sub), { recursive: true });
    if (d.certificate) writeFileSync(join(base, 'certificate.cose'), d.certificate);
    for (const s of d.segments) {
      if (s.manifest) writeFileSync(join(base, 'segments', `${segmentStem(s.seq)}.manifest.cose`), s.manifest);
      if (s.media) writeFileSync(join(base, 'segments', `${segmentStem(s.seq)}.media`), s.media);
    }
    (d.checkpoints ?? []).forEach((c, n) => writeFileSync(join(base, 'checkpoints', `${n}.cose`), c));
    (d.receipts ?? []).forEach((r, n) => writeFileSync(join(base, 'receipts', `${n}.cose`), r));
  }
}

/** A file in the directory the layout doesn't explain (stray media, unknown names). */
export interface LayoutProblem {
  path: string;
  message: string;
}

function list(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

function sha256File(path: string): { digest: Uint8Array; length: number } {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let length = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      length += n;
    }
  } finally {
    closeSync(fd);
  }
  return { digest: new Uint8Array(h.digest()), length };
}

/** Numbered files "<n>.cose", in numeric order; anything else is a problem. */
function numbered(dir: string, problems: LayoutProblem[]): Uint8Array[] {
  const found: [number, string][] = [];
  for (const name of list(dir)) {
    const m = /^(\d{1,10})\.cose$/.exec(name);
    if (m) found.push([Number(m[1]), name]);
    else problems.push({ path: join(dir, name), message: 'not a <number>.cose file' });
  }
  return found.sort((a, b) => a[0] - b[0]).map(([, n]) => new Uint8Array(readFileSync(join(dir, n))));
}

/** Read an evidence directory into the verifier's input; media is hashed natively, never loaded whole. */
export function readEvidenceDir(dir: string, o: { root?: Uint8Array } = {}): { input: EvidenceInput; problems: LayoutProblem[] } {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new BodycamError('E_USAGE', `${dir} is not a directory`);
  const problems: LayoutProblem[] = [];
  let root = o.root;
  if (!root) {
    const p = join(dir, 'trust', 'root.pub');
    if (!existsSync(p)) throw new BodycamError('E_USAGE', `no agency root key: ${p} is missing (or give --root FILE)`);
    root = new Uint8Array(readFileSync(p));
  }
  if (root.length !== 32) throw new BodycamError('E_USAGE', `the agency root key must be 32 raw bytes, not ${root.length}`);
  const revPath = join(dir, 'trust', 'revocations.cose');
  const revocations = existsSync(revPath) ? new Uint8Array(readFileSync(revPath)) : undefined;
  const docks: Uint8Array[] = [];
  for (const id of list(join(dir, 'docks'))) {
    const p = join(dir, 'docks', id, 'certificate.cose');
    if (existsSync(p)) docks.push(new Uint8Array(readFileSync(p)));
    else problems.push({ path: join(dir, 'docks', id), message: 'dock directory without certificate.cose' });
  }
  const devices: DeviceInput[] = [];
  for (const id of list(join(dir, 'devices'))) {
    const base = join(dir, 'devices', id);
    if (!statSync(base).isDirectory()) {
      problems.push({ path: base, message: 'not a device directory' });
      continue;
    }
    const certPath = join(base, 'certificate.cose');
    const bySeq = new Map<number, { manifest?: string; media?: string }>();
    const segDir = join(base, 'segments');
    for (const name of list(segDir)) {
      const m = /^(\d{10})\.(manifest\.cose|media)$/.exec(name);
      if (!m) {
        problems.push({ path: join(segDir, name), message: 'not a <10-digit seq>.manifest.cose or .media file' });
        continue;
      }
      const seq = Number(m[1]);
      const entry = bySeq.get(seq) ?? {};
      if (m[2] === 'media') entry.media = join(segDir, name);
      else entry.manifest = join(segDir, name);
      bySeq.set(seq, entry);
    }
    const segments: SegmentInput[] = [];
    for (const [seq, files] of [...bySeq].sort((a, b) => a[0] - b[0])) {
      if (!files.manifest) {
        problems.push({ path: files.media!, message: `media of segment ${seq} without its manifest` });
        continue;
      }
      const s: SegmentInput = { seq, manifest: new Uint8Array(readFileSync(files.manifest)) };
      if (files.media) {
        const h = sha256File(files.media);
        s.mediaDigest = h.digest;
        s.mediaLength = h.length;
      }
      segments.push(s);
    }
    devices.push({
      id,
      ...(existsSync(certPath) ? { certificate: new Uint8Array(readFileSync(certPath)) } : {}),
      segments,
      checkpoints: numbered(join(base, 'checkpoints'), problems),
      receipts: numbered(join(base, 'receipts'), problems),
    });
  }
  return { input: { root, ...(revocations ? { revocations } : {}), docks, devices }, problems };
}

// ---------------------------------------------------------------- the command

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The report with bytes as hex, for JSON. */
function jsonable(v: unknown): unknown {
  if (v instanceof Uint8Array) return hex(v);
  if (Array.isArray(v)) return v.map(jsonable);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonable(x)]));
  return v;
}

function human(dir: string, report: EvidenceReport, problems: LayoutProblem[], out: (l: string) => void): void {
  out(`evidence in ${dir}`);
  for (const f of report.reasons) out(`  TRUST    ${f.code}: ${f.message}`);
  for (const p of problems) out(`  LAYOUT   ${p.path}: ${p.message}`);
  for (const d of report.devices) {
    const n = d.segments.length;
    const bad = d.segments.filter((s) => !s.valid).length;
    const range = n ? ` (${d.segments[0].seq ?? '?'}-${d.segments[n - 1].seq ?? '?'})` : '';
    out(`${d.valid ? 'VALID  ' : 'INVALID'}  ${d.device}: ${n} segment${n === 1 ? '' : 's'}${range}${bad ? `, ${bad} invalid` : ''}, ${d.checkpoints} checkpoint${d.checkpoints === 1 ? '' : 's'}, ${d.receipts} receipt${d.receipts === 1 ? '' : 's'}${d.certificate ? `, key ${hex(d.certificate.keyId)}` : ''}`);
    for (const f of d.reasons) out(`    ${f.code}: ${f.message}`);
    for (const s of d.segments) for (const f of s.reasons) out(`    segment ${s.seq ?? '?'}: ${f.code}: ${f.message}`);
  }
  const devicesBad = report.devices.filter((d) => !d.valid).length;
  const ok = report.valid && problems.length === 0;
  out(ok ? `OK: ${report.devices.length} device${report.devices.length === 1 ? '' : 's'}, ${report.devices.reduce((n, d) => n + d.segments.length, 0)} segments, all verified` : `FAILED: ${devicesBad} of ${report.devices.length} devices with findings${report.reasons.length ? ', untrusted trust material' : ''}${problems.length ? `, ${problems.length} stray file${problems.length === 1 ? '' : 's'}` : ''}`);
}

const HELP = [
  'usage: bodycam verify DIR [--root FILE] [--json] [--reference]',
  '',
  'Verify a directory of evidence as the dock station stores it (docs/FORMAT.md):',
  'certificates, manifest signatures, media digests, the hash chain, checkpoints and receipts.',
  '  --root FILE   the agency root public key (32 raw bytes); default DIR/trust/root.pub',
  '  --json        print the full report as JSON',
  '  --reference   verify with the firmware\'s TweetNaCl instead of Node\'s native Ed25519',
  'Exit status: 0 everything verifies, 1 something does not, 2 usage error.',
];

export async function verifyCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const p = parseArgs(argv, { root: { value: true }, json: {}, reference: {}, help: {} });
  if (p.options.help) {
    HELP.forEach((l) => out(l));
    return 0;
  }
  if (p.positionals.length !== 1) throw new BodycamError('E_USAGE', 'bodycam verify takes one directory (bodycam verify --help)');
  const dir = p.positionals[0];
  const rootFile = stringOption(p, 'root');
  let root: Uint8Array | undefined;
  if (rootFile) {
    if (!existsSync(rootFile)) throw new BodycamError('E_USAGE', `--root ${rootFile}: no such file`);
    root = new Uint8Array(readFileSync(rootFile));
  }
  const { input, problems } = readEvidenceDir(dir, { root });
  const report = verifyEvidence(input, { digest: nodeDigest, ed25519: p.options.reference ? tweetEd25519 : hostEd25519() });
  // The audit ledgers (cli/ledger-check.ts; firmware/recorder/ledger-verify.ts).
  const ledgers = checkLedgers(dir, input.root, p.options.reference ? tweetEd25519 : hostEd25519());
  const ok = report.valid && problems.length === 0 && ledgers.every((l) => l.valid);
  if (p.options.json) out(JSON.stringify(jsonable({ ...report, directory: dir, valid: ok, problems, ledgers: ledgers.map((l) => ({ ...l, entries: l.entries.length })) }), null, 2));
  else {
    human(dir, report, problems, out);
    ledgerLines(ledgers).forEach((l) => out(l));
    if (report.valid && problems.length === 0 && !ok) out('FAILED: an audit ledger does not verify');
  }
  return ok ? 0 : 1;
}
