// The camera's side of a dock session: a synchronous state machine fed with bytes from the Link
// port, answering with frames to write back. The dock drives; the camera answers, and refuses
// everything but the handshake until the dock has proved it belongs to the camera's agency.
//
// Promises:
// - Nothing is listed, read or freed for a dock that hasn't shown a valid, unrevoked dock
//   certificate chained to the agency root and signed this session's transcript.
// - Segments are freed only through source.release(), after the receipt verified (dock key,
//   this session's nonce, the exact manifest digests the camera holds) — a replayed receipt or
//   one for segments never sent frees nothing.
// - After the handshake every frame either way is sealed (ChaCha20-Poly1305 under session keys from the
//   ephemeral X25519 exchange, session-keys.ts): nothing after the handshake crosses the link in
//   clear, and a frame the authenticated dock did not seal, a replayed, reordered or missing one,
//   or one not sealed at all ends the session (E_SESSION_AUTH, E_SESSION_REPLAY,
//   E_SESSION_DROPPED, E_PROTO_DOWNGRADE). A dock offering only the old MAC-only protocol is refused.
// - Bad input (corrupt frames, unknown or malformed messages, requests out of order) gets an
//   error reply with a stable code; only a broken stream, a failed seal or a failed handshake closes.

import { BodycamError, errorCode, errorMessage } from '../errors.js';
import type { Checksum } from '../platform/checksum.js';
import type { Clock } from '../platform/clock.js';
import type { Digest } from '../platform/digest.js';
import type { Cipher } from '../platform/cipher.js';
import type { Random } from '../platform/random.js';
import { verifyCertificate, verifyRevocationList, isRevoked, peekCertificate, type RevocationList, type VerifiedCertificate } from '../signing/certificate.js';
import { defaultEd25519, type Ed25519 } from '../signing/ed25519.js';
import { sameBytes, type Signer } from '../signing/signer.js';
import { FrameReader, frameEncoded, frameMessage, HEADER_BYTES, OLD_PROTOCOL_VERSION, PROTOCOL_VERSION, TRAILER_BYTES } from './frame.js';
import { arr, bin, decodeMessage, encodeMessage, encodeMessageWithRoom, MAX_INVENTORY, num, str, type Message, type MessageType } from './messages.js';
import { authPayload, timePayload, transcriptHash } from './transcript.js';
import { deriveSessionKeys, ephemeralKey, SEALED_PREFIX, SEALED_SUFFIX, SessionChannel } from './session-keys.js';
import type { CborValue } from '../codec/cbor.js';

export const PROTOCOL_VERSIONS: readonly number[] = Object.freeze([PROTOCOL_VERSION]);

export interface PendingSegment {
  seq: number;
  /** Bytes of segment media (what the manifest's digest covers). */
  length: number;
  /** The signed manifest (COSE_Sign1). */
  manifest: Uint8Array;
}

/** What the camera uploads from: the segment store and its manifests (the recorder provides it). */
export interface UploadSource {
  /** Sealed segments not yet released, by sequence. */
  pending(): PendingSegment[];
  /** Bytes of a segment's media. */
  read(seq: number, offset: number, length: number): Uint8Array;
  /** The signed checkpoint of the camera's head, bound to this session's nonce. */
  checkpoint(sessionNonce: Uint8Array): Uint8Array;
  /**
   * Verify a receipt for this session (dock key, nonce, digests of what the camera holds) and,
   * only if it verifies, persist it and free the segments it covers. Returns what was freed.
   */
  acceptReceipt(receipt: Uint8Array, dock: VerifiedCertificate, sessionNonce: Uint8Array): { seqs: number[]; bytes: number };
}

export interface CameraStatus {
  batteryPercent: number;
  charging: boolean;
  storageTotal: number;
  storageFree: number;
  pendingSegments: number;
  pendingBytes: number;
  bootCounter: number;
  /** The version of the signed configuration the camera holds (0: none), so a dock pushes only a newer one. */
  configVersion: number;
}

