// The dock protocol's messages: one CBOR map per frame, `t` names the type. This module is the
// single definition both sides use: encodeMessage() refuses to send what decodeMessage() would
// refuse to receive. Every field is typed and bounded; see docs/protocol.md.

import { decode, encode, encodeWithRoom, type CborValue } from '../codec/cbor.js';
import { BodycamError } from '../errors.js';
import { deepFreeze } from '../frozen.js';

export const MAX_CHUNK = 256 * 1024;
export const DEFAULT_CHUNK = 64 * 1024;
export const MAX_INVENTORY = 64;
export const MAX_LEDGER = 256;
export const MAX_TEXT = 256;
export const MAX_OBJECT = 8 * 1024;
/** Largest firmware image a dock may offer (an ESP32-S3 OTA slot is at most a few MiB). */
export const MAX_IMAGE = 16 * 1024 * 1024;

type Check = (v: CborValue) => boolean;
const uint: Check = (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const int: Check = (v) => typeof v === 'number' && Number.isSafeInteger(v);
const text: Check = (v) => typeof v === 'string' && v.length <= MAX_TEXT;
const bool: Check = (v) => typeof v === 'boolean';
// Each check keeps its bounds in consts of its own: the camera preloads this module, and xsl
// flags a closure over a parameter (`no const`) and any table not frozen (frozen.ts).
const bytes = (min: number, max: number): Check => {
  const lo = min, hi = max;
  return (v) => v instanceof Uint8Array && v.length >= lo && v.length <= hi;
};
const object = bytes(1, MAX_OBJECT);
const oneOf = (...values: string[]): Check => {
  const allowed: readonly string[] = Object.freeze(values);
  return (v) => typeof v === 'string' && allowed.includes(v);
};
const list = (item: Check, max: number): Check => {
  const each = item, most = max;
  return (v) => Array.isArray(v) && v.length <= most && v.every(each);
};
const record = (fields: Record<string, Check>): Check => {
  const known = deepFreeze({ ...fields });
  return (v) => v instanceof Map && Object.entries(known).every(([k, c]) => c(v.get(k) as CborValue)) && v.size === Object.keys(known).length;
};

const SEGMENT_ENTRY = record({ seq: uint, length: uint, manifest: object });

/** Every message type and its fields (all required; no others allowed). */
export const SCHEMAS = deepFreeze({
  hello: { role: oneOf('camera', 'dock'), id: text, cert: object, nonce: bytes(32, 32), kx: bytes(32, 32), fw: text, versions: list(uint, 8) },
  auth: { sig: bytes(64, 64) },
  revocations: { cose: object },
  'revocations-ok': { number: uint },
  'status?': {},
  status: {
    batteryPercent: uint, charging: bool, storageTotal: uint, storageFree: uint, pendingSegments: uint, pendingBytes: uint,
    fw: text, board: text, bootCounter: uint, configVersion: uint, utc: int, monotonic: uint, clockSource: text, lastSync: int,
  },
  time: { utc: int, sig: bytes(64, 64) },
  drift: { statement: object },
  'head?': {},
  checkpoint: { cose: object },
  'inventory?': { after: int },
  inventory: { segments: list(SEGMENT_ENTRY, MAX_INVENTORY), more: bool },
  pull: { seq: uint, offset: uint, length: (v: CborValue) => uint(v) && (v as number) > 0 && (v as number) <= MAX_CHUNK },
  chunk: { seq: uint, offset: uint, data: bytes(0, MAX_CHUNK) },
  receipt: { cose: object },
  released: { seqs: list(uint, 4096), bytes: uint },
  config: { cose: object },
  'config-ok': { version: uint },
  'ledger?': { after: int },
  ledger: { entries: list(object, MAX_LEDGER), more: bool },
  'update-chunk': { version: text, total: (v: CborValue) => uint(v) && (v as number) <= MAX_IMAGE, offset: uint, data: bytes(1, MAX_CHUNK) },
  'update-ack': { code: text, message: text, offset: uint, done: bool },
  bye: { reason: text },
  error: { code: text, message: text, fatal: bool },
} as const satisfies Record<string, Record<string, Check>>);

export type MessageType = keyof typeof SCHEMAS;

/** A decoded message: its type and its fields, already checked. */
export interface Message {
  t: MessageType;
  f: Map<CborValue, CborValue>;
}

export function messageType(v: CborValue): v is MessageType {
  return typeof v === 'string' && Object.prototype.hasOwnProperty.call(SCHEMAS, v);
}

function check(t: MessageType, m: Map<CborValue, CborValue>): void {
  const schema = SCHEMAS[t] as Record<string, Check>;
  for (const [k, c] of Object.entries(schema)) {
    if (!m.has(k)) throw new BodycamError('E_PROTO_FIELD', `${t}: field "${k}" is missing`);
    if (!c(m.get(k) as CborValue)) throw new BodycamError('E_PROTO_FIELD', `${t}: field "${k}" is of the wrong type or out of bounds`);
  }
  for (const k of m.keys()) {
    if (k !== 't' && !(typeof k === 'string' && k in schema)) throw new BodycamError('E_PROTO_FIELD', `${t}: unknown field ${JSON.stringify(String(k))}`);
  }
}

/** A value as decode() would return it after encode(): plain objects become Maps (bytes are not copied). */
function asDecoded(v: CborValue): CborValue {
  if (Array.isArray(v)) return v.map(asDecoded);
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, asDecoded(x)]));
  if (v && typeof v === 'object' && !(v instanceof Uint8Array) && Object.getPrototypeOf(v) === Object.prototype) {
    return new Map(Object.entries(v).map(([k, x]) => [k, asDecoded(x as CborValue)]));
  }
  return v;
}

