// An agency in memory for the signing tests: a root key, docks, and cameras that record signed
// segments, take checkpoints and get receipts — the evidence a dock station would store, built
// with the firmware modules themselves (on Node, Node's native SHA-256 as the Digest port).

import { createHash } from 'node:crypto';
import { issueCertificate, issueRevocationList, type Revocation } from '../../firmware/signing/certificate.js';
import { FLAG_CLEAN_CLOSE, ManifestBuilder, signManifest, type Manifest, type SignedManifest } from '../../firmware/signing/manifest.js';
import { signCheckpoint, signReceipt, type SignedCheckpoint } from '../../firmware/signing/receipt.js';
import { KeyPairSigner, type Signer } from '../../firmware/signing/signer.js';
import type { DeviceInput, EvidenceInput, SegmentInput } from '../../firmware/signing/verifier.js';
import type { EvidenceLayout } from '../../evidence/layout.js';
import { nodeDigest } from '../../host-sim/node/hardware.js';

export const digest = nodeDigest;
export const T0 = Date.UTC(2026, 10, 25, 6, 0, 0);
export const YEAR = 365 * 24 * 3600 * 1000;

export function seedOf(label: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`bodycam-test:${label}`).digest());
}

export function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A synthetic frame: a 16-byte header and a body whose bytes depend on (device, seq, i). */
export function frame(device: string, seq: number, i: number, size = 300): { header: Uint8Array; body: Uint8Array } {
  const header = new Uint8Array(16);
  new DataView(header.buffer).setUint32(0, seq);
  new DataView(header.buffer).setUint32(4, i);
  const body = new Uint8Array(size);
  const s = sha256(new TextEncoder().encode(`${device}/${seq}/${i}`));
  for (let k = 0; k < size; k++) body[k] = s[k % 32] ^ (k & 0xff);
  return { header, body };
}

export interface StoredSegment {
  seq: number;
  manifest: Uint8Array;
  media: Uint8Array;
  signed: SignedManifest;
}

