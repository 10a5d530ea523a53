// The guest runtime: the script evaluated inside the XS engine. It exposes the firmware entry
// table through globalThis.handleCommand and gives the firmware a Platform whose every port
// call crosses the command bridge (issueCommand) to the simulated hardware on the host.
//
// Pure ECMAScript: it runs in xsnap-worker (and, with another transport, on the emulated MCU).

import { decode, encode, type CborValue } from '../../../firmware/codec/cbor.js';
import { BodycamError, errorCode } from '../../../firmware/errors.js';
import type { Platform } from '../../../firmware/platform/index.js';
import { fromWire, OP_CALL, OP_CALLBACK, OP_ENTRY, OP_NEW, PLATFORM_CONSTRUCTORS, PLATFORM_SERVICES, TAG_CALLBACK, toWire } from '../../bridge/marshal.js';
import { Tag } from '../../../firmware/codec/cbor.js';
import { entries } from '../../guest/entries.js';

declare const globalThis: {
  issueCommand(message: ArrayBuffer): ArrayBuffer;
  handleCommand: (message: ArrayBuffer) => ArrayBuffer;
  print?: (...args: unknown[]) => void;
  resetMeter?: (limit: number, index: number) => number;
  currentMeterLimit?: () => number;
};

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

const callbacks = new Map<number, (...args: unknown[]) => unknown>();
let nextCallback = 1;

function out(v: unknown): CborValue {
  return toWire(v, {
    fn: (f) => {
      const id = nextCallback++;
      callbacks.set(id, f);
      return new Tag(TAG_CALLBACK, id);
    },
  });
}

function inbound(v: CborValue): unknown {
  return fromWire(v, {
    handle: (id, props, methods) => {
      const o: Record<string, unknown> = { ...props };
      for (const m of methods) o[m] = (...args: unknown[]) => call(id, m, args);
      return o;
    },
  });
}

function request(req: CborValue[], args?: unknown[]): unknown {
  const t0 = meterNow();
  try {
    return requestUnmetered(req, args);
  } finally {
    bridgeUnits += meterNow() - t0;
  }
}

/** The view's bytes as an ArrayBuffer of their own (the view itself when it spans its buffer). */
function exactBuffer(bytes: Uint8Array): ArrayBuffer {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
  return whole ? (bytes.buffer as ArrayBuffer) : bytes.slice().buffer;
}

function requestUnmetered(req: CborValue[], args?: unknown[]): unknown {
  const reply = decode(new Uint8Array(globalThis.issueCommand(exactBuffer(encode(req)))));
  if (!Array.isArray(reply)) throw new BodycamError('E_BRIDGE', 'reply is not an array');
  if (reply[0] === 0) {
    // Output buffers the port wrote into (Random.fill): copy back into the caller's arrays.
    const written = reply[2];
    if (args && Array.isArray(written)) {
      for (const w of written) {
        const [i, bytes] = w as [number, Uint8Array];
        const target = args[i];
        if (target instanceof Uint8Array && bytes instanceof Uint8Array) target.set(bytes.subarray(0, target.length));
      }
    }
    return inbound(reply[1]);
  }
  throw new BodycamError(String(reply[1]), String(reply[2]));
}

function call(target: string | number, method: string, args: unknown[]): unknown {
  const t0 = meterNow();
  const wire = out(args);
  bridgeUnits += meterNow() - t0;
  return request([OP_CALL, target, method, wire], args);
}

function remotePlatform(): Platform {
  const p: Record<string, unknown> = {};
  for (const name of PLATFORM_CONSTRUCTORS) {
    // A constructor in form (used with `new`), returning the host object's stand-in.
    p[name] = function RemotePort(options: unknown) {
      const t0 = meterNow();
      const wire = out(options);
      bridgeUnits += meterNow() - t0;
      return request([OP_NEW, name, wire]);
    };
  }
  for (const name of PLATFORM_SERVICES) {
    p[name] = new Proxy(
      {},
      {
        get: (_t, method) => (typeof method === 'string' ? (...args: unknown[]) => call(name, method, args) : undefined),
      },
    );
  }
  return p as unknown as Platform;
}

const env = { platform: remotePlatform(), state: {} as Record<string, unknown> };

/** [status, value, bridge units], with the cost of encoding the value itself counted. */
function reply(status: number, value: CborValue): ArrayBuffer {
  const t0 = meterNow();
  const body = encode(value);
  bridgeUnits += meterNow() - t0;
  const tail = encode(bridgeUnits);
  const b = new Uint8Array(2 + body.length + tail.length);
  b[0] = 0x83; // array(3)
  b[1] = status;
  b.set(body, 2);
  b.set(tail, 2 + body.length);
  return exactBuffer(b);
}

globalThis.handleCommand = (message: ArrayBuffer): ArrayBuffer => {
  const t0 = meterNow();
  bridgeUnits = 0;
  try {
    const req = decode(new Uint8Array(message));
    if (!Array.isArray(req)) throw new BodycamError('E_BRIDGE', 'command is not an array');
    if (req[0] === OP_ENTRY) {
      const entry = entries[String(req[1])];
      if (!entry) throw new BodycamError('E_NO_ENTRY', `no firmware entry ${String(req[1])}`);
      const args = (req[2] ?? []) as CborValue[];
      bridgeUnits += meterNow() - t0;
      return reply(0, out(entry(env, ...args)));
    }
    if (req[0] === OP_CALLBACK) {
      const f = callbacks.get(req[1] as number);
      if (!f) throw new BodycamError('E_BRIDGE_CALLBACK', `no callback ${String(req[1])}`);
      const args = inbound(req[2] ?? []) as unknown[];
      bridgeUnits += meterNow() - t0;
      f(...args);
      return reply(0, null);
    }
    throw new BodycamError('E_BRIDGE', `unknown command ${String(req[0])}`);
  } catch (e) {
    const message = e instanceof BodycamError ? e.message.slice(e.code.length + 2) : e instanceof Error ? `${e.message}${e.stack ? `\n${e.stack}` : ''}` : String(e);
    return reply(1, [errorCode(e), message]);
  }
};
