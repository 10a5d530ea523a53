// The evidence directory layout (docs/FORMAT.md, "Evidence directory"), both ways: writing it
// (tests and tools) and reading it into the firmware verifier's input.
//
// Promises of the reader: it never follows a symlink, never opens a FIFO, socket or device for
// reading (every open is O_NOFOLLOW | O_NONBLOCK, then checked to be a regular file), reads no
// small file past its limit and never loads media (it is hashed natively in 1 MiB pieces, and
// not at all when its length already differs from its signed manifest). Any file it can't use
// is a LayoutProblem with its path and a stable code, and the rest is still read: one bad file
// never stops the report.

import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BodycamError, errorMessage } from '../firmware/errors.js';
import { peekManifest } from '../firmware/signing/manifest.js';
import type { DeviceInput, EvidenceInput, SegmentInput } from '../firmware/signing/verifier.js';
import type { Trust } from './trust.js';

export interface EvidenceLayout {
  root: Uint8Array;
  revocations?: Uint8Array;
  docks?: { id: string; certificate: Uint8Array }[];
  devices: {
    id: string;
    certificate?: Uint8Array;
    segments: { seq: number; manifest?: Uint8Array; media?: Uint8Array }[];
    checkpoints?: Uint8Array[];
    receipts?: Uint8Array[];
  }[];
}

/** The file name stem of a segment: its sequence number, 10 digits, zero-padded. */
export function segmentStem(seq: number): string {
  return String(seq).padStart(10, '0');
}

const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export function checkId(id: string, what: string): void {
  if (!SAFE_ID.test(id)) throw new BodycamError('E_EVIDENCE_ID', `${what} id ${JSON.stringify(id)} is not a safe directory name (letters, digits, . _ -)`);
}

/** Write evidence in the directory layout the dock station uses (for tests and tools). */
export function writeEvidenceDir(dir: string, e: EvidenceLayout): void {
  mkdirSync(join(dir, 'trust'), { recursive: true });
  writeFileSync(join(dir, 'trust', 'root.pub'), e.root);
  if (e.revocations) writeFileSync(join(dir, 'trust', 'revocations.cose'), e.revocations);
  for (const dock of e.docks ?? []) {
    checkId(dock.id, 'dock');
    mkdirSync(join(dir, 'docks', dock.id), { recursive: true });
    writeFileSync(join(dir, 'docks', dock.id, 'certificate.cose'), dock.certificate);
  }
  for (const d of e.devices) {
    checkId(d.id, 'device');
    const base = join(dir, 'devices', d.id);
    for (const sub of ['segments', 'checkpoints', 'receipts']) mkdirSync(join(base, sub), { recursive: true });
    if (d.certificate) writeFileSync(join(base, 'certificate.cose'), d.certificate);
    for (const s of d.segments) {
      if (s.manifest) writeFileSync(join(base, 'segments', `${segmentStem(s.seq)}.manifest.cose`), s.manifest);
      if (s.media) writeFileSync(join(base, 'segments', `${segmentStem(s.seq)}.media`), s.media);
    }
    (d.checkpoints ?? []).forEach((c, n) => writeFileSync(join(base, 'checkpoints', `${n}.cose`), c));
    (d.receipts ?? []).forEach((r, n) => writeFileSync(join(base, 'receipts', `${n}.cose`), r));
  }
}

/** A path in the directory the layout can't use: a stray name, a symlink, a special file, too big. */
export interface LayoutProblem {
  path: string;
  /** E_LAYOUT_STRAY, E_LAYOUT_SYMLINK, E_LAYOUT_SPECIAL, E_LAYOUT_TOO_BIG, E_LAYOUT_UNREADABLE. */
  code: string;
  message: string;
}

export const LIMITS = Object.freeze({
  /** Manifests, certificates, checkpoints, receipts, ledger entries, drift statements, revocation lists. */
  signedFile: 1024 * 1024,
  /** Names read from one directory. */
  entries: 10_000_000,
});

/** Reads files of one directory tree without following links or opening special files. */
export class SafeReader {
  readonly problems: LayoutProblem[] = [];

