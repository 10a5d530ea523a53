// The guest runtime: the script evaluated inside the XS engine. It exposes the firmware entry
// table through globalThis.handleCommand and gives the firmware a Platform whose every port
// call crosses the command bridge (issueCommand) to the simulated hardware on the host.
//
// A port call costs a round trip only when its answer is needed (bridge/marshal.ts): calls the
// host granted are posted and go with the next message; clock reads are answered from the state
// each command brings; a CRC of a few bytes is computed here (the same function the host's
// native CRC computes, eight bytes a step: crc32.ts), and of a lent frame from the CRC that came
// with it; a camera frame's body comes in once and goes back out by reference; a read with no
// frame ready returns at once. Bytes are copied as ArrayBuffers (marshal.ts: copyBytes), and an
// entry's plain result goes out as JSON, not CBOR (plainValue).
//
// Pure ECMAScript: it runs in xsnap-worker, on the emulated MCU and in the moddable engine.

import { decode, encode, type CborValue } from '../../../firmware/codec/cbor.js';
import { utf8Decode, utf8Encode } from '../../../firmware/codec/utf8.js';
import { BodycamError, errorCode } from '../../../firmware/errors.js';
import type { Platform } from '../../../firmware/platform/index.js';
import {
  bufferOf, CALLBACK_COMMAND, copyInto, crcCombine, plainValue, OP_BATCH, OP_CALL, OP_CALLBACK, OP_ENTRY, OP_NEW, Packer, packMessage, PLATFORM_CONSTRUCTORS, PLATFORM_SERVICES, postCost, readMessage, unpack,
  type Grant, type Json, type PackHooks, type TextBytes, type UnpackHooks,
} from '../../bridge/marshal.js';
import { entries } from '../../guest/entries.js';
import { crc32Bytes } from './crc32.js';
import { NobleEd25519 } from '../../../firmware/signing/ed25519-noble.js';

interface Utf8Codec {
  encode(s: string): Uint8Array;
  decode(b: Uint8Array): string;
}

declare const globalThis: {
  issueCommand(message: ArrayBuffer): ArrayBuffer;
  handleCommand: (message: ArrayBuffer) => ArrayBuffer;
  print?: (...args: unknown[]) => void;
  resetMeter?: (limit: number, index: number) => number;
  currentMeterLimit?: () => number;
  TextEncoder?: new () => Utf8Codec;
  TextDecoder?: new () => Utf8Codec;
};

/** Bytes up to this long are checksummed here rather than across the bridge. */
const LOCAL_CRC_BYTES = 512;

// Compute units spent marshalling across the bridge (encoding requests, decoding replies, the
// port call itself). On a device a port call is a native call costing almost nothing, so the
// host reports firmware cost as the request's total minus this.
let bridgeUnits = 0;
const meterNow = (): number => {
  const reset = globalThis.resetMeter;
  const limit = globalThis.currentMeterLimit;
  if (!reset || !limit) return 0;
  const l = limit();
  const v = reset(l, 0);
  reset(l, v);
  return v;
};

/** A message's JSON to UTF-8 and back: natively where this XS has it (xsnap: TextEncoder; Moddable: ArrayBuffer.fromString). */
function textBytes(): TextBytes {
  const TE = globalThis.TextEncoder;
  const TD = globalThis.TextDecoder;
  if (TE && TD) {
    const te = new TE();
    const td = new TD();
    return { encode: (s) => te.encode(s), decode: (b) => td.decode(b) };
  }
  const fromString = (ArrayBuffer as unknown as { fromString?: (s: string) => ArrayBuffer }).fromString;
  const fromArrayBuffer = (String as unknown as { fromArrayBuffer?: (b: ArrayBuffer) => string }).fromArrayBuffer;
  if (fromString && fromArrayBuffer) {
    // Called on their constructors: XS makes the result with `this` (detached, `new` fails).
    return {
      encode: (s) => new Uint8Array(fromString.call(ArrayBuffer, s)),
      decode: (b) => fromArrayBuffer.call(String, b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? (b.buffer as ArrayBuffer) : (b.slice().buffer as ArrayBuffer)),
    };
  }
  return {
    encode: utf8Encode,
    decode: (b) => {
      const s = utf8Decode(b);
      if (s === undefined) throw new BodycamError('E_BRIDGE', 'a bridge message is not UTF-8');
      return s;
    },
  };
}
const text = textBytes();

