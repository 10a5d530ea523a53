// The simulated microphone: the AudioIn port for the host simulator, behaving like Moddable's
// ESP32 audioin driver. Sound becomes ready a DMA chunk at a time on virtual time (SimHardware's
// timer); the driver holds up to `bufferMs` of unread sound and, like the real one, drops what
// doesn't fit without telling (an overrun the firmware must find from its read times).
//
// The sound is real 16-bit PCM with a signal that says when it was captured: the simulation's
// time (VirtualClock.elapsed(), which runs on across reboots) is cut into 50 ms slots, and
// every slot is a 2 ms 1 kHz marker, then the slot's number in 24 bits (1 ms a bit: 4 kHz for 1,
// 2 kHz for 0, most significant first), then a quiet 500 Hz tone. You hear a buzz with a tick
// every 50 ms; decodeMicTime() reads back from any stretch of it the capture time of a sample,
// so a test can check the exported audio against the video frames' burned-in counter.
//
// Attach before hw.platform() is called:  const mic = attachMicrophone(hw)

import { BodycamError } from '../../firmware/errors.js';
import type { AudioIn, AudioInOptions } from '../../firmware/platform/audio-in.js';
import type { SimHardware } from '../node/hardware.js';

export const MIC_RATE = 16000;
/** Samples in one time slot (50 ms), and where its parts begin. */
export const SLOT_SAMPLES = 800;
const MARKER = 32;
const BIT = 16;
const BITS = 24;
const TAIL = MARKER + BITS * BIT;
const AMPLITUDE = 8000;

function tone(hz: number, n: number, amplitude: number): Int16Array {
  const t = new Int16Array(n);
  for (let i = 0; i < n; i++) t[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / MIC_RATE));
  return t;
}
const MARK = tone(1000, MARKER, AMPLITUDE);
const ONE = tone(4000, BIT, AMPLITUDE);
const ZERO = tone(2000, BIT, AMPLITUDE);
const HUM = tone(500, SLOT_SAMPLES - TAIL, AMPLITUDE / 8);

/** Sample `g` of the signal (g: the sample's index on the simulation's time, at 16 kHz). */
export function micSample(g: number): number {
  const slot = Math.floor(g / SLOT_SAMPLES);
  const pos = g - slot * SLOT_SAMPLES;
  if (pos < MARKER) return MARK[pos];
  if (pos < TAIL) {
    const bit = Math.floor((pos - MARKER) / BIT);
    const on = (slot >>> (BITS - 1 - bit)) & 1;
    return (on ? ONE : ZERO)[(pos - MARKER) % BIT];
  }
  return HUM[pos - TAIL];
}

function correlate(s: ArrayLike<number>, at: number, ref: Int16Array): number {
  let c = 0;
  for (let i = 0; i < ref.length; i++) c += s[at + i] * ref[i];
  return c;
}

/**
 * The simulation-time sample index of `samples[at]`, read from the signal itself (undefined if no
 * whole slot follows `at` within the samples, or what follows is not the signal, e.g. silence).
 * Divide by 16 for milliseconds of VirtualClock.elapsed().
 */
export function decodeMicTime(samples: ArrayLike<number>, at: number): number | undefined {
  const markEnergy = correlate(MARK, 0, MARK);
  for (let o = 0; o < SLOT_SAMPLES && at + o + SLOT_SAMPLES <= samples.length; o++) {
    const start = at + o;
    if (correlate(samples, start, MARK) < 0.8 * markEnergy) continue;
    let slot = 0;
    for (let b = 0; b < BITS; b++) {
      const p = start + MARKER + b * BIT;
      slot = slot * 2 + (correlate(samples, p, ONE) > correlate(samples, p, ZERO) ? 1 : 0);
    }
    // The whole slot must be the signal for that number (a marker-like stretch elsewhere is not).
    let err = 0;
    for (let i = 0; i < SLOT_SAMPLES; i++) err += Math.abs(samples[start + i] - micSample(slot * SLOT_SAMPLES + i));
    if (err / SLOT_SAMPLES > AMPLITUDE / 20) continue;
    return slot * SLOT_SAMPLES - o;
  }
  return undefined;
}

export interface SimMicrophoneOptions {
  /** Ms of sound the driver makes ready at a time (default 100: a DMA chunk). */
  chunkMs?: number;
  /** Ms of unread sound the driver holds; what does not fit is lost (default 1000). */
  bufferMs?: number;
  /** Pass the capture time of the newest ready sample to onReadable (default true; Moddable's driver does not). */
  stampCapture?: boolean;
}

