// Forwarding a station's store to the central store (store-and-forward). The station's own store
// is the durable copy: everything here only reads it (except pruning, which is opt-in and acts
// only on what the central store holds verified and under its custody log). A pass:
//
//  1. reads the newest signed custody checkpoint, then the log's leaves, then the tree's files —
//     in that order, so every object a checkpointed leaf names is already in the tree;
//  2. stores each file's object the central store lacks (verified by reading it back) and then
//     records the file; nothing is recorded that is not verified;
//  3. only when every file went, extends the station's central log to the checkpoint, each new
//     leaf with its inclusion proof and the checkpoint with its consistency proof;
//  4. records the segments in the cross-station index, and prunes if asked.
//
// A pass is idempotent: killed at any point, the next pass sends only what the central store
// still lacks (and aborts a multipart upload the killed one left). Failures are retried in the
// background with exponential backoff (Forwarder.start()).

import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, unlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { BodycamError, errorCode, errorMessage } from '../../firmware/errors.js';
import { consistencyProof, inclusionProof, leafHash, rootsAt } from '../../evidence/merkle.js';
import { decodeCustodyLeaf, peekLogCheckpoint } from '../../evidence/custody-log.js';
import { centralFault } from '../../evidence/central/central.js';
import type { CentralStore } from './central-store.js';
import type { EvidenceStore } from '../store.js';

/** The folders of a station's store that are evidence (objects/ holds their bytes; partial/ is not evidence yet). */
const TREE = ['trust', 'docks', 'devices', 'log'];

export interface ForwardReport {
  station: string;
  /** Files in the station's tree, and of them those the central store lacked. */
  files: number;
  sent: number;
  /** Objects uploaded (the rest were in the object store already, or verified before). */
  uploaded: number;
  bytesUploaded: number;
  /** Custody leaves added to the central log, and its size after. */
  leaves: number;
  logSize: number;
  segments: number;
  /** Multipart uploads a killed forwarder had left, aborted. */
  aborted: number;
  /** Local media removed because the central store holds them verified (prune). */
  pruned: number;
  ms: number;
}

export interface ForwardEvent {
  event: 'forward-pass' | 'forward-retry' | 'forward-file';
  [k: string]: unknown;
}

export interface ForwarderOptions {
  storeDir: string;
  central: CentralStore;
  /** The station's id in the central store (default: the one dock certificate in the store). */
  station?: string;
  /** Objects in flight at once (default 4). */
  parallel?: number;
  /** Remove local media the central store holds verified (needs `store`, whose custody log records each). */
  prune?: boolean;
  store?: EvidenceStore;
  onEvent?: (e: ForwardEvent) => void;
  /** Backoff bounds (ms) for start(). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

interface TreeFile {
  path: string;
  abs: string;
  size: number;
  sha256: string;
  kind: string;
}

function kindOf(path: string): string {
  if (path.endsWith('.media')) return 'media';
  if (path.endsWith('.manifest.cose')) return 'manifest';
  if (path.startsWith('log/checkpoints/')) return 'log-checkpoint';
  const parts = path.split('/');
  if (parts[0] === 'trust') return 'trust';
  if (parts[0] === 'docks') return 'dock-certificate';
  if (parts.length === 3) return 'certificate';
  return { checkpoints: 'checkpoint', receipts: 'receipt', ledger: 'ledger', clock: 'drift' }[parts[2]] ?? 'file';
}

export class Forwarder {
  readonly #o: ForwarderOptions;
  #station: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;
  #backoff = 0;
  /** The last pass's report or failure (for status). */
  last: { ok: true; report: ForwardReport } | { ok: false; code: string; message: string } | undefined;

  constructor(o: ForwarderOptions) {
    this.#o = o;
    this.#station = o.station;
  }

  get station(): string {
    return this.#station ?? this.#findStation();
  }

