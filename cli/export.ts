// `bodycam export`: segment media → a playable AVI (MJPEG, idx1) plus a sidecar JSON with
// per-frame UTC, monotonic time and clock offset (NISTIR 8161r1). The muxer is
// firmware/encoder/avi.ts (pure); this file only reads and writes files. The dock station calls
// writeAviExport() for its exports too.

import { closeSync, existsSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { verifyEvidence } from '../firmware/signing/verifier.js';
import { hostEd25519 } from '../dock-station/ed25519-node.js';
import { EvidenceStore } from '../dock-station/store.js';
import { nodeDigest } from '../host-sim/node/hardware.js';
import { readEvidenceDir, segmentStem } from './verify.js';
import { aviSidecar, planAviExport, type AviExport, type AviExportOptions } from '../firmware/encoder/avi.js';
import { BodycamError } from '../firmware/errors.js';
import { intOption, parseArgs, stringOption } from './args.js';

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

/** Write every part of an export (AVI + `<avi>.json` sidecar each). */
export function writeAviExport(exp: AviExport, out: string): WrittenExport {
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
    writeFileSync(sidecar, `${JSON.stringify(aviSidecar(exp, part, { video: video.split('/').pop() ?? video, part: i + 1 }), null, 1)}\n`);
    result.videos.push(video);
    result.sidecars.push(sidecar);
    result.bytes += w.written;
  });
  return result;
}

/** Export segment media files (in order) to `out`. */
export function exportMediaFiles(paths: string[], out: string, options: AviExportOptions = {}): { exp: AviExport; written: WrittenExport } {
  const media = paths.map((p) => new Uint8Array(readFileSync(p)));
  const exp = planAviExport(media, options);
  return { exp, written: writeAviExport(exp, out) };
}

const HELP = [
  'usage: bodycam export [options] MEDIA...',
  '       bodycam export --store DIR --device ID [--from SEQ] [--to SEQ] [options]',
  '',
  'From a dock station store, every segment is verified first (signature, chain, media digest,',
  'receipts); an export is refused if any chosen segment fails. <out>.integrity.json then says',
  'what was checked, the custody log of the device, and the clock offset used.',
  '',
  'Muxes segment media (frame records, in the order given) into a playable AVI (MJPEG) and',
  'writes the per-frame timing next to it as <out>.json (UTC, monotonic time, clock offset).',
  'Lost frames are filled with repeats of the frame before them; the sidecar lists each one.',
  '',
  '  --out FILE          the AVI to write (default export.avi)',
  '  --clock-offset MS   camera RTC minus reference UTC at the last dock sync, if known',
  '  --max-fill MS       fill gaps up to this long (default 60000); longer ones are listed only',
  '  --max-bytes N       split into parts of at most N bytes (default 1 GiB)',
];

export async function exportCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const p = parseArgs(argv, { out: { value: true }, 'clock-offset': { value: true }, 'max-fill': { value: true }, 'max-bytes': { value: true }, store: { value: true }, device: { value: true }, from: { value: true }, to: { value: true }, help: {} });
  if (p.options.help) {
    HELP.forEach((l) => out(l));
    return 0;
  }
  const storeDir = stringOption(p, 'store');
  let media = p.positionals;
  let clock = stringOption(p, 'clock-offset');
  let integrity: StoreExport | undefined;
  if (storeDir) {
    const device = stringOption(p, 'device');
    if (!device) throw new BodycamError('E_USAGE', '--store needs --device ID');
    integrity = planStoreExport(storeDir, device, intOption(p, 'from', 0), intOption(p, 'to', Number.MAX_SAFE_INTEGER));
    if (!integrity.valid) {
      out(`REFUSED: ${integrity.problems.join('; ')}`);
      return 1;
    }
    media = integrity.media;
    clock ??= integrity.clockOffsetMs === null ? undefined : String(integrity.clockOffsetMs);
  }
  if (media.length === 0) throw new BodycamError('E_USAGE', 'name at least one segment media file, or --store DIR --device ID (bodycam export --help)');
  const outPath = stringOption(p, 'out') ?? 'export.avi';
  const { exp, written } = exportMediaFiles(media, outPath, {
    clockOffsetMs: clock === undefined ? null : Number(clock),
    maxFillMs: intOption(p, 'max-fill', 60_000),
    maxBytes: intOption(p, 'max-bytes', 1024 * 1024 * 1024),
  });
  const frames = exp.parts.reduce((n, part) => n + part.frames.length, 0);
  out(`${written.videos.join(', ')}: ${exp.width}x${exp.height} at ${exp.frameRate} fps, ${frames} frames (${exp.stored} stored, ${exp.duplicated} repeats for ${exp.dropped} lost), ${written.bytes} bytes`);
  for (const g of exp.gaps) out(`  gap before frame ${g.frameNumber} (segment ${g.segment}): ${g.dropped} lost over ${g.gapMs} ms at ${new Date(g.utcMs).toISOString()} — ${g.kind}${g.filled ? `, ${g.filled} repeats` : ''}`);
  out(`timing: ${written.sidecars.join(', ')}`);
  if (integrity) {
    const reportPath = outPath.replace(/\.avi$/i, '') + '.integrity.json';
    writeFileSync(reportPath, JSON.stringify({ ...integrity.report, export: { videos: written.videos, sidecars: written.sidecars, frames, stored: exp.stored, repeats: exp.duplicated, dropped: exp.dropped } }, null, 2) + '\n');
    out(`integrity report: ${reportPath}`);
  }
  return 0;
}