/** The simulator's view of the microphone: counters and fault controls. */
export class SimMicrophoneControl {
  /** Samples the microphone took (delivered or lost). */
  captured = 0;
  /** Samples lost because the driver's buffer was full. */
  overrun = 0;
  /** Samples lost on request (skip()). */
  skipped = 0;
  opened = 0;
  closed = 0;
  #skip = 0;
  /** The driver loses the next `ms` of sound (a DMA hiccup). */
  skip(ms: number): void {
    this.#skip += Math.round((ms * MIC_RATE) / 1000);
  }
  /** @internal */
  takeSkip(n: number): number {
    const k = Math.min(n, this.#skip);
    this.#skip -= k;
    return k;
  }
}

/** Attach a simulated microphone to `hw` (sets hw.devices.AudioIn). */
export function attachMicrophone(hw: SimHardware, options: SimMicrophoneOptions = {}): SimMicrophoneControl {
  const control = new SimMicrophoneControl();
  const chunkMs = options.chunkMs ?? 100;
  const bufferMs = options.bufferMs ?? 1000;
  const stamp = options.stampCapture ?? true;

  class SimMicrophone implements AudioIn {
    readonly sampleRate: number;
    readonly bitsPerSample = 16;
    readonly channels = 1;
    readonly #onReadable: AudioInOptions['onReadable'];
    #timer: number | undefined;
    /** Simulation-time sample index of the run's first sample, and samples since. */
    #g0 = 0;
    #n = 0;
    #k = 0;
    #t0 = 0;
    readonly #queue: Uint8Array[] = [];
    #ready = 0;
    #closed = false;

    constructor(o: AudioInOptions) {
      if (o.sampleRate !== MIC_RATE) throw new BodycamError('E_AUDIO_RATE', `the simulated microphone records at ${MIC_RATE} Hz, not ${o.sampleRate}`);
      if (o.bitsPerSample !== 16 || o.channels !== 1) throw new BodycamError('E_AUDIO_FORMAT', 'the simulated microphone gives 16-bit mono');
      this.sampleRate = o.sampleRate;
      this.#onReadable = o.onReadable;
      control.opened++;
    }

    start(): void {
      if (this.#closed || this.#timer !== undefined) return;
      this.#t0 = hw.clock.monotonic();
      this.#g0 = Math.round((hw.clock.elapsed() * MIC_RATE) / 1000);
      this.#n = 0;
      this.#k = 0;
      this.#schedule();
    }

    #schedule(): void {
      this.#k++;
      const at = this.#t0 + this.#k * chunkMs;
      this.#timer = hw.timer.set(() => this.#chunk(), Math.max(0, at - hw.clock.monotonic()));
    }

    #chunk(): void {
      this.#timer = undefined;
      const count = Math.round((this.#k * chunkMs * MIC_RATE) / 1000) - this.#n;
      const first = this.#g0 + this.#n;
      this.#n += count;
      control.captured += count;
      this.#schedule();
      const skipped = control.takeSkip(count);
      control.skipped += skipped;
      // A skipped stretch loses the chunk's start; the rest still arrives.
      const kept = count - skipped;
      const room = Math.floor((bufferMs * MIC_RATE) / 1000) - this.#ready / 2;
      if (kept > room) {
        control.overrun += kept;
        return;
      }
      if (kept === 0) return;
      const bytes = new Uint8Array(2 * kept);
      const v = new DataView(bytes.buffer);
      for (let i = 0; i < kept; i++) v.setInt16(2 * i, micSample(first + skipped + i), true);
      this.#queue.push(bytes);
      this.#ready += bytes.length;
      this.#onReadable?.(this.#ready, this.#ready / 2, ...(stamp ? [hw.clock.monotonic()] : []));
    }

    read(byteLength: number): ArrayBuffer | undefined {
      if (!(byteLength > 0) || byteLength > this.#ready) return undefined;
      const out = new Uint8Array(byteLength);
      let o = 0;
      while (o < byteLength) {
        const head = this.#queue[0];
        const n = Math.min(head.length, byteLength - o);
        out.set(head.subarray(0, n), o);
        o += n;
        if (n === head.length) this.#queue.shift();
        else this.#queue[0] = head.subarray(n);
      }
      this.#ready -= byteLength;
      return out.buffer;
    }

    stop(): void {
      if (this.#timer !== undefined) hw.timer.clear(this.#timer);
      this.#timer = undefined;
      this.#queue.length = 0;
      this.#ready = 0;
    }

    close(): void {
      if (this.#closed) return;
      this.stop();
      this.#closed = true;
      control.closed++;
    }
  }

  hw.devices.AudioIn = SimMicrophone;
  return control;
}