const callbacks = new Map<number, (...args: unknown[]) => unknown>();
let nextCallback = 1;

/** What came with a lent buffer: its reference on the host, its CRC-32 and crcShift. */
type Lent = [ref: number, crc: number, shift: number];
/** Buffers lent with a handle (a frame's body): the ArrayBuffer here → what came with it. */
const lent = new WeakMap<ArrayBuffer, Lent>();
/** Buffers made while a handle's properties are read, given to that handle. */
let lending: ArrayBuffer[] = [];
/** Per handle: its grant and its lent buffers. */
const handles = new Map<number, { grant: Grant | undefined; buffers: ArrayBuffer[] }>();
/** The clock as the last command (or reply) left it: [monotonic, utc, source, lastSync]. */
let clock: [number, number, string, number] | undefined;

const outHooks: PackHooks = {
  fn: (f) => {
    const id = nextCallback++;
    callbacks.set(id, f);
    return { '@': 'c', id };
  },
  bytes: (v) => {
    const isBuffer = v instanceof ArrayBuffer;
    const l = lent.get((isBuffer ? v : v.buffer) as ArrayBuffer);
    if (l === undefined) return undefined;
    return isBuffer ? { '@': 'r', r: l[0], o: 0, n: v.byteLength, a: 1 } : { '@': 'r', r: l[0], o: v.byteOffset, n: v.byteLength, a: 0 };
  },
};

/** Calls posted and not yet sent: they go with the next message, in order (their bytes copied now). */
const posted = new Packer(outHooks, true);
let postedCalls: Json[] = [];

/** The reply being read: its first lent buffer is taken from the message itself. */
let replyBuffer: ArrayBuffer | undefined;
let replyPrefix = 0;

const inHooks: UnpackHooks = {
  handle: (id, props, methods, grant) => {
    const o: Record<string, unknown> = { ...props };
    for (let i = 0; i < methods.length; i++) {
      const m = methods[i];
      o[m] = (...args: unknown[]) => call(id, m, args);
    }
    if (grant || lending.length) handles.set(id, { grant, buffers: lending });
    lending = [];
    return o;
  },
  hostBuffer: (ref, index, crc, shift) => {
    const b = index < 0 ? takePrefix() : bufferOf(currentBlobs[index]);
    lent.set(b, [ref, crc, shift]);
    lending.push(b);
    return b;
  },
};
let currentBlobs: readonly Uint8Array[] = [];

function takePrefix(): ArrayBuffer {
  const m = replyBuffer;
  replyBuffer = undefined;
  if (!m || replyPrefix > m.byteLength) throw new BodycamError('E_BRIDGE', 'a lent buffer is missing from the reply');
  // transfer() hands the message's own memory over, truncated: no copy through the meter.
  const t = (m as ArrayBuffer & { transfer?: (n: number) => ArrayBuffer }).transfer;
  return t ? t.call(m, replyPrefix) : m.slice(0, replyPrefix);
}

function inbound(v: Json, blobs: readonly Uint8Array[]): unknown {
  currentBlobs = blobs;
  return unpack(v, blobs, inHooks);
}

/** A command's or reply's context: the clock, and budgets ([handle, budget] pairs). */
function applyContext(ctx: unknown): void {
  if (!Array.isArray(ctx)) return;
  if (Array.isArray(ctx[0])) clock = ctx[0] as [number, number, string, number];
  const budgets = ctx[1];
  if (Array.isArray(budgets)) {
    for (let i = 0; i + 1 < budgets.length; i += 2) {
      const g = handles.get(budgets[i] as number)?.grant;
      if (g) g.budget = budgets[i + 1] as number;
    }
  }
}

