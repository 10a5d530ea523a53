// Sealed records: a segment's frame and audio records encrypted as they are written
// (docs/FORMAT.md, "Sealed segments: encryption at capture").
//
// Each segment (and the pre-event ring, which becomes one) has a fresh 32-byte content key from
// the Random port, wrapped with HPKE base mode (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256,
// ChaCha20Poly1305) to each agency evidence key. The AEAD is named by the scheme and by every
// record prefix's version byte: version 2 (`bodycam-sealed/2`) is ChaCha20-Poly1305, what the
// camera writes; version 1 (`bodycam-sealed/1`) is AES-256-GCM, still read. Record r of the stream is two STREAM chunks under
// the content key (firmware/crypto/stream.ts): its header is chunk 2r, its body chunk 2r+1, each
// with a detached tag, both bound to the record's 12-byte clear prefix (length and index). The
// END record's empty body is the final chunk.
//
// Promises:
// - The body (the camera's JPEG buffer, the microphone's samples) is sealed in place through the
//   Cipher port; the header goes into one reused buffer: no allocation and no JavaScript loop over
//   media bytes per record, so the cost of a record does not grow with its size.
// - A (key, nonce) pair is never used twice: the key is fresh per stream and the STREAM index only
//   grows; nothing can be sealed after END (E_STREAM_FINISHED).
// - close() closes the AEAD contexts and zeroes the content key; the key is never written out.
// - Reading is strict: SealedMediaOpener refuses a changed byte (E_STREAM_AUTH), a record out of
//   order, dropped or repeated (E_STREAM_ORDER), a stream without its final chunk or with bytes
//   after it (E_STREAM_TRUNCATED), a wrapped key that does not open (E_HPKE_OPEN).

import { isBytes, type CborValue } from '../codec/cbor.js';
import { utf8Encode } from '../codec/utf8.js';
import { BodycamError } from '../errors.js';
import type { AeadContext, Cipher } from '../platform/cipher.js';
import type { Digest } from '../platform/digest.js';
import type { Random } from '../platform/random.js';
import { toBytes, type BufferLike } from '../platform/buffers.js';
import { HPKE_X25519_SHA256_AES256GCM, HPKE_X25519_SHA256_CHACHA20POLY1305, openBase, sealBase, type HpkeEnv, type HpkeSuite } from '../crypto/hpke.js';
import { StreamOpener, streamNonce, type StreamAead } from '../crypto/stream.js';
import { evidenceKeyId } from '../provision/evidence-keys.js';

/** The scheme the camera writes, in META and in the manifest's `sealed` map (ChaCha20-Poly1305). */
export const SEALED_SCHEME = 'bodycam-sealed/2';
/** The first scheme (AES-256-GCM): still read. */
export const SEALED_SCHEME_AES = 'bodycam-sealed/1';
export const SEALED_MAGIC_0 = 0x53; // 'S'
export const SEALED_MAGIC_1 = 0x52; // 'R'
/** The record prefix's version byte the camera writes (2: ChaCha20-Poly1305; 1: AES-256-GCM). */
export const SEALED_VERSION = 2;

/** What a scheme (and its records' version byte) names: the HPKE suite and the STREAM AEAD. */
export interface SealedSuite {
  scheme: string;
  version: number;
  hpke: HpkeSuite;
  aead: StreamAead;
}

