// evidence/central/: a force's central evidence store, read side — objects in an S3 object store
// (Ceph's RADOS gateway in tests), the index and the stations' custody logs in PostgreSQL. Dock
// stations forward their stores into it (dock-station/central/); `bodycam verify` and `export`
// read a station's part of it back (view.ts) exactly as they read the station's own directory.
//
// It may import firmware/ and evidence/; it never imports dock-station/ or cli/. Nothing here
// writes evidence; the schema is made by whoever opens the store first (it only adds tables).
//
// Layout (docs/central-store.md):
//   s3://BUCKET/PREFIX/objects/sha256/<hex>     every object once, content-addressed, write-once
//   PostgreSQL: objects, stations, files (a station's tree: path -> sha256), segments (the index
//   across stations), custody (each station's log leaves with their inclusion proofs), checkpoints

import { GetObjectCommand, HeadObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import pg from 'pg';
import { BodycamError } from '../../firmware/errors.js';

/** Where a central store is: the bucket (and key prefix) and the database. */
export interface CentralConfig {
  bucket: string;
  prefix: string;
  /** The S3 endpoint (http://host:port); the SDK's default when absent. */
  endpoint?: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** postgres://user@host:port/db (a password comes from PGPASSWORD, never the command line). */
  database: string;
  /** Per-request timeouts (ms). */
  requestTimeoutMs?: number;
  connectTimeoutMs?: number;
}

/** The words on the command line that name a central store; credentials only from the environment. */
export function centralConfig(o: { store: string; db?: string; endpoint?: string; env?: NodeJS.ProcessEnv }): CentralConfig {
  const env = o.env ?? process.env;
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(o.store);
  if (!m) throw new BodycamError('E_USAGE', `${o.store} is not s3://BUCKET[/PREFIX] (a bucket name is 3 to 63 lower-case letters, digits, "." or "-")`);
  const prefix = (m[2] ?? '').replace(/\/+$/, '');
  if (prefix.split('/').some((p) => p === '.' || p === '..')) throw new BodycamError('E_USAGE', `the prefix of ${o.store} holds "." or ".."`);
  const database = o.db ?? env.BODYCAM_CENTRAL_DB;
  if (!database) throw new BodycamError('E_USAGE', `a central store needs its database too: --db postgres://USER@HOST:PORT/DB (or BODYCAM_CENTRAL_DB)`);
  if (/^postgres(ql)?:\/\/[^/@]*:[^/@]*@/.test(database)) throw new BodycamError('E_SECRET_ON_COMMAND_LINE', 'the database URL holds a password: give it in PGPASSWORD (or ~/.pgpass), not on the command line');
  if (!/^postgres(ql)?:\/\//.test(database)) throw new BodycamError('E_USAGE', `--db takes a postgres:// URL, not ${database}`);
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) throw new BodycamError('E_CENTRAL_CREDENTIALS', 'the object store\'s keys come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment; they are not set');
  const endpoint = o.endpoint ?? env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  if (endpoint !== undefined && !/^https?:\/\/[^/]+\/?$/.test(endpoint)) throw new BodycamError('E_USAGE', `--s3-endpoint takes http(s)://HOST:PORT, not ${endpoint}`);
  return { bucket: m[1], prefix, endpoint, region: env.AWS_REGION ?? 'us-east-1', accessKeyId, secretAccessKey, database };
}

export function centralUrl(c: CentralConfig): string {
  return `s3://${c.bucket}${c.prefix ? `/${c.prefix}` : ''}`;
}

export function s3Client(c: CentralConfig): S3Client {
  // The SDK warns on Node 20 about releases after January 2027; this project pins Node 20 and its SDK version.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const config: S3ClientConfig = {
    region: c.region,
    forcePathStyle: true,
    credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey },
    // Integrity is ours to choose per request (Content-MD5, which RGW checks; SHA-256 where the server keeps it).
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // The forwarder retries with its own backoff; one SDK attempt each keeps a dead server from hiding.
    maxAttempts: 1,
    requestHandler: { requestTimeout: c.requestTimeoutMs ?? 30_000, connectionTimeout: c.connectTimeoutMs ?? 5_000, throwOnRequestTimeout: true },
  };
  if (c.endpoint) config.endpoint = c.endpoint;
  return new S3Client(config);
}

export function pgPool(c: CentralConfig): pg.Pool {
  const pool = new pg.Pool({ connectionString: c.database, max: 16, connectionTimeoutMillis: c.connectTimeoutMs ?? 5_000, idleTimeoutMillis: 10_000, query_timeout: c.requestTimeoutMs ?? 30_000 });
  // A server restart ends idle clients with an error event; the next query opens a new one.
  pool.on('error', () => undefined);
  return pool;
}