  #findStation(): string {
    let docks: string[] = [];
    try {
      docks = readdirSync(join(this.#o.storeDir, 'docks'));
    } catch {
      // none
    }
    if (docks.length !== 1) throw new BodycamError('E_USAGE', `${this.#o.storeDir} holds ${docks.length} dock certificates (docks/): name the station with --station ID`);
    this.#station = docks[0];
    return docks[0];
  }

  /** Read the station's custody log: the newest checkpoint its leaves reproduce, and the leaves. */
  #readLog(): { checkpoint?: { bytes: Uint8Array; sha256: string; size: number; root: Uint8Array; path: string }; leaves: Uint8Array[] } {
    const cpDir = join(this.#o.storeDir, 'log', 'checkpoints');
    let names: string[] = [];
    try {
      names = readdirSync(cpDir).filter((n) => /^\d{10}\.cose$/.test(n)).sort();
    } catch {
      // no checkpoint yet
    }
    const db = new Database(join(this.#o.storeDir, 'index.sqlite'), { readonly: true, fileMustExist: true });
    let leaves: Uint8Array[];
    try {
      leaves = (db.prepare('SELECT idx, leaf FROM log ORDER BY idx').all() as { idx: number; leaf: Buffer }[]).map((r) => new Uint8Array(r.leaf));
    } finally {
      db.close();
    }
    for (const name of names.reverse()) {
      const bytes = new Uint8Array(readFileSync(join(cpDir, name)));
      const cp = peekLogCheckpoint(bytes);
      if (cp.size > leaves.length) continue;
      const root = rootsAt(leaves.map(leafHash), [cp.size]).get(cp.size)!;
      if (Buffer.compare(Buffer.from(root), Buffer.from(cp.root)) !== 0) throw new BodycamError('E_FORWARD_LOG', `the station's custody log does not reproduce its own checkpoint ${name}: not forwarded (verify the station's store)`);
      return { checkpoint: { bytes, sha256: createHash('sha256').update(bytes).digest('hex'), size: cp.size, root: cp.root, path: `log/checkpoints/${name}` }, leaves };
    }
    return { leaves };
  }

  /** The station's tree: every regular file under trust/, docks/, devices/, log/ with its SHA-256. */
  #readTree(): TreeFile[] {
    const dir = this.#o.storeDir;
    // Device-tree files are hard links into objects/sha256/: their inode names their digest.
    const byInode = new Map<number, string>();
    const objects = join(dir, 'objects', 'sha256');
    let fans: string[] = [];
    try {
      fans = readdirSync(objects);
    } catch {
      // no objects
    }
    for (const fan of fans) {
      for (const name of readdirSync(join(objects, fan))) {
        const st = lstatSync(join(objects, fan, name));
        if (st.isFile() && /^[0-9a-f]{64}$/.test(name)) byInode.set(st.ino, name);
      }
    }
    const out: TreeFile[] = [];
    const walk = (rel: string) => {
      let names: string[];
      try {
        names = readdirSync(join(dir, rel)).sort();
      } catch {
        return;
      }
      for (const name of names) {
        const r = `${rel}/${name}`;
        const abs = join(dir, r);
        const st: Stats = lstatSync(abs);
        if (st.isDirectory()) walk(r);
        else if (st.isFile()) {
          if (name.includes('.tmp-')) continue; // a durable write in progress
          const sha256 = byInode.get(st.ino) ?? createHash('sha256').update(readFileSync(abs)).digest('hex');
          out.push({ path: r, abs, size: st.size, sha256, kind: kindOf(r) });
        }
        // symlinks and special files are never forwarded (the store follows no links)
      }
    };
    for (const top of TREE) walk(top);
    return out;
  }

  /** One forwarding pass (see the module header). */
  async pass(): Promise<ForwardReport> {
    const t0 = Date.now();
    const central = this.#o.central;
    const station = this.station;
    try {
      await central.prepare();
    } catch (e) {
      throw centralFault(e, 'preparing the central store');
    }
    const log = this.#readLog();
    const tree = this.#readTree();
    const report: ForwardReport = { station, files: tree.length, sent: 0, uploaded: 0, bytesUploaded: 0, leaves: 0, logSize: 0, segments: 0, aborted: 0, pruned: 0, ms: 0 };
    try {
      report.aborted = await central.abortLeftovers(station);
      const cert = tree.find((f) => f.path === `docks/${station}/certificate.cose`);
      await central.registerStation(station, cert?.sha256);
      const state = await central.stationState(station);
      const todo = tree.filter((f) => state.files.get(f.path) !== f.sha256);
      report.sent = todo.length;
      // Segments first (manifest, media), the rest after, largest first within each: the bulk moves early.
      const queue = [...todo];
      const done: TreeFile[] = [];
      let failure: unknown;
      const worker = async () => {
        for (let f = queue.shift(); f && failure === undefined; f = queue.shift()) {
          try {
            const how = await central.putObject(station, f.sha256, f.kind, f.size <= central.multipartThreshold ? { bytes: new Uint8Array(readFileSync(f.abs)) } : { file: f.abs, size: f.size });
            if (how === 'uploaded') {
              report.uploaded++;
              report.bytesUploaded += f.size;
            }
            done.push(f);
            this.#o.onEvent?.({ event: 'forward-file', station, path: f.path, bytes: f.size, how });
          } catch (e) {
            failure ??= e;
          }
        }
      };
      await Promise.all(Array.from({ length: this.#o.parallel ?? 4 }, worker));
      // What was verified is recorded even when a later object failed: the retry skips it.
      await central.recordFiles(station, done.map((f) => ({ path: f.path, sha256: f.sha256, kind: f.kind })));
      if (failure !== undefined) throw failure;

      if (log.checkpoint && log.checkpoint.size > state.logSize) {
        const hashes = log.leaves.slice(0, log.checkpoint.size).map(leafHash);
        const from = state.logSize;
        const leaves = log.leaves.slice(from, log.checkpoint.size);
        const proofs = leaves.map((_, i) => inclusionProof(hashes, from + i));
        const consistency = from > 0 ? consistencyProof(hashes, from) : [];
        report.leaves = await central.appendLog(station, { checkpoint: log.checkpoint.bytes, checkpointSha256: log.checkpoint.sha256, from, leaves, proofs, consistency });
      }
      report.logSize = Math.max(state.logSize, log.checkpoint?.size ?? 0);
      report.segments = await this.#recordSegments(station);
      if (this.#o.prune) report.pruned = await this.#prune(station, log.leaves.slice(0, report.logSize), tree);
    } catch (e) {
      throw e instanceof BodycamError ? e : centralFault(e, `forwarding station ${station}`);
    }
    report.ms = Date.now() - t0;
    return report;
  }

  async #recordSegments(station: string): Promise<number> {
    const db = new Database(join(this.#o.storeDir, 'index.sqlite'), { readonly: true, fileMustExist: true });
    let rows: { device: string; seq: number; manifest: string; media: string; bytes: number }[];
    try {
      rows = db.prepare("SELECT device, seq, manifest_sha256 AS manifest, media_sha256 AS media, length AS bytes FROM segments WHERE state = 'stored' AND media_sha256 IS NOT NULL ORDER BY device, seq").all() as typeof rows;
    } finally {
      db.close();
    }
    const held = await this.#o.central.verifiedSet(rows.flatMap((r) => [r.manifest, r.media]));
    const verified = rows.filter((r) => held.has(r.manifest) && held.has(r.media));
    await this.#o.central.recordSegments(station, verified);
    return verified.length;
  }

  /**
   * Remove local media that the central store holds verified and whose `segment-stored` custody
   * entry is in the central log. Each removal is a custody entry of the station's own log.
   */
  async #prune(station: string, forwardedLeaves: Uint8Array[], tree: TreeFile[]): Promise<number> {
    const store = this.#o.store;
    if (!store) throw new BodycamError('E_USAGE', 'pruning needs the station\'s open store (its custody log records each removal)');
    const inLog = new Set<string>();
    for (const leaf of forwardedLeaves) {
      try {
        const e = decodeCustodyLeaf(leaf);
        if (e.event !== 'segment-stored' || !e.detail) continue;
        const d = JSON.parse(e.detail) as { seq?: number; media?: string };
        inLog.add(`${e.device}/${d.seq}/${d.media}`);
      } catch {
        // not a segment entry
      }
    }
    const state = await this.#o.central.stationState(station);
    const held = await this.#o.central.verifiedSet([...state.files.values()]);
    let pruned = 0;
    for (const f of tree) {
      const m = /^devices\/([^/]+)\/segments\/(\d{10})\.media$/.exec(f.path);
      if (!m || state.files.get(f.path) !== f.sha256 || !held.has(f.sha256) || !inLog.has(`${m[1]}/${Number(m[2])}/${f.sha256}`)) continue;
      unlinkSync(f.abs);
      const object = store.objectPath(f.sha256);
      try {
        if (lstatSync(object).nlink === 1) unlinkSync(object);
      } catch {
        // already gone
      }
      store.log('segment-pruned', { dock: station, device: m[1], detail: { seq: Number(m[2]), media: f.sha256, central: this.#o.central.url } });
      pruned++;
    }
    return pruned;
  }

  /** Forward in the background: a pass now, again on each kick(), retried with backoff on failure. */
  start(): void {
    this.#stopped = false;
    this.kick();
  }

  /** Ask for a pass soon (after a docking). */
  kick(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    if (this.#timer) return;
    this.#timer = setTimeout(() => this.#run(), 0);
  }

  #run(): void {
    this.#timer = undefined;
    this.#again = false;
    this.#running = this.pass().then(
      (report) => {
        this.last = { ok: true, report };
        this.#backoff = 0;
        this.#o.onEvent?.({ event: 'forward-pass', ...report });
      },
      (e: unknown) => {
        this.last = { ok: false, code: errorCode(e), message: errorMessage(e) };
        const min = this.#o.minBackoffMs ?? 500;
        this.#backoff = Math.min(this.#o.maxBackoffMs ?? 60_000, this.#backoff ? this.#backoff * 2 : min);
        this.#o.onEvent?.({ event: 'forward-retry', code: errorCode(e), message: errorMessage(e), inMs: this.#backoff });
        this.#again = false;
        if (!this.#stopped) this.#timer = setTimeout(() => this.#run(), this.#backoff);
      },
    );
    void this.#running.finally(() => {
      this.#running = undefined;
      if (this.#again && !this.#stopped && !this.#timer) this.#timer = setTimeout(() => this.#run(), 0);
    });
  }

  /** Wait until a pass has succeeded with nothing left to send (or `timeoutMs` passes). */
  async settled(timeoutMs = 60_000): Promise<ForwardReport> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      await this.#running;
      const l = this.last;
      if (l?.ok && !this.#again && !this.#timer && !this.#running) return l.report;
      if (Date.now() > end) throw new BodycamError('E_FORWARD_TIMEOUT', `forwarding did not settle in ${timeoutMs} ms (last: ${l ? (l.ok ? 'ok' : `${l.code}: ${l.message}`) : 'none'})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stop: no new pass; the one in progress finishes (or fails) first. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }
}