/** The suite of a scheme name or a record version byte (E_SEALED_FORMAT if this build reads no such). */
export function sealedSuite(schemeOrVersion: string | number): SealedSuite {
  if (schemeOrVersion === SEALED_SCHEME || schemeOrVersion === 2) return { scheme: SEALED_SCHEME, version: 2, hpke: HPKE_X25519_SHA256_CHACHA20POLY1305, aead: 'CHACHA20-POLY1305' };
  if (schemeOrVersion === SEALED_SCHEME_AES || schemeOrVersion === 1) return { scheme: SEALED_SCHEME_AES, version: 1, hpke: HPKE_X25519_SHA256_AES256GCM, aead: 'AES-256-GCM' };
  throw new BodycamError('E_SEALED_FORMAT', `sealed scheme or record version ${String(schemeOrVersion)}: this build reads ${SEALED_SCHEME} (version 2) and ${SEALED_SCHEME_AES} (version 1)`);
}
/** Bytes of a sealed record's clear prefix (magic, version, H, index, B): the chunks' associated data. */
export const SEALED_PREFIX = 12;
/** Bytes a sealed record adds to its plaintext: the prefix and two tags. */
export const SEALED_OVERHEAD = SEALED_PREFIX + 32;
/** Plaintext header length of the END record ("EN", version, reserved, u32 first and u32 last data record index). */
export const END_HEADER_LENGTH = 12;
/** Bytes of the END record (its prefix, header and two tags, no body). */
export const END_RECORD_LENGTH = SEALED_OVERHEAD + END_HEADER_LENGTH;
/** The END record's `last` when the stream holds no data record. */
export const NO_RECORD = 0xffffffff;
/** Most evidence keys a segment is wrapped to. */
export const MAX_RECIPIENTS = 4;
/** Bytes of a content key, and of a wrapped one (ct ‖ tag). */
export const CONTENT_KEY_BYTES = 32;
export const WRAPPED_KEY_BYTES = 48;

/** HPKE `info` for wrapping a content key (made when used: preloaded modules make no typed arrays). */
export function contentKeyInfo(): Uint8Array {
  return utf8Encode('bodycam/content-key/1');
}

/** One evidence key a segment's content key is wrapped to. */
export interface SealedRecipient {
  /** The evidence key's id: the first 8 bytes of SHA-256 of its X25519 public key. */
  kid: Uint8Array;
  /** HPKE encapsulated key (the ephemeral X25519 public key). */
  enc: Uint8Array;
  /** The wrapped content key: HPKE ciphertext ‖ tag (48 bytes). */
  key: Uint8Array;
}

export function recipientValue(r: SealedRecipient): CborValue {
  return { kid: r.kid, enc: r.enc, key: r.key };
}

/** Read recipients from CBOR (META or a manifest); `code` names the structure's format error. */
export function recipientsFrom(v: CborValue | undefined, code: string): SealedRecipient[] {
  if (!Array.isArray(v) || v.length < 1 || v.length > MAX_RECIPIENTS) throw new BodycamError(code, `sealed recipients must be 1 to ${MAX_RECIPIENTS} maps`);
  return v.map((x) => {
    const get = (k: string) => (x instanceof Map ? x.get(k) : undefined);
    const kid = get('kid');
    const enc = get('enc');
    const key = get('key');
    if (!isBytes(kid) || kid.length !== 8 || !isBytes(enc) || enc.length !== 32 || !isBytes(key) || key.length !== WRAPPED_KEY_BYTES) {
      throw new BodycamError(code, 'a sealed recipient is {kid: 8 bytes, enc: 32 bytes, key: 48 bytes}');
    }
    return { kid, enc, key };
  });
}

/** Wrap `contentKey` to one evidence key (HPKE base mode, SealBase, the scheme's suite). */
export function wrapContentKey(env: HpkeEnv, publicKey: Uint8Array, contentKey: Uint8Array, ephemeralIkm: Uint8Array, scheme: string = SEALED_SCHEME): SealedRecipient {
  const { enc, ciphertext } = sealBase(env, sealedSuite(scheme).hpke, publicKey, contentKeyInfo(), new Uint8Array(0), contentKey, ephemeralIkm);
  return { kid: evidenceKeyId(publicKey, env.digest), enc, key: ciphertext };
}

