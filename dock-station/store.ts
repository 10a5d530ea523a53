// The dock station's evidence store: originals content-addressed on disk, an index and a custody
// log in SQLite, and a browsable evidence tree that `bodycam verify DIR` reads.
//
//   DIR/index.sqlite                       index + custody log (WAL, synchronous=FULL)
//   DIR/log/checkpoints/<size>.cose        signed checkpoints of the custody log (docs/custody-log.md)
//   DIR/objects/sha256/ab/<hex>            every original, named by its SHA-256 (read-only)
//   DIR/partial/<device>/<seq>.part        an upload in progress; its durable length is the resume offset
//   DIR/trust/root.pub                     the agency root public key (32 bytes)
//   DIR/devices/<device>/certificate.cose
//   DIR/devices/<device>/segments/<seq>.manifest.cose, <seq>.media   (hard links into objects/)
//   DIR/devices/<device>/checkpoints/<n>.cose, receipts/<n>.cose, ledger/<n>.cose
//
// Nothing is acknowledged before it is durable: file data and the directory entry are fsynced,
// then the index row is committed. A restart finds every partial upload at its durable offset.

import Database from 'better-sqlite3';
import { createHash, type Hash } from 'node:crypto';
import { chmodSync, closeSync, constants as fsConstants, existsSync, fchmodSync, fsyncSync, linkSync, lstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync, unlinkSync, writeSync, ftruncateSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BodycamError } from '../firmware/errors.js';
import { isSafeId } from '../firmware/signing/ids.js';
import type { Signer } from '../firmware/signing/signer.js';
import { encodeCustodyLeaf, signLogCheckpoint } from '../evidence/custody-log.js';
import { CompactRange, leafHash } from '../evidence/merkle.js';

export const seqName = (seq: number): string => String(seq).padStart(10, '0');

/**
 * A failure of the station's own storage as a stable code: a full disk or quota (ENOSPC,
 * EDQUOT, SQLITE_FULL) is E_STATION_FULL; other I/O errors E_STATION_IO. Anything else as it was.
 */
export function stationFault(e: unknown): BodycamError | Error {
  if (e instanceof BodycamError) return e;
  const code = (e as { code?: unknown } | undefined)?.code;
  const message = e instanceof Error ? e.message : String(e);
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'SQLITE_FULL') return new BodycamError('E_STATION_FULL', `the station's store is full (${String(code)}): nothing more is received or receipted until space is freed; cameras keep their evidence`);
  if (typeof code === 'string' && (code.startsWith('SQLITE_IOERR') || code === 'EIO' || code === 'EROFS')) return new BodycamError('E_STATION_IO', `the station's store failed (${code}: ${message})`);
  return e instanceof Error ? e : new Error(message);
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Write a file durably: temp file, fsync, rename, fsync the directory. `mode` for secrets
 * (0o600, set before a byte is written); `exclusive` refuses to replace an existing file.
 */
export function writeDurable(path: string, data: Uint8Array | string, o: { mode?: number; exclusive?: boolean } = {}): void {
  mkdirSync(dirname(path), { recursive: true });
  if (o.exclusive && existsSync(path)) throw new BodycamError('E_EXISTS', `${path} already exists; refusing to replace it`);
  const tmp = `${path}.tmp-${process.pid}`;
  // A fresh file, created with its mode (O_EXCL: never a stale temp file's mode, never through a symlink).
  rmSync(tmp, { force: true });
  const fd = openSync(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL, o.mode ?? 0o644);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done);
    fsyncSync(fd);
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  renameSync(tmp, path);
  fsyncDir(dirname(path));
}

/** Evidence files are read-only once stored; folders are the station's alone. */
export const EVIDENCE_MODE = 0o440;
export const FOLDER_MODE = 0o750;
const PARTIAL_MODE = 0o640;

/** Open without following a symlink in the last component. */
const NOFOLLOW = fsConstants.O_NOFOLLOW ?? 0;

