// The custody log (docs/custody-log.md): every custody event a dock station records — each
// stored segment, receipt, checkpoint, drift statement, ledger entry, certificate, session — is a
// leaf of an append-only Merkle log (RFC 6962 hashing, evidence/merkle.ts). The station signs
// checkpoints (tree size + root hash, "bodycam/log-checkpoint/1") with its dock key; a
// checkpoint copied out of the store (to the evidence system, a daily report, a witness) then
// pins everything the station had recorded by then. SQLite stays the index; the log is what is
// signed.
//
// This module defines the leaf and the checkpoint, and checks a store against a checkpoint: the
// log must reproduce the checkpoint's root, and every object a leaf within it names must be in
// the store with the digest the leaf gives. It never trusts the custody table, only leaves that
// hash to a signed root.

import Database from 'better-sqlite3';
import { join } from 'node:path';
import { decode, encode, isMap, toHex, type CborValue } from '../firmware/codec/cbor.js';
import { BodycamError, errorCode, errorMessage } from '../firmware/errors.js';
import type { Ed25519 } from '../firmware/signing/ed25519.js';
import { isRevoked, verifyCertificate, verifyRevocationList, type VerifiedCertificate } from '../firmware/signing/certificate.js';
import type { Signer } from '../firmware/signing/signer.js';
import { sameBytes } from '../firmware/signing/signer.js';
import { bytes, openStructure, peekStructure, signStructure, text, uint } from '../firmware/signing/signed.js';
import { nodeDigest } from '../host/ports.js';
import { consistencyProof, inclusionProof, leafHash, rootsAt, treeHash, verifyConsistency, type Hash } from './merkle.js';
import type { SafeReader } from './layout.js';

export const CUSTODY_LEAF_TYPE = 'bodycam/custody/1';
export const LOG_CHECKPOINT_TYPE = 'bodycam/log-checkpoint/1';

/** One custody event, as the station records it. `detail` is JSON text, signed as text. */
export interface CustodyEntry {
  at: number;
  dock: string;
  session: string | null;
  device: string | null;
  event: string;
  detail: string | null;
}

/** The leaf bytes of a custody entry: deterministic CBOR (docs/custody-log.md). */
export function encodeCustodyLeaf(e: CustodyEntry): Uint8Array {
  return encode({ type: CUSTODY_LEAF_TYPE, at: e.at, dock: e.dock, session: e.session, device: e.device, event: e.event, detail: e.detail });
}

export function decodeCustodyLeaf(leaf: Uint8Array): CustodyEntry {
  const v = decode(leaf, { maxDepth: 2, maxItems: 16 });
  if (!isMap(v) || v.get('type') !== CUSTODY_LEAF_TYPE) throw new BodycamError('E_CUSTODY_LEAF', 'not a bodycam/custody/1 leaf');
  const textOrNull = (k: string) => {
    const x = v.get(k);
    if (x !== null && typeof x !== 'string') throw new BodycamError('E_CUSTODY_LEAF', `leaf field ${k} is not text or null`);
    return x;
  };
  const at = v.get('at');
  const dock = v.get('dock');
  const event = v.get('event');
  if (typeof at !== 'number' || typeof dock !== 'string' || typeof event !== 'string') throw new BodycamError('E_CUSTODY_LEAF', 'leaf lacks at, dock or event');
  return { at, dock, session: textOrNull('session'), device: textOrNull('device'), event, detail: textOrNull('detail') };
}

export interface LogCheckpoint {
  /** The log's name: "bodycam-custody/<dock id>". */
  log: string;
  dock: string;
  keyId: Uint8Array;
  size: number;
  root: Uint8Array;
  /** The dock's clock when it signed. */
  utc: number;
}

const CODE = 'E_LOG_CHECKPOINT_FORMAT';

export function logName(dock: string): string {
  return `bodycam-custody/${dock}`;
}

export function signLogCheckpoint(c: Omit<LogCheckpoint, 'keyId' | 'log'>, signer: Signer): Uint8Array {
  return signStructure(LOG_CHECKPOINT_TYPE, { log: logName(c.dock), dock: c.dock, keyId: signer.keyId, size: c.size, root: c.root, utc: c.utc }, signer);
}

function checkpointFields(f: Map<CborValue, CborValue>): LogCheckpoint {
  return { log: text(f, 'log', CODE, 'log checkpoint'), dock: text(f, 'dock', CODE, 'log checkpoint'), keyId: bytes(f, 'keyId', CODE, 'log checkpoint', 8), size: uint(f, 'size', CODE, 'log checkpoint'), root: bytes(f, 'root', CODE, 'log checkpoint', 32), utc: uint(f, 'utc', CODE, 'log checkpoint') };
}

