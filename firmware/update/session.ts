// One firmware update on the camera: a signed image arrives in chunks (from the dock session or
// a serial link), is hashed through the Digest port as it arrives, its payload written to an
// UpdateTarget, and only when the whole image is in and verified — SHA-256, a key from the
// firmware key set, the Ed25519 signature, this board, a security counter not below the
// camera's — is the target completed (made bootable). Any refusal closes the target without
// completing it, so the running firmware stays the boot image.
//
// Promises:
// - every call returns an UpdateResult with a stable `code` ('OK' or E_FW_*), never throws for a
//   bad image; once refused, a session stays refused (same code) and writes nothing more;
// - offsets are checked like tus: a chunk at the wrong offset is refused with E_FW_OFFSET and
//   the expected offset, and the session goes on;
// - the security counter is raised (KeyStore) before the target is completed, so a cut between
//   the two can't leave a window where an older signed image is still accepted;
// - RAM: the header, at most MAX_TRAILER bytes of TLVs, one Digest context; payload bytes are
//   never copied or looped over in JavaScript.
//
// Usage (dock side of the camera): begin(first 32 bytes, total length), then write(offset,
// chunk) from offset 32 on, then finish(). abort() on a lost link.

import { BodycamError, errorCode } from '../errors.js';
import type { Digest, DigestContext } from '../platform/digest.js';
import { defaultEd25519, type Ed25519 } from '../signing/ed25519.js';
import { sameBytes } from '../signing/signer.js';
import { toHex } from '../codec/cbor.js';
import { FIRMWARE_KEY_ID_LENGTH, firmwareKeyHash, IMAGE_HEADER_SIZE, MAX_TRAILER, parseHeader, parseTlvs, tlvOffset, versionText, TLV_INFO_SIZE, type ImageHeader } from './image.js';
import { discardTarget, type UpdateTarget, type UpdateTargetOpener } from './target.js';
import type { FirmwareTrust } from './trust.js';

export const UPDATE_CODES = Object.freeze([
  'OK',
  'E_FW_OFFSET', // a chunk at the wrong offset (not fatal: resend from `offset`)
  'E_FW_STATE', // a call out of order (not fatal)
  'E_FW_FORMAT', // not an image we can parse or install
  'E_FW_TOO_LARGE', // payload larger than the slot
  'E_FW_TRUNCATED', // fewer bytes than the image needs
  'E_FW_HASH', // SHA-256 of header, payload and protected TLVs doesn't match its TLV
  'E_FW_NO_KEY', // no firmware key provisioned
  'E_FW_KEY', // signed by a key this camera doesn't trust
  'E_FW_SIGNATURE', // the Ed25519 signature doesn't verify
  'E_FW_BOARD', // built for another board
  'E_FW_ROLLBACK', // security counter below the camera's
  'E_FW_COUNTER', // the camera's counter can't be read
  'E_FW_WRITE', // the target (flash) failed
] as const);

export type UpdateCode = (typeof UPDATE_CODES)[number];

export interface ImageInfo {
  version: string;
  securityCounter: number;
  board: string;
  payloadLength: number;
  /** Hex of the first 8 bytes of the KEYHASH TLV. */
  keyId: string;
  /** Hex SHA-256 of header || payload || protected TLVs. */
  digest: string;
}

export interface UpdateResult {
  code: UpdateCode;
  message: string;
  /** The next offset the session expects. */
  offset: number;
  /** After a successful finish(): what was installed. */
  image?: ImageInfo;
}

export interface UpdateSessionOptions {
  target: UpdateTargetOpener;
  trust: FirmwareTrust;
  digest: Digest;
  /** This camera's board name (boards/<name>.json); images for another board are refused. */
  board: string;
  /** Largest payload the target slot holds. */
  maxPayload?: number;
  /** The camera's Ed25519 (firmware/main.ts: NobleEd25519); verifyImage on a host may use any. */
  ed25519: Ed25519;
}

type State = 'idle' | 'receiving' | 'installed' | 'refused';

export class UpdateSession {
  #o: UpdateSessionOptions;
  #state: State = 'idle';
  #refusal: UpdateResult | undefined;
  #header: ImageHeader | undefined;
  #headerBytes = new Uint8Array(0);
  #length = 0;
  #received = 0;
  #hash: DigestContext | undefined;
  #trailer = new Uint8Array(0);
  #target: UpdateTarget | undefined;

  constructor(o: UpdateSessionOptions) {
    this.#o = o;
  }

  get state(): State {
    return this.#state;
  }

  /** The image header's version, once begun. */
  get version(): string | undefined {
    return this.#header && versionText(this.#header.version);
  }

