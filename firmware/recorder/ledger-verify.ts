// Verifying an audit ledger (ledger.ts) as uploaded to a dock: every entry signed by the camera's
// key and of this device, one entry per index, each chained to the one before by `prev`, time
// that never runs backwards within a boot, boots that never go back. Entries arrive in any
// order (the dock stores them by content); they are put in index order here.
//
// A ledger may begin after index 0: a camera drops entries a dock has already stored, and that
// dock's evidence holds them. That is reported (`startsAt`) but is not a failure; a hole inside
// the run, two different entries with one index, or a broken link is.

import { isBytes, isMap, isText, isUint, type CborValue } from '../codec/cbor.js';
import { BodycamError, errorCode, errorMessage } from '../errors.js';
import type { Digest } from '../platform/digest.js';
import { sha256Of } from '../platform/digest.js';
import type { Ed25519 } from '../signing/ed25519.js';
import { openStructure } from '../signing/signed.js';
import { sameBytes } from '../signing/signer.js';
import { LEDGER_EVENTS, LEDGER_TYPE, type LedgerEvent } from './ledger.js';

export interface LedgerEntry {
  index: number;
  device: string;
  prev: Uint8Array | null;
  boot: number;
  mono: number;
  utc: number;
  clockSource: string;
  event: LedgerEvent;
  detail: Map<CborValue, CborValue>;
  /** The entry as signed (COSE_Sign1). */
  cose: Uint8Array;
}

export interface LedgerFinding {
  code: string;
  message: string;
  index?: number;
}

export interface LedgerReport {
  device: string;
  valid: boolean;
  entries: LedgerEntry[];
  /** Index of the first entry held (0 unless older entries were left at an earlier dock). */
  startsAt: number;
  findings: LedgerFinding[];
}

const CODE = 'E_LEDGER_FORMAT';

/** Read one entry, checking its signature with the device's public key. Throws on any doubt. */
export function openLedgerEntry(cose: Uint8Array, publicKey: Uint8Array, ed25519?: Ed25519): LedgerEntry {
  const f = openStructure(cose, LEDGER_TYPE, CODE, publicKey, ed25519).fields;
  const get = <T extends CborValue>(k: string, check: (v: CborValue) => v is T, what: string): T => {
    const v = f.get(k);
    if (v === undefined || !check(v)) throw new BodycamError(CODE, `ledger entry field "${k}" missing or not ${what}`);
    return v;
  };
  const prev = f.get('prev');
  if (!(prev === null || (isBytes(prev) && prev.length === 32))) throw new BodycamError(CODE, 'ledger entry field "prev" must be null or 32 bytes');
  const event = get('event', isText, 'text');
  if (!(LEDGER_EVENTS as readonly string[]).includes(event)) throw new BodycamError(CODE, `unknown ledger event "${event}"`);
  return {
    index: get('index', isUint, 'an unsigned integer'),
    device: get('device', isText, 'text'),
    prev: prev as Uint8Array | null,
    boot: get('boot', isUint, 'an unsigned integer'),
    mono: get('mono', isUint, 'an unsigned integer'),
    utc: get('utc', isUint, 'an unsigned integer'),
    clockSource: get('clockSource', isText, 'text'),
    event: event as LedgerEvent,
    detail: get('detail', isMap, 'a map'),
    cose,
  };
}

export interface VerifyLedgerOptions {
  device: string;
  /** The device's public key, from its certificate (verified against the agency root). */
  publicKey: Uint8Array;
  digest: Digest;
  ed25519?: Ed25519;
}

export function verifyLedger(files: Uint8Array[], o: VerifyLedgerOptions): LedgerReport {
  const findings: LedgerFinding[] = [];
  const byIndex = new Map<number, { entry: LedgerEntry; bytes: Uint8Array }>();
  for (const bytes of files) {
    let entry: LedgerEntry;
    try {
      entry = openLedgerEntry(bytes, o.publicKey, o.ed25519);
    } catch (e) {
      findings.push({ code: errorCode(e), message: `an entry does not verify: ${errorMessage(e)}` });
      continue;
    }
    if (entry.device !== o.device) {
      findings.push({ code: 'E_LEDGER_DEVICE', message: `entry ${entry.index} is for ${entry.device}, not ${o.device}`, index: entry.index });
      continue;
    }
    const had = byIndex.get(entry.index);
    if (had && !sameBytes(had.bytes, bytes)) findings.push({ code: 'E_LEDGER_FORK', message: `two different entries claim index ${entry.index}`, index: entry.index });
    else byIndex.set(entry.index, { entry, bytes });
  }
  const ordered = [...byIndex.values()].sort((a, b) => a.entry.index - b.entry.index);
  const startsAt = ordered.length ? ordered[0].entry.index : 0;
  if (ordered.length && startsAt === 0 && ordered[0].entry.prev !== null) findings.push({ code: 'E_LEDGER_CHAIN', message: 'entry 0 names a previous entry', index: 0 });
  for (let i = 1; i < ordered.length; i++) {
    const a = ordered[i - 1].entry;
    const b = ordered[i].entry;
    if (b.index !== a.index + 1) {
      findings.push({ code: 'E_LEDGER_GAP', message: b.index - a.index === 2 ? `entry ${a.index + 1} is missing` : `entries ${a.index + 1}..${b.index - 1} are missing`, index: a.index + 1 });
      continue;
    }
    if (!b.prev || !sameBytes(b.prev, sha256Of(o.digest, ordered[i - 1].bytes))) findings.push({ code: 'E_LEDGER_CHAIN', message: `entry ${b.index} does not chain to entry ${a.index}`, index: b.index });
    if (b.boot < a.boot) findings.push({ code: 'E_LEDGER_TIME', message: `entry ${b.index} has boot ${b.boot}, before entry ${a.index}'s boot ${a.boot}`, index: b.index });
    else if (b.boot === a.boot && b.mono < a.mono) findings.push({ code: 'E_LEDGER_TIME', message: `entry ${b.index}'s monotonic time runs backwards within boot ${b.boot}`, index: b.index });
  }
  return { device: o.device, valid: findings.length === 0, entries: ordered.map((x) => x.entry), startsAt, findings };
}
