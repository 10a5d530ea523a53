// dock-station/central/: the station's side of a force's central evidence store — writing into it
// (central-store.ts) and forwarding a station's store to it (forward.ts). The store's layout and
// its read side are evidence/central/ (which verify and export use); this folder adds the writes.
// It imports evidence/ and firmware/; it never imports cli/ or host-sim/.
//
// Promises of CentralStore:
// - an object is written once under its SHA-256, with Content-MD5 on every request (the server
//   refuses bytes that changed on the way: BadDigest), under object-lock retention where the
//   bucket has it, and is in the index (bodycam_objects) only after it was read back whole from
//   the object store and hashed to its name;
// - a station's file, segment, leaf or checkpoint row names only verified objects; rows are
//   keyed so that a retry adds nothing (ON CONFLICT DO NOTHING), and a row that would change what
//   a key already names is refused (E_CENTRAL_CONFLICT);
// - custody leaves are taken only with an inclusion proof to the station's checkpoint root, and a
//   checkpoint only with a consistency proof from the one before it (E_CENTRAL_PROOF);
// - a multipart upload is recorded before its first part, so a forwarder killed mid-object
//   aborts it when it comes back: nothing half-written is left behind.

import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectLockConfigurationCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type ObjectLockMode,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { closeSync, openSync, readSync } from 'node:fs';
import { BodycamError } from '../../firmware/errors.js';
import { CentralReader, centralFault, ensureSchema, objectKey, type CentralConfig } from '../../evidence/central/central.js';
import { leafHash, verifyConsistency, verifyInclusion } from '../../evidence/merkle.js';
import { peekLogCheckpoint } from '../../evidence/custody-log.js';

export interface CentralStoreOptions {
  /** Object-lock retention in days where the bucket supports it (default 7 years). */
  retainDays?: number;
  /** COMPLIANCE (no one may shorten it, default) or GOVERNANCE. */
  lockMode?: ObjectLockMode;
  /** Objects larger than this go up in parts (default 16 MiB). */
  multipartThreshold?: number;
  /** Part size (default 8 MiB; S3 wants at least 5 MiB for all but the last). */
  partSize?: number;
}

/** Bytes to store: in memory, or a file read in pieces (never loaded whole past the threshold). */
export type ObjectSource = { bytes: Uint8Array } | { file: string; size: number };

/** A pool or one of its clients. */
type Queryable = { query(text: string, values?: unknown[]): Promise<unknown> };

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('base64');

export class CentralStore extends CentralReader {
  readonly retainDays: number;
  readonly lockMode: ObjectLockMode;
  readonly multipartThreshold: number;
  readonly partSize: number;
  /** Whether the bucket keeps objects under object-lock retention (found by prepare()). */
  objectLock = false;
  #prepared = false;

  constructor(config: CentralConfig, o: CentralStoreOptions = {}) {
    super(config);
    this.retainDays = o.retainDays ?? 7 * 365 + 2;
    this.lockMode = o.lockMode ?? 'COMPLIANCE';
    this.multipartThreshold = o.multipartThreshold ?? 16 * 1024 * 1024;
    this.partSize = Math.max(o.partSize ?? 8 * 1024 * 1024, 5 * 1024 * 1024);
  }

  /** Make the bucket (with object lock) and the schema if missing; find whether the bucket locks objects. */
  async prepare(): Promise<void> {
    if (this.#prepared) return;
    try {
      await this.s3.send(new CreateBucketCommand({ Bucket: this.config.bucket, ObjectLockEnabledForBucket: true }));
    } catch (e) {
      const name = (e as { name?: string }).name;
      if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw centralFault(e, `creating bucket ${this.config.bucket}`);
    }
    try {
      const c = await this.s3.send(new GetObjectLockConfigurationCommand({ Bucket: this.config.bucket }));
      this.objectLock = c.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled';
    } catch {
      // a bucket without object lock, or a server without it: objects are stored without retention
      this.objectLock = false;
    }
    try {
      await ensureSchema(this.pool, this.url);
    } catch (e) {
      throw centralFault(e, 'the central database');
    }
    this.#prepared = true;
  }

  #lock(): { ObjectLockMode?: ObjectLockMode; ObjectLockRetainUntilDate?: Date } {
    return this.objectLock ? { ObjectLockMode: this.lockMode, ObjectLockRetainUntilDate: new Date(Date.now() + this.retainDays * 86_400_000) } : {};
  }

