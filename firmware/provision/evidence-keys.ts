// The agency's evidence keys as a camera holds them: the X25519 public keys it seals each
// segment's content key to (HPKE, issue 22), with their key ids. They travel inside the signed
// camera configuration (config.ts, field "evidenceKeys"), so they are installed at provisioning
// and replaced at docking exactly as the configuration is, and a camera takes one only if its
// agency root signed the configuration that carries it (E_COSE_SIGNATURE otherwise).
//
// For the recorder (CAPTURE): RecorderConfig.evidenceKeys (firmware/recorder/config.ts) — set at
// boot from the held signed configuration, replaced when a dock pushes a newer one — or
// heldEvidenceRecipients(keyStore, rootKey, device, ed25519) in the same module. The first entry
// is the agency's current key; the armoury puts exactly one.
//
// The secret half never reaches a camera: it is made and sealed by `bodycam provision evidence-key`
// (cli/provision.ts) and opened only by export (evidence/evidence-keys.ts). It is 32 random bytes
// used as the X25519 scalar (clamped at use, RFC 7748), so publicKey = x25519Public(secret).
// A key id is the first 8 bytes of SHA-256(publicKey), as for every other key here.
//
// Promises: parseEvidenceKeys accepts 0..MAX_EVIDENCE_KEYS entries, each {keyId: 8 bytes,
// publicKey: 32 bytes}, no key twice, else E_CONFIG_VALUE / E_CONFIG_FORMAT. Nothing here makes
// a typed array at load time (the camera preloads it).
//
// May import: firmware/codec, firmware/platform (types, sha256Of), firmware/signing (key id length).

import { isBytes, type CborValue } from '../codec/cbor.js';
import { BodycamError } from '../errors.js';
import { sha256Of, type Digest } from '../platform/digest.js';
import { KEY_ID_LENGTH, sameBytes } from '../signing/signer.js';

/** An X25519 public key a camera seals evidence to, and its key id. */
export interface EvidenceRecipient {
  /** SHA-256(publicKey)[0..8]. */
  readonly keyId: Uint8Array;
  /** 32-byte X25519 public key (RFC 7748 u-coordinate). */
  readonly publicKey: Uint8Array;
}

export const EVIDENCE_KEY_BYTES = 32;
/** At most this many keys in one configuration (the armoury sends one; the room is for a hand-over). */
export const MAX_EVIDENCE_KEYS = 4;

/** The key id of an evidence public key: SHA-256(publicKey)[0..8]. */
export function evidenceKeyId(publicKey: Uint8Array, digest: Digest): Uint8Array {
  if (publicKey.length !== EVIDENCE_KEY_BYTES) throw new BodycamError('E_CONFIG_VALUE', `an evidence key is a ${EVIDENCE_KEY_BYTES}-byte X25519 public key, not ${publicKey.length} bytes`);
  return sha256Of(digest, publicKey).slice(0, KEY_ID_LENGTH);
}

/** The configuration field: a CBOR array of {keyId, publicKey} maps. */
export function encodeEvidenceKeys(keys: readonly EvidenceRecipient[]): CborValue[] {
  const field = keys.map((k) => new Map<CborValue, CborValue>([['keyId', k.keyId], ['publicKey', k.publicKey]]));
  parseEvidenceKeys(field);
  return field;
}

/** The configuration field read back (undefined: a configuration signed before it existed → none). */
export function parseEvidenceKeys(v: CborValue | undefined): EvidenceRecipient[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new BodycamError('E_CONFIG_FORMAT', 'configuration: field "evidenceKeys" is not an array');
  if (v.length > MAX_EVIDENCE_KEYS) throw new BodycamError('E_CONFIG_VALUE', `a configuration names at most ${MAX_EVIDENCE_KEYS} evidence keys, not ${v.length}`);
  const out: EvidenceRecipient[] = [];
  for (const e of v) {
    if (!(e instanceof Map)) throw new BodycamError('E_CONFIG_FORMAT', 'configuration: an evidence key is not a map {keyId, publicKey}');
    const keyId = e.get('keyId');
    const publicKey = e.get('publicKey');
    if (e.size !== 2 || !isBytes(keyId) || keyId.length !== KEY_ID_LENGTH || !isBytes(publicKey) || publicKey.length !== EVIDENCE_KEY_BYTES) {
      throw new BodycamError('E_CONFIG_VALUE', `an evidence key is {keyId: ${KEY_ID_LENGTH} bytes, publicKey: ${EVIDENCE_KEY_BYTES} bytes}`);
    }
    if (out.some((o) => sameBytes(o.keyId, keyId) || sameBytes(o.publicKey, publicKey))) throw new BodycamError('E_CONFIG_VALUE', 'the configuration names the same evidence key twice');
    out.push(Object.freeze({ keyId, publicKey }));
  }
  return out;
}
