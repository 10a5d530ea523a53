// Verify a store of evidence as a whole: the firmware verifier over every device (certificates,
// manifests, media digests, chain, checkpoints, receipts), the audit ledgers and their word on
// which segments exist (completeness.ts), the custody log against a checkpoint (custody-log.ts),
// and the layout itself — all against the trust the caller pinned (trust.ts). The one answer
// that `bodycam verify`, the scenario runner and an export start from.
//
// Promises: any store gives a report — bad files are findings with their paths, never an
// exception; `valid` is true only when nothing at all was found.

import { statSync } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '../firmware/codec/cbor.js';
import type { Ed25519 } from '../firmware/signing/ed25519.js';
import { REASONS, verifyEvidence, type EvidenceInput, type EvidenceReport } from '../firmware/signing/verifier.js';
import type { LedgerReport } from '../firmware/recorder/ledger-verify.js';
import { peekCertificate } from '../firmware/signing/certificate.js';
import { nodeDigest } from '../host/ports.js';
import { FLAG_UNREAD } from '../firmware/signing/manifest.js';
import { NEEDS_KEY_NOTE } from './sealed.js';
import { crossCheckLedger, type Completeness } from './completeness.js';
import { checkCustody, type CustodyReport } from './custody-log.js';
import { checkLedgers } from './ledger-check.js';
import { readEvidenceDir, SafeReader, type LayoutProblem } from './layout.js';
import type { Trust } from './trust.js';

export interface StoreReport {
  directory: string;
  /** Uploads a dock station's store holds unfinished (partial/<device>/<seq>.part), by device. */
  uploads: { device: string; seq: number; bytes: number }[];
  valid: boolean;
  trust: { fingerprint: string; source: Trust['source']; rootFrom: string; revocationsFrom: string | null; statements: string[] };
  evidence: EvidenceReport;
  problems: LayoutProblem[];
  ledgers: LedgerReport[];
  /** Each device's ledger against its segments. */
  completeness: Completeness[];
  custody: CustodyReport;
  /**
   * Sealed segments (docs/FORMAT.md, "Sealed segments"), by device: checked here without the
   * evidence key — signature, the sealed media's digest and length, chain, custody — and what only
   * the key can check (`needsKey`), said rather than skipped.
   */
  sealed: { device: string; segments: number; sealed: number; recipients: string[]; unread: number[]; needsKey: string }[];
  /** What was read (for callers that go on, like an export). */
  input: EvidenceInput;
}

export interface VerifyStoreOptions {
  trust: Trust;
  ed25519: Ed25519;
  /** A custody-log checkpoint from outside the store (--checkpoint FILE). */
  checkpoint?: { bytes: Uint8Array; file: string };
}

export function trustSummary(t: Trust): StoreReport['trust'] {
  return { fingerprint: t.fingerprint, source: t.source, rootFrom: t.rootFrom, revocationsFrom: t.revocationsFrom ?? null, statements: t.statements };
}

export function verifyStore(dir: string, o: VerifyStoreOptions): StoreReport {
  const reader = new SafeReader();
  const { input } = readEvidenceDir(dir, o.trust, reader);
  const evidence = verifyEvidence(input, { digest: nodeDigest, ed25519: o.ed25519 });
  const uploads = inProgress(dir, reader);
  explainTruncation(evidence, uploads);
  const ledgers = checkLedgers(dir, o.trust.root, o.ed25519, reader);

  // What is present, by device: stored seq → digests.
  const present = new Map<string, Map<number, { manifest: string; media: string | null }>>();
  input.devices.forEach((d, i) => {
    const m = new Map<number, { manifest: string; media: string | null }>();
    d.segments.forEach((s, j) => {
      if (s.seq !== undefined) m.set(s.seq, { manifest: toHex(evidence.devices[i].segments[j].manifestDigest), media: s.mediaDigest ? toHex(s.mediaDigest) : null });
    });
    present.set(d.id, m);
  });
  const docksHere = new Set<string>();
  for (const c of input.docks ?? []) {
    try {
      docksHere.add(peekCertificate(c).id);
    } catch {
      // an unreadable dock certificate is the verifier's finding
    }
  }
  const completeness = ledgers.filter((l) => l.valid || l.entries.length).map((l) => crossCheckLedger(l, new Set(present.get(l.device)?.keys() ?? []), docksHere));
  const custody = checkCustody(dir, {
    root: o.trust.root,
    revocations: o.trust.revocations,
    ed25519: o.ed25519,
    docks: input.docks ?? [],
    outside: o.checkpoint,
    objects: { segment: (device, seq) => present.get(device)?.get(seq), hasDevice: (device) => present.has(device) || reader.kind(join(dir, 'devices', device)) === 'dir' },
    reader,
  });
  const sealed: StoreReport['sealed'] = [];
  for (const d of evidence.devices) {
    const withKey = d.segments.filter((x) => x.manifest?.sealed);
    if (!withKey.length) continue;
    const kids = new Set<string>();
    for (const x of withKey) for (const r of x.manifest!.sealed!.recipients) kids.add(toHex(r.kid));
    sealed.push({ device: d.device, segments: d.segments.length, sealed: withKey.length, recipients: [...kids], unread: withKey.filter((x) => x.manifest!.flags & FLAG_UNREAD).map((x) => x.seq!), needsKey: NEEDS_KEY_NOTE });
  }
  const problems = reader.problems;
  const valid = evidence.valid && problems.length === 0 && ledgers.every((l) => l.valid) && completeness.every((c) => c.findings.length === 0) && custody.findings.length === 0;
  return { directory: dir, uploads, valid, trust: trustSummary(o.trust), evidence, problems, ledgers, completeness, custody, sealed, input };
}

const PART = /^(\d{10})\.part$/;

/** The unfinished uploads of a station's store: regular files partial/<device>/<seq>.part (links are not followed). */
function inProgress(dir: string, reader: SafeReader): StoreReport['uploads'] {
  const out: StoreReport['uploads'] = [];
  const partial = join(dir, 'partial');
  for (const device of reader.list(partial)) {
    for (const name of reader.list(join(partial, device))) {
      const m = PART.exec(name);
      const path = join(partial, device, name);
      if (m && reader.kind(path) === 'file') out.push({ device, seq: Number(m[1]), bytes: statSync(path).size });
    }
  }
  return out;
}

/**
 * A tail the receipts or checkpoints name but the store lacks is "truncated" — unless the store
 * holds that device's upload of the first missing segment unfinished: then it is an upload in
 * progress. Still a finding (the evidence is not all there, and the report stays invalid), but not
 * the word for tampering. A planted .part file can change only the word, never the verdict.
 */
function explainTruncation(evidence: EvidenceReport, uploads: StoreReport['uploads']): void {
  for (const d of evidence.devices) {
    const held = uploads.filter((u) => u.device === d.device);
    if (!held.length) continue;
    const first = held.reduce((a, b) => (b.seq < a.seq ? b : a));
    d.reasons = d.reasons.map((r) =>
      r.code === REASONS.TRUNCATED && r.seq !== undefined && r.seq >= first.seq
        ? { code: REASONS.UPLOAD_IN_PROGRESS, message: `${r.message}; the station holds segment ${first.seq}'s upload unfinished (${first.bytes} bytes so far): an upload in progress, not evidence yet`, seq: r.seq }
        : r,
    );
  }
}
