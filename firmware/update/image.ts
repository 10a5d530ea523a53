// Signed firmware images in MCUboot's layout (mcu-tools/mcuboot, docs/design.md and
// scripts/imgtool/image.py), so that MCUboot's documentation describes our images and imgtool
// can inspect them. docs/FORMAT.md, "Firmware images", gives every byte; in short:
//
//   header (32 bytes, ih_hdr_size) | payload (ih_img_size) | protected TLVs | TLVs
//
// - header: magic 0x96f3b83d, load address, header size, protected TLV size, image size, flags,
//   version (major u8, minor u8, revision u16, build u32), all little-endian;
// - protected TLVs (info magic 0x6908): SEC_CNT 0x50 (u32 security counter) and our board id
//   0x00A0 (UTF-8 board name; MCUboot leaves types xxA0-xxFF to vendors);
// - TLVs (info magic 0x6907): SHA256 0x10 of header||payload||protected TLVs, KEYHASH 0x01
//   (SHA-256 of the key's DER SubjectPublicKeyInfo, as imgtool), ED25519 0x24: the signature
//   over that 32-byte SHA-256 (imgtool's Ed25519 `sign_digest`), not over the image itself.
//
// This module parses and builds images; it never loops over payload bytes (hashing goes
// through the Digest port), so the camera can run it on a 1.5 MiB image.

import { BodycamError } from '../errors.js';
import { utf8Decode, utf8Encode } from '../codec/utf8.js';
import type { Digest } from '../platform/digest.js';
import { sha256Of } from '../platform/digest.js';

export const IMAGE_MAGIC = 0x96f3b83d;
export const IMAGE_HEADER_SIZE = 32;
export const TLV_INFO_MAGIC = 0x6907;
export const TLV_PROT_INFO_MAGIC = 0x6908;
export const TLV_INFO_SIZE = 4;
export const TLV_HEADER_SIZE = 4;

export const TLV = Object.freeze({
  KEYHASH: 0x01,
  SHA256: 0x10,
  ED25519: 0x24,
  SEC_CNT: 0x50,
  /** Vendor range (MCUboot: "xxA0-xxFF are vendor specific"): the board this image is built for. */
  BOARD: 0x00a0,
});

/** Bound on the two TLV areas together: they are buffered in RAM while the payload streams. */
export const MAX_TRAILER = 1024;
export const MAX_BOARD_LENGTH = 64;

