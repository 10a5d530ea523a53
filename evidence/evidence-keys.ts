// An agency evidence key on disk: the X25519 secret that opens what cameras sealed to the agency
// (issue 22), kept in a file sealed under its own passphrase exactly as the agency root is
// (host/sealed-secret.ts: scrypt + AES-256-GCM), mode 0600 from its first byte. The armoury makes
// it (`bodycam provision evidence-key create|rotate`, cli/evidence-key.ts) in the agency folder,
// evidence-keys/<key id>.secret; the evidence office copies it to the computer that exports, and
// `bodycam export --evidence-key FILE` opens it with loadEvidenceKey().
//
// The key: 32 random bytes used as the X25519 scalar (clamped at use, RFC 7748), so
// publicKey = x25519Public(secret) (firmware/signing/x25519.ts); this raw form is what RFC 9180's
// SerializePrivateKey gives for DHKEM(X25519), so other HPKE implementations take it as it is.
// The key id is SHA-256(publicKey)[0..8] (firmware/provision/evidence-keys.ts).
//
// Its passphrase is not the agency root's: whoever exports evidence needs this one, and must not
// be able to issue certificates. --evidence-passphrase-file FILE or BODYCAM_EVIDENCE_PASSPHRASE.
//
// Promises: loadEvidenceKey returns the secret only if the file is an evidence key file
// (E_EVIDENCE_KEY_FORMAT otherwise — it says so when it is the agency root secret), the passphrase
// opens it (E_EVIDENCE_PASSPHRASE), the secret gives the public key and key id the file names
// (E_EVIDENCE_KEY_MISMATCH), and the key is not retired (E_EVIDENCE_KEY_RETIRED) unless the caller
// allows retired keys (export does: evidence sealed to a key before it was retired still opens).

import { existsSync, readFileSync } from 'node:fs';
import { fromHex, toHex } from '../firmware/codec/cbor.js';
import { BodycamError } from '../firmware/errors.js';
import { evidenceKeyId } from '../firmware/provision/evidence-keys.js';
import { sameBytes } from '../firmware/signing/signer.js';
import { x25519Public } from '../firmware/signing/x25519.js';
import { nodeDigest } from '../host/ports.js';
import { isSealed, openSealed, seal, type Sealed } from '../host/sealed-secret.js';

export const EVIDENCE_SECRET_FORMAT = 'bodycam-evidence-secret/1';
export const EVIDENCE_PASSPHRASE_ENV = 'BODYCAM_EVIDENCE_PASSPHRASE';
export const EVIDENCE_PASSPHRASE_OPTION = 'evidence-passphrase-file';

/** Why and when a key was retired (by `bodycam provision evidence-key retire`). */
export interface Retirement {
  at: string;
  by: string;
  reason: string;
}

/** The register's record of an evidence key (cli/register.ts, Register.evidenceKeys). */
export interface EvidenceKeyRecord {
  keyId: string;
  publicKey: string;
  status: 'current' | 'previous' | 'retired';
  created: string;
  by: string;
  /** When it stopped being current (a rotation), if it did. */
  superseded?: string;
  retired?: Retirement;
}

/** An evidence key pair, opened. */
export interface EvidenceKey {
  keyId: Uint8Array;
  /** The 32-byte X25519 secret: zero it (fill(0)) when done. */
  secret: Uint8Array;
  publicKey: Uint8Array;
  agency: string;
  created: string;
  retired: Retirement | null;
}

/** The file's JSON. */
export interface EvidenceSecretFile extends Sealed {
  format: typeof EVIDENCE_SECRET_FORMAT;
  warning: string;
  agency: string;
  keyId: string;
  publicKey: string;
  created: string;
  retired: Retirement | null;
}

function bound(agency: string, keyId: string, publicKey: string): string {
  return `${EVIDENCE_SECRET_FORMAT}\n${agency}\n${keyId}\n${publicKey}`;
}

/** A new evidence key pair from 32 random bytes (the caller's CSPRNG). */
export function evidenceKeyPair(secret: Uint8Array): { keyId: Uint8Array; publicKey: Uint8Array } {
  if (secret.length !== 32) throw new BodycamError('E_EVIDENCE_KEY', `an evidence secret is 32 bytes, not ${secret.length}`);
  const publicKey = x25519Public(secret);
  return { keyId: evidenceKeyId(publicKey, nodeDigest), publicKey };
}