  problem(path: string, code: string, message: string): void {
    this.problems.push({ path, code, message });
  }

  /** The kind of what is at `path` (never following a link), or undefined if nothing is. */
  kind(path: string): 'file' | 'dir' | 'symlink' | 'special' | undefined {
    let st;
    try {
      st = lstatSync(path);
    } catch {
      return undefined;
    }
    return st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'special';
  }

  /** Sorted names in a directory; a missing one is empty, a link or file in its place is a problem. */
  list(dir: string): string[] {
    const k = this.kind(dir);
    if (k === undefined) return [];
    if (k !== 'dir') {
      this.problem(dir, k === 'symlink' ? 'E_LAYOUT_SYMLINK' : 'E_LAYOUT_SPECIAL', k === 'symlink' ? 'a symbolic link where a directory belongs (not followed)' : 'not a directory');
      return [];
    }
    try {
      const names = readdirSync(dir);
      if (names.length > LIMITS.entries) {
        this.problem(dir, 'E_LAYOUT_TOO_BIG', `${names.length} entries; only the first ${LIMITS.entries} are read`);
        names.length = LIMITS.entries;
      }
      return names.sort();
    } catch (e) {
      this.problem(dir, 'E_LAYOUT_UNREADABLE', errorMessage(e));
      return [];
    }
  }

  /** Open a regular file for reading, or record why not. */
  #open(path: string): { fd: number; size: number } | undefined {
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ELOOP' || code === 'EMLINK') this.problem(path, 'E_LAYOUT_SYMLINK', 'a symbolic link (not followed)');
      else if (code === 'ENOENT') this.problem(path, 'E_LAYOUT_UNREADABLE', 'missing');
      else this.problem(path, 'E_LAYOUT_UNREADABLE', errorMessage(e));
      return undefined;
    }
    const st = fstatSync(fd);
    if (!st.isFile()) {
      closeSync(fd);
      this.problem(path, 'E_LAYOUT_SPECIAL', st.isDirectory() ? 'a directory where a file belongs' : 'not a regular file (FIFO, socket or device): not read');
      return undefined;
    }
    return { fd, size: st.size };
  }

  /** A whole small file, at most `limit` bytes; undefined (and a problem) otherwise. */
  read(path: string, limit = LIMITS.signedFile): Uint8Array | undefined {
    const f = this.#open(path);
    if (!f) return undefined;
    try {
      if (f.size > limit) {
        this.problem(path, 'E_LAYOUT_TOO_BIG', `${f.size} bytes; a file of this kind is at most ${limit}`);
        return undefined;
      }
      const out = new Uint8Array(f.size);
      let n = 0;
      while (n < f.size) {
        const got = readSync(f.fd, out, n, f.size - n, n);
        if (got === 0) break;
        n += got;
      }
      return n === f.size ? out : out.subarray(0, n);
    } catch (e) {
      this.problem(path, 'E_LAYOUT_UNREADABLE', errorMessage(e));
      return undefined;
    } finally {
      closeSync(f.fd);
    }
  }

  /** SHA-256 and length of a file, streamed; when `expect` is given and the size differs, not hashed. */
  hash(path: string, expect?: number): { digest: Uint8Array | undefined; length: number } | undefined {
    const f = this.#open(path);
    if (!f) return undefined;
    try {
      if (expect !== undefined && f.size !== expect) return { digest: undefined, length: f.size };
      const h = createHash('sha256');
      const buf = Buffer.allocUnsafe(1 << 20);
      let length = 0;
      for (;;) {
        const n = readSync(f.fd, buf, 0, buf.length, null);
        if (n === 0) break;
        h.update(buf.subarray(0, n));
        length += n;
      }
      return { digest: new Uint8Array(h.digest()), length };
    } catch (e) {
      this.problem(path, 'E_LAYOUT_UNREADABLE', errorMessage(e));
      return undefined;
    } finally {
      closeSync(f.fd);
    }
  }
}

