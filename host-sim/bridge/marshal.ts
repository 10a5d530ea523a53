// The command bridge's wire format, shared by both ends (this file runs inside XS too, so it is
// pure ECMAScript like firmware/). Every port call from firmware in XS to simulated hardware on
// the host is one CBOR message through the worker's issueCommand pipe, and every call into the
// firmware (an entry, a hardware callback) is one CBOR message the other way — the only way in or
// out of the XS process, like a device's pins.
//
// Requests from the guest (firmware in XS) to the host:
//   [OP_NEW, portName, options]          construct a port (Camera, Flash, ...) -> handle
//   [OP_CALL, target, method, args]      target: a service name ("clock") or a handle id
// Requests from the host to the guest:
//   [OP_ENTRY, entryName, args]          run a firmware entry point
//   [OP_CALLBACK, callbackId, args]      a hardware callback (onReadable, a timer) fires
// Replies: [0, value, written] or [1, code, message]. `written` lists the byte-array arguments
// the host port wrote into ([argument index, bytes]), as Random.fill does: the guest copies them
// back into its own arrays, so an output buffer behaves as it does on a device.
//
// Values are CBOR with three bridge tags: a host object lent to the guest (a port instance, a
// camera frame) travels as TAG_HANDLE [id, data properties, method names]; a guest function
// passed as a callback travels as TAG_CALLBACK id; an ArrayBuffer travels as TAG_ARRAYBUFFER
// bytes (a plain byte string is a Uint8Array).

import { Tag, type CborValue } from '../../firmware/codec/cbor.js';

export const OP_NEW = 0;
export const OP_CALL = 1;
export const OP_ENTRY = 2;
export const OP_CALLBACK = 3;

export const TAG_HANDLE = 40000;
export const TAG_CALLBACK = 40001;
export const TAG_ARRAYBUFFER = 40002;

/** Port constructors and services of a Platform, by name (firmware/platform/platform.ts). */
export const PLATFORM_CONSTRUCTORS = Object.freeze(['Camera', 'AudioIn', 'Flash', 'KeyStore', 'Button', 'Led', 'Haptic', 'Battery', 'Link'] as const);
export const PLATFORM_SERVICES = Object.freeze(['clock', 'timer', 'random', 'digest', 'checksum'] as const);

export interface MarshalHooks {
  /** A class instance (not plain data) going out: how to send it. */
  object?: (o: object) => CborValue;
  /** A function going out. */
  fn?: (f: (...args: unknown[]) => unknown) => CborValue;
}

export interface UnmarshalHooks {
  handle?: (id: number, props: Record<string, unknown>, methods: string[]) => unknown;
  callback?: (id: number) => unknown;
}

function isPlain(o: object): boolean {
  const p = Object.getPrototypeOf(o);
  return p === Object.prototype || p === null;
}

export function toWire(v: unknown, hooks: MarshalHooks = {}): CborValue {
  switch (typeof v) {
    case 'number':
    case 'bigint':
    case 'string':
    case 'boolean':
    case 'undefined':
      return v;
    case 'function':
      if (hooks.fn) return hooks.fn(v as (...args: unknown[]) => unknown);
      throw new TypeError('a function can not cross the bridge here');
    case 'object':
      break;
    default:
      throw new TypeError(`a ${typeof v} can not cross the bridge`);
  }
  if (v === null) return null;
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Tag(TAG_ARRAYBUFFER, new Uint8Array(v));
  if (ArrayBuffer.isView(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (v instanceof Tag) return new Tag(v.tag, toWire(v.value, hooks));
  if (Array.isArray(v)) return v.map((x) => toWire(x, hooks));
  if (v instanceof Map) {
    const m = new Map<CborValue, CborValue>();
    for (const [k, x] of v) m.set(toWire(k, hooks), toWire(x, hooks));
    return m;
  }
  // A plain object with methods (a port made by a factory) is lent as a handle like a class instance.
  if (isPlain(v) && !(hooks.object && Object.values(v).some((x) => typeof x === 'function'))) {
    const o: Record<string, CborValue> = {};
    for (const [k, x] of Object.entries(v)) o[k] = toWire(x, hooks);
    return o;
  }
  if (hooks.object) return hooks.object(v);
  throw new TypeError(`an object of class ${v.constructor?.name ?? '?'} can not cross the bridge here`);
}

export function fromWire(v: CborValue, hooks: UnmarshalHooks = {}): unknown {
  if (typeof v !== 'object' || v === null || v instanceof Uint8Array) return v;
  if (Array.isArray(v)) return v.map((x) => fromWire(x, hooks));
  if (v instanceof Tag) {
    if (v.tag === TAG_ARRAYBUFFER && v.value instanceof Uint8Array) return v.value.slice().buffer;
    if (v.tag === TAG_HANDLE && hooks.handle && Array.isArray(v.value)) {
      const [id, props, methods] = v.value;
      return hooks.handle(id as number, fromWire(props ?? {}, hooks) as Record<string, unknown>, (methods ?? []) as string[]);
    }
    if (v.tag === TAG_CALLBACK && hooks.callback) return hooks.callback(v.value as number);
    return new Tag(v.tag, fromWire(v.value, hooks) as CborValue);
  }
  if (v instanceof Map) {
    let allText = true;
    for (const k of v.keys()) if (typeof k !== 'string') allText = false;
    if (allText) {
      const o: Record<string, unknown> = {};
      for (const [k, x] of v) o[k as string] = fromWire(x, hooks);
      return o;
    }
    const m = new Map<unknown, unknown>();
    for (const [k, x] of v) m.set(fromWire(k, hooks), fromWire(x, hooks));
    return m;
  }
  if (typeof v === 'object' && v !== null && !(v instanceof Tag)) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = fromWire(x as CborValue, hooks);
    return o;
  }
  return v;
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
