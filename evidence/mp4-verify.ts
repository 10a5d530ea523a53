// `bodycam verify FILE.mp4`: an MP4 export checked from the file alone, against an agency root
// given from outside it, down to the camera's own signatures:
// 1. the C2PA layer (evidence/c2pa.ts): the export signer's X.509 certificate is signed by the
//    pinned root, the claim's signature verifies with it, every assertion matches its hash in
//    the claim, and the file matches the BMFF hash (no byte of any box but ftyp and the
//    credentials themselves changed);
// 2. the evidence inside it: the camera's certificate, its signed segment manifests, checkpoints
//    and dock receipts go through the same firmware verifier as a store, with each segment's
//    media rebuilt from the file (its signed frame headers from the credentials, each followed
//    by the JPEG sample the MP4 holds) and hashed: the camera's media digest must match;
// 3. the timing: the fragments' decode times and sample durations, and the per-frame UTC text,
//    must be exactly what the frame headers give (evidence/mp4.ts's rules), and a clock offset
//    must be the one the camera signed in the drift statement the credentials carry.
//
// Promises: any file gives a report; a problem is a finding with a stable code, never an
// exception past this module (the CLI turns a usage error, such as no pinned root, into exit 2).

import { createHash } from 'node:crypto';
import { isArray, isBytes, isMap, isText, isUint, type CborValue } from '../firmware/codec/cbor.js';
import { errorCode, errorMessage } from '../firmware/errors.js';
import { FRAME_HEADER_LENGTH, parseSegmentMedia } from '../firmware/encoder/frame-record.js';
import { AUDIO_HEADER_LENGTH } from '../firmware/encoder/audio-record.js';
import { resealRecords } from '../firmware/encoder/sealed-record.js';
import { peekManifest } from '../firmware/signing/manifest.js';
import type { Ed25519 } from '../firmware/signing/ed25519.js';
import { REASONS, verifyEvidence, type DeviceReport } from '../firmware/signing/verifier.js';
import { nodeCipher, nodeDigest } from '../host/ports.js';
import { verifyCertificate } from '../firmware/signing/certificate.js';
import { openStructure } from '../firmware/signing/signed.js';
import { DRIFT_TYPE } from '../firmware/recorder/recorder.js';
import { checkCredentials, type CheckedCredentials } from './c2pa.js';
import { checkSignerX509, type CheckedSignerCertificate } from './c2pa-certs.js';
import { SafeReader } from './layout.js';
import { frameTimeText, planMp4, readFragments, RECORDS_TRACK, SOUND_TRACK, TIME_TRACK, VIDEO_TRACK } from './mp4.js';
import type { Trust } from './trust.js';
import { trustSummary, type StoreReport } from './verify-store.js';

export interface Mp4Finding {
  scope: 'file' | 'c2pa' | 'signer' | 'device' | 'segment' | 'timing';
  code: string;
  message: string;
  seq?: number;
}

export interface Mp4Report {
  file: string;
  valid: boolean;
  trust: StoreReport['trust'];
  signer: (Omit<CheckedSignerCertificate, 'publicKey'> & { trusted: boolean }) | null;
  manifest: { label: string; title: string | null; generator: string } | null;
  device: string | null;
  certificate: DeviceReport['certificate'] | null;
  segments: { seq: number | null; valid: boolean; frames: number; fragments: number[]; reasons: { code: string; message: string }[] }[];
  clock: { offsetMs: number | null; source: string } | null;
  /** The sound track, when it matched the camera's audio records. */
  sound: { sampleRate: number; samples: number; silent: number } | null;
  /** Everything that fails the file. */
  findings: Mp4Finding[];
  /** What the verifier says about evidence outside the exported range (segments before or after it). */
  notes: Mp4Finding[];
}

/** Device findings that only say the export holds a range of the camera's segments. */
const RANGE_CODES: string[] = [REASONS.GAP, REASONS.TRUNCATED, REASONS.MISSING_MEDIA, REASONS.HEAD_MISMATCH, REASONS.UPLOAD_IN_PROGRESS];

const bytesList = (v: CborValue | undefined): Uint8Array[] => (isArray(v ?? null) ? (v as CborValue[]).filter(isBytes) : []);