/** The sealed file's JSON for `secret` (the caller writes it with mode 0600). */
export function sealEvidenceKey(o: { secret: Uint8Array; passphrase: string; agency: string; created: string; scryptN?: number }): EvidenceSecretFile {
  const { keyId, publicKey } = evidenceKeyPair(o.secret);
  const k = toHex(keyId), pub = toHex(publicKey);
  return {
    format: EVIDENCE_SECRET_FORMAT,
    warning: 'An agency evidence key. With this file and its passphrase anyone can open the evidence your cameras sealed to it. Keep it on the computers that export evidence, and a backup offline.',
    agency: o.agency,
    keyId: k,
    publicKey: pub,
    created: o.created,
    retired: null,
    ...seal(o.secret, o.passphrase, bound(o.agency, k, pub), o.scryptN),
  };
}

/** The file's JSON, checked for shape (no passphrase needed): E_EVIDENCE_KEY_MISSING / _FORMAT. */
export function readEvidenceKeyFile(path: string): EvidenceSecretFile {
  if (!existsSync(path)) throw new BodycamError('E_EVIDENCE_KEY_MISSING', `${path} does not exist: give the evidence key file (evidence-keys/<key id>.secret from the agency folder)`);
  let j: EvidenceSecretFile;
  try {
    j = JSON.parse(readFileSync(path, 'utf8')) as EvidenceSecretFile;
  } catch (e) {
    throw new BodycamError('E_EVIDENCE_KEY_FORMAT', `${path} is not an evidence key file (${e instanceof Error ? e.message : String(e)})`);
  }
  const format = (j as { format?: unknown } | null)?.format;
  if (format === 'bodycam-root-secret/1') throw new BodycamError('E_EVIDENCE_KEY_FORMAT', `${path} is the agency ROOT secret, not an evidence key: give evidence-keys/<key id>.secret (bodycam provision evidence-key list shows them)`);
  if (format !== EVIDENCE_SECRET_FORMAT || !isSealed(j) || typeof j.agency !== 'string' || typeof j.created !== 'string' || !/^[0-9a-f]{16}$/.test(j.keyId) || !/^[0-9a-f]{64}$/.test(j.publicKey)) {
    throw new BodycamError('E_EVIDENCE_KEY_FORMAT', `${path} is not an evidence key file (${EVIDENCE_SECRET_FORMAT})`);
  }
  const r = j.retired;
  if (r !== null && (typeof r !== 'object' || typeof r.at !== 'string' || typeof r.by !== 'string' || typeof r.reason !== 'string')) {
    throw new BodycamError('E_EVIDENCE_KEY_FORMAT', `${path}: "retired" is neither null nor {at, by, reason}`);
  }
  return j;
}

export interface LoadEvidenceKeyOptions {
  /** Open a retired key too (evidence sealed to it before it was retired). */
  allowRetired?: boolean;
}

/** Open an evidence key file with its passphrase. */
export function loadEvidenceKey(path: string, passphrase: string, o: LoadEvidenceKeyOptions = {}): EvidenceKey {
  const j = readEvidenceKeyFile(path);
  if (j.retired && !o.allowRetired) {
    throw new BodycamError('E_EVIDENCE_KEY_RETIRED', `evidence key ${j.keyId} was retired on ${j.retired.at} by ${j.retired.by} (${j.retired.reason}); it opens evidence only when that is asked for explicitly`);
  }
  const secret = openSealed(j, passphrase, bound(j.agency, j.keyId, j.publicKey));
  if (!secret) throw new BodycamError('E_EVIDENCE_PASSPHRASE', `wrong passphrase for evidence key ${path} (or the file was altered)`);
  const { keyId, publicKey } = evidenceKeyPair(secret);
  if (!sameBytes(publicKey, fromHex(j.publicKey)) || toHex(keyId) !== j.keyId) {
    secret.fill(0);
    throw new BodycamError('E_EVIDENCE_KEY_MISMATCH', `${path}: the sealed secret is not the secret of key ${j.keyId}`);
  }
  return { keyId, secret, publicKey, agency: j.agency, created: j.created, retired: j.retired };
}
