// The provisioning exchange's messages: one CBOR map per frame (carried with the dock link's
// framing, firmware/dock/frame.ts), `t` names the type. The armoury asks, the camera answers:
//
//   identify  {}                                   → identity  {id, key, keyId, fw, provisioned[, width, height, frameRate]}
//   install   {cert, root, config, revocations, force[, firmwareKeys]} → installed {id, keyId, configVersion}
//   either side: error {code, message, fatal}
//
// Fields added after the first release are optional (OPTIONAL_FIELDS below), so an older armoury tool's
// install still decodes: `firmwareKeys` (the root-signed firmware key set, or null); and an older
// camera's identity: `width`, `height`, `frameRate` (the picture size and rate its board records
// best, boards/*.json `camera`: the armoury's default for the camera's configuration).
// Like firmware/dock/messages.ts, encodeProvisionMessage() refuses to send what
// decodeProvisionMessage() would refuse to receive; every field is typed and bounded.

import { decode, encode, type CborValue } from '../codec/cbor.js';
import { BodycamError } from '../errors.js';
import { deepFreeze } from '../frozen.js';

/** The largest signed object carried (certificate, configuration, revocation list). */
export const MAX_OBJECT = 4000;
export const MAX_TEXT = 256;

type Check = (v: CborValue) => boolean;
const text: Check = (v) => typeof v === 'string' && v.length <= MAX_TEXT;
const bool: Check = (v) => typeof v === 'boolean';
const uint: Check = (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
// Checks keep what they close over in consts, and the table is frozen: the camera preloads this
// module (see frozen.ts).
const bytes = (min: number, max: number): Check => {
  const lo = min, hi = max;
  return (v) => v instanceof Uint8Array && v.length >= lo && v.length <= hi;
};
const orNull = (c: Check): Check => {
  const check = c;
  return (v) => v === null || check(v);
};
const object = bytes(1, MAX_OBJECT);

export const PROVISION_SCHEMAS = deepFreeze({
  identify: {},
  identity: { id: orNull(text), key: bytes(32, 32), keyId: bytes(8, 8), fw: text, provisioned: bool, width: orNull(uint), height: orNull(uint), frameRate: orNull(uint) },
  install: { cert: object, root: bytes(32, 32), config: object, revocations: orNull(object), force: bool, firmwareKeys: orNull(object) },
  installed: { id: text, keyId: bytes(8, 8), configVersion: uint },
  error: { code: text, message: text, fatal: bool },
} as const satisfies Record<string, Record<string, Check>>);

export type ProvisionMessageType = keyof typeof PROVISION_SCHEMAS;

/** Fields a message may leave out (added to the exchange later); absent reads as null. */
export const OPTIONAL_FIELDS: Readonly<Partial<Record<ProvisionMessageType, readonly string[]>>> = Object.freeze({ install: Object.freeze(['firmwareKeys']), identity: Object.freeze(['width', 'height', 'frameRate']) });

export interface ProvisionMessage {
  t: ProvisionMessageType;
  f: Map<CborValue, CborValue>;
}

function isType(v: CborValue): v is ProvisionMessageType {
  return typeof v === 'string' && Object.prototype.hasOwnProperty.call(PROVISION_SCHEMAS, v);
}

function check(t: ProvisionMessageType, m: Map<CborValue, CborValue>): void {
  const schema = PROVISION_SCHEMAS[t] as Record<string, Check>;
  const optional = OPTIONAL_FIELDS[t] ?? [];
  for (const [k, c] of Object.entries(schema)) {
    if (!m.has(k) && optional.includes(k)) continue;
    if (!m.has(k)) throw new BodycamError('E_PROTO_FIELD', `${t}: field "${k}" is missing`);
    if (!c(m.get(k) as CborValue)) throw new BodycamError('E_PROTO_FIELD', `${t}: field "${k}" is of the wrong type or out of bounds`);
  }
  for (const k of m.keys()) {
    if (k !== 't' && !(typeof k === 'string' && k in schema)) throw new BodycamError('E_PROTO_FIELD', `${t}: unknown field ${JSON.stringify(String(k))}`);
  }
}

export function encodeProvisionMessage(t: ProvisionMessageType, fields: Record<string, CborValue> = {}): Uint8Array {
  const m = new Map<CborValue, CborValue>([['t', t], ...Object.entries(fields)]);
  check(t, m);
  return encode(m);
}

export function decodeProvisionMessage(payload: Uint8Array): ProvisionMessage {
  let v: CborValue;
  try {
    v = decode(payload, { maxDepth: 4, maxItems: 64, maxBytes: 4 * MAX_OBJECT });
  } catch (e) {
    throw new BodycamError('E_PROTO_CBOR', `message is not valid CBOR (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!(v instanceof Map)) throw new BodycamError('E_PROTO_MESSAGE', 'message is not a map');
  const t = v.get('t');
  if (!isType(t)) throw new BodycamError('E_PROTO_UNKNOWN', `unknown provisioning message ${JSON.stringify(typeof t === 'string' ? t.slice(0, 40) : String(t))}`);
  check(t, v);
  return { t, f: v };
}
