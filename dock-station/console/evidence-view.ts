// What the console shows an examiner, built only from the evidence library (evidence/): every
// page starts from a fresh verification of the store against the agency root the dock was
// given (its identity folder, outside the store), never from the index's word.
//
//   devices()        each camera in the store with its verdict
//   timeline()       a camera's segments in time order — recordings, pre-event segments, segments
//                    recovered after a power cut, frames lost — with the gaps between them (a gap
//                    across a reboot is a power cut or restart), each segment's verdict and findings
//   segmentFrames()  one segment's frames for the player: the camera's own frame-header times and
//                    the clock offset from its signed drift statement
//   custody()        a camera's entries in the station's custody log (the Merkle log's leaves),
//                    each marked whether a signed checkpoint covers it yet
//
// Sealed segments (issue 22, docs/FORMAT.md): verified without any key, as every segment. Their
// pictures are shown only by a console given the agency's evidence key (`bodycam dock --http …
// --evidence-key FILE`): the segment is opened in memory with the evidence library's decryption
// (evidence/sealed.ts, as `bodycam export --evidence-key` does), kept only in the small media
// cache, never written to disk. Without the key a sealed segment shows its verdict and
// `sealed.keyHeld: false` — "sealed: this console holds no evidence key".

import { statSync } from 'node:fs';
import { join } from 'node:path';
import { decodeCustodyLeaf, readLogLeaves } from '../../evidence/custody-log.js';
import { planStoreExport, type StoreExport } from '../../evidence/export.js';
import { SafeReader, segmentStem } from '../../evidence/layout.js';
import { openSealedSegment, type ExaminerKey } from '../../evidence/sealed.js';
import { toHex } from '../../firmware/codec/cbor.js';
import type { Trust } from '../../evidence/trust.js';
import { verifyStore, type StoreReport } from '../../evidence/verify-store.js';
import { parseMedia, type FrameHeader } from '../../firmware/encoder/frame-record.js';
import { SEALED_MAGIC_0, SEALED_MAGIC_1 } from '../../firmware/encoder/sealed-record.js';
import { BodycamError, errorCode, errorMessage } from '../../firmware/errors.js';
import type { Ed25519 } from '../../firmware/signing/ed25519.js';
import { isSafeId } from '../../firmware/signing/ids.js';
import { FLAG_CLEAN_CLOSE, FLAG_PRE_EVENT, FLAG_RECOVERED, FLAG_UNREAD, type Manifest } from '../../firmware/signing/manifest.js';

export interface Finding {
  code: string;
  message: string;
}

export interface DeviceSummary {
  device: string;
  valid: boolean;
  segments: number;
  findings: number;
  firstUtc: number | null;
  lastUtc: number | null;
}

export interface TimelineSegment {
  kind: 'segment';
  seq: number | null;
  valid: boolean;
  findings: Finding[];
  boot: number | null;
  recording: number | null;
  firstUtc: number | null;
  lastUtc: number | null;
  frames: number | null;
  dropped: number | null;
  bytes: number | null;
  preEvent: boolean;
  recovered: boolean;
  cleanClose: boolean;
  /** Sealed to the agency's evidence key: the key ids it is sealed to (hex); null when in the clear. */
  sealedTo: string[] | null;
  /** Signed after a power cut without its content key (FLAG_UNREAD): frames and times are not in the manifest. */
  unread: boolean;
}

/** What a sealed segment's view says: whether this console could open it, and with which key. */
export interface SealedState {
  /** Key ids (hex) the segment is sealed to. */
  to: string[];
  /** This console holds an evidence key. */
  keyHeld: boolean;
  /** The key that opened it here (hex), when it was opened. */
  openedWith: string | null;
  /** Why it could not be opened with the key held (its code and message), if it could not. */
  error: Finding | null;
}

export interface TimelineGap {
  kind: 'gap';
  afterSeq: number;
  beforeSeq: number;
  fromUtc: number;
  toUtc: number;
  /** reboot: the camera restarted between the two (a power cut, when the segment before was recovered). */
  why: 'power-cut' | 'reboot' | 'not-recording';
}

export interface Timeline {
  device: string;
  valid: boolean;
  deviceFindings: Finding[];
  certificate: { serial: number; agency: string } | null;
  items: (TimelineSegment | TimelineGap)[];
  trust: StoreReport['trust'];
  /** The evidence key this console holds (hex key id), or null. */
  evidenceKey: string | null;
}