export class Agency {
  readonly root = new KeyPairSigner({ seed: seedOf('root'), digest });
  readonly name = 'Test Constabulary';
  #serial = 1;
  certify(id: string, kind: 'device' | 'dock', key: Signer): Uint8Array {
    return issueCertificate({ id, kind, publicKey: key.publicKey, agency: this.name, serial: this.#serial++, notBefore: T0 - YEAR, notAfter: T0 + YEAR }, this.root);
  }
  revocations(revoked: Revocation[], signer: Signer = this.root): Uint8Array {
    return issueRevocationList({ agency: this.name, number: 1, issued: T0, revoked }, signer);
  }
}

export class Dock {
  readonly key: KeyPairSigner;
  readonly certificate: Uint8Array;
  constructor(readonly id: string, agency: Agency) {
    this.key = new KeyPairSigner({ seed: seedOf(`dock:${id}`), digest });
    this.certificate = agency.certify(id, 'dock', this.key);
  }
  /** A receipt for `segments` of `device`, answering `checkpoint`. */
  receipt(device: string, segments: StoredSegment[], checkpoint: SignedCheckpoint, nonce: Uint8Array, signer: Signer = this.key, utc = T0 + 3600_000): Uint8Array {
    return signReceipt({ dock: this.id, nonce, checkpoint: checkpoint.digest, utc, entries: segments.map((s) => ({ device, seq: s.seq, manifest: s.signed.digest })) }, signer);
  }
}

export interface RecordOptions {
  frames?: number;
  boot?: number;
  /** Mono/UTC start of the segment. */
  mono?: number;
  utc?: number;
  frameMs?: number;
  lastSync?: number;
}

/** A camera: its key, its certificate, and the segments it has recorded so far. */
export class Camera {
  readonly key: KeyPairSigner;
  readonly certificate: Uint8Array;
  readonly segments: StoredSegment[] = [];
  #mono = 1000;
  #utc = T0;
  constructor(readonly id: string, agency: Agency, seedLabel = id) {
    this.key = new KeyPairSigner({ seed: seedOf(`camera:${seedLabel}`), digest });
    this.certificate = agency.certify(id, 'device', this.key);
  }
  get head(): StoredSegment | undefined {
    return this.segments[this.segments.length - 1];
  }
  /** Record one segment through the ManifestBuilder, as the recorder does. */
  record(o: RecordOptions = {}): StoredSegment {
    const seq = this.segments.length;
    const frames = o.frames ?? 4;
    const frameMs = o.frameMs ?? 40;
    let mono = o.mono ?? this.#mono;
    let utc = o.utc ?? this.#utc;
    const b = new ManifestBuilder({ digest, device: this.id, seq, boot: o.boot ?? 1, recording: 1, prev: this.head?.signed.digest ?? null, format: { format: 'jpeg', width: 800, height: 600 }, firmware: '0.1.0-test' });
    const parts: Uint8Array[] = [];
    for (let i = 0; i < frames; i++) {
      const f = frame(this.id, seq, i);
      b.addFrame(f.header, f.body, { mono, utc });
      parts.push(f.header, f.body);
      mono += frameMs;
      utc += frameMs;
    }
    this.#mono = mono;
    this.#utc = utc;
    const signed = b.finish({ signer: this.key, clock: { source: 'dock', lastSync: o.lastSync ?? T0 - 60_000 }, flags: FLAG_CLEAN_CLOSE });
    const s = { seq, manifest: signed.bytes, media: concat(parts), signed };
    this.segments.push(s);
    return s;
  }
  /** Sign an arbitrary manifest (for tampering the camera itself could do: bad clocks, broken chains). */
  forge(changes: Partial<Manifest>, base: StoredSegment, signer: Signer = this.key): StoredSegment {
    const signed = signManifest({ ...base.signed.manifest, ...changes }, signer, digest);
    return { seq: signed.manifest.seq, manifest: signed.bytes, media: base.media, signed };
  }
  checkpoint(nonce: Uint8Array, boot = 1): SignedCheckpoint {
    const h = this.head;
    return signCheckpoint({ device: this.id, seq: h ? h.seq : null, head: h ? h.signed.digest : null, boot, mono: this.#mono, utc: this.#utc, nonce }, this.key, digest);
  }
}

export function segmentInput(s: StoredSegment, how: 'digest' | 'media' = 'digest'): SegmentInput {
  return how === 'media' ? { seq: s.seq, manifest: s.manifest, media: s.media } : { seq: s.seq, manifest: s.manifest, mediaDigest: sha256(s.media), mediaLength: s.media.length };
}

/** A complete, valid evidence set: one dock, `cameras` cameras with `segments` segments each, a checkpoint and a receipt per camera. */
export function scenario(o: { cameras?: number; segments?: number } = {}) {
  const agency = new Agency();
  const dock = new Dock('DOCK-1', agency);
  const cams: Camera[] = [];
  const devices: DeviceInput[] = [];
  const checkpoints: SignedCheckpoint[] = [];
  for (let c = 0; c < (o.cameras ?? 2); c++) {
    const cam = new Camera(`CAM-${String(c + 1).padStart(4, '0')}`, agency);
    for (let s = 0; s < (o.segments ?? 4); s++) cam.record();
    const nonce = seedOf(`nonce:${cam.id}`).slice(0, 16);
    const cp = cam.checkpoint(nonce);
    checkpoints.push(cp);
    cams.push(cam);
    devices.push({ id: cam.id, certificate: cam.certificate, segments: cam.segments.map((s) => segmentInput(s)), checkpoints: [cp.bytes], receipts: [dock.receipt(cam.id, cam.segments, cp, nonce)] });
  }
  const evidence: EvidenceInput = { root: agency.root.publicKey, docks: [dock.certificate], devices };
  return { agency, dock, cameras: cams, checkpoints, evidence };
}

/** A scenario's evidence as a store on disk lays it out (writeEvidenceDir). */
export function evidenceLayout(o: { cameras?: number; segments?: number } = {}): EvidenceLayout {
  return layoutOf(scenario(o));
}

/** The layout of a scenario already made (when a test needs its agency or cameras too). */
export function layoutOf({ agency, dock, cameras, evidence }: ReturnType<typeof scenario>): EvidenceLayout {
  return {
    root: agency.root.publicKey,
    docks: [{ id: dock.id, certificate: dock.certificate }],
    devices: cameras.map((c, i) => ({
      id: c.id,
      certificate: c.certificate,
      segments: c.segments.map((s) => ({ seq: s.seq, manifest: s.manifest, media: s.media })),
      checkpoints: evidence.devices[i].checkpoints,
      receipts: evidence.devices[i].receipts,
    })),
  };
}
