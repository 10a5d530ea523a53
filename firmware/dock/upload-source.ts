// What the camera uploads from: the segment store's sealed segments, whose trailers are their
// signed manifests, read straight from flash in chunks. A receipt frees segments only after
// checkReceipt() (dock key from the handshake, this session's nonce and checkpoint, the exact
// manifest digests held here) and only through SegmentStore.release(), which persists the
// receipt with the release.

import { BodycamError } from '../errors.js';
import type { Clock } from '../platform/clock.js';
import type { Digest } from '../platform/digest.js';
import { sha256Of } from '../platform/soft-digest.js';
import type { VerifiedCertificate } from '../signing/certificate.js';
import type { Ed25519 } from '../signing/ed25519.js';
import { checkReceipt, signCheckpoint } from '../signing/receipt.js';
import type { Signer } from '../signing/signer.js';
import type { SegmentInfo, SegmentStore } from '../storage/index.js';
import type { PendingSegment, UploadSource } from './camera-session.js';

export interface StoreUploadSourceOptions {
  store: SegmentStore;
  deviceId: string;
  identity: Signer;
  digest: Digest;
  clock: Clock;
  bootCounter: number;
  ed25519?: Ed25519;
  /**
   * The camera's chain head (newest manifest ever sealed: its sequence and digest), which the
   * recorder persists because a released segment's manifest leaves the store. Without it the
   * head is the newest manifest still in the store.
   */
  head?: () => { seq: number; digest: Uint8Array } | undefined;
}

export class StoreUploadSource implements UploadSource {
  #o: StoreUploadSourceOptions;
  #checkpointDigest: Uint8Array | undefined;
  #manifestDigests = new Map<number, Uint8Array>();

  constructor(o: StoreUploadSourceOptions) {
    this.#o = o;
  }

  // The store reads every segment's manifest from flash to list them: list once per session, and
  // again only after a release changed the answer.
  #cache: SegmentInfo[] | undefined;

  #sealed(): SegmentInfo[] {
    this.#cache ??= this.#o.store
      .segments()
      .filter((s) => s.state === 'sealed' && s.trailer !== undefined)
      .sort((a, b) => a.sequence - b.sequence);
    return this.#cache;
  }

  pending(): PendingSegment[] {
    return this.#sealed().map((s) => ({ seq: s.sequence, length: s.mediaLength, manifest: s.trailer! }));
  }

  #bySeq(seq: number): SegmentInfo {
    const s = this.#sealed().find((x) => x.sequence === seq);
    if (!s) throw new BodycamError('E_NO_SEGMENT', `segment ${seq} is not awaiting upload`);
    return s;
  }

  read(seq: number, offset: number, length: number): Uint8Array {
    return this.#o.store.readMedia(this.#bySeq(seq).id, offset, length);
  }

  #digestOf(s: SegmentInfo): Uint8Array {
    let d = this.#manifestDigests.get(s.sequence);
    if (!d) {
      d = sha256Of(this.#o.digest, s.trailer!);
      this.#manifestDigests.set(s.sequence, d);
    }
    return d;
  }

  checkpoint(sessionNonce: Uint8Array): Uint8Array {
    const head = this.#head();
    const signed = signCheckpoint(
      {
        device: this.#o.deviceId,
        seq: head ? head.seq : null,
        head: head ? head.digest : null,
        boot: this.#o.bootCounter,
        mono: this.#o.clock.monotonic(),
        utc: Math.max(0, this.#o.clock.utc()),
        nonce: sessionNonce,
      },
      this.#o.identity,
      this.#o.digest,
    );
    this.#checkpointDigest = signed.digest;
    return signed.bytes;
  }

  #head(): { seq: number; digest: Uint8Array } | undefined {
    const persisted = this.#o.head?.();
    const newest = this.#o.store
      .segments()
      .filter((s) => s.trailer !== undefined)
      .sort((a, b) => b.sequence - a.sequence)[0];
    if (newest && (!persisted || newest.sequence > persisted.seq)) return { seq: newest.sequence, digest: this.#digestOf(newest) };
    return persisted;
  }

  acceptReceipt(receipt: Uint8Array, dock: VerifiedCertificate, sessionNonce: Uint8Array): { seqs: number[]; bytes: number } {
    if (!this.#checkpointDigest) throw new BodycamError('E_RECEIPT_SESSION', 'a receipt before the checkpoint it must answer');
    const sealed = new Map(this.#sealed().map((s) => [s.sequence, s] as const));
    const { seqs } = checkReceipt(receipt, {
      dockPublicKey: dock.publicKey,
      device: this.#o.deviceId,
      nonce: sessionNonce,
      checkpoint: this.#checkpointDigest,
      manifestDigest: (seq) => {
        const s = sealed.get(seq);
        return s ? this.#digestOf(s) : undefined;
      },
      ed25519: this.#o.ed25519,
    });
    const segs = seqs.map((q) => sealed.get(q)!);
    this.#cache = undefined;
    this.#o.store.release(segs.map((s) => s.id), receipt);
    return { seqs, bytes: segs.reduce((n, s) => n + s.mediaLength, 0) };
  }
}
