// The command bridge's wire format, shared by both ends (this file runs inside XS too, so it is
// pure ECMAScript like firmware/). Every port call from firmware in XS to simulated hardware on
// the host is one message through the worker's issueCommand pipe, and every call into the
// firmware (an entry, a hardware callback) is one message the other way — the only way in or
// out of the XS process, like a device's pins.
//
// Requests from the guest (firmware in XS) to the host:
//   [OP_NEW, portName, options]          construct a port (Camera, Flash, ...) -> handle
//   [OP_CALL, target, method, args]      target: a service name ("clock") or a handle id
//   [OP_BATCH, [posted calls], request]  calls the guest posted (below), run in order, then the request
// Requests from the host to the guest:
//   [OP_ENTRY, entryName, args, context] run a firmware entry point (CBOR: entries take CBOR values)
//   [OP_CALLBACK, callbackId, args, context]  a hardware callback (onReadable, a timer) fires
// Replies: [0, value, written, context] or [1, code, message, context]. `written` lists the
// byte-array arguments the host port wrote into ([argument index, bytes], and for a lent buffer
// its new CRC-32 as a third element), as Random.fill and an AEAD's in-place seal do:
// the guest copies them back into its own arrays, so an output buffer behaves as it does on a
// device. A reply to the guest's handleCommand is [status, value, posted calls] and its bridge
// units: the calls the guest posted and had not sent yet, which the host runs on arrival. Its
// value is {"j": JSON} for a plain value (plainValue), which the host encodes as CBOR and decodes,
// else {"i": attachment}, the value's CBOR encoded in the guest.
//
// A message (packMessage) is JSON with binary attachments: [a lent buffer's bytes, or nothing]
// [the byte values, one after another] [UTF-8 JSON of [value, byte value lengths, lent length]]
// [u32 the JSON's length]; a callback command starts with one byte 0x01 (an entry command is CBOR,
// which never starts so). JSON because XS parses and prints it natively: a CBOR codec written
// in JavaScript cost thousands of compute units per message, JSON.parse tens. Values JSON has no
// form for travel as objects with the key "@" (see pack): undefined, -0, NaN, bigints, byte
// values (by index), Maps, CBOR tags, and the bridge's own handles, callbacks and buffers.
//
// Fewer round trips (a frame costs two, not fifteen):
// - Posted calls. A host object lent as a handle may come with a grant: methods that return
//   nothing and cannot fail while the grant holds (a frame's close, a digest's write, a flash
//   write or erase while no power cut is armed within `budget` operations). The guest queues such
//   a call and returns at once; the queue goes with its next message, in order, so the host sees
//   the same calls in the same order. A call outside its grant (a cut armed within reach, an
//   argument the port would refuse) goes at once and fails where it would have.
// - Context. Every command into the guest, and every reply whose context changed, carries the
//   clock's state ([monotonic, utc, source, lastSync]) and fresh budgets ([handle, budget]
//   pairs): virtual time moves only between commands, so the guest answers clock reads itself.
// - Lent buffers. An ArrayBuffer that is a data property of a handle (a camera frame's body)
//   travels once, as {"@":"l"} with its reference, CRC-32 and crcShift; the first in a reply goes
//   ahead of everything, and the guest takes the message's own memory for it (ArrayBuffer
//   transfer: no copy in XS). When the guest passes it (or a view over it) back to a port, only
//   {"@":"r"} [reference, offset, length] crosses, and the host uses its own buffer. With its
//   CRC-32 the guest checksums it with any seed without a round trip (crcCombine), as a native
//   CRC costs next to nothing on a camera. Firmware writes into a lent frame only through a port
//   that works in place — the Cipher port sealing a frame's body (AeadContext seal/open): the
//   host seals its own buffer, the one every later write refers to, and the reply's `written`
//   carries the new bytes and the lent buffer's new CRC-32, so the guest's copy and its CRC stay
//   the host's (the copy is bridge work: on a device the bytes are sealed where they lie).
// - Empty reads. A camera lent with `empty: 'read'` and its ready frames as budget: while none
//   is ready, read() returns undefined in the guest (frames arrive only between commands).

