// The one way bodycam signs and opens a structure: a deterministic CBOR map with text keys and a
// "type" field naming the structure and its version, carried as the payload of a COSE_Sign1
// whose kid is the signer's key id. The type field keeps a signature on one kind of structure
// from being passed off as another (a checkpoint as a manifest, a dock certificate as a receipt).

import { decode, encode, isBytes, isText, isUint, type CborValue } from '../codec/cbor.js';
import { BodycamError } from '../errors.js';
import { decodeSign1, kidOf, prepareSign1, signSign1, verifySign1, type PreparedSign1, type Sign1 } from './cose.js';
import type { Ed25519 } from './ed25519.js';
import type { Signer } from './signer.js';

export type Fields = Map<CborValue, CborValue>;

/** Sign `fields` (without "type") as a COSE_Sign1 payload of the given type. */
export function signStructure(type: string, fields: Record<string, CborValue>, signer: Signer): Uint8Array {
  return signSign1({ payload: encode({ ...fields, type }), kid: signer.keyId, sign: (m) => signer.sign(m) });
}

/** signStructure up to the signature, for a signer with key id `keyId`. */
export function prepareStructure(type: string, fields: Record<string, CborValue>, keyId: Uint8Array): PreparedSign1 {
  return prepareSign1({ payload: encode({ ...fields, type }), kid: keyId });
}

export interface Opened {
  message: Sign1;
  fields: Fields;
  kid: Uint8Array | undefined;
}

/** Parse a signed structure of `type` without checking the signature (to find its signer). */
export function peekStructure(bytes: Uint8Array, type: string, code: string): Opened {
  const message = decodeSign1(bytes);
  let fields: CborValue;
  try {
    fields = decode(message.payload, { maxDepth: 8, maxItems: 100000 });
  } catch (e) {
    throw new BodycamError(code, `${type}: payload is not CBOR (${(e as Error).message})`);
  }
  if (!(fields instanceof Map)) throw new BodycamError(code, `${type}: payload is not a map`);
  const t = fields.get('type');
  if (t !== type) throw new BodycamError(code, `expected a ${type}, found ${typeof t === 'string' ? t : 'no type'}`);
  return { message, fields, kid: kidOf(message) };
}

/** Parse and verify a signed structure of `type` with `publicKey`. */
export function openStructure(bytes: Uint8Array, type: string, code: string, publicKey: Uint8Array, ed25519?: Ed25519): Opened {
  const opened = peekStructure(bytes, type, code);
  verifySign1(opened.message, publicKey, { ed25519 });
  return opened;
}

// Typed field readers with the structure's error code.
export function text(f: Fields, key: string, code: string, type: string): string {
  const v = f.get(key);
  if (!isText(v)) throw new BodycamError(code, `${type}: field "${key}" missing or not text`);
  return v;
}
export function uint(f: Fields, key: string, code: string, type: string): number {
  const v = f.get(key);
  if (!isUint(v)) throw new BodycamError(code, `${type}: field "${key}" missing or not an unsigned integer`);
  return v;
}
export function bytes(f: Fields, key: string, code: string, type: string, length?: number): Uint8Array {
  const v = f.get(key);
  if (!isBytes(v) || (length !== undefined && v.length !== length)) throw new BodycamError(code, `${type}: field "${key}" missing or not ${length ?? 'a'}-byte bytes`);
  return v;
}
export function bytesOrNull(f: Fields, key: string, code: string, type: string, length: number): Uint8Array | null {
  return f.get(key) === null ? null : bytes(f, key, code, type, length);
}
