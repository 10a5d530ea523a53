// Writing the MP4 export (evidence/mp4.ts plans and boxes it) to a file, or into memory (an
// export of decrypted evidence that must never reach a disk), with or without C2PA content
// credentials (evidence/c2pa.ts) in a 'uuid' box right after ftyp. `bodycam export` and the dock
// station's web console both make their MP4 here: storeMp4() plans it from a verified store
// export and makes its credentials when there is an export signer, mp4ExportReport() gives the
// integrity report's account of it.
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
import { peekManifest } from '../firmware/signing/manifest.js';
import { credentialsMaker, type EvidenceCredentials } from './c2pa.js';
import type { ExportSignerIdentity } from './c2pa-certs.js';
import type { StoreExport } from './export.js';
import { SafeReader } from './layout.js';
import { Box, defaultTracks, ftypBox, mediaBoxes, planMp4, type Mp4Plan, type Track } from './mp4.js';
import type { StoreReport } from './verify-store.js';

/** Where the MP4's bytes go: in order, with one write back (the credentials over their placeholder). */
interface Mp4Out {
  readonly written: number;
  write(chunk: Uint8Array): void;
  at(position: number, bytes: Uint8Array): void;
}

/** Writes byte chunks to a file through one buffer; keeps the count. */
class FileOut implements Mp4Out {
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

/** Copies byte chunks into one buffer of the file's exact size, made before the first byte. */
class MemoryOut implements Mp4Out {
  readonly bytes: Uint8Array<ArrayBuffer>;
  written = 0;
  constructor(size: number) {
    this.bytes = new Uint8Array(size);
  }
  write(chunk: Uint8Array): void {
    if (this.written + chunk.length > this.bytes.length) throw new BodycamError('E_EXPORT_INTERNAL', `the MP4 outgrew the ${this.bytes.length} bytes its boxes add up to`);
    this.bytes.set(chunk, this.written);
    this.written += chunk.length;
  }
  at(position: number, bytes: Uint8Array): void {
    this.bytes.set(bytes, position);
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

export interface Mp4Options {
  credentials?: CredentialsMaker;
  tracks?: Track[];
}

/** ftyp, the credentials placeholder, the hashed media boxes, then the credentials over their placeholder. */
function emitMp4(plan: Mp4Plan, out: Mp4Out, o: Mp4Options): { credentialsBytes: number; bmffHash: Uint8Array } {
  const tracks = o.tracks ?? defaultTracks(plan);
  const hash = createHash('sha256');
  const offset = Buffer.alloc(8);
  for (const p of ftypBox().parts) out.write(p);
  let credentialsAt = -1;
  if (o.credentials) {
    credentialsAt = out.written;
    out.write(new Uint8Array(o.credentials.size));
  }
  for (const b of mediaBoxes(plan, tracks)) {
    offset.writeBigUInt64BE(BigInt(out.written));
    hash.update(offset);
    for (const p of b.parts) {
      hash.update(p);
      out.write(p);
    }
  }
  const bmffHash = new Uint8Array(hash.digest());
  if (o.credentials) {
    const box = o.credentials.make(bmffHash);
    if (box.length !== o.credentials.size) throw new BodycamError('E_EXPORT_INTERNAL', `the credentials box is ${box.length} bytes, ${o.credentials.size} were reserved`);
    out.at(credentialsAt, box);
  }
  return { credentialsBytes: o.credentials?.size ?? 0, bmffHash };
}

/**
 * Write `plan` to `out`. With `credentials`, the C2PA uuid box goes right after ftyp. Refuses
 * an existing file unless `overwrite`.
 */
export function writeMp4(plan: Mp4Plan, out: string, o: Mp4Options & { overwrite?: boolean; alsoWrites?: string[] } = {}): WrittenMp4 {
  if (o.overwrite === false) {
    const there = [out, ...(o.alsoWrites ?? [])].filter((x) => existsSync(x));
    if (there.length) throw new BodycamError('E_OUT_EXISTS', `${there.join(', ')} already exist${there.length === 1 ? 's' : ''}; nothing was written. Choose another --out, or add --force to replace ${there.length === 1 ? 'it' : 'them'}`);
  }
  const file = new FileOut(out);
  try {
    const r = emitMp4(plan, file, o);
    file.close();
    return { file: out, bytes: file.written, ...r };
  } catch (e) {
    try {
      closeSync(file.fd);
    } catch {
      // already closed
    }
    throw e;
  }
}

/** The size in bytes of the MP4 writeMp4 and mp4Bytes make of `plan` with these options. */
export function mp4Size(plan: Mp4Plan, o: Mp4Options = {}): number {
  const tracks = o.tracks ?? defaultTracks(plan);
  let n = ftypBox().size + (o.credentials?.size ?? 0);
  for (const b of mediaBoxes(plan, tracks)) n += b.size;
  return n;
}

/**
 * The MP4 of `plan` in memory, byte for byte what writeMp4 writes: for an export of decrypted
 * evidence that is handed out from memory and never written to a disk. One buffer of the
 * file's size (mp4Size) is allocated before any byte is made.
 */
export function mp4Bytes(plan: Mp4Plan, o: Mp4Options = {}): { bytes: Uint8Array<ArrayBuffer>; credentialsBytes: number; bmffHash: Uint8Array } {
  const tracks = o.tracks ?? defaultTracks(plan);
  const mem = new MemoryOut(mp4Size(plan, { ...o, tracks }));
  const r = emitMp4(plan, mem, { ...o, tracks });
  if (mem.written !== mem.bytes.length) throw new BodycamError('E_EXPORT_INTERNAL', `made ${mem.written} bytes of the MP4, planned ${mem.bytes.length}`);
  return { bytes: mem.bytes, ...r };
}

/** The name and version of the software that made an export, for its credentials. */
export interface ExportGenerator {
  name: string;
  version: string;
}

/** A verified store export planned as an MP4, with its signed credentials when there is an export signer. */
export interface StoreMp4 {
  mp4: Mp4Plan;
  /** Present when signed (an export signer was given); without it the MP4 is UNSIGNED. */
  credentials?: CredentialsMaker;
  signer?: ExportSignerIdentity;
}

/**
 * Plan the MP4 of a store export that verified (`plan` from planStoreExport, `verified` the
 * store report it was planned from) and, given the export signer, make its C2PA credentials:
 * the camera's certificate, signed manifests and frame headers, receipts and custody, signed by
 * the signer. `title` names the file in the credentials.
 */
export function storeMp4(verified: StoreReport, plan: StoreExport, device: string, o: { signer?: ExportSignerIdentity; title: string; generator: ExportGenerator; checkpoint?: { bytes: Uint8Array } }): StoreMp4 {
  const mp4 = planMp4(plan.mediaBytes, { clockOffsetMs: plan.clockOffsetMs, segmentSeqs: plan.seqs });
  if (!o.signer) return { mp4 };
  const evidence = storeCredentials(verified, plan, mp4, device, o.checkpoint);
  let firmware = 'bodycam camera firmware';
  try {
    firmware = peekManifest(evidence.segments[0].manifest).manifest.firmware;
  } catch {
    // the manifest verified already; a name is only a label here
  }
  const credentials = credentialsMaker({ signer: o.signer.signer, chain: [o.signer.certificate], title: o.title, generator: o.generator, captureAgent: firmware, evidence });
  return { mp4, credentials, signer: o.signer };
}

/** What an unsigned MP4 says of itself (`bodycam export` without --signer, a console without one). */
export const UNSIGNED_MP4 = 'the file carries no content credentials; the integrity report beside it says what was verified';

/** The integrity report of a store export written as an MP4: the verification, every accepted finding, and what was made. */
export function mp4ExportReport(plan: StoreExport, made: StoreMp4, written: { video: string; credentialsBytes: number }): Record<string, unknown> {
  const { mp4, signer } = made;
  return { ...plan.report, acceptedFindings: plan.findings, export: { video: written.video, format: 'mp4', frames: mp4.frames, fragments: mp4.fragments.length, dropped: mp4.dropped, durationMs: mp4.durationMs, credentials: signer ? { bytes: written.credentialsBytes, signer: signer.checked.subject, serial: signer.checked.serial } : null } };
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
