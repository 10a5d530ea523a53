// The recorder's evidence bookkeeping around the segment store: what each segment's META record
// says (recording id, boot, flags, picture format), the chain head, manifests for segments a
// power cut left open, and the upload source a dock session reads (the camera's only one).
//
// Promises:
// - The chain head (sequence and digest of the newest manifest ever signed) is persisted in the
//   KeyStore ("chain.head") after every seal, because a released segment's manifest leaves the
//   store; at boot the head is the newer of that and the newest manifest still held.
// - A segment the store recovered after a cut (state 'recovered', no trailer) gets a manifest
//   signed at the next boot: its media is read back and hashed through the Digest port, its
//   frame count, drops and times come from its own frame headers (and its sound from its audio
//   headers), and it is flagged
//   FLAG_RECOVERED. The manifest becomes the segment's trailer (SegmentStore.attachTrailer,
//   power-safe) before it becomes the chain head. Only if the store has no block free for it is
//   it kept in the KeyStore ("rm.<seq>") instead; such a key (also one an earlier firmware
//   wrote) is moved into the store at a later boot, and deleted once the trailer is there or a
//   receipt frees the segment.
// - A segment a rollover closed unsigned (SegmentWriter.close) gets its manifest the same way
//   once the recorder's signing slices finish (attach); a cut before that leaves it to the next
//   boot, which signs it like a recovered one (FLAG_RECOVERED: signed at mount).
// - Sealed segments and recovered ones with a manifest upload alike, oldest first.
// - The list of what awaits upload (SegmentStore.segments() reads every segment's meta and
//   trailer from flash) is made once and kept until a seal, a recovered manifest, a release or
//   the next session's checkpoint changes it: a dock reads a chunk at a time.
// - Nothing is freed but through SegmentStore.release() after checkReceipt() (dock key from the
//   handshake, this session's nonce and checkpoint, the exact manifest digests held here).

import { decode, encode, isUint, isText, type CborValue } from '../codec/cbor.js';
import { BodycamError, isBodycamError } from '../errors.js';
import type { Clock } from '../platform/clock.js';
import type { Digest } from '../platform/digest.js';
import type { KeyStore } from '../platform/keystore.js';
import { sha256Of } from '../platform/digest.js';
import { decodeFrameHeader } from '../encoder/frame-record.js';
import { decodeAudioHeader, isAudioRecord } from '../encoder/audio-record.js';
import { toBytes } from '../platform/buffers.js';
import type { PendingSegment, UploadSource } from '../dock/camera-session.js';
import type { VerifiedCertificate } from '../signing/certificate.js';
import type { Ed25519 } from '../signing/ed25519.js';
import { FLAG_RECOVERED, FLAG_UNREAD, ManifestBuilder, type SignedManifest } from '../signing/manifest.js';
import { recipientsFrom, sealedValue, type SealedRecipient } from '../encoder/sealed-record.js';
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
  /** A sealed segment: the evidence keys its content key is wrapped to (absent: written in the clear). */
  sealed?: readonly SealedRecipient[];
  /** A sealed segment: when it was opened (monotonic and UTC ms), the times of a manifest signed without its key. */
  opened?: { mono: number; utc: number };
}

export function encodeMeta(m: SegmentMeta): Uint8Array {
  const base = { recording: m.recording, boot: m.boot, flags: m.flags, format: m.format, width: m.width, height: m.height, frameRate: m.frameRate };
  if (!m.sealed) return encode(base);
  const opened = m.opened ?? { mono: 0, utc: 0 };
  return encode({ ...base, sealed: sealedValue(m.sealed), opened: [opened.mono, opened.utc] });
}