  /** Whether an object is stored and verified. */
  async verified(sha256: string): Promise<boolean> {
    const r = await this.pool.query('SELECT 1 FROM bodycam_objects WHERE sha256 = $1', [sha256]);
    return (r.rowCount ?? 0) > 0;
  }

  /** Of these objects, those stored and verified (one query). */
  async verifiedSet(sha256s: string[]): Promise<Set<string>> {
    const r = await this.pool.query<{ sha256: string }>('SELECT sha256 FROM bodycam_objects WHERE sha256 = ANY($1)', [sha256s]);
    return new Set(r.rows.map((x) => x.sha256));
  }

  /**
   * Store an object under its SHA-256 once and verify the stored copy. Returns how it went:
   * 'present' (already verified), 'verified' (was in the object store, now read back and indexed),
   * 'uploaded' (sent, read back, indexed).
   */
  async putObject(station: string, sha256: string, kind: string, source: ObjectSource): Promise<'present' | 'verified' | 'uploaded'> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new BodycamError('E_CENTRAL_OBJECT', `${sha256} is not a SHA-256`);
    if (await this.verified(sha256)) return 'present';
    // One writer per object across every station and process (a PostgreSQL advisory lock on the
    // digest): two stations holding the same bytes never write two versions of one key.
    return this.#withObjectLock(sha256, async (c) => {
      if ((await c.query('SELECT 1 FROM bodycam_objects WHERE sha256 = $1', [sha256])).rowCount) return 'present';
      const size = 'bytes' in source ? source.bytes.length : source.size;
      const head = await this.head(sha256);
      let how: 'verified' | 'uploaded' = 'verified';
      let upload = 'found';
      if (!head || head.size !== size) {
        // Whatever upload of this key is still open was left by a writer that died (we hold its lock).
        await this.#abortOpen(sha256, c);
        upload = size > this.multipartThreshold && 'file' in source ? await this.#multipart(station, sha256, source, c) : await this.#single(sha256, source);
        how = 'uploaded';
      }
      // Read the central copy back whole and hash it: only a copy that is the named bytes counts.
      const h = createHash('sha256');
      let got = 0;
      for await (const chunk of (await this.objectStream(sha256)) as AsyncIterable<Uint8Array>) {
        h.update(chunk);
        got += chunk.length;
      }
      const digest = h.digest('hex');
      if (digest !== sha256 || got !== size) throw new BodycamError('E_CENTRAL_MISMATCH', `the object store holds ${got} bytes hashing to ${digest} under ${sha256} (${size} bytes sent): not taken as forwarded`);
      const lock = this.objectLock ? await this.head(sha256) : undefined;
      await c.query('INSERT INTO bodycam_objects (sha256, size, kind, verified_at, retain_until, upload) VALUES ($1, $2, $3, now(), $4, $5) ON CONFLICT (sha256) DO NOTHING', [sha256, size, kind, lock?.retainUntil ?? null, upload]);
      return how;
    });
  }

  async #single(sha256: string, source: ObjectSource): Promise<string> {
    let bytes: Uint8Array;
    if ('bytes' in source) bytes = source.bytes;
    else {
      bytes = new Uint8Array(source.size);
      const fd = openSync(source.file, 'r');
      try {
        for (let n = 0; n < source.size; ) {
          const got = readSync(fd, bytes, n, source.size - n, n);
          if (got === 0) throw new BodycamError('E_FORWARD_LOCAL', `${source.file} is shorter than its ${source.size} bytes`);
          n += got;
        }
      } finally {
        closeSync(fd);
      }
    }
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (digest !== sha256) throw new BodycamError('E_FORWARD_LOCAL_DIGEST', `the local copy of ${sha256} hashes to ${digest}: the station's copy is damaged; not forwarded`);
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.config.bucket,
        Key: objectKey(this.config, sha256),
        Body: bytes,
        ContentLength: bytes.length,
        ContentMD5: md5(bytes),
        ChecksumSHA256: Buffer.from(sha256, 'hex').toString('base64'),
        Metadata: { sha256 },
        ...this.#lock(),
      }),
    );
    return 'put';
  }

  async #multipart(station: string, sha256: string, source: { file: string; size: number }, db: Queryable): Promise<string> {
    const key = objectKey(this.config, sha256);
    const created = await this.s3.send(new CreateMultipartUploadCommand({ Bucket: this.config.bucket, Key: key, Metadata: { sha256 }, ...this.#lock() }));
    const uploadId = created.UploadId!;
    // Recorded before the first part: a forwarder killed from here on aborts it on its next start.
    await db.query('INSERT INTO bodycam_multipart (upload_id, sha256, station, started) VALUES ($1, $2, $3, now())', [uploadId, sha256, station]);
    const fd = openSync(source.file, 'r');
    try {
      const hash = createHash('sha256');
      const parts: { PartNumber: number; ETag: string }[] = [];
      const buf = Buffer.allocUnsafe(this.partSize);
      for (let offset = 0, n = 1; offset < source.size; n++) {
        const want = Math.min(this.partSize, source.size - offset);
        let got = 0;
        while (got < want) {
          const r = readSync(fd, buf, got, want - got, offset + got);
          if (r === 0) throw new BodycamError('E_FORWARD_LOCAL', `${source.file} is shorter than its ${source.size} bytes`);
          got += r;
        }
        const part = buf.subarray(0, want);
        hash.update(part);
        const r = await this.s3.send(new UploadPartCommand({ Bucket: this.config.bucket, Key: key, UploadId: uploadId, PartNumber: n, Body: part, ContentLength: want, ContentMD5: md5(part) }));
        parts.push({ PartNumber: n, ETag: r.ETag! });
        offset += want;
      }
      const digest = hash.digest('hex');
      if (digest !== sha256) throw new BodycamError('E_FORWARD_LOCAL_DIGEST', `the local copy of ${sha256} hashes to ${digest}: the station's copy is damaged; not forwarded`);
      await this.s3.send(new CompleteMultipartUploadCommand({ Bucket: this.config.bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
      await db.query('DELETE FROM bodycam_multipart WHERE upload_id = $1', [uploadId]);
      return `multipart:${parts.length}`;
    } catch (e) {
      await this.#abort(key, uploadId, db).catch(() => undefined);
      throw e;
    } finally {
      closeSync(fd);
    }
  }

  async #abort(key: string, uploadId: string, db: Queryable = this.pool): Promise<void> {
    try {
      await this.s3.send(new AbortMultipartUploadCommand({ Bucket: this.config.bucket, Key: key, UploadId: uploadId }));
    } catch (e) {
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status !== 404) throw e;
    }
    await db.query('DELETE FROM bodycam_multipart WHERE upload_id = $1', [uploadId]);
  }

  /** Abort every open multipart upload of an object's key (the caller holds the object's lock). */
  async #abortOpen(sha256: string, db: Queryable): Promise<number> {
    const key = objectKey(this.config, sha256);
    const open = await this.s3.send(new ListMultipartUploadsCommand({ Bucket: this.config.bucket, Prefix: key }));
    let n = 0;
    for (const u of open.Uploads ?? []) {
      if (u.Key !== key || !u.UploadId) continue;
      await this.#abort(key, u.UploadId, db);
      n++;
    }
    await db.query('DELETE FROM bodycam_multipart WHERE sha256 = $1', [sha256]);
    return n;
  }

  /** Abort what a station left half-uploaded (a forwarder killed mid-object). Returns how many. */
  async abortLeftovers(station: string): Promise<number> {
    const r = await this.pool.query<{ sha256: string }>('SELECT DISTINCT sha256 FROM bodycam_multipart WHERE station = $1', [station]);
    let n = 0;
    for (const row of r.rows) n += await this.#withObjectLock(row.sha256, (c) => this.#abortOpen(row.sha256, c));
    return n;
  }

  /** Run `fn` holding the object's advisory lock on a client of its own (discarded if it broke). */
  async #withObjectLock<T>(sha256: string, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    const lockKey = BigInt.asIntN(64, BigInt(`0x${sha256.slice(0, 16)}`)).toString();
    let broken: Error | undefined;
    try {
      await c.query('SELECT pg_advisory_lock($1)', [lockKey]);
      try {
        return await fn(c);
      } finally {
        await c.query('SELECT pg_advisory_unlock($1)', [lockKey]).catch((e: Error) => (broken = e));
      }
    } catch (e) {
      broken ??= e instanceof Error && !(e instanceof BodycamError) ? e : undefined;
      throw e;
    } finally {
      c.release(broken);
    }
  }

  /** What the central store holds of a station: its files (path -> sha256) and its log's size. */
  async stationState(station: string): Promise<{ files: Map<string, string>; logSize: number; checkpoint: { size: number; root: Uint8Array } | undefined }> {
    const files = new Map<string, string>();
    for (const r of (await this.pool.query<{ path: string; sha256: string }>('SELECT path, sha256 FROM bodycam_files WHERE station = $1', [station])).rows) files.set(r.path, r.sha256);
    const size = Number((await this.pool.query<{ n: string }>('SELECT count(*) AS n FROM bodycam_custody WHERE station = $1', [station])).rows[0].n);
    const cp = (await this.pool.query<{ size: string; root: Buffer }>('SELECT size, root FROM bodycam_checkpoints WHERE station = $1 ORDER BY size DESC LIMIT 1', [station])).rows[0];
    return { files, logSize: size, checkpoint: cp ? { size: Number(cp.size), root: new Uint8Array(cp.root) } : undefined };
  }

  /** Name a station (idempotent); a second dock certificate under the same id is refused. */
  async registerStation(station: string, certificateSha256: string | undefined): Promise<void> {
    await this.pool.query('INSERT INTO bodycam_stations (station, certificate_sha256, first_forward, last_forward) VALUES ($1, $2, now(), now()) ON CONFLICT (station) DO UPDATE SET last_forward = now()', [station, certificateSha256 ?? null]);
    const held = (await this.pool.query<{ certificate_sha256: string | null }>('SELECT certificate_sha256 FROM bodycam_stations WHERE station = $1', [station])).rows[0].certificate_sha256;
    if (held === null && certificateSha256) await this.pool.query('UPDATE bodycam_stations SET certificate_sha256 = $2 WHERE station = $1 AND certificate_sha256 IS NULL', [station, certificateSha256]);
    else if (certificateSha256 && held !== certificateSha256) throw new BodycamError('E_CENTRAL_CONFLICT', `station ${station} is already in the central store with another dock certificate (${held!.slice(0, 16)}…): two stations under one id`);
  }

  /** Record files of a station's tree (their objects verified first); a path that would change is refused. */
  async recordFiles(station: string, files: { path: string; sha256: string; kind: string }[]): Promise<void> {
    if (!files.length) return;
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      for (const f of files) {
        await c.query('INSERT INTO bodycam_files (station, path, sha256, kind) VALUES ($1, $2, $3, $4) ON CONFLICT (station, path) DO NOTHING', [station, f.path, f.sha256, f.kind]);
      }
      const held = await c.query<{ path: string; sha256: string }>('SELECT path, sha256 FROM bodycam_files WHERE station = $1 AND path = ANY($2)', [station, files.map((f) => f.path)]);
      const want = new Map(files.map((f) => [f.path, f.sha256]));
      const changed = held.rows.filter((r) => want.get(r.path) !== r.sha256);
      if (changed.length) throw new BodycamError('E_CENTRAL_CONFLICT', `station ${station}'s ${changed[0].path} is already in the central store as another object (${changed[0].sha256.slice(0, 16)}…): a station's stored files never change`);
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }

  /** The cross-station index of segments (device, seq, station) with their verified objects. */
  async recordSegments(station: string, rows: { device: string; seq: number; manifest: string; media: string; bytes: number }[]): Promise<void> {
    if (!rows.length) return;
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      for (const s of rows) {
        await c.query('INSERT INTO bodycam_segments (device, seq, station, manifest_sha256, media_sha256, bytes) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING', [s.device, s.seq, station, s.manifest, s.media, s.bytes]);
      }
      await c.query('COMMIT');
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }

  /**
   * Extend a station's custody log to a signed checkpoint: the leaves from the central log's size
   * up to the checkpoint's, each with its inclusion proof, and a consistency proof from the
   * central store's newest checkpoint. All in one transaction; a retry of the same adds nothing.
   */
  async appendLog(
    station: string,
    o: { checkpoint: Uint8Array; checkpointSha256: string; from: number; leaves: Uint8Array[]; proofs: Uint8Array[][]; consistency: Uint8Array[] },
  ): Promise<number> {
    const cp = peekLogCheckpoint(o.checkpoint);
    if (cp.dock !== station) throw new BodycamError('E_CENTRAL_PROOF', `a checkpoint of ${cp.dock}'s log offered as station ${station}'s`);
    if (o.from + o.leaves.length !== cp.size) throw new BodycamError('E_CENTRAL_PROOF', `${o.leaves.length} leaves from ${o.from} do not reach the checkpoint's ${cp.size}`);
    o.leaves.forEach((leaf, i) => {
      if (!verifyInclusion(o.from + i, cp.size, leafHash(leaf), o.proofs[i], cp.root)) throw new BodycamError('E_CENTRAL_PROOF', `custody entry ${o.from + i} of ${station} is not in its checkpoint of ${cp.size} (the inclusion proof fails)`);
    });
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('SELECT 1 FROM bodycam_stations WHERE station = $1 FOR UPDATE', [station]);
      const size = Number((await c.query<{ n: string }>('SELECT count(*) AS n FROM bodycam_custody WHERE station = $1', [station])).rows[0].n);
      if (size >= cp.size) {
        await c.query('ROLLBACK');
        return 0;
      }
      if (size !== o.from) throw new BodycamError('E_CENTRAL_RETRY', `the central log of ${station} holds ${size} entries, the forwarder offered from ${o.from}`);
      const prev = (await c.query<{ size: string; root: Buffer }>('SELECT size, root FROM bodycam_checkpoints WHERE station = $1 ORDER BY size DESC LIMIT 1', [station])).rows[0];
      if (size > 0 && (!prev || Number(prev.size) !== size || !verifyConsistency(size, cp.size, new Uint8Array(prev.root), cp.root, o.consistency))) {
        throw new BodycamError('E_CENTRAL_PROOF', `station ${station}'s checkpoint of ${cp.size} does not extend the central store's of ${size} (the consistency proof fails): its log was rewritten`);
      }
      for (let i = 0; i < o.leaves.length; i++) {
        await c.query('INSERT INTO bodycam_custody (station, idx, leaf, proof_size, proof) VALUES ($1, $2, $3, $4, $5)', [station, o.from + i, Buffer.from(o.leaves[i]), cp.size, Buffer.concat(o.proofs[i])]);
      }
      await c.query('INSERT INTO bodycam_checkpoints (station, size, root, sha256) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [station, cp.size, Buffer.from(cp.root), o.checkpointSha256]);
      await c.query('COMMIT');
      return o.leaves.length;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }
}