import { Simple, Tag, type CborValue } from '../../firmware/codec/cbor.js';
import { BodycamError } from '../../firmware/errors.js';

export const OP_NEW = 0;
export const OP_CALL = 1;
export const OP_ENTRY = 2;
export const OP_CALLBACK = 3;
export const OP_BATCH = 4;

/** The first byte of a callback command (an entry command is CBOR). */
export const CALLBACK_COMMAND = 0x01;

/**
 * What the guest may post to a handle: `methods`, up to `budget` operations (-1: no limit) before
 * it must wait for a fresh budget. `flash`: the port's size, write alignment and blocks, so the
 * guest posts only writes and erases the port would accept (a write is one operation, an erase
 * one per block); anything else goes at once and fails as it would have.
 */
export interface Grant {
  methods: string[];
  budget: number;
  flash?: [size: number, writeAlign: number, blocks: number];
  /** A method that returns undefined and does nothing while the budget is 0 (a camera's read with no frame ready). */
  empty?: string;
  /** The budget never changes (host side: not refreshed with every command). */
  fixed?: boolean;
}

// (Index loops, not destructuring, for-of or every: this runs for every posted call, in XS too,
// where an iterator costs several times an index.)
/** Operations the call would be under a grant, or -1 when the grant does not cover it. */
export function postCost(g: Grant, method: string, args: readonly unknown[]): number {
  if (!g.methods.includes(method)) return -1;
  const f = g.flash;
  if (!f) {
    for (let i = 0; i < args.length; i++) if (!isBytes(args[i])) return -1;
    return 1;
  }
  if (method === 'write') {
    const buffer = args[0];
    const offset = args[1];
    if (args.length !== 2 || !isBytes(buffer) || !Number.isInteger(offset)) return -1;
    const n = (buffer as ArrayBuffer | ArrayBufferView).byteLength;
    const at = offset as number;
    return at >= 0 && at + n <= f[0] && at % f[1] === 0 && n % f[1] === 0 ? 1 : -1;
  }
  if (method === 'eraseBlock') {
    const start = args[0];
    const last = args[1] === undefined ? (start as number) + 1 : args[1];
    if (args.length > 2 || !Number.isInteger(start) || !Number.isInteger(last)) return -1;
    return (start as number) >= 0 && (last as number) <= f[2] && (last as number) > (start as number) ? (last as number) - (start as number) : -1;
  }
  return -1;
}

function isBytes(v: unknown): boolean {
  return v instanceof ArrayBuffer || ArrayBuffer.isView(v);
}

/** Port constructors and services of a Platform, by name (firmware/platform/platform.ts). */
export const PLATFORM_CONSTRUCTORS = Object.freeze(['Camera', 'AudioIn', 'Flash', 'KeyStore', 'Button', 'Led', 'Haptic', 'Battery', 'Link'] as const);
export const PLATFORM_SERVICES = Object.freeze(['clock', 'timer', 'random', 'digest', 'checksum', 'cipher'] as const);

// CRC-32 (zlib's) of a lent buffer with a seed, without its bytes: crc32(data, seed) is
// crc32(data, 0) xor seed·x^(8·length) mod P (zlib's crc32_combine). The host sends crc32(data, 0)
// and x^(8·length) mod P with the buffer; the guest multiplies — 8 steps, not one per byte.
const POLY = 0xedb88320;

/** j·x^4 mod P, j being terms of degree 28 to 31 (bits 3 to 0). */
const TIMES_X4 = new Uint32Array(16);
for (let j = 0; j < 16; j++) {
  let r = j;
  for (let k = 0; k < 4; k++) r = r & 1 ? (r >>> 1) ^ POLY : r >>> 1;
  TIMES_X4[j] = r;
}

