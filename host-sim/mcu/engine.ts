// The 'mcu' engine: the same guest bundle the xs engine runs, inside XS cross-compiled for a
// Cortex-M7 and executed by QEMU (device.ts), answered by the same BridgeHost over the same
// bridge protocol. Each call reports instructions instead of XS compute units
// (meter.compute = instructions, meter.bridge = instructions spent marshalling across the
// bridge, meter.firmware = the rest) and the device's heap (in use, peak, ceiling).
//
// The bundle is parsed on the device at boot, under `bootHeapCeiling`; from then on the heap is
// held to `heapCeiling` (in bytes, or `{ aboveLoaded }`: that much above what the loaded firmware
// holds), and a request that passes it stops the device with E_MCU_OUT_OF_MEMORY (never a hang).
// `totals` sums every request since boot — entry calls and hardware callbacks — so a session's
// instructions and its peak heap can be read at the end (the scenario runner, the bench).

import { decode, encode, type CborValue } from '../../firmware/codec/cbor.js';
import { BodycamError } from '../../firmware/errors.js';
import type { Platform } from '../../firmware/platform/index.js';
import { EventQueue } from '../bridge/events.js';
import { BridgedEngine } from '../bridge/engine-base.js';
import type { CallMeter, CallResult, Engine } from '../engine.js';
import { bundleGuest } from '../xs/bundle.js';
import { readFile } from 'node:fs/promises';
import { McuDevice, type McuMeter } from './device.js';

/**
 * A heap ceiling: bytes of device heap in all, or bytes above what the firmware holds once its
 * bundle is loaded — the run-time heap, what a device build (bytecode and the loaded modules
 * preloaded into flash) must find in RAM. An approximation: the loaded heap here also holds
 * XS's free room in the chunk blocks the parser grew.
 */
export type HeapCeiling = number | { aboveLoaded: number };

export interface McuEngineOptions {
  /** Heap ceiling once the bundle is loaded (default 4 MiB in all). */
  heapCeiling?: HeapCeiling;
  /** Heap ceiling while the bundle is parsed at boot (default 14 MiB: parsing the whole bundle peaks near 12.6 MiB). */
  bootHeapCeiling?: number;
  /** The guest script (default: bundleGuest(), the same bundle the xs engine runs). */
  script?: string;
  /** Device output (print, C library messages); default: this process's stderr. */
  onOutput?: (text: string) => void;
  /** Wall-clock watchdog per request, ms. */
  watchdogMs?: number;
}

/** CallMeter in instructions, plus the device's heap. */
export interface McuCallMeter extends CallMeter, Pick<McuMeter, 'instructions' | 'heapInUse' | 'heapPeak' | 'heapPeakEver' | 'heapCeiling' | 'footprint'> {
  /** Of heapInUse, bytecode bytes (in flash on a device build). */
  code: number;
}

export interface McuCallResult extends CallResult {
  meter: McuCallMeter;
}

/** What the boot cost: the empty machine, then loading the bundle; and the heap once loaded. */
export interface McuBoot {
  machine: McuMeter;
  bundle: McuMeter;
  /** The meter once the bundle's source was released: heapInUse is the loaded firmware's heap. */
  loaded: McuMeter;
}

/** Every request since boot (entry calls and hardware callbacks). */
export interface McuTotals {
  requests: number;
  /** Instructions in all, bridge included. */
  instructions: number;
  /** Of which marshalling across the bridge (native port calls on a device). */
  bridge: number;
  /** Most heap at once during any of them. */
  heapPeak: number;
}

/** An Engine whose name is 'mcu' (EngineName gains 'mcu' when the lead registers it). */
export type McuEngineLike = Omit<Engine, 'name' | 'call'> & {
  readonly name: 'mcu';
  call(entry: string, ...args: CborValue[]): Promise<McuCallResult>;
};