/** One round trip: what was posted, then this request (packed into the same message); its answer. */
function send(op: number, target: string | number, method: string | undefined, args: unknown): unknown {
  const packer = posted;
  // This request's bytes go into the message now: no copy (the posted calls' were copied when
  // posted, and later ones must be, even if these arguments can't cross).
  let packed: Json;
  packer.copy = false;
  try {
    packed = packer.pack(args);
  } finally {
    packer.copy = true;
  }
  const req: Json = method === undefined ? [op, target, packed] : [op, target, method, packed];
  const tree: Json = postedCalls.length ? [OP_BATCH, postedCalls, req] : req;
  const message = packMessage(tree, packer, text);
  packer.reset(true);
  postedCalls = [];
  const m = globalThis.issueCommand(bufferOf(message));
  const r = readMessage(new Uint8Array(m), text);
  const reply = r.tree;
  if (!Array.isArray(reply)) throw new BodycamError('E_BRIDGE', 'reply is not an array');
  applyContext(reply[3]);
  if (reply[0] === 0) {
    replyBuffer = r.prefixLength ? m : undefined;
    replyPrefix = r.prefixLength;
    const value = inbound(reply[1], r.blobs);
    replyBuffer = undefined;
    // Output buffers the port wrote into (Random.fill): copy back into the caller's arrays.
    if (reply[2] && Array.isArray(args)) {
      const ws = inbound(reply[2], r.blobs) as [number, Uint8Array, number?][];
      for (let i = 0; i < ws.length; i++) {
        const w = ws[i];
        const target = (args as unknown[])[w[0]];
        // The caller's bytes: a typed array, or an ArrayBuffer passed whole (a lent frame's body).
        const into = target instanceof Uint8Array ? target : target instanceof ArrayBuffer ? new Uint8Array(target) : undefined;
        if (into && w[1] instanceof Uint8Array) copyInto(into, w[1].subarray(0, into.length));
        // A lent buffer written in place (an AEAD sealed a frame's body): its CRC-32 came back too.
        const l = into && typeof w[2] === 'number' ? lent.get(into.buffer as ArrayBuffer) : undefined;
        if (l) l[1] = w[2] as number;
      }
    }
    return value;
  }
  throw new BodycamError(String(reply[1]), String(reply[2]));
}

/** crc32 answered here: a few bytes, or a whole lent buffer (its CRC came with it); else undefined. */
function localCrc(data: unknown, seed: unknown): number | undefined {
  if (seed !== undefined && typeof seed !== 'number') return undefined;
  const isBuffer = data instanceof ArrayBuffer;
  if (!isBuffer && !(data instanceof Uint8Array)) return undefined;
  // No bytes: the host's answer, whatever it is (Node's zlib gives 0 for an empty buffer, whatever the seed).
  if (data.byteLength === 0) return undefined;
  const l = lent.get((isBuffer ? data : data.buffer) as ArrayBuffer);
  if (l) {
    const whole = isBuffer || (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength);
    return whole ? crcCombine(seed ?? 0, l[1], l[2]) : undefined;
  }
  return data.byteLength <= LOCAL_CRC_BYTES ? crc32Bytes(isBuffer ? new Uint8Array(data) : data, seed ?? 0) : undefined;
}

/** A clock read answered here, or undefined to ask the host. */
function localClock(method: string): unknown {
  const c = clock;
  if (!c) return undefined;
  if (method === 'monotonic') return c[0];
  if (method === 'utc') return c[1];
  if (method === 'source') return { source: c[2], lastSync: c[3] };
  return undefined;
}

function call(target: string | number, method: string, args: unknown[]): unknown {
  const t0 = meterNow();
  try {
    if (target === 'clock') {
      const v = localClock(method);
      if (v !== undefined) return v;
    } else if (target === 'checksum' && method === 'crc32') {
      const v = localCrc(args[0], args[1]);
      if (v !== undefined) return v;
    } else if (typeof target === 'number') {
      const h = handles.get(target);
      if (h) {
        const g = h.grant;
        if (method === 'close') {
          handles.delete(target);
          for (let i = 0; i < h.buffers.length; i++) lent.delete(h.buffers[i]);
        }
        if (g && g.empty === method && g.budget === 0) return undefined;
        if (g && g.budget !== 0) {
          const cost = postCost(g, method, args);
          if (cost > 0 && (g.budget < 0 || cost <= g.budget)) {
            if (g.budget > 0) g.budget -= cost;
            postedCalls.push([OP_CALL, target, method, posted.pack(args)]);
            return undefined;
          }
        }
      }
    }
    return send(OP_CALL, target, method, args);
  } finally {
    bridgeUnits += meterNow() - t0;
  }
}

