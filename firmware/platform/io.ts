// Button, Led, Haptic and Battery ports, shaped on `embedded:io/digital` and
// `embedded:io/analog`: a pin (or channel) in the options, read()/write(), close().

export interface ButtonOptions {
  /** Board name of the button ("record"). */
  pin: string | number;
  /** Called on every edge; read() tells pressed (1) or released (0). */
  onReadable?: () => void;
}

export interface Button {
  /** 1 while pressed. */
  read(): number;
  close(): void;
}
export type ButtonConstructor = new (options: ButtonOptions) => Button;

export interface LedOptions {
  pin: string | number;
}

export interface Led {
  /**
   * True when write() shows 0xRRGGBB colours (an RGB LED). A one-colour LED (false or absent)
   * is simply on for any non-zero value, so the recorder picks what to light with this in mind.
   */
  readonly rgb?: boolean;
  /** 0 off, non-zero on; an RGB LED takes 0xRRGGBB. */
  write(value: number): void;
  close(): void;
}
export type LedConstructor = new (options: LedOptions) => Led;

export interface Haptic {
  /** Pulse the vibration motor for `ms` milliseconds. */
  write(ms: number): void;
  close(): void;
}
export type HapticConstructor = new (options: LedOptions) => Haptic;

export interface BatteryOptions {
  pin: string | number;
}

export interface BatteryReading {
  millivolts: number;
  /** Percent of usable charge, from the board's discharge curve. */
  percent: number;
  charging: boolean;
}

export interface Battery {
  read(): BatteryReading;
  close(): void;
}
export type BatteryConstructor = new (options: BatteryOptions) => Battery;
