// Pinned trust: the agency root key (and its revocation list) a verification starts from. It comes
// from the caller — a root key file (with the revocations.cose beside it, if any), or a trust
// folder configured outside the store (root.pub, revocations.cose: what `bodycam provision dock`
// writes) — never silently from the store being
// checked. Taking the store's own trust/ folder needs the caller's explicit consent
// (trustStoreRoot), and every report then says so in words. Every report names the root by its
// fingerprint.
//
// The revocation list: the newest list signed by the pinned root, from the pinned folder or the
// store (a store can withhold a list but not forge one); when the store's is missing or older, the
// report says so.

import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { BodycamError, errorMessage } from '../firmware/errors.js';
import type { Ed25519 } from '../firmware/signing/ed25519.js';
import { verifyRevocationList } from '../firmware/signing/certificate.js';
import { SafeReader } from './layout.js';

export interface Trust {
  root: Uint8Array;
  /** SHA-256 of the 32-byte root key, hex: the name every report gives the root. */
  fingerprint: string;
  /** Where the root came from: `pinned` (the caller) or `store` (the store itself, by consent). */
  source: 'pinned' | 'store';
  rootFrom: string;
  revocations?: Uint8Array;
  revocationsFrom?: string;
  /** Statements a report must carry (trust taken from the store, a stale or missing list, ...). */
  statements: string[];
}

export interface TrustOptions {
  /** The store being checked (trust/ inside it is the store's own). */
  storeDir: string;
  /** --root FILE: 32 raw bytes. */
  rootFile?: string;
  /** --revocations FILE, with --root. */
  revocationsFile?: string;
  /** --trust DIR or BODYCAM_TRUST: a folder with root.pub and optionally revocations.cose. */
  trustDir?: string;
  /** --trust-store-root: take the root from the store itself. */
  trustStoreRoot?: boolean;
  ed25519: Ed25519;
}

/** The fingerprint reports name a root by. */
export function rootFingerprint(root: Uint8Array): string {
  return createHash('sha256').update(root).digest('hex');
}

function inside(path: string, dir: string): boolean {
  let p: string;
  let d: string;
  try {
    p = realpathSync(path);
    d = realpathSync(dir);
  } catch {
    p = resolve(path);
    d = resolve(dir);
  }
  return p === d || p.startsWith(d.endsWith(sep) ? d : d + sep);
}

function mustRead(r: SafeReader, path: string, what: string): Uint8Array {
  const b = r.read(path, 64 * 1024 * 1024);
  if (!b) throw new BodycamError('E_TRUST', `${what} ${path}: ${r.problems.map((p) => p.message).join('; ') || 'unreadable'}`);
  return b;
}

/** Resolve the trust a verification or export starts from; E_TRUST_UNPINNED when none is given. */
export function resolveTrust(o: TrustOptions): Trust {
  const r = new SafeReader();
  const statements: string[] = [];
  let root: Uint8Array;
  let rootFrom: string;
  let source: Trust['source'] = 'pinned';
  let pinnedList: { bytes: Uint8Array; from: string } | undefined;
  const storeRoot = resolve(o.storeDir, 'trust', 'root.pub');
  const storeList = resolve(o.storeDir, 'trust', 'revocations.cose');
  const pinned = o.rootFile ?? (o.trustDir ? resolve(o.trustDir, 'root.pub') : undefined);
  if (pinned) {
    if (!o.trustStoreRoot && inside(pinned, o.storeDir)) {
      throw new BodycamError('E_TRUST_IN_STORE', `the root key ${pinned} is inside the store being checked; pin one from outside it (or say --trust-store-root)`);
    }
    if (r.kind(pinned) === undefined) throw new BodycamError('E_USAGE', `the root key ${pinned}: no such file`);
    root = mustRead(r, pinned, 'the root key');
    rootFrom = pinned;
    // The list beside the pinned root (a dock identity folder and the agency folder keep both).
    const listPath = o.revocationsFile ?? resolve(dirname(pinned), 'revocations.cose');
    if (r.kind(listPath) !== undefined) pinnedList = { bytes: mustRead(r, listPath, 'the revocation list'), from: listPath };
    else if (o.revocationsFile) throw new BodycamError('E_USAGE', `--revocations ${o.revocationsFile}: no such file`);
  } else if (o.trustStoreRoot) {
    if (r.kind(storeRoot) === undefined) throw new BodycamError('E_USAGE', `no agency root key: ${storeRoot} is missing (give --root FILE)`);
    root = mustRead(r, storeRoot, 'the root key');
    rootFrom = storeRoot;
    source = 'store';
    statements.push(`TRUST TAKEN FROM THE STORE: the agency root key was read from ${storeRoot}, inside the evidence being checked (--trust-store-root); whoever can write the store can replace it, so this report proves nothing to anyone who has not compared the root fingerprint with the agency's own`);
  } else {
    throw new BodycamError('E_TRUST_UNPINNED', 'no trusted agency root: give --root FILE (the agency root public key, from outside the store), --trust DIR or BODYCAM_TRUST (a folder with root.pub), or say --trust-store-root to trust the key the store holds');
  }
  if (root.length !== 32) throw new BodycamError('E_USAGE', `the agency root key must be 32 raw bytes, not ${root.length} (${rootFrom})`);

  // The newest revocation list the root signed, from either side.
  const candidates: { bytes: Uint8Array; from: string; number: number }[] = [];
  for (const c of [pinnedList, r.kind(storeList) !== undefined ? { bytes: mustRead(r, storeList, 'the revocation list'), from: storeList } : undefined]) {
    if (!c) continue;
    try {
      candidates.push({ ...c, number: verifyRevocationList(c.bytes, root, { ed25519: o.ed25519 }).number });
    } catch (e) {
      statements.push(`the revocation list ${c.from} does not verify against the root (${errorMessage(e)}); it is not used`);
    }
  }
  candidates.sort((a, b) => b.number - a.number);
  const list = candidates[0];
  if (pinnedList && list && list.from === pinnedList.from && !candidates.some((c) => c.from === storeList)) {
    statements.push(`the store holds no valid revocation list; the pinned one (number ${list.number}) is used`);
  } else if (pinnedList && list && list.from === pinnedList.from && candidates.length === 2 && candidates[1].number < list.number) {
    statements.push(`the store's revocation list (number ${candidates[1].number}) is older than the pinned one (number ${list.number}), which is used`);
  }
  if (!list && source === 'pinned' && !pinnedList) statements.push('no revocation list was pinned and the store holds none: no key is treated as revoked');
  return { root, fingerprint: rootFingerprint(root), source, rootFrom, ...(list ? { revocations: list.bytes, revocationsFrom: list.from } : {}), statements };
}

/** Trust a program already holds (the simulator made the root; a test, its agency): pinned. */
export function pinnedTrust(root: Uint8Array, rootFrom: string, revocations?: Uint8Array): Trust {
  return { root, fingerprint: rootFingerprint(root), source: 'pinned', rootFrom, ...(revocations ? { revocations, revocationsFrom: rootFrom } : {}), statements: [] };
}