function remotePlatform(): Platform {
  const p: Record<string, unknown> = {};
  for (const name of PLATFORM_CONSTRUCTORS) {
    // A constructor in form (used with `new`), returning the host object's stand-in.
    p[name] = function RemotePort(options: unknown) {
      const t0 = meterNow();
      try {
        return send(OP_NEW, name, undefined, options);
      } finally {
        bridgeUnits += meterNow() - t0;
      }
    };
  }
  for (const name of PLATFORM_SERVICES) {
    const methods = new Map<string, (...args: unknown[]) => unknown>();
    p[name] = new Proxy(
      {},
      {
        get: (_t, method) => {
          if (typeof method !== 'string') return undefined;
          let f = methods.get(method);
          if (!f) methods.set(method, (f = (...args: unknown[]) => call(name, method, args)));
          return f;
        },
      },
    );
  }
  return p as unknown as Platform;
}

// The camera's Ed25519 is made here, in the entry, as firmware/device/main.ts makes it: noble can't
// be preloaded, so no preloaded guest module imports it (guest/env.ts).
const platform = remotePlatform();
const env = { platform, state: {} as Record<string, unknown>, cameraEd25519: new NobleEd25519({ digest: platform.digest }) };

/** An entry's result going out: { j: JSON } (plainValue: no CBOR encoding in XS), else { i: its CBOR, attached }. */
function resultOut(value: CborValue, packer: Packer): Json {
  const j = plainValue(value, packer);
  if (j !== undefined) return { j };
  return { i: packer.attach(encode(value)) };
}

/**
 * handleCommand's answer: a message of [status, the value (resultOut) or null, the calls posted
 * and not sent], then the bridge units (f64), the cost of this encoding counted.
 */
function reply(status: number, value: CborValue, hasValue = true): ArrayBuffer {
  const t0 = meterNow();
  const packer = posted;
  const tree: Json = [status, hasValue ? resultOut(value, packer) : null, postedCalls];
  // Packed with 8 bytes of room at its end (its own buffer, whole), for the units it took.
  const message = packMessage(tree, packer, text, undefined, 8);
  packer.reset(true);
  postedCalls = [];
  bridgeUnits += meterNow() - t0;
  new DataView(message.buffer).setFloat64(message.length - 8, bridgeUnits);
  return message.buffer as ArrayBuffer;
}

globalThis.handleCommand = (message: ArrayBuffer): ArrayBuffer => {
  const t0 = meterNow();
  bridgeUnits = 0;
  try {
    const bytes = new Uint8Array(message);
    if (bytes[0] === CALLBACK_COMMAND) {
      const r = readMessage(bytes, text, 1);
      const req = r.tree as Json[];
      applyContext(req[3]);
      if (req[0] !== OP_CALLBACK) throw new BodycamError('E_BRIDGE', `unknown command ${String(req[0])}`);
      const f = callbacks.get(req[1] as number);
      if (!f) throw new BodycamError('E_BRIDGE_CALLBACK', `no callback ${String(req[1])}`);
      const args = inbound(req[2] ?? [], r.blobs) as unknown[];
      bridgeUnits += meterNow() - t0;
      f(...args);
      return reply(0, null, false);
    }
    const req = decode(bytes);
    if (!Array.isArray(req) || req[0] !== OP_ENTRY) throw new BodycamError('E_BRIDGE', 'command is not an entry');
    applyContext(req[3]);
    const entry = entries[String(req[1])];
    if (!entry) throw new BodycamError('E_NO_ENTRY', `no firmware entry ${String(req[1])}`);
    const args = (req[2] ?? []) as CborValue[];
    bridgeUnits += meterNow() - t0;
    return reply(0, entry(env, ...args));
  } catch (e) {
    const message = e instanceof BodycamError ? e.message.slice(e.code.length + 2) : e instanceof Error ? `${e.message}${e.stack ? `\n${e.stack}` : ''}` : String(e);
    return reply(1, [errorCode(e), message]);
  }
};
