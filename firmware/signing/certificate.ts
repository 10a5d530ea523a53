// Certificates and the revocation list: the agency root key vouches for each camera's and each
// dock's Ed25519 key at provisioning, and can later revoke a key. Both are signed structures
// (signed.ts) verified against the root public key alone, so evidence can be checked offline.
//
// Promises: verifyCertificate returns a certificate only if the root signed it, its fields are
// well-formed, and (when asked) its kind matches and `at` lies in its validity window; otherwise
// a BodycamError E_CERT_* (E_COSE_* for envelope problems). Revocation is by key id.

import { isArray, isMap, type CborValue } from '../codec/cbor.js';
import type { Digest } from '../platform/digest.js';
import { BodycamError } from '../errors.js';
import type { Ed25519 } from './ed25519.js';
import { keyIdOf, sameBytes, type Signer } from './signer.js';
import { bytes, openStructure, peekStructure, signStructure, text, uint, type Fields } from './signed.js';

export const CERTIFICATE_TYPE = 'bodycam/certificate/1';
export const REVOCATIONS_TYPE = 'bodycam/revocations/1';

export type CertificateKind = 'device' | 'dock';

export interface Certificate {
  /** Device id ("CAM-0042") or dock id ("DOCK-3"). */
  id: string;
  kind: CertificateKind;
  /** Ed25519 public key (32 bytes). */
  publicKey: Uint8Array;
  agency: string;
  /** Certificate serial number, unique per agency. */
  serial: number;
  /** Validity window, UTC milliseconds, inclusive. */
  notBefore: number;
  notAfter: number;
}

export interface VerifiedCertificate extends Certificate {
  /** SHA-256(publicKey)[0..8]: the kid this key's signatures carry. */
  keyId: Uint8Array;
  /** The encoded certificate, as signed. */
  bytes: Uint8Array;
}

const CODE = 'E_CERT_FORMAT';

/** The agency root signs a certificate. */
export function issueCertificate(cert: Certificate, root: Signer): Uint8Array {
  if (cert.kind !== 'device' && cert.kind !== 'dock') throw new BodycamError('E_CERT_KIND', `certificate kind must be "device" or "dock", not ${String(cert.kind)}`);
  if (cert.publicKey.length !== 32) throw new BodycamError(CODE, 'certificate public key must be 32 bytes');
  if (cert.notAfter < cert.notBefore) throw new BodycamError(CODE, 'certificate notAfter is before notBefore');
  return signStructure(CERTIFICATE_TYPE, {
    id: cert.id,
    kind: cert.kind,
    key: cert.publicKey,
    agency: cert.agency,
    serial: cert.serial,
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
  }, root);
}

function certificateFields(f: Fields): Certificate {
  const kind = text(f, 'kind', CODE, 'certificate');
  if (kind !== 'device' && kind !== 'dock') throw new BodycamError(CODE, `certificate kind "${kind}" is neither device nor dock`);
  return {
    id: text(f, 'id', CODE, 'certificate'),
    kind,
    publicKey: bytes(f, 'key', CODE, 'certificate', 32),
    agency: text(f, 'agency', CODE, 'certificate'),
    serial: uint(f, 'serial', CODE, 'certificate'),
    notBefore: uint(f, 'notBefore', CODE, 'certificate'),
    notAfter: uint(f, 'notAfter', CODE, 'certificate'),
  };
}

/** Read a certificate without checking who signed it (to show it, or find its id). */
export function peekCertificate(bytesIn: Uint8Array): Certificate {
  return certificateFields(peekStructure(bytesIn, CERTIFICATE_TYPE, CODE).fields);
}

export interface VerifyCertificateOptions {
  digest: Digest;
  ed25519?: Ed25519;
  /** Required kind. */
  kind?: CertificateKind;
  /** A UTC time (ms) that must lie within the validity window. */
  at?: number;
}