export function verifyMp4(file: string, o: { trust: Trust; ed25519: Ed25519 }): Mp4Report {
  const report: Mp4Report = { file, valid: false, trust: trustSummary(o.trust), signer: null, manifest: null, device: null, certificate: null, segments: [], clock: null, sound: null, findings: [], notes: [] };
  const fail = (f: Mp4Finding) => void report.findings.push(f);
  const reader = new SafeReader();
  const bytes = reader.read(file, 0x7fff_ffff);
  if (!bytes) {
    for (const p of reader.problems) fail({ scope: 'file', code: p.code, message: p.message });
    return report;
  }
  let c: CheckedCredentials;
  let signerTrusted = false;
  try {
    c = checkCredentials(
      bytes,
      (chain) => {
        try {
          const s = checkSignerX509(chain[0], o.trust.root);
          signerTrusted = true;
          const { publicKey, ...rest } = s;
          report.signer = { ...rest, trusted: true };
          return publicKey;
        } catch (e) {
          fail({ scope: 'signer', code: 'signer-untrusted', message: errorMessage(e) });
          return new Uint8Array(32);
        }
      },
      o.ed25519,
    );
  } catch (e) {
    fail({ scope: 'c2pa', code: errorCode(e) === 'E_C2PA_MISSING' ? 'c2pa-missing' : 'c2pa-unreadable', message: errorMessage(e) });
    return report;
  }
  report.manifest = { label: c.manifestLabel, title: c.title, generator: c.generator };
  for (const p of c.problems) fail({ scope: 'c2pa', code: p.code, message: p.message });
  const ev = c.evidence;
  const segs = c.segments?.get('segments');
  if (!ev || !isArray(segs ?? null)) {
    fail({ scope: 'c2pa', code: 'evidence-missing', message: 'the credentials carry no bodycam evidence (org.bodycam.evidence, org.bodycam.segments): nothing the camera signed can be checked' });
    return report;
  }
  const device = ev.get('device');
  const certificate = ev.get('certificate');
  report.device = isText(device ?? null) ? (device as string) : null;
  const clock = ev.get('clock');
  const offset = isMap(clock ?? null) ? (clock as Map<CborValue, CborValue>).get('offsetMs') : null;
  const clockOffsetMs = typeof offset === 'number' ? offset : null;
  report.clock = { offsetMs: clockOffsetMs, source: isMap(clock ?? null) ? String((clock as Map<CborValue, CborValue>).get('source')) : 'none' };

  // Each segment's media, rebuilt: its signed frame headers, each followed by its JPEG sample.
  let fragments;
  try {
    fragments = new Map(readFragments(bytes).map((f) => [f.number, f]));
  } catch (e) {
    fail({ scope: 'file', code: 'mp4-unreadable', message: errorMessage(e) });
    return report;
  }
  const rebuilt: { seq: number; manifest: Uint8Array; media: Uint8Array; signedMedia: Uint8Array; fragments: number[] }[] = [];
  for (const s of segs as CborValue[]) {
    if (!isMap(s)) continue;
    const seq = s.get('seq');
    const manifest = s.get('manifest');
    const headers = s.get('frameHeaders');
    const frs = s.get('fragments');
    if (!isUint(seq ?? null) || !isBytes(manifest ?? null) || !isBytes(headers ?? null) || !isArray(frs ?? null) || (headers as Uint8Array).length % FRAME_HEADER_LENGTH) {
      fail({ scope: 'segment', code: 'segment-malformed', message: 'a segment entry of the credentials is malformed' });
      continue;
    }
    const numbers = (frs as CborValue[]).filter(isUint);
    const samples = numbers.flatMap((n) => fragments.get(n)?.tracks.get(VIDEO_TRACK)?.samples ?? []);
    const others = numbers.flatMap((n) => fragments.get(n)?.tracks.get(RECORDS_TRACK)?.samples ?? []);
    const count = (headers as Uint8Array).length / FRAME_HEADER_LENGTH;
    const orderValue = s.get('order');
    const order = isBytes(orderValue ?? null) ? (orderValue as Uint8Array) : new Uint8Array(count);
    const frameItems = order.filter((x) => x === 0).length;
    if (samples.length !== count || frameItems !== count) fail({ scope: 'segment', code: 'frames-count', seq: seq as number, message: `segment ${String(seq)} has ${count} signed frame headers, ${frameItems} frames in its record order and ${samples.length} video samples in its fragments ${numbers.join(', ')}` });
    if (order.length - frameItems !== others.length) fail({ scope: 'segment', code: 'records-count', seq: seq as number, message: `segment ${String(seq)}'s record order has ${order.length - frameItems} runs of other records, its fragments ${others.length}` });
    // The segment media: each frame's signed header and its JPEG sample, and each run of other records, in order.
    const parts: Uint8Array[] = [];
    let fi = 0;
    let ri = 0;
    for (const kind of order) {
      if (kind === 0) {
        parts.push((headers as Uint8Array).subarray(fi * FRAME_HEADER_LENGTH, (fi + 1) * FRAME_HEADER_LENGTH), samples[fi]?.data ?? new Uint8Array(0));
        fi++;
      } else parts.push(others[ri++]?.data ?? new Uint8Array(0));
    }
    const media = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      media.set(p, at);
      at += p.length;
    }
    // Sealed at capture: the plaintext records sealed again under the segment's content key
    // (carried by the credentials; it opens nothing but what this file shows) are the media the
    // camera signed, byte for byte (docs/FORMAT.md, "Sealed segments").
    let signedMedia: Uint8Array = media;
    let sealedManifest = false;
    let scheme: string | undefined;
    try {
      scheme = peekManifest(manifest as Uint8Array).manifest.sealed?.scheme;
      sealedManifest = scheme !== undefined;
    } catch {
      // a malformed manifest is the verifier's finding
    }
    if (sealedManifest) {
      const sv = s.get('sealed');
      const key = isMap(sv ?? null) ? (sv as Map<CborValue, CborValue>).get('contentKey') : undefined;
      const first = isMap(sv ?? null) ? (sv as Map<CborValue, CborValue>).get('first') : undefined;
      const end = isMap(sv ?? null) ? (sv as Map<CborValue, CborValue>).get('end') : undefined;
      if (!isBytes(key ?? null) || (key as Uint8Array).length !== 32 || !isUint(first ?? null) || !(end === null || isUint(end ?? null))) {
        fail({ scope: 'segment', code: 'sealed-unopened', seq: seq as number, message: `segment ${String(seq)} was sealed at capture, and the credentials do not carry what re-seals it` });
      } else {
        try {
          const p = parseSegmentMedia(media);
          const records = [...p.frames.map((f) => ({ offset: f.offset, length: FRAME_HEADER_LENGTH + f.jpeg.length })), ...p.audio.map((a) => ({ offset: a.offset, length: AUDIO_HEADER_LENGTH + a.data.length }))]
            .sort((a, b) => a.offset - b.offset)
            .map((r) => ({ header: media.subarray(r.offset, r.offset + 48), body: media.subarray(r.offset + 48, r.offset + r.length) }));
          signedMedia = resealRecords(nodeCipher, key as Uint8Array, records, first as number, end as number | null, scheme);
        } catch (e) {
          fail({ scope: 'segment', code: 'sealed-unopened', seq: seq as number, message: `segment ${String(seq)} can't be sealed again: ${errorMessage(e)}` });
        }
      }
    }
    rebuilt.push({ seq: seq as number, manifest: manifest as Uint8Array, media, signedMedia, fragments: numbers });
  }
  const inFile = new Set(rebuilt.flatMap((r) => r.fragments));
  for (const n of fragments.keys()) if (!inFile.has(n)) fail({ scope: 'segment', code: 'fragment-unsigned', message: `movie fragment ${n} belongs to no segment the camera signed` });

  // The camera's signatures, by the firmware verifier.
  const evidence = verifyEvidence(
    {
      root: o.trust.root,
      ...(isBytes(ev.get('revocations') ?? null) ? { revocations: ev.get('revocations') as Uint8Array } : o.trust.revocations ? { revocations: o.trust.revocations } : {}),
      docks: bytesList(ev.get('docks')),
      devices: [
        {
          id: report.device ?? '',
          ...(isBytes(certificate ?? null) ? { certificate: certificate as Uint8Array } : {}),
          segments: rebuilt.map((r) => ({ seq: r.seq, manifest: r.manifest, mediaDigest: new Uint8Array(createHash('sha256').update(r.signedMedia).digest()), mediaLength: r.signedMedia.length })),
          checkpoints: bytesList(ev.get('checkpoints')),
          receipts: bytesList(ev.get('receipts')),
        },
      ],
    },
    { digest: nodeDigest, ed25519: o.ed25519 },
  );
  for (const f of evidence.reasons) fail({ scope: 'device', code: f.code, message: f.message });
  const dev = evidence.devices[0];
  report.certificate = dev.certificate ?? null;
  const seqs = rebuilt.map((r) => r.seq);
  const lo = Math.min(...seqs);
  const hi = Math.max(...seqs);
  for (const f of dev.reasons) {
    const outside = f.seq === undefined || f.seq < lo || f.seq > hi;
    (outside && RANGE_CODES.includes(f.code) ? report.notes : report.findings).push({ scope: 'device', code: f.code, message: f.message, ...(f.seq !== undefined ? { seq: f.seq } : {}) });
  }
  report.segments = dev.segments.map((s) => ({ seq: s.seq, valid: s.valid, frames: s.manifest?.frames ?? 0, fragments: rebuilt.find((r) => r.seq === s.seq)?.fragments ?? [], reasons: s.reasons.map((r) => ({ code: r.code, message: r.message })) }));
  for (const s of dev.segments) for (const f of s.reasons) fail({ scope: 'segment', code: f.code, message: f.message, ...(s.seq !== null ? { seq: s.seq } : {}) });

  // The clock offset the text track states must be the one the camera signed (its drift statement).
  const drift = isMap(clock ?? null) ? (clock as Map<CborValue, CborValue>).get('driftStatement') : undefined;
  if (clockOffsetMs !== null) {
    try {
      if (!isBytes(drift ?? null)) throw new Error('no drift statement of the camera is carried');
      const key = verifyCertificate(certificate as Uint8Array, o.trust.root, { digest: nodeDigest, ed25519: o.ed25519, kind: 'device' }).publicKey;
      const f = openStructure(drift as Uint8Array, DRIFT_TYPE, 'E_DRIFT_FORMAT', key, o.ed25519).fields;
      const cameraUtc = f.get('cameraUtc');
      const dockUtc = f.get('dockUtc');
      if (f.get('device') !== report.device || typeof cameraUtc !== 'number' || typeof dockUtc !== 'number' || cameraUtc - dockUtc !== clockOffsetMs) throw new Error(`the camera's signed drift statement does not give ${clockOffsetMs} ms for ${String(report.device)}`);
      report.clock.source = `the camera's signed drift statement (dock time ${new Date(dockUtc).toISOString()})`;
    } catch (e) {
      fail({ scope: 'timing', code: 'clock-offset-unsigned', message: `the clock offset ${clockOffsetMs} ms is not the camera's: ${errorMessage(e)}` });
    }
  }

  // The timing the file plays must be the timing the signed frame headers give.
  try {
    const plan = planMp4(
      rebuilt.map((r) => r.media),
      { segmentSeqs: seqs, clockOffsetMs },
    );
    const timing: string[] = [];
    for (const fr of plan.fragments) {
      const got = fragments.get(fr.number);
      const v = got?.tracks.get(VIDEO_TRACK);
      const t = got?.tracks.get(TIME_TRACK);
      if (!v || v.baseTime !== fr.baseTime) timing.push(`fragment ${fr.number} starts at ${v?.baseTime ?? '?'} ms, its frame headers say ${fr.baseTime} ms`);
      else if (v.samples.some((s, i) => s.duration !== fr.frames[i]?.duration)) timing.push(`fragment ${fr.number}'s frame durations are not those of its frame headers`);
      if (!t || t.baseTime !== fr.baseTime || t.samples.length !== fr.frames.length || fr.frames.some((x, i) => new TextDecoder().decode(t.samples[i].data.subarray(2)) !== frameTimeText(x.header, clockOffsetMs))) timing.push(`fragment ${fr.number}'s UTC text track is not what its frame headers and the clock offset give`);
    }
    if (plan.fragments.length !== fragments.size) timing.push(`the file has ${fragments.size} fragments, the frame headers make ${plan.fragments.length}`);
    // The sound track must be the camera's signed audio records laid on the timeline, sample for sample.
    const heard = [...fragments.values()].flatMap((fr) => fr.tracks.get(SOUND_TRACK)?.samples ?? []);
    const pcm = new Uint8Array(heard.reduce((n, x) => n + x.data.length, 0));
    let o2 = 0;
    for (const x of heard) {
      pcm.set(x.data, o2);
      o2 += x.data.length;
    }
    const want = plan.sound?.pcm ?? new Uint8Array(0);
    if (pcm.length !== want.length || !pcm.every((x, i) => x === want[i])) timing.push(`the sound track (${pcm.length / 2} samples) is not the camera's audio records laid on the timeline (${want.length / 2} samples)`);
    else report.sound = plan.sound ? { sampleRate: plan.sound.sampleRate, samples: plan.sound.samples, silent: plan.sound.summary.silent } : null;
    for (const m of timing) fail({ scope: 'timing', code: 'timing-mismatch', message: m });
  } catch (e) {
    fail({ scope: 'timing', code: 'timing-unreadable', message: errorMessage(e) });
  }
  report.valid = report.findings.length === 0 && signerTrusted;
  return report;
}

