// The recorder's evidence bookkeeping around the segment store: what each segment's META record
// says (recording id, boot, flags, picture format), the chain head, manifests for segments a
// power cut left open, and the upload source a dock session reads.
//
// Promises:
// - The chain head (sequence and digest of the newest manifest ever signed) is persisted in the
//   KeyStore ("chain.head") after every seal, because a released segment's manifest leaves the
//   store; at boot the head is the newer of that and the newest manifest still held.
// - A segment the store recovered after a cut (state 'recovered', no trailer) gets a manifest
//   signed at the next boot: its media is read back and hashed through the Digest port, its
//   frame count, drops and times come from its own frame headers, and it is flagged
//   FLAG_RECOVERED. The store has no way to add a trailer to a recovered segment, so that
//   manifest is kept in the KeyStore ("rm.<seq>") until a dock's receipt frees the segment.
// - Nothing is freed but through SegmentStore.release() after checkReceipt() (dock key from the
//   handshake, this session's nonce and checkpoint, the exact manifest digests held here).

import { decode, encode, isUint, isText, type CborValue } from '../codec/cbor.js';
import { BodycamError } from '../errors.js';
import type { Clock } from '../platform/clock.js';
import type { Digest } from '../platform/digest.js';
import type { KeyStore } from '../platform/keystore.js';
import { sha256Of } from '../platform/soft-digest.js';
import { decodeFrameHeader } from '../encoder/frame-record.js';
import type { PendingSegment, UploadSource } from '../dock/camera-session.js';
import type { VerifiedCertificate } from '../signing/certificate.js';
import type { Ed25519 } from '../signing/ed25519.js';
import { FLAG_RECOVERED, ManifestBuilder, type SignedManifest } from '../signing/manifest.js';
import { checkReceipt, signCheckpoint } from '../signing/receipt.js';
import type { Signer } from '../signing/signer.js';
import type { SegmentInfo, SegmentStore } from '../storage/index.js';

export const KEY_CHAIN_HEAD = 'chain.head';
export const recoveredKey = (seq: number): string => `rm.${seq}`;

/** What the recorder writes into each segment's META record. */
export interface SegmentMeta {
  recording: number;
  boot: number;
  /** Manifest flags known at open (FLAG_PRE_EVENT). */
  flags: number;
  format: string;
  width: number;
  height: number;
  frameRate: number;
}

export function encodeMeta(m: SegmentMeta): Uint8Array {
  return encode({ recording: m.recording, boot: m.boot, flags: m.flags, format: m.format, width: m.width, height: m.height, frameRate: m.frameRate });
}

export function decodeMeta(bytes: Uint8Array | undefined): SegmentMeta | undefined {
  if (!bytes || bytes.length === 0) return undefined;
  try {
    const v = decode(bytes);
    if (!(v instanceof Map)) return undefined;
    const u = (k: string) => (isUint(v.get(k)) ? (v.get(k) as number) : 0);
    const format = v.get('format');
    return { recording: u('recording'), boot: u('boot'), flags: u('flags'), format: isText(format) ? format : 'unknown', width: u('width'), height: u('height'), frameRate: u('frameRate') };
  } catch {
    return undefined;
  }
}

export interface ChainHead {
  seq: number;
  digest: Uint8Array;
}

export interface RecoveredSegment {
  seq: number;
  recording: number;
  frames: number;
  dropped: number;
  lastUtc: number;
}

export interface EvidenceKeeperOptions {
  store: SegmentStore;
  keyStore: KeyStore;
  signer: Signer;
  digest: Digest;
  clock: Clock;
  device: string;
  firmware: string;
  boot: number;
  ed25519?: Ed25519;
}

export class EvidenceKeeper implements UploadSource {
  readonly #o: EvidenceKeeperOptions;
  #head: ChainHead | undefined;
  #checkpointDigest: Uint8Array | undefined;
  #digests = new Map<number, Uint8Array>();

