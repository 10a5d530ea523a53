// Opening sealed segments (docs/FORMAT.md, "Sealed segments: encryption at capture") for export:
// the examiner's evidence key unwraps the segment's content key (HPKE), and every STREAM chunk is
// checked as it is decrypted. Nothing else here needs the key: verification (verify-store.ts)
// checks the sealed media's digest, chain and custody without it, and keyCheckOf() says what
// only the key can check.
//
// Promises: a segment opens whole or not at all — any chunk that fails is an error with a stable
// code (E_STREAM_AUTH, E_STREAM_ORDER, E_STREAM_TRUNCATED, E_SEALED_FORMAT, E_HPKE_OPEN,
// E_EVIDENCE_KEY_UNKNOWN), never a partial plaintext. The content key is zeroed after use.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { toHex } from '../firmware/codec/cbor.js';
import { BodycamError } from '../firmware/errors.js';
import { FLAG_RECOVERED, type Manifest } from '../firmware/signing/manifest.js';
import { SealedMediaOpener, unwrapContentKey } from '../firmware/encoder/sealed-record.js';
import { nodeCipher, nodeDigest } from '../host/ports.js';
import { EVIDENCE_PASSPHRASE_ENV, evidenceKeyPair, loadEvidenceKey } from './evidence-keys.js';

/** An examiner's evidence key, opened. */
export interface ExaminerKey {
  secret: Uint8Array;
  publicKey: Uint8Array;
  keyId: Uint8Array;
  /** Where it came from: the file, and whether it was a sealed key file or 32 raw bytes. */
  file: string;
  form: 'sealed' | 'raw';
}

/**
 * Load `--evidence-key FILE`: an evidence key file made by `bodycam provision evidence-key`
 * (opened with its passphrase), or 32 raw secret bytes. E_EVIDENCE_KEY_MISSING if there is none.
 */
export function loadExaminerKey(file: string, passphrase: string | undefined): ExaminerKey {
  if (!existsSync(file)) throw new BodycamError('E_EVIDENCE_KEY_MISSING', `${file} does not exist: give the evidence key file (evidence-keys/<key id>.secret from the agency folder)`);
  if (statSync(file).size === 32) {
    const secret = new Uint8Array(readFileSync(file));
    const { keyId, publicKey } = evidenceKeyPair(secret);
    return { secret, publicKey, keyId, file, form: 'raw' };
  }
  if (passphrase === undefined) throw new BodycamError('E_EVIDENCE_PASSPHRASE', `${file} is sealed: give its passphrase (--evidence-passphrase-file FILE or ${EVIDENCE_PASSPHRASE_ENV})`);
  const k = loadEvidenceKey(file, passphrase, { allowRetired: true });
  return { secret: k.secret, publicKey: k.publicKey, keyId: k.keyId, file, form: 'sealed' };
}

/** One sealed segment opened. */
export interface OpenedSegment {
  /** The plaintext segment media (frame and audio records), as parseSegmentMedia reads it. */
  media: Uint8Array;
  /** The evidence key id that opened it. */
  kid: Uint8Array;
  records: number;
  first: number;
  /** The stream ended with its final chunk (false only for a segment a power cut ended). */
  final: boolean;
  /** What re-seals the plaintext as the camera did (resealRecords): only with `keepKey`. */
  reseal?: SealedSegmentKey;
}

/** A segment's content key and record indices: with its plaintext, enough to rebuild its sealed media exactly. */
export interface SealedSegmentKey {
  contentKey: Uint8Array;
  first: number;
  end: number | null;
}

/** Decrypt a sealed segment's media with the examiner's key; the manifest says who it is sealed to. */
export function openSealedSegment(sealedMedia: Uint8Array, m: Manifest, key: ExaminerKey, o: { keepKey?: boolean } = {}): OpenedSegment {
  if (!m.sealed) throw new BodycamError('E_ARGUMENT', `segment ${m.seq} is not sealed`);
  const env = { digest: nodeDigest, cipher: nodeCipher };
  const { key: contentKey, kid } = unwrapContentKey(env, m.sealed.recipients, key.secret, key.publicKey, m.sealed.scheme);
  const opener = new SealedMediaOpener(nodeCipher, contentKey, m.sealed.scheme);
  try {
    const opened = opener.open(sealedMedia, { openEnd: (m.flags & FLAG_RECOVERED) !== 0 });
    if (opened.records + (opened.final ? 1 : 0) !== m.sealed.records) {
      throw new BodycamError('E_STREAM_TRUNCATED', `segment ${m.seq}: the manifest counts ${m.sealed.records} sealed records, the media holds ${opened.records + (opened.final ? 1 : 0)}`);
    }
    return { media: opened.media, kid, records: opened.records, first: opened.first, final: opened.final, ...(o.keepKey ? { reseal: { contentKey: contentKey.slice(), first: opened.first, end: opened.end } } : {}) };
  } finally {
    opener.close();
    contentKey.fill(0);
  }
}

/** The words a report uses for what needs the key. */
export const NEEDS_KEY_NOTE = 'sealed: its media digest, signature, chain and custody are checked without the evidence key; what is inside the ciphertext (each frame\'s header and timing, the JPEGs and sound, the STREAM chunks) is checked only by bodycam export --evidence-key';

/** Who decrypted, with which key, when: the integrity report's `decryption`. */
export function decryptionRecord(key: ExaminerKey, examiner: string | undefined, segments: { seq: number; kid: Uint8Array; records: number; final: boolean; unread: boolean }[]): Record<string, unknown> {
  let osUser = 'unknown';
  try {
    osUser = userInfo().username;
  } catch {
    // no user name on this system
  }
  return {
    by: examiner ?? osUser,
    byFrom: examiner !== undefined ? '--examiner' : 'the operating system user',
    osUser,
    keyId: toHex(key.keyId),
    keyFile: key.file,
    keyForm: key.form === 'sealed' ? 'evidence key file (sealed with its passphrase)' : 'RAW: 32 secret bytes in the clear',
    at: { utc: new Date().toISOString(), note: 'UNSIGNED: the clock of the computer that decrypted' },
    segments: segments.map((s) => ({
      seq: s.seq,
      keyId: toHex(s.kid),
      records: s.records,
      final: s.final,
      ...(s.unread ? { unread: 'FLAG_UNREAD: signed after a power cut without the content key; its frame count and times come from the decrypted headers only' } : {}),
    })),
  };
}