  /** `header`: the first 32 bytes of the image; `length`: the whole image's length in bytes. */
  begin(header: Uint8Array, length: number): UpdateResult {
    if (this.#state !== 'idle') return this.#result('E_FW_STATE', `begin() on a session that is ${this.#state}`);
    if (!(header instanceof Uint8Array) || header.length !== IMAGE_HEADER_SIZE) return this.#refuse('E_FW_FORMAT', `begin() takes the first ${IMAGE_HEADER_SIZE} bytes of the image`);
    try {
      const h = parseHeader(header);
      const hashEnd = tlvOffset(h);
      if (!Number.isSafeInteger(length) || length < hashEnd + TLV_INFO_SIZE) {
        return this.#refuse('E_FW_TRUNCATED', `the image is ${length} bytes; its header needs at least ${hashEnd + TLV_INFO_SIZE}`);
      }
      if (length - (h.headerSize + h.imageSize) > MAX_TRAILER) return this.#refuse('E_FW_FORMAT', `the TLV areas exceed ${MAX_TRAILER} bytes`);
      const max = this.#o.maxPayload ?? Infinity;
      if (h.imageSize > max) return this.#refuse('E_FW_TOO_LARGE', `the payload is ${h.imageSize} bytes; the update slot holds ${max}`);
      this.#header = h;
      this.#headerBytes = header.slice();
      this.#length = length;
      this.#trailer = new Uint8Array(length - (h.headerSize + h.imageSize));
      this.#hash = this.#o.digest.create('SHA256');
      this.#hash.write(this.#headerBytes);
      this.#received = IMAGE_HEADER_SIZE;
      this.#state = 'receiving';
      this.#target = this.#o.target.open({ byteLength: h.imageSize, mode: 'w' });
    } catch (e) {
      return this.#refuseError(e);
    }
    return this.#result('OK', `receiving firmware ${versionText(this.#header.version)}, ${length} bytes`);
  }

  /** Bytes of the image at `offset` (which must be where the last chunk ended). */
  write(offset: number, bytes: Uint8Array): UpdateResult {
    if (this.#state === 'refused') return this.#refusal!;
    if (this.#state !== 'receiving') return this.#result('E_FW_STATE', `write() on a session that is ${this.#state}`);
    if (offset !== this.#received) return this.#result('E_FW_OFFSET', `chunk at ${offset}; the next byte expected is ${this.#received}`);
    const end = offset + bytes.length;
    if (end > this.#length) return this.#refuse('E_FW_FORMAT', `chunk ends at ${end}, past the ${this.#length} bytes announced`);
    const h = this.#header!;
    const payloadStart = h.headerSize;
    const trailerStart = h.headerSize + h.imageSize;
    const hashEnd = tlvOffset(h);
    try {
      if (offset < hashEnd) this.#hash!.write(bytes.subarray(0, Math.min(bytes.length, hashEnd - offset)));
      const pFrom = Math.max(offset, payloadStart);
      const pTo = Math.min(end, trailerStart);
      if (pFrom < pTo) this.#target!.write(bytes.subarray(pFrom - offset, pTo - offset), pFrom - payloadStart);
      const tFrom = Math.max(offset, trailerStart);
      if (tFrom < end) this.#trailer.set(bytes.subarray(tFrom - offset), tFrom - trailerStart);
    } catch (e) {
      return this.#refuseError(e, 'E_FW_WRITE');
    }
    this.#received = end;
    return this.#result('OK', `${end} of ${this.#length} bytes`);
  }

  /** Verify the whole image and, only if it passes, make it the next boot image. */
  finish(): UpdateResult {
    if (this.#state === 'refused' || this.#state === 'installed') return this.#refusal ?? this.#result('E_FW_STATE', 'finish() twice');
    if (this.#state !== 'receiving') return this.#result('E_FW_STATE', 'finish() before begin()');
    if (this.#received < this.#length) return this.#refuse('E_FW_TRUNCATED', `${this.#received} of ${this.#length} bytes arrived`);
    const h = this.#header!;
    let image: ImageInfo;
    try {
      const prot = this.#trailer.subarray(0, h.protectedTlvSize);
      const tlvs = parseTlvs(prot, this.#trailer.subarray(h.protectedTlvSize));
      const computed = new Uint8Array(this.#hash!.close());
      this.#hash = undefined;
      if (!sameBytes(computed, tlvs.sha256)) return this.#refuse('E_FW_HASH', 'the image is corrupt or altered: its SHA-256 does not match the SHA256 TLV');
      const keys = this.#o.trust.keys();
      if (keys.length === 0) return this.#refuse('E_FW_NO_KEY', 'no firmware key is provisioned on this camera; provision it before updating');
      const key = keys.find((k) => sameBytes(firmwareKeyHash(k, this.#o.digest), tlvs.keyHash));
      if (!key) return this.#refuse('E_FW_KEY', `signed by key ${toHex(tlvs.keyHash.subarray(0, FIRMWARE_KEY_ID_LENGTH))}, which this camera does not trust`);
      const ed = this.#o.ed25519;
      if (!ed.verify(computed, tlvs.signature, key)) return this.#refuse('E_FW_SIGNATURE', 'the Ed25519 signature does not verify: the image was not signed by the firmware key');
      if (tlvs.board !== this.#o.board) return this.#refuse('E_FW_BOARD', `the image is for board "${tlvs.board}"; this camera is "${this.#o.board}"`);
      const floor = this.#o.trust.counter();
      if (tlvs.securityCounter < floor) return this.#refuse('E_FW_ROLLBACK', `security counter ${tlvs.securityCounter} is below this camera's ${floor}: an older firmware can't be installed`);
      image = {
        version: versionText(h.version),
        securityCounter: tlvs.securityCounter,
        board: tlvs.board,
        payloadLength: h.imageSize,
        keyId: toHex(tlvs.keyHash.subarray(0, FIRMWARE_KEY_ID_LENGTH)),
        digest: toHex(computed),
      };
      this.#o.trust.raise(tlvs.securityCounter);
    } catch (e) {
      return this.#refuseError(e);
    }
    try {
      this.#target!.complete();
      this.#target!.close();
    } catch (e) {
      return this.#refuseError(e, 'E_FW_WRITE');
    }
    this.#target = undefined;
    this.#state = 'installed';
    const done: UpdateResult = { code: 'OK', message: `firmware ${image.version} installed; it runs after a restart`, offset: this.#received, image };
    this.#refusal = done;
    return done;
  }

  /** Give up (link lost, dock left): nothing becomes bootable. */
  abort(): void {
    if (this.#state === 'receiving') this.#refuse('E_FW_STATE', 'the update was aborted');
  }

  #result(code: UpdateCode, message: string): UpdateResult {
    return { code, message: code === 'OK' ? message : `${code}: ${message}`, offset: this.#received };
  }

  #refuse(code: UpdateCode, message: string): UpdateResult {
    const r = this.#result(code, message);
    this.#state = 'refused';
    this.#refusal = r;
    this.#hash = undefined;
    const t = this.#target;
    this.#target = undefined;
    try {
      t?.close();
    } catch {
      // the target is being abandoned; what matters is that complete() was never called
    }
    return r;
  }

  #refuseError(e: unknown, fallback: UpdateCode = 'E_FW_FORMAT'): UpdateResult {
    const code = errorCode(e);
    const known = (UPDATE_CODES as readonly string[]).includes(code) ? (code as UpdateCode) : fallback;
    const text = e instanceof BodycamError ? e.message.replace(/^E_[A-Z_]+: /, '') : String(e);
    return this.#refuse(known, code === known ? text : `${code}: ${text}`);
  }
}

/** Feed a whole image to a session in chunks of `chunk` bytes (a serial loader, tests, the armoury). */
export function feedImage(session: UpdateSession, image: Uint8Array, chunk = 4096): UpdateResult {
  const head = image.subarray(0, IMAGE_HEADER_SIZE);
  let r = session.begin(head.length === IMAGE_HEADER_SIZE ? head : new Uint8Array(0), image.length);
  for (let at = IMAGE_HEADER_SIZE; r.code === 'OK' && at < image.length; at += chunk) r = session.write(at, image.subarray(at, Math.min(image.length, at + chunk)));
  return r.code === 'OK' ? session.finish() : r;
}

export interface VerifyImageOptions {
  trust: FirmwareTrust;
  digest: Digest;
  /** The board it must be for; omitted: whatever board the image names (reported in `image`). */
  board?: string;
  ed25519?: Ed25519;
}

/** Verify a whole image in memory without installing it (the armoury's `bodycam firmware verify`). */
export function verifyImage(image: Uint8Array, o: VerifyImageOptions): UpdateResult {
  let board = o.board;
  if (board === undefined) {
    try {
      const h = parseHeader(image);
      const at = h.headerSize + h.imageSize;
      board = parseTlvs(image.subarray(at, at + h.protectedTlvSize), image.subarray(at + h.protectedTlvSize)).board;
    } catch {
      board = ''; // the session reports what is wrong with the image
    }
  }
  const session = new UpdateSession({ target: discardTarget, trust: o.trust, digest: o.digest, board, ed25519: o.ed25519 ?? defaultEd25519() });
  return feedImage(session, image, 64 * 1024);
}