/** The content key from the recipient that names `secret`'s key (E_EVIDENCE_KEY_UNKNOWN if none, E_HPKE_OPEN if it does not open). */
export function unwrapContentKey(env: HpkeEnv, recipients: readonly SealedRecipient[], secret: Uint8Array, publicKey: Uint8Array, scheme: string = SEALED_SCHEME): { key: Uint8Array; kid: Uint8Array } {
  const suite = sealedSuite(scheme).hpke;
  const kid = evidenceKeyId(publicKey, env.digest);
  const r = recipients.find((x) => sameBytes(x.kid, kid));
  if (!r) throw new BodycamError('E_EVIDENCE_KEY_UNKNOWN', `the segment is sealed to evidence key${recipients.length === 1 ? '' : 's'} ${recipients.map((x) => hex(x.kid)).join(', ')}, not to ${hex(kid)}`);
  const key = openBase(env, suite, r.enc, secret, contentKeyInfo(), new Uint8Array(0), r.key);
  if (key.length !== CONTENT_KEY_BYTES) throw new BodycamError('E_HPKE_OPEN', `a wrapped content key opened to ${key.length} bytes, not ${CONTENT_KEY_BYTES}`);
  return { key, kid };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += (x < 16 ? '0' : '') + x.toString(16);
  return s;
}

function writePrefix(v: DataView, headerLength: number, index: number, bodyLength: number, version = SEALED_VERSION): void {
  v.setUint8(0, SEALED_MAGIC_0);
  v.setUint8(1, SEALED_MAGIC_1);
  v.setUint8(2, version);
  v.setUint8(3, headerLength);
  v.setUint32(4, index);
  v.setUint32(8, bodyLength);
}

export interface RecordSealerOptions {
  cipher: Cipher;
  digest: Digest;
  random: Random;
  /** The evidence keys' X25519 public keys (1 to 4). */
  recipients: readonly Uint8Array[];
  /**
   * A content key already made and wrapped to `recipients` (the recorder prepares the next
   * segment's in timer slices: recorder/key-wrap.ts); the sealer then owns it and zeroes it at close().
   */
  prepared?: { key: Uint8Array; recipients: readonly SealedRecipient[] };
}

/**
 * Seals one stream's records (a segment, or a pre-event ring and the segment it becomes): the
 * content key is made and wrapped at construction, kept in RAM until close().
 *
 * The chunks are STREAM's (crypto/stream.ts: nonce = 11-byte big-endian chunk index ‖ final
 * flag), sealed here straight through the AEAD context with one reused nonce and one reused
 * record buffer, so a frame costs no allocation but its tags' views; StreamOpener reads them.
 */
export class RecordSealer {
  #key: Uint8Array;
  #aead: AeadContext | undefined;
  /** Two chunks' nonces (a record's header's, then its body's); a single chunk uses the first. */
  #nonces: Uint8Array;
  #nonce: Uint8Array;
  #nonceView: DataView;
  /** The next chunk's index (2 per record). */
  #chunk = 0;
  #finished = false;
  #opener: StreamOpener | undefined;
  #cipher: Cipher;
  readonly recipients: readonly SealedRecipient[];
  #buf: Uint8Array;
  #view: DataView;
  #aad: Uint8Array;
  /** Index of the record seal() sealed last (−1 before the first). */
  lastSealed = -1;
  #headerChunk: Uint8Array;
  /** The record buffer's two tags (header's, then body's), where sealTwo writes them. */
  #tags: Uint8Array;

