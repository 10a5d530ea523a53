// The evidence verifier: the same module runs on the dock station, in `bodycam verify`, and in
// tests on Node and in XS. It never hashes media in JavaScript: the caller hands in each
// segment's media digest (the dock computes it natively as it stores the file) or the media
// bytes, which then go through the Digest port it is given.
//
// Promises: given the agency root key, certificates, manifests, media digests, checkpoints and
// receipts, every segment and every device is reported valid or invalid, with reason codes
// (REASONS) and a message a person can act on. Nothing in the input can make it throw: malformed
// items are findings ("malformed"), not crashes. A device is valid only when it has no finding
// of its own and every one of its segments is valid; the evidence is valid only when every
// device is and the trust material (revocation list, dock certificates) verified.
//
// What it checks, per device:
// - the device certificate chains to the root, names this device, is not revoked — or revoked
//   from a time (`effective`), and then each segment is valid only if a dock receipted it before
//   that time (a receipt by a dock revoked from a time counts if it was signed before that time);
// - each manifest: well-formed, signed by this device's key (or by another known device's key:
//   "replayed"), names this device, its sequence matches where it was stored, its media digest
//   and length match the media, its times don't run backwards;
// - across manifests: no duplicate sequence numbers, stored in order, no missing sequence
//   numbers from 0 to the newest, each `prev` is the digest of the manifest before it, boot
//   counters and monotonic time never go back, UTC never goes back without a clock sync;
// - checkpoints (signed by the device) and receipts (signed by a dock whose certificate chains
//   to the root): every segment they name is present with the same manifest digest; a named
//   segment beyond the newest one present means the tail was truncated.
//
// Certificate validity windows are not checked against manifest times here (camera clocks can
// be wrong, which is itself reported); the dock checks them against its own clock at the
// handshake.

import { toHex as hex } from '../codec/cbor.js';
import type { BufferLike } from '../platform/buffers.js';
import type { Digest } from '../platform/digest.js';
import { sha256Of } from '../platform/digest.js';
import { errorCode } from '../errors.js';
import { defaultEd25519, type Ed25519 } from './ed25519.js';
import { verifySign1 } from './cose.js';
import { isRevoked, verifyCertificate, verifyRevocationList, type Revocation, type RevocationList, type VerifiedCertificate } from './certificate.js';
import { peekManifest, type Manifest } from './manifest.js';
import { peekCheckpoint, peekReceipt, type Checkpoint, type Receipt } from './receipt.js';
import { sameBytes } from './signer.js';

export const REASONS = Object.freeze({
  BAD_SIGNATURE: 'bad-signature',
  UNKNOWN_KEY: 'unknown-key',
  REVOKED_KEY: 'revoked-key',
  MALFORMED: 'malformed',
  MEDIA_MISMATCH: 'media-digest-mismatch',
  MISSING_MEDIA: 'missing-media',
  GAP: 'gap',
  REORDERED: 'reordered',
  DUPLICATED: 'duplicated',
  REPLAYED: 'replayed',
  CHAIN_BROKEN: 'chain-broken',
  TRUNCATED: 'truncated',
  /** A truncation the store explains by an upload it holds unfinished (a dock station's store only). */
  UPLOAD_IN_PROGRESS: 'upload-in-progress',
  HEAD_MISMATCH: 'head-mismatch',
  CLOCK_BACKWARDS: 'clock-backwards',
  BAD_TRUST: 'bad-trust',
});

export type ReasonCode = (typeof REASONS)[keyof typeof REASONS];

export interface Finding {
  code: ReasonCode;
  message: string;
  /** The segment it concerns, when there is one. */
  seq?: number;
}

export interface SegmentInput {
  /** The sequence number the store filed it under (file name), if any. */
  seq?: number;
  /** The manifest's COSE_Sign1 bytes. */
  manifest: Uint8Array;
  /** SHA-256 of the stored media, computed by the caller; or give `media`. Absent both: missing. */
  mediaDigest?: Uint8Array;
  /** Length of the stored media in bytes (checked against the manifest when given). */
  mediaLength?: number;
  /** The media itself, hashed through the Digest port (small evidence sets, tests). */
  media?: BufferLike;
}