  constructor(o: EvidenceKeeperOptions) {
    this.#o = o;
    const persisted = o.keyStore.get(KEY_CHAIN_HEAD);
    if (persisted) {
      const v = decode(new Uint8Array(persisted));
      if (Array.isArray(v) && isUint(v[0]) && v[1] instanceof Uint8Array && v[1].length === 32) this.#head = { seq: v[0], digest: v[1] };
    }
    // A seal whose head update a power cut lost: the newest manifest in the store is newer.
    for (const s of this.#withManifests()) if (!this.#head || s.seq > this.#head.seq) this.#head = { seq: s.seq, digest: this.#digestOf(s.seq, s.manifest) };
  }

  /** The newest manifest ever signed (undefined before the first). */
  head(): ChainHead | undefined {
    return this.#head;
  }

  /** A manifest builder for segment `seq`, chained to the head. */
  builder(seq: number, meta: SegmentMeta): ManifestBuilder {
    const h = this.#head;
    if (h && h.seq >= seq) throw new BodycamError('E_CHAIN_ORDER', `segment ${seq} is not after the chain head ${h.seq}`);
    return new ManifestBuilder({
      digest: this.#o.digest,
      device: this.#o.device,
      seq,
      boot: meta.boot,
      recording: meta.recording,
      prev: seq === 0 ? null : h ? h.digest : null,
      format: { format: meta.format, width: meta.width, height: meta.height },
      firmware: this.#o.firmware,
      flags: meta.flags,
      opened: { mono: Math.floor(this.#o.clock.monotonic()), utc: Math.max(0, Math.floor(this.#o.clock.utc())) },
    });
  }

  /** A segment was sealed with `signed`: it is the new head. */
  sealed(signed: SignedManifest): void {
    this.#head = { seq: signed.manifest.seq, digest: signed.digest };
    this.#digests.set(signed.manifest.seq, signed.digest);
    this.#o.keyStore.set(KEY_CHAIN_HEAD, encode([signed.manifest.seq, signed.digest]));
  }

  /** Sign manifests for every segment a power cut left open (oldest first). */
  sealRecovered(): RecoveredSegment[] {
    const o = this.#o;
    const out: RecoveredSegment[] = [];
    const todo = o.store
      .segments()
      .filter((s) => s.state === 'recovered' && !s.trailer && !o.keyStore.get(recoveredKey(s.sequence)))
      .sort((a, b) => a.sequence - b.sequence);
    for (const s of todo) {
      const meta = decodeMeta(s.meta) ?? { recording: 0, boot: 0, flags: 0, format: 'unknown', width: 0, height: 0, frameRate: 0 };
      const b = this.builder(s.sequence, meta);
      let lastUtc = 0;
      for (const r of o.store.records(s.id)) {
        const h = decodeFrameHeader(r.header);
        b.addFrame(r.header, r.body, { mono: h.monotonicMs, utc: h.utcMs });
        if (h.droppedBefore) b.addDropped(h.droppedBefore);
        lastUtc = h.utcMs;
      }
      const signed = b.finish({ signer: o.signer, clock: o.clock.source(), flags: FLAG_RECOVERED });
      o.keyStore.set(recoveredKey(s.sequence), signed.bytes);
      this.sealed(signed);
      out.push({ seq: s.sequence, recording: meta.recording, frames: signed.manifest.frames, dropped: signed.manifest.dropped, lastUtc });
    }
    return out;
  }

  /** Segments with a manifest that are not released, by sequence. */
  #withManifests(): { seq: number; info: SegmentInfo; manifest: Uint8Array }[] {
    const out: { seq: number; info: SegmentInfo; manifest: Uint8Array }[] = [];
    for (const s of this.#o.store.segments()) {
      if (s.state === 'sealed' && s.trailer) out.push({ seq: s.sequence, info: s, manifest: s.trailer });
      else if (s.state === 'recovered') {
        const m = s.trailer ?? this.#o.keyStore.get(recoveredKey(s.sequence));
        if (m) out.push({ seq: s.sequence, info: s, manifest: new Uint8Array(m) });
      }
    }
    return out.sort((a, b) => a.seq - b.seq);
  }

  #digestOf(seq: number, manifest: Uint8Array): Uint8Array {
    let d = this.#digests.get(seq);
    if (!d) this.#digests.set(seq, (d = sha256Of(this.#o.digest, manifest)));
    return d;
  }

  // ------------------------------------------------------------ UploadSource (the dock session)

  pending(): PendingSegment[] {
    return this.#withManifests().map((s) => ({ seq: s.seq, length: s.info.mediaLength, manifest: s.manifest }));
  }

  read(seq: number, offset: number, length: number): Uint8Array {
    const s = this.#withManifests().find((x) => x.seq === seq);
    if (!s) throw new BodycamError('E_NO_SEGMENT', `segment ${seq} is not awaiting upload`);
    return this.#o.store.readMedia(s.info.id, offset, length);
  }

  checkpoint(sessionNonce: Uint8Array): Uint8Array {
    const h = this.#head;
    const signed = signCheckpoint(
      { device: this.#o.device, seq: h ? h.seq : null, head: h ? h.digest : null, boot: this.#o.boot, mono: Math.floor(this.#o.clock.monotonic()), utc: Math.max(0, Math.floor(this.#o.clock.utc())), nonce: sessionNonce },
      this.#o.signer,
      this.#o.digest,
    );
    this.#checkpointDigest = signed.digest;
    return signed.bytes;
  }

  acceptReceipt(receipt: Uint8Array, dock: VerifiedCertificate, sessionNonce: Uint8Array): { seqs: number[]; bytes: number } {
    if (!this.#checkpointDigest) throw new BodycamError('E_RECEIPT_SESSION', 'a receipt before the checkpoint it must answer');
    const held = new Map(this.#withManifests().map((s) => [s.seq, s] as const));
    const { seqs } = checkReceipt(receipt, {
      dockPublicKey: dock.publicKey,
      device: this.#o.device,
      nonce: sessionNonce,
      checkpoint: this.#checkpointDigest,
      manifestDigest: (seq) => {
        const s = held.get(seq);
        return s ? this.#digestOf(seq, s.manifest) : undefined;
      },
      ed25519: this.#o.ed25519,
    });
    const segs = seqs.map((q) => held.get(q)!);
    this.#o.store.release(segs.map((s) => s.info.id), receipt);
    for (const s of segs) if (s.info.state === 'recovered') this.#o.keyStore.delete(recoveredKey(s.seq));
    return { seqs, bytes: segs.reduce((n, s) => n + s.info.mediaLength, 0) };
  }
}

/** A manifest-less value for CBOR detail maps. */
export type Detail = Record<string, CborValue>;