/** The schema; every statement is idempotent, so any party may run it first. */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS bodycam_central (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS bodycam_objects (
  sha256 text PRIMARY KEY, size bigint NOT NULL, kind text NOT NULL,
  verified_at timestamptz NOT NULL, retain_until timestamptz, upload text NOT NULL);
CREATE TABLE IF NOT EXISTS bodycam_stations (
  station text PRIMARY KEY, certificate_sha256 text, first_forward timestamptz NOT NULL, last_forward timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS bodycam_files (
  station text NOT NULL REFERENCES bodycam_stations, path text NOT NULL, sha256 text NOT NULL REFERENCES bodycam_objects,
  kind text NOT NULL, PRIMARY KEY (station, path));
CREATE TABLE IF NOT EXISTS bodycam_segments (
  device text NOT NULL, seq bigint NOT NULL, station text NOT NULL REFERENCES bodycam_stations,
  manifest_sha256 text NOT NULL REFERENCES bodycam_objects, media_sha256 text NOT NULL REFERENCES bodycam_objects, bytes bigint NOT NULL,
  PRIMARY KEY (device, seq, station));
CREATE TABLE IF NOT EXISTS bodycam_custody (
  station text NOT NULL REFERENCES bodycam_stations, idx bigint NOT NULL, leaf bytea NOT NULL,
  proof_size bigint NOT NULL, proof bytea NOT NULL, PRIMARY KEY (station, idx));
CREATE TABLE IF NOT EXISTS bodycam_checkpoints (
  station text NOT NULL REFERENCES bodycam_stations, size bigint NOT NULL, root bytea NOT NULL, sha256 text NOT NULL REFERENCES bodycam_objects,
  PRIMARY KEY (station, size));
CREATE TABLE IF NOT EXISTS bodycam_multipart (
  upload_id text PRIMARY KEY, sha256 text NOT NULL, station text NOT NULL, started timestamptz NOT NULL);
`;

/**
 * Run the schema, serialised across processes by an advisory lock. A database indexes one
 * bucket (and prefix): the first to open it names it, and any other is refused (E_CENTRAL_CONFLICT).
 */
export async function ensureSchema(pool: pg.Pool, url: string): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('SELECT pg_advisory_lock(4242020)');
    try {
      await c.query(SCHEMA);
      await c.query("INSERT INTO bodycam_central (key, value) VALUES ('objects', $1) ON CONFLICT DO NOTHING", [url]);
      const held = (await c.query<{ value: string }>("SELECT value FROM bodycam_central WHERE key = 'objects'")).rows[0].value;
      if (held !== url) throw new BodycamError('E_CENTRAL_CONFLICT', `this database indexes the objects of ${held}, not ${url}: give each central store its own database`);
    } finally {
      await c.query('SELECT pg_advisory_unlock(4242020)');
    }
  } finally {
    c.release();
  }
}

export function objectKey(c: CentralConfig, sha256: string): string {
  return `${c.prefix ? `${c.prefix}/` : ''}objects/sha256/${sha256}`;
}

/** A failure of the central store's servers as a stable code (E_CENTRAL_UNAVAILABLE), or the error itself. */
export function centralFault(e: unknown, what: string): BodycamError {
  if (e instanceof BodycamError) return e;
  const err = e as { name?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = err.$metadata?.httpStatusCode;
  const detail = [err.name, err.code, status ? `HTTP ${status}` : undefined, err.message].filter(Boolean).join(': ');
  return new BodycamError('E_CENTRAL_UNAVAILABLE', `${what} failed (${detail.slice(0, 300)})`);
}

/** Read-only access to a central store (what verify and export need). */
export class CentralReader {
  readonly s3: S3Client;
  readonly pool: pg.Pool;
  constructor(readonly config: CentralConfig) {
    this.s3 = s3Client(config);
    this.pool = pgPool(config);
  }

  get url(): string {
    return centralUrl(this.config);
  }

  async stations(): Promise<string[]> {
    await ensureSchema(this.pool, this.url);
    return (await this.pool.query<{ station: string }>('SELECT station FROM bodycam_stations ORDER BY station')).rows.map((r) => r.station);
  }

  /** A station's tree as the central store holds it: path -> object. */
  async files(station: string): Promise<{ path: string; sha256: string; size: number; kind: string }[]> {
    const r = await this.pool.query<{ path: string; sha256: string; size: string; kind: string }>(
      'SELECT f.path, f.sha256, o.size, f.kind FROM bodycam_files f JOIN bodycam_objects o USING (sha256) WHERE f.station = $1 ORDER BY f.path',
      [station],
    );
    return r.rows.map((x) => ({ path: x.path, sha256: x.sha256, size: Number(x.size), kind: x.kind }));
  }

  /** A station's custody log leaves, in order. */
  async leaves(station: string): Promise<Uint8Array[]> {
    const r = await this.pool.query<{ idx: string; leaf: Buffer }>('SELECT idx, leaf FROM bodycam_custody WHERE station = $1 ORDER BY idx', [station]);
    return r.rows.map((x, i) => {
      if (Number(x.idx) !== i) throw new BodycamError('E_CENTRAL_LOG', `station ${station}'s custody log in the central store skips from ${i - 1} to ${x.idx}`);
      return new Uint8Array(x.leaf);
    });
  }

  /** An object's bytes, streamed. */
  async objectStream(sha256: string): Promise<NodeJS.ReadableStream> {
    const r = await this.s3.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: objectKey(this.config, sha256) }));
    if (!r.Body) throw new BodycamError('E_CENTRAL_MISSING', `object ${sha256} has no body`);
    return r.Body as NodeJS.ReadableStream;
  }

  async head(sha256: string): Promise<{ size: number; lockMode?: string; retainUntil?: Date } | undefined> {
    try {
      const h = await this.s3.send(new HeadObjectCommand({ Bucket: this.config.bucket, Key: objectKey(this.config, sha256) }));
      return { size: h.ContentLength ?? -1, lockMode: h.ObjectLockMode, retainUntil: h.ObjectLockRetainUntilDate };
    } catch (e) {
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404) return undefined;
      throw e;
    }
  }

  async close(): Promise<void> {
    this.s3.destroy();
    await this.pool.end();
  }
}