/** Session events the recorder writes into its audit ledger. */
export type DockEvent =
  | { kind: 'authenticated'; dock: string }
  | { kind: 'refused'; code: string; message: string }
  | { kind: 'clock-set'; before: number; after: number; drift: number; dock: string }
  | { kind: 'released'; seqs: number[]; bytes: number; dock: string }
  | { kind: 'config'; version: number; dock: string }
  | { kind: 'update'; code: string; message: string; version: string; dock: string }
  | { kind: 'closed'; reason: string };

export interface CameraSessionOptions {
  deviceId: string;
  identity: Signer;
  /** This camera's certificate (COSE), issued at provisioning. */
  certificate: Uint8Array;
  /** The agency root public key set at provisioning. */
  rootKey: Uint8Array;
  /** The agency's revocation list the camera holds (from provisioning, or a later docking). */
  revocations?: RevocationList;
  /**
   * A newer signed revocation list arrived from an authenticated dock and verified against the
   * agency root: keep it (the KeyStore), so the next docking checks against it.
   */
  onRevocations?: (cose: Uint8Array, list: RevocationList) => void;
  /**
   * The latest UTC (ms) the camera knows for certain has passed (a persisted time floor), if any.
   * A dock certificate that expired before it is refused whatever the clock says; the camera's
   * own certificate's notBefore and the revocation list's issue date count too.
   */
  timeFloor?: number;
  firmwareVersion: string;
  source: UploadSource;
  clock: Clock;
  random: Random;
  digest: Digest;
  checksum: Checksum;
  /** The AEAD that seals the session (ChaCha20-Poly1305 in C on a device). */
  cipher: Cipher;
  ed25519?: Ed25519;
  status: () => CameraStatus;
  /** Sign the clock-drift statement the camera makes before the dock sets its clock. */
  driftStatement?: (dockUtc: number, cameraUtc: number, sessionNonce: Uint8Array) => Uint8Array;
  /** Verify and apply a signed configuration; returns its version. */
  applyConfig?: (cose: Uint8Array) => number;
  /** This camera's board (boards/<name>.json), reported in status so a dock offers the right firmware. */
  board?: string;
  /**
   * Firmware updates while docked: a fresh UpdateSession (firmware/update/) for one image.
   * The camera refuses an update while evidence still awaits upload, and anything not newer
   * than what it runs; the session verifies the signature before anything becomes bootable.
   */
  updates?: { open: () => UpdateSessionLike };
  /** Signed audit ledger entries after `after` (an entry index), at most `max`. */
  ledger?: (after: number, max: number) => { entries: Uint8Array[]; more: boolean };
  onEvent?: (e: DockEvent) => void;
}

/** What the camera needs of firmware/update's UpdateSession. */
export interface UpdateSessionLike {
  begin(header: Uint8Array, length: number): { code: string; message: string; offset: number };
  write(offset: number, bytes: Uint8Array): { code: string; message: string; offset: number };
  finish(): { code: string; message: string; offset: number };
  abort(): void;
}

type State = 'idle' | 'hello-sent' | 'dock-proven' | 'authenticated' | 'closed';

export class CameraSession {
  #o: CameraSessionOptions;
  #ed: Ed25519;
  #reader: FrameReader;
  #state: State = 'idle';
  #nonce = new Uint8Array(32);
  /** This session's ephemeral X25519 key (the secret is wiped once the keys are derived). */
  #kx: { secret: Uint8Array; publicKey: Uint8Array } | undefined;
  #dockKx: Uint8Array | undefined;
  /** The sealed channel, from the moment the dock is authenticated: every frame after is sealed and opened by it. */
  #channel: SessionChannel | undefined;
  #hello: Uint8Array | undefined;
  #dockHello: Uint8Array | undefined;
  #dock: VerifiedCertificate | undefined;
  /** The revocation list in force: the one held, or a newer one a dock brought this session. */
  #revoked: RevocationList | undefined;
  #closeReason = '';
  #lastReceipt: { cose: Uint8Array; seqs: number[]; bytes: number } | undefined;
  #update: { session: UpdateSessionLike; version: string; total: number } | undefined;
  /** Frames waiting to be written to the link. */
  #out: Uint8Array[] = [];

