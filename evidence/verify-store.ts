// Verify a store of evidence as a whole: the firmware verifier over every device (certificates,
// manifests, media digests, chain, checkpoints, receipts), the audit ledgers, and the layout
// itself — all against the trust the caller pinned (evidence/trust.ts). The one answer that
// `bodycam verify`, the scenario runner and an export start from.
//
// Promises: any store gives a report — bad files are findings with their paths, never an
// exception; `valid` is true only when nothing at all was found.

import type { Ed25519 } from '../firmware/signing/ed25519.js';
import { verifyEvidence, type EvidenceInput, type EvidenceReport } from '../firmware/signing/verifier.js';
import type { LedgerReport } from '../firmware/recorder/ledger-verify.js';
import { nodeDigest } from '../host/ports.js';
import { checkLedgers } from './ledger-check.js';
import { readEvidenceDir, SafeReader, type LayoutProblem } from './layout.js';
import type { Trust } from './trust.js';

export interface StoreReport {
  directory: string;
  valid: boolean;
  trust: { fingerprint: string; source: Trust['source']; rootFrom: string; revocationsFrom: string | null; statements: string[] };
  evidence: EvidenceReport;
  problems: LayoutProblem[];
  ledgers: LedgerReport[];
  /** What was read (for callers that go on, like an export). */
  input: EvidenceInput;
}

export interface VerifyStoreOptions {
  trust: Trust;
  ed25519: Ed25519;
}

export function trustSummary(t: Trust): StoreReport['trust'] {
  return { fingerprint: t.fingerprint, source: t.source, rootFrom: t.rootFrom, revocationsFrom: t.revocationsFrom ?? null, statements: t.statements };
}

export function verifyStore(dir: string, o: VerifyStoreOptions): StoreReport {
  const reader = new SafeReader();
  const { input, problems } = readEvidenceDir(dir, o.trust, reader);
  const evidence = verifyEvidence(input, { digest: nodeDigest, ed25519: o.ed25519 });
  const ledgers = checkLedgers(dir, o.trust.root, o.ed25519, reader);
  const valid = evidence.valid && problems.length === 0 && ledgers.every((l) => l.valid);
  return { directory: dir, valid, trust: trustSummary(o.trust), evidence, problems, ledgers, input };
}
