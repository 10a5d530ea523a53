// Button, Led, Haptic and Battery ports over `embedded:io/digital` and `embedded:io/analog`.
// Boards wire buttons and LEDs active-low or active-high; the board's `activeLow` is applied
// here so firmware always reads 1 for pressed and writes 1 for lit. A board without a part
// (no haptic motor, no battery sense) gets a stand-in that says so instead of failing.

import type { Battery, BatteryConstructor, BatteryReading, Button, ButtonConstructor, ButtonOptions, Haptic, HapticConstructor, Led, LedConstructor } from '../platform/io.js';
import type { BatteryConfig, PinConfig } from './board.js';
import type { AnalogClass, AnalogPin, DigitalClass, DigitalPin, TimerModule } from './moddable.js';

/** The port's pin may be a board name ("record") or a number; the board decides which GPIO. */
export function digitalButton(Digital: DigitalClass, pin: PinConfig): ButtonConstructor {
  return class DigitalButton implements Button {
    #io: DigitalPin;
    constructor({ onReadable }: ButtonOptions) {
      const mode = pin.activeLow ? Digital.InputPullUp : Digital.Input;
      const edge = Digital.Rising | Digital.Falling;
      this.#io = onReadable ? new Digital({ pin: pin.pin, mode, edge, onReadable: () => onReadable() }) : new Digital({ pin: pin.pin, mode });
    }
    read(): number {
      return (this.#io.read() ? 1 : 0) ^ (pin.activeLow ? 1 : 0);
    }
    close(): void {
      this.#io.close();
    }
  };
}

export function digitalLed(Digital: DigitalClass, config: PinConfig | null): LedConstructor {
  if (!config) return NoLed;
  const pin = config;
  return class DigitalLed implements Led {
    /** A plain GPIO LED: one colour, on for any non-zero value. */
    readonly rgb = false;
    #io: DigitalPin;
    constructor() {
      this.#io = new Digital({ pin: pin.pin, mode: Digital.Output });
      this.#io.write(pin.activeLow ? 1 : 0);
    }
    write(value: number): void {
      const on = value !== 0;
      this.#io.write(on !== pin.activeLow ? 1 : 0);
    }
    close(): void {
      this.#io.close();
    }
  };
}

class NoLed implements Led {
  write(_value: number): void {}
  close(): void {}
}

export function digitalHaptic<H>(Digital: DigitalClass, timer: TimerModule<H>, config: PinConfig | null): HapticConstructor {
  if (!config) return NoHaptic;
  const pin = config;
  return class DigitalHaptic implements Haptic {
    #io: DigitalPin;
    #pending: { handle: H } | undefined;
    constructor() {
      this.#io = new Digital({ pin: pin.pin, mode: Digital.Output });
      this.#io.write(pin.activeLow ? 1 : 0);
    }
    write(ms: number): void {
      if (this.#pending) timer.clear(this.#pending.handle);
      this.#io.write(pin.activeLow ? 0 : 1);
      this.#pending = {
        handle: timer.set(() => {
          this.#pending = undefined;
          this.#io.write(pin.activeLow ? 1 : 0);
        }, Math.max(1, ms)),
      };
    }
    close(): void {
      if (this.#pending) timer.clear(this.#pending.handle);
      this.#pending = undefined;
      this.#io.write(pin.activeLow ? 1 : 0);
      this.#io.close();
    }
  };
}

class NoHaptic implements Haptic {
  write(_ms: number): void {}
  close(): void {}
}

export function analogBattery(Analog: AnalogClass, battery: BatteryConfig | null): BatteryConstructor {
  if (!battery) return ExternalPower;
  const config = battery;
  return class AnalogBattery implements Battery {
    #io: AnalogPin;
    constructor() {
      this.#io = new Analog({ pin: config.pin });
    }
    read(): BatteryReading {
      const raw = this.#io.read();
      const pinMillivolts = (raw * config.fullScaleMillivolts) / ((1 << this.#io.resolution) - 1);
      const millivolts = Math.round(pinMillivolts * config.ratio);
      const linear = ((millivolts - config.emptyMillivolts) * 100) / (config.fullMillivolts - config.emptyMillivolts);
      const percent = Math.max(0, Math.min(100, Math.round(linear)));
      // Above the full mark only a charger can hold the cell: report charging.
      return { millivolts, percent, charging: millivolts > config.fullMillivolts };
    }
    close(): void {
      this.#io.close?.();
    }
  };
}

/** A board with no battery sense runs from external power (USB or a power bank). */
class ExternalPower implements Battery {
  read(): BatteryReading {
    return { millivolts: 0, percent: 100, charging: true };
  }
  close(): void {}
}