export function peekLogCheckpoint(b: Uint8Array): LogCheckpoint {
  return checkpointFields(peekStructure(b, LOG_CHECKPOINT_TYPE, CODE).fields);
}

/** Verify a log checkpoint against the dock certificates that chain to the root (not revoked at its time). */
export function openLogCheckpoint(b: Uint8Array, docks: VerifiedCertificate[], o: { revocations?: Uint8Array; root: Uint8Array; ed25519: Ed25519 }): LogCheckpoint {
  const peeked = peekLogCheckpoint(b);
  const dock = docks.find((d) => d.id === peeked.dock && sameBytes(d.keyId, peeked.keyId));
  if (!dock) throw new BodycamError('E_LOG_CHECKPOINT_DOCK', `signed in the name of dock ${peeked.dock}, whose certificate is not in the store or does not chain to the root`);
  const c = checkpointFields(openStructure(b, LOG_CHECKPOINT_TYPE, CODE, dock.publicKey, o.ed25519).fields);
  if (c.log !== logName(c.dock)) throw new BodycamError(CODE, `log name ${c.log} is not ${logName(c.dock)}`);
  if (o.revocations) {
    const list = verifyRevocationList(o.revocations, o.root, { ed25519: o.ed25519 });
    const r = isRevoked(list, dock.keyId, c.utc);
    if (r) throw new BodycamError('E_CERT_REVOKED', `dock ${dock.id}'s key is revoked (${r.reason}) at the checkpoint's time`);
  }
  return c;
}

export interface CustodyFinding {
  code: 'custody-missing' | 'custody-mismatch' | 'custody-truncated' | 'custody-forked' | 'custody-unreadable' | 'custody-checkpoint';
  message: string;
  device?: string;
  seq?: number;
  path?: string;
}

export interface CustodyReport {
  /** The checkpoint the store was checked against: outside the store (given), or the store's newest. */
  reference: { source: 'outside' | 'store'; file: string; dock: string; size: number; root: string; utc: string } | null;
  /** Leaves in the store's log. */
  logSize: number;
  /** The store's own checkpoints that verified and match its log. */
  storeCheckpoints: number;
  findings: CustodyFinding[];
  statements: string[];
  /** Leaves within the reference, decoded (index = position in the log). */
  entries: (CustodyEntry & { index: number })[];
  /** Leaf hashes of the whole log (for proofs). */
  hashes: Hash[];
  /**
   * From the outside checkpoint to the store's newest (when that one is larger): the RFC 9162
   * consistency proof a witness holding only the older checkpoint checks before it accepts the newer.
   */
  consistency?: { from: number; to: number; toRoot: string; toFile: string; proof: string[] };
}

/** The log's leaves from the store's index (read-only; a missing log is empty). */
export function readLogLeaves(storeDir: string, reader: SafeReader): { leaves: Uint8Array[]; error?: string } {
  const path = join(storeDir, 'index.sqlite');
  const kind = reader.kind(path);
  if (kind === undefined) return { leaves: [] };
  if (kind !== 'file') return { leaves: [], error: `${path} is not a regular file (${kind})` };
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    const has = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'log'").get();
    if (!has) return { leaves: [] };
    const rows = db.prepare('SELECT idx, leaf FROM log ORDER BY idx').all() as { idx: number; leaf: Buffer }[];
    const leaves: Uint8Array[] = [];
    for (const r of rows) {
      if (r.idx !== leaves.length) return { leaves, error: `the log skips from index ${leaves.length - 1} to ${r.idx}` };
      leaves.push(new Uint8Array(r.leaf));
    }
    return { leaves };
  } catch (e) {
    return { leaves: [], error: `the log can't be read (${errorMessage(e)})` };
  } finally {
    db?.close();
  }
}

export interface StoreObjects {
  /** Manifest and media digests (hex) of the segments present, by device and seq. */
  segment(device: string, seq: number): { manifest: string; media: string | null } | undefined;
  hasDevice(device: string): boolean;
}

