// Clock and Timer ports. Monotonic time never goes backwards and starts at boot (Moddable's
// `Time.ticks`); wall time is the RTC (`Date.now()` on a device), settable by the dock.
// Timers are shaped on Moddable's `Timer` module (set / repeat / clear).

export type ClockSource = 'none' | 'rtc' | 'dock';

export interface Clock {
  /** Milliseconds since boot; never decreases. */
  monotonic(): number;
  /** Milliseconds since the Unix epoch, as the RTC believes. */
  utc(): number;
  /** Set the RTC (only the dock does this; the caller records the drift first). */
  setUtc(ms: number, source: ClockSource): void;
  /** Who set the wall clock last, and when (UTC ms, 0 if never). */
  source(): { source: ClockSource; lastSync: number };
}

export type TimerId = number;

export interface Timer {
  /** Call `callback` after `delay` ms, then every `repeat` ms if given. */
  set(callback: () => void, delay: number, repeat?: number): TimerId;
  clear(id: TimerId): void;
}
