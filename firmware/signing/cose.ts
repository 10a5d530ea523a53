// COSE_Sign1 (RFC 9052 §4.2) with EdDSA over Ed25519 (RFC 9053 §2.2, alg -8): the envelope of
// every signed bodycam structure (manifests, certificates, revocation lists, checkpoints,
// receipts).
//
// Promises:
// - signSign1 writes the tagged form 18([protected, unprotected, payload, signature]) with
//   protected = bstr .cbor {1: -8} and the signer's key id in the unprotected header (label 4),
//   signing Sig_structure ["Signature1", protected, external_aad, payload] (§4.4).
// - decodeSign1 reads any COSE_Sign1 (tagged 18 or untagged, as §2 allows) and refuses other
//   structures (E_COSE_STRUCTURE: COSE_Sign, wrong tags, wrong shapes), never crashing on input.
// - verifySign1 refuses, with a stable code, everything that isn't EdDSA over Ed25519 with a
//   valid strict signature: another algorithm or an Ed448 key/signature (E_COSE_UNSUPPORTED_ALG),
//   a header label in both buckets or a critical header we don't know (E_COSE_HEADER), a detached
//   payload (E_COSE_STRUCTURE), a bad signature (E_COSE_SIGNATURE).

import { decode, encode, Tag, type CborValue } from '../codec/cbor.js';
import { BodycamError } from '../errors.js';
import { defaultEd25519, type Ed25519 } from './ed25519.js';

export const COSE_SIGN1_TAG = 18;
export const COSE_SIGN_TAG = 98;
export const HEADER_ALG = 1;
export const HEADER_CRIT = 2;
export const HEADER_CONTENT_TYPE = 3;
export const HEADER_KID = 4;
export const ALG_EDDSA = -8;

/** The protected header bodycam writes: {1: -8}, as bytes (h'A10127'). */
export const EDDSA_PROTECTED = encode(new Map<CborValue, CborValue>([[HEADER_ALG, ALG_EDDSA]]));

const EMPTY = new Uint8Array(0);

export interface Sign1 {
  /** The protected header exactly as it was signed. */
  protectedBytes: Uint8Array;
  protectedHeader: Map<CborValue, CborValue>;
  unprotectedHeader: Map<CborValue, CborValue>;
  payload: Uint8Array;
  signature: Uint8Array;
  /** Whether the message carried tag 18. */
  tagged: boolean;
}

/** Sig_structure for COSE_Sign1: the bytes the signature covers (RFC 9052 §4.4). */
export function sigStructure(protectedBytes: Uint8Array, payload: Uint8Array, externalAad: Uint8Array = EMPTY): Uint8Array {
  return encode(['Signature1', protectedBytes, externalAad, payload]);
}

export interface SignSign1Options {
  payload: Uint8Array;
  /** seed || public key (64 bytes). */
  secretKey?: Uint8Array;
  /** Or something that signs (a DeviceIdentity holds its secret itself). */
  sign?: (message: Uint8Array) => Uint8Array;
  /** Key id for the unprotected header (label 4). */
  kid?: Uint8Array;
  /** Protected header; default {1: -8}. Must say alg -8. */
  protectedHeader?: Map<CborValue, CborValue>;
  /** Unprotected header; default {4: kid}. */
  unprotectedHeader?: Map<CborValue, CborValue>;
  externalAad?: Uint8Array;
  ed25519?: Ed25519;
}

/** A COSE_Sign1 before its signature: the Sig_structure to sign, and the message once signed. */
export interface PreparedSign1 {
  readonly toBeSigned: Uint8Array;
  assemble(signature: Uint8Array): Uint8Array;
}

/** Everything of signSign1 but the signature (which may then be made a slice at a time). */
export function prepareSign1(o: SignSign1Options): PreparedSign1 {
  const protectedBytes = o.protectedHeader ? encode(o.protectedHeader) : EDDSA_PROTECTED;
  if (o.protectedHeader && o.protectedHeader.get(HEADER_ALG) !== ALG_EDDSA) throw new BodycamError('E_COSE_UNSUPPORTED_ALG', 'bodycam signs only with EdDSA (alg -8)');
  const unprotected = o.unprotectedHeader ?? new Map<CborValue, CborValue>(o.kid ? [[HEADER_KID, o.kid]] : []);
  const payload = o.payload;
  return {
    toBeSigned: sigStructure(protectedBytes, payload, o.externalAad),
    assemble: (signature) => encode(new Tag(COSE_SIGN1_TAG, [protectedBytes, unprotected, payload, signature])),
  };
}

/** Sign `payload` as a tagged COSE_Sign1 with EdDSA. */
export function signSign1(o: SignSign1Options): Uint8Array {
  const prepared = prepareSign1(o);
  const tbs = prepared.toBeSigned;
  let signature: Uint8Array;
  if (o.sign) signature = o.sign(tbs);
  else if (o.secretKey) signature = (o.ed25519 ?? defaultEd25519()).sign(tbs, o.secretKey);
  else throw new BodycamError('E_COSE_SIGNER', 'signSign1 needs a secretKey or a sign function');
  return prepared.assemble(signature);
}