/** Numbered files "<n>.cose", in numeric order; anything else is a problem. */
function numbered(r: SafeReader, dir: string): Uint8Array[] {
  const found: [number, string][] = [];
  for (const name of r.list(dir)) {
    const m = /^(\d{1,10})\.cose$/.exec(name);
    if (m) found.push([Number(m[1]), name]);
    else r.problem(join(dir, name), 'E_LAYOUT_STRAY', 'not a <number>.cose file');
  }
  return found.sort((a, b) => a[0] - b[0]).flatMap(([, n]) => r.read(join(dir, n)) ?? []);
}

/** The dock certificates in DIR/docks/<id>/certificate.cose. */
export function readDockCertificates(r: SafeReader, dir: string): Uint8Array[] {
  const docks: Uint8Array[] = [];
  for (const id of r.list(join(dir, 'docks'))) {
    const p = join(dir, 'docks', id, 'certificate.cose');
    if (r.kind(p) === undefined) r.problem(join(dir, 'docks', id), 'E_LAYOUT_STRAY', 'dock directory without certificate.cose');
    else {
      const c = r.read(p);
      if (c) docks.push(c);
    }
  }
  return docks;
}

/**
 * Read an evidence directory into the verifier's input, with the trust the caller pinned (the
 * store's own trust/ folder is never read here: see evidence/trust.ts).
 */
export function readEvidenceDir(dir: string, trust: Trust, reader = new SafeReader()): { input: EvidenceInput; problems: LayoutProblem[] } {
  const r = reader;
  if (r.kind(dir) !== 'dir') throw new BodycamError('E_USAGE', `${dir} is not a directory`);
  const docks = readDockCertificates(r, dir);
  const devices: DeviceInput[] = [];
  for (const id of r.list(join(dir, 'devices'))) {
    const base = join(dir, 'devices', id);
    const k = r.kind(base);
    if (k !== 'dir') {
      r.problem(base, k === 'symlink' ? 'E_LAYOUT_SYMLINK' : 'E_LAYOUT_STRAY', k === 'symlink' ? 'a symbolic link where a device directory belongs (not followed)' : 'not a device directory');
      continue;
    }
    const certPath = join(base, 'certificate.cose');
    const bySeq = new Map<number, { manifest?: string; media?: string }>();
    const segDir = join(base, 'segments');
    for (const name of r.list(segDir)) {
      const m = /^(\d{10})\.(manifest\.cose|media)$/.exec(name);
      if (!m) {
        r.problem(join(segDir, name), 'E_LAYOUT_STRAY', 'not a <10-digit seq>.manifest.cose or .media file');
        continue;
      }
      const seq = Number(m[1]);
      const entry = bySeq.get(seq) ?? {};
      if (m[2] === 'media') entry.media = join(segDir, name);
      else entry.manifest = join(segDir, name);
      bySeq.set(seq, entry);
    }
    const segments: SegmentInput[] = [];
    for (const [seq, files] of [...bySeq].sort((a, b) => a[0] - b[0])) {
      if (!files.manifest) {
        r.problem(files.media!, 'E_LAYOUT_STRAY', `media of segment ${seq} without its manifest`);
        continue;
      }
      const manifest = r.read(files.manifest);
      if (!manifest) continue;
      const s: SegmentInput = { seq, manifest };
      if (files.media) {
        let expect: number | undefined;
        try {
          expect = peekManifest(manifest).manifest.bytes;
        } catch {
          // an unreadable manifest is the verifier's finding; the media is hashed anyway
        }
        const h = r.hash(files.media, expect);
        if (h) {
          // A length that already differs from the signed one is reported as such, unhashed.
          s.mediaDigest = h.digest ?? new Uint8Array(32);
          s.mediaLength = h.length;
        }
      }
      segments.push(s);
    }
    const certificate = r.kind(certPath) === undefined ? undefined : r.read(certPath);
    devices.push({
      id,
      ...(certificate ? { certificate } : {}),
      segments,
      checkpoints: numbered(r, join(base, 'checkpoints')),
      receipts: numbered(r, join(base, 'receipts')),
    });
  }
  return { input: { root: trust.root, ...(trust.revocations ? { revocations: trust.revocations } : {}), docks, devices }, problems: r.problems };
}