  constructor(o: RecordSealerOptions) {
    if (o.recipients.length < 1 || o.recipients.length > MAX_RECIPIENTS) throw new BodycamError('E_ARGUMENT', `a segment is sealed to 1 to ${MAX_RECIPIENTS} evidence keys, not ${o.recipients.length}`);
    this.#cipher = o.cipher;
    const p = o.prepared;
    if (p && (p.key.length !== CONTENT_KEY_BYTES || p.recipients.length !== o.recipients.length)) throw new BodycamError('E_ARGUMENT', 'a prepared content key is 32 bytes, wrapped to each recipient');
    const key = (this.#key = p ? p.key : new Uint8Array(CONTENT_KEY_BYTES));
    const out: SealedRecipient[] = p ? p.recipients.slice() : [];
    if (!p) {
      o.random.fill(key);
      const env = { digest: o.digest, cipher: o.cipher };
      const ikm = new Uint8Array(32);
      try {
        for (const pk of o.recipients) {
          o.random.fill(ikm);
          out.push(wrapContentKey(env, pk, key, ikm));
        }
      } finally {
        ikm.fill(0);
      }
    }
    this.recipients = Object.freeze(out);
    this.#aead = o.cipher.create(sealedSuite(SEALED_VERSION).aead, key);
    this.#nonces = new Uint8Array(2 * 12);
    this.#nonce = this.#nonces.subarray(0, 12);
    this.#nonceView = new DataView(this.#nonces.buffer);
    const buf = (this.#buf = new Uint8Array(SEALED_OVERHEAD + 48));
    this.#view = new DataView(buf.buffer);
    writePrefix(this.#view, 48, 0, 0);
    this.#aad = buf.subarray(0, SEALED_PREFIX);
    this.#headerChunk = buf.subarray(SEALED_PREFIX, SEALED_PREFIX + 48);
    this.#tags = buf.subarray(SEALED_PREFIX + 48, SEALED_PREFIX + 80);
  }

  /** The AEAD context, if the stream can take another chunk. */
  #live(): AeadContext {
    const aead = this.#aead;
    if (!aead || this.#finished) throw this.#refusal();
    return aead;
  }

  /** Why no chunk can be sealed: the key was forgotten, or the final chunk was sealed. */
  #refusal(): BodycamError {
    return this.#aead
      ? new BodycamError('E_STREAM_FINISHED', `the stream was finished at chunk ${this.#chunk - 1}: nothing can follow its final chunk`)
      : new BodycamError('E_STREAM_CLOSED', 'the segment\'s content key was forgotten: nothing more can be sealed under it');
  }

  /** Seal `data` in place as the next STREAM chunk; its tag goes into `into` at `at`. */
  #sealChunk(data: Uint8Array, aad: Uint8Array, final: boolean, into: Uint8Array, at: number): void {
    const aead = this.#live();
    const i = this.#chunk;
    if (i > 0xffffffff) throw new BodycamError('E_STREAM_LIMIT', 'a segment\'s stream is limited to 2^32 chunks');
    const n = this.#nonceView;
    n.setUint32(7, i);
    n.setUint8(11, final ? 1 : 0);
    into.set(new Uint8Array(aead.seal(this.#nonce, aad, data)), at);
    this.#chunk = i + 1;
    if (final) this.#finished = true;
  }

  /**
   * The next record's index: record r is chunks 2r and 2r+1. A record whose second chunk failed
   * spends both its indices (the next record starts at the next even chunk): none is used twice.
   */
  get records(): number {
    return Math.ceil(this.#chunk / 2);
  }

  /** Start record `records`: its two chunks are the next even pair. */
  #nextRecord(): number {
    const r = this.records;
    this.#chunk = 2 * r;
    return r;
  }

  /**
   * Seal one record: `body` is encrypted in place; returns the stored record's first part (prefix,
   * header ciphertext, both tags), valid until the next call. The store writes it, then `body`.
   */
  seal(header: Uint8Array, body: Uint8Array): Uint8Array {
    if (header.length !== 48) throw new BodycamError('E_ARGUMENT', `a sealed record's header is 48 bytes, not ${header.length}`);
    const aead = this.#aead;
    if (!aead || this.#finished) throw this.#refusal(); // #live(), inline: this runs for every frame
    const c = this.#chunk;
    const r = (c + (c % 2)) / 2;
    const i = 2 * r;
    if (i + 1 > 0xffffffff) throw new BodycamError('E_STREAM_LIMIT', 'a segment\'s stream is limited to 2^32 chunks');
    const buf = this.#buf;
    // The prefix's magic, version and H were written once; the index and the body length change.
    const v = this.#view;
    v.setUint32(4, r);
    v.setUint32(8, body.length);
    buf.set(header, SEALED_PREFIX);
    // Chunks 2r and 2r+1 (neither final: bytes 11 and 23 stay 0) in one port call. Both indices
    // are spent before it: a record the port failed to seal leaves a hole, never a reused nonce.
    const n = this.#nonceView;
    n.setUint32(7, i);
    n.setUint32(19, i + 1);
    this.#chunk = i + 2;
    aead.sealTwo(this.#nonces, this.#aad, this.#headerChunk, body, this.#tags);
    this.lastSealed = r;
    return buf;
  }

  /**
   * The END record (a new array): its empty body is the stream's final chunk. `first` and `last`:
   * the indices of the segment's first and last stored data records (a record sealed but never
   * stored — the store failed — leaves a hole only END can vouch for).
   */
  end(first: number, last: number): Uint8Array {
    const buf = new Uint8Array(END_RECORD_LENGTH);
    const v = new DataView(buf.buffer);
    const r = this.#nextRecord();
    writePrefix(v, END_HEADER_LENGTH, r, 0);
    v.setUint8(SEALED_PREFIX, 0x45); // 'E'
    v.setUint8(SEALED_PREFIX + 1, 0x4e); // 'N'
    v.setUint8(SEALED_PREFIX + 2, 1);
    v.setUint32(SEALED_PREFIX + 4, first);
    v.setUint32(SEALED_PREFIX + 8, last);
    const aad = buf.subarray(0, SEALED_PREFIX);
    this.#sealChunk(buf.subarray(SEALED_PREFIX, SEALED_PREFIX + END_HEADER_LENGTH), aad, false, buf, SEALED_PREFIX + END_HEADER_LENGTH);
    this.#sealChunk(new Uint8Array(0), aad, true, buf, SEALED_PREFIX + END_HEADER_LENGTH + 16);
    return buf;
  }

  /** The plaintext header (a new array) of a record this sealer sealed, from its stored first part. */
  openHeader(stored: Uint8Array): Uint8Array {
    const v = new DataView(stored.buffer, stored.byteOffset, stored.byteLength);
    const h = stored.length >= SEALED_PREFIX ? v.getUint8(3) : 0;
    if (stored.length < SEALED_OVERHEAD + h || v.getUint8(0) !== SEALED_MAGIC_0 || v.getUint8(1) !== SEALED_MAGIC_1) throw new BodycamError('E_SEALED_FORMAT', 'not a sealed record');
    const out = stored.slice(SEALED_PREFIX, SEALED_PREFIX + h);
    if (!this.#opener) this.#opener = new StreamOpener(this.#cipher, this.#key, sealedSuite(SEALED_VERSION).aead);
    this.#opener.open(2 * v.getUint32(4), false, stored.subarray(0, SEALED_PREFIX), out, stored.subarray(SEALED_PREFIX + h, SEALED_PREFIX + h + 16));
    return out;
  }

  /** Forget the content key: contexts closed, key bytes zeroed. Nothing can be sealed after. */
  close(): void {
    this.#aead?.close();
    this.#aead = undefined;
    this.#opener?.close();
    this.#opener = undefined;
    this.#key.fill(0);
  }
}

/** One sealed record found in sealed media (no key needed). */
export interface SealedRecordAt {
  offset: number;
  index: number;
  headerLength: number;
  bodyLength: number;
  /** The END record. */
  end: boolean;
  /** The prefix's version byte (the AEAD: sealedSuite). */
  version: number;
}

/** Walk sealed media prefix to prefix without the key: E_SEALED_FORMAT if it does not walk. */
export function walkSealedMedia(data: BufferLike): SealedRecordAt[] {
  const m = toBytes(data);
  const v = new DataView(m.buffer, m.byteOffset, m.byteLength);
  const out: SealedRecordAt[] = [];
  for (let o = 0; o < m.length; ) {
    if (m.length - o < SEALED_OVERHEAD) throw new BodycamError('E_SEALED_FORMAT', `sealed media ends inside a record at offset ${o}`);
    if (v.getUint8(o) !== SEALED_MAGIC_0 || v.getUint8(o + 1) !== SEALED_MAGIC_1) throw new BodycamError('E_SEALED_FORMAT', `no sealed record at offset ${o} (magic is not "SR")`);
    const version = v.getUint8(o + 2);
    if (version !== 1 && version !== 2) throw new BodycamError('E_SEALED_FORMAT', `sealed record version ${version} at offset ${o}; this build reads 2 and 1`);
    if (out.length && version !== out[0].version) throw new BodycamError('E_SEALED_FORMAT', `sealed record version ${version} at offset ${o} after version ${out[0].version}: one stream, one AEAD`);
    const h = v.getUint8(o + 3);
    const b = v.getUint32(o + 8);
    if (h !== 48 && h !== END_HEADER_LENGTH) throw new BodycamError('E_SEALED_FORMAT', `sealed record at offset ${o} has a ${h}-byte header`);
    const end = h === END_HEADER_LENGTH;
    if (end && b !== 0) throw new BodycamError('E_SEALED_FORMAT', `the END record at offset ${o} has a body`);
    const span = SEALED_OVERHEAD + h + b;
    if (o + span > m.length) throw new BodycamError('E_SEALED_FORMAT', `sealed record at offset ${o} runs past the end of the media`);
    out.push({ offset: o, index: v.getUint32(o + 4), headerLength: h, bodyLength: b, end, version });
    o += span;
  }
  return out;
}

/** What opening sealed media found besides its plaintext. */
export interface OpenedMedia {
  /** The plaintext segment media: the records' header ‖ body, END excluded. */
  media: Uint8Array;
  /** Data records (END excluded). */
  records: number;
  /** Index of the first record (0 unless a pre-event ring's oldest records aged out). */
  first: number;
  /** The stream ended with its final chunk (false: a cut ended it; allowed only with `openEnd`). */
  final: boolean;
  /** The END record's index (null without one). */
  end: number | null;
}

/** Decrypts sealed media with its content key (the examiner's side; the camera never does), under the scheme its manifest names. */
export class SealedMediaOpener {
  #opener: StreamOpener;
  #version: number;
  constructor(cipher: Cipher, contentKey: Uint8Array, scheme: string = SEALED_SCHEME) {
    const suite = sealedSuite(scheme);
    this.#version = suite.version;
    this.#opener = new StreamOpener(cipher, contentKey, suite.aead);
  }

  /** The plaintext media. `openEnd`: the stream may lack its END record (a recovered segment). */
  open(data: BufferLike, o: { openEnd?: boolean } = {}): OpenedMedia {
    const m = toBytes(data);
    const walked = walkSealedMedia(m);
    if (walked.length && walked[0].version !== this.#version) throw new BodycamError('E_SEALED_FORMAT', `the media's records are version ${walked[0].version}, its scheme names version ${this.#version}`);
    let total = 0;
    for (const r of walked) if (!r.end) total += r.headerLength + r.bodyLength;
    const out = new Uint8Array(total);
    const first = walked.length ? walked[0].index : 0;
    let at = 0;
    let final = false;
    let endIndex: number | null = null;
    for (let i = 0; i < walked.length; i++) {
      const r = walked[i];
      if (!r.end && r.index !== first + i) throw new BodycamError('E_STREAM_ORDER', `sealed record ${i} of the media carries index ${r.index}, not ${first + i}: a record was dropped, repeated or moved`, { at: r.offset });
      const aad = m.subarray(r.offset, r.offset + SEALED_PREFIX);
      const hct = r.offset + SEALED_PREFIX;
      const htag = hct + r.headerLength;
      const btag = htag + 16;
      const bct = btag + 16;
      if (r.end) {
        if (i > 0 && r.index <= walked[i - 1].index) throw new BodycamError('E_STREAM_ORDER', `the END record carries index ${r.index}, not after the record before it (${walked[i - 1].index})`, { at: r.offset });
        if (i !== walked.length - 1) throw new BodycamError('E_STREAM_TRUNCATED', `bytes follow the END record at offset ${r.offset}: nothing may follow a stream's final chunk`);
        const eh = m.slice(hct, htag);
        this.#opener.open(2 * r.index, false, aad, eh, m.subarray(htag, btag));
        const ev = new DataView(eh.buffer);
        if (eh[0] !== 0x45 || eh[1] !== 0x4e || eh[2] !== 1) throw new BodycamError('E_SEALED_FORMAT', 'the END record\'s header is not "EN" version 1');
        if (ev.getUint32(4) !== first) throw new BodycamError('E_STREAM_TRUNCATED', `the END record says the segment starts at record ${ev.getUint32(4)}, the media starts at ${first}: its head was cut off`);
        const last = i > 0 ? walked[i - 1].index : NO_RECORD;
        if (ev.getUint32(8) !== last) throw new BodycamError('E_STREAM_TRUNCATED', `the END record says the last record is ${ev.getUint32(8)}, the media's is ${last}: records before the end were cut off`);
        this.#opener.open(2 * r.index + 1, true, aad, new Uint8Array(0), m.subarray(btag, bct));
        final = true;
        endIndex = r.index;
        continue;
      }
      const plain = out.subarray(at, at + r.headerLength + r.bodyLength);
      plain.set(m.subarray(hct, htag), 0);
      plain.set(m.subarray(bct, bct + r.bodyLength), r.headerLength);
      this.#opener.open(2 * r.index, false, aad, plain.subarray(0, r.headerLength), m.subarray(htag, btag));
      this.#opener.open(2 * r.index + 1, false, aad, plain.subarray(r.headerLength), m.subarray(btag, bct));
      at += plain.length;
    }
    if (!final && !o.openEnd) throw new BodycamError('E_STREAM_TRUNCATED', `the sealed stream ends after ${walked.length} records without its final chunk: its tail was cut off`);
    return { media: out, records: walked.length - (final ? 1 : 0), first, final, end: endIndex };
  }

  close(): void {
    this.#opener.close();
  }
}

/** The CBOR of a segment's sealing, as META and the manifest carry it. */
export function sealedValue(recipients: readonly SealedRecipient[], records?: number, scheme: string = SEALED_SCHEME): CborValue {
  return { scheme, recipients: recipients.map(recipientValue), ...(records === undefined ? {} : { records }) };
}

/**
 * Seal plaintext records again under a known content key and the scheme's AEAD, as the camera
 * did (both AEADs are deterministic given key, nonce and associated data): record i gets index `first + i`, and an
 * END record at index `end` (null: none, a stream a cut ended). For a verifier holding a segment's
 * plaintext and its content key (an MP4 export's credentials) to rebuild the sealed media the
 * camera signed, byte for byte.
 */
export function resealRecords(cipher: Cipher, contentKey: Uint8Array, records: readonly { header: Uint8Array; body: Uint8Array }[], first: number, end: number | null, scheme: string = SEALED_SCHEME): Uint8Array {
  const suite = sealedSuite(scheme);
  const aead = cipher.create(suite.aead, contentKey);
  try {
    let total = end === null ? 0 : END_RECORD_LENGTH;
    for (const r of records) total += SEALED_OVERHEAD + r.header.length + r.body.length;
    const out = new Uint8Array(total);
    let o = 0;
    const put = (index: number, header: Uint8Array, body: Uint8Array, final: boolean) => {
      const h = header.length;
      writePrefix(new DataView(out.buffer, o, SEALED_PREFIX), h, index, body.length, suite.version);
      const aad = out.subarray(o, o + SEALED_PREFIX);
      out.set(header, o + SEALED_PREFIX);
      out.set(body, o + SEALED_OVERHEAD + h);
      out.set(new Uint8Array(aead.seal(streamNonce(2 * index, false), aad, out.subarray(o + SEALED_PREFIX, o + SEALED_PREFIX + h))), o + SEALED_PREFIX + h);
      out.set(new Uint8Array(aead.seal(streamNonce(2 * index + 1, final), aad, out.subarray(o + SEALED_OVERHEAD + h, o + SEALED_OVERHEAD + h + body.length))), o + SEALED_PREFIX + h + 16);
      o += SEALED_OVERHEAD + h + body.length;
    };
    records.forEach((r, i) => put(first + i, r.header, r.body, false));
    if (end !== null) {
      const eh = new Uint8Array(END_HEADER_LENGTH);
      const ev = new DataView(eh.buffer);
      eh[0] = 0x45;
      eh[1] = 0x4e;
      eh[2] = 1;
      ev.setUint32(4, first);
      ev.setUint32(8, records.length ? first + records.length - 1 : NO_RECORD);
      put(end, eh, new Uint8Array(0), true);
    }
    return out;
  } finally {
    aead.close();
  }
}
