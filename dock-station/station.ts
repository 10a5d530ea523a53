// The dock station: a TCP service for many cameras at once (one connection each), over one
// evidence store. Writes the agency root key into the store's trust/ folder so the store is a
// self-contained evidence directory for `bodycam verify`.

import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { existsSync, statfsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { issueRevocationList, verifyCertificate, verifyRevocationList } from '../firmware/signing/certificate.js';
import { BodycamError, errorMessage } from '../firmware/errors.js';
import { sameBytes } from '../firmware/signing/signer.js';
import { nodeChecksum, nodeDigest } from '../host/ports.js';
import { checkOwnIdentity } from './identity.js';
import type { Ed25519 } from '../firmware/signing/ed25519.js';
import { DockSession, Slots, type DockIdentity, type SessionProgress, type SessionResult } from './session.js';
import { EvidenceStore, FILE_MODE, stationFault, writeDurable } from './store.js';
import { frameMessage } from '../firmware/dock/frame.js';
import { encodeMessage } from '../firmware/dock/messages.js';
import type { FirmwareShelf } from './firmware-shelf.js';
import { rebuildIndex, type RebuildReport } from './rebuild.js';

export interface StationOptions {
  identity: DockIdentity;
  storeDir: string;
  ed25519: Ed25519;
  chunkSize?: number;
  batch?: number;
  /** Milliseconds to wait for each camera message (session.ts DEFAULT_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Milliseconds from connection to an authenticated camera (session.ts DEFAULT_HANDSHAKE_MS). */
  handshakeMs?: number;
  /**
   * Start on a store whose index is missing or damaged by rebuilding it from the signed files
   * (`bodycam dock --rebuild-index`); without it such a store is refused (E_INDEX_MISSING, E_INDEX_DAMAGED).
   */
  rebuildIndex?: boolean;
  /** Free bytes the store must have to take evidence (DEFAULT_MIN_FREE); below it the station starts, or goes, read-only. */
  minFreeBytes?: number;
  /** Inventory pages one session asks for (session.ts MAX_INVENTORY_PAGES). */
  maxInventoryPages?: number;
  /** Segments uploaded at once across all sessions (DEFAULT_UPLOAD_SLOTS). */
  uploadSlots?: number;
  /** Sessions at once; more connections are refused with E_STATION_BUSY (DEFAULT_MAX_SESSIONS). */
  maxSessions?: number;
  /** How long close() lets sessions finish (DEFAULT_SHUTDOWN_MS). */
  shutdownMs?: number;
  /** The store failed (E_STATION_FULL): said once; new connections are refused with it. */
  onFault?: (e: BodycamError) => void;
  now?: () => number;
  /** Signed revocation list bytes to keep beside the evidence. */
  revocationsCose?: Uint8Array;
  configFor?: (device: string) => Uint8Array | undefined;
  firmware?: FirmwareShelf;
  onProgress?: (p: SessionProgress) => void;
  onResult?: (r: SessionResult) => void;
}

/** Sessions at once (each up to about 3.5 MiB of buffers: docs/protocol.md, "Bounds"). */
export const DEFAULT_MAX_SESSIONS = 128;
/** Segments uploaded at once across all sessions; the other sessions wait their turn (no timeout runs while they wait). */
export const DEFAULT_UPLOAD_SLOTS = 8;
/** How long close() lets sessions in progress finish. */
export const DEFAULT_SHUTDOWN_MS = 10_000;
/** Free space below which a station takes no evidence (it starts, or goes, read-only). */
export const DEFAULT_MIN_FREE = 64 * 1024 * 1024;
/** Session results kept in memory (for tests and the console). */
const MAX_RESULTS = 10_000;

/**
 * Security events about unauthenticated peers, by address: at most PER_PEER a minute from one
 * address and GLOBAL a minute in all; the rest are counted and reported with the next event.
 */
class SecurityLog {
  static readonly PER_PEER = 5;
  static readonly GLOBAL = 60;
  #window = 0;
  #total = 0;
  #byPeer = new Map<string, number>();
  #suppressed = 0;
  constructor(readonly write: (detail: { peer: string; code: string; suppressed: number }) => void) {}
  event(peerWithPort: string, code: string): void {
    const minute = Math.floor(Date.now() / 60_000);
    if (minute !== this.#window) {
      this.#window = minute;
      this.#total = 0;
      this.#byPeer.clear();
    }
    // The address without its port: one host reconnecting is one peer.
    const peer = peerWithPort.replace(/:\d+$/, '');
    const n = this.#byPeer.get(peer) ?? 0;
    if (n >= SecurityLog.PER_PEER || this.#total >= SecurityLog.GLOBAL) {
      this.#suppressed++;
      return;
    }
    this.#byPeer.set(peer, n + 1);
    this.#total++;
    const suppressed = this.#suppressed;
    this.#suppressed = 0;
    this.write({ peer, code, suppressed });
  }
  /** Say how many were left out, at shutdown. */
  flush(): void {
    if (this.#suppressed) this.write({ peer: '-', code: 'suppressed', suppressed: this.#suppressed });
    this.#suppressed = 0;
  }
}

export class DockStation {
  readonly store: EvidenceStore;
  #o: StationOptions;
  #server: Server | undefined;
  #sockets = new Set<Socket>();
  #sessions = new Set<Promise<SessionResult>>();
  readonly results: SessionResult[] = [];
  /** What --rebuild-index restored, when it ran. */
  rebuilt: RebuildReport | undefined;
  /** Connections refused with E_STATION_BUSY or E_STATION_FULL. */
  refused = 0;
  #closing = false;
  #fault: BodycamError | undefined;
  #security: SecurityLog;
  #slots: Slots;

  constructor(o: StationOptions) {
    this.#o = o;
    this.#slots = new Slots(o.uploadSlots ?? DEFAULT_UPLOAD_SLOTS);
    // A station never serves under an expired or revoked identity (E_CERT_EXPIRED, E_CERT_REVOKED).
    const own = verifyCertificate(o.identity.certificate, o.identity.rootKey, { digest: nodeDigest, ed25519: o.ed25519, kind: 'dock', at: (o.now ?? Date.now)() });
    if (!sameBytes(own.publicKey, o.identity.signer.publicKey)) throw new BodycamError('E_DOCK_IDENTITY', 'the dock certificate is for another key than the dock signs with');
    if (!o.identity.revocations && o.revocationsCose) o.identity.revocations = verifyRevocationList(o.revocationsCose, o.identity.rootKey, { ed25519: o.ed25519 });
    checkOwnIdentity(own, o.identity.revocations);
    this.store = new EvidenceStore(o.storeDir, { rebuildIndex: o.rebuildIndex });
    if (this.store.needsRebuild) this.rebuilt = rebuildIndex(this.store, { dock: o.identity.id, rootKey: o.identity.rootKey, ed25519: o.ed25519, damaged: this.store.needsRebuild });
    this.store.custodySigner = { dock: o.identity.id, signer: o.identity.signer, now: o.now };
    this.#security = new SecurityLog((detail) => {
      try {
        this.store.log('peer-refused', { dock: o.identity.id, detail });
      } catch (e) {
        const f = stationFault(e);
        if (f instanceof BodycamError) this.#storeFault(f);
      }
    });
    try {
      const rootPath = join(o.storeDir, 'trust', 'root.pub');
      if (!existsSync(rootPath)) writeDurable(rootPath, o.identity.rootKey, { mode: FILE_MODE });
      if (o.revocationsCose) writeDurable(join(o.storeDir, 'trust', 'revocations.cose'), o.revocationsCose, { mode: FILE_MODE });
      // Receipts in this store are checked against the certificates of the docks that signed them.
      this.store.putObject(o.identity.certificate, 'dock-certificate');
      this.store.link(createHash('sha256').update(o.identity.certificate).digest('hex'), 'docks', o.identity.id, 'certificate.cose');
      this.store.log('station-start', { dock: o.identity.id });
    } catch (e) {
      // A full disk at start: the station comes up read-only and says so, rather than not at all.
      const f = stationFault(e);
      if (!(f instanceof BodycamError) || f.code !== 'E_STATION_FULL') throw f;
      this.#storeFault(f);
    }
    if (!this.#fault && this.#freeBytes() < this.#minFree) this.#storeFault(this.#fullError());
  }

  get #minFree(): number {
    return this.#o.minFreeBytes ?? DEFAULT_MIN_FREE;
  }

  #freeBytes(): number {
    try {
      const st = statfsSync(this.#o.storeDir);
      return st.bavail * st.bsize;
    } catch {
      return Number.POSITIVE_INFINITY;
    }
  }

  #fullError(): BodycamError {
    return new BodycamError('E_STATION_FULL', `the station's store has ${this.#freeBytes()} bytes free, under ${this.#minFree}: it takes no evidence until space is freed; cameras keep theirs`);
  }

  /** A full station takes evidence again once space was freed. */
  #recheck(): void {
    if (this.#fault?.code !== 'E_STATION_FULL' || this.#freeBytes() < this.#minFree) return;
    this.#fault = undefined;
    try {
      this.store.log('station-writable', { dock: this.#o.identity.id, detail: { free: this.#freeBytes() } });
    } catch {
      // still full after all: the next session says so
    }
  }

  /** Why the station can't take evidence now (E_STATION_FULL ...), or undefined when it can. */
  get fault(): BodycamError | undefined {
    return this.#fault;
  }

  listen(port = 0, host = '127.0.0.1'): Promise<AddressInfo> {
    // Paused on connect: a session moves the connection to a socket that reads into its frames (readDirect).
    this.#server = createServer({ pauseOnConnect: true }, (socket) => this.#accept(socket));
    return new Promise((resolve, reject) => {
      this.#server!.once('error', reject);
      this.#server!.listen(port, host, () => resolve(this.#server!.address() as AddressInfo));
    });
  }

  #accept(socket: Socket): void {
    // Refused with a clear answer, not a silent hang: over the cap, while shutting down, or a
    // station whose store is full (the camera keeps everything and docks again later).
    this.#recheck();
    const busy = this.#closing
      ? new BodycamError('E_STATION_BUSY', 'the dock station is shutting down; dock again in a minute')
      : this.#sessions.size >= (this.#o.maxSessions ?? DEFAULT_MAX_SESSIONS)
        ? new BodycamError('E_STATION_BUSY', `the dock station is serving ${this.#sessions.size} cameras, its limit; dock again in a minute`)
        : this.#fault;
    const track = (s: Socket) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    };
    if (busy) {
      track(socket);
      this.refused++;
      socket.on('error', () => {});
      socket.end(frameMessage(encodeMessage('error', { code: busy.code, message: errorMessage(busy).slice(0, 256), fatal: true }), nodeChecksum));
      socket.setTimeout(5000, () => socket.destroy());
      return;
    }
    socket.setNoDelay(true);
    const session = new DockSession(socket, {
      identity: this.#o.identity,
      store: this.store,
      ed25519: this.#o.ed25519,
      chunkSize: this.#o.chunkSize,
      batch: this.#o.batch,
      timeoutMs: this.#o.timeoutMs,
      handshakeMs: this.#o.handshakeMs,
      maxInventoryPages: this.#o.maxInventoryPages,
      uploadSlots: this.#slots,
      now: this.#o.now,
      configFor: this.#o.configFor,
      revocationsCose: this.#o.revocationsCose,
      firmware: this.#o.firmware,
      onProgress: this.#o.onProgress,
      securityEvent: (peer, code) => this.#security.event(peer, code),
      onStoreFault: (e) => this.#storeFault(e),
    });
    track(session.socket);
    const p = session.run().then((r) => {
      this.results.push(r);
      if (this.results.length > MAX_RESULTS) this.results.splice(0, this.results.length - MAX_RESULTS);
      if (r.code === 'E_STATION_FULL') this.#storeFault(new BodycamError('E_STATION_FULL', r.message ?? 'the store is full'));
      this.#o.onResult?.(r);
      return r;
    });
    this.#sessions.add(p);
    void p.finally(() => this.#sessions.delete(p));
  }

  /** The store failed: say so once (onFault), keep serving what can be served. */
  #storeFault(e: BodycamError): void {
    if (e.code !== 'E_STATION_FULL') return;
    const first = !this.#fault;
    this.#fault = e;
    if (first) this.#o.onFault?.(e);
  }

  /** Wait for every session in progress to end. */
  async idle(): Promise<void> {
    while (this.#sessions.size) await Promise.allSettled([...this.#sessions]);
  }

  /**
   * Stop: refuse new connections at once, let sessions in progress finish for up to `deadlineMs`
   * (DEFAULT_SHUTDOWN_MS), then cut the rest. Nothing is lost either way: a cut upload keeps its
   * durable offset, and nothing was receipted that isn't durable.
   */
  async close(options: { abrupt?: boolean; deadlineMs?: number } = {}): Promise<void> {
    this.#closing = true;
    const closed = new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
    if (options.abrupt) for (const s of this.#sockets) s.destroy();
    else {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, options.deadlineMs ?? this.#o.shutdownMs ?? DEFAULT_SHUTDOWN_MS)));
      await Promise.race([this.idle(), deadline]);
      clearTimeout(timer);
      for (const s of this.#sockets) s.destroy();
    }
    await Promise.allSettled([...this.#sessions]);
    await closed;
    this.#security.flush();
    try {
      this.store.log('station-stop', { dock: this.#o.identity.id });
    } catch {
      // a full disk: the stop is the one row we can't write
    }
    this.store.close();
  }
}

export { issueRevocationList };
