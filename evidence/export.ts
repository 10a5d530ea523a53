// Exporting evidence: segment media → a playable AVI (MJPEG, idx1) plus a sidecar JSON per part
// with per-frame UTC, monotonic time and clock offset (NISTIR 8161r1). The muxer is
// firmware/encoder/avi.ts (pure); this module reads and writes the files, and plans an export
// from a store: every chosen segment verified first, against pinned trust, with an integrity
// report of what was checked.

import { closeSync, existsSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '../firmware/codec/cbor.js';
import { aviSidecar, planAviExport, type AviExport, type AviExportOptions } from '../firmware/encoder/avi.js';
import { parseMedia } from '../firmware/encoder/frame-record.js';
import { BodycamError, errorMessage } from '../firmware/errors.js';
import type { Ed25519 } from '../firmware/signing/ed25519.js';
import { verifyCertificate } from '../firmware/signing/certificate.js';
import { FLAG_UNREAD, type Manifest } from '../firmware/signing/manifest.js';
import { nodeDigest } from '../host/ports.js';
import { custodyProof } from './custody-log.js';
import { driftFor, readDriftStatements } from './drift.js';
import { SafeReader, segmentStem } from './layout.js';
import type { Trust } from './trust.js';
import { verifyStore, type StoreReport } from './verify-store.js';
import { decryptionRecord, NEEDS_KEY_NOTE, openSealedSegment, type ExaminerKey, type SealedSegmentKey } from './sealed.js';

/** Writes byte chunks to a file through one buffer, so small chunks cost no system call each. */
class ChunkWriter {
  readonly #fd: number;
  readonly #buf = Buffer.allocUnsafe(4 * 1024 * 1024);
  #used = 0;
  written = 0;
  constructor(path: string) {
    this.#fd = openSync(path, 'w');
  }
  write(chunk: Uint8Array): void {
    if (chunk.length > this.#buf.length - this.#used) this.flush();
    if (chunk.length >= this.#buf.length / 2) {
      this.#all(chunk);
      return;
    }
    this.#buf.set(chunk, this.#used);
    this.#used += chunk.length;
  }
  #all(b: Uint8Array): void {
    for (let o = 0; o < b.length; ) o += writeSync(this.#fd, b, o, b.length - o);
    this.written += b.length;
  }
  flush(): void {
    if (this.#used) this.#all(this.#buf.subarray(0, this.#used));
    this.#used = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.#fd);
  }
}

/** The file name of part `i` of `n` ("out.avi", or "out.part2.avi" when split). */
export function partPath(out: string, i: number, n: number): string {
  if (n === 1) return out;
  const dot = out.toLowerCase().endsWith('.avi') ? out.length - 4 : out.length;
  return `${out.slice(0, dot)}.part${i + 1}${out.slice(dot)}`;
}

export interface WrittenExport {
  videos: string[];
  sidecars: string[];
  bytes: number;
}

export interface WriteExportOptions {
  /** Replace files already there (default true); false refuses with E_OUT_EXISTS before writing anything. */
  overwrite?: boolean;
  /** More files the caller will write beside the export (an integrity report), checked alike. */
  alsoWrites?: string[];
  /** The media were not verified (bare files, no manifest or signature checked): every sidecar says so. */
  unverified?: boolean;
}

/** What a sidecar of unverified media says first. */
export const UNVERIFIED_NOTE = 'UNVERIFIED: made from media files whose manifests and signatures were not checked; nothing here says they are the camera\'s evidence unaltered. Export from the store (bodycam export --store) for a verified export.';

/** Write every part of an export (AVI + `<avi>.json` sidecar each). */
export function writeAviExport(exp: AviExport, out: string, o: WriteExportOptions = {}): WrittenExport {
  if (o.overwrite === false) {
    const files = [...exp.parts.flatMap((_p, i) => [partPath(out, i, exp.parts.length), `${partPath(out, i, exp.parts.length)}.json`]), ...(o.alsoWrites ?? [])];
    const there = files.filter((f) => existsSync(f));
    if (there.length) throw new BodycamError('E_OUT_EXISTS', `${there.join(', ')} already exist${there.length === 1 ? 's' : ''}; nothing was written. Choose another --out, or add --force to replace ${there.length === 1 ? 'it' : 'them'}`);
  }
  const result: WrittenExport = { videos: [], sidecars: [], bytes: 0 };
  exp.parts.forEach((part, i) => {
    const video = partPath(out, i, exp.parts.length);
    const w = new ChunkWriter(video);
    try {
      for (const c of part.chunks()) w.write(c);
    } finally {
      w.close();
    }
    if (w.written !== part.byteLength) throw new BodycamError('E_EXPORT_INTERNAL', `wrote ${w.written} bytes of ${video}, planned ${part.byteLength}`);
    const sidecar = `${video}.json`;
    const timing = aviSidecar(exp, part, { video: video.split('/').pop() ?? video, part: i + 1 });
    writeFileSync(sidecar, `${JSON.stringify(o.unverified ? { verified: false, note: UNVERIFIED_NOTE, ...timing } : timing, null, 1)}\n`);
    result.videos.push(video);
    result.sidecars.push(sidecar);
    result.bytes += w.written;
  });
  return result;
}

export interface AviExportResult {
  exp: AviExport;
  written: WrittenExport;
}

/** Export segment media files (in order) to `out`. */
export function exportMediaFiles(paths: string[], out: string, options: AviExportOptions = {}, write: WriteExportOptions = {}): AviExportResult {
  const media = paths.map((p) => new Uint8Array(readFileSync(p)));
  const exp = planAviExport(media, options);
  return { exp, written: writeAviExport(exp, out, { unverified: true, ...write }) };
}

/** One thing verification found, as an export states it. */
export interface ExportFinding {
  scope: 'trust' | 'layout' | 'device' | 'segment' | 'ledger' | 'clock' | 'frames' | 'custody';
  code: string;
  message: string;
  seq?: number;
  path?: string;
}

export interface StoreExport {
  /** Everything verification of the device found; the export goes ahead only with acceptFindings. */
  findings: ExportFinding[];
  /** Why the export can't go ahead even with acceptFindings (a chosen segment is itself invalid, none chosen). */
  blocked: string[];
  /** Frames a segment's manifest counts lost after its last frame (the frame a cut tore in flight), by seq. */
  lostAfterLastFrame: Map<number, number>;
  /** The root it was checked against, and what the report must say about it. */
  trust: StoreReport['trust'];
  media: string[];
  mediaBytes: Uint8Array[];
  /** The evidence sequence number of each of mediaBytes (what the export and its sidecar name segments by). */
  seqs: number[];
  /** Each decrypted segment's content key and record indices, by seq (an MP4's credentials carry them, so its sealed media can be rebuilt). */
  sealedKeys: Map<number, SealedSegmentKey>;
  clockOffsetMs: number | null;
  report: Record<string, unknown>;
}

export interface StoreExportOptions {
  trust: Trust;
  ed25519: Ed25519;
  /** A verification of the store already made with the same trust (else one is made). */
  verified?: StoreReport;
  /** A custody-log checkpoint from outside the store. */
  checkpoint?: { bytes: Uint8Array; file: string };
  /** The examiner's evidence key: sealed segments are decrypted with it (E_EVIDENCE_KEY_REQUIRED without it). */
  evidenceKey?: ExaminerKey;
  /** Who decrypts, for the integrity report (default: the operating system user). */
  examiner?: string;
}

const hexOf = (b: Uint8Array | null | undefined) => (b ? toHex(b) : null);
const iso = (ms: number) => new Date(ms).toISOString();

/** Manifest fields that summarise the frame headers must agree with them. */
export function checkFramesAgainstManifest(media: Uint8Array, m: Manifest): { code: string; message: string }[] {
  const out: { code: string; message: string }[] = [];
  let frames;
  try {
    frames = parseMedia(media);
  } catch (e) {
    return [{ code: 'frames-unreadable', message: `the media's frame records can't be walked (${errorMessage(e)})` }];
  }
  // Signed without reading its records (a sealed segment whose key a cut took): nothing to compare.
  if (m.flags & FLAG_UNREAD) return out;
  if (frames.length !== m.frames) out.push({ code: 'frames-count', message: `the media holds ${frames.length} frames, the manifest says ${m.frames}` });
  if (frames.length === 0) return out;
  const first = frames[0].header;
  const last = frames[frames.length - 1].header;
  const pairs: [string, number, number][] = [
    ['firstMono', m.firstMono, Math.floor(first.monotonicMs)],
    ['lastMono', m.lastMono, Math.floor(last.monotonicMs)],
    ['firstUtc', m.firstUtc, Math.floor(first.utcMs)],
    ['lastUtc', m.lastUtc, Math.floor(last.utcMs)],
  ];
  for (const [k, signed, header] of pairs) if (signed !== header) out.push({ code: 'frames-time', message: `the manifest's ${k} ${signed} differs from the frame header's ${header}` });
  // The recorder counts each frame's `dropped before` into the manifest of the segment that holds
  // the frame; the manifest may count more (the frame a cut tore in flight has no header).
  const dropped = frames.reduce((n, f) => n + f.header.droppedBefore, 0);
  if (dropped > m.dropped) out.push({ code: 'frames-dropped', message: `the frame headers count ${dropped} lost frames, the manifest ${m.dropped}` });
  return out;
}

/**
 * An export from a store: the device's segments in [from, to], after verifying the store against
 * pinned trust. Every finding about the device (its certificate, chain, receipts, ledger, clock
 * statements, any of its segments, its custody) is listed; the caller refuses unless the user
 * accepts them. The clock offset is the camera's signed drift statement's, never an index row.
 */
export function planStoreExport(storeDir: string, device: string, from: number, to: number, o: StoreExportOptions): StoreExport {
  const verified = o.verified ?? verifyStore(storeDir, { trust: o.trust, ed25519: o.ed25519, checkpoint: o.checkpoint });
  const findings: ExportFinding[] = [];
  const blocked: string[] = [];
  for (const s of verified.trust.statements) if (o.trust.source === 'store') findings.push({ scope: 'trust', code: 'trust-from-store', message: s });
  for (const f of verified.evidence.reasons) findings.push({ scope: 'trust', code: f.code, message: f.message });
  const deviceDir = join(storeDir, 'devices', device);
  for (const p of verified.problems) if (p.path === join(storeDir, 'trust') || p.path.startsWith(`${deviceDir}/`) || p.path === deviceDir || p.path.startsWith(join(storeDir, 'docks'))) findings.push({ scope: 'layout', code: p.code, message: p.message, path: p.path });
  const dev = verified.evidence.devices.find((d) => d.device === device);
  const input = verified.input.devices.find((d) => d.id === device);
  if (!dev || !input) return { findings, blocked: [`no evidence of device ${device} in ${storeDir}`], lostAfterLastFrame: new Map(), trust: verified.trust, media: [], mediaBytes: [], seqs: [], sealedKeys: new Map(), clockOffsetMs: null, report: {} };
  for (const f of dev.reasons) findings.push({ scope: 'device', code: f.code, message: f.message, ...(f.seq !== undefined ? { seq: f.seq } : {}) });
  for (const s of dev.segments) for (const f of s.reasons) findings.push({ scope: 'segment', code: f.code, message: f.message, ...(s.seq !== null ? { seq: s.seq } : {}) });
  for (const l of verified.ledgers.filter((x) => x.device === device)) for (const f of l.findings) findings.push({ scope: 'ledger', code: f.code, message: f.message });
  for (const c of verified.completeness.filter((x) => x.device === device)) for (const f of c.findings) findings.push({ scope: 'custody', code: f.code, message: f.message, seq: f.seq });
  for (const f of verified.custody.findings) if (f.device === undefined || f.device === device) findings.push({ scope: 'custody', code: f.code, message: f.message, ...(f.seq !== undefined ? { seq: f.seq } : {}), ...(f.path ? { path: f.path } : {}) });

  const chosen = dev.segments.filter((s) => s.seq !== null && s.seq >= from && s.seq <= to);
  if (chosen.length === 0) blocked.push(`device ${device} has no segments ${from}..${to}`);
  else if (to !== Number.MAX_SAFE_INTEGER && chosen.length < to - from + 1) {
    // A range asked for is exported whole or not at all: a part of it is not what was asked for.
    const held = dev.segments.filter((s) => s.seq !== null).map((s) => s.seq!);
    const missing: number[] = [];
    for (let q = from; q <= to && missing.length < 10; q++) if (!held.includes(q)) missing.push(q);
    blocked.push(`segments ${from}..${to} were asked for, but ${to - from + 1 - chosen.length} of them are not in the store (${missing.join(', ')}${to - from + 1 - chosen.length > missing.length ? ', …' : ''}; it holds ${Math.min(...held)}..${Math.max(...held)}): export a range it holds`);
  }
  for (const s of chosen) if (!s.valid) blocked.push(`segment ${s.seq} does not verify (${s.reasons.map((r) => r.code).join(', ')}): it is never exported`);
  const media = chosen.map((s) => join(deviceDir, 'segments', `${segmentStem(s.seq!)}.media`));

  // What the frames say must be what the signed manifests say.
  const reader = new SafeReader();
  const mediaBytes: Uint8Array[] = [];
  const seqs: number[] = [];
  const lostAfterLastFrame = new Map<number, number>();
  const opened: { seq: number; kid: Uint8Array; records: number; final: boolean; unread: boolean }[] = [];
  const sealedKeys = new Map<number, SealedSegmentKey>();
  const sealedSeqs = chosen.filter((s) => s.manifest?.sealed).map((s) => s.seq!);
  if (blocked.length === 0 && sealedSeqs.length && !o.evidenceKey) {
    throw new BodycamError('E_EVIDENCE_KEY_REQUIRED', `segment${sealedSeqs.length === 1 ? '' : 's'} ${sealedSeqs.join(', ')} of ${device} ${sealedSeqs.length === 1 ? 'is' : 'are'} sealed to the agency's evidence key: export with --evidence-key FILE (bodycam verify checks them without it)`);
  }
  if (blocked.length === 0) {
    for (const [i, s] of chosen.entries()) {
      let bytes = reader.read(media[i], 0x7fff_ffff);
      if (!bytes) {
        blocked.push(`segment ${s.seq}: its media can't be read (${reader.problems.map((p) => p.message).join('; ')})`);
        continue;
      }
      if (s.manifest!.sealed) {
        // Whole or not at all: a chunk that fails throws its code, and nothing is exported.
        const seg = openSealedSegment(bytes, s.manifest!, o.evidenceKey!, { keepKey: true });
        bytes = seg.media;
        sealedKeys.set(s.seq!, seg.reseal!);
        opened.push({ seq: s.seq!, kid: seg.kid, records: seg.records, final: seg.final, unread: (s.manifest!.flags & FLAG_UNREAD) !== 0 });
      }
      mediaBytes.push(bytes);
      seqs.push(s.seq!);
      for (const f of checkFramesAgainstManifest(bytes, s.manifest!)) findings.push({ scope: 'frames', code: f.code, message: f.message, seq: s.seq! });
      // Frames the manifest counts lost that no frame header carries: lost after the last frame (a cut's frame in flight).
      try {
        const after = s.manifest!.flags & FLAG_UNREAD ? s.manifest!.dropped : s.manifest!.dropped - parseMedia(bytes).reduce((n, f) => n + f.header.droppedBefore, 0);
        if (after > 0) lostAfterLastFrame.set(s.seq!, after);
      } catch {
        // unreadable media is a frames-unreadable finding already
      }
    }
  }

  // The clock offset: the camera's signed drift statement, corroborated by a dock receipt of that session.
  let clockOffsetMs: number | null = null;
  let clock: Record<string, unknown> = { offsetMs: null, source: 'no signed drift statement of this camera is in the evidence: frames carry only the camera clock' };
  let publicKey: Uint8Array | undefined;
  try {
    if (input.certificate) publicKey = verifyCertificate(input.certificate, o.trust.root, { digest: nodeDigest, ed25519: o.ed25519, kind: 'device' }).publicKey;
  } catch {
    // the certificate finding is the verifier's
  }
  if (publicKey) {
    const { statements, findings: df } = readDriftStatements(reader, deviceDir, device, publicKey, input.receipts ?? [], o.ed25519);
    for (const f of df) findings.push({ scope: 'clock', code: f.code, message: f.message, path: f.file });
    const lastUtc = Math.max(...chosen.map((s) => s.manifest?.lastUtc ?? 0));
    const st = driftFor(statements, lastUtc);
    if (st) {
      clockOffsetMs = st.drift;
      clock = {
        offsetMs: st.drift,
        source: 'the camera\'s signed drift statement (bodycam/drift/1)',
        statement: st.file,
        dockUtc: iso(st.dockUtc),
        cameraUtc: iso(st.cameraUtc),
        boot: st.boot,
        corroboratedBy: st.corroboratedBy ? { receipt: st.corroboratedBy.receipt, dock: st.corroboratedBy.dock, dockSignedUtc: iso(st.corroboratedBy.utc) } : 'UNCORROBORATED: no dock-signed receipt of that session is in the evidence',
        statements: statements.length,
      };
    }
  }
  for (const p of reader.problems) findings.push({ scope: 'layout', code: p.code, message: p.message, path: p.path });

  // Custody facts come from the signed log only: the entries about this device within the checkpoint.
  const c = verified.custody;
  const mine = c.entries.filter((e) => e.device === device);
  const detailOf = (e: { detail: string | null }): unknown => {
    try {
      return e.detail === null ? null : (JSON.parse(e.detail) as unknown);
    } catch {
      return e.detail;
    }
  };
  /** Log index of each segment's segment-stored entry. */
  const storedAt = new Map<number, number>();
  for (const e of mine) {
    const d = e.event === 'segment-stored' ? (detailOf(e) as { seq?: unknown } | null) : null;
    if (d && typeof d.seq === 'number' && !storedAt.has(d.seq)) storedAt.set(d.seq, e.index);
  }
  const custody = c.reference
    ? {
        checkpoint: c.reference,
        note: c.reference.source === 'outside' ? 'entries within a checkpoint given from outside the store' : 'entries within the store\'s own newest checkpoint: proves they were not altered, not that none were deleted with later checkpoints',
        entries: mine.map((e) => ({ index: e.index, at: iso(e.at), dock: e.dock, session: e.session, event: e.event, detail: detailOf(e) })),
        segmentProofs: chosen.flatMap((s) => {
          const index = storedAt.get(s.seq!);
          const proof = index === undefined ? undefined : custodyProof(c, index);
          return proof ? [{ seq: s.seq, ...proof }] : [];
        }),
      }
    : { checkpoint: null, note: 'UNSIGNED: no custody-log checkpoint covers this store; no custody facts are given', entries: [], segmentProofs: [] };

  return {
    findings,
    blocked,
    lostAfterLastFrame,
    trust: verified.trust,
    media,
    mediaBytes,
    seqs,
    sealedKeys,
    clockOffsetMs,
    report: {
      format: 'bodycam-integrity/2',
      device,
      trust: verified.trust,
      certificate: dev.certificate ? { id: dev.certificate.id, serial: dev.certificate.serial, agency: dev.certificate.agency, keyId: hexOf(dev.certificate.keyId) } : null,
      deviceVerdict: { valid: dev.valid, findings: dev.reasons.map((r) => ({ code: r.code, message: r.message, seq: r.seq ?? null })) },
      receipts: dev.receipts,
      checkpoints: dev.checkpoints,
      clock,
      custody,
      segments: chosen.map((s) => ({
        seq: s.seq,
        valid: s.valid,
        manifestSha256: hexOf(s.manifestDigest),
        mediaSha256: hexOf(s.manifest?.media),
        frames: s.manifest?.frames,
        dropped: s.manifest?.dropped,
        lostAfterLastFrame: lostAfterLastFrame.get(s.seq!) ?? 0,
        firstUtc: s.manifest ? iso(s.manifest.firstUtc) : null,
        lastUtc: s.manifest ? iso(s.manifest.lastUtc) : null,
        flags: s.manifest?.flags,
        recording: s.manifest?.recording,
        boot: s.manifest?.boot,
        ...(s.manifest?.sealed ? { sealed: { recipients: s.manifest.sealed.recipients.map((r) => hexOf(r.kid)), records: s.manifest.sealed.records, note: NEEDS_KEY_NOTE } } : {}),
      })),
      ...(o.evidenceKey && opened.length ? { decryption: decryptionRecord(o.evidenceKey, o.examiner, opened) } : {}),
      verifiedAt: { utc: new Date().toISOString(), note: 'UNSIGNED: the clock of the computer that made this export' },
    },
  };
}