/** Verify a certificate against the agency root public key. */
export function verifyCertificate(bytesIn: Uint8Array, rootPublicKey: Uint8Array, o: VerifyCertificateOptions): VerifiedCertificate {
  const opened = openStructure(bytesIn, CERTIFICATE_TYPE, CODE, rootPublicKey, o.ed25519);
  const cert = certificateFields(opened.fields);
  if (opened.kid && !sameBytes(opened.kid, keyIdOf(rootPublicKey, o.digest))) {
    // The signature verified with the root key, so a wrong kid is only a labelling error; still refuse it.
    throw new BodycamError('E_CERT_ISSUER', `certificate ${cert.id} names an issuer key other than the agency root`);
  }
  if (o.kind && cert.kind !== o.kind) throw new BodycamError('E_CERT_KIND', `certificate ${cert.id} is a ${cert.kind} certificate, a ${o.kind} certificate was expected`);
  if (o.at !== undefined && (o.at < cert.notBefore || o.at > cert.notAfter)) {
    // Before its start is not "expired": usually a clock behind (a camera not yet synced), which
    // the person reading the code must fix differently.
    const code = o.at < cert.notBefore ? 'E_CERT_NOT_YET_VALID' : 'E_CERT_EXPIRED';
    throw new BodycamError(code, `certificate ${cert.id} is valid ${new Date(cert.notBefore).toISOString()} to ${new Date(cert.notAfter).toISOString()}, not at ${new Date(o.at).toISOString()}${code === 'E_CERT_NOT_YET_VALID' ? ' (is this clock behind?)' : ''}`);
  }
  return { ...cert, keyId: keyIdOf(cert.publicKey, o.digest), bytes: bytesIn };
}

// ---------------------------------------------------------------- revocation

export interface Revocation {
  keyId: Uint8Array;
  /** Why, for people ("lost", "key compromise"). */
  reason: string;
  /**
   * UTC ms from which the key is revoked: what a dock receipted before it stays valid. Absent: from
   * the start, everything the key ever signed.
   */
  effective?: number;
}

export interface RevocationList {
  agency: string;
  /** Increases with every list the agency issues; a verifier keeps the highest it has seen. */
  number: number;
  /** UTC ms. */
  issued: number;
  revoked: Revocation[];
}

const RCODE = 'E_REVOCATIONS_FORMAT';

export function issueRevocationList(list: RevocationList, root: Signer): Uint8Array {
  return signStructure(REVOCATIONS_TYPE, {
    agency: list.agency,
    number: list.number,
    issued: list.issued,
    revoked: list.revoked.map((r) => (r.effective === undefined ? { keyId: r.keyId, reason: r.reason } : { keyId: r.keyId, reason: r.reason, effective: r.effective }) as CborValue),
  }, root);
}

export function verifyRevocationList(bytesIn: Uint8Array, rootPublicKey: Uint8Array, o: { ed25519?: Ed25519 } = {}): RevocationList {
  const f = openStructure(bytesIn, REVOCATIONS_TYPE, RCODE, rootPublicKey, o.ed25519).fields;
  const revoked = f.get('revoked');
  if (!isArray(revoked)) throw new BodycamError(RCODE, 'revocation list: field "revoked" missing or not an array');
  return {
    agency: text(f, 'agency', RCODE, 'revocation list'),
    number: uint(f, 'number', RCODE, 'revocation list'),
    issued: uint(f, 'issued', RCODE, 'revocation list'),
    revoked: revoked.map((r) => {
      if (!isMap(r)) throw new BodycamError(RCODE, 'revocation list: an entry is not a map');
      const entry: Revocation = { keyId: bytes(r, 'keyId', RCODE, 'revocation'), reason: text(r, 'reason', RCODE, 'revocation') };
      if (r.has('effective')) entry.effective = uint(r, 'effective', RCODE, 'revocation');
      return entry;
    }),
  };
}

/**
 * The revocation of `keyId`, if it is revoked at UTC `at`; without `at`, if it is revoked at all
 * (whatever its effective time: the camera and the dock, which act now, ask this way).
 */
export function isRevoked(list: RevocationList | undefined, keyId: Uint8Array, at?: number): Revocation | undefined {
  const r = list?.revoked.find((x) => sameBytes(x.keyId, keyId));
  if (!r || at === undefined || r.effective === undefined) return r;
  return at >= r.effective ? r : undefined;
}
