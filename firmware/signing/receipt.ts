// Checkpoints and receipts: what lets a verifier see a deleted tail, and what lets the camera
// free space.
//
// At a dock session the camera signs a checkpoint of its head (last sequence number, that
// manifest's digest, boot counter, its clock, the dock's session nonce). The dock answers with
// one receipt for a batch of segments, signed by its key: the list of {device, seq, manifest
// digest} it durably stored and verified, the digest of the checkpoint it answers, and the
// session nonce. The camera checks one signature per batch (checkReceipt) and may then free
// exactly the segments listed whose digests it holds.

import { isArray, isMap, type CborValue } from '../codec/cbor.js';
import type { Digest } from '../platform/digest.js';
import { sha256Of } from '../platform/digest.js';
import { BodycamError } from '../errors.js';
import type { Ed25519 } from './ed25519.js';
import { sameBytes, type Signer } from './signer.js';
import { bytes, bytesOrNull, openStructure, peekStructure, signStructure, text, uint, type Fields } from './signed.js';

export const CHECKPOINT_TYPE = 'bodycam/checkpoint/1';
export const RECEIPT_TYPE = 'bodycam/receipt/1';

export interface Checkpoint {
  device: string;
  keyId: Uint8Array;
  /** Sequence number of the newest sealed segment; null before the first. */
  seq: number | null;
  /** Digest of that segment's manifest; null before the first. */
  head: Uint8Array | null;
  boot: number;
  /** The camera's clocks when it signed (monotonic ms, UTC ms). */
  mono: number;
  utc: number;
  /** The dock's session nonce (binds the checkpoint to one session; empty outside a session). */
  nonce: Uint8Array;
}

export interface SignedCheckpoint {
  checkpoint: Checkpoint;
  bytes: Uint8Array;
  digest: Uint8Array;
}

const CCODE = 'E_CHECKPOINT_FORMAT';

export function signCheckpoint(c: Omit<Checkpoint, 'keyId'>, signer: Signer, digest: Digest): SignedCheckpoint {
  if ((c.seq === null) !== (c.head === null)) throw new BodycamError(CCODE, 'checkpoint seq and head are both null or both set');
  const checkpoint: Checkpoint = { ...c, keyId: signer.keyId };
  const out = signStructure(CHECKPOINT_TYPE, {
    device: c.device,
    keyId: signer.keyId,
    seq: c.seq,
    head: c.head,
    boot: c.boot,
    mono: c.mono,
    utc: c.utc,
    nonce: c.nonce,
  }, signer);
  return { checkpoint, bytes: out, digest: sha256Of(digest, out) };
}

function checkpointFields(f: Fields): Checkpoint {
  const t = 'checkpoint';
  const seq = f.get('seq') === null ? null : uint(f, 'seq', CCODE, t);
  const head = bytesOrNull(f, 'head', CCODE, t, 32);
  if ((seq === null) !== (head === null)) throw new BodycamError(CCODE, 'checkpoint seq and head are both null or both set');
  return {
    device: text(f, 'device', CCODE, t),
    keyId: bytes(f, 'keyId', CCODE, t),
    seq,
    head,
    boot: uint(f, 'boot', CCODE, t),
    mono: uint(f, 'mono', CCODE, t),
    utc: uint(f, 'utc', CCODE, t),
    nonce: bytes(f, 'nonce', CCODE, t),
  };
}

export function peekCheckpoint(cose: Uint8Array): { checkpoint: Checkpoint; kid: Uint8Array | undefined } {
  const o = peekStructure(cose, CHECKPOINT_TYPE, CCODE);
  return { checkpoint: checkpointFields(o.fields), kid: o.kid };
}

export function verifyCheckpoint(cose: Uint8Array, devicePublicKey: Uint8Array, ed25519?: Ed25519): Checkpoint {
  return checkpointFields(openStructure(cose, CHECKPOINT_TYPE, CCODE, devicePublicKey, ed25519).fields);
}

// ---------------------------------------------------------------- receipts

export interface ReceiptEntry {
  device: string;
  seq: number;
  /** Digest of the manifest the dock stored and verified. */
  manifest: Uint8Array;
}

export interface Receipt {
  dock: string;
  keyId: Uint8Array;
  /** The session nonce the dock chose. */
  nonce: Uint8Array;
  /** Digest of the camera's checkpoint this receipt answers. */
  checkpoint: Uint8Array;
  /** The dock's UTC ms when it signed. */
  utc: number;
  entries: ReceiptEntry[];
}