/** DER SubjectPublicKeyInfo prefix of an Ed25519 key (RFC 8410): imgtool hashes this || key. */
export const ED25519_SPKI_PREFIX = Object.freeze([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);

export interface ImageVersion {
  major: number;
  minor: number;
  revision: number;
  build: number;
}

export interface ImageHeader {
  loadAddr: number;
  headerSize: number;
  /** Bytes of the protected TLV area, its info header included (0: none). */
  protectedTlvSize: number;
  /** Payload bytes (the header excluded). */
  imageSize: number;
  flags: number;
  version: ImageVersion;
}

export interface ImageTlvs {
  securityCounter: number;
  board: string;
  sha256: Uint8Array;
  keyHash: Uint8Array;
  signature: Uint8Array;
}

/** "1.2.3" or "1.2.3+4" (imgtool's form). */
export function parseVersion(text: string): ImageVersion {
  const m = /^(\d+)\.(\d+)\.(\d+)(?:\+(\d+))?$/.exec(text);
  const v = m && { major: Number(m[1]), minor: Number(m[2]), revision: Number(m[3]), build: Number(m[4] ?? 0) };
  if (!v || v.major > 255 || v.minor > 255 || v.revision > 0xffff || v.build > 0xffffffff) {
    throw new BodycamError('E_USAGE', `version "${text}" must be MAJOR.MINOR.REVISION[+BUILD] with major, minor ≤ 255, revision ≤ 65535`);
  }
  return v;
}

export function versionText(v: ImageVersion): string {
  return `${v.major}.${v.minor}.${v.revision}${v.build ? `+${v.build}` : ''}`;
}

/** imgtool's `--security-counter auto`: (major << 24) + (minor << 16) + revision. */
export function autoSecurityCounter(v: ImageVersion): number {
  return v.major * 0x1000000 + v.minor * 0x10000 + v.revision;
}

/** KEYHASH of an Ed25519 public key: SHA-256 of its DER SubjectPublicKeyInfo, as imgtool writes it. */
export function firmwareKeyHash(publicKey: Uint8Array, digest: Digest): Uint8Array {
  if (publicKey.length !== 32) throw new BodycamError('E_KEY', `an Ed25519 public key is 32 bytes, not ${publicKey.length}`);
  return sha256Of(digest, new Uint8Array(ED25519_SPKI_PREFIX), publicKey);
}

/**
 * The firmware key's id — the one every tool prints (keygen, sign, flash, provision, verify) and
 * the camera names in E_FW_KEY: the first 8 bytes of KEYHASH. An image carries only KEYHASH, so
 * a camera can name a key it does not trust by nothing else; an id from the bare key (the
 * certificates' key id, FORMAT.md) would differ.
 */
export const FIRMWARE_KEY_ID_LENGTH = 8;
export function firmwareKeyId(publicKey: Uint8Array, digest: Digest): Uint8Array {
  return firmwareKeyHash(publicKey, digest).slice(0, FIRMWARE_KEY_ID_LENGTH);
}

function fail(code: string, message: string): never {
  throw new BodycamError(code, message);
}

/** The 32-byte image header; refuses what this camera can't install (encrypted, RAM-load...). */
export function parseHeader(bytes: Uint8Array): ImageHeader {
  if (bytes.length < IMAGE_HEADER_SIZE) fail('E_FW_FORMAT', `an image header is ${IMAGE_HEADER_SIZE} bytes, got ${bytes.length}`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, IMAGE_HEADER_SIZE);
  if (v.getUint32(0, true) !== IMAGE_MAGIC) fail('E_FW_FORMAT', 'not a firmware image: the header magic is not MCUboot\'s 0x96f3b83d');
  const h: ImageHeader = {
    loadAddr: v.getUint32(4, true),
    headerSize: v.getUint16(8, true),
    protectedTlvSize: v.getUint16(10, true),
    imageSize: v.getUint32(12, true),
    flags: v.getUint32(16, true),
    version: { major: v.getUint8(20), minor: v.getUint8(21), revision: v.getUint16(22, true), build: v.getUint32(24, true) },
  };
  if (h.headerSize < IMAGE_HEADER_SIZE || h.headerSize > 4096) fail('E_FW_FORMAT', `header size ${h.headerSize} is outside ${IMAGE_HEADER_SIZE}..4096`);
  if (h.flags !== 0) fail('E_FW_FORMAT', `image flags 0x${h.flags.toString(16)} (encrypted, RAM-load or non-bootable) are not supported; sign a plain image`);
  if (h.imageSize === 0) fail('E_FW_FORMAT', 'the image has no payload');
  if (h.protectedTlvSize !== 0 && h.protectedTlvSize < TLV_INFO_SIZE) fail('E_FW_FORMAT', `protected TLV size ${h.protectedTlvSize} is smaller than its info header`);
  if (h.protectedTlvSize > MAX_TRAILER) fail('E_FW_FORMAT', `protected TLV area of ${h.protectedTlvSize} bytes exceeds ${MAX_TRAILER}`);
  return h;
}

/** Offset of the unprotected TLV info header. */
export function tlvOffset(h: ImageHeader): number {
  return h.headerSize + h.imageSize + h.protectedTlvSize;
}

interface RawTlv {
  type: number;
  value: Uint8Array;
}

function readArea(area: Uint8Array, magic: number, what: string): RawTlv[] {
  if (area.length < TLV_INFO_SIZE) fail('E_FW_TRUNCATED', `the ${what} area is missing`);
  const v = new DataView(area.buffer, area.byteOffset, area.length);
  if (v.getUint16(0, true) !== magic) fail('E_FW_FORMAT', `the ${what} area does not start with magic 0x${magic.toString(16)}`);
  const total = v.getUint16(2, true);
  if (total > area.length) fail('E_FW_TRUNCATED', `the ${what} area says ${total} bytes, the image holds ${area.length}: the image is cut short`);
  if (total < area.length) fail('E_FW_FORMAT', `the ${what} area says ${total} bytes, the image holds ${area.length}`);
  const out: RawTlv[] = [];
  for (let at = TLV_INFO_SIZE; at < area.length; ) {
    if (at + TLV_HEADER_SIZE > area.length) fail('E_FW_FORMAT', `a ${what} entry header runs past the area`);
    const type = v.getUint16(at, true);
    const len = v.getUint16(at + 2, true);
    if (at + TLV_HEADER_SIZE + len > area.length) fail('E_FW_FORMAT', `${what} entry 0x${type.toString(16)} runs past the area`);
    out.push({ type, value: area.subarray(at + TLV_HEADER_SIZE, at + TLV_HEADER_SIZE + len) });
    at += TLV_HEADER_SIZE + len;
  }
  return out;
}

function one(list: RawTlv[], type: number, length: number | undefined, name: string): Uint8Array {
  const found = list.filter((t) => t.type === type);
  if (found.length !== 1) fail('E_FW_FORMAT', `the image has ${found.length} ${name} TLVs (0x${type.toString(16)}); exactly one is required`);
  if (length !== undefined && found[0].value.length !== length) fail('E_FW_FORMAT', `${name} TLV is ${found[0].value.length} bytes, not ${length}`);
  return found[0].value;
}

/**
 * The TLVs after the payload: `protectedArea` (header.protectedTlvSize bytes) and `area` (the
 * unprotected TLV area, info header included). Protected TLVs are signed: an unknown one is
 * refused (we can't honour a constraint we don't understand); unknown unprotected ones are
 * ignored as MCUboot does (nothing vouches for them).
 */
export function parseTlvs(protectedArea: Uint8Array, area: Uint8Array): ImageTlvs {
  if (protectedArea.length === 0) fail('E_FW_FORMAT', 'the image has no protected TLVs (security counter and board are required)');
  const prot = readArea(protectedArea, TLV_PROT_INFO_MAGIC, 'protected TLV');
  for (const t of prot) if (t.type !== TLV.SEC_CNT && t.type !== TLV.BOARD) fail('E_FW_FORMAT', `unknown protected TLV 0x${t.type.toString(16)}`);
  const counter = one(prot, TLV.SEC_CNT, 4, 'SEC_CNT');
  const boardBytes = one(prot, TLV.BOARD, undefined, 'board');
  const board = boardBytes.length > 0 && boardBytes.length <= MAX_BOARD_LENGTH ? utf8Decode(boardBytes) : undefined;
  if (board === undefined) fail('E_FW_FORMAT', `the board TLV must be 1..${MAX_BOARD_LENGTH} bytes of UTF-8`);
  const tlvs = readArea(area, TLV_INFO_MAGIC, 'TLV');
  return {
    securityCounter: new DataView(counter.buffer, counter.byteOffset, 4).getUint32(0, true),
    board,
    sha256: one(tlvs, TLV.SHA256, 32, 'SHA256'),
    keyHash: one(tlvs, TLV.KEYHASH, 32, 'KEYHASH'),
    signature: one(tlvs, TLV.ED25519, 64, 'ED25519'),
  };
}

// ------------------------------------------------------------------------------ building

export interface BuildImageOptions {
  payload: Uint8Array;
  version: ImageVersion;
  /** Default: imgtool's auto value from the version. */
  securityCounter?: number;
  board: string;
  /** Signs the 32-byte SHA-256 (a Signer from firmware/signing: the armoury's firmware key). */
  signer: { readonly publicKey: Uint8Array; sign(message: Uint8Array): Uint8Array };
  digest: Digest;
  loadAddr?: number;
}

function tlvArea(magic: number, entries: [number, Uint8Array][]): Uint8Array {
  const size = TLV_INFO_SIZE + entries.reduce((n, [, v]) => n + TLV_HEADER_SIZE + v.length, 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint16(0, magic, true);
  v.setUint16(2, size, true);
  let at = TLV_INFO_SIZE;
  for (const [type, value] of entries) {
    v.setUint16(at, type, true);
    v.setUint16(at + 2, value.length, true);
    out.set(value, at + TLV_HEADER_SIZE);
    at += TLV_HEADER_SIZE + value.length;
  }
  return out;
}

/** A signed image: what `bodycam firmware sign` writes (host side; the camera only verifies). */
export function buildImage(o: BuildImageOptions): Uint8Array {
  if (o.payload.length === 0) fail('E_USAGE', 'the payload is empty');
  const counter = o.securityCounter ?? autoSecurityCounter(o.version);
  if (!Number.isInteger(counter) || counter < 0 || counter > 0xffffffff) fail('E_USAGE', `security counter ${counter} must be a 32-bit unsigned integer`);
  const board = utf8Encode(o.board);
  if (board.length === 0 || board.length > MAX_BOARD_LENGTH) fail('E_USAGE', `board name must be 1..${MAX_BOARD_LENGTH} bytes`);
  const sc = new Uint8Array(4);
  new DataView(sc.buffer).setUint32(0, counter, true);
  const prot = tlvArea(TLV_PROT_INFO_MAGIC, [[TLV.SEC_CNT, sc], [TLV.BOARD, board]]);
  const header = new Uint8Array(IMAGE_HEADER_SIZE);
  const h = new DataView(header.buffer);
  h.setUint32(0, IMAGE_MAGIC, true);
  h.setUint32(4, o.loadAddr ?? 0, true);
  h.setUint16(8, IMAGE_HEADER_SIZE, true);
  h.setUint16(10, prot.length, true);
  h.setUint32(12, o.payload.length, true);
  h.setUint32(16, 0, true);
  h.setUint8(20, o.version.major);
  h.setUint8(21, o.version.minor);
  h.setUint16(22, o.version.revision, true);
  h.setUint32(24, o.version.build, true);
  const hash = sha256Of(o.digest, header, o.payload, prot);
  const tlvs = tlvArea(TLV_INFO_MAGIC, [[TLV.SHA256, hash], [TLV.KEYHASH, firmwareKeyHash(o.signer.publicKey, o.digest)], [TLV.ED25519, o.signer.sign(hash)]]);
  const out = new Uint8Array(header.length + o.payload.length + prot.length + tlvs.length);
  out.set(header, 0);
  out.set(o.payload, header.length);
  out.set(prot, header.length + o.payload.length);
  out.set(tlvs, header.length + o.payload.length + prot.length);
  return out;
}
