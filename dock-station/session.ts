// One camera's session at the dock station: the dock's side of the protocol in
// firmware/dock/ (same codec, same transcript), driving the upload over a Node socket.
//
// Order: hello/auth (the dock proves itself first, then the camera) → status → time → head →
// inventory → for each segment: verify the manifest, resume at the durable offset, pull chunks
// (written as they arrive, nothing synced), check the media digest, stage it in the receipt batch
// → per batch: every file and folder synced at once, one index transaction, then the receipt,
// signed over nothing that is not durable → ledger → config → bye. (docs/protocol.md, "What is
// synced when".)
// A camera that can't prove itself gets a fatal error and nothing is stored from it.

import { createHash, randomBytes } from 'node:crypto';
import { Socket as NetSocket, type Socket, type SocketConstructorOpts } from 'node:net';
import type { CborValue } from '../firmware/codec/cbor.js';
import { arr, bin, decodeMessage, encodeMessage, flag, num, str, type Message, type MessageType, DEFAULT_CHUNK } from '../firmware/dock/messages.js';
import { authPayload, timePayload, transcriptHash } from '../firmware/dock/transcript.js';
import { deriveSessionKeys, ephemeralKey, SessionChannel } from '../firmware/dock/session-keys.js';
import { frameCrcFailed, frameCrcHolds, FrameReader, frameMessage, HEADER_BYTES, type FrameEvent, MAX_PAYLOAD, OLD_PROTOCOL_VERSION, PROTOCOL_VERSION, TRAILER_BYTES } from '../firmware/dock/frame.js';
import { BodycamError, errorCode, errorMessage } from '../firmware/errors.js';
import { isRevoked, verifyCertificate, type RevocationList, type VerifiedCertificate } from '../firmware/signing/certificate.js';
import type { Ed25519 } from '../firmware/signing/ed25519.js';
import { manifestDigest, verifyManifest } from '../firmware/signing/manifest.js';
import { signReceipt, verifyCheckpoint, type ReceiptEntry } from '../firmware/signing/receipt.js';
import type { Signer } from '../firmware/signing/signer.js';
import { openStructure } from '../firmware/signing/signed.js';
import { isSafeId } from '../firmware/signing/ids.js';
import { peekConfig } from '../firmware/provision/config.js';
import { openLedgerEntry } from '../firmware/recorder/ledger-verify.js';
import { DRIFT_TYPE } from '../firmware/recorder/recorder.js';
import { sameBytes } from '../firmware/signing/signer.js';
import { nodeChecksum, nodeCipher, nodeDigest } from '../host/ports.js';
import { seqName, stationFault, SyncBatch, type EvidenceStore, type Upload } from './store.js';
import type { FirmwareShelf } from './firmware-shelf.js';
import { newerVersion } from '../firmware/dock/camera-session.js';

export interface DockIdentity {
  id: string;
  signer: Signer;
  certificate: Uint8Array;
  rootKey: Uint8Array;
  revocations?: RevocationList;
}

export interface SessionOptions {
  identity: DockIdentity;
  store: EvidenceStore;
  ed25519: Ed25519;
  chunkSize?: number;
  /** Segments per receipt. */
  batch?: number;
  /** The station's UTC clock (ms). */
  now?: () => number;
  /** Milliseconds to wait for each camera message (DEFAULT_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Milliseconds from connection to an authenticated camera (DEFAULT_HANDSHAKE_MS). */
  handshakeMs?: number;
  /** The station's upload slots: segments pulled at once across all sessions. */
  uploadSlots?: Slots;
  /** Inventory pages asked for in one session (MAX_INVENTORY_PAGES). */
  maxInventoryPages?: number;
  /**
   * Record a security event about an unauthenticated peer (by its address, never a claimed id):
   * the station rate-limits them. Nothing else is written for a peer that did not authenticate.
   */
  securityEvent?: (peer: string, code: string) => void;
  /** The store failed under a session (E_STATION_FULL, ...): the station says so. */
  onStoreFault?: (e: BodycamError) => void;
  /** Signed firmware images to offer cameras, newest per board, once their evidence is receipted. */
  firmware?: FirmwareShelf;
  /** The agency's signed revocation list, sent to every camera after the handshake (it keeps it if newer). */
  revocationsCose?: Uint8Array;
  /** Signed configuration to push to a camera (by device id), if any. */
  configFor?: (device: string) => Uint8Array | undefined;
  onProgress?: (p: SessionProgress) => void;
}

export interface SessionProgress {
  session: string;
  device: string | undefined;
  phase: string;
  segmentsDone: number;
  segmentsTotal: number;
  bytesDone: number;
  bytesTotal: number;
  /** Bytes received over the link this session (resends included). */
  bytesReceived: number;
  startedAt: number;
}

export interface SessionResult {
  session: string;
  device?: string;
  ok: boolean;
  code?: string;
  message?: string;
  stored: number[];
  rejected: { seq: number; code: string }[];
  released: number[];
  bytesReceived: number;
  chunksResent: number;
  /** A firmware image offered in this session, and the camera's answer. */
  update?: { version: string; code: string };
}

const MAX_CHUNK_RETRIES = 5;
/** Default wait for each camera message (configurable: timeoutMs). */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Default time from connection to an authenticated camera (configurable: handshakeMs). */
export const DEFAULT_HANDSHAKE_MS = 10_000;
/** Frames received but not yet taken before the socket is paused (backpressure). */
const QUEUE_BYTES = 2 * 1024 * 1024;
/** Inventory pages one session asks for (64 segments each): at most 16 384 segments per session. */
export const MAX_INVENTORY_PAGES = 256;
/** Ledger pages one session asks for (at most 64 entries each). */
export const MAX_LEDGER_PAGES = 64;
/**
 * Unsynced bytes of one upload before it fsyncs and records its offset: a segment longer than this
 * (a 10-second segment is about 4.4 MiB) is not resent whole after a crash. Complete segments wait
 * for their receipt batch's sync.
 */