/**
 * a·b mod P, in the reflected bit order of zlib's CRC-32 (multmodp; bit 31 is x^0): four bits of
 * a a step (Horner's rule from its highest degree), with b times every four-term polynomial in a
 * table — eight steps, not thirty-two (this runs in XS for every CRC of a lent buffer).
 */
export function crcMultiply(a: number, b: number): number {
  const b1 = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  const b2 = b1 & 1 ? (b1 >>> 1) ^ POLY : b1 >>> 1;
  const b3 = b2 & 1 ? (b2 >>> 1) ^ POLY : b2 >>> 1;
  // Index bit 3 is x^0, bit 0 is x^3 (as a's nibbles read).
  const t = [0, b3, b2, b2 ^ b3, b1, b1 ^ b3, b1 ^ b2, b1 ^ b2 ^ b3, b, b ^ b3, b ^ b2, b ^ b2 ^ b3, b ^ b1, b ^ b1 ^ b3, b ^ b1 ^ b2, b ^ b1 ^ b2 ^ b3];
  let p = 0;
  for (let s = 0; s < 32; s += 4) p = (p >>> 4) ^ TIMES_X4[p & 15] ^ t[(a >>> s) & 15];
  return p >>> 0;
}

/** x^(8·n) mod P (zlib's x2nmodp(n, 3)), on the host. */
export function crcShift(n: number): number {
  let p = 0x80000000; // x^0
  let x2 = 0x40000000 >>> 0; // x^1, then squared: x^2, x^4, ...
  // Start at x^8 (k = 3): square x^1 three times.
  for (let i = 0; i < 3; i++) x2 = crcMultiply(x2, x2);
  while (n) {
    if (n & 1) p = crcMultiply(x2, p);
    n = Math.floor(n / 2);
    x2 = crcMultiply(x2, x2);
  }
  return p >>> 0;
}

/** crc32(data, seed) from crc32(data, 0) and crcShift(data.length). */
export function crcCombine(seed: number, crcOfData: number, shift: number): number {
  return (crcMultiply(shift, seed >>> 0) ^ crcOfData) >>> 0;
}

/** The methods of a host object, for its handle (own and inherited, not Object's). */
export function methodNames(o: object): string[] {
  const names = new Set<string>();
  for (let p = Object.getPrototypeOf(o); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const n of Object.getOwnPropertyNames(p)) {
      if (n === 'constructor') continue;
      const d = Object.getOwnPropertyDescriptor(p, n);
      if (d && typeof d.value === 'function') names.add(n);
    }
  }
  for (const [k, x] of Object.entries(o)) if (typeof x === 'function') names.add(k);
  return [...names];
}

/** Data properties of a host object (own enumerable and getters), sent along with its handle. */
export function dataProperties(o: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) if (typeof x !== 'function') out[k] = x;
  for (let p = Object.getPrototypeOf(o); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const n of Object.getOwnPropertyNames(p)) {
      const d = Object.getOwnPropertyDescriptor(p, n);
      if (d?.get && !(n in out)) out[n] = (o as Record<string, unknown>)[n];
    }
  }
  return out;
}

// ---------------------------------------------------------------- values and messages

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A message's JSON as UTF-8 bytes and back (native where the engine has it). */
export interface TextBytes {
  encode(s: string): Uint8Array;
  decode(b: Uint8Array): string;
}

export interface PackHooks {
  /** Bytes going out: a replacement (a reference to a lent buffer), or undefined to attach them. */
  bytes?: (v: ArrayBuffer | ArrayBufferView) => Json | undefined;
  /** A class instance (not plain data) going out: how to send it. */
  object?: (o: object) => Json;
  /** A function going out. */
  fn?: (f: (...args: unknown[]) => unknown) => Json;
}

const UNDEFINED: Json = Object.freeze({ '@': 'u' }) as Json;