export function decodeMeta(bytes: Uint8Array | undefined): SegmentMeta | undefined {
  if (!bytes || bytes.length === 0) return undefined;
  try {
    const v = decode(bytes);
    if (!(v instanceof Map)) return undefined;
    const u = (k: string) => (isUint(v.get(k)) ? (v.get(k) as number) : 0);
    const format = v.get('format');
    const m: SegmentMeta = { recording: u('recording'), boot: u('boot'), flags: u('flags'), format: isText(format) ? format : 'unknown', width: u('width'), height: u('height'), frameRate: u('frameRate') };
    const sealed = v.get('sealed');
    if (sealed instanceof Map) {
      m.sealed = recipientsFrom(sealed.get('recipients'), 'E_META_FORMAT');
      const o = v.get('opened');
      m.opened = Array.isArray(o) && isUint(o[0]) && isUint(o[1]) ? { mono: o[0], utc: o[1] } : { mono: 0, utc: 0 };
    }
    return m;
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
  /** Frames lost in the segment, the one a cut tore in flight included. */
  dropped: number;
  /** Of those, frames the cut tore in flight (0 or 1). */
  lostAtCut: number;
  /** The last frame's UTC; null for a sealed segment, which the camera can't read once its key is gone. */
  lastUtc: number | null;
  /** A sealed segment, signed without reading it (FLAG_UNREAD): its frames, drops and times are the export's to count. */
  sealed: boolean;
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

/** A segment awaiting upload, with its manifest (the trailer, or a KeyStore copy). */
interface Held {
  seq: number;
  /** The store's segment id. */
  id: number;
  mediaLength: number;
  manifest: Uint8Array;
  /** The manifest is the KeyStore's "rm.<seq>", not the segment's trailer. */
  inKeyStore: boolean;
  pending: PendingSegment;
}

export class EvidenceKeeper implements UploadSource {
  readonly #o: EvidenceKeeperOptions;
  #head: ChainHead | undefined;
  #checkpointDigest: Uint8Array | undefined;
  #digests = new Map<number, Uint8Array>();
  // What awaits upload, by sequence; undefined until listed again.
  #held: Held[] | undefined;
  #bySeq = new Map<number, Held>();
  #pending: PendingSegment[] = [];

  constructor(o: EvidenceKeeperOptions) {
    this.#o = o;
    const persisted = o.keyStore.get(KEY_CHAIN_HEAD);
    if (persisted) {
      const v = decode(new Uint8Array(persisted));
      if (Array.isArray(v) && isUint(v[0]) && v[1] instanceof Uint8Array && v[1].length === 32) this.#head = { seq: v[0], digest: v[1] };
    }
    // A seal whose head update a power cut lost: the newest manifest in the store is newer.
    for (const s of this.#list()) if (!this.#head || s.seq > this.#head.seq) this.#head = { seq: s.seq, digest: this.#digestOf(s.seq, s.manifest) };
  }

  /** The newest manifest ever signed (undefined before the first). */
  head(): ChainHead | undefined {
    return this.#head;
  }

  /**
   * A manifest builder for segment `seq`, chained to the head — or, with `chainLater`, to the
   * manifest still being signed before it (ManifestBuilder.chain when it is).
   */
  builder(seq: number, meta: SegmentMeta, chainLater = false, opened?: { mono: number; utc: number }): ManifestBuilder {
    const h = this.#head;
    if (h && h.seq >= seq) throw new BodycamError('E_CHAIN_ORDER', `segment ${seq} is not after the chain head ${h.seq}`);
    return new ManifestBuilder({
      digest: this.#o.digest,
      device: this.#o.device,
      seq,
      boot: meta.boot,
      recording: meta.recording,
      prev: seq === 0 ? null : chainLater ? undefined : h ? h.digest : null,
      format: { format: meta.format, width: meta.width, height: meta.height },
      firmware: this.#o.firmware,
      flags: meta.flags,
      opened: opened ?? { mono: Math.floor(this.#o.clock.monotonic()), utc: Math.max(0, Math.floor(this.#o.clock.utc())) },
      ...(meta.sealed ? { sealed: meta.sealed } : {}),
    });
  }

  /** A segment was sealed with `signed` (its trailer is on flash): it is the new head. */
  sealed(signed: SignedManifest): void {
    this.#head = { seq: signed.manifest.seq, digest: signed.digest };
    this.#digests.set(signed.manifest.seq, signed.digest);
    this.#held = undefined;
    this.#o.keyStore.set(KEY_CHAIN_HEAD, encode([signed.manifest.seq, signed.digest]));
  }

  /**
   * A segment closed unsigned (SegmentWriter.close) is signed: `signed` becomes its trailer (or
   * the KeyStore's "rm.<seq>" if the store has no block for it), then the head.
   */
  attach(segment: SegmentInfo, signed: SignedManifest): void {
    this.#keep(segment, signed.bytes, false);
    this.sealed(signed);
  }

  /**
   * Sign manifests for every segment a power cut left open (oldest first), and for any it cut
   * before its signature was attached (closed unsigned at a rollover), and attach each as the
   * segment's trailer; move manifests still in the KeyStore into the store.
   */
  sealRecovered(): RecoveredSegment[] {
    const o = this.#o;
    const out: RecoveredSegment[] = [];
    const recovered = o.store
      .segments()
      .filter((s) => s.state === 'recovered' || (s.state === 'sealed' && !s.trailer))
      .sort((a, b) => a.sequence - b.sequence);
    for (const s of recovered) {
      const key = recoveredKey(s.sequence);
      const kept = o.keyStore.get(key);
      if (s.trailer) {
        // A cut between attaching a KeyStore manifest and deleting its key.
        if (kept) o.keyStore.delete(key);
        continue;
      }
      if (kept) {
        this.#keep(s, new Uint8Array(kept), true);
        continue;
      }
      const meta = decodeMeta(s.meta) ?? { recording: 0, boot: 0, flags: 0, format: 'unknown', width: 0, height: 0, frameRate: 0 };
      if (meta.sealed) {
        // Sealed: its content key died with the power, so its records can't be read here. They are
        // hashed as stored; frames, drops and times are left to whoever holds the evidence key.
        const b = this.builder(s.sequence, meta, false, meta.opened);
        for (const r of o.store.records(s.id)) b.addUnread(r.header, r.body);
        if (s.lostAtCut) b.addDropped(s.lostAtCut);
        const signed = b.finish({ signer: o.signer, clock: o.clock.source(), flags: FLAG_RECOVERED | FLAG_UNREAD });
        this.#keep(s, signed.bytes, false);
        this.sealed(signed);
        out.push({ seq: s.sequence, recording: meta.recording, frames: 0, dropped: signed.manifest.dropped, lostAtCut: s.lostAtCut, lastUtc: null, sealed: true });
        continue;
      }
      const b = this.builder(s.sequence, meta);
      let lastUtc = 0;
      for (const r of o.store.records(s.id)) {
        const header = toBytes(r.header);
        if (isAudioRecord(header)) {
          const a = decodeAudioHeader(header);
          b.addAudio(r.header, r.body, a.sampleCount, a.droppedBefore);
          continue;
        }
        const h = decodeFrameHeader(r.header);
        b.addFrame(r.header, r.body, { mono: h.monotonicMs, utc: h.utcMs });
        if (h.droppedBefore) b.addDropped(h.droppedBefore);
        lastUtc = h.utcMs;
      }
      // The frame the cut tore in flight was captured and is not in the evidence: counted here.
      if (s.lostAtCut) b.addDropped(s.lostAtCut);
      const signed = b.finish({ signer: o.signer, clock: o.clock.source(), flags: FLAG_RECOVERED });
      // The manifest is durable before it becomes the head: a cut in between signs it again.
      this.#keep(s, signed.bytes, false);
      this.sealed(signed);
      out.push({ seq: s.sequence, recording: meta.recording, frames: signed.manifest.frames, dropped: signed.manifest.dropped, lostAtCut: s.lostAtCut, lastUtc, sealed: false });
    }
    return out;
  }

  /** Make `manifest` the recovered segment's trailer; with no room for it, keep it in the KeyStore. */
  #keep(s: SegmentInfo, manifest: Uint8Array, inKeyStore: boolean): void {
    const key = recoveredKey(s.sequence);
    this.#held = undefined;
    try {
      this.#o.store.attachTrailer(s.id, manifest);
    } catch (e) {
      if (!isBodycamError(e, 'E_STORE_FULL')) throw e;
      // No free block for the trailer: the KeyStore holds it until a later boot finds room.
      if (!inKeyStore) this.#o.keyStore.set(key, manifest);
      return;
    }
    if (inKeyStore) this.#o.keyStore.delete(key);
  }

  /** Segments with a manifest that are not released, by sequence (listed once, kept until a change). */
  #list(): Held[] {
    if (this.#held) return this.#held;
    const held: Held[] = [];
    for (const s of this.#o.store.segments()) {
      let manifest: Uint8Array | undefined;
      let inKeyStore = false;
      if (s.state === 'sealed' || s.state === 'recovered') manifest = s.trailer;
      if (!manifest && (s.state === 'recovered' || s.state === 'sealed')) {
        const k = this.#o.keyStore.get(recoveredKey(s.sequence));
        if (k) {
          manifest = new Uint8Array(k);
          inKeyStore = true;
        }
      }
      if (manifest) held.push({ seq: s.sequence, id: s.id, mediaLength: s.mediaLength, manifest, inKeyStore, pending: { seq: s.sequence, length: s.mediaLength, manifest } });
    }
    held.sort((a, b) => a.seq - b.seq);
    this.#held = held;
    this.#bySeq = new Map(held.map((h) => [h.seq, h] as const));
    this.#pending = held.map((h) => h.pending);
    return held;
  }

  #digestOf(seq: number, manifest: Uint8Array): Uint8Array {
    let d = this.#digests.get(seq);
    if (!d) this.#digests.set(seq, (d = sha256Of(this.#o.digest, manifest)));
    return d;
  }

  // ------------------------------------------------------------ UploadSource (the dock session)

  pending(): PendingSegment[] {
    this.#list();
    return this.#pending;
  }

  read(seq: number, offset: number, length: number): Uint8Array {
    this.#list();
    const s = this.#bySeq.get(seq);
    if (!s) throw new BodycamError('E_NO_SEGMENT', `segment ${seq} is not awaiting upload`);
    return this.#o.store.readMedia(s.id, offset, length);
  }

  checkpoint(sessionNonce: Uint8Array): Uint8Array {
    // A new session lists the store afresh.
    this.#held = undefined;
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
    this.#list();
    const held = this.#bySeq;
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
    this.#held = undefined;
    this.#o.store.release(segs.map((s) => s.id), receipt);
    for (const s of segs) if (s.inKeyStore) this.#o.keyStore.delete(recoveredKey(s.seq));
    return { seqs, bytes: segs.reduce((n, s) => n + s.mediaLength, 0) };
  }
}

/** A manifest-less value for CBOR detail maps. */
export type Detail = Record<string, CborValue>;