export interface DeviceInput {
  /** The device id the evidence is filed under. */
  id: string;
  certificate?: Uint8Array;
  segments: SegmentInput[];
  checkpoints?: Uint8Array[];
  receipts?: Uint8Array[];
}

export interface EvidenceInput {
  /** The agency root public key (32 bytes). */
  root: Uint8Array;
  revocations?: Uint8Array;
  /** Dock certificates, to verify receipts. */
  docks?: Uint8Array[];
  devices: DeviceInput[];
}

export interface VerifyOptions {
  digest: Digest;
  ed25519?: Ed25519;
}

export interface SegmentReport {
  /** The sequence number: the manifest's, or the store's if the manifest can't be read. */
  seq: number | null;
  valid: boolean;
  reasons: Finding[];
  /** SHA-256 of the manifest's COSE bytes. */
  manifestDigest: Uint8Array;
  manifest?: Manifest;
}

export interface DeviceReport {
  device: string;
  valid: boolean;
  /** Findings about the device as a whole (certificate, gaps, truncation, checkpoints, receipts). */
  reasons: Finding[];
  segments: SegmentReport[];
  certificate?: { id: string; serial: number; keyId: Uint8Array; agency: string };
  /** The newest authentic segment present. */
  head?: { seq: number; manifestDigest: Uint8Array };
  checkpoints: number;
  receipts: number;
  /** The device key's revocation, when it is on the list (effective null: from the start). */
  revocation?: { reason: string; effective: number | null };
}

export interface EvidenceReport {
  valid: boolean;
  /** Findings about the trust material (revocation list, dock certificates). */
  reasons: Finding[];
  devices: DeviceReport[];
}

function finding(code: ReasonCode, message: string, seq?: number): Finding {
  return seq === undefined ? { code, message } : { code, message, seq };
}

