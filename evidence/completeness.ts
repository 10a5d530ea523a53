// Completeness from the camera's side: its signed audit ledger says which segments it recorded,
// recovered after a cut, and released to which dock after a verified receipt. Every segment it
// names must be in the store — unless the ledger itself says it was released to a dock whose
// evidence is kept elsewhere (that is the signed record of why it is not here). A tail cut that
// took segments with their checkpoints and receipts still leaves the ledger's word for them.

import type { LedgerReport } from '../firmware/recorder/ledger-verify.js';

export interface CompletenessFinding {
  code: 'ledger-missing-segment';
  device: string;
  seq: number;
  message: string;
}

export interface Completeness {
  device: string;
  findings: CompletenessFinding[];
  /** Segments the ledger says went to docks whose evidence is not in this store. */
  elsewhere: { dock: string; seqs: number[] }[];
}

function seqsOf(detail: Map<unknown, unknown>): number[] {
  const one = detail.get('seq');
  const many = detail.get('seqs');
  const out: number[] = [];
  if (typeof one === 'number' && Number.isSafeInteger(one)) out.push(one);
  if (Array.isArray(many)) for (const s of many) if (typeof s === 'number' && Number.isSafeInteger(s)) out.push(s);
  return out;
}

/**
 * Cross-check one device's verified ledger against the segments present. `docksHere`: the docks
 * whose evidence this store holds (their certificates are in it).
 */
export function crossCheckLedger(ledger: LedgerReport, present: ReadonlySet<number>, docksHere: ReadonlySet<string>): Completeness {
  const named = new Map<number, string>();
  const released = new Map<number, string>();
  for (const e of ledger.entries) {
    const seqs = seqsOf(e.detail as Map<unknown, unknown>);
    if (e.event === 'released') {
      const dock = e.detail.get('dock');
      for (const s of seqs) released.set(s, typeof dock === 'string' ? dock : '?');
    } else if (e.event === 'recording' || e.event === 'stopped' || e.event === 'segment-recovered') {
      for (const s of seqs) if (!named.has(s)) named.set(s, `${e.event} (ledger entry ${e.index})`);
    }
  }
  for (const s of released.keys()) if (!named.has(s)) named.set(s, `released to ${released.get(s)}`);
  const findings: CompletenessFinding[] = [];
  const elsewhere = new Map<string, number[]>();
  for (const [seq, why] of [...named].sort((a, b) => a[0] - b[0])) {
    if (present.has(seq)) continue;
    const dock = released.get(seq);
    if (dock !== undefined && !docksHere.has(dock)) {
      elsewhere.set(dock, [...(elsewhere.get(dock) ?? []), seq]);
      continue;
    }
    findings.push({
      code: 'ledger-missing-segment',
      device: ledger.device,
      seq,
      message: dock !== undefined ? `the camera's signed ledger says segment ${seq} was released to ${dock} after its receipt, and it is not in the store` : `the camera's signed ledger names segment ${seq} (${why}), and it is not in the store nor released to any dock`,
    });
  }
  return { device: ledger.device, findings, elsewhere: [...elsewhere].map(([dock, seqs]) => ({ dock, seqs })) };
}