/**
 * `dir/...parts` as a real folder inside the store, made if missing: every component is checked
 * with lstat, so a symlink planted anywhere in the store is refused (E_STORE_SYMLINK), never followed.
 */
function storeFolder(root: string, ...parts: string[]): string {
  let path = root;
  for (const part of parts) {
    if (part === '' || part === '.' || part === '..' || part.includes('/') || part.includes('\\')) throw new BodycamError('E_STORE_PATH', `"${part}" is not a folder name in the store`);
    path = join(path, part);
    let st;
    try {
      st = lstatSync(path);
    } catch {
      mkdirSync(path, { mode: FOLDER_MODE });
      continue;
    }
    if (!st.isDirectory()) throw new BodycamError('E_STORE_SYMLINK', `${path} is ${st.isSymbolicLink() ? 'a symlink' : 'not a folder'}; the store follows no links: remove it`);
  }
  return path;
}

/** A device id as a folder name: the one id rule (firmware/signing/ids.ts), checked before any path is built. */
function deviceFolder(device: string): string {
  if (!isSafeId(device)) throw new BodycamError('E_CERT_ID', `device id ${JSON.stringify(device.slice(0, 80))} is not a safe id (1 to 64 letters, digits, ".", "_" or "-")`);
  return device;
}

/** Whether a store folder holds any evidence (an object or a device tree). */
function holdsEvidence(dir: string): boolean {
  const nonEmpty = (d: string) => existsSync(d) && readdirSync(d).length > 0;
  return nonEmpty(join(dir, 'objects', 'sha256')) || nonEmpty(join(dir, 'devices'));
}

const TABLES = ['objects', 'devices', 'segments', 'sessions', 'receipts', 'custody'];

/** Why an index can't be used as it is, or undefined if it can (or there is none and no evidence). */
function indexProblem(path: string, evidence: boolean): { code: string; why: string } | undefined {
  if (!existsSync(path)) return evidence ? { code: 'E_INDEX_MISSING', why: 'the index is missing' } : undefined;
  if (statSync(path).size === 0) return evidence ? { code: 'E_INDEX_MISSING', why: 'the index is empty' } : undefined;
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { fileMustExist: true });
    const check = db.pragma('quick_check') as { quick_check: string }[];
    if (check.length !== 1 || check[0].quick_check !== 'ok') return { code: 'E_INDEX_DAMAGED', why: `the index fails SQLite's check (${check.map((c) => c.quick_check).join('; ').slice(0, 200)})` };
    const names = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name));
    const missing = TABLES.filter((t) => !names.has(t));
    if (missing.length && (evidence || names.size > 0)) return { code: 'E_INDEX_DAMAGED', why: `the index lacks its ${missing.join(', ')} tables` };
    return undefined;
  } catch (e) {
    // A full or failing disk is not a damaged index: say what it is, and don't ask for a rebuild.
    const f = stationFault(e);
    if (f instanceof BodycamError && (f.code === 'E_STATION_FULL' || f.code === 'E_STATION_IO')) throw new BodycamError(f.code, `${path}: ${f.message} (is the disk full?)`);
    return { code: 'E_INDEX_DAMAGED', why: `the index can't be read (${e instanceof Error ? e.message : String(e)})` };
  } finally {
    db?.close();
  }
}

export interface SegmentRow {
  device: string;
  seq: number;
  length: number;
  manifestSha256: string;
  durable: number;
  state: 'partial' | 'stored' | 'rejected';
  mediaSha256: string | null;
  reason: string | null;
}

export class EvidenceStore {
  readonly dir: string;
  readonly db: Database.Database;

  /** Set when the index was missing or damaged and a fresh one was opened to be rebuilt (rebuildIndex()). */
  readonly needsRebuild: string | undefined;

