// Writing the MP4 export (evidence/mp4.ts plans and boxes it) to a file, with or without C2PA
// content credentials (evidence/c2pa.ts) in a 'uuid' box right after ftyp.
//
// One pass over the media: the credentials box is written first as a placeholder of its final
// size (the manifest store's size does not depend on the hash it carries), the BMFF hash of
// the C2PA specification (c2pa.hash.bmff.v3: every top-level box but ftyp, the C2PA uuid box and
// mfra, each preceded by its 8-byte file offset) is computed while the boxes are written, and
// the signed store is then written over the placeholder.

import { closeSync, existsSync, openSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { BodycamError } from '../firmware/errors.js';
import { FRAME_HEADER_LENGTH } from '../firmware/encoder/frame-record.js';
import type { EvidenceCredentials } from './c2pa.js';
import type { StoreExport } from './export.js';
import { SafeReader } from './layout.js';
import { Box, defaultTracks, ftypBox, mediaBoxes, type Mp4Plan, type Track } from './mp4.js';
import type { StoreReport } from './verify-store.js';

/** Writes byte chunks to a file through one buffer; keeps the count. */
class FileOut {
  readonly fd: number;
  readonly #buf = Buffer.allocUnsafe(4 * 1024 * 1024);
  #used = 0;
  written = 0;
  constructor(path: string) {
    this.fd = openSync(path, 'w', 0o644);
  }
  write(chunk: Uint8Array): void {
    if (chunk.length > this.#buf.length - this.#used) this.flush();
    if (chunk.length >= this.#buf.length / 2) {
      for (let o = 0; o < chunk.length; ) o += writeSync(this.fd, chunk, o, chunk.length - o);
      this.written += chunk.length;
      return;
    }
    this.#buf.set(chunk, this.#used);
    this.#used += chunk.length;
    this.written += chunk.length;
  }
  flush(): void {
    for (let o = 0; o < this.#used; ) o += writeSync(this.fd, this.#buf, o, this.#used - o);
    this.#used = 0;
  }
  at(position: number, bytes: Uint8Array): void {
    this.flush();
    for (let o = 0; o < bytes.length; ) o += writeSync(this.fd, bytes, o, bytes.length - o, position + o);
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/** Makes the credentials box once the file's BMFF hash is known; its size never changes. */
export interface CredentialsMaker {
  /** The size of the uuid box it will make. */
  readonly size: number;
  /** The uuid box, given the BMFF v3 hash of the file (offsets included). */
  make(bmffHash: Uint8Array): Uint8Array;
}

export interface WrittenMp4 {
  file: string;
  bytes: number;
  /** Bytes of the C2PA uuid box (0 without credentials). */
  credentialsBytes: number;
  bmffHash: Uint8Array;
}

/**
 * Write `plan` to `out`. With `credentials`, the C2PA uuid box goes right after ftyp. Refuses
 * an existing file unless `overwrite`.
 */
export function writeMp4(plan: Mp4Plan, out: string, o: { credentials?: CredentialsMaker; tracks?: Track[]; overwrite?: boolean; alsoWrites?: string[] } = {}): WrittenMp4 {
  if (o.overwrite === false) {
    const there = [out, ...(o.alsoWrites ?? [])].filter((x) => existsSync(x));
    if (there.length) throw new BodycamError('E_OUT_EXISTS', `${there.join(', ')} already exist${there.length === 1 ? 's' : ''}; nothing was written. Choose another --out, or add --force to replace ${there.length === 1 ? 'it' : 'them'}`);
  }
  const tracks = o.tracks ?? defaultTracks(plan);
  const file = new FileOut(out);
  const hash = createHash('sha256');
  const offset = Buffer.alloc(8);
  try {
    const ftyp = ftypBox();
    for (const p of ftyp.parts) file.write(p);
    let credentialsAt = -1;
    if (o.credentials) {
      credentialsAt = file.written;
      file.write(new Uint8Array(o.credentials.size));
    }
    const hashed = (b: Box) => {
      offset.writeBigUInt64BE(BigInt(file.written));
      hash.update(offset);
      for (const p of b.parts) {
        hash.update(p);
        file.write(p);
      }
    };
    for (const b of mediaBoxes(plan, tracks)) hashed(b);
    const bmffHash = new Uint8Array(hash.digest());
    if (o.credentials) {
      const box = o.credentials.make(bmffHash);
      if (box.length !== o.credentials.size) throw new BodycamError('E_EXPORT_INTERNAL', `the credentials box is ${box.length} bytes, ${o.credentials.size} were reserved`);
      file.at(credentialsAt, box);
    }
    file.close();
    return { file: out, bytes: file.written, credentialsBytes: o.credentials?.size ?? 0, bmffHash };
  } catch (e) {
    try {
      closeSync(file.fd);
    } catch {
      // already closed
    }
    throw e;
  }
}

/**
 * What the credentials carry from a verified store export: the camera's certificate, its signed
 * manifests, checkpoints and receipts, the dock certificates, the revocation list, the custody
 * checkpoint and proofs, and the clock, each as the bytes that were signed.
 */
export function storeCredentials(verified: StoreReport, plan: StoreExport, mp4: Mp4Plan, device: string, checkpoint?: { bytes: Uint8Array }): EvidenceCredentials {
  const input = verified.input.devices.find((d) => d.id === device);
  if (!input?.certificate) throw new BodycamError('E_EXPORT_INTERNAL', `no certificate of ${device} to put in the credentials`);
  const reader = new SafeReader();
  const segments = plan.seqs.map((seq) => {
    const s = input.segments.find((x) => x.seq === seq);
    if (!s) throw new BodycamError('E_EXPORT_INTERNAL', `segment ${seq} has no manifest to put in the credentials`);
    const frs = mp4.fragments.filter((f) => f.segment === seq);
    const headers = new Uint8Array(frs.reduce((n, f) => n + f.frames.length * FRAME_HEADER_LENGTH, 0));
    let o = 0;
    for (const f of frs) {
      for (const x of f.frames) {
        headers.set(x.headerBytes, o);
        o += FRAME_HEADER_LENGTH;
      }
    }
    const sealed = plan.sealedKeys.get(seq);
    return { seq, manifest: s.manifest, fragments: frs.map((f) => f.number), frameHeaders: headers, order: Uint8Array.from(frs.flatMap((f) => f.order)), ...(sealed ? { sealed } : {}) };
  });
  const report = plan.report as { clock?: { statement?: string; source?: string }; custody?: { segmentProofs?: { seq: number; index: number; size: number; leafHash: string; path: string[] }[] } };
  const refFile = verified.custody.reference?.file;
  const checkpointBytes = checkpoint?.bytes ?? (refFile ? reader.read(refFile) : undefined) ?? null;
  const drift = report.clock?.statement ? reader.read(report.clock.statement) : undefined;
  return {
    device,
    certificate: input.certificate,
    docks: verified.input.docks ?? [],
    checkpoints: input.checkpoints ?? [],
    receipts: input.receipts ?? [],
    ...(verified.input.revocations ? { revocations: verified.input.revocations } : {}),
    custody: { checkpoint: checkpointBytes, proofs: report.custody?.segmentProofs ?? [] },
    clock: { offsetMs: plan.clockOffsetMs, source: report.clock?.source ?? 'none', ...(drift ? { driftStatement: drift } : {}) },
    segments,
  };
}
