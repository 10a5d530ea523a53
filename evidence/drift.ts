// The camera's clock offset, from what was signed: the drift statements the camera signs before
// a dock sets its clock (DIR/devices/<id>/clock/<n>.cose, "bodycam/drift/1", docs/FORMAT.md),
// verified with the device's certified key. The dock's view of its own clock at that session is
// the `utc` of the dock-signed receipts carrying the same session nonce: a statement they
// corroborate says so. Never read from the index or the custody table.

import { join } from 'node:path';
import { isBytes, isUint } from '../firmware/codec/cbor.js';
import { errorCode, errorMessage } from '../firmware/errors.js';
import type { Ed25519 } from '../firmware/signing/ed25519.js';
import { openStructure } from '../firmware/signing/signed.js';
import { peekReceipt } from '../firmware/signing/receipt.js';
import { sameBytes } from '../firmware/signing/signer.js';
import { DRIFT_TYPE } from '../firmware/recorder/recorder.js';
import type { SafeReader } from './layout.js';

export interface DriftStatement {
  file: string;
  boot: number;
  mono: number;
  /** The dock's UTC it sent the camera (ms). */
  dockUtc: number;
  /** The camera's RTC just before it was set (ms). */
  cameraUtc: number;
  /** cameraUtc − dockUtc (ms). */
  drift: number;
  nonce: Uint8Array;
  /** A dock-signed receipt of the same session, and its clock, when one is in the evidence. */
  corroboratedBy?: { receipt: number; dock: string; utc: number };
}

export interface DriftFinding {
  code: 'drift-unsigned' | 'drift-device' | 'drift-malformed' | 'drift-inconsistent';
  message: string;
  file: string;
}

/** Receipts further than this from the statement's dock time do not corroborate it. */
const CORROBORATION_WINDOW_MS = 24 * 3600 * 1000;

/** Every drift statement of a device that verifies with its key; the rest are findings. */
export function readDriftStatements(r: SafeReader, deviceDir: string, device: string, publicKey: Uint8Array, receipts: Uint8Array[], ed25519: Ed25519): { statements: DriftStatement[]; findings: DriftFinding[] } {
  const statements: DriftStatement[] = [];
  const findings: DriftFinding[] = [];
  const dir = join(deviceDir, 'clock');
  const peeked = receipts.flatMap((b, n) => {
    try {
      return [{ n, receipt: peekReceipt(b).receipt }];
    } catch {
      return [];
    }
  });
  for (const name of r.list(dir)) {
    const file = join(dir, name);
    const bytes = r.read(file);
    if (!bytes) continue;
    try {
      const f = openStructure(bytes, DRIFT_TYPE, 'E_DRIFT_FORMAT', publicKey, ed25519).fields;
      const n = (k: string) => {
        const v = f.get(k);
        if (!isUint(v)) throw new Error(`field ${k} is not an unsigned integer`);
        return v;
      };
      const nonce = f.get('nonce');
      if (!isBytes(nonce)) throw new Error('field nonce is not bytes');
      if (f.get('device') !== device) {
        findings.push({ code: 'drift-device', message: `a drift statement of ${String(f.get('device'))} filed under ${device}`, file });
        continue;
      }
      const s: DriftStatement = { file, boot: n('boot'), mono: n('mono'), dockUtc: n('dockUtc'), cameraUtc: n('cameraUtc'), drift: 0, nonce };
      // `drift` is signed as a signed integer; recompute and compare rather than trust either alone.
      s.drift = s.cameraUtc - s.dockUtc;
      const signed = f.get('drift');
      if (typeof signed !== 'number' || signed !== s.drift) {
        findings.push({ code: 'drift-inconsistent', message: `the statement's drift ${String(signed)} is not cameraUtc − dockUtc (${s.drift})`, file });
        continue;
      }
      const match = peeked.find((p) => sameBytes(p.receipt.nonce, nonce) && Math.abs(p.receipt.utc - s.dockUtc) <= CORROBORATION_WINDOW_MS);
      if (match) s.corroboratedBy = { receipt: match.n, dock: match.receipt.dock, utc: match.receipt.utc };
      statements.push(s);
    } catch (e) {
      const msg = errorMessage(e);
      findings.push({ code: errorCode(e) === 'E_COSE_SIGNATURE' ? 'drift-unsigned' : 'drift-malformed', message: `the drift statement does not verify with ${device}'s key (${msg})`, file });
    }
  }
  statements.sort((a, b) => a.dockUtc - b.dockUtc);
  return { statements, findings };
}

/**
 * The statement that measures the clock a segment was recorded with: the first one made after
 * its last frame (a dock sets the clock then, so later frames run on the corrected clock); the
 * newest one when none is later.
 */
export function driftFor(statements: DriftStatement[], lastUtc: number): DriftStatement | undefined {
  return statements.find((s) => s.cameraUtc >= lastUtc) ?? statements[statements.length - 1];
}