  /**
   * Open a store. A store that holds evidence but whose index is missing, empty or damaged is
   * refused (E_INDEX_MISSING, E_INDEX_DAMAGED) unless `rebuildIndex` is set: then the damaged
   * file is kept aside (index.sqlite.damaged-<time>) and a fresh index is opened for
   * dock-station/rebuild.ts to fill from the signed files.
   */
  constructor(dir: string, o: { rebuildIndex?: boolean } = {}) {
    this.dir = dir;
    mkdirSync(join(dir, 'objects', 'sha256'), { recursive: true, mode: 0o750 });
    mkdirSync(join(dir, 'partial'), { recursive: true, mode: 0o750 });
    const indexPath = join(dir, 'index.sqlite');
    const problem = indexProblem(indexPath, holdsEvidence(dir));
    if (problem) {
      if (!o.rebuildIndex) throw new BodycamError(problem.code, `${indexPath}: ${problem.why}; the store holds evidence, so the station will not start on a fresh index by itself: run \`bodycam dock --rebuild-index\` to rebuild it from the signed files`);
      const aside = `${indexPath}.damaged-${Date.now()}`;
      for (const suffix of ['', '-wal', '-shm']) if (existsSync(indexPath + suffix)) renameSync(indexPath + suffix, aside + suffix);
      this.needsRebuild = existsSync(aside) ? aside : 'missing';
    }
    this.db = new Database(indexPath);
    chmodSync(indexPath, 0o640);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS objects (sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, kind TEXT NOT NULL, stored_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS devices (device TEXT PRIMARY KEY, certificate TEXT, officer TEXT, first_seen INTEGER, last_seen INTEGER);
      CREATE TABLE IF NOT EXISTS segments (
        device TEXT NOT NULL, seq INTEGER NOT NULL, length INTEGER NOT NULL, manifest_sha256 TEXT NOT NULL,
        durable INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL, media_sha256 TEXT, reason TEXT,
        session TEXT, receipt INTEGER, updated_at INTEGER NOT NULL,
        PRIMARY KEY (device, seq));
      CREATE TABLE IF NOT EXISTS sessions (id TEXT PRIMARY KEY, device TEXT, dock TEXT NOT NULL, peer TEXT, started INTEGER NOT NULL, ended INTEGER, result TEXT);
      CREATE TABLE IF NOT EXISTS receipts (id INTEGER PRIMARY KEY AUTOINCREMENT, device TEXT NOT NULL, session TEXT NOT NULL, sha256 TEXT NOT NULL, segments INTEGER NOT NULL, at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS custody (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, dock TEXT NOT NULL, session TEXT, device TEXT, event TEXT NOT NULL, detail TEXT);
      CREATE TABLE IF NOT EXISTS log (idx INTEGER PRIMARY KEY, leaf BLOB NOT NULL);
    `);
    for (const r of this.db.prepare('SELECT leaf FROM log ORDER BY idx').iterate() as IterableIterator<{ leaf: Buffer }>) this.#range.append(leafHash(r.leaf));
  }

  /** The custody log's right edge: a checkpoint costs O(log n), never a rehash of the log. */
  #range = new CompactRange();
  /**
   * Who signs custody-log checkpoints (the station sets it): one after every session and at
   * station stop, written to DIR/log/checkpoints/<size>.cose.
   */
  custodySigner: { dock: string; signer: Signer; now?: () => number } | undefined;

  /** The dock id object-stored custody entries are recorded under. */
  get #dock(): string {
    return this.custodySigner?.dock ?? 'unknown';
  }

  /** Sign a checkpoint of the custody log as it is now (tree size + root hash); returns its file. */
  checkpointLog(): { size: number; root: Uint8Array; path: string } | undefined {
    const c = this.custodySigner;
    if (!c) return undefined;
    const size = this.#range.size;
    const root = this.#range.root();
    const path = join(this.dir, 'log', 'checkpoints', `${seqName(size)}.cose`);
    writeDurable(path, signLogCheckpoint({ dock: c.dock, size, root, utc: (c.now ?? Date.now)() }, c.signer));
    return { size, root, path };
  }

  close(): void {
    this.db.close();
  }

  /** Append to the custody log: who, when, what. */
  /** Each entry is also a leaf of the signed custody log (same transaction); a session's end, and the station's stop, sign a checkpoint. */
  log(event: string, fields: { dock: string; session?: string; device?: string; detail?: unknown }): void {
    const entry = { at: Date.now(), dock: fields.dock, session: fields.session ?? null, device: fields.device ?? null, event, detail: fields.detail === undefined ? null : JSON.stringify(fields.detail) };
    const leaf = encodeCustodyLeaf(entry);
    this.db.transaction(() => {
      this.db.prepare('INSERT INTO custody (at, dock, session, device, event, detail) VALUES (?, ?, ?, ?, ?, ?)').run(entry.at, entry.dock, entry.session, entry.device, event, entry.detail);
      this.db.prepare('INSERT INTO log (idx, leaf) VALUES (?, ?)').run(this.#range.size, leaf);
    })();
    this.#range.append(leafHash(leaf));
    if (event === 'session-end' || event === 'station-stop') this.checkpointLog();
  }

  custody(device?: string): { at: number; dock: string; session: string | null; device: string | null; event: string; detail: string | null }[] {
    const sql = 'SELECT at, dock, session, device, event, detail FROM custody' + (device ? ' WHERE device = ?' : '') + ' ORDER BY id';
    return (device ? this.db.prepare(sql).all(device) : this.db.prepare(sql).all()) as ReturnType<EvidenceStore['custody']>;
  }

  objectPath(sha256: string): string {
    return join(this.dir, 'objects', 'sha256', sha256.slice(0, 2), sha256);
  }

  /** Store bytes content-addressed (idempotent), durably; returns the SHA-256 hex. */
  putObject(data: Uint8Array, kind: string): string {
    const sha = createHash('sha256').update(data).digest('hex');
    const path = this.objectPath(sha);
    storeFolder(this.dir, 'objects', 'sha256', sha.slice(0, 2));
    if (!existsSync(path)) writeDurable(path, data, { mode: EVIDENCE_MODE });
    this.db.prepare('INSERT OR IGNORE INTO objects (sha256, size, kind, stored_at) VALUES (?, ?, ?, ?)').run(sha, data.length, kind, Date.now());
    return sha;
  }

  /** Make `name` in the device tree point at an object (hard link; durable). */
  /** Returns false when the name already pointed at the object. */
  link(sha256: string, ...name: string[]): boolean {
    if (name[0] === 'devices' || name[0] === 'docks') deviceFolder(name[1]);
    const target = join(storeFolder(this.dir, ...name.slice(0, -1)), name[name.length - 1]);
    let existing;
    try {
      existing = lstatSync(target);
    } catch {
      existing = undefined;
    }
    if (existing) {
      if (existing.isFile() && existing.ino === statSync(this.objectPath(sha256)).ino) return false;
      // Whatever was there (an old file, a planted symlink) is replaced, never followed.
      unlinkSync(target);
    }
    linkSync(this.objectPath(sha256), target);
    fsyncDir(dirname(target));
    return true;
  }

  segment(device: string, seq: number): SegmentRow | undefined {
    const r = this.db.prepare('SELECT device, seq, length, manifest_sha256 AS manifestSha256, durable, state, media_sha256 AS mediaSha256, reason FROM segments WHERE device = ? AND seq = ?').get(device, seq);
    return r as SegmentRow | undefined;
  }

  segments(device: string): SegmentRow[] {
    return this.db.prepare('SELECT device, seq, length, manifest_sha256 AS manifestSha256, durable, state, media_sha256 AS mediaSha256, reason FROM segments WHERE device = ? ORDER BY seq').all(device) as SegmentRow[];
  }

  #partialPath(device: string, seq: number): string {
    return join(this.dir, 'partial', deviceFolder(device), `${seqName(seq)}.part`);
  }

  /**
   * Begin (or resume) a segment upload. Its durable offset — what the index says was fsynced —
   * is where the camera sends from (tus-style); bytes past it, from a write that was never
   * synced, are truncated away. Returns undefined when the segment is already stored.
   */
  beginUpload(device: string, seq: number, length: number, manifest: Uint8Array, session: string): Upload | undefined {
    const existing = this.segment(device, seq);
    const manifestSha = createHash('sha256').update(manifest).digest('hex');
    if (existing) {
      if (existing.manifestSha256 !== manifestSha) throw new BodycamError('E_DUPLICATE_SEQ', `device ${device} segment ${seq} arrived again with a different manifest`);
      if (existing.state !== 'partial') return undefined;
    } else {
      this.putObject(manifest, 'manifest');
      this.db.prepare('INSERT INTO segments (device, seq, length, manifest_sha256, durable, state, session, updated_at) VALUES (?, ?, ?, ?, 0, ?, ?, ?)').run(device, seq, length, manifestSha, 'partial', session, Date.now());
    }
    const path = this.#partialPath(device, seq);
    storeFolder(this.dir, 'partial', deviceFolder(device));
    const row = this.segment(device, seq)!;
    // O_NOFOLLOW: a symlink planted at the partial file's name is refused (ELOOP), not written through.
    let fd: number;
    try {
      fd = openSync(path, fsConstants.O_RDWR | fsConstants.O_CREAT | NOFOLLOW, PARTIAL_MODE);
    } catch (e) {
      if ((e as { code?: string }).code === 'ELOOP') throw new BodycamError('E_STORE_SYMLINK', `${path} is a symlink; the store follows no links: remove it`);
      throw e;
    }
    const onDisk = statSync(path).size;
    // The index is the truth for what is durable; a longer file holds writes that were never synced.
    const durable = Math.min(row.durable, onDisk);
    ftruncateSync(fd, durable);
    fsyncSync(fd);
    if (durable !== row.durable) this.db.prepare('UPDATE segments SET durable = ? WHERE device = ? AND seq = ?').run(durable, device, seq);
    // The media digest runs as chunks arrive; on a resume, over what is already on disk first.
    const hash = createHash('sha256');
    const buf = Buffer.alloc(1 << 20);
    for (let o = 0; o < durable; ) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, durable - o), o);
      hash.update(buf.subarray(0, n));
      o += n;
    }
    return new Upload(this, device, seq, length, fd, durable, hash);
  }

  /** @internal Record a synced offset. */
  recordDurable(device: string, seq: number, durable: number): void {
    this.db.prepare('UPDATE segments SET durable = ?, updated_at = ? WHERE device = ? AND seq = ?').run(durable, Date.now(), device, seq);
  }

  /** A verified upload: move its media into objects/, link both files into the device tree. */
  commitSegment(upload: Upload, manifest: Uint8Array, session: string, custody?: { dock: string; detail?: unknown }): string {
    const { device, seq } = upload;
    const sha = upload.close();
    const part = this.#partialPath(device, seq);
    const obj = this.objectPath(sha);
    storeFolder(this.dir, 'objects', 'sha256', sha.slice(0, 2));
    if (!existsSync(obj)) {
      renameSync(part, obj);
      fsyncDir(dirname(obj));
    } else unlinkSync(part);
    fsyncDir(dirname(part));
    const manifestSha = createHash('sha256').update(manifest).digest('hex');
    if (!existsSync(this.objectPath(manifestSha))) {
      storeFolder(this.dir, 'objects', 'sha256', manifestSha.slice(0, 2));
      writeDurable(this.objectPath(manifestSha), manifest, { mode: EVIDENCE_MODE });
    }
    this.link(manifestSha, 'devices', device, 'segments', `${seqName(seq)}.manifest.cose`);
    this.link(sha, 'devices', device, 'segments', `${seqName(seq)}.media`);
    // The files are durable; one index transaction (one WAL sync) records all of it.
    this.db.transaction(() => {
      const put = this.db.prepare('INSERT OR IGNORE INTO objects (sha256, size, kind, stored_at) VALUES (?, ?, ?, ?)');
      put.run(sha, upload.length, 'media', Date.now());
      put.run(manifestSha, manifest.length, 'manifest', Date.now());
      this.db.prepare("UPDATE segments SET state = 'stored', media_sha256 = ?, durable = length, session = ?, updated_at = ? WHERE device = ? AND seq = ?").run(sha, session, Date.now(), device, seq);
      if (custody) this.log('segment-stored', { dock: custody.dock, session, device, detail: custody.detail ?? { seq, bytes: upload.length, media: sha, manifest: manifestSha } });
    })();
    return sha;
  }

  rejectSegment(device: string, seq: number, reason: string): void {
    this.db.prepare("UPDATE segments SET state = 'rejected', reason = ?, updated_at = ? WHERE device = ? AND seq = ?").run(reason, Date.now(), device, seq);
  }

  /** Restart a rejected upload from scratch (the camera may hold a good copy). */
  resetSegment(device: string, seq: number): void {
    const part = this.#partialPath(device, seq);
    if (existsSync(part)) unlinkSync(part);
    this.db.prepare('DELETE FROM segments WHERE device = ? AND seq = ?').run(device, seq);
  }

  /** Store a device-tree object (certificate, checkpoint, receipt, ledger entry) durably. */
  putDeviceFile(device: string, data: Uint8Array, kind: string, ...name: string[]): string {
    deviceFolder(device);
    const sha = this.putObject(data, kind);
    // A new file in the device tree is a custody entry naming it and its digest.
    if (this.link(sha, 'devices', device, ...name)) this.log('object-stored', { dock: this.#dock, device, detail: { path: ['devices', device, ...name].join('/'), sha256: sha, kind } });
    return sha;
  }

  /** Next free number in a device folder (checkpoints/, receipts/, ledger/). */
  nextNumber(device: string, folder: string): number {
    const dir = storeFolder(this.dir, 'devices', deviceFolder(device), folder);
    const ns = readdirSync(dir).map((n) => parseInt(n, 10)).filter((n) => Number.isSafeInteger(n));
    return ns.length ? Math.max(...ns) + 1 : 1;
  }
}

/**
 * One segment upload in progress: chunks are written at the end of the partial file and hashed
 * as they arrive; sync() fsyncs the file and then records the offset in the index, so the
 * index never claims more than the disk holds. The session syncs every few MiB, at the end of a
 * segment, and when the session ends for any reason.
 */
export class Upload {
  #fd: number | undefined;
  #synced: number;
  constructor(
    readonly store: EvidenceStore,
    readonly device: string,
    readonly seq: number,
    readonly length: number,
    fd: number,
    public offset: number,
    readonly hash: Hash,
  ) {
    this.#fd = fd;
    this.#synced = offset;
  }
  get durable(): number {
    return this.#synced;
  }
  append(offset: number, data: Uint8Array): number {
    if (this.#fd === undefined) throw new BodycamError('E_NOT_UPLOADING', `upload of ${this.device} segment ${this.seq} is closed`);
    if (offset !== this.offset) throw new BodycamError('E_OFFSET', `chunk at ${offset}, but ${this.offset} bytes are stored`);
    if (offset + data.length > this.length) throw new BodycamError('E_OFFSET', `chunk runs past the segment's ${this.length} bytes`);
    // A short write (a disk filling up) writes the rest or throws (ENOSPC): never a silent hole.
    for (let done = 0; done < data.length; ) done += writeSync(this.#fd, data, done, data.length - done, offset + done);
    this.hash.update(data);
    this.offset += data.length;
    return this.offset;
  }
  sync(): void {
    if (this.#fd === undefined || this.#synced === this.offset) return;
    fsyncSync(this.#fd);
    this.#synced = this.offset;
    this.store.recordDurable(this.device, this.seq, this.offset);
  }
  /** Sync, close, and return the media's SHA-256 (hex). */
  close(): string {
    this.sync();
    // Complete: read-only from here on (it becomes an object by rename, same inode).
    if (this.#fd !== undefined && this.offset === this.length) fchmodSync(this.#fd, EVIDENCE_MODE);
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    return this.hash.copy().digest('hex');
  }
  /** Give up without losing what is durable. */
  abandon(): void {
    try {
      this.sync();
    } finally {
      if (this.#fd !== undefined) closeSync(this.#fd);
      this.#fd = undefined;
    }
  }
}