export interface StoreExport {
  valid: boolean;
  problems: string[];
  media: string[];
  clockOffsetMs: number | null;
  report: Record<string, unknown>;
}

const hexOf = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('hex') : null);

/**
 * An export from a dock station's store: the device's segments in [from, to], each verified
 * (signature, chain, media digest, receipts) before a byte is muxed, with an integrity report of
 * what was checked, who held it (the custody log) and the camera's clock offset at docking.
 */
export function planStoreExport(storeDir: string, device: string, from: number, to: number): StoreExport {
  const { input, problems: layout } = readEvidenceDir(storeDir);
  const verdict = verifyEvidence(input, { digest: nodeDigest, ed25519: hostEd25519() });
  const dev = verdict.devices.find((d) => d.device === device);
  const problems: string[] = layout.map((l) => `${l.path}: ${l.message}`);
  if (!dev) return { valid: false, problems: [`no evidence of device ${device} in ${storeDir}`], media: [], clockOffsetMs: null, report: {} };
  const chosen = dev.segments.filter((s) => s.seq !== null && s.seq >= from && s.seq <= to);
  if (chosen.length === 0) problems.push(`device ${device} has no segments ${from}..${to}`);
  for (const s of chosen) if (!s.valid) problems.push(`segment ${s.seq}: ${s.reasons.map((r) => r.code).join(', ')}`);
  const media = chosen.map((s) => join(storeDir, 'devices', device, 'segments', `${segmentStem(s.seq!)}.media`));
  // The camera's clock offset, from the station's last clock-set for this device (camera RTC − dock UTC).
  let clockOffsetMs: number | null = null;
  const custody: unknown[] = [];
  const index = join(storeDir, 'index.sqlite');
  if (existsSync(index)) {
    const store = new EvidenceStore(storeDir);
    try {
      for (const e of store.custody(device)) {
        custody.push({ at: new Date(e.at).toISOString(), dock: e.dock, session: e.session, event: e.event, detail: e.detail ? (JSON.parse(e.detail) as unknown) : null });
        if (e.event === 'clock-set' && e.detail) {
          const d = JSON.parse(e.detail) as { dockUtc?: number; cameraUtc?: number };
          if (typeof d.dockUtc === 'number' && typeof d.cameraUtc === 'number') clockOffsetMs = d.cameraUtc - d.dockUtc;
        }
      }
    } finally {
      store.close();
    }
  }
  return {
    valid: problems.length === 0,
    problems,
    media,
    clockOffsetMs,
    report: {
      device,
      certificate: dev.certificate ? { id: dev.certificate.id, serial: dev.certificate.serial, agency: dev.certificate.agency, keyId: hexOf(dev.certificate.keyId) } : null,
      deviceVerdict: { valid: dev.valid, findings: dev.reasons.map((r) => ({ code: r.code, message: r.message, seq: r.seq ?? null })) },
      receipts: dev.receipts,
      checkpoints: dev.checkpoints,
      clockOffsetMs,
      segments: chosen.map((s) => ({
        seq: s.seq,
        valid: s.valid,
        manifestSha256: hexOf(s.manifestDigest),
        mediaSha256: hexOf(s.manifest?.media),
        frames: s.manifest?.frames,
        dropped: s.manifest?.dropped,
        firstUtc: s.manifest ? new Date(s.manifest.firstUtc).toISOString() : null,
        lastUtc: s.manifest ? new Date(s.manifest.lastUtc).toISOString() : null,
        flags: s.manifest?.flags,
        recording: s.manifest?.recording,
        boot: s.manifest?.boot,
      })),
      custody,
      verifiedAt: new Date().toISOString(),
    },
  };
}