export interface PlayerFrame {
  index: number;
  frameNumber: number;
  /** The camera's clock at capture (frame header; covered by the media digest its manifest signs). */
  utcMs: number;
  monotonicMs: number;
  droppedBefore: number;
  gapMs: number;
}

export interface SegmentFrames {
  device: string;
  seq: number;
  valid: boolean;
  findings: Finding[];
  /** Camera clock minus reference UTC, from the camera's signed drift statement; null when there is none. */
  clockOffsetMs: number | null;
  clock: unknown;
  signed: { firstUtc: number; lastUtc: number; frames: number; dropped: number; flags: number } | null;
  width: number;
  height: number;
  frameRate: number;
  frames: PlayerFrame[];
  /** Present for a sealed segment. With no key (or a failed opening) `frames` is empty. */
  sealed: SealedState | null;
}

export interface CustodyRow {
  index: number;
  at: number;
  dock: string;
  session: string | null;
  event: string;
  detail: string | null;
  /** A signed checkpoint of the log covers this entry (checked: it verifies and the log reproduces it). */
  signed: boolean;
}

/** Media kept parsed for the player (each a few MB): the newest few. */
const MEDIA_CACHE = 4;

export class EvidenceView {
  readonly #dir: string;
  readonly #trust: () => Trust;
  readonly #ed25519: Ed25519;
  readonly #key: ExaminerKey | undefined;
  #media = new Map<string, { stamp: string; frames: { header: FrameHeader; jpeg: Uint8Array }[] }>();

  constructor(o: { storeDir: string; trust: () => Trust; ed25519: Ed25519; evidenceKey?: ExaminerKey }) {
    this.#dir = o.storeDir;
    this.#trust = o.trust;
    this.#ed25519 = o.ed25519;
    this.#key = o.evidenceKey;
  }

  /** The evidence key this console holds (hex key id), or null. */
  get evidenceKeyId(): string | null {
    return this.#key ? toHex(this.#key.keyId) : null;
  }

  /** Forget every decrypted picture and zero the key (the console is closing). */
  close(): void {
    this.#media.clear();
    this.#key?.secret.fill(0);
  }

