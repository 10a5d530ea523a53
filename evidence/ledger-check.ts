// The audit-ledger part of verifying a store: for every device in an evidence directory, the
// ledger entries the dock stored (DIR/devices/<id>/ledger/*.cose) checked with the firmware's
// own verifier (firmware/recorder/ledger-verify.ts) against the device key from its
// certificate, which must chain to the agency root.

import { join } from 'node:path';
import { errorCode, errorMessage } from '../firmware/errors.js';
import type { Ed25519 } from '../firmware/signing/ed25519.js';
import { verifyCertificate } from '../firmware/signing/certificate.js';
import { verifyLedger, type LedgerReport } from '../firmware/recorder/ledger-verify.js';
import { nodeDigest } from '../host/ports.js';
import { SafeReader } from './layout.js';

/** Ledger reports of every device that has a ledger folder (read without following links). */
export function checkLedgers(dir: string, root: Uint8Array, ed25519: Ed25519, r = new SafeReader()): LedgerReport[] {
  const devices = join(dir, 'devices');
  const out: LedgerReport[] = [];
  for (const id of r.list(devices)) {
    const ledgerDir = join(devices, id, 'ledger');
    if (r.kind(join(devices, id)) !== 'dir' || r.kind(ledgerDir) === undefined) continue;
    const files = r.list(ledgerDir).filter((n) => n.endsWith('.cose')).flatMap((n) => r.read(join(ledgerDir, n)) ?? []);
    const certPath = join(devices, id, 'certificate.cose');
    try {
      const certificate = r.kind(certPath) === undefined ? undefined : r.read(certPath);
      if (!certificate) throw new Error('E_CERT_MISSING: no certificate.cose to check the ledger with');
      const cert = verifyCertificate(certificate, root, { digest: nodeDigest, ed25519, kind: 'device' });
      out.push(verifyLedger(files, { device: id, publicKey: cert.publicKey, digest: nodeDigest, ed25519 }));
    } catch (e) {
      out.push({ device: id, valid: false, entries: [], startsAt: 0, findings: [{ code: errorCode(e), message: `the ledger can't be checked: ${errorMessage(e)}` }] });
    }
  }
  return out;
}

/** Lines for the human report. */
export function ledgerLines(reports: LedgerReport[]): string[] {
  return reports.flatMap((r) => [
    `${r.valid ? 'VALID  ' : 'INVALID'}  ${r.device} ledger: ${r.entries.length} entr${r.entries.length === 1 ? 'y' : 'ies'}${r.entries.length ? ` (${r.startsAt}-${r.entries[r.entries.length - 1].index})` : ''}${r.startsAt > 0 ? `, earlier entries are with another dock's evidence` : ''}`,
    ...r.findings.map((f) => `    ledger: ${f.code}: ${f.message}`),
  ]);
}
