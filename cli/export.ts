// `bodycam export`: segment media → a playable AVI (MJPEG, idx1) plus a sidecar JSON with
// per-frame UTC, monotonic time and clock offset (NISTIR 8161r1). The muxer is
// firmware/encoder/avi.ts (pure); this file only reads and writes files. The dock station calls
// writeAviExport() for its exports too.

import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
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
  const p = parseArgs(argv, { out: { value: true }, 'clock-offset': { value: true }, 'max-fill': { value: true }, 'max-bytes': { value: true }, help: {} });
  if (p.options.help) {
    HELP.forEach((l) => out(l));
    return 0;
  }
  if (p.positionals.length === 0) throw new BodycamError('E_USAGE', 'name at least one segment media file (bodycam export --help)');
  const clock = stringOption(p, 'clock-offset');
  const { exp, written } = exportMediaFiles(p.positionals, stringOption(p, 'out') ?? 'export.avi', {
    clockOffsetMs: clock === undefined ? null : intOption(p, 'clock-offset', 0),
    maxFillMs: intOption(p, 'max-fill', 60_000),
    maxBytes: intOption(p, 'max-bytes', 1024 * 1024 * 1024),
  });
  const frames = exp.parts.reduce((n, part) => n + part.frames.length, 0);
  out(`${written.videos.join(', ')}: ${exp.width}x${exp.height} at ${exp.frameRate} fps, ${frames} frames (${exp.stored} stored, ${exp.duplicated} repeats for ${exp.dropped} lost), ${written.bytes} bytes`);
  for (const g of exp.gaps) out(`  gap before frame ${g.frameNumber} (segment ${g.segment}): ${g.dropped} lost over ${g.gapMs} ms at ${new Date(g.utcMs).toISOString()} — ${g.kind}${g.filled ? `, ${g.filled} repeats` : ''}`);
  out(`timing: ${written.sidecars.join(', ')}`);
  return 0;
}
