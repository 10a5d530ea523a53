// The dock station's evidence store: originals content-addressed on disk, an index and a custody
// log in SQLite, and a browsable evidence tree that `bodycam verify DIR` reads.
//
//   DIR/index.sqlite                       index + custody log (WAL, synchronous=FULL)
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
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync, ftruncateSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BodycamError } from '../firmware/errors.js';

export const seqName = (seq: number): string => String(seq).padStart(10, '0');

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Write a file durably: temp file, fsync, rename, fsync the directory. */
export function writeDurable(path: string, data: Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  fsyncDir(dirname(path));
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

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(join(dir, 'objects', 'sha256'), { recursive: true });
    mkdirSync(join(dir, 'partial'), { recursive: true });
    this.db = new Database(join(dir, 'index.sqlite'));
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
    `);
  }

  close(): void {
    this.db.close();
  }

  /** Append to the custody log: who, when, what. */
  log(event: string, fields: { dock: string; session?: string; device?: string; detail?: unknown }): void {
    this.db
      .prepare('INSERT INTO custody (at, dock, session, device, event, detail) VALUES (?, ?, ?, ?, ?, ?)')
      .run(Date.now(), fields.dock, fields.session ?? null, fields.device ?? null, event, fields.detail === undefined ? null : JSON.stringify(fields.detail));
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
    if (!existsSync(path)) writeDurable(path, data);
    this.db.prepare('INSERT OR IGNORE INTO objects (sha256, size, kind, stored_at) VALUES (?, ?, ?, ?)').run(sha, data.length, kind, Date.now());
    return sha;
  }

  /** Make `name` in the device tree point at an object (hard link; durable). */
  link(sha256: string, ...name: string[]): void {
    const target = join(this.dir, ...name);
    mkdirSync(dirname(target), { recursive: true });
    if (existsSync(target)) {
      if (statSync(target).ino === statSync(this.objectPath(sha256)).ino) return;
      unlinkSync(target);
    }
    linkSync(this.objectPath(sha256), target);
    fsyncDir(dirname(target));
  }

  segment(device: string, seq: number): SegmentRow | undefined {
    const r = this.db.prepare('SELECT device, seq, length, manifest_sha256 AS manifestSha256, durable, state, media_sha256 AS mediaSha256, reason FROM segments WHERE device = ? AND seq = ?').get(device, seq);
    return r as SegmentRow | undefined;
  }

  segments(device: string): SegmentRow[] {
    return this.db.prepare('SELECT device, seq, length, manifest_sha256 AS manifestSha256, durable, state, media_sha256 AS mediaSha256, reason FROM segments WHERE device = ? ORDER BY seq').all(device) as SegmentRow[];
  }

  #partialPath(device: string, seq: number): string {
    return join(this.dir, 'partial', device, `${seqName(seq)}.part`);
  }

  /**
   * Begin (or resume) a segment upload. Returns the durable offset the camera should send from
   * (tus-style): bytes past it, from a cut write, are truncated away.
   */
  beginSegment(device: string, seq: number, length: number, manifest: Uint8Array, session: string): number {
    const existing = this.segment(device, seq);
    const manifestSha = createHash('sha256').update(manifest).digest('hex');
    if (existing) {
      if (existing.manifestSha256 !== manifestSha) throw new BodycamError('E_DUPLICATE_SEQ', `device ${device} segment ${seq} arrived again with a different manifest`);
      if (existing.state !== 'partial') return existing.length;
    } else {
      this.putObject(manifest, 'manifest');
      this.db.prepare('INSERT INTO segments (device, seq, length, manifest_sha256, durable, state, session, updated_at) VALUES (?, ?, ?, ?, 0, ?, ?, ?)').run(device, seq, length, manifestSha, 'partial', session, Date.now());
    }
    const path = this.#partialPath(device, seq);
    mkdirSync(dirname(path), { recursive: true });
    const row = this.segment(device, seq)!;
    const onDisk = existsSync(path) ? statSync(path).size : 0;
    // The index is the truth for what is durable; a longer file holds a write that was never acknowledged.
    const durable = Math.min(row.durable, onDisk);
    if (onDisk !== durable || !existsSync(path)) {
      const fd = openSync(path, existsSync(path) ? 'r+' : 'w');
      try {
        ftruncateSync(fd, durable);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    if (durable !== row.durable) this.db.prepare('UPDATE segments SET durable = ? WHERE device = ? AND seq = ?').run(durable, device, seq);
    return durable;
  }

  /** Append a verified chunk at exactly the durable offset; fsync; then record the new offset. */
  appendChunk(device: string, seq: number, offset: number, data: Uint8Array): number {
    const row = this.segment(device, seq);
    if (!row || row.state !== 'partial') throw new BodycamError('E_NOT_UPLOADING', `no upload in progress for ${device} segment ${seq}`);
    if (offset !== row.durable) throw new BodycamError('E_OFFSET', `chunk at ${offset}, but ${row.durable} bytes are stored`);
    if (offset + data.length > row.length) throw new BodycamError('E_OFFSET', `chunk runs past the segment's ${row.length} bytes`);
    const fd = openSync(this.#partialPath(device, seq), 'r+');
    try {
      writeSync(fd, data, 0, data.length, offset);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    const durable = offset + data.length;
    this.db.prepare('UPDATE segments SET durable = ?, updated_at = ? WHERE device = ? AND seq = ?').run(durable, Date.now(), device, seq);
    return durable;
  }

  /** The bytes of a complete partial upload, for verification. */
  partialBytes(device: string, seq: number): Uint8Array {
    return new Uint8Array(readFileSync(this.#partialPath(device, seq)));
  }

  /** A verified segment: move its media into objects/, link both files into the device tree. */
  commitSegment(device: string, seq: number, manifest: Uint8Array, session: string): string {
    const row = this.segment(device, seq);
    if (!row) throw new BodycamError('E_NOT_UPLOADING', `no upload for ${device} segment ${seq}`);
    if (row.state === 'stored') return row.mediaSha256!;
    const part = this.#partialPath(device, seq);
    const data = readFileSync(part);
    const sha = createHash('sha256').update(data).digest('hex');
    const obj = this.objectPath(sha);
    mkdirSync(dirname(obj), { recursive: true });
    if (!existsSync(obj)) {
      renameSync(part, obj);
      fsyncDir(dirname(obj));
    } else unlinkSync(part);
    fsyncDir(dirname(part));
    this.db.prepare('INSERT OR IGNORE INTO objects (sha256, size, kind, stored_at) VALUES (?, ?, ?, ?)').run(sha, data.length, 'media', Date.now());
    const manifestSha = this.putObject(manifest, 'manifest');
    this.link(manifestSha, 'devices', device, 'segments', `${seqName(seq)}.manifest.cose`);
    this.link(sha, 'devices', device, 'segments', `${seqName(seq)}.media`);
    this.db.prepare("UPDATE segments SET state = 'stored', media_sha256 = ?, durable = length, session = ?, updated_at = ? WHERE device = ? AND seq = ?").run(sha, session, Date.now(), device, seq);
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
    const sha = this.putObject(data, kind);
    this.link(sha, 'devices', device, ...name);
    return sha;
  }

  /** Next free number in a device folder (checkpoints/, receipts/, ledger/). */
  nextNumber(device: string, folder: string): number {
    const dir = join(this.dir, 'devices', device, folder);
    if (!existsSync(dir)) return 1;
    const ns = readdirSync(dir).map((n) => parseInt(n, 10)).filter((n) => Number.isSafeInteger(n));
    return ns.length ? Math.max(...ns) + 1 : 1;
  }
}
