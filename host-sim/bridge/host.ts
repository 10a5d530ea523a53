// The host end of the command bridge: answers the guest's port calls with the simulated
// hardware of a Platform, lends host objects as handles (with what the guest may post to them),
// runs the calls the guest posted, keeps the guest's clock and flash budgets fresh, and turns
// guest callbacks into queued deliveries. See marshal.ts for the wire format.

import { BodycamError, errorCode } from '../../firmware/errors.js';
import type { Clock } from '../../firmware/platform/index.js';
import type { EventQueue } from './events.js';
import { nodeChecksum } from '../../host/ports.js';
import { crcShift, dataProperties, grantToJson, methodNames, OP_BATCH, OP_CALL, OP_NEW, Packer, packMessage, readMessage, unpack, type Grant, type Json, type TextBytes } from './marshal.js';

/** The host's side of a message's JSON text. */
export const HOST_TEXT: TextBytes = Object.freeze({
  encode: (s: string) => Buffer.from(s, 'utf8'),
  decode: (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8'),
});

export type CallbackSender = (id: number, args: unknown[]) => Promise<void>;

/** Host objects the guest may post calls to implement this (a symbol: it never crosses the bridge). */
export const BRIDGE_GRANT: unique symbol = Symbol.for('bodycam.bridge.grant');
export interface Grantable {
  [BRIDGE_GRANT](): Grant | undefined;
}

/** Grants for objects a port call makes whose class is not the simulator's (by "service.method"). */
const MADE_BY: Readonly<Record<string, Grant>> = Object.freeze({
  // A digest context's write takes bytes and fails only after close (which the guest sees).
  'digest.create': Object.freeze({ methods: ['write'], budget: -1, fixed: true }),
  // An AEAD context's close takes nothing and cannot fail; seal and open answer (a tag, a verdict).
  'cipher.create': Object.freeze({ methods: ['close'], budget: -1, fixed: true }),
});

interface Lent {
  object: object;
  buffers: ArrayBuffer[] | undefined;
  /** Refreshed in every context (a flash port's budget moves with the device's cut). */
  grant: (() => Grant | undefined) | undefined;
  name: string;
}

type ClockState = [number, number, string, number];

export class BridgeHost {
  #platform: Record<string, unknown>;
  #clock: Clock | undefined;
  #handles = new Map<number, Lent>();
  #budgeted = new Set<number>();
  #nextHandle = 1;
  #events: EventQueue;
  #sendCallback: CallbackSender;
  #sentClock: ClockState | undefined;
  /** Buffers the host resolved from references in the current call (never compared for writes). */
  #refs = new WeakSet<object>();
  /** Port calls answered, by "target.method", for reports. */
  readonly calls = new Map<string, number>();
  /** Calls that arrived posted (no reply of their own). */
  posted = 0;

  constructor(platform: object, events: EventQueue, sendCallback: CallbackSender) {
    this.#platform = platform as Record<string, unknown>;
    const c = this.#platform.clock as Clock | undefined;
    this.#clock = c && typeof c.monotonic === 'function' ? c : undefined;
    this.#events = events;
    this.#sendCallback = sendCallback;
  }

  #lend(o: object, madeBy: string | undefined, packer: Packer): Json {
    const id = this.#nextHandle++;
    const own = (o as Partial<Grantable>)[BRIDGE_GRANT];
    const grant = typeof own === 'function' ? () => own.call(o) : madeBy && MADE_BY[madeBy] ? () => MADE_BY[madeBy] : undefined;
    const lent: Lent = { object: o, buffers: undefined, grant, name: o.constructor?.name ?? 'handle' };
    this.#handles.set(id, lent);
    const props = dataProperties(o);
    const wire: { [key: string]: Json } = {};
    for (const [k, v] of Object.entries(props)) {
      if (v instanceof ArrayBuffer) {
        (lent.buffers ??= []).push(v);
        const ref = id * 8 + lent.buffers.length - 1;
        const bytes = new Uint8Array(v);
        let index: number;
        if (!packer.prefix) {
          // Ahead of everything: the guest takes the message's own memory for it, no copy in XS.
          packer.prefix = bytes;
          index = -1;
        } else index = packer.attach(bytes);
        wire[k] = { '@': 'l', r: ref, i: index, c: nodeChecksum.crc32(bytes), s: crcShift(bytes.length) };
      } else wire[k] = packer.pack(v);
    }
    const g = grant?.();
    if (g && !g.fixed) this.#budgeted.add(id);
    return { '@': 'h', id, p: wire, m: methodNames(o), g: grantToJson(g) };
  }

  /** A packer for a reply: host objects are lent as handles (`madeBy`: the call that made them). */
  #packer(madeBy?: string): Packer {
    const packer: Packer = new Packer({ object: (o) => this.#lend(o, madeBy, packer) });
    return packer;
  }

  #in(v: Json, blobs: readonly Uint8Array[]): unknown {
    return unpack(v, blobs, {
      callback: (id) => (...args: unknown[]) => {
        this.#events.push(() => this.#sendCallback(id, args));
      },
      hostRef: (ref, offset, length, arrayBuffer) => {
        const buffer = this.#handles.get(Math.floor(ref / 8))?.buffers?.[ref % 8];
        if (!buffer || offset < 0 || offset + length > buffer.byteLength) throw new BodycamError('E_BRIDGE_HANDLE', `no lent buffer ${ref} [${offset}, +${length})`);
        const view = arrayBuffer && offset === 0 && length === buffer.byteLength ? buffer : new Uint8Array(buffer, offset, length);
        this.#refs.add(view);
        return view;
      },
    });
  }

  #count(key: string): void {
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
  }

  /** What a command carries into the guest: the clock's state and the budgets. */
  context(): Json {
    this.#sentClock = this.#clockState();
    return [this.#sentClock ?? null, this.#budgets()];
  }

  #clockState(): ClockState | undefined {
    const c = this.#clock;
    if (!c) return undefined;
    const s = c.source();
    return [c.monotonic(), c.utc(), s.source, s.lastSync];
  }

  #budgets(): Json {
    if (this.#budgeted.size === 0) return null;
    const out: number[] = [];
    for (const id of this.#budgeted) out.push(id, this.#handles.get(id)?.grant?.()?.budget ?? 0);
    return out;
  }

  /** A reply's context: only what changed while the call ran (usually nothing). */
  #replyContext(target: unknown): Json | undefined {
    const now = this.#clockState();
    const s = this.#sentClock;
    const clockChanged = now !== undefined && (!s || now[0] !== s[0] || now[1] !== s[1] || now[2] !== s[2] || now[3] !== s[3]);
    if (clockChanged) this.#sentClock = now;
    const budget = typeof target === 'number' && this.#budgeted.has(target);
    if (!clockChanged && !budget) return undefined;
    return [clockChanged ? now : null, budget ? [target as number, this.#handles.get(target as number)?.grant?.()?.budget ?? 0] : null];
  }

  /** Run what the guest posted, in order. A posted call has no reply: its failure is a bridge bug. */
  runPosted(calls: Json | undefined, blobs: readonly Uint8Array[]): void {
    if (!Array.isArray(calls)) return;
    for (const c of calls) {
      this.posted++;
      try {
        this.#call(c as Json[], blobs);
      } catch (e) {
        throw new BodycamError('E_BRIDGE_POSTED', `a posted call failed, which its grant should have prevented (${JSON.stringify((c as Json[]).slice(1, 3))}): ${messageOf(e)}`);
      }
    }
  }

  #call(req: Json[], blobs: readonly Uint8Array[]): { result: unknown; written: unknown[] } {
    const target = req[1];
    const method = String(req[2]);
    const lent = typeof target === 'number' ? this.#handles.get(target) : undefined;
    const obj = typeof target === 'number' ? lent?.object : this.#platform[String(target)];
    if (!obj || typeof obj !== 'object') throw new BodycamError('E_BRIDGE_HANDLE', `no port or handle ${String(target)}`);
    const fn = (obj as Record<string, unknown>)[method];
    if (typeof fn !== 'function') throw new BodycamError('E_BRIDGE_METHOD', `${String(target)} has no method ${method}`);
    this.#count(`${lent ? lent.name : String(target)}.${method}`);
    const args = (this.#in(req[3] ?? [], blobs) as unknown[]) ?? [];
    // Output buffers (Random.fill): bytes the guest sent whose copy the port wrote into. An AEAD
    // seals or opens in place, a lent buffer (a frame's body) too: its new bytes go back, with the
    // new CRC-32 of the whole lent buffer (the guest answers crc32 of lent buffers itself).
    const inPlace = lent !== undefined && (method === 'seal' || method === 'sealTwo' || method === 'open');
    let before: (Uint8Array | undefined)[] | undefined;
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a instanceof Uint8Array && (inPlace || !this.#refs.has(a))) (before ??= [])[i] = a.slice();
      // A lent buffer passed whole (an ArrayBuffer, not a view) is sealed in place just the same.
      else if (inPlace && a instanceof ArrayBuffer && this.#refs.has(a)) (before ??= [])[i] = new Uint8Array(a).slice();
    }
    const result = (fn as (...a: unknown[]) => unknown).apply(obj, args);
    if (method === 'close' && typeof target === 'number') {
      this.#handles.delete(target);
      this.#budgeted.delete(target);
    }
    const written: unknown[] = [];
    if (before) {
      before.forEach((b, i) => {
        const arg = args[i] as Uint8Array | ArrayBuffer;
        const a = arg instanceof ArrayBuffer ? new Uint8Array(arg) : arg;
        if (!b || sameBytes(a, b)) return;
        if (this.#refs.has(arg)) written.push([i, a, nodeChecksum.crc32(new Uint8Array(a.buffer, 0, a.buffer.byteLength))]);
        else written.push([i, a]);
      });
    }
    return { result, written };
  }

  handle(message: Uint8Array): Uint8Array {
    let req: Json;
    let blobs: readonly Uint8Array[];
    try {
      const m = readMessage(message, HOST_TEXT);
      req = m.tree;
      blobs = m.blobs;
      if (!Array.isArray(req)) throw new BodycamError('E_BRIDGE', 'request is not an array');
      if (req[0] === OP_BATCH) {
        this.runPosted(req[1], blobs);
        req = req[2];
        if (!Array.isArray(req)) throw new BodycamError('E_BRIDGE', 'request is not an array');
      }
    } catch (e) {
      if (isBodycamCode(e, 'E_BRIDGE_POSTED')) throw e;
      return packMessage([1, errorCode(e), messageOf(e)], new Packer(), HOST_TEXT);
    }
    const target = req[1];
    try {
      const op = req[0];
      if (op === OP_NEW) {
        const name = String(target);
        const ctor = this.#platform[name];
        if (typeof ctor !== 'function') throw new BodycamError('E_BRIDGE_PORT', `this platform has no port ${name}`);
        this.#count(`${name}.new`);
        const instance = new (ctor as new (o: unknown) => object)(this.#in(req[2], blobs));
        const packer = this.#packer();
        const value = packer.pack(instance);
        return packMessage([0, value, null, this.#replyContext(undefined) ?? null], packer, HOST_TEXT);
      }
      if (op === OP_CALL) {
        const { result, written } = this.#call(req, blobs);
        const packer = this.#packer(typeof target === 'string' ? `${target}.${String(req[2])}` : undefined);
        const value = packer.pack(result);
        const w = written.length ? packer.pack(written) : null;
        const ctx = this.#replyContext(target);
        return packMessage(ctx !== undefined ? [0, value, w, ctx] : w ? [0, value, w] : [0, value], packer, HOST_TEXT);
      }
      throw new BodycamError('E_BRIDGE', `unknown bridge op ${String(op)}`);
    } catch (e) {
      const ctx = this.#replyContext(target);
      return packMessage(ctx !== undefined ? [1, errorCode(e), messageOf(e), ctx] : [1, errorCode(e), messageOf(e)], new Packer(), HOST_TEXT);
    }
  }

  get liveHandles(): number {
    return this.#handles.size;
  }
}

function isBodycamCode(e: unknown, code: string): boolean {
  return e instanceof BodycamError && e.code === code;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** The message of an error without its "CODE: " prefix. */
export function messageOf(e: unknown): string {
  if (e instanceof BodycamError) return e.message.slice(e.code.length + 2);
  return e instanceof Error ? e.message : String(e);
}
