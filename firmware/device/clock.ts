// Clock and Timer ports over Moddable's `time` and `timer`. Monotonic time is Time.ticks
// (milliseconds since boot, never set); wall time is the RTC, read through Date.now() and set
// with Time.set(seconds). Timer ids are small integers the port hands out, mapped to
// Moddable's timer objects, so firmware never holds a device object.

import { BodycamError } from '../errors.js';
import type { Clock, ClockSource, Timer, TimerId } from '../platform/clock.js';
import type { TimeModule, TimerModule } from './moddable.js';

export interface DeviceClockOptions {
  time: TimeModule;
  /** Date.now on a device; injectable for tests. */
  now: () => number;
}

export class DeviceClock implements Clock {
  #time: TimeModule;
  #now: () => number;
  #source: ClockSource = 'rtc';
  #lastSync = 0;
  constructor({ time, now }: DeviceClockOptions) {
    this.#time = time;
    this.#now = now;
  }
  monotonic(): number {
    return this.#time.ticks;
  }
  utc(): number {
    return this.#now();
  }
  setUtc(ms: number, source: ClockSource): void {
    if (!Number.isFinite(ms) || ms < 0) throw new BodycamError('E_CLOCK_VALUE', `cannot set the clock to ${ms}`);
    this.#time.set(ms / 1000);
    this.#source = source;
    this.#lastSync = ms;
  }
  source(): { source: ClockSource; lastSync: number } {
    return { source: this.#source, lastSync: this.#lastSync };
  }
}

export class DeviceTimer<H> implements Timer {
  #timer: TimerModule<H>;
  #live = new Map<TimerId, H>();
  #next = 1;
  constructor(timer: TimerModule<H>) {
    this.#timer = timer;
  }
  set(callback: () => void, delay: number, repeat?: number): TimerId {
    const id = this.#next++;
    const handle = repeat === undefined
      ? this.#timer.set(() => {
          this.#live.delete(id);
          callback();
        }, delay)
      : this.#timer.set(callback, delay, repeat);
    this.#live.set(id, handle);
    return id;
  }
  clear(id: TimerId): void {
    const handle = this.#live.get(id);
    if (!this.#live.has(id)) return;
    this.#live.delete(id);
    this.#timer.clear(handle as H);
  }
}
