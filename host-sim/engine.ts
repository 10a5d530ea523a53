// The engines the firmware runs on in the simulator:
// - node: firmware modules imported directly, ports are the simulated hardware itself;
// - xs:   firmware bundled and run in the real XS engine (xsnap-worker); every port call
//         crosses the command bridge, and each call into the firmware reports its XS meter;
// - mcu:  the same bundle in XS built for a Cortex-M7 under QEMU (host-sim/mcu/), the same
//         bridge over semihosting; the meter counts instructions. Not in ENGINES (slow to
//         boot): tests and `bodycam sim --engine mcu` ask for it by name.
// - moddable: the firmware compiled, linked and preloaded by the real mcconfig for x-cli-lin with
//         a board's preload and creation, run by host-sim/moddable/host.c over the same bridge.
//         Also asked for by name (its first build takes a minute).
// Both give firmware the same Platform behaviour and the same order of hardware callbacks
// (bridge/events.ts), so the same inputs give byte-identical outputs.

import { decode, encode, type CborValue } from '../firmware/codec/cbor.js';
import { BodycamError } from '../firmware/errors.js';
import type { Platform } from '../firmware/platform/index.js';
import { EventQueue } from './bridge/events.js';
import { messageOf } from './bridge/host.js';
import { methodNames } from './bridge/marshal.js';
import { entries, type GuestEnv } from './guest/entries.js';
import { bundleGuest } from './xs/bundle.js';
import { XsWorker, type Meter, type XsReply } from './xs/worker.js';
import { BridgedEngine } from './bridge/engine-base.js';
import { startMcuEngine } from './mcu/engine.js';
import { startModdableEngine } from './moddable/engine.js';
import { NobleEd25519 } from '../firmware/signing/ed25519-noble.js';

export type EngineName = 'node' | 'xs' | 'mcu' | 'moddable';
export const ENGINES: readonly EngineName[] = ['node', 'xs'];

export interface CallMeter extends Meter {
  /** Of `compute`, the units spent crossing the bridge (native port calls on a device). */
  bridge: number;
  /** compute - bridge: what the firmware itself cost. */
  firmware: number;
}

export interface CallResult {
  value: CborValue;
  /** XS meter for the call (xs engine only). */
  meter?: CallMeter;
}

export interface Engine {
  readonly name: EngineName;
  /** Run a firmware entry (host-sim/guest/entries.ts) with CBOR-able arguments. */
  call(entry: string, ...args: CborValue[]): Promise<CallResult>;
  /** Deliver queued hardware callbacks to the firmware; resolves when none are left. */
  pump(): Promise<number>;
  /** Firmware compute units (bridge excluded) spent in callbacks since the last call to this (xs only). */
  takeCallbackCompute(): number;
  close(): Promise<void>;
}

/** Copy through CBOR, so Node results have exactly the types XS results have. */
function viaCbor(v: CborValue): CborValue {
  return decode(encode(v));
}

function wrapCallbacks(v: unknown, queue: EventQueue): unknown {
  if (typeof v === 'function') {
    const f = v as (...a: unknown[]) => unknown;
    return (...a: unknown[]) => queue.push(() => void f(...a));
  }
  if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) o[k] = wrapCallbacks(x, queue);
    return o;
  }
  return v;
}

/** The platform as Node-engine firmware sees it: callbacks deferred to the event queue. */
export function queuedPlatform(platform: Platform, queue: EventQueue): Platform {
  const out: Record<string, unknown> = {};
  for (const [name, port] of Object.entries(platform)) {
    if (typeof port === 'function') {
      const Ctor = port as new (o: unknown) => object;
      out[name] = function QueuedPort(options: unknown) {
        return new Ctor(wrapCallbacks(options, queue));
      };
    } else {
      const service: Record<string, unknown> = {};
      for (const m of methodNames(port as object)) {
        const f = (port as Record<string, (...a: unknown[]) => unknown>)[m];
        service[m] = (...args: unknown[]) => f.apply(port, args.map((a) => wrapCallbacks(a, queue)));
      }
      out[name] = service;
    }
  }
  return out as unknown as Platform;
}

class NodeEngine implements Engine {
  readonly name = 'node' as const;
  #env: GuestEnv;
  #queue: EventQueue;
  constructor(platform: Platform, queue: EventQueue) {
    this.#queue = queue;
    const p = queuedPlatform(platform, queue);
    this.#env = { platform: p, state: {}, cameraEd25519: new NobleEd25519({ digest: p.digest }) };
  }
  async call(entry: string, ...args: CborValue[]): Promise<CallResult> {
    const fn = entries[entry];
    if (!fn) throw new BodycamError('E_NO_ENTRY', `no firmware entry ${entry}`);
    const value = fn(this.#env, ...(viaCbor(args) as CborValue[]));
    return { value: viaCbor(value) };
  }
  pump(): Promise<number> {
    return this.#queue.drain();
  }
  takeCallbackCompute(): number {
    return 0;
  }
  async close(): Promise<void> {}
}

class XsEngine extends BridgedEngine<Meter, CallMeter> implements Engine {
  readonly name = 'xs' as const;
  #worker!: XsWorker;
  async start(): Promise<this> {
    const script = await bundleGuest();
    this.#worker = XsWorker.start({ onQuery: (m) => this.bridge.handle(m) });
    await this.#worker.runScript(script);
    return this;
  }
  protected command(bytes: Uint8Array): Promise<XsReply> {
    return this.#worker.command(bytes);
  }
  protected meterOf(raw: Meter, bridge: number): CallMeter {
    return { ...raw, bridge, firmware: Math.max(0, raw.compute - bridge) };
  }
  close(): Promise<void> {
    return this.#worker.close();
  }
}

/** Start an engine over a platform of simulated hardware. */
export async function startEngine(name: EngineName, platform: Platform): Promise<Engine> {
  const queue = new EventQueue();
  if (name === 'node') return new NodeEngine(platform, queue);
  if (name === 'xs') return new XsEngine(platform, queue).start();
  if (name === 'mcu') return startMcuEngine(platform, {}, queue);
  if (name === 'moddable') return startModdableEngine(platform, {}, queue);
  throw new BodycamError('E_ENGINE', `unknown engine ${String(name)} (node, xs, mcu or moddable)`);
}

export { messageOf };