function isPlain(o: object): boolean {
  const p = Object.getPrototypeOf(o);
  return p === Object.prototype || p === null;
}

/**
 * Values into a message's JSON and attachments. `copy`: attach a copy of each byte value (for
 * calls posted now and sent later: the caller may reuse its buffer meanwhile).
 */
export class Packer {
  blobs: Uint8Array[] = [];
  /** The lent buffer that goes ahead of everything (one per message). */
  prefix: Uint8Array | undefined;
  constructor(readonly hooks: PackHooks = {}, public copy = false) {}

  /** Empty again, for the next message (`copy` as given): cheaper than a new Packer in XS. */
  reset(copy: boolean): void {
    this.blobs = [];
    this.prefix = undefined;
    this.copy = copy;
  }

  attach(b: Uint8Array): number {
    this.blobs.push(this.copy ? copyBytes(b) : b);
    return this.blobs.length - 1;
  }

  pack(v: unknown): Json {
    // The frequent cases first, without calls (each costs XS compute units): a finite number
    // other than -0 (v - v is NaN for NaN and ±Infinity), a string, an array.
    if (typeof v === 'number') return v - v === 0 && (v !== 0 || 1 / v > 0) ? v : { '@': 'n', v: Object.is(v, -0) ? '-0' : String(v) };
    if (typeof v === 'string') return v;
    if (Array.isArray(v)) {
      const n = v.length;
      const out: Json[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = this.pack(v[i]);
      return out;
    }
    switch (typeof v) {
      case 'boolean':
        return v;
      case 'undefined':
        return UNDEFINED;
      case 'bigint':
        return { '@': 'i', v: v.toString() };
      case 'function':
        if (this.hooks.fn) return this.hooks.fn(v as (...args: unknown[]) => unknown);
        throw new TypeError('a function can not cross the bridge here');
      case 'object':
        break;
      default:
        throw new TypeError(`a ${typeof v} can not cross the bridge`);
    }
    if (v === null) return null;
    if (v instanceof Uint8Array || v instanceof ArrayBuffer || ArrayBuffer.isView(v)) {
      const r = this.hooks.bytes?.(v);
      if (r !== undefined) return r;
      if (v instanceof ArrayBuffer) return { '@': 'a', i: this.attach(new Uint8Array(v)) };
      return { '@': 'b', i: this.attach(v instanceof Uint8Array ? v : new Uint8Array(v.buffer, v.byteOffset, v.byteLength)) };
    }
    if (v instanceof Tag) return { '@': 't', t: v.tag, v: this.pack(v.value) };
    if (v instanceof Simple) return { '@': 's', v: v.value };
    if (v instanceof Map) {
      const e: Json[] = [];
      for (const [k, x] of v) e.push([this.pack(k), this.pack(x)]);
      return { '@': 'm', v: e };
    }
    // A plain object with methods (a port made by a factory) is lent as a handle like a class instance.
    if (isPlain(v) && !(this.hooks.object && Object.values(v).some((x) => typeof x === 'function'))) {
      const o: { [key: string]: Json } = {};
      for (const [k, x] of Object.entries(v)) o[k] = this.pack(x);
      return '@' in o ? { '@': 'o', v: o } : o;
    }
    if (this.hooks.object) return this.hooks.object(v);
    throw new TypeError(`an object of class ${(v as object).constructor?.name ?? '?'} can not cross the bridge here`);
  }
}

// Copying bytes in XS: a typed array's slice, set or constructor from another costs two compute
// units a byte (the meter counts elements), an ArrayBuffer's slice and (XS's own) concat a few
// units whatever their length, as a memcpy would on a device. So the bridge copies and joins
// bytes as ArrayBuffers, and where it must write into an array the caller holds, eight bytes at
// a time (copyInto). Node has no ArrayBuffer.prototype.concat: there the message is joined with set.
type Concat = (this: ArrayBuffer, ...more: ArrayBuffer[]) => ArrayBuffer;
const concat = (ArrayBuffer.prototype as unknown as { concat?: Concat }).concat;

/** A copy of the bytes with a buffer of its own (an ArrayBuffer's slice: one native copy). */
export function copyBytes(b: Uint8Array): Uint8Array {
  return new Uint8Array((b.buffer as ArrayBuffer).slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** The view's bytes as an ArrayBuffer: its own buffer when it spans it, else a copy. */
export function bufferOf(b: Uint8Array): ArrayBuffer {
  const buffer = b.buffer as ArrayBuffer;
  return b.byteOffset === 0 && b.byteLength === buffer.byteLength ? buffer : buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
}

const ALIGN = 8;
const Wide = typeof BigUint64Array === 'function' ? BigUint64Array : undefined;

/**
 * into.set(src) for bytes (src no longer than into), eight bytes an element where into's offset
 * allows it: the same bytes, a quarter of the compute units.
 */
export function copyInto(into: Uint8Array, src: Uint8Array): void {
  const n = src.length;
  const head = Math.min(n, (ALIGN - (into.byteOffset % ALIGN)) % ALIGN);
  const words = Wide ? Math.floor((n - head) / ALIGN) : 0;
  // Below 32 words the three sets and the slice cost more than they save.
  if (words < 32) {
    into.set(src);
    return;
  }
  if (head) into.set(src.subarray(0, head));
  const from = src.byteOffset + head;
  new Wide!(into.buffer, into.byteOffset + head, words).set(new Wide!((src.buffer as ArrayBuffer).slice(from, from + words * ALIGN)));
  const done = head + words * ALIGN;
  if (done < n) into.set(src.subarray(done), done);
}

/**
 * [lead byte] [prefix] [attachments] [JSON of [tree, attachment lengths, prefix length]] [u32 JSON
 * length], then `room` zero bytes for the caller (the guest's reply writes its bridge units there).
 */
export function packMessage(tree: Json, packer: Packer, text: TextBytes, lead?: number, room = 0): Uint8Array {
  const blobs = packer.blobs;
  const count = blobs.length;
  const lengths: number[] = new Array(count);
  let size = 0;
  for (let i = 0; i < count; i++) size += lengths[i] = blobs[i].length;
  const prefix = packer.prefix;
  const json = text.encode(JSON.stringify([tree, lengths, prefix ? prefix.length : 0]));
  const n = json.length;
  if (concat) {
    // The first part, then the rest (no array literal into a typed array, no slice: each costs).
    const trailer = new ArrayBuffer(4 + room);
    new DataView(trailer).setUint32(0, n);
    let first: ArrayBuffer | undefined;
    if (lead !== undefined) {
      first = new ArrayBuffer(1);
      new DataView(first).setUint8(0, lead);
    }
    const rest: ArrayBuffer[] = [];
    if (prefix) {
      if (first) rest.push(bufferOf(prefix));
      else first = bufferOf(prefix);
    }
    for (let i = 0; i < count; i++) {
      if (first) rest.push(bufferOf(blobs[i]));
      else first = bufferOf(blobs[i]);
    }
    if (!first) return new Uint8Array(concat.call(bufferOf(json), trailer));
    rest.push(bufferOf(json), trailer);
    return new Uint8Array(concat.apply(first, rest));
  }
  const head = lead === undefined ? 0 : 1;
  const out = new Uint8Array(head + (prefix ? prefix.length : 0) + size + json.length + 4 + room);
  let o = 0;
  if (head) out[o++] = lead!;
  if (prefix) {
    out.set(prefix, o);
    o += prefix.length;
  }
  for (const b of blobs) {
    out.set(b, o);
    o += b.length;
  }
  out.set(json, o);
  o += json.length;
  out[o] = n >>> 24;
  out[o + 1] = (n >>> 16) & 0xff;
  out[o + 2] = (n >>> 8) & 0xff;
  out[o + 3] = n & 0xff;
  return out;
}

export interface Message {
  tree: Json;
  /** Each attachment, a copy with a buffer of its own. */
  blobs: Uint8Array[];
  /** Where the lent buffer that came ahead starts, and its length (0: none). */
  prefixAt: number;
  prefixLength: number;
}

/** The message packMessage made (`at`: after the lead byte). Throws E_BRIDGE (or JSON's SyntaxError) on anything else. */
export function readMessage(m: Uint8Array, text: TextBytes, at = 0): Message {
  const n = m.length;
  if (n < at + 4) throw new BodycamError('E_BRIDGE', 'bridge message too short');
  const jsonLength = ((m[n - 4] << 24) | (m[n - 3] << 16) | (m[n - 2] << 8) | m[n - 1]) >>> 0;
  const jsonAt = n - 4 - jsonLength;
  if (jsonAt < at) throw new BodycamError('E_BRIDGE', 'bridge message JSON length out of range');
  const top = JSON.parse(text.decode(m.subarray(jsonAt, n - 4))) as [Json, number[], number];
  const tree = top[0];
  const lengths = top[1];
  const prefixLength = top[2];
  let o = at + prefixLength;
  const blobs: Uint8Array[] = [];
  for (let i = 0; i < lengths.length; i++) {
    const len = lengths[i];
    if (o + len > jsonAt) throw new BodycamError('E_BRIDGE', 'bridge message attachments out of range');
    blobs.push(copyBytes(m.subarray(o, o + len)));
    o += len;
  }
  return { tree, blobs, prefixAt: at, prefixLength };
}

export interface UnpackHooks {
  handle?: (id: number, props: Record<string, unknown>, methods: string[], grant: Grant | undefined) => unknown;
  callback?: (id: number) => unknown;
  /** A buffer lent with a handle (guest side): attachment `index` (-1: the message's prefix), its CRC-32 and crcShift. */
  hostBuffer?: (ref: number, index: number, crc: number, shift: number) => unknown;
  /** A reference to a lent buffer (host side). */
  hostRef?: (ref: number, offset: number, length: number, arrayBuffer: boolean) => unknown;
}


/** A value out of a message: what pack put in, with the hooks for the bridge's own forms. */
export function unpack(v: Json, blobs: readonly Uint8Array[], hooks: UnpackHooks = {}): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    const n = v.length;
    const out: unknown[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = unpack(v[i], blobs, hooks);
    return out;
  }
  const kind = v['@'];
  if (kind === undefined) return unpackObject(v, blobs, hooks);
  const w = v as { [key: string]: Json };
  switch (kind) {
    case 'u':
      return undefined;
    case 'n':
      return Number(w.v);
    case 'i':
      return BigInt(w.v as string);
    case 'b':
      return blobs[w.i as number];
    case 'a':
      return bufferOf(blobs[w.i as number]);
    case 'o':
      return unpackObject(w.v as { [key: string]: Json }, blobs, hooks);
    case 't':
      return new Tag(w.t as number, unpack(w.v, blobs, hooks) as CborValue);
    case 's':
      return new Simple(w.v as number);
    case 'm': {
      // As a CBOR map crossed before: text keys make a plain object, any other a Map.
      const entries = (w.v as Json[][]).map(([k, x]) => [unpack(k, blobs, hooks), unpack(x, blobs, hooks)] as const);
      if (entries.every(([k]) => typeof k === 'string')) {
        const o: Record<string, unknown> = {};
        for (const [k, x] of entries) o[k as string] = x;
        return o;
      }
      return new Map(entries);
    }
    case 'h':
      if (hooks.handle) return hooks.handle(w.id as number, unpack(w.p, blobs, hooks) as Record<string, unknown>, w.m as string[], grantOf(w.g));
      break;
    case 'c':
      if (hooks.callback) return hooks.callback(w.id as number);
      break;
    case 'l':
      if (hooks.hostBuffer) return hooks.hostBuffer(w.r as number, w.i as number, w.c as number, w.s as number);
      break;
    case 'r':
      if (hooks.hostRef) return hooks.hostRef(w.r as number, w.o as number, w.n as number, w.a === 1);
      break;
  }
  throw new TypeError(`a bridge value of kind ${String(kind)} is not expected here`);
}

function unpackObject(v: { [key: string]: Json }, blobs: readonly Uint8Array[], hooks: UnpackHooks): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const k of Object.keys(v)) o[k] = unpack(v[k], blobs, hooks);
  return o;
}

