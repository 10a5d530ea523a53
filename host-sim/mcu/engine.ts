// The 'mcu' engine: the same guest bundle the xs engine runs, inside XS cross-compiled for a
// Cortex-M7 and executed by QEMU (device.ts), answered by the same BridgeHost over the same
// bridge protocol. Each call reports instructions instead of XS compute units
// (meter.compute = instructions, meter.bridge = instructions spent marshalling across the
// bridge, meter.firmware = the rest) and the device's heap (in use, peak, ceiling).
//
// The bundle is parsed on the device at boot, under `bootHeapCeiling`; from then on the heap is
// held to `heapCeiling`, and a request that passes it stops the device with
// E_MCU_OUT_OF_MEMORY (never a hang).

import { decode, encode, type CborValue } from '../../firmware/codec/cbor.js';
import { BodycamError } from '../../firmware/errors.js';
import type { Platform } from '../../firmware/platform/index.js';
import { EventQueue } from '../bridge/events.js';
import { BridgedEngine } from '../bridge/engine-base.js';
import type { CallMeter, CallResult, Engine } from '../engine.js';
import { bundleGuest } from '../xs/bundle.js';
import { readFile } from 'node:fs/promises';
import { McuDevice, type McuMeter } from './device.js';

export interface McuEngineOptions {
  /** Heap ceiling in bytes once the bundle is loaded (default 4 MiB). */
  heapCeiling?: number;
  /** Heap ceiling while the bundle is parsed at boot (default 12 MiB: parsing peaks near 4 MiB). */
  bootHeapCeiling?: number;
  /** The guest script (default: bundleGuest(), the same bundle the xs engine runs). */
  script?: string;
  /** Device output (print, C library messages); default: this process's stderr. */
  onOutput?: (text: string) => void;
  /** Wall-clock watchdog per request, ms. */
  watchdogMs?: number;
}

/** CallMeter in instructions, plus the device's heap. */
export interface McuCallMeter extends CallMeter {
  instructions: number;
  heapInUse: number;
  heapPeak: number;
  heapPeakEver: number;
  heapCeiling: number;
  footprint: number;
  /** Of heapInUse, bytecode bytes (in flash on a device build). */
  code: number;
}

export interface McuCallResult extends CallResult {
  meter: McuCallMeter;
}

/** What the boot cost: the empty machine, then loading the bundle. */
export interface McuBoot {
  machine: McuMeter;
  bundle: McuMeter;
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
      this.#boot = { machine, bundle };
      await this.#device.setHeapCeiling(this.#options.heapCeiling ?? 4 * 1024 * 1024);
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

  protected command(bytes: Uint8Array): Promise<{ reply: Uint8Array; meter: McuMeter }> {
    return this.#device.command(bytes);
  }

  protected meterOf(raw: McuMeter, bridge: number): McuCallMeter {
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