export interface CheckCustodyOptions {
  root: Uint8Array;
  revocations?: Uint8Array;
  ed25519: Ed25519;
  /** Dock certificates from the store (verified here against the root). */
  docks: Uint8Array[];
  /** A checkpoint from outside the store. */
  outside?: { bytes: Uint8Array; file: string };
  objects: StoreObjects;
  reader: SafeReader;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Check a store's custody log against a checkpoint, and every object the log names against the store. */
export function checkCustody(storeDir: string, o: CheckCustodyOptions): CustodyReport {
  const findings: CustodyFinding[] = [];
  const statements: string[] = [];
  const docks: VerifiedCertificate[] = [];
  for (const c of o.docks) {
    try {
      docks.push(verifyCertificate(c, o.root, { digest: nodeDigest, ed25519: o.ed25519, kind: 'dock' }));
    } catch {
      // an untrusted dock certificate is the verifier's finding
    }
  }
  const { leaves, error } = readLogLeaves(storeDir, o.reader);
  if (error) findings.push({ code: 'custody-unreadable', message: error, path: join(storeDir, 'index.sqlite') });
  const hashes = leaves.map(leafHash);
  const open = (bytes: Uint8Array, file: string): LogCheckpoint | undefined => {
    try {
      return openLogCheckpoint(bytes, docks, { root: o.root, revocations: o.revocations, ed25519: o.ed25519 });
    } catch (e) {
      findings.push({ code: 'custody-checkpoint', message: `${errorCode(e)}: the checkpoint does not verify (${errorMessage(e)})`, path: file });
      return undefined;
    }
  };
  // Every checkpoint first, then the log's root at each of their sizes in one pass (a station
  // signs one per session: thousands of them must not cost a rehash of the log each).
  const storeDir2 = join(storeDir, 'log', 'checkpoints');
  const own: { c: LogCheckpoint; file: string }[] = [];
  for (const name of o.reader.list(storeDir2)) {
    const file = join(storeDir2, name);
    if (!/^\d{10}\.cose$/.test(name)) {
      o.reader.problem(file, 'E_LAYOUT_STRAY', 'not a <10-digit size>.cose checkpoint');
      continue;
    }
    const bytes = o.reader.read(file);
    const c = bytes ? open(bytes, file) : undefined;
    if (c) own.push({ c, file });
  }
  const given = o.outside ? open(o.outside.bytes, o.outside.file) : undefined;
  const roots = rootsAt(hashes, [...own.map((x) => x.c.size), ...(given ? [given.size] : [])]);

  /** Does the log reproduce this checkpoint? A finding when not. */
  const matches = (c: LogCheckpoint, file: string, whose: string): boolean => {
    if (c.size > hashes.length) {
      findings.push({ code: 'custody-truncated', message: `${whose} checkpoint (${file}) covers ${c.size} custody entries, the store's log holds ${hashes.length}: the log was cut back by ${c.size - hashes.length}`, path: file });
      return false;
    }
    if (!sameBytes(roots.get(c.size)!, c.root)) {
      findings.push({ code: 'custody-forked', message: `the store's first ${c.size} custody entries do not hash to ${whose} checkpoint's root (${file}): entries were altered, removed or reordered`, path: file });
      return false;
    }
    return true;
  };

  // The store's own checkpoints: each must match its log (they can be deleted, so they prove little alone).
  let newest: { c: LogCheckpoint; file: string } | undefined;
  let storeCheckpoints = 0;
  for (const { c, file } of own) {
    if (matches(c, file, 'the store\'s')) {
      storeCheckpoints++;
      if (!newest || c.size > newest.c.size) newest = { c, file };
    }
  }

  let reference: CustodyReport['reference'] = null;
  let covered = 0;
  if (o.outside) {
    const c = given;
    if (c) {
      reference = { source: 'outside', file: o.outside.file, dock: c.dock, size: c.size, root: toHex(c.root), utc: iso(c.utc) };
      // A log that does not reproduce the checkpoint authenticates none of its entries.
      covered = matches(c, o.outside.file, 'the outside') ? c.size : 0;
    }
  } else if (newest) {
    reference = { source: 'store', file: newest.file, dock: newest.c.dock, size: newest.c.size, root: toHex(newest.c.root), utc: iso(newest.c.utc) };
    covered = newest.c.size;
    statements.push(`checked against the store's own newest custody checkpoint (${newest.c.size} entries): that proves the log was not altered, not that nothing was deleted with its later checkpoints; give --checkpoint FILE from outside the store for that`);
  } else {
    statements.push(leaves.length ? 'the store\'s custody log has no checkpoint: nothing pins it' : 'the store holds no custody log: its completeness is not proven');
  }

  // Everything the covered entries name must be here, unchanged.
  const entries: CustodyReport['entries'] = [];
  for (let i = 0; i < covered; i++) {
    let e: CustodyEntry;
    try {
      e = decodeCustodyLeaf(leaves[i]);
    } catch (err) {
      findings.push({ code: 'custody-unreadable', message: `custody entry ${i} can't be read (${errorMessage(err)})` });
      continue;
    }
    entries.push({ ...e, index: i });
    let detail: Record<string, unknown> = {};
    try {
      const d = e.detail === null ? null : (JSON.parse(e.detail) as unknown);
      if (d && typeof d === 'object' && !Array.isArray(d)) detail = d as Record<string, unknown>;
    } catch {
      // a detail that isn't JSON names nothing
    }
    if (e.device && !o.objects.hasDevice(e.device) && (e.event === 'segment-stored' || e.event === 'object-stored')) {
      findings.push({ code: 'custody-missing', message: `custody entry ${i} (${e.event}, ${iso(e.at)}) names device ${e.device}, which is not in the store`, device: e.device });
      continue;
    }
    if (e.event === 'segment-stored' && e.device && typeof detail.seq === 'number') {
      const seq = detail.seq;
      const s = o.objects.segment(e.device, seq);
      if (!s) findings.push({ code: 'custody-missing', message: `custody entry ${i}: ${e.device} segment ${seq}, stored ${iso(e.at)} by ${e.dock}, is not in the store`, device: e.device, seq });
      else if ((typeof detail.manifest === 'string' && detail.manifest !== s.manifest) || (typeof detail.media === 'string' && detail.media !== s.media)) {
        findings.push({ code: 'custody-mismatch', message: `custody entry ${i}: ${e.device} segment ${seq} in the store is not the one ${e.dock} stored`, device: e.device, seq });
      }
    } else if (e.event === 'object-stored' && typeof detail.path === 'string' && typeof detail.sha256 === 'string') {
      const rel = detail.path;
      if (rel.split('/').some((p) => p === '..' || p === '') || rel.startsWith('/')) {
        findings.push({ code: 'custody-unreadable', message: `custody entry ${i} names an unsafe path ${rel}` });
        continue;
      }
      const path = join(storeDir, rel);
      if (o.reader.kind(path) === undefined) {
        findings.push({ code: 'custody-missing', message: `custody entry ${i}: ${rel} (${String(detail.kind ?? 'object')}), stored ${iso(e.at)} by ${e.dock}, is not in the store`, ...(e.device ? { device: e.device } : {}), path });
        continue;
      }
      const h = o.reader.hash(path);
      if (h && h.digest && toHex(h.digest) !== detail.sha256) findings.push({ code: 'custody-mismatch', message: `custody entry ${i}: ${rel} is not the file ${e.dock} stored`, ...(e.device ? { device: e.device } : {}), path });
    }
  }
  let consistency: CustodyReport['consistency'];
  if (reference?.source === 'outside' && covered > 0 && newest && newest.c.size > covered) {
    const proof = consistencyProof(hashes.slice(0, newest.c.size), covered);
    if (verifyConsistency(covered, newest.c.size, treeHash(hashes, 0, covered), newest.c.root, proof)) {
      consistency = { from: covered, to: newest.c.size, toRoot: toHex(newest.c.root), toFile: newest.file, proof: proof.map(toHex) };
    }
  }
  return { reference, logSize: leaves.length, storeCheckpoints, findings, statements, entries, hashes, ...(consistency ? { consistency } : {}) };
}

/** The newest checkpoint a station wrote into its store (DIR/log/checkpoints/<size>.cose), if any. */
export function newestCheckpoint(storeDir: string, reader: SafeReader): { file: string; size: number } | undefined {
  const dir = join(storeDir, 'log', 'checkpoints');
  const names = reader.list(dir).filter((n) => /^\d{10}\.cose$/.test(n));
  const last = names[names.length - 1];
  return last ? { file: join(dir, last), size: Number(last.slice(0, 10)) } : undefined;
}

/** An inclusion proof of entry `index` against a tree of `size` (for an export's integrity report). */
export function custodyProof(report: CustodyReport, index: number): { index: number; size: number; leafHash: string; path: string[] } | undefined {
  const size = report.reference?.size ?? 0;
  if (index >= size || index >= report.hashes.length) return undefined;
  return { index, size, leafHash: toHex(report.hashes[index]), path: inclusionProof(report.hashes, index, 0, size).map(toHex) };
}