function structure(message: string): BodycamError {
  return new BodycamError('E_COSE_STRUCTURE', message);
}

/** Parse a COSE_Sign1 message without verifying it. */
export function decodeSign1(bytes: Uint8Array, maxBytes = 1024 * 1024): Sign1 {
  let v: CborValue;
  try {
    v = decode(bytes, { maxBytes, maxDepth: 16, maxItems: 4096 });
  } catch (e) {
    throw structure(`not a COSE_Sign1 message: ${(e as Error).message}`);
  }
  let tagged = false;
  if (v instanceof Tag) {
    if (v.tag === COSE_SIGN_TAG) throw structure('a COSE_Sign message (tag 98, several signers), not a COSE_Sign1');
    if (v.tag !== COSE_SIGN1_TAG) throw structure(`CBOR tag ${v.tag} where COSE_Sign1 (tag 18) was expected`);
    tagged = true;
    v = v.value;
  }
  if (!Array.isArray(v) || v.length !== 4) throw structure('COSE_Sign1 must be an array of 4 items');
  const [p, u, payload, signature] = v;
  if (!(p instanceof Uint8Array)) throw structure('protected header must be a byte string');
  if (!(u instanceof Map)) throw structure('unprotected header must be a map');
  if (payload === null) throw structure('detached payloads are not used by bodycam');
  if (!(payload instanceof Uint8Array)) throw structure('payload must be a byte string');
  if (!(signature instanceof Uint8Array)) throw structure('signature must be a byte string');
  let protectedHeader: CborValue = new Map();
  if (p.length > 0) {
    try {
      protectedHeader = decode(p, { maxDepth: 8, maxItems: 64 });
    } catch (e) {
      throw structure(`protected header is not CBOR: ${(e as Error).message}`);
    }
  }
  if (!(protectedHeader instanceof Map)) throw structure('protected header must encode a map');
  return { protectedBytes: p, protectedHeader, unprotectedHeader: u, payload, signature, tagged };
}

/** A header parameter from either bucket; a label in both is an error (RFC 9052 §3). */
export function headerParam(m: Sign1, label: number): CborValue | undefined {
  const inP = m.protectedHeader.has(label);
  const inU = m.unprotectedHeader.has(label);
  if (inP && inU) throw new BodycamError('E_COSE_HEADER', `header label ${label} appears in both the protected and unprotected header`);
  return inP ? m.protectedHeader.get(label) : m.unprotectedHeader.get(label);
}

/** The key id (label 4), if it is a byte string. */
export function kidOf(m: Sign1): Uint8Array | undefined {
  const kid = headerParam(m, HEADER_KID);
  return kid instanceof Uint8Array ? kid : undefined;
}

/** Check alg, headers and key size before any signature math. */
export function checkAlgorithm(m: Sign1, publicKey: Uint8Array): void {
  const alg = headerParam(m, HEADER_ALG);
  if (alg === undefined) throw new BodycamError('E_COSE_UNSUPPORTED_ALG', 'no algorithm in the COSE headers');
  if (alg !== ALG_EDDSA) throw new BodycamError('E_COSE_UNSUPPORTED_ALG', `algorithm ${typeof alg === 'string' ? JSON.stringify(alg) : String(alg)} is not supported (only EdDSA, -8, over Ed25519)`);
  if (m.unprotectedHeader.has(HEADER_ALG) && !m.protectedHeader.has(HEADER_ALG)) {
    // RFC 9052 lets alg be unprotected; we don't: it would let a signature be re-labelled.
    throw new BodycamError('E_COSE_HEADER', 'the algorithm must be in the protected header');
  }
  if (headerParam(m, HEADER_CRIT) !== undefined) throw new BodycamError('E_COSE_HEADER', 'critical header parameters are not supported');
  if (publicKey.length === 57 || m.signature.length === 114) throw new BodycamError('E_COSE_UNSUPPORTED_ALG', 'EdDSA over Ed448 is not supported (only Ed25519)');
  if (publicKey.length !== 32) throw new BodycamError('E_COSE_UNSUPPORTED_ALG', `a ${publicKey.length}-byte key is not an Ed25519 public key`);
  if (m.signature.length !== 64) throw new BodycamError('E_COSE_SIGNATURE', `an Ed25519 signature is 64 bytes, not ${m.signature.length}`);
}

export interface VerifySign1Options {
  externalAad?: Uint8Array;
  ed25519?: Ed25519;
}

/** Verify a COSE_Sign1 (bytes or parsed) with an Ed25519 public key; returns the parsed message. */
export function verifySign1(message: Uint8Array | Sign1, publicKey: Uint8Array, o: VerifySign1Options = {}): Sign1 {
  const m = message instanceof Uint8Array ? decodeSign1(message) : message;
  checkAlgorithm(m, publicKey);
  const ok = (o.ed25519 ?? defaultEd25519()).verify(sigStructure(m.protectedBytes, m.payload, o.externalAad), m.signature, publicKey);
  if (!ok) throw new BodycamError('E_COSE_SIGNATURE', 'the COSE_Sign1 signature does not verify with this key');
  return m;
}