function why(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

interface Parsed {
  input: SegmentInput;
  report: SegmentReport;
  manifest: Manifest;
  /** Signed by this device's key and names this device: usable for the chain. */
  authentic: boolean;
}

interface Trust {
  root: Uint8Array;
  revocations: RevocationList | undefined;
  /** Device certificates that verified, by key id hex. */
  deviceKeys: Map<string, VerifiedCertificate>;
  dockKeys: Map<string, VerifiedCertificate>;
  o: Required<VerifyOptions>;
}


/** Verify a whole evidence set. */
export function verifyEvidence(input: EvidenceInput, options: VerifyOptions): EvidenceReport {
  const o = { digest: options.digest, ed25519: options.ed25519 ?? defaultEd25519() };
  const reasons: Finding[] = [];
  let revocations: RevocationList | undefined;
  if (input.revocations) {
    try {
      revocations = verifyRevocationList(input.revocations, input.root, { ed25519: o.ed25519 });
    } catch (e) {
      reasons.push(finding(REASONS.BAD_TRUST, `the revocation list does not verify against the agency root (${why(e)}); no key can be trusted`));
    }
  }
  const trust: Trust = { root: input.root, revocations, deviceKeys: new Map(), dockKeys: new Map(), o };
  for (const [i, bytes] of (input.docks ?? []).entries()) {
    try {
      const c = verifyCertificate(bytes, input.root, { digest: o.digest, ed25519: o.ed25519, kind: 'dock' });
      trust.dockKeys.set(hex(c.keyId), c);
    } catch (e) {
      reasons.push(finding(REASONS.BAD_TRUST, `dock certificate ${i} does not verify against the agency root (${why(e)})`));
    }
  }
  // Every device certificate first, so a segment filed under the wrong device is recognised.
  const certs = input.devices.map((d) => {
    if (!d.certificate) return undefined;
    try {
      const c = verifyCertificate(d.certificate, input.root, { digest: o.digest, ed25519: o.ed25519, kind: 'device' });
      trust.deviceKeys.set(hex(c.keyId), c);
      return c;
    } catch (e) {
      return e;
    }
  });
  const devices = input.devices.map((d, i) => verifyDevice(d, certs[i], trust));
  const badTrust = reasons.length > 0;
  return { valid: !badTrust && devices.every((d) => d.valid), reasons, devices };
}

function verifyDevice(d: DeviceInput, cert: VerifiedCertificate | unknown, trust: Trust): DeviceReport {
  const { o } = trust;
  const reasons: Finding[] = [];
  let key: VerifiedCertificate | undefined;
  let revocation: Revocation | undefined;
  if (cert === undefined) {
    reasons.push(finding(REASONS.UNKNOWN_KEY, `no certificate for device ${d.id}: its signatures can't be checked`));
  } else if (!(cert && typeof cert === 'object' && 'keyId' in cert)) {
    reasons.push(finding(REASONS.UNKNOWN_KEY, `the certificate of device ${d.id} does not verify against the agency root (${why(cert)})`));
  } else {
    key = cert as VerifiedCertificate;
    if (key.id !== d.id) {
      reasons.push(finding(REASONS.UNKNOWN_KEY, `the certificate filed under ${d.id} is device ${key.id}'s`));
      key = undefined;
    } else {
      revocation = isRevoked(trust.revocations, key.keyId);
      // Revoked from the start: nothing it signed counts. From a time: see step 4.
      if (revocation && revocation.effective === undefined) {
        reasons.push(finding(REASONS.REVOKED_KEY, `device ${d.id}'s key ${hex(key.keyId)} is revoked (${revocation.reason}), for everything it ever signed`));
      }
    }
  }

  // 1. Each segment on its own.
  const reports: SegmentReport[] = [];
  const parsed: Parsed[] = [];
  const invalidSlots: number[] = [];
  for (const s of d.segments) {
    const report: SegmentReport = { seq: s.seq ?? null, valid: false, reasons: [], manifestDigest: sha256Of(o.digest, s.manifest) };
    reports.push(report);
    const add = (code: ReasonCode, message: string) => report.reasons.push(finding(code, message, report.seq ?? undefined));
    let manifest: Manifest;
    let kid: Uint8Array | undefined;
    try {
      ({ manifest, kid } = peekManifest(s.manifest));
    } catch (e) {
      add(REASONS.MALFORMED, `the manifest can't be read (${why(e)})`);
      if (s.seq !== undefined) invalidSlots.push(s.seq);
      continue;
    }
    report.seq = manifest.seq;
    report.manifest = manifest;
    let authentic = false;
    const signer = kid ? trust.deviceKeys.get(hex(kid)) : undefined;
    if (key && kid && sameBytes(kid, key.keyId)) {
      try {
        verifySign1(s.manifest, key.publicKey, { ed25519: o.ed25519 });
        authentic = true;
      } catch (e) {
        add(errorCode(e) === 'E_COSE_SIGNATURE' ? REASONS.BAD_SIGNATURE : REASONS.MALFORMED, `the manifest signature does not verify with ${d.id}'s key (${why(e)})`);
      }
      if (revocation && revocation.effective === undefined) add(REASONS.REVOKED_KEY, `signed with a revoked key`);
    } else if (signer && signer.id !== d.id) {
      let genuine = false;
      try {
        verifySign1(s.manifest, signer.publicKey, { ed25519: o.ed25519 });
        genuine = true;
      } catch {
        // a forged signature in another device's name: bad-signature below
      }
      add(genuine ? REASONS.REPLAYED : REASONS.BAD_SIGNATURE, genuine ? `a segment of device ${signer.id} (its seq ${manifest.seq}) filed under ${d.id}` : `signature claims ${signer.id}'s key and does not verify`);
    } else {
      add(REASONS.UNKNOWN_KEY, key ? `signed with key ${kid ? hex(kid) : '(no kid)'}, not ${d.id}'s key ${hex(key.keyId)}` : `no verified certificate for ${d.id}`);
    }
    if (manifest.device !== d.id && !report.reasons.some((r) => r.code === REASONS.REPLAYED)) {
      add(REASONS.REPLAYED, `the manifest names device ${manifest.device}, not ${d.id}`);
      authentic = false;
    }
    if (key && !sameBytes(manifest.keyId, key.keyId) && authentic) {
      add(REASONS.UNKNOWN_KEY, `the manifest names key ${hex(manifest.keyId)}, not the certificate's ${hex(key.keyId)}`);
      authentic = false;
    }
    if (s.seq !== undefined && s.seq !== manifest.seq) add(REASONS.REORDERED, `stored as segment ${s.seq}, but the manifest says ${manifest.seq}`);
    checkMedia(s, manifest, o.digest, add);
    if (manifest.lastMono < manifest.firstMono) add(REASONS.CLOCK_BACKWARDS, `the last frame (${manifest.lastMono} ms) is before the first (${manifest.firstMono} ms)`);
    if (manifest.lastUtc < manifest.firstUtc) add(REASONS.CLOCK_BACKWARDS, `the last frame's UTC time is before the first's`);
    parsed.push({ input: s, report, manifest, authentic });
  }

  // 2. Across segments: order, duplicates, gaps, the chain, time.
  const chain = parsed.filter((p) => p.authentic);
  for (let i = 1; i < chain.length; i++) {
    const before = chain.slice(0, i).reduce((m, p) => Math.max(m, p.manifest.seq), -1);
    const p = chain[i];
    if (p.manifest.seq < before && d.segments.every((s) => s.seq === undefined)) {
      p.report.reasons.push(finding(REASONS.REORDERED, `segment ${p.manifest.seq} comes after segment ${before}`, p.manifest.seq));
    }
  }
  const bySeq = new Map<number, Parsed>();
  for (const p of chain) {
    const first = bySeq.get(p.manifest.seq);
    if (!first) {
      bySeq.set(p.manifest.seq, p);
      continue;
    }
    const same = sameBytes(first.report.manifestDigest, p.report.manifestDigest);
    p.report.reasons.push(finding(REASONS.DUPLICATED, same ? `a second copy of segment ${p.manifest.seq}` : `a second, different manifest for segment ${p.manifest.seq}`, p.manifest.seq));
  }
  // A segment that is present but not authentic still holds its place (the store's number, or
  // the one it claims): it is reported on its own, not again as a gap or a truncated tail.
  const occupied = new Set<number>(invalidSlots);
  for (const p of parsed) if (!p.authentic) occupied.add(p.input.seq ?? p.manifest.seq);
  for (const p of bySeq.values()) occupied.add(p.manifest.seq);
  const slots = [...occupied].sort((a, b) => a - b);
  if (slots.length > 0 && slots[0] > 0) reasons.push(finding(REASONS.GAP, slots[0] === 1 ? 'segment 0 is missing' : `segments 0 to ${slots[0] - 1} are missing`));
  for (let i = 1; i < slots.length; i++) {
    const a = slots[i - 1];
    const b = slots[i];
    if (b > a + 1) reasons.push(finding(REASONS.GAP, b === a + 2 ? `segment ${a + 1} is missing` : `segments ${a + 1} to ${b - 1} are missing`));
  }
  const ordered = [...bySeq.values()].sort((a, b) => a.manifest.seq - b.manifest.seq);
  if (ordered.length > 0) {
    const first = ordered[0];
    if ((first.manifest.seq === 0) !== (first.manifest.prev === null)) {
      first.report.reasons.push(finding(REASONS.CHAIN_BROKEN, first.manifest.seq === 0 ? 'segment 0 names a previous manifest' : `segment ${first.manifest.seq} claims to be the first (no previous manifest)`, first.manifest.seq));
    }
  }
  for (let i = 1; i < ordered.length; i++) {
    const a = ordered[i - 1].manifest;
    const bp = ordered[i];
    const b = bp.manifest;
    const add = (code: ReasonCode, message: string) => bp.report.reasons.push(finding(code, message, b.seq));
    // The link is checked only between neighbours that are both authentic.
    if (b.seq === a.seq + 1 && (!b.prev || !sameBytes(b.prev, ordered[i - 1].report.manifestDigest))) {
      add(REASONS.CHAIN_BROKEN, `its previous-manifest digest is not segment ${a.seq}'s`);
    }
    if (b.boot < a.boot) add(REASONS.CLOCK_BACKWARDS, `boot counter ${b.boot} is below segment ${a.seq}'s ${a.boot}`);
    else if (b.boot === a.boot && b.firstMono < a.lastMono) add(REASONS.CLOCK_BACKWARDS, `monotonic time ${b.firstMono} ms is before segment ${a.seq}'s last frame (${a.lastMono} ms) in the same boot`);
    if (b.firstUtc < a.lastUtc && b.lastSync === a.lastSync) add(REASONS.CLOCK_BACKWARDS, `UTC time goes back ${a.lastUtc - b.firstUtc} ms from segment ${a.seq} with no clock sync in between`);
  }
  const newest = ordered.length ? ordered[ordered.length - 1] : undefined;
  const lastSlot = slots.length ? slots[slots.length - 1] : undefined;

  // 3. Checkpoints and receipts: what someone else saw must still be here.
  const named = (source: string, seq: number, digest: Uint8Array) => {
    const p = bySeq.get(seq);
    if (p) {
      if (!sameBytes(p.report.manifestDigest, digest)) reasons.push(finding(REASONS.HEAD_MISMATCH, `${source} names a different manifest for segment ${seq} than the one present`, seq));
    } else if (occupied.has(seq)) {
      // present but not authentic: already reported on the segment
    } else if (lastSlot === undefined || seq > lastSlot) {
      reasons.push(finding(REASONS.TRUNCATED, `${source} names segment ${seq}, beyond the newest present (${lastSlot ?? 'none'}): the tail is missing`, seq));
    } else if (!reasons.some((r) => r.code === REASONS.GAP)) {
      reasons.push(finding(REASONS.GAP, `${source} names segment ${seq}, which is missing`, seq));
    }
  };
  const checkpointDigests: Uint8Array[] = [];
  for (const [n, bytes] of (d.checkpoints ?? []).entries()) {
    const c = openSigned(bytes, `checkpoint ${n}`, key, (b) => peekCheckpoint(b), reasons, trust);
    checkpointDigests.push(sha256Of(o.digest, bytes));
    if (!c) continue;
    const cp: Checkpoint = c.checkpoint;
    if (cp.device !== d.id) {
      reasons.push(finding(REASONS.REPLAYED, `checkpoint ${n} is device ${cp.device}'s`));
      continue;
    }
    if (cp.seq !== null && cp.head) named(`checkpoint ${n}`, cp.seq, cp.head);
  }
  /** Segments a dock receipted, by seq: the earliest receipt time (dock clock) for that manifest. */
  const receiptedAt = new Map<number, number>();
  for (const [n, bytes] of (d.receipts ?? []).entries()) {
    const r = openReceipt(bytes, `receipt ${n}`, reasons, trust);
    if (!r) continue;
    const receipt: Receipt = r;
    for (const e of receipt.entries) {
      const p = e.device === d.id ? bySeq.get(e.seq) : undefined;
      if (p && sameBytes(p.report.manifestDigest, e.manifest)) receiptedAt.set(e.seq, Math.min(receiptedAt.get(e.seq) ?? receipt.utc, receipt.utc));
    }
    if (!checkpointDigests.some((c) => sameBytes(c, receipt.checkpoint))) {
      reasons.push(finding(REASONS.HEAD_MISMATCH, `receipt ${n} answers a checkpoint that isn't in the evidence`));
    }
    const mine = receipt.entries.filter((e) => e.device === d.id);
    if (mine.length === 0 && receipt.entries.length > 0) reasons.push(finding(REASONS.REPLAYED, `receipt ${n} lists no segment of ${d.id} (it is ${receipt.entries[0].device}'s)`));
    for (const e of mine) named(`receipt ${n} from ${receipt.dock}`, e.seq, e.manifest);
  }

  // 4. A key revoked from a time: a segment stays valid only if a dock receipted it before then.
  if (revocation && revocation.effective !== undefined && key) {
    const at = revocation.effective;
    for (const p of bySeq.values()) {
      const when = receiptedAt.get(p.manifest.seq);
      if (when === undefined || when >= at) {
        p.report.reasons.push(finding(REASONS.REVOKED_KEY, `device ${d.id}'s key is revoked from ${isoTime(at)} (${revocation.reason}) and no dock receipted this segment before then`, p.manifest.seq));
      }
    }
  }

  for (const r of reports) r.valid = r.reasons.length === 0;
  return {
    device: d.id,
    valid: reasons.length === 0 && reports.every((r) => r.valid),
    reasons,
    segments: reports,
    ...(key ? { certificate: { id: key.id, serial: key.serial, keyId: key.keyId, agency: key.agency } } : {}),
    ...(newest ? { head: { seq: newest.manifest.seq, manifestDigest: newest.report.manifestDigest } } : {}),
    checkpoints: d.checkpoints?.length ?? 0,
    receipts: d.receipts?.length ?? 0,
    ...(revocation ? { revocation: { reason: revocation.reason, effective: revocation.effective ?? null } } : {}),
  };
}

function isoTime(ms: number): string {
  return new Date(ms).toISOString();
}

function checkMedia(s: SegmentInput, m: Manifest, digest: Digest, add: (code: ReasonCode, message: string) => void): void {
  let actual = s.mediaDigest;
  let length = s.mediaLength;
  if (!actual && s.media !== undefined) {
    actual = sha256Of(digest, s.media);
    length = s.media.byteLength;
  }
  if (!actual) {
    add(REASONS.MISSING_MEDIA, `the media of segment ${m.seq} is missing`);
    return;
  }
  if (length !== undefined && length !== m.bytes) add(REASONS.MEDIA_MISMATCH, `the media is ${length} bytes, the manifest says ${m.bytes}`);
  else if (!sameBytes(actual, m.media)) add(REASONS.MEDIA_MISMATCH, `the media's SHA-256 differs from the manifest's: altered or corrupted`);
}

/** Open a device-signed structure (checkpoint) against the device key; findings on failure. */
function openSigned<T>(bytes: Uint8Array, what: string, key: VerifiedCertificate | undefined, peek: (b: Uint8Array) => T & { kid: Uint8Array | undefined }, reasons: Finding[], trust: Trust): T | undefined {
  let peeked: T & { kid: Uint8Array | undefined };
  try {
    peeked = peek(bytes);
  } catch (e) {
    reasons.push(finding(REASONS.MALFORMED, `${what} can't be read (${why(e)})`));
    return undefined;
  }
  if (!key) {
    reasons.push(finding(REASONS.UNKNOWN_KEY, `${what} can't be checked without the device's certificate`));
    return undefined;
  }
  if (!peeked.kid || !sameBytes(peeked.kid, key.keyId)) {
    reasons.push(finding(REASONS.UNKNOWN_KEY, `${what} is not signed with the device's key`));
    return undefined;
  }
  try {
    verifySign1(bytes, key.publicKey, { ed25519: trust.o.ed25519 });
  } catch (e) {
    reasons.push(finding(REASONS.BAD_SIGNATURE, `${what} signature does not verify (${why(e)})`));
    return undefined;
  }
  return peeked;
}

function openReceipt(bytes: Uint8Array, what: string, reasons: Finding[], trust: Trust): Receipt | undefined {
  let r: { receipt: Receipt; kid: Uint8Array | undefined };
  try {
    r = peekReceipt(bytes);
  } catch (e) {
    reasons.push(finding(REASONS.MALFORMED, `${what} can't be read (${why(e)})`));
    return undefined;
  }
  const dock = r.kid ? trust.dockKeys.get(hex(r.kid)) : undefined;
  if (!dock) {
    reasons.push(finding(REASONS.UNKNOWN_KEY, `${what} is signed by key ${r.kid ? hex(r.kid) : '(no kid)'}, which no verified dock certificate holds`));
    return undefined;
  }
  try {
    verifySign1(bytes, dock.publicKey, { ed25519: trust.o.ed25519 });
  } catch (e) {
    reasons.push(finding(REASONS.BAD_SIGNATURE, `${what} signature does not verify (${why(e)})`));
    return undefined;
  }
  // A dock revoked from a time: its receipts signed before then still count (by the dock's own
  // clock, which only a log checkpoint held outside the store can hold it to).
  const rev = isRevoked(trust.revocations, dock.keyId, r.receipt.utc);
  if (rev) {
    reasons.push(finding(REASONS.REVOKED_KEY, `${what} is signed by dock ${dock.id}, whose key is revoked${rev.effective === undefined ? '' : ` from ${isoTime(rev.effective)}`} (${rev.reason})`));
    return undefined;
  }
  if (r.receipt.dock !== dock.id) {
    reasons.push(finding(REASONS.UNKNOWN_KEY, `${what} names dock ${r.receipt.dock} but is signed by ${dock.id}`));
    return undefined;
  }
  return r.receipt;
}