const SYNC_BYTES = 64 * 1024 * 1024;
/** A sealed receipt batch: its commit, and the receipt that goes out once it has finished. */
interface Committing {
  done: Promise<void>;
  settled: boolean;
  receipt: Uint8Array;
  path: string;
  seqs: number[];
}

/** Pulls in flight at once, and how many are sent together once that many have been answered. */
const PULL_WINDOW = 4;
const PULL_REFILL = 2;

type Frame = Extract<FrameEvent, { kind: 'message' }>;
/** A frame handed over with its CRC unchecked (FrameReader's sealedFirst) whose CRC fails: damaged on the way. */
const corrupted = (f: Frame) => !f.checked && !frameCrcHolds(nodeChecksum, f.framed, f.crc);

/** A FIFO of slots: at most `size` holders at once, the rest wait their turn in order. */
export class Slots {
  #free: number;
  #waiting: (() => void)[] = [];
  constructor(readonly size: number) {
    this.#free = size;
  }
  async acquire(): Promise<() => void> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    };
  }
}

/**
 * Buffers that large frames (a chunk is up to 256 KiB) are joined into, each lent out whole and
 * given back by the session once the chunk in it has been written to disk. Without it every chunk
 * frame was a new buffer, and the collections that memory set off took much of the station's CPU
 * (docs/protocol.md, "What ingest costs"). At most KEEP free ones are kept; past that, or for a
 * buffer never given back (any frame but a written chunk), the garbage collector frees it as
 * before. One pool serves every session of the process (`shared`): a session has at most about
 * 8 out at once (the frames queued and the writes in flight), and free buffers are bounded for
 * the station, not per session.
 */