  constructor(o: CameraSessionOptions) {
    this.#o = o;
    this.#ed = o.ed25519 ?? defaultEd25519();
    this.#reader = new FrameReader(o.checksum);
    this.#revoked = o.revocations;
  }

  get state(): State {
    return this.#state;
  }
  get closeReason(): string {
    return this.#closeReason;
  }
  get dock(): VerifiedCertificate | undefined {
    return this.#dock;
  }

  /** Begin: the camera's hello. */
  start(): Uint8Array[] {
    this.#o.random.fill(this.#nonce);
    const secret = new Uint8Array(32);
    this.#o.random.fill(secret);
    this.#kx = ephemeralKey(secret);
    this.#hello = encodeMessage('hello', {
      role: 'camera',
      id: this.#o.deviceId,
      cert: this.#o.certificate,
      nonce: this.#nonce,
      kx: this.#kx.publicKey,
      fw: this.#o.firmwareVersion,
      versions: [...PROTOCOL_VERSIONS],
    });
    this.#state = 'hello-sent';
    this.#out.push(frameMessage(this.#hello, this.#o.checksum));
    return this.#take();
  }

  /** Feed bytes from the link; returns frames to write. */
  receive(bytes: Uint8Array): Uint8Array[] {
    if (this.#state === 'closed') return [];
    for (const ev of this.#reader.push(bytes)) {
      if ((this.#state as State) === 'closed') break;
      if (ev.kind === 'fatal') {
        this.#error(ev.error.code, ev.error.message, true);
      } else if (ev.kind === 'corrupt') {
        // A frame lost to its CRC took one of the dock's counters; the dock sends it again under the next.
        this.#channel?.lost();
        this.#error(ev.error.code, ev.error.message, false);
      } else {
        let payload = ev.payload;
        try {
          // After the handshake only the authenticated dock speaks: a frame it didn't seal ends the session.
          if (this.#channel) payload = this.#channel.open(ev);
          else if (ev.flags !== 0) throw new BodycamError('E_AUTH_REQUIRED', 'a sealed frame before the session has keys');
        } catch (e) {
          this.#error(errorCode(e), errorMessage(e), true);
          this.#o.onEvent?.({ kind: 'refused', code: errorCode(e), message: errorMessage(e) });
          continue;
        }
        let m: Message;
        try {
          m = decodeMessage(payload);
        } catch (e) {
          this.#error(errorCode(e), errorMessage(e), false);
          continue;
        }
        try {
          this.#handle(m, payload);
        } catch (e) {
          const code = errorCode(e);
          const fatal = this.#state !== 'authenticated';
          this.#error(code, errorMessage(e), fatal);
          if (fatal) this.#o.onEvent?.({ kind: 'refused', code, message: errorMessage(e) });
        }
      }
    }
    return this.#take();
  }

  /** The link went away. */
  disconnected(reason: string): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#closeReason = reason;
    if (this.#update) {
      this.#update.session.abort();
      this.#update = undefined;
    }
    this.#kx?.secret.fill(0);
    this.#channel?.close();
    this.#channel = undefined;
    this.#o.onEvent?.({ kind: 'closed', reason });
  }

  #take(): Uint8Array[] {
    const out = this.#out;
    this.#out = [];
    return out;
  }

  #send(t: MessageType, fields: Record<string, CborValue> = {}): void {
    if (this.#channel) this.#out.push(this.#channel.seal(encodeMessageWithRoom(t, fields, SEALED_PREFIX, SEALED_SUFFIX)));
    else this.#out.push(frameEncoded(encodeMessageWithRoom(t, fields, HEADER_BYTES, TRAILER_BYTES), this.#o.checksum));
  }

  #error(code: string, message: string, fatal: boolean): void {
    this.#send('error', { code, message: message.slice(0, 256), fatal });
    if (fatal) this.disconnected(`${code}: ${message}`);
  }

  #handle(m: Message, raw: Uint8Array): void {
    if (m.t === 'error') {
      // The dock reports a problem with something we sent; a fatal one ends the session.
      if (m.f.get('fatal') === true) this.disconnected(`dock: ${str(m, 'code')}: ${str(m, 'message')}`);
      return;
    }
    if (m.t === 'bye') {
      this.disconnected(`dock said bye: ${str(m, 'reason')}`);
      return;
    }
    switch (this.#state) {
      case 'hello-sent':
        return this.#dockHelloReceived(m, raw);
      case 'dock-proven':
        if (m.t !== 'auth') throw new BodycamError('E_AUTH_ORDER', `expected the dock's auth, got ${m.t}`);
        return this.#dockAuth(m);
      case 'authenticated':
        return this.#request(m);
      default:
        throw new BodycamError('E_AUTH_ORDER', `unexpected ${m.t} before the session started`);
    }
  }

  #dockHelloReceived(m: Message, raw: Uint8Array): void {
    if (m.t !== 'hello') throw new BodycamError('E_AUTH_REQUIRED', `the dock must authenticate before "${m.t}"`);
    if (str(m, 'role') !== 'dock') throw new BodycamError('E_AUTH_ROLE', 'the peer does not present itself as a dock');
    const versions = arr(m, 'versions');
    if (!versions.some((v) => PROTOCOL_VERSIONS.includes(v as number))) {
      // A dock that offers only the MAC-only protocol (or a relay that says it does) is refused: never a session in clear.
      if (versions.includes(OLD_PROTOCOL_VERSION)) throw new BodycamError('E_PROTO_DOWNGRADE', `the dock offers only protocol version ${OLD_PROTOCOL_VERSION} (not encrypted); this camera speaks ${PROTOCOL_VERSIONS.join(',')}`);
      throw new BodycamError('E_PROTO_VERSION', `no common protocol version (dock: ${versions.join(',')})`);
    }
    // A clock that was never set can't say a certificate is not yet valid, but the camera still
    // knows a time that has certainly passed (timeFloor): an expired dock is refused either way.
    const clockKnown = this.#o.clock.source().source !== 'none';
    const cert = verifyCertificate(bin(m, 'cert'), this.#o.rootKey, { digest: this.#o.digest, ed25519: this.#ed, kind: 'dock', at: clockKnown ? this.#o.clock.utc() : undefined });
    const floor = this.#timeFloor();
    if (cert.notAfter < floor) throw new BodycamError('E_CERT_EXPIRED', `dock certificate ${cert.id} expired ${new Date(cert.notAfter).toISOString()}, before ${new Date(floor).toISOString()}, a time this camera knows has passed`);
    if (cert.id !== str(m, 'id')) throw new BodycamError('E_AUTH_IDENTITY', `the dock says it is ${str(m, 'id')} but its certificate is for ${cert.id}`);
    const revoked = isRevoked(this.#revoked, cert.keyId);
    if (revoked) throw new BodycamError('E_CERT_REVOKED', `dock ${cert.id} is revoked (${revoked.reason})`);
    this.#dock = cert;
    this.#dockKx = bin(m, 'kx');
    this.#dockHello = raw;
    this.#state = 'dock-proven';
  }

  /** The latest UTC this camera knows has passed: its own certificate's start, the revocation list's issue, the persisted floor. */
  #timeFloor(): number {
    let floor = this.#o.timeFloor ?? 0;
    try {
      floor = Math.max(floor, peekCertificate(this.#o.certificate).notBefore);
    } catch {
      // The camera's own certificate is the dock's to judge.
    }
    if (this.#revoked) floor = Math.max(floor, this.#revoked.issued);
    return floor;
  }

  /** A signed revocation list from an authenticated dock: kept if newer; a dock it revokes is dropped at once. */
  #revocations(cose: Uint8Array, dock: VerifiedCertificate): void {
    const list = verifyRevocationList(cose, this.#o.rootKey, { ed25519: this.#ed });
    if (!this.#revoked || list.number > this.#revoked.number) {
      this.#o.onRevocations?.(cose, list);
      this.#revoked = list;
    }
    const revoked = isRevoked(this.#revoked, dock.keyId);
    if (revoked) {
      this.#error('E_CERT_REVOKED', `dock ${dock.id} is revoked (${revoked.reason})`, true);
      return;
    }
    this.#send('revocations-ok', { number: this.#revoked!.number });
  }

  #dockAuth(m: Message): void {
    const transcript = transcriptHash(this.#o.digest, this.#hello!, this.#dockHello!);
    if (!this.#ed.verify(authPayload(transcript, 'dock'), bin(m, 'sig'), this.#dock!.publicKey)) {
      throw new BodycamError('E_AUTH_SIGNATURE', `dock ${this.#dock!.id} did not sign this session's transcript`);
    }
    // Keys bound to this transcript: from here on every frame either way is sealed.
    const keys = deriveSessionKeys(this.#o.digest, this.#kx!.secret, this.#dockKx!, transcript);
    this.#kx!.secret.fill(0);
    this.#send('auth', { sig: this.#o.identity.sign(authPayload(transcript, 'camera')) });
    this.#channel = new SessionChannel({ cipher: this.#o.cipher, checksum: this.#o.checksum, keys, role: 'camera' });
    this.#state = 'authenticated';
    this.#o.onEvent?.({ kind: 'authenticated', dock: this.#dock!.id });
  }

  #request(m: Message): void {
    const dock = this.#dock!;
    switch (m.t) {
      case 'status?': {
        const s = this.#o.status();
        const src = this.#o.clock.source();
        this.#send('status', {
          ...s,
          fw: this.#o.firmwareVersion,
          board: this.#o.board ?? 'unknown',
          utc: this.#o.clock.utc(),
          monotonic: this.#o.clock.monotonic(),
          clockSource: src.source,
          lastSync: src.lastSync,
        });
        return;
      }
      case 'time': {
        const dockUtc = num(m, 'utc');
        if (!this.#ed.verify(timePayload(this.#nonce, dockUtc), bin(m, 'sig'), dock.publicKey)) {
          throw new BodycamError('E_TIME_SIGNATURE', 'the time from the dock is not signed for this session');
        }
        const before = this.#o.clock.utc();
        if (this.#o.driftStatement) this.#send('drift', { statement: this.#o.driftStatement(dockUtc, before, this.#nonce) });
        this.#o.clock.setUtc(dockUtc, 'dock');
        this.#o.onEvent?.({ kind: 'clock-set', before, after: dockUtc, drift: before - dockUtc, dock: dock.id });
        return;
      }
      case 'revocations':
        return this.#revocations(bin(m, 'cose'), dock);
      case 'head?':
        this.#send('checkpoint', { cose: this.#o.source.checkpoint(this.#nonce) });
        return;
      case 'inventory?': {
        const after = num(m, 'after');
        const all = this.#o.source.pending().filter((s) => s.seq > after);
        const page = all.slice(0, MAX_INVENTORY);
        this.#send('inventory', { segments: page.map((s) => ({ seq: s.seq, length: s.length, manifest: s.manifest })), more: all.length > page.length });
        return;
      }
      case 'pull': {
        const seq = num(m, 'seq');
        const offset = num(m, 'offset');
        const seg = this.#o.source.pending().find((s) => s.seq === seq);
        if (!seg) throw new BodycamError('E_NO_SEGMENT', `segment ${seq} is not awaiting upload on this camera`);
        if (offset > seg.length) throw new BodycamError('E_OFFSET', `offset ${offset} is past the end of segment ${seq} (${seg.length} bytes)`);
        const length = Math.min(num(m, 'length'), seg.length - offset);
        const data = this.#o.source.read(seq, offset, length);
        this.#send('chunk', { seq, offset, data });
        return;
      }
      case 'receipt': {
        const cose = bin(m, 'cose');
        // The same receipt again in this session (our answer was lost): answer again, free nothing twice.
        if (this.#lastReceipt && sameBytes(this.#lastReceipt.cose, cose)) {
          this.#send('released', { seqs: this.#lastReceipt.seqs, bytes: this.#lastReceipt.bytes });
          return;
        }
        const freed = this.#o.source.acceptReceipt(cose, dock, this.#nonce);
        this.#lastReceipt = { cose, ...freed };
        this.#send('released', { seqs: freed.seqs, bytes: freed.bytes });
        this.#o.onEvent?.({ kind: 'released', seqs: freed.seqs, bytes: freed.bytes, dock: dock.id });
        return;
      }
      case 'config': {
        if (!this.#o.applyConfig) throw new BodycamError('E_UNSUPPORTED', 'this camera takes no configuration');
        const version = this.#o.applyConfig(bin(m, 'cose'));
        this.#send('config-ok', { version });
        this.#o.onEvent?.({ kind: 'config', version, dock: dock.id });
        return;
      }
      case 'ledger?': {
        const page = this.#o.ledger ? this.#o.ledger(num(m, 'after'), 64) : { entries: [], more: false };
        this.#send('ledger', page as unknown as Record<string, CborValue>);
        return;
      }
      case 'update-chunk':
        return this.#updateChunk(m, dock.id);
      default:
        throw new BodycamError('E_PROTO_UNEXPECTED', `a camera does not accept "${m.t}"`);
    }
  }

  #updateChunk(m: Message, dock: string): void {
    const version = str(m, 'version');
    const total = num(m, 'total');
    const offset = num(m, 'offset');
    const data = bin(m, 'data');
    const ack = (r: { code: string; message: string; offset: number }, done: boolean) => {
      this.#send('update-ack', { code: r.code, message: r.message.slice(0, 256), offset: r.offset, done });
      if (done) {
        this.#update = undefined;
        this.#o.onEvent?.({ kind: 'update', code: r.code, message: r.message, version, dock });
      }
    };
    if (offset === 0) {
      this.#update?.session.abort();
      this.#update = undefined;
      if (!this.#o.updates) return ack({ code: 'E_UNSUPPORTED', message: 'this camera takes no firmware over the dock', offset: 0 }, true);
      const pending = this.#o.source.pending().length;
      if (pending > 0) return ack({ code: 'E_UPDATE_PENDING', message: `${pending} segments still await upload; update after they are receipted`, offset: 0 }, true);
      if (!newerVersion(version, this.#o.firmwareVersion)) return ack({ code: 'E_UPDATE_NOT_NEWER', message: `firmware ${version} is not newer than ${this.#o.firmwareVersion}`, offset: 0 }, true);
      const session = this.#o.updates.open();
      this.#update = { session, version, total };
      let r = session.begin(data.subarray(0, 32), total);
      if (r.code === 'OK' && data.length > 32) r = session.write(32, data.subarray(32));
      return this.#afterWrite(r, ack);
    }
    if (!this.#update || this.#update.version !== version || this.#update.total !== total) {
      return ack({ code: 'E_UPDATE_STATE', message: 'no update of that image in progress; start again at offset 0', offset: 0 }, true);
    }
    this.#afterWrite(this.#update.session.write(offset, data), ack);
  }

  #afterWrite(r: { code: string; message: string; offset: number }, ack: (r: { code: string; message: string; offset: number }, done: boolean) => void): void {
    const u = this.#update!;
    if (r.code === 'OK' && r.offset >= u.total) return ack(u.session.finish(), true);
    // E_FW_OFFSET: the dock resends from r.offset (tus); any other refusal ends this image.
    ack(r, r.code !== 'OK' && r.code !== 'E_FW_OFFSET');
  }
}

/** a > b for dotted versions ("1.2.3", "1.2.3+4"); false when either can't be read. */
export function newerVersion(a: string, b: string): boolean {
  const parse = (v: string) => {
    const m = /(\d+)\.(\d+)\.(\d+)(?:\+(\d+))?$/.exec(v);
    return m ? [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4] ?? 0)] : undefined;
  };
  const x = parse(a);
  const y = parse(b);
  if (!x || !y) return false;
  for (let i = 0; i < 4; i++) if (x[i] !== y[i]) return x[i] > y[i];
  return false;
}