// ---------------------------------------------------------------- entry results

/** plainJson's answer for a value it leaves to the CBOR encoder. */
const NOT_PLAIN: Json = Object.freeze({ '@': 'not plain' }) as Json;
/** Beyond this depth the CBOR encoder decides (it refuses values nested deeper than 32). */
const PLAIN_DEPTH = 24;
const SURROGATE = /[\ud800-\udfff]/;

/**
 * An entry's result as JSON (byte values attached to `packer`), for the host to encode as CBOR
 * itself and decode: JSON.stringify is native in XS, the CBOR encoder JavaScript that costs a
 * hundred times more for a recorder's status. Only values whose CBOR the host makes the same from
 * the JSON, and which the encoder would not refuse: finite numbers but -0, strings without
 * surrogates (lone ones, which JSON and UTF-8 may treat apart, or pairs, kept simple), booleans,
 * null, undefined, Uint8Arrays, and arrays and plain objects of these.
 * Anything else (a Map, a bigint, a Tag, a class instance, NaN...): undefined, and the caller
 * sends the value's CBOR, encoded by the guest as before (with its errors).
 */
export function plainValue(v: unknown, packer: Packer): Json | undefined {
  const attached = packer.blobs.length;
  const j = plainJson(v, packer, 0);
  if (j !== NOT_PLAIN) return j;
  packer.blobs.length = attached;
  return undefined;
}