function checkedMessage(t: MessageType, fields: Record<string, CborValue>): Map<CborValue, CborValue> {
  const m = new Map<CborValue, CborValue>([['t', t], ...Object.entries(fields)]);
  // Checked in the form the receiver decodes (maps for objects): exactly what it will check.
  check(t, asDecoded(m) as Map<CborValue, CborValue>);
  return m;
}

export function encodeMessage(t: MessageType, fields: Record<string, CborValue> = {}): Uint8Array {
  return encode(checkedMessage(t, fields));
}

/** A message encoded with room for the frame header and CRC around it (see frame.ts frameEncoded). */
export function encodeMessageWithRoom(t: MessageType, fields: Record<string, CborValue>, prefix: number, suffix: number): { buffer: Uint8Array; length: number } {
  let hint = 256;
  for (const v of Object.values(fields)) if (v instanceof Uint8Array) hint += v.length + 9;
  return encodeWithRoom(checkedMessage(t, fields), prefix, suffix, hint);
}

/**
 * Decode and check one payload; E_PROTO_* codes for anything that isn't a valid message.
 * `shareBytes`: byte fields are views into `payload` (no copy); the caller keeps it unchanged.
 */
export function decodeMessage(payload: Uint8Array, o: { shareBytes?: boolean } = {}): Message {
  let v: CborValue;
  try {
    v = decode(payload, { maxDepth: 6, maxItems: 4096, maxBytes: MAX_CHUNK + 1024, shareBytes: o.shareBytes === true });
  } catch (e) {
    throw new BodycamError('E_PROTO_CBOR', `message is not valid CBOR (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!(v instanceof Map)) throw new BodycamError('E_PROTO_MESSAGE', 'message is not a map');
  const t = v.get('t');
  if (!messageType(t)) throw new BodycamError('E_PROTO_UNKNOWN', `unknown message type ${JSON.stringify(typeof t === 'string' ? t.slice(0, 40) : String(t))}`);
  check(t, v);
  return { t, f: v };
}

// Typed field access for a checked message (the schema guarantees presence and type).
export const num = (m: Message, k: string): number => m.f.get(k) as number;
export const str = (m: Message, k: string): string => m.f.get(k) as string;
export const bin = (m: Message, k: string): Uint8Array => m.f.get(k) as Uint8Array;
export const flag = (m: Message, k: string): boolean => m.f.get(k) as boolean;
export const arr = (m: Message, k: string): CborValue[] => m.f.get(k) as CborValue[];
