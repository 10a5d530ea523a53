// Simulated hardware for the host: the Platform the firmware sees in the simulator, and the
// controls the simulator (or a test) uses to drive it — virtual time, the button, the battery.
// Port behaviour follows the Moddable modules named in firmware/platform/. Callbacks handed to
// these ports are called directly; the engines queue them (bridge/events.ts) so that firmware
// receives them between calls, in the same order on Node and in XS.

import { createHash } from 'node:crypto';
import { BodycamError } from '../../firmware/errors.js';
import { nodeChecksum, nodeCipher, nodeDigest } from '../../host/ports.js';
import { toBytes, type BufferLike } from '../../firmware/platform/buffers.js';
import type {
  Battery, BatteryOptions, BatteryReading, Button, ButtonOptions, Checksum, Clock, ClockSource, Digest, DigestAlgorithm, DigestContext,
  Haptic, KeyStore, KeyStoreOptions, Led, LedOptions, Platform, Random, Timer, TimerId,
} from '../../firmware/platform/index.js';
import { softChecksum } from '../../firmware/platform/soft-checksum.js';

/** Virtual time: advanced only by the simulator, so a 12-hour shift runs in minutes. */
export class VirtualClock implements Clock {
  #now = 0;
  /** Virtual ms of the boots before this one (reboot() keeps them): elapsed() is the simulation's own time. */
  #before = 0;
  #utcOffset: number;
  #source: ClockSource = 'rtc';
  #lastSync = 0;
  /** How far the RTC runs fast, in parts per million (a drifting clock the dock corrects). */
  driftPpm: number;
  constructor(options: { utcStart?: number; driftPpm?: number } = {}) {
    this.#utcOffset = options.utcStart ?? Date.UTC(2026, 10, 25, 6, 0, 0);
    this.driftPpm = options.driftPpm ?? 0;
  }
  monotonic(): number {
    return this.#now;
  }
  utc(): number {
    return Math.round(this.#utcOffset + this.#now * (1 + this.driftPpm / 1e6));
  }
  setUtc(ms: number, source: ClockSource): void {
    this.#utcOffset = ms - this.#now * (1 + this.driftPpm / 1e6);
    this.#source = source;
    this.#lastSync = ms;
  }
  source(): { source: ClockSource; lastSync: number } {
    return { source: this.#source, lastSync: this.#lastSync };
  }
  /** Simulator control: move time forward. */
  advanceTo(ms: number): void {
    if (ms < this.#now) throw new BodycamError('E_SIM_TIME', `time can't go back from ${this.#now} to ${ms}`);
    this.#now = ms;
  }
  /**
   * Simulator only: virtual ms since the simulation began, across reboots (the "true" time the
   * simulated sensors stamp into what they capture, for tests that check the firmware's times).
   */
  elapsed(): number {
    return this.#before + this.#now;
  }
  /** Simulator control: a reboot restarts monotonic time (the RTC keeps running). */
  reboot(): void {
    const utc = this.utc();
    this.#before += this.#now;
    this.#now = 0;
    this.#utcOffset = utc;
  }
}

interface PendingTimer {
  id: number;
  at: number;
  repeat: number | undefined;
  callback: () => void;
}

/** Timers on virtual time; `runUntil` fires them in time order. */
export class VirtualTimer implements Timer {
  #timers: PendingTimer[] = [];
  #next = 1;
  constructor(readonly clock: VirtualClock) {}
  set(callback: () => void, delay: number, repeat?: number): TimerId {
    const id = this.#next++;
    this.#timers.push({ id, at: this.clock.monotonic() + Math.max(0, delay), repeat: repeat && repeat > 0 ? repeat : undefined, callback });
    return id;
  }
  clear(id: TimerId): void {
    this.#timers = this.#timers.filter((t) => t.id !== id);
  }
  /** The time the next timer fires, or undefined. */
  nextAt(): number | undefined {
    let at: number | undefined;
    for (const t of this.#timers) if (at === undefined || t.at < at) at = t.at;
    return at;
  }
  /** Advance the clock to `ms`, firing every timer due on the way, in order. */
  runUntil(ms: number): number {
    let fired = 0;
    for (;;) {
      const due = this.#timers.filter((t) => t.at <= ms).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.clock.advanceTo(Math.max(this.clock.monotonic(), due.at));
      if (due.repeat) due.at += due.repeat;
      else this.clear(due.id);
      due.callback();
      fired++;
    }
    this.clock.advanceTo(Math.max(this.clock.monotonic(), ms));
    return fired;
  }
  /** A reboot loses every timer. */
  reset(): void {
    this.#timers = [];
  }
}

/** Deterministic random bytes: SHA-256 in counter mode over a seed. */
export class SeededRandom implements Random {
  #seed: Buffer;
  #counter = 0;
  #pool = Buffer.alloc(0);
  constructor(seed: number | string) {
    this.#seed = createHash('sha256').update(`bodycam-sim-seed:${seed}`).digest();
  }
  fill(bytes: Uint8Array): void {
    let o = 0;
    while (o < bytes.length) {
      if (this.#pool.length === 0) {
        const c = Buffer.alloc(8);
        c.writeBigUInt64BE(BigInt(this.#counter++));
        this.#pool = createHash('sha256').update(this.#seed).update(c).digest();
      }
      const n = Math.min(this.#pool.length, bytes.length - o);
      bytes.set(this.#pool.subarray(0, n), o);
      this.#pool = this.#pool.subarray(n);
      o += n;
    }
  }
}

// The simulator's "hardware SHA engine" and "native CRC" are the host layer's Node adapters.
export { nodeChecksum, nodeDigest };

/** KeyStore partitions kept in memory across simulated reboots (keyed by path). */
export class MemoryKeyStores {
  readonly partitions = new Map<string, Map<string, Uint8Array>>();
  constructor() {}
  open(options: KeyStoreOptions): KeyStore {
    let p = this.partitions.get(options.path);
    if (!p) this.partitions.set(options.path, (p = new Map()));
    const part = p;
    let open = true;
    const check = () => {
      if (!open) throw new BodycamError('E_CLOSED', 'key store closed');
    };
    return {
      get(key: string) {
        check();
        const v = part.get(key);
        return v ? (v.slice().buffer as ArrayBuffer) : undefined;
      },
      set(key: string, value: ArrayBuffer | Uint8Array) {
        check();
        part.set(key, new Uint8Array(value instanceof ArrayBuffer ? value.slice(0) : value.slice()));
      },
      delete(key: string) {
        check();
        part.delete(key);
      },
      close() {
        open = false;
      },
    };
  }
}

/** Indicators (LED, haptic) record every write with its time, for the scenario report. */
export class IndicatorLog {
  readonly writes: { at: number; pin: string | number; value: number }[] = [];
  constructor(readonly clock: Clock) {}
  last(pin: string | number): number {
    for (let i = this.writes.length - 1; i >= 0; i--) if (this.writes[i].pin === pin) return this.writes[i].value;
    return 0;
  }
}

/** Buttons the simulator presses. */
export class ButtonPanel {
  readonly #buttons = new Map<string | number, { state: number; onReadable?: () => void }>();
  open(options: ButtonOptions): Button {
    const b = { state: 0, onReadable: options.onReadable };
    this.#buttons.set(options.pin, b);
    return { read: () => b.state, close: () => void this.#buttons.delete(options.pin) };
  }
  /** Simulator control: set the button state (fires onReadable on a change). */
  set(pin: string | number, pressed: boolean): void {
    const b = this.#buttons.get(pin);
    if (!b) return;
    const v = pressed ? 1 : 0;
    if (b.state === v) return;
    b.state = v;
    b.onReadable?.();
  }
}

/** A battery following a scripted curve (millivolts over monotonic time). */
export class SimBattery {
  curve: { at: number; millivolts: number; charging?: boolean }[] = [{ at: 0, millivolts: 4100 }];
  constructor(readonly clock: VirtualClock) {}
  read(): BatteryReading {
    const t = this.clock.monotonic();
    let p = this.curve[0];
    let q = this.curve[0];
    for (const c of this.curve) {
      if (c.at <= t) p = c;
      if (c.at >= t) {
        q = c;
        break;
      }
      q = c;
    }
    const mv = q.at === p.at ? p.millivolts : Math.round(p.millivolts + ((q.millivolts - p.millivolts) * (t - p.at)) / (q.at - p.at));
    const percent = Math.max(0, Math.min(100, Math.round(((mv - 3300) / (4150 - 3300)) * 100)));
    return { millivolts: mv, percent, charging: p.charging ?? false };
  }
}

export interface SimHardwareOptions {
  seed?: number | string;
  utcStart?: number;
  driftPpm?: number;
}

/** Simulated hardware and the Platform over it. Later modules attach their devices here. */
export class SimHardware {
  readonly clock: VirtualClock;
  readonly timer: VirtualTimer;
  readonly random: SeededRandom;
  readonly keyStores = new MemoryKeyStores();
  readonly indicators: IndicatorLog;
  readonly buttons = new ButtonPanel();
  readonly battery: SimBattery;
  /** Whether the status LED shows colours (as on a board with an RGB LED) or is one-colour. */
  rgbLed = true;
  /** Port constructors that a later module provides (Camera, Flash, Link), by name. */
  readonly devices: Partial<Pick<Platform, 'Camera' | 'AudioIn' | 'Flash' | 'Link'>> = {};

  constructor(options: SimHardwareOptions = {}) {
    this.clock = new VirtualClock(options);
    this.timer = new VirtualTimer(this.clock);
    this.random = new SeededRandom(options.seed ?? 1);
    this.indicators = new IndicatorLog(this.clock);
    this.battery = new SimBattery(this.clock);
  }

  platform(): Platform {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const hw = this;
    const missing = (name: string) =>
      function Missing(): never {
        throw new BodycamError('E_NO_DEVICE', `the simulator has no ${name} attached`);
      } as unknown as new (o: unknown) => never;
    class SimLed implements Led {
      #pin: string | number;
      /** The simulated status LED is RGB unless the scenario says it is a one-colour LED. */
      readonly rgb: boolean = hw.rgbLed;
      constructor(o: LedOptions) {
        this.#pin = o.pin;
      }
      write(value: number): void {
        hw.indicators.writes.push({ at: hw.clock.monotonic(), pin: this.#pin, value });
      }
      close(): void {}
    }
    class SimHaptic extends SimLed implements Haptic {}
    class SimButton {
      constructor(o: ButtonOptions) {
        return hw.buttons.open(o);
      }
    }
    class SimKeyStore {
      constructor(o: KeyStoreOptions) {
        return hw.keyStores.open(o);
      }
    }
    class SimBatteryPort implements Battery {
      constructor(_o: BatteryOptions) {}
      read(): BatteryReading {
        return hw.battery.read();
      }
      close(): void {}
    }
    return {
      Camera: this.devices.Camera ?? missing('camera'),
      AudioIn: this.devices.AudioIn ?? missing('microphone'),
      Flash: this.devices.Flash ?? missing('flash'),
      Link: this.devices.Link ?? missing('dock link'),
      KeyStore: SimKeyStore as unknown as Platform['KeyStore'],
      Button: SimButton as unknown as Platform['Button'],
      Led: SimLed,
      Haptic: SimHaptic,
      Battery: SimBatteryPort,
      clock: this.clock,
      timer: this.timer,
      random: this.random,
      digest: nodeDigest,
      checksum: nodeChecksum,
      cipher: nodeCipher,
    };
  }
}

/**
 * Advance virtual time to `untilMs` timer by timer, delivering the hardware callbacks each timer
 * queued before the next one fires (as a device's event loop would, with a firmware that keeps
 * up). Tests and benches drive the simulated camera with it.
 */
export async function runVirtualTime(hw: SimHardware, engine: { pump(): Promise<number> }, untilMs: number): Promise<void> {
  for (let next = hw.timer.nextAt(); next !== undefined && next <= untilMs; next = hw.timer.nextAt()) {
    hw.timer.runUntil(next);
    await engine.pump();
  }
  hw.timer.runUntil(untilMs);
  await engine.pump();
}

/**
 * Device timing: what the firmware's own work costs on the camera's 240 MHz core. The engine's
 * meter counts the work (xs: XS compute units, bridge excluded, as a port call is native on a
 * device; mcu: Cortex-M7 instructions); `msPerUnit` turns it into busy time. One XS unit is about
 * 46.5 instructions (the mcu engine running the same bundle), so xs: 46.5 / 240_000 ms a unit.
 */
export interface DeviceTiming {
  msPerUnit: number;
}
export const XS_DEVICE_TIMING: DeviceTiming = Object.freeze({ msPerUnit: 46.5 / 240_000 });
export const MCU_DEVICE_TIMING: DeviceTiming = Object.freeze({ msPerUnit: 1 / 240_000 });

/** A stretch of virtual time the core was busy with callbacks delivered at `at`. */
export interface BusySpan {
  at: number;
  ms: number;
  units: number;
}

/**
 * runVirtualTime on device timing: after the callbacks due at a moment run, virtual time moves
 * on by the time their measured work takes on the device, while the hardware keeps going — the
 * camera captures into its driver buffers (and overruns when they are all full), timers fall
 * due — and what they queued is delivered only when the core is free again, late, as on the
 * camera. An engine without a meter (node) costs nothing and runs as runVirtualTime does.
 * Each busy stretch is pushed onto `busy` when given.
 */
export async function runDeviceTime(
  hw: SimHardware,
  engine: { pump(): Promise<number>; takeCallbackCompute(): number },
  untilMs: number,
  timing: DeviceTiming,
  busy?: BusySpan[],
): Promise<void> {
  engine.takeCallbackCompute(); // work before this run is not charged here
  const settle = async (): Promise<void> => {
    await engine.pump();
    for (let units = engine.takeCallbackCompute(); units > 0; units = engine.takeCallbackCompute()) {
      const at = hw.clock.monotonic();
      // In whole milliseconds, as a device's ticks are (rounded up: never cheaper than measured).
      const ms = Math.ceil(units * timing.msPerUnit);
      busy?.push({ at, ms, units });
      hw.timer.runUntil(at + ms);
      await engine.pump();
    }
  };
  for (let next = hw.timer.nextAt(); next !== undefined && next <= untilMs; next = hw.timer.nextAt()) {
    hw.timer.runUntil(Math.max(next, hw.clock.monotonic()));
    await settle();
  }
  hw.timer.runUntil(Math.max(untilMs, hw.clock.monotonic()));
  await settle();
}