function plainJson(v: unknown, packer: Packer, depth: number): Json {
  if (typeof v === 'number') return v - v === 0 && (v !== 0 || 1 / v > 0) ? v : NOT_PLAIN;
  if (typeof v === 'string') return SURROGATE.test(v) ? NOT_PLAIN : v;
  if (typeof v === 'boolean' || v === null) return v;
  if (v === undefined) return UNDEFINED;
  if (typeof v !== 'object' || depth > PLAIN_DEPTH) return NOT_PLAIN;
  if (Array.isArray(v)) {
    const n = v.length;
    const out: Json[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const x = plainJson(v[i], packer, depth + 1);
      if (x === NOT_PLAIN) return NOT_PLAIN;
      out[i] = x;
    }
    return out;
  }
  if (v instanceof Uint8Array) return { '@': 'b', i: packer.attach(v) };
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return NOT_PLAIN;
  const keys = Object.keys(v);
  const o: { [key: string]: Json } = {};
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (k === '__proto__' || SURROGATE.test(k)) return NOT_PLAIN;
    const x = plainJson((v as Record<string, unknown>)[k], packer, depth + 1);
    if (x === NOT_PLAIN) return NOT_PLAIN;
    o[k] = x;
  }
  return '@' in o ? { '@': 'o', v: o } : o;
}

/** A grant as it travels. */
export function grantToJson(g: Grant | undefined): Json {
  if (!g) return null;
  const o: { [key: string]: Json } = { m: g.methods, b: g.budget };
  if (g.flash) o.f = g.flash;
  if (g.empty) o.e = g.empty;
  return o;
}

function grantOf(v: Json | undefined): Grant | undefined {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const g: Grant = { methods: v.m as string[], budget: v.b as number };
  if (v.f) g.flash = v.f as [number, number, number];
  if (typeof v.e === 'string') g.empty = v.e;
  return g;
}
