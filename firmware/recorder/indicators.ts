// What the officer (and anyone facing the officer) sees and feels for each recorder state. The
// status LED is RGB (0xRRGGBB): recording is solid red and no other state uses red, so a
// recording camera never looks like an idle one. Every recorder state is a steady colour; the one
// blinking pattern, AWAITING_PROVISIONING, belongs to a camera that has no certificate and runs
// no recorder (firmware/provision/boot.ts): it blinks, and in a colour with no red in it, so even
// a board with a one-colour LED (where every colour is just "on") can't show it while recording.
// A one-colour LED (Led.rgb not true: the XIAO's orange LED) can't show colours, so it is lit
// while recording (and while the last segment is sealed) and dark otherwise: recording and idle
// still never look alike; alerts are felt through the haptic motor.
// The haptic motor pulses on every change the
// officer caused or must know about; the pulse length tells which (short: started, long: stopped,
// longest: an alert).

import type { Haptic, Led } from '../platform/io.js';

export type RecorderState = 'off' | 'standby' | 'recording' | 'stopping' | 'docked' | 'storage-full' | 'battery-critical' | 'fault';

export const LED_COLOURS: Readonly<Record<RecorderState, number>> = Object.freeze({
  off: 0x000000,
  standby: 0x002000, // dim green: on and buffering
  recording: 0xff0000,
  stopping: 0xff00ff, // magenta while the last segment is sealed
  docked: 0x0000ff,
  'storage-full': 0xffa000,
  'battery-critical': 0xffa000,
  fault: 0xffff00,
});

/** The states a one-colour LED is lit in. */
export const MONO_LIT: readonly RecorderState[] = Object.freeze(['recording', 'stopping']);

/** A camera with no certificate: cyan, on and off every `halfPeriodMs` (no recorder runs). */
export const AWAITING_PROVISIONING = Object.freeze({ colour: 0x00ffff, halfPeriodMs: 500 });

export const HAPTIC = Object.freeze({
  /** Recording started. */
  start: 150,
  /** A press while recording: still recording. */
  reminder: 60,
  /** Recording stopped by the officer. */
  stop: 500,
  /** Storage full, battery low or critical, fault. */
  alert: 1000,
});

export class Indicators {
  readonly #led: Led;
  readonly #haptic: Haptic;
  #colour = -1;

  constructor(o: { led: Led; haptic: Haptic }) {
    this.#led = o.led;
    this.#haptic = o.haptic;
  }

  show(state: RecorderState): void {
    const c = this.#led.rgb ? LED_COLOURS[state] : MONO_LIT.includes(state) ? 1 : 0;
    if (c === this.#colour) return;
    this.#colour = c;
    this.#led.write(c);
  }

  pulse(ms: number): void {
    this.#haptic.write(ms);
  }

  close(): void {
    this.#led.close();
    this.#haptic.close();
  }
}
