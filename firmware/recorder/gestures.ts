// The record button's gestures: a press (the down edge: recording starts at once, no waiting for
// the release) and a long press (held for `longPressMs`: the deliberate gesture that stops a
// recording, so a knock or a brush against the button can't). A press that is still held from
// an earlier gesture never counts twice: a long press fires at most once per press.

import type { Clock, Timer, TimerId } from '../platform/clock.js';
import type { Button, ButtonConstructor } from '../platform/io.js';

export interface ButtonGesturesOptions {
  Button: ButtonConstructor;
  pin: string | number;
  timer: Timer;
  clock: Clock;
  longPressMs: number;
  onPress: () => void;
  onLongPress: () => void;
}

export class ButtonGestures {
  readonly #o: ButtonGesturesOptions;
  readonly #button: Button;
  #down = false;
  #hold: TimerId | undefined;

  constructor(o: ButtonGesturesOptions) {
    this.#o = o;
    this.#button = new o.Button({ pin: o.pin, onReadable: () => this.#edge() });
  }

  #edge(): void {
    const down = this.#button.read() === 1;
    if (down === this.#down) return;
    this.#down = down;
    if (down) {
      this.#hold = this.#o.timer.set(() => {
        this.#hold = undefined;
        if (this.#down) this.#o.onLongPress();
      }, this.#o.longPressMs);
      this.#o.onPress();
    } else if (this.#hold !== undefined) {
      this.#o.timer.clear(this.#hold);
      this.#hold = undefined;
    }
  }

  close(): void {
    if (this.#hold !== undefined) this.#o.timer.clear(this.#hold);
    this.#hold = undefined;
    this.#button.close();
  }
}
