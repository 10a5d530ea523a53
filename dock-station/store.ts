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
// then the index row is committed. Uploads are made durable a receipt batch at a time (SyncBatch:
// every file and folder the batch touched fsynced together, then one index transaction); a
// restart finds every partial upload at its recorded durable offset. docs/protocol.md, "What is
// synced when", is the rule in full.

import Database from 'better-sqlite3';
import { createHash, type Hash } from 'node:crypto';
import { writev as writevAsync } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
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

/** fsync a file or folder by path, off the event loop (the thread pool), never through a symlink. */
async function fsyncPath(path: string): Promise<void> {
  const fh = await openFile(path, fsConstants.O_RDONLY | NOFOLLOW);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * What one receipt batch makes durable at once (docs/protocol.md, "What is synced when"): the files
 * it wrote (by the device-tree name the receipt stands for, so the very inode it names) and the
 * folders whose entries it changed are fsynced, and only then are the index rows that record them
 * committed, in one transaction. The session signs and sends the receipt after commit() returns;
 * nothing before it claims the batch's files exist.
 *
 * A file is complete when it joins the batch, so its fsync starts then, in the thread pool, while
 * the session pulls the next segment: the disk writes a segment back as the next one arrives, and
 * commit() waits for what is still running instead of syncing the whole batch at once. Folders
 * are synced at commit() (their entries change until then).
 */
export class SyncBatch {
  readonly #store: EvidenceStore;
  /** Each file's fsync, started when it joined; commit() awaits it (and throws its failure). */
  readonly #files = new Map<string, Promise<void>>();
  readonly #dirs = new Set<string>();
  readonly #rows: (() => void)[] = [];
  constructor(store: EvidenceStore) {
    this.#store = store;
  }
  /** A file whose data (and size) must be durable: complete now, never written again. Its fsync starts at once. */
  file(path: string): void {
    if (this.#files.has(path)) return;
    const synced = this.#sync(path);
    // Awaited by commit(); until then a failure is not an unhandled rejection.
    synced.catch(() => {});
    this.#files.set(path, synced);
  }
  /** fsync `path`, told to the sync trace once it is done. */
  async #sync(path: string): Promise<void> {
    await fsyncPath(path);
    await this.#store.syncTrace?.('fsync', path);
  }
  /** A folder whose entries changed (a file made, renamed in or out, linked). */
  dir(path: string): void {
    this.#dirs.add(path);
  }
  /** An index write that records something in this batch: run after everything is synced. */
  row(write: () => void): void {
    this.#rows.push(write);
  }
  get empty(): boolean {
    return this.#files.size === 0 && this.#dirs.size === 0 && this.#rows.length === 0;
  }
  /** Wait for every file's sync, sync every folder, then commit every row in one transaction. */
  async commit(): Promise<void> {
    await Promise.all([...this.#files.values(), ...[...this.#dirs].map((dir) => this.#sync(dir))]);
    this.#store.db.transaction(() => {
      for (const write of this.#rows) write();
    })();
    this.#store.syncTrace?.('commit', '');
    this.#files.clear();
    this.#dirs.clear();
    this.#rows.length = 0;
  }
}

/**
 * Write a file durably: temp file, fsync, rename, fsync the directory. `mode` for secrets and for
 * everything in a dock's store (0o600, set before a byte is written); `exclusive` refuses to
 * replace an existing file. Folders it makes are the owner's alone (0o700).
 */
export function writeDurable(path: string, data: Uint8Array | string, o: { mode?: number; exclusive?: boolean } = {}): void {
  mkdirSync(dirname(path), { recursive: true, mode: FOLDER_MODE });
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

/**
 * Everything in a store is the station's alone, from the first byte (each file and folder is
 * created with its mode, never chmod-ed after): evidence is read-only once stored, other files
 * (the index and its WAL, custody checkpoints, trust/) 0600, folders 0700. Footage on a dock's disk
 * is for the station's user, not for whoever else has a login on the machine.
 */
export const EVIDENCE_MODE = 0o400;
export const FILE_MODE = 0o600;
export const FOLDER_MODE = 0o700;
const PARTIAL_MODE = 0o600;

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

  /**
   * Told of every sync a receipt batch makes ('fsync' with a path, 'commit'), and by the session of
   * every receipt it sends ('receipt' with the receipt's file): the durability tests check the order.
   * A promise returned for an 'fsync' is waited for as part of that sync (a test's slow disk).
   */
  syncTrace: ((event: 'fsync' | 'commit' | 'receipt', path: string) => void | Promise<void>) | undefined;

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
    mkdirSync(join(dir, 'objects', 'sha256'), { recursive: true, mode: FOLDER_MODE });
    mkdirSync(join(dir, 'partial'), { recursive: true, mode: FOLDER_MODE });
    // A store an earlier version made (folders 0750, files 0440/0640) is closed to the group at its root.
    chmodSync(dir, FOLDER_MODE);
    const indexPath = join(dir, 'index.sqlite');
    const problem = indexProblem(indexPath, holdsEvidence(dir));
    if (problem) {
      if (!o.rebuildIndex) throw new BodycamError(problem.code, `${indexPath}: ${problem.why}; the store holds evidence, so the station will not start on a fresh index by itself: run \`bodycam dock --rebuild-index\` to rebuild it from the signed files`);
      const aside = `${indexPath}.damaged-${Date.now()}`;
      for (const suffix of ['', '-wal', '-shm']) if (existsSync(indexPath + suffix)) renameSync(indexPath + suffix, aside + suffix);
      this.needsRebuild = existsSync(aside) ? aside : 'missing';
    }
    // The index is made 0600 before SQLite opens it, so no byte of it is ever readable by others;
    // SQLite gives its -wal and -shm files the database file's mode.
    if (!existsSync(indexPath)) closeSync(openSync(indexPath, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | NOFOLLOW, FILE_MODE));
    else chmodSync(indexPath, FILE_MODE);
    this.db = new Database(indexPath);
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
    writeDurable(path, signLogCheckpoint({ dock: c.dock, size, root, utc: (c.now ?? Date.now)() }, c.signer), { mode: FILE_MODE });
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
    // Only an indexed object is known durable: a file left by a batch cut before its commit is replaced.
    if (!existsSync(path) || !this.#indexed(sha)) writeDurable(path, data, { mode: EVIDENCE_MODE });
    this.db.prepare('INSERT OR IGNORE INTO objects (sha256, size, kind, stored_at) VALUES (?, ?, ?, ?)').run(sha, data.length, kind, Date.now());
    return sha;
  }

  /** Whether the index records an object (and so it is durable: rows are written only after their files are synced). */
  #indexed(sha256: string): boolean {
    return this.db.prepare('SELECT 1 FROM objects WHERE sha256 = ?').get(sha256) !== undefined;
  }

  /** An object for a receipt batch: written (temp file, rename) unless indexed; the caller links it and has the batch sync it. Returns its SHA-256 hex. */
  #stageObject(batch: SyncBatch, data: Uint8Array, kind: string): string {
    const sha = createHash('sha256').update(data).digest('hex');
    const folder = storeFolder(this.dir, 'objects', 'sha256', sha.slice(0, 2));
    if (!this.#indexed(sha)) {
      const path = this.objectPath(sha);
      const tmp = `${path}.tmp-${process.pid}`;
      rmSync(tmp, { force: true });
      const fd = openSync(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | NOFOLLOW, EVIDENCE_MODE);
      try {
        for (let done = 0; done < data.length; ) done += writeSync(fd, data, done, data.length - done);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, path);
      // Its data is synced by the name the caller links it under (the same inode); its folder here.
      batch.dir(folder);
    }
    batch.row(() => this.db.prepare('INSERT OR IGNORE INTO objects (sha256, size, kind, stored_at) VALUES (?, ?, ?, ?)').run(sha, data.length, kind, Date.now()));
    return sha;
  }

  /** Make `name` in the device tree point at an object (hard link; durable). */
  /** Returns false when the name already pointed at the object. */
  link(sha256: string, ...name: string[]): boolean {
    const { target, linked } = this.#place(sha256, name);
    if (linked) fsyncDir(dirname(target));
    return linked;
  }

  /** Link `name` to an object without syncing its folder (a receipt batch syncs it). */
  #place(sha256: string, name: string[]): { target: string; linked: boolean } {
    if (name[0] === 'devices' || name[0] === 'docks') deviceFolder(name[1]);
    const target = join(storeFolder(this.dir, ...name.slice(0, -1)), name[name.length - 1]);
    let existing;
    try {
      existing = lstatSync(target);
    } catch {
      existing = undefined;
    }
    if (existing) {
      if (existing.isFile() && existing.ino === statSync(this.objectPath(sha256)).ino) return { target, linked: false };
      // Whatever was there (an old file, a planted symlink) is replaced, never followed.
      unlinkSync(target);
    }
    linkSync(this.objectPath(sha256), target);
    return { target, linked: true };
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
   * Nothing is written to the index here: a segment gets its row when an offset of it is made
   * durable (Upload.sync) or when its receipt batch commits (stageSegment, SyncBatch.commit).
   */
  beginUpload(device: string, seq: number, length: number, manifest: Uint8Array, session: string): Upload | undefined {
    const existing = this.segment(device, seq);
    const manifestSha = createHash('sha256').update(manifest).digest('hex');
    if (existing) {
      if (existing.manifestSha256 !== manifestSha) throw new BodycamError('E_DUPLICATE_SEQ', `device ${device} segment ${seq} arrived again with a different manifest`);
      if (existing.state !== 'partial') return undefined;
    }
    const path = this.#partialPath(device, seq);
    storeFolder(this.dir, 'partial', deviceFolder(device));
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
    // Cutting them needs no sync of its own: the index, not the file's length, says what is durable.
    const durable = Math.min(existing?.durable ?? 0, onDisk);
    if (onDisk !== durable) ftruncateSync(fd, durable);
    if (existing && durable !== existing.durable) this.db.prepare('UPDATE segments SET durable = ? WHERE device = ? AND seq = ?').run(durable, device, seq);
    // The media digest runs as chunks arrive; on a resume, over what is already on disk first.
    const hash = createHash('sha256');
    const buf = durable > 0 ? Buffer.allocUnsafe(Math.min(1 << 20, durable)) : undefined;
    for (let o = 0; buf && o < durable; ) {
      const n = readSync(fd, buf, 0, Math.min(buf.length, durable - o), o);
      hash.update(buf.subarray(0, n));
      o += n;
    }
    return new Upload(this, { device, seq, length, manifestSha, session, folder: dirname(path) }, fd, durable, hash);
  }

  /** @internal Record a synced offset (the segment's row is made if it has none yet). */
  recordDurable(u: Upload, durable: number): void {
    this.db
      .prepare("INSERT INTO segments (device, seq, length, manifest_sha256, durable, state, session, updated_at) VALUES (?, ?, ?, ?, ?, 'partial', ?, ?) ON CONFLICT(device, seq) DO UPDATE SET durable = excluded.durable, updated_at = excluded.updated_at")
      .run(u.device, u.seq, u.length, u.manifestSha, durable, u.session, Date.now());
  }

  /**
   * A verified upload joins a receipt batch: its media becomes an object (by rename: the same
   * inode), its manifest is written beside it, both are linked into the device tree. Nothing is
   * synced here and nothing is in the index yet: batch.commit() syncs the files and their folders,
   * then records the segment as stored. Returns the media's SHA-256 hex.
   */
  stageSegment(batch: SyncBatch, upload: Upload, manifest: Uint8Array, session: string, custody?: { dock: string; detail?: unknown }): string {
    const { device, seq } = upload;
    const sha = upload.complete();
    const part = this.#partialPath(device, seq);
    const folder = storeFolder(this.dir, 'objects', 'sha256', sha.slice(0, 2));
    // An indexed object is durable already; anything else at its name (left by a batch cut before
    // its commit) is replaced by this upload, which the batch syncs.
    if (this.#indexed(sha)) unlinkSync(part);
    else {
      renameSync(part, this.objectPath(sha));
      batch.dir(folder);
    }
    batch.dir(dirname(part));
    const manifestSha = this.#stageObject(batch, manifest, 'manifest');
    const segments: string[] = [];
    for (const [object, name] of [[manifestSha, `${seqName(seq)}.manifest.cose`], [sha, `${seqName(seq)}.media`]]) {
      const { target } = this.#place(object, ['devices', device, 'segments', name]);
      // By the name the receipt stands for: the very inode the device tree holds.
      batch.file(target);
      segments.push(dirname(target));
    }
    batch.dir(segments[0]);
    batch.row(() => {
      this.db.prepare('INSERT OR IGNORE INTO objects (sha256, size, kind, stored_at) VALUES (?, ?, ?, ?)').run(sha, upload.length, 'media', Date.now());
      this.db
        .prepare("INSERT INTO segments (device, seq, length, manifest_sha256, durable, state, media_sha256, session, updated_at) VALUES (?, ?, ?, ?, ?, 'stored', ?, ?, ?) ON CONFLICT(device, seq) DO UPDATE SET state = 'stored', media_sha256 = excluded.media_sha256, durable = excluded.length, session = excluded.session, updated_at = excluded.updated_at")
        .run(device, seq, upload.length, manifestSha, upload.length, sha, session, Date.now());
      if (custody) this.log('segment-stored', { dock: custody.dock, session, device, detail: custody.detail ?? { seq, bytes: upload.length, media: sha, manifest: manifestSha } });
    });
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

  /** putDeviceFile as part of a receipt batch: written and linked now, synced and indexed by batch.commit(). */
  stageDeviceFile(batch: SyncBatch, device: string, data: Uint8Array, kind: string, ...name: string[]): { sha256: string; path: string } {
    deviceFolder(device);
    const sha = this.#stageObject(batch, data, kind);
    const { target, linked } = this.#place(sha, ['devices', device, ...name]);
    batch.file(target);
    batch.dir(dirname(target));
    if (linked) batch.row(() => this.log('object-stored', { dock: this.#dock, device, detail: { path: ['devices', device, ...name].join('/'), sha256: sha, kind } }));
    return { sha256: sha, path: target };
  }

  /** Next free number in a device folder (checkpoints/, receipts/, ledger/). */
  nextNumber(device: string, folder: string): number {
    const dir = storeFolder(this.dir, 'devices', deviceFolder(device), folder);
    const ns = readdirSync(dir).map((n) => parseInt(n, 10)).filter((n) => Number.isSafeInteger(n));
    return ns.length ? Math.max(...ns) + 1 : 1;
  }
}

/** Bytes an upload may have in writes not yet finished before append() waits for them (memory bound). */
export const WRITE_AHEAD = 1024 * 1024;

/**
 * Chunks an upload gathers before it writes them in one call: each call costs the event loop about
 * as much as the kernel's copy of 64 KiB (the thread pool's thread is woken and takes a core), so
 * the station's 64 KiB chunks go to disk four at a time.
 */
export const WRITE_GATHER = 256 * 1024;

/** pwritev all of `parts` at `position` in the thread pool (a short write writes the rest, or fails: never a silent hole). */
function writeAt(fd: number, parts: Uint8Array[], position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (rest: Uint8Array[], at: number) =>
      writevAsync(fd, rest, at, (e, n) => {
        if (e) return reject(e);
        let left = n;
        while (rest.length && left >= rest[0].length) left -= rest.shift()!.length;
        if (!rest.length) return resolve();
        rest[0] = rest[0].subarray(left);
        step(rest, at + n);
      });
    step([...parts], position);
  });
}

/**
 * One segment upload in progress: chunks are hashed as they arrive and written at their offset
 * in the partial file by the thread pool, several in one call (WRITE_GATHER; the event loop goes
 * on to the next chunk; at most WRITE_AHEAD bytes are gathered or in flight), nothing synced.
 * sync() waits for the writes, fsyncs the file (and, the first time, its folder) and then records
 * the offset in the index, so the index never claims more than the disk holds: the session calls
 * it only when it ends mid-segment, and past SYNC_BYTES of unsynced bytes. A complete upload is
 * made durable with its receipt batch (EvidenceStore.stageSegment).
 */
export class Upload {
  #fd: number | undefined;
  #synced: number;
  #folderSynced = false;
  /** Chunks appended but not yet handed to a write (at most WRITE_GATHER bytes), and their `written` callbacks. */
  #gathered: Uint8Array[] = [];
  #gatheredBytes = 0;
  #gatheredDone: (() => void)[] = [];
  /** Writes in flight; the bytes appended and not yet written (gathered or in flight); the first write error, thrown at the next call. */
  #writes = new Set<Promise<void>>();
  #writing = 0;
  #failed: unknown;
  readonly device: string;
  readonly seq: number;
  readonly length: number;
  readonly manifestSha: string;
  readonly session: string;
  readonly #folder: string;
  constructor(
    readonly store: EvidenceStore,
    o: { device: string; seq: number; length: number; manifestSha: string; session: string; folder: string },
    fd: number,
    public offset: number,
    readonly hash: Hash,
  ) {
    this.device = o.device;
    this.seq = o.seq;
    this.length = o.length;
    this.manifestSha = o.manifestSha;
    this.session = o.session;
    this.#folder = o.folder;
    this.#fd = fd;
    this.#synced = offset;
  }
  get durable(): number {
    return this.#synced;
  }
  /**
   * Hash a chunk and have it written (`data` must stay unchanged until the write is done: the
   * session's chunks are views into frames nothing else writes): chunks are gathered and written
   * WRITE_GATHER bytes at a time, the last ones when the segment is complete or at written().
   * Resolves once fewer than WRITE_AHEAD bytes are gathered or in flight; a failed write (ENOSPC)
   * throws here or at the next call.
   * `written`, if given, is called once this chunk's write has ended (either way): from then on
   * nothing reads `data`, and its buffer may be reused.
   */
  async append(offset: number, data: Uint8Array, written?: () => void): Promise<number> {
    if (this.#failed) throw this.#failed;
    if (this.#fd === undefined) throw new BodycamError('E_NOT_UPLOADING', `upload of ${this.device} segment ${this.seq} is closed`);
    if (offset !== this.offset) throw new BodycamError('E_OFFSET', `chunk at ${offset}, but ${this.offset} bytes are stored`);
    if (offset + data.length > this.length) throw new BodycamError('E_OFFSET', `chunk runs past the segment's ${this.length} bytes`);
    this.hash.update(data);
    this.offset += data.length;
    this.#gathered.push(data);
    this.#gatheredBytes += data.length;
    if (written) this.#gatheredDone.push(written);
    this.#writing += data.length;
    if (this.#gatheredBytes >= WRITE_GATHER || this.offset === this.length) this.#write();
    while (this.#writing > WRITE_AHEAD && this.#writes.size) await Promise.race(this.#writes);
    if (this.#failed) throw this.#failed;
    return this.offset;
  }
  /** Start writing the chunks gathered, in one call. */
  #write(): void {
    if (!this.#gatheredBytes) return;
    const parts = this.#gathered;
    const bytes = this.#gatheredBytes;
    const done = this.#gatheredDone;
    this.#gathered = [];
    this.#gatheredBytes = 0;
    this.#gatheredDone = [];
    const w = writeAt(this.#fd!, parts, this.offset - bytes).then(
      () => undefined,
      (e: unknown) => {
        this.#failed ??= e;
      },
    );
    this.#writes.add(w);
    void w.finally(() => {
      this.#writes.delete(w);
      this.#writing -= bytes;
      for (const f of done) f();
    });
  }
  /** Every chunk appended has been written (or the first failure is thrown). */
  async written(): Promise<void> {
    this.#write();
    while (this.#writes.size) await Promise.all(this.#writes);
    if (this.#failed) throw this.#failed;
  }
  async sync(): Promise<void> {
    await this.written();
    if (this.#fd === undefined || this.#synced === this.offset) return;
    fsyncSync(this.#fd);
    // The partial file's own name must be durable before an offset in it is recorded.
    if (!this.#folderSynced) fsyncDir(this.#folder);
    this.#folderSynced = true;
    this.#synced = this.offset;
    this.store.recordDurable(this, this.offset);
  }
  /** Close without syncing and return the media's SHA-256 (hex): a complete upload is synced with its receipt batch. Call written() first. */
  complete(): string {
    if (this.#writes.size) throw new BodycamError('E_INTERNAL', `upload of ${this.device} segment ${this.seq} completed with writes in flight`);
    // Complete: read-only from here on (it becomes an object by rename, same inode).
    if (this.#fd !== undefined && this.offset === this.length) fchmodSync(this.#fd, EVIDENCE_MODE);
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
    return this.hash.copy().digest('hex');
  }
  /** Give up without losing what is durable. */
  async abandon(): Promise<void> {
    try {
      await this.sync();
    } finally {
      // Nothing may write to the descriptor once it is closed (it could be reused).
      await Promise.allSettled([...this.#writes]);
      if (this.#fd !== undefined) closeSync(this.#fd);
      this.#fd = undefined;
    }
  }
}
