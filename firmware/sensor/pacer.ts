// Frame pacing and drop accounting, on the Clock port's monotonic time.
//
// The pacer lays a grid of slots at the target rate from the first frame of a capture
// (slot k at start + k * 1000 / rate ms) and puts each frame the sensor delivers in the nearest
// slot. A frame whose slot is already taken is surplus (the sensor runs faster than the target)
// and is skipped; that is pacing, not loss. A slot that passes with no frame is a dropped frame
// (sensor overrun, a driver that had no free buffer because storing was slow): it is counted and
// charged to the next stored frame, whose header carries the count and the gap's length. Frames
// that arrive but can't be stored are reported with `lost()` and charged the same way. So a gap
// in the footage is always explained in the evidence, never invisible.
//
// Integer arithmetic only; no allocation per frame.

import { BodycamError } from '../errors.js';

export interface PacerOptions {
  /** Target frames per second, 1..60. */
  frameRate: number;
}

/** What the pacer decided for an offered frame. */
export interface PaceDecision {
  /** False: surplus frame, close it without storing. */
  take: boolean;
  /** Slots that passed without a frame since the previous taken frame (sensor side). */
  missed: number;
}

export interface PacerStats {
  /** Frames taken (handed on to be stored). */
  taken: number;
  /** Surplus frames skipped because the sensor ran faster than the target rate. */
  skipped: number;
  /** Slots that passed with no frame from the sensor. */
  missed: number;
  /** Frames delivered that could not be stored. */
  lost: number;
}

export class FramePacer {
  readonly frameRate: number;
  #start = -1;
  #lastSlot = -1;
  #taken = 0;
  #skipped = 0;
  #missed = 0;
  #lost = 0;

  constructor(options: PacerOptions) {
    const r = options.frameRate;
    if (!Number.isInteger(r) || r < 1 || r > 60) throw new BodycamError('E_CAPTURE_RATE', `frame rate must be a whole number of frames per second in 1..60, got ${r}`);
    this.frameRate = r;
  }

  /** The slot a monotonic time falls in (nearest slot of the grid). */
  slotOf(monotonicMs: number): number {
    return Math.floor(((monotonicMs - this.#start) * this.frameRate * 2 + 1000) / 2000);
  }

  /** A frame arrived at `monotonicMs`: take it or skip it. */
  offer(monotonicMs: number): PaceDecision {
    if (this.#start < 0) {
      this.#start = monotonicMs;
      this.#lastSlot = 0;
      this.#taken++;
      return { take: true, missed: 0 };
    }
    const slot = this.slotOf(monotonicMs);
    if (slot <= this.#lastSlot) {
      this.#skipped++;
      return { take: false, missed: 0 };
    }
    const missed = slot - this.#lastSlot - 1;
    this.#lastSlot = slot;
    this.#missed += missed;
    this.#taken++;
    return { take: true, missed };
  }

  /** A taken frame could not be stored. */
  lost(): void {
    this.#taken--;
    this.#lost++;
  }

  /** Start a new grid at the next frame (after stop/start: a pause is not a loss). */
  restart(): void {
    this.#start = -1;
    this.#lastSlot = -1;
  }

  get stats(): PacerStats {
    return { taken: this.#taken, skipped: this.#skipped, missed: this.#missed, lost: this.#lost };
  }
}