function toCallMeter(m: McuMeter, bridge: number): McuCallMeter {
  return {
    compute: m.instructions,
    allocate: m.heapInUse,
    currentHeapCount: m.slots,
    bridge,
    firmware: Math.max(0, m.instructions - bridge),
    instructions: m.instructions,
    heapInUse: m.heapInUse,
    heapPeak: m.heapPeak,
    heapPeakEver: m.heapPeakEver,
    heapCeiling: m.heapCeiling,
    footprint: m.footprint,
    code: m.code,
  };
}

export class McuEngine extends BridgedEngine<McuMeter, McuCallMeter> implements McuEngineLike {
  readonly name = 'mcu' as const;
  #device!: McuDevice;
  #options: McuEngineOptions;
  #boot!: McuBoot;
  #heapCeiling = 0;
  #totals: McuTotals = { requests: 0, instructions: 0, bridge: 0, heapPeak: 0 };

  constructor(platform: Platform, queue: EventQueue, options: McuEngineOptions = {}) {
    super(platform, queue);
    this.#options = options;
  }

  async start(): Promise<this> {
    const source = await readFile(this.#options.script ?? (await bundleGuest()), 'utf8');
    this.#device = McuDevice.start({
      onQuery: (m) => this.bridge.handle(m),
      bootHeapCeiling: this.#options.bootHeapCeiling,
      onOutput: this.#options.onOutput,
      watchdogMs: this.#options.watchdogMs,
    });
    try {
      const machine = await this.#device.booted;
      const bundle = (await this.#device.evaluate(source)).meter;
      // Raising the ceiling to where it is reports the heap once the source has been released.
      const loaded = (await this.#device.setHeapCeiling(bundle.heapCeiling)).meter;
      this.#boot = { machine, bundle, loaded };
      const ceiling = this.#options.heapCeiling ?? 4 * 1024 * 1024;
      this.#heapCeiling = typeof ceiling === 'number' ? ceiling : loaded.heapInUse + ceiling.aboveLoaded;
      await this.#device.setHeapCeiling(this.#heapCeiling);
    } catch (e) {
      await this.#device.close();
      throw e;
    }
    return this;
  }

  /** Instructions and heap spent booting the machine and loading the bundle. */
  get boot(): McuBoot {
    return this.#boot;
  }

  get device(): McuDevice {
    return this.#device;
  }

  /** The heap ceiling (bytes) set once the bundle was loaded. */
  get heapCeiling(): number {
    return this.#heapCeiling;
  }

  /** Instructions, bridge instructions and peak heap of every request since boot (or the last takeTotals). */
  get totals(): McuTotals {
    return { ...this.#totals };
  }

  /** The totals so far, then start counting afresh (to measure one stretch of a session). */
  takeTotals(): McuTotals {
    const t = this.totals;
    this.#totals = { requests: 0, instructions: 0, bridge: 0, heapPeak: 0 };
    return t;
  }

  protected command(bytes: Uint8Array): Promise<{ reply: Uint8Array; meter: McuMeter }> {
    return this.#device.command(bytes);
  }

  protected meterOf(raw: McuMeter, bridge: number): McuCallMeter {
    const t = this.#totals;
    t.requests++;
    t.instructions += raw.instructions;
    t.bridge += bridge;
    t.heapPeak = Math.max(t.heapPeak, raw.heapPeak);
    return toCallMeter(raw, bridge);
  }

  override call(entry: string, ...args: CborValue[]): Promise<McuCallResult> {
    return super.call(entry, ...args);
  }

  /** Evaluate a script on the device (tests: memory pressure, determinism). */
  async evaluate(source: string): Promise<McuMeter> {
    return (await this.#device.evaluate(source)).meter;
  }

  close(): Promise<void> {
    return this.#device.close();
  }
}

/**
 * Start the 'mcu' engine over a platform of simulated hardware. Register it in startEngine with
 * `if (name === 'mcu') return startMcuEngine(platform, {}, queue);`.
 */
export function startMcuEngine(platform: Platform, options: McuEngineOptions = {}, queue: EventQueue = new EventQueue()): Promise<McuEngine> {
  return new McuEngine(platform, queue, options).start();
}