const RCODE = 'E_RECEIPT_FORMAT';

/** The dock signs a receipt for a batch of stored and verified segments. */
export function signReceipt(r: Omit<Receipt, 'keyId'>, dock: Signer): Uint8Array {
  if (r.checkpoint.length !== 32) throw new BodycamError(RCODE, 'receipt checkpoint digest must be 32 bytes');
  return signStructure(RECEIPT_TYPE, {
    dock: r.dock,
    keyId: dock.keyId,
    nonce: r.nonce,
    checkpoint: r.checkpoint,
    utc: r.utc,
    entries: r.entries.map((e) => ({ device: e.device, seq: e.seq, manifest: e.manifest }) as CborValue),
  }, dock);
}

function receiptFields(f: Fields): Receipt {
  const t = 'receipt';
  const entries = f.get('entries');
  if (!isArray(entries)) throw new BodycamError(RCODE, 'receipt: field "entries" missing or not an array');
  return {
    dock: text(f, 'dock', RCODE, t),
    keyId: bytes(f, 'keyId', RCODE, t),
    nonce: bytes(f, 'nonce', RCODE, t),
    checkpoint: bytes(f, 'checkpoint', RCODE, t, 32),
    utc: uint(f, 'utc', RCODE, t),
    entries: entries.map((e) => {
      if (!isMap(e)) throw new BodycamError(RCODE, 'receipt: an entry is not a map');
      return { device: text(e, 'device', RCODE, 'receipt entry'), seq: uint(e, 'seq', RCODE, 'receipt entry'), manifest: bytes(e, 'manifest', RCODE, 'receipt entry', 32) };
    }),
  };
}

export function peekReceipt(cose: Uint8Array): { receipt: Receipt; kid: Uint8Array | undefined } {
  const o = peekStructure(cose, RECEIPT_TYPE, RCODE);
  return { receipt: receiptFields(o.fields), kid: o.kid };
}

export function verifyReceipt(cose: Uint8Array, dockPublicKey: Uint8Array, ed25519?: Ed25519): Receipt {
  return receiptFields(openStructure(cose, RECEIPT_TYPE, RCODE, dockPublicKey, ed25519).fields);
}

export interface CheckReceiptOptions {
  /** The dock's public key, from its certificate verified at the handshake. */
  dockPublicKey: Uint8Array;
  /** This camera's device id. */
  device: string;
  /** The nonce of the current session. */
  nonce: Uint8Array;
  /** Digest of the checkpoint the camera sent in this session. */
  checkpoint: Uint8Array;
  /** The manifest digest the camera holds for a sequence number (undefined if none). */
  manifestDigest: (seq: number) => Uint8Array | undefined;
  ed25519?: Ed25519;
}

/**
 * The camera's check of a receipt: one signature, then every entry for this camera must name a
 * segment it holds with the same manifest digest. Returns the sequence numbers it may free.
 * Throws E_RECEIPT_* (or E_COSE_*) and frees nothing if anything is off.
 */
export function checkReceipt(cose: Uint8Array, o: CheckReceiptOptions): { receipt: Receipt; seqs: number[] } {
  const receipt = verifyReceipt(cose, o.dockPublicKey, o.ed25519);
  if (!sameBytes(receipt.nonce, o.nonce)) throw new BodycamError('E_RECEIPT_SESSION', 'the receipt is for another dock session (nonce differs)');
  if (!sameBytes(receipt.checkpoint, o.checkpoint)) throw new BodycamError('E_RECEIPT_SESSION', 'the receipt answers another checkpoint than the one sent');
  const seqs: number[] = [];
  for (const e of receipt.entries) {
    if (e.device !== o.device) throw new BodycamError('E_RECEIPT_DEVICE', `the receipt lists segment ${e.seq} of ${e.device}, not of this camera (${o.device})`);
    const mine = o.manifestDigest(e.seq);
    if (!mine) throw new BodycamError('E_RECEIPT_UNKNOWN', `the receipt lists segment ${e.seq}, which this camera doesn't hold`);
    if (!sameBytes(mine, e.manifest)) throw new BodycamError('E_RECEIPT_MISMATCH', `the receipt's digest for segment ${e.seq} differs from the camera's manifest`);
    seqs.push(e.seq);
  }
  return { receipt, seqs };
}