  verify(): StoreReport {
    return verifyStore(this.#dir, { trust: this.#trust(), ed25519: this.#ed25519 });
  }

  devices(report = this.verify()): DeviceSummary[] {
    return report.evidence.devices.map((d) => {
      const utc = d.segments.flatMap((s) => (s.manifest ? [s.manifest.firstUtc, s.manifest.lastUtc] : []));
      return { device: d.device, valid: d.valid, segments: d.segments.length, findings: d.reasons.length + d.segments.reduce((n, s) => n + s.reasons.length, 0), firstUtc: utc.length ? Math.min(...utc) : null, lastUtc: utc.length ? Math.max(...utc) : null };
    });
  }

  timeline(device: string, report = this.verify()): Timeline {
    checkDevice(device);
    const d = report.evidence.devices.find((x) => x.device === device);
    if (!d) throw new BodycamError('E_NO_DEVICE', `no evidence of device ${device} in this store`);
    const items: Timeline['items'] = [];
    let prev: TimelineSegment | undefined;
    const segments = [...d.segments].sort((a, b) => (a.seq ?? -1) - (b.seq ?? -1));
    for (const s of segments) {
      const m = s.manifest;
      const seg: TimelineSegment = {
        kind: 'segment',
        seq: s.seq,
        valid: s.valid,
        findings: s.reasons.map((r) => ({ code: r.code, message: r.message })),
        boot: m?.boot ?? null,
        recording: m?.recording ?? null,
        firstUtc: m?.firstUtc ?? null,
        lastUtc: m?.lastUtc ?? null,
        frames: m?.frames ?? null,
        dropped: m?.dropped ?? null,
        bytes: m?.bytes ?? null,
        preEvent: m ? (m.flags & FLAG_PRE_EVENT) !== 0 : false,
        recovered: m ? (m.flags & FLAG_RECOVERED) !== 0 : false,
        cleanClose: m ? (m.flags & FLAG_CLEAN_CLOSE) !== 0 : false,
        sealedTo: m?.sealed ? m.sealed.recipients.map((r) => toHex(r.kid)) : null,
        unread: m ? (m.flags & FLAG_UNREAD) !== 0 : false,
      };
      // Between two segments of a device: a restart (a power cut when the one before was recovered), or time not recorded.
      if (prev && prev.seq !== null && seg.seq !== null && prev.lastUtc !== null && seg.firstUtc !== null) {
        const rebooted = prev.boot !== null && seg.boot !== null && seg.boot !== prev.boot;
        const notRecording = prev.recording !== seg.recording && seg.firstUtc - prev.lastUtc > 2000;
        if (rebooted || notRecording) items.push({ kind: 'gap', afterSeq: prev.seq, beforeSeq: seg.seq, fromUtc: prev.lastUtc, toUtc: seg.firstUtc, why: rebooted ? (prev.recovered ? 'power-cut' : 'reboot') : 'not-recording' });
      }
      items.push(seg);
      prev = seg;
    }
    return {
      device,
      valid: d.valid,
      deviceFindings: d.reasons.map((r) => ({ code: r.code, message: r.message + (r.seq !== undefined ? ` (segment ${r.seq})` : '') })),
      certificate: d.certificate ? { serial: d.certificate.serial, agency: d.certificate.agency } : null,
      items,
      trust: report.trust,
      evidenceKey: this.evidenceKeyId,
    };
  }

  /**
   * One segment for the player: verified with its device, its frames' own times, the signed clock
   * offset. A sealed segment is opened with the console's evidence key (`sealed.openedWith`); with
   * none, or when it does not open, it has no frames and `sealed` says why.
   */
  segmentFrames(device: string, seq: number, report = this.verify()): SegmentFrames {
    checkDevice(device);
    const d = report.evidence.devices.find((x) => x.device === device);
    const s = d?.segments.find((x) => x.seq === seq);
    if (!s) throw new BodycamError('E_NO_SEGMENT', `device ${device} has no segment ${seq} in this store`);
    const m = s.manifest;
    let sealed: SealedState | null = null;
    let frames: { header: FrameHeader; jpeg: Uint8Array }[] = [];
    if (m?.sealed) {
      sealed = { to: m.sealed.recipients.map((r) => toHex(r.kid)), keyHeld: this.#key !== undefined, openedWith: null, error: null };
      if (this.#key) {
        try {
          frames = this.#frames(device, seq, m);
          sealed.openedWith = this.evidenceKeyId;
        } catch (e) {
          sealed.error = { code: errorCode(e), message: errorMessage(e) };
        }
      }
    } else frames = this.#frames(device, seq, m);
    // The clock offset (the export plan's: the signed drift statement); a plan opens sealed segments only with the key.
    const plan = !sealed || sealed.openedWith ? this.plan(device, seq, seq, report) : undefined;
    const first = frames[0]?.header;
    return {
      device,
      seq,
      valid: s.valid,
      findings: s.reasons.map((r) => ({ code: r.code, message: r.message })),
      clockOffsetMs: plan?.clockOffsetMs ?? null,
      clock: plan?.report.clock ?? null,
      signed: s.manifest ? { firstUtc: s.manifest.firstUtc, lastUtc: s.manifest.lastUtc, frames: s.manifest.frames, dropped: s.manifest.dropped, flags: s.manifest.flags } : null,
      width: first?.width ?? s.manifest?.width ?? 0,
      height: first?.height ?? s.manifest?.height ?? 0,
      frameRate: first?.frameRate ?? 0,
      frames: frames.map((f, index) => ({ index, frameNumber: f.header.frameNumber, utcMs: f.header.utcMs, monotonicMs: f.header.monotonicMs, droppedBefore: f.header.droppedBefore, gapMs: f.header.gapMs })),
      sealed,
    };
  }

  /**
   * The JPEG of frame `index` of a segment (as stored, or as opened in memory for a sealed one; the
   * player shows the segment's verdict beside it). `opened`: the key id, when this call decrypted
   * the segment (it was not in the media cache) — the caller logs that.
   */
  frameJpeg(device: string, seq: number, index: number): { jpeg: Uint8Array; opened: string | null } {
    const before = this.#opened;
    const f = this.#frames(device, seq)[index];
    if (!f) throw new BodycamError('E_NO_FRAME', `segment ${seq} of ${device} has no frame ${index}`);
    return { jpeg: f.jpeg, opened: this.#opened !== before ? this.evidenceKeyId : null };
  }

  /** Sealed segments opened so far (frameJpeg tells whether a call opened one). */
  #opened = 0;

  /** An export plan (evidence/export.ts): verified first, with every finding. */
  plan(device: string, from: number, to: number, report = this.verify(), examiner?: string): StoreExport {
    checkDevice(device);
    return planStoreExport(this.#dir, device, from, to, { trust: this.#trust(), ed25519: this.#ed25519, verified: report, evidenceKey: this.#key, examiner });
  }

  /** The device's custody entries, from the log's leaves; `signed` where a verified checkpoint covers them. */
  custody(device: string, report = this.verify()): { rows: CustodyRow[]; checkpoint: StoreReport['custody']['reference']; statements: string[]; findings: Finding[] } {
    checkDevice(device);
    const reader = new SafeReader();
    const { leaves, error } = readLogLeaves(this.#dir, reader);
    const covered = report.custody.reference?.size ?? 0;
    const rows: CustodyRow[] = [];
    leaves.forEach((leaf, index) => {
      try {
        const e = decodeCustodyLeaf(leaf);
        if (e.device === device) rows.push({ index, at: e.at, dock: e.dock, session: e.session, event: e.event, detail: e.detail, signed: index < covered });
      } catch {
        // an unreadable leaf is a custody finding of the verification
      }
    });
    const findings = report.custody.findings.filter((f) => f.device === undefined || f.device === device).map((f) => ({ code: f.code, message: f.message }));
    if (error) findings.push({ code: 'custody-unreadable', message: error });
    return { rows, checkpoint: report.custody.reference, statements: report.custody.statements, findings };
  }

  /** A segment's frames (a sealed one opened with the key and the manifest verification gave, fetched afresh when not given). */
  #frames(device: string, seq: number, manifest?: Manifest): { header: FrameHeader; jpeg: Uint8Array }[] {
    checkDevice(device);
    if (!Number.isSafeInteger(seq) || seq < 0) throw new BodycamError('E_NO_SEGMENT', `no segment ${seq}`);
    const path = join(this.#dir, 'devices', device, 'segments', `${segmentStem(seq)}.media`);
    const reader = new SafeReader();
    if (reader.kind(path) !== 'file') throw new BodycamError('E_NO_SEGMENT', `device ${device} has no segment ${seq} media in this store`);
    // Re-read when the file changed (its inode, size or time): the player never shows a stale copy.
    const st = statSync(path);
    const stamp = `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    const key = `${device}/${seq}`;
    const hit = this.#media.get(key);
    if (hit && hit.stamp === stamp) return hit.frames;
    const bytes = reader.read(path, 0x7fff_ffff);
    if (!bytes) throw new BodycamError('E_NO_SEGMENT', `segment ${seq} of ${device} can't be read (${reader.problems.map((p) => p.message).join('; ')})`);
    let frames: { header: FrameHeader; jpeg: Uint8Array }[];
    let media = bytes;
    // Sealed at capture (docs/FORMAT.md): opened in memory with the evidence key this console holds, or not shown.
    if (bytes[0] === SEALED_MAGIC_0 && bytes[1] === SEALED_MAGIC_1) {
      if (!this.#key) throw new BodycamError('E_EVIDENCE_SEALED', `sealed: this console holds no evidence key — segment ${seq} of ${device} is sealed to the agency's evidence key; its verdict is on its page, and an examiner holding the key opens it (bodycam export --evidence-key FILE)`);
      const m = manifest ?? this.verify().evidence.devices.find((x) => x.device === device)?.segments.find((x) => x.seq === seq)?.manifest;
      if (!m?.sealed) throw new BodycamError('E_EVIDENCE_SEALED', `segment ${seq} of ${device} is sealed, but no verified manifest says to whom: it can't be opened`);
      // Whole or not at all (E_STREAM_AUTH, E_HPKE_OPEN, …): the plaintext stays in this process's memory.
      media = openSealedSegment(bytes, m, this.#key).media;
      this.#opened++;
    }
    try {
      frames = parseMedia(media);
    } catch (e) {
      throw new BodycamError('E_FRAMES_UNREADABLE', `segment ${seq} of ${device}: its frames can't be walked (${e instanceof Error ? e.message : String(e)})`);
    }
    this.#media.delete(key);
    this.#media.set(key, { stamp, frames });
    while (this.#media.size > MEDIA_CACHE) this.#media.delete(this.#media.keys().next().value!);
    return frames;
  }
}

function checkDevice(device: string): void {
  if (!isSafeId(device)) throw new BodycamError('E_NO_DEVICE', 'not a device id');
}
