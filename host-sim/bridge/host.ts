// The host end of the command bridge: answers the guest's port calls with the simulated
// hardware of a Platform, lends host objects as handles, and turns guest callbacks into queued
// deliveries. See marshal.ts for the wire format.

import { decode, encode, type CborValue } from '../../firmware/codec/cbor.js';
import { BodycamError, errorCode } from '../../firmware/errors.js';
import type { EventQueue } from './events.js';
import { dataProperties, fromWire, methodNames, OP_CALL, OP_NEW, TAG_HANDLE, toWire } from './marshal.js';
import { Tag } from '../../firmware/codec/cbor.js';

export type CallbackSender = (id: number, args: unknown[]) => Promise<void>;

export class BridgeHost {
  #platform: Record<string, unknown>;
  #handles = new Map<number, object>();
  #nextHandle = 1;
  #events: EventQueue;
  #sendCallback: CallbackSender;
  /** Port calls answered, by "target.method", for reports. */
  readonly calls = new Map<string, number>();

  constructor(platform: object, events: EventQueue, sendCallback: CallbackSender) {
    this.#platform = platform as Record<string, unknown>;
    this.#events = events;
    this.#sendCallback = sendCallback;
  }

  #out(v: unknown): CborValue {
    return toWire(v, {
      object: (o) => {
        const id = this.#nextHandle++;
        this.#handles.set(id, o);
        return new Tag(TAG_HANDLE, [id, toWire(dataProperties(o)), methodNames(o)]);
      },
    });
  }

  #in(v: CborValue): unknown {
    return fromWire(v, {
      callback: (id) => (...args: unknown[]) => {
        this.#events.push(() => this.#sendCallback(id, args));
      },
    });
  }

  #count(key: string): void {
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
  }

  handle(message: Uint8Array): Uint8Array {
    try {
      const req = decode(message);
      if (!Array.isArray(req)) throw new BodycamError('E_BRIDGE', 'request is not an array');
      const op = req[0];
      if (op === OP_NEW) {
        const name = String(req[1]);
        const ctor = this.#platform[name];
        if (typeof ctor !== 'function') throw new BodycamError('E_BRIDGE_PORT', `this platform has no port ${name}`);
        this.#count(`${name}.new`);
        const instance = new (ctor as new (o: unknown) => object)(this.#in(req[2]));
        return encode([0, this.#out(instance)]);
      }
      if (op === OP_CALL) {
        const target = req[1];
        const method = String(req[2]);
        const obj = typeof target === 'number' ? this.#handles.get(target) : this.#platform[String(target)];
        if (!obj || typeof obj !== 'object') throw new BodycamError('E_BRIDGE_HANDLE', `no port or handle ${String(target)}`);
        const fn = (obj as Record<string, unknown>)[method];
        if (typeof fn !== 'function') throw new BodycamError('E_BRIDGE_METHOD', `${String(target)} has no method ${method}`);
        this.#count(`${typeof target === 'number' ? (obj.constructor?.name ?? 'handle') : target}.${method}`);
        const args = (this.#in(req[3] ?? []) as unknown[]) ?? [];
        const before = args.map((a) => (a instanceof Uint8Array ? a.slice() : undefined));
        const result = (fn as (...a: unknown[]) => unknown).apply(obj, args);
        if (method === 'close' && typeof target === 'number') this.#handles.delete(target);
        const written: CborValue[] = [];
        args.forEach((a, i) => {
          const b = before[i];
          if (a instanceof Uint8Array && b && !sameBytes(a, b)) written.push([i, a]);
        });
        return encode(written.length ? [0, this.#out(result), written] : [0, this.#out(result)]);
      }
      throw new BodycamError('E_BRIDGE', `unknown bridge op ${String(op)}`);
    } catch (e) {
      return encode([1, errorCode(e), messageOf(e)]);
    }
  }

  get liveHandles(): number {
    return this.#handles.size;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** The message of an error without its "CODE: " prefix. */
export function messageOf(e: unknown): string {
  if (e instanceof BodycamError) return e.message.slice(e.code.length + 2);
  return e instanceof Error ? e.message : String(e);
}