export class FramePool {
  static readonly SIZE = HEADER_BYTES + MAX_PAYLOAD + TRAILER_BYTES;
  /** Frames smaller than this are joined into arrays of their own. */
  static readonly MIN = 32 * 1024;
  static readonly KEEP = 16;
  static readonly shared = new FramePool();
  #free: Uint8Array[] = [];
  /** Buffers out, held weakly: one never given back is the collector's, as any other frame. */
  #lent = new WeakSet<ArrayBufferLike>();
  take(n: number): Uint8Array {
    if (n < FramePool.MIN || n > FramePool.SIZE) return new Uint8Array(n);
    const b = this.#free.pop() ?? new Uint8Array(FramePool.SIZE);
    this.#lent.add(b.buffer);
    return b.subarray(0, n);
  }
  /** Give back the buffer `view` lies in, if this pool lent it and it is still out: never twice. */
  give(view: Uint8Array): void {
    if (!this.#lent.delete(view.buffer)) return;
    if (this.#free.length < FramePool.KEEP) this.#free.push(new Uint8Array(view.buffer));
  }
  /** Free buffers kept for the next frames. */
  get free(): number {
    return this.#free.length;
  }
}

/**
 * An accepted connection, moved to a socket that reads into the arrays `into` names (the rest of
 * the frame being joined, so a chunk's bytes land where they are opened, hashed and written from)
 * and tells `took` how many landed (false: pause). Node's `onread` option (net.Socket) does this,
 * but only for a socket made with it: net.Server makes every accepted one itself, from the
 * connection's handle, through the constructor's `handle` option; the same is done here with the
 * accepted socket's handle, before it has read a byte (the server pauses it on connect). Both are
 * Node's internals, so where this Node lacks them undefined is returned and the socket is read as
 * a stream (it costs the buffer Node makes for every read and a copy of each frame that spans
 * reads). The accepted socket is destroyed once emptied (it only tells its server it is gone).
 */
export function readDirect(accepted: Socket, into: () => Uint8Array, took: (n: number, into: Uint8Array) => boolean): Socket | undefined {
  const handle = (accepted as unknown as { _handle?: { useUserBuffer?: unknown; reading?: boolean } })._handle;
  if (!handle || typeof handle.useUserBuffer !== 'function' || handle.reading !== false || accepted.bytesRead !== 0) return undefined;
  const moved = new NetSocket({ handle, onread: { buffer: into, callback: took } } as SocketConstructorOpts);
  (accepted as unknown as { _handle: unknown })._handle = null;
  accepted.destroy();
  return moved;
}

/**
 * A bounded queue of whole frames from the socket (opened and decoded by the session, which holds
 * the keys). Backpressure, not buffering: past QUEUE_BYTES of frames not yet taken, the socket is
 * paused (TCP then slows the camera) until the session catches up.
 */
class Inbox {
  readonly pool = FramePool.shared;
  // A sealed frame's CRC is checked only if its seal fails (DockSession.#open): one pass fewer a chunk.
  #reader = new FrameReader(nodeChecksum, { adopt: true, alloc: (n) => this.pool.take(n), sealedFirst: true });
  #queue: (Frame | BodycamError)[] = [];
  #queued = 0;
  #paused = false;
  #wake: (() => void) | undefined;
  #closed: string | undefined;
  #fatal: BodycamError | undefined;
  bytes = 0;
  /** The socket the session talks over: the one accepted, or the one its connection moved to (readDirect). */
  readonly socket: Socket;
  constructor(accepted: Socket) {
    const direct = readDirect(accepted, () => this.#reader.readInto(), (n, into) => this.#took(this.#reader.wrote(into, n), n));
    this.socket = direct ?? accepted;
    // Node's own reads are fresh buffers never reused: the reader keeps them without a copy.
    if (!direct) accepted.on('data', (chunk: Buffer) => void this.#took(this.#reader.push(chunk), chunk.length)).resume();
    this.socket.on('close', () => {
      this.#closed ??= 'the camera disconnected';
      this.#wake?.();
    });
    this.socket.on('error', () => {});
  }
  /** Queue what the reader made of `n` more bytes; false once QUEUE_BYTES are waiting (the socket then pauses). */
  #took(events: FrameEvent[], n: number): boolean {
    this.bytes += n;
    for (const ev of events) {
      if (ev.kind === 'message') {
        this.#queue.push(ev);
        this.#queued += ev.framed.length;
      } else if (ev.kind === 'corrupt') {
        this.#queue.push(ev.error);
      } else {
        // The stream can't be followed any more: the session ends with this error.
        this.#fatal = ev.error;
      }
    }
    if (this.#queued > QUEUE_BYTES && !this.#paused) {
      this.#paused = true;
      this.socket.pause();
    }
    this.#wake?.();
    return !this.#paused;
  }
  /**
   * The next frame, by `deadline` (a Date.now() time): bytes that don't complete a frame don't
   * extend it. `what` names the wait in the timeout error.
   */
  async next(deadline: number, code: string, what: string): Promise<Frame | BodycamError> {
    for (;;) {
      const item = this.#queue.shift();
      if (item) {
        if (!(item instanceof BodycamError)) this.#queued -= item.framed.length;
        if (this.#queued <= QUEUE_BYTES / 2 && this.#paused) {
          this.#paused = false;
          this.socket.resume();
        }
        return item;
      }
      if (this.#fatal) throw this.#fatal;
      if (this.#closed) throw new BodycamError('E_LINK_CLOSED', this.#closed);
      const left = deadline - Date.now();
      if (left <= 0) throw new BodycamError(code, what);
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
      this.#wake = undefined;
    }
  }
}

export class DockSession {
  readonly id = randomBytes(8).toString('hex');
  #o: SessionOptions;
  #socket: Socket;
  #inbox: Inbox;
  #camera: VerifiedCertificate | undefined;
  #cameraNonce: Uint8Array = new Uint8Array(0);
  #progress: SessionProgress;
  #result: SessionResult;
  #sessionNonce = new Uint8Array(randomBytes(32));
  #handshakeDeadline: number;
  readonly peer: string;
  /** The upload in progress: synced (never lost) whenever the session ends. */
  #inProgress: Upload | undefined;
  /** The last request sent, to send again when the camera reports it arrived corrupted. */
  #lastPayload: Uint8Array | undefined;
  /** The sealed channel, once the camera has signed the transcript. */
  #channel: SessionChannel | undefined;
  /** The UTC this dock sent the camera in `time` (what its drift statement must be about). */
  #timeSent: number | undefined;
  #resends = 0;
  /** Segments uploaded since the last receipt: synced and indexed together before it is signed. */
  #batch: SyncBatch;
  /** A sealed batch being made durable, its receipt not yet sent. */
  #committing: Committing | undefined;
  /** Manifest digests (hex) of the segments staged and not yet committed, by sequence: the chain check's view of them. */
  #staged = new Map<number, string>();

  /** The socket this session talks over (the connection may have moved from the one accepted: readDirect). */
  get socket(): Socket {
    return this.#socket;
  }

  constructor(socket: Socket, o: SessionOptions) {
    this.#o = o;
    this.#inbox = new Inbox(socket);
    this.#socket = this.#inbox.socket;
    this.#batch = new SyncBatch(o.store);
    this.#handshakeDeadline = Date.now() + (o.handshakeMs ?? DEFAULT_HANDSHAKE_MS);
    this.peer = `${this.#socket.remoteAddress}:${this.#socket.remotePort}`;
    this.#progress = { session: this.id, device: undefined, phase: 'handshake', segmentsDone: 0, segmentsTotal: 0, bytesDone: 0, bytesTotal: 0, bytesReceived: 0, startedAt: Date.now() };
    this.#result = { session: this.id, ok: false, stored: [], rejected: [], released: [], bytesReceived: 0, chunksResent: 0 };
  }

  get #dockId(): string {
    return this.#o.identity.id;
  }

  #now(): number {
    return (this.#o.now ?? Date.now)();
  }

  #send(t: MessageType, fields: Record<string, CborValue> = {}): Uint8Array {
    const payload = encodeMessage(t, fields);
    if (t !== 'error') this.#lastPayload = payload;
    this.#write(payload);
    return payload;
  }

  /** Frame a payload (sealed once the session has keys: a resend gets a fresh counter) and write it. */
  #write(payload: Uint8Array): void {
    const frame = this.#channel ? this.#channel.sealPayload(payload) : frameMessage(payload, nodeChecksum);
    if (!this.#socket.destroyed) this.#socket.write(frame);
  }

  #phase(phase: string): void {
    this.#progress.phase = phase;
    this.#progress.bytesReceived = this.#inbox.bytes;
    this.#o.onProgress?.({ ...this.#progress });
  }

  /** The next message, skipping (and storing) unsolicited drift statements; camera errors throw. */
  /**
   * The next message. A frame lost to corruption (ours to the camera, or the camera's to us) is
   * asked for again; `onLost`, when given, does that instead (the chunk pipeline knows which
   * request the lost answer belonged to).
   */
  async #next(expect: MessageType, onLost?: () => void): Promise<{ m: Message; raw: Uint8Array; frame: Frame }> {
    for (;;) {
      // Each message has timeoutMs from when it is awaited; before authentication the whole
      // handshake also has handshakeMs from the connection, however many bytes trickle in.
      const timeoutMs = this.#o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const byMessage = Date.now() + timeoutMs;
      const got = this.#channel
        ? await this.#inbox.next(byMessage, 'E_TIMEOUT', `the camera sent no whole message for ${timeoutMs} ms`)
        : await this.#inbox.next(Math.min(byMessage, this.#handshakeDeadline), 'E_TIMEOUT', `no whole message, or no handshake within ${this.#o.handshakeMs ?? DEFAULT_HANDSHAKE_MS} ms of connecting`);
      // A frame discarded for its CRC took one of the camera's counters: its resend comes under the next.
      if (got instanceof BodycamError && got.code === 'E_PROTO_CHECKSUM') this.#channel?.lost();
      const item = got instanceof BodycamError ? got : this.#open(got);
      // Before authentication nothing is asked for again: garbage from an unknown peer ends the connection.
      if (!this.#channel && item instanceof BodycamError) throw item;
      if (item instanceof BodycamError) {
        // The answer arrived corrupted and was discarded whole: ask again (every request is idempotent).
        if (item.code === 'E_PROTO_CHECKSUM' && this.#resends++ < MAX_CHUNK_RETRIES) {
          this.#result.chunksResent++;
          if (onLost) onLost();
          else if (this.#lastPayload) this.#write(this.#lastPayload);
          continue;
        }
        this.#send('error', { code: item.code, message: errorMessage(item).slice(0, 256), fatal: false });
        continue;
      }
      const { m } = item;
      if (m.t === 'drift' && this.#camera) {
        this.#keepDrift(bin(m, 'statement'));
        continue;
      }
      if (m.t === 'error') {
        // Our request arrived corrupted: its frame was discarded whole, so send it again (bounded).
        if (str(m, 'code') === 'E_PROTO_CHECKSUM' && !flag(m, 'fatal') && this.#resends++ < MAX_CHUNK_RETRIES) {
          this.#result.chunksResent++;
          if (onLost) onLost();
          else if (this.#lastPayload) this.#write(this.#lastPayload);
          continue;
        }
        throw new BodycamError(str(m, 'code'), `camera: ${str(m, 'message')}`, { fatal: flag(m, 'fatal') });
      }
      this.#resends = 0;
      if (m.t !== expect) throw new BodycamError('E_PROTO_UNEXPECTED', `expected ${expect}, the camera sent ${m.t}`);
      return item;
    }
  }

  /**
   * A frame's message. After the handshake only the authenticated camera speaks: a frame it did
   * not seal, a replayed, reordered or missing one, or one not sealed at all ends the session
   * (E_SESSION_AUTH, E_SESSION_REPLAY, E_SESSION_DROPPED, E_PROTO_DOWNGRADE), and nothing in it is kept.
   * A payload that isn't a valid message is an error value (non-fatal once authenticated).
   */
  #open(f: Frame): { m: Message; raw: Uint8Array; frame: Frame } | BodycamError {
    // A sealed frame comes with its CRC not yet checked: it is checked only if the seal fails, to
    // tell a frame corrupted on the way (discarded and asked for again, as if the reader had
    // discarded it: it took one counter) from one not sealed by the camera.
    let payload = f.payload;
    if (this.#channel) {
      try {
        payload = this.#channel.open(f);
      } catch (e) {
        if (errorCode(e) !== 'E_SESSION_AUTH' || !corrupted(f)) throw e;
        this.#channel.lost();
        return frameCrcFailed(f.payload.length);
      }
    } else if (f.flags !== 0) {
      if (corrupted(f)) return frameCrcFailed(f.payload.length);
      throw new BodycamError('E_AUTH_REQUIRED', 'a sealed frame before the session has keys');
    }
    try {
      // Byte fields are views into the frame (a chunk's data is written from where it arrived).
      return { m: decodeMessage(payload, { shareBytes: true }), raw: payload, frame: f };
    } catch (e) {
      return e instanceof BodycamError ? e : new BodycamError('E_PROTO_MESSAGE', String(e));
    }
  }

  /**
   * A drift statement is kept only if the camera signed it, for itself, in this session (its
   * nonce), about the time this dock sent: anything else is refused in the custody log.
   */
  #keepDrift(statement: Uint8Array): void {
    const cam = this.#camera!;
    const store = this.#o.store;
    try {
      const f = openStructure(statement, DRIFT_TYPE, 'E_DRIFT_FORMAT', cam.publicKey, this.#o.ed25519).fields;
      if (f.get('device') !== cam.id) throw new BodycamError('E_DRIFT_DEVICE', `a drift statement for ${String(f.get('device'))} from ${cam.id}`);
      const nonce = f.get('nonce');
      if (!(nonce instanceof Uint8Array) || !sameBytes(nonce, this.#cameraNonce)) throw new BodycamError('E_DRIFT_SESSION', 'a drift statement from another session');
      if (this.#timeSent === undefined || f.get('dockUtc') !== this.#timeSent) throw new BodycamError('E_DRIFT_TIME', 'a drift statement about a time this dock did not send');
    } catch (e) {
      store.log('drift-refused', { dock: this.#dockId, session: this.id, device: cam.id, detail: { code: errorCode(e), message: errorMessage(e) } });
      return;
    }
    store.putDeviceFile(cam.id, statement, 'drift', 'clock', `${seqName(store.nextNumber(cam.id, 'clock'))}.cose`);
  }

  async run(): Promise<SessionResult> {
    const store = this.#o.store;
    try {
      await this.#handshake();
      await this.#transfer();
      this.#result.ok = this.#result.rejected.length === 0;
      this.#send('bye', { reason: 'session complete' });
      this.#phase('done');
    } catch (thrown) {
      // A full disk is the station's fault, never the camera's: the session ends with
      // E_STATION_FULL, no receipt for anything not durable, and the camera keeps everything.
      const e = stationFault(thrown);
      const code = errorCode(e);
      const message = errorMessage(e);
      this.#result.code = code;
      this.#result.message = message;
      const fatalFromCamera = e instanceof BodycamError && (e.detail as { fatal?: boolean } | undefined)?.fatal;
      if (!fatalFromCamera && !this.#socket.destroyed && code !== 'E_LINK_CLOSED') {
        try {
          this.#send('error', { code, message: message.slice(0, 256), fatal: true });
        } catch {
          // the socket went while we answered
        }
      }
      // An unauthenticated peer leaves one rate-limited security event naming its address, nothing else.
      if (this.#camera) this.#record(() => store.log('session-failed', { dock: this.#dockId, session: this.id, device: this.#camera?.id, detail: { code, message } }));
      else this.#o.securityEvent?.(this.peer, code);
      this.#phase('failed');
    } finally {
      try {
        await this.#inProgress?.abandon();
      } catch (e) {
        // What was synced stays durable; a disk that can't take the last bytes loses only those (resent next time).
        this.#result.code ??= errorCode(stationFault(e));
      }
      this.#inProgress = undefined;
      this.#channel?.close();
      // Segments verified but not yet receipted are made durable and indexed all the same (no
      // receipt goes out): the next docking receipts them without pulling them again.
      for (const commit of [() => this.#committing?.done, () => (this.#batch.empty ? undefined : this.#batch.commit())]) {
        try {
          await commit();
        } catch (e) {
          this.#result.code ??= errorCode(stationFault(e));
        }
      }
      this.#committing = undefined;
      this.#result.bytesReceived = this.#inbox.bytes;
      if (this.#camera) {
        this.#record(() => {
          store.db.prepare('UPDATE sessions SET ended = ?, result = ? WHERE id = ?').run(Date.now(), this.#result.ok ? 'ok' : (this.#result.code ?? 'incomplete'), this.id);
          store.log('session-end', { dock: this.#dockId, session: this.id, device: this.#camera?.id, detail: { ok: this.#result.ok, stored: this.#result.stored.length, released: this.#result.released.length } });
        });
      }
      this.#socket.end();
    }
    return this.#result;
  }

  /** A write to the custody record that must not end the station (a full disk): failures are noted in the result. */
  #record(write: () => void): void {
    try {
      write();
    } catch (e) {
      const f = stationFault(e);
      this.#result.code ??= errorCode(f);
      if (f instanceof BodycamError) this.#o.onStoreFault?.(f);
    }
  }

  async #handshake(): Promise<void> {
    const { m, raw } = await this.#next('hello');
    if (str(m, 'role') !== 'camera') throw new BodycamError('E_AUTH_ROLE', 'the peer does not present itself as a camera');
    const versions = arr(m, 'versions');
    if (!versions.includes(PROTOCOL_VERSION)) {
      // A camera that offers only the MAC-only protocol (or a relay that says it does) is refused: never a session in clear.
      if (versions.includes(OLD_PROTOCOL_VERSION)) throw new BodycamError('E_PROTO_DOWNGRADE', `the camera offers only protocol version ${OLD_PROTOCOL_VERSION} (not encrypted); this station speaks ${PROTOCOL_VERSION}`);
      throw new BodycamError('E_PROTO_VERSION', 'no common protocol version');
    }
    let cert: VerifiedCertificate;
    try {
      cert = verifyCertificate(bin(m, 'cert'), this.#o.identity.rootKey, { digest: nodeDigest, ed25519: this.#o.ed25519, kind: 'device', at: this.#now() });
      // The id becomes folder names in the store: checked against the one id rule before any path is built.
      if (!isSafeId(cert.id)) throw new BodycamError('E_CERT_ID', `the camera certificate's id ${JSON.stringify(cert.id.slice(0, 80))} is not a safe id`);
      if (cert.id !== str(m, 'id')) throw new BodycamError('E_AUTH_IDENTITY', `the camera says it is ${str(m, 'id')} but its certificate is for ${cert.id}`);
      const revoked = isRevoked(this.#o.identity.revocations, cert.keyId);
      if (revoked) throw new BodycamError('E_CERT_REVOKED', `camera ${cert.id} is revoked (${revoked.reason})`);
    } catch (e) {
      // Nothing is written under the id a peer claims: run() records a security event by address.
      throw e;
    }
    this.#cameraNonce = bin(m, 'nonce');
    const kx = ephemeralKey(new Uint8Array(randomBytes(32)));
    const dockHello = this.#send('hello', { role: 'dock', id: this.#dockId, cert: this.#o.identity.certificate, nonce: this.#sessionNonce, kx: kx.publicKey, fw: 'dock-station', versions: [PROTOCOL_VERSION] });
    const transcript = transcriptHash(nodeDigest, raw, dockHello);
    const keys = deriveSessionKeys(nodeDigest, kx.secret, bin(m, 'kx'), transcript);
    kx.secret.fill(0);
    this.#send('auth', { sig: this.#o.identity.signer.sign(authPayload(transcript, 'dock')) });
    const auth = await this.#next('auth');
    if (!this.#o.ed25519.verify(authPayload(transcript, 'camera'), bin(auth.m, 'sig'), cert.publicKey)) {
      throw new BodycamError('E_AUTH_SIGNATURE', `camera ${cert.id} did not sign this session's transcript`);
    }
    // Every frame from here on, either way, is sealed under keys bound to this transcript.
    this.#channel = new SessionChannel({ cipher: nodeCipher, checksum: nodeChecksum, keys, role: 'dock' });
    this.#camera = cert;
    this.#progress.device = cert.id;
    this.#result.device = cert.id;
    const store = this.#o.store;
    store.db.prepare('INSERT INTO sessions (id, dock, peer, device, started) VALUES (?, ?, ?, ?, ?)').run(this.id, this.#dockId, this.peer, cert.id, this.#progress.startedAt);
    store.db.prepare('INSERT INTO devices (device, first_seen, last_seen) VALUES (?, ?, ?) ON CONFLICT(device) DO UPDATE SET last_seen = excluded.last_seen').run(cert.id, Date.now(), Date.now());
    store.putDeviceFile(cert.id, cert.bytes, 'certificate', 'certificate.cose');
    store.log('camera-authenticated', { dock: this.#dockId, session: this.id, device: cert.id, detail: { serial: cert.serial } });
  }

  async #transfer(): Promise<void> {
    const store = this.#o.store;
    const cam = this.#camera!;
    if (this.#o.revocationsCose) {
      // First, before anything is listed: a camera that learns from this list that this dock is
      // revoked ends the session (E_CERT_REVOKED) and keeps everything.
      this.#phase('revocations');
      this.#send('revocations', { cose: this.#o.revocationsCose });
      const held = num((await this.#next('revocations-ok')).m, 'number');
      store.log('revocations-checked', { dock: this.#dockId, session: this.id, device: cam.id, detail: { number: held } });
    }
    this.#phase('status');
    this.#send('status?');
    const status = (await this.#next('status')).m;
    store.log('camera-status', { dock: this.#dockId, session: this.id, device: cam.id, detail: Object.fromEntries([...status.f].filter(([k]) => k !== 't').map(([k, v]) => [String(k), v])) });

    // Time: the camera signs its drift (a 'drift' message, stored as evidence) before it changes its clock.
    const utc = this.#now();
    this.#timeSent = utc;
    this.#send('time', { utc, sig: this.#o.identity.signer.sign(timePayload(this.#cameraNonce, utc)) });
    store.log('clock-set', { dock: this.#dockId, session: this.id, device: cam.id, detail: { dockUtc: utc, cameraUtc: num(status, 'utc') } });

    this.#phase('head');
    this.#send('head?');
    const cp = (await this.#next('checkpoint')).m;
    const checkpointBytes = bin(cp, 'cose');
    const checkpoint = verifyCheckpoint(checkpointBytes, cam.publicKey, this.#o.ed25519);
    if (checkpoint.device !== cam.id) throw new BodycamError('E_CHECKPOINT_DEVICE', `checkpoint is for ${checkpoint.device}, not ${cam.id}`);
    const cpDigest = createHash('sha256').update(checkpointBytes).digest();
    store.putDeviceFile(cam.id, checkpointBytes, 'checkpoint', 'checkpoints', `${seqName(store.nextNumber(cam.id, 'checkpoints'))}.cose`);

    // Progress totals from the camera's (authenticated) status; the inventory is read a page at a
    // time and each page uploaded before the next is asked for, so a session holds at most one
    // page of manifests (64 × 8 KiB) however much the camera lists, and asks for at most
    // MAX_INVENTORY_PAGES pages (the rest waits for the next docking).
    this.#progress.segmentsTotal = num(status, 'pendingSegments');
    this.#progress.bytesTotal = num(status, 'pendingBytes');
    let listed = 0;
    let complete = false;

    let batch: ReceiptEntry[] = [];
    // A receipt batch is sealed when full: its receipt signed and staged with it, and its commit
    // (the files' fsyncs, the folders', one index transaction) started, while a new batch takes the
    // next segments. Its receipt goes out once that commit has finished: at the next segment
    // boundary where it has, or at the end. The disk syncs one batch while the next is pulled; no
    // receipt names anything its commit has not made durable.
    const seal = async () => {
      await deliver(true);
      if (batch.length === 0) return;
      // The receipt joins its own batch: the segments it lists, their folders and the receipt file
      // are synced at once, then one transaction indexes them all; only then does it go out.
      const entries = batch;
      batch = [];
      const receipt = signReceipt({ dock: this.#dockId, nonce: this.#cameraNonce, checkpoint: new Uint8Array(cpDigest), utc: this.#now(), entries }, this.#o.identity.signer);
      const n = store.nextNumber(cam.id, 'receipts');
      const { sha256: sha, path } = store.stageDeviceFile(this.#batch, cam.id, receipt, 'receipt', 'receipts', `${seqName(n)}.cose`);
      this.#batch.row(() => {
        store.db.prepare('INSERT INTO receipts (device, session, sha256, segments, at) VALUES (?, ?, ?, ?, ?)').run(cam.id, this.id, sha, entries.length, Date.now());
        store.log('receipt-signed', { dock: this.#dockId, session: this.id, device: cam.id, detail: { receipt: sha, seqs: entries.map((e) => e.seq) } });
      });
      const sealed = this.#batch;
      this.#batch = new SyncBatch(store);
      const committing: Committing = { done: sealed.commit(), settled: false, receipt, path, seqs: entries.map((e) => e.seq) };
      committing.done.then(
        () => (committing.settled = true),
        () => (committing.settled = true),
      );
      this.#committing = committing;
    };
    /** Send the sealed batch's receipt if its commit has finished (or, with `wait`, once it has). */
    const deliver = async (wait: boolean) => {
      const c = this.#committing;
      if (!c || (!wait && !c.settled)) return;
      await c.done;
      this.#committing = undefined;
      for (const seq of c.seqs) this.#staged.delete(seq);
      store.syncTrace?.('receipt', c.path);
      this.#send('receipt', { cose: c.receipt });
      const released = (await this.#next('released')).m;
      const seqs = arr(released, 'seqs') as number[];
      this.#result.released.push(...seqs);
      store.log('camera-released', { dock: this.#dockId, session: this.id, device: cam.id, detail: { seqs, bytes: num(released, 'bytes') } });
    };
    const flush = async () => {
      await seal();
      await deliver(true);
    };

    for (let after = -1, pages = 0; pages < (this.#o.maxInventoryPages ?? MAX_INVENTORY_PAGES); pages++) {
      this.#phase('inventory');
      this.#send('inventory?', { after });
      const inv = (await this.#next('inventory')).m;
      const page = (arr(inv, 'segments') as Map<CborValue, CborValue>[]).map((x) => ({ seq: x.get('seq') as number, length: x.get('length') as number, manifest: x.get('manifest') as Uint8Array }));
      // A page lists segments after `after`, in rising order: anything else would loop or repeat.
      for (const seg of page) {
        if (seg.seq <= after) throw new BodycamError('E_PROTO_INVENTORY', `inventory lists segment ${seg.seq} after ${after}`);
        after = seg.seq;
      }
      listed += page.length;
      this.#progress.segmentsTotal = Math.max(this.#progress.segmentsTotal, listed);
      for (const seg of page) {
        await deliver(false);
        this.#phase(`segment ${seg.seq}`);
        // Backpressure, not starvation: a segment is pulled only while this session holds one of
        // the station's upload slots; waiting for one is not waiting on the camera (no timeout runs).
        const release = await (this.#o.uploadSlots?.acquire() ?? Promise.resolve(() => {}));
        let entry: ReceiptEntry | undefined;
        try {
          entry = await this.#segment(seg);
        } finally {
          release();
        }
        if (entry) batch.push(entry);
        this.#progress.segmentsDone++;
        if (batch.length >= (this.#o.batch ?? 16)) await seal();
      }
      if (!flag(inv, 'more') || page.length === 0) {
        complete = true;
        break;
      }
    }
    await flush();
    if (!complete) store.log('inventory-truncated', { dock: this.#dockId, session: this.id, device: cam.id, detail: { listed, pages: this.#o.maxInventoryPages ?? MAX_INVENTORY_PAGES } });

    this.#phase('ledger');
    for (let after = -1, pages = 0; pages < MAX_LEDGER_PAGES; pages++) {
      this.#send('ledger?', { after });
      const page = (await this.#next('ledger')).m;
      const entries = arr(page, 'entries') as Uint8Array[];
      let advanced = false;
      for (const e of entries) {
        // Kept only if the camera signed it for itself; the next page starts after the newest verified entry.
        let index: number;
        try {
          const entry = openLedgerEntry(e, cam.publicKey, this.#o.ed25519);
          if (entry.device !== cam.id) throw new BodycamError('E_LEDGER_DEVICE', `a ledger entry of ${entry.device} from ${cam.id}`);
          index = entry.index;
        } catch (err) {
          store.log('ledger-refused', { dock: this.#dockId, session: this.id, device: cam.id, detail: { code: errorCode(err), message: errorMessage(err) } });
          continue;
        }
        store.putDeviceFile(cam.id, e, 'ledger', 'ledger', `${createHash('sha256').update(e).digest('hex').slice(0, 16)}.cose`);
        if (index > after) {
          after = index;
          advanced = true;
        }
      }
      if (!flag(page, 'more') || !advanced) break;
    }

    await this.#offerFirmware(status, complete && batch.length === 0 && this.#result.rejected.length === 0 && this.#result.released.length === listed);

    // A configuration only if newer than the one the camera reports holding (it refuses one not newer).
    const config = this.#o.configFor?.(cam.id);
    if (config && peekConfig(config).version > num(status, 'configVersion')) {
      this.#phase('config');
      this.#send('config', { cose: config });
      const ok = (await this.#next('config-ok')).m;
      store.log('config-pushed', { dock: this.#dockId, session: this.id, device: cam.id, detail: { version: num(ok, 'version') } });
    }
  }

  /** After every segment is receipted: the newest signed image for the camera's board, if newer. */
  async #offerFirmware(status: Message, allReceipted: boolean): Promise<void> {
    const shelf = this.#o.firmware;
    if (!shelf) return;
    const cam = this.#camera!;
    const store = this.#o.store;
    const image = shelf.newestFor(str(status, 'board'));
    if (!image || !newerVersion(image.version, str(status, 'fw'))) return;
    if (!allReceipted) {
      store.log('update-deferred', { dock: this.#dockId, session: this.id, device: cam.id, detail: { version: image.version, reason: 'evidence still awaits upload' } });
      return;
    }
    this.#phase(`firmware ${image.version}`);
    store.log('update-offered', { dock: this.#dockId, session: this.id, device: cam.id, detail: { version: image.version, file: image.file } });
    const chunk = this.#o.chunkSize ?? DEFAULT_CHUNK;
    let offset = 0;
    for (let rounds = 0; rounds < 100000; rounds++) {
      this.#send('update-chunk', { version: image.version, total: image.bytes.length, offset, data: image.bytes.subarray(offset, Math.min(image.bytes.length, offset + chunk)) });
      const ack = (await this.#next('update-ack')).m;
      const code = str(ack, 'code');
      if (flag(ack, 'done')) {
        store.log(code === 'OK' ? 'update-installed' : 'update-refused', { dock: this.#dockId, session: this.id, device: cam.id, detail: { version: image.version, code, message: str(ack, 'message') } });
        this.#result.update = { version: image.version, code };
        return;
      }
      offset = num(ack, 'offset');
    }
  }

  /** Upload one segment; returns its receipt entry once it is durably stored and verified. */
  async #segment(seg: { seq: number; length: number; manifest: Uint8Array }): Promise<ReceiptEntry | undefined> {
    const store = this.#o.store;
    const cam = this.#camera!;
    const reject = (code: string, message: string) => {
      this.#result.rejected.push({ seq: seg.seq, code });
      store.log('segment-rejected', { dock: this.#dockId, session: this.id, device: cam.id, detail: { seq: seg.seq, code, message } });
      return undefined;
    };
    // The manifest is checked before a byte of media is pulled: a forged segment costs nothing.
    let manifest;
    try {
      manifest = verifyManifest(seg.manifest, cam.publicKey, this.#o.ed25519);
    } catch (e) {
      return reject(errorCode(e), errorMessage(e));
    }
    if (manifest.device !== cam.id) return reject('E_MANIFEST_DEVICE', `segment ${seg.seq}'s manifest is for ${manifest.device}`);
    if (manifest.seq !== seg.seq) return reject('E_MANIFEST_SEQ', `inventory says segment ${seg.seq}, the manifest says ${manifest.seq}`);
    if (manifest.bytes !== seg.length) return reject('E_MANIFEST_LENGTH', `inventory says ${seg.length} bytes, the manifest ${manifest.bytes}`);
    // The previous segment as stored, or as staged in this receipt batch (not yet indexed).
    const prev = store.segment(cam.id, seg.seq - 1);
    const prevSha = this.#staged.get(seg.seq - 1) ?? (prev && prev.state === 'stored' ? prev.manifestSha256 : undefined);
    if (prevSha !== undefined && manifest.prev) {
      if (Buffer.from(manifest.prev).toString('hex') !== prevSha) return reject('E_CHAIN', `segment ${seg.seq} does not chain to the stored manifest of segment ${seg.seq - 1}`);
    }
    const digest = manifestDigest(seg.manifest, nodeDigest);
    let upload: Upload | undefined;
    try {
      upload = store.beginUpload(cam.id, seg.seq, seg.length, seg.manifest, this.id);
    } catch (e) {
      return reject(errorCode(e), errorMessage(e));
    }
    if (!upload) {
      this.#progress.bytesDone += seg.length;
      return { device: cam.id, seq: seg.seq, manifest: digest };
    }
    this.#inProgress = upload;
    this.#progress.bytesDone += upload.offset;
    // Pulls are pipelined (2 to PULL_WINDOW in flight) so the camera reads the next chunk while the
    // station writes this one. The camera answers in order, so each answer — a chunk, or a frame
    // lost to corruption — belongs to the oldest pull in flight; chunks that arrive ahead of a
    // lost one wait (bounded by the window) until it has been asked for again and arrived.
    const chunk = this.#o.chunkSize ?? DEFAULT_CHUNK;
    const inflight: { offset: number; length: number }[] = [];
    const early = new Map<number, Uint8Array>();
    let next = upload.offset;
    let retries = 0;
    const pull = (offset: number, length: number) => {
      this.#send('pull', { seq: seg.seq, offset, length });
      inflight.push({ offset, length });
    };
    const lost = () => {
      const want = inflight.shift();
      if (!want) return;
      if (retries++ >= MAX_CHUNK_RETRIES) throw new BodycamError('E_CHUNK', `segment ${seg.seq}: ${MAX_CHUNK_RETRIES} bad chunks in a row at offset ${want.offset}`);
      this.#result.chunksResent++;
      pull(want.offset, want.length);
    };
    while (upload.offset < seg.length) {
      // Refilled two at a time, in one write (each write to the socket wakes the camera's side).
      if ((inflight.length <= PULL_WINDOW - PULL_REFILL || inflight.length === 0) && next < seg.length) {
        this.#socket.cork();
        while (inflight.length < PULL_WINDOW && next < seg.length) {
          const length = Math.min(chunk, seg.length - next);
          pull(next, length);
          next += length;
        }
        this.#socket.uncork();
      }
      const { m: got } = await this.#next('chunk', lost);
      const want = inflight[0];
      const data = bin(got, 'data');
      // tus: a chunk for another place is discarded and asked for again. Its bytes need no check
      // of their own: the seal's tag held, so they are the bytes the camera sent; the segment's
      // SHA-256 against its signed manifest checks what it read.
      if (!want || num(got, 'seq') !== seg.seq || num(got, 'offset') !== want.offset || data.length !== want.length) {
        lost();
        continue;
      }
      inflight.shift();
      retries = 0;
      early.set(want.offset, data);
      for (let d = early.get(upload.offset); d; d = early.get(upload.offset)) {
        early.delete(upload.offset);
        // The chunk's frame buffer goes back to the pool once the chunk is on disk (nothing else holds it).
        await upload.append(upload.offset, d, () => this.#inbox.pool.give(d));
        this.#progress.bytesDone += d.length;
      }
      if (upload.offset - upload.durable >= SYNC_BYTES) await upload.sync();
      this.#o.onProgress?.({ ...this.#progress, bytesReceived: this.#inbox.bytes });
    }
    await upload.written();
    this.#inProgress = undefined;
    if (upload.hash.copy().digest('hex') !== Buffer.from(manifest.media).toString('hex')) {
      upload.complete();
      store.rejectSegment(cam.id, seg.seq, 'E_MEDIA_DIGEST');
      store.resetSegment(cam.id, seg.seq);
      return reject('E_MEDIA_DIGEST', `segment ${seg.seq}: the media's SHA-256 differs from its signed manifest`);
    }
    store.stageSegment(this.#batch, upload, seg.manifest, this.id, { dock: this.#dockId });
    this.#staged.set(seg.seq, createHash('sha256').update(seg.manifest).digest('hex'));
    this.#result.stored.push(seg.seq);
    return { device: cam.id, seq: seg.seq, manifest: digest };
  }
}
