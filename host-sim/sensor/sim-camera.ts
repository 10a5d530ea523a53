// The simulated camera: the Camera port for the host simulator, behaving like Moddable's ESP32
// camera driver. Frames become ready on virtual time (SimHardware's timer), at the sensor's own
// rate; the driver owns a few frame buffers (3, as on an ESP32-S3) and lends one per read();
// while all are lent or waiting, new frames are discarded (an overrun), exactly the situation
// a slow storage path creates on a device. Pictures come from a FrameSource: the synthetic
// sensor, or a replayed recording.
//
// Attach before hw.platform() is called:  const cam = attachCamera(hw, { source: synthetic() })

import { BodycamError } from '../../firmware/errors.js';
import type { Camera, CameraFrame, CameraOptions, ImageType } from '../../firmware/platform/camera.js';
import type { SimHardware } from '../node/hardware.js';
import { BRIDGE_GRANT } from '../bridge/host.js';
import type { Grant } from '../bridge/marshal.js';
import { SyntheticFrames, type FrameSource, type SyntheticFramesOptions } from './synthetic.js';

export interface SimCameraOptions {
  /** Pictures for the size the firmware asks for. Default: the synthetic sensor. */
  source?: (width: number, height: number) => FrameSource;
  /** Frames per second the sensor delivers (default: the rate the firmware asks for, else 15). */
  sensorRate?: number;
  /** Driver frame buffers (default 3). */
  buffers?: number;
  /** 'jpeg' (default); a raw type simulates a raw-only sensor such as the GC0308. */
  imageType?: ImageType;
  /** Up to this many ms of deterministic jitter on each frame's arrival (default 0). */
  jitterMs?: number;
  /**
   * Stamp each frame with its capture time (CameraFrame.capturedMs; default true). false plays a
   * driver that gives no time, as Moddable's camera module does: the firmware stamps the read.
   */
  stampCapture?: boolean;
  /** Keep the time of every capture in SimCameraControl.captureTimes (for tests; default false). */
  logCaptures?: boolean;
}

/** Builds synthetic sources, reused across opens of the same size (tiles are encoded once). */
export function synthetic(options: Omit<SyntheticFramesOptions, 'width' | 'height'> = {}): (width: number, height: number) => FrameSource {
  const cache = new Map<string, SyntheticFrames>();
  return (width, height) => {
    const key = `${width}x${height}`;
    let s = cache.get(key);
    if (!s) cache.set(key, (s = new SyntheticFrames({ ...options, width, height })));
    return s;
  };
}

class SimFrame implements CameraFrame {
  readonly buffer: ArrayBuffer;
  readonly capturedMs: number | undefined;
  #release: (() => void) | undefined;
  constructor(buffer: ArrayBuffer, capturedMs: number | undefined, release: () => void) {
    this.buffer = buffer;
    this.capturedMs = capturedMs;
    this.#release = release;
  }
  close(): void {
    const r = this.#release;
    this.#release = undefined;
    if (r) r();
  }
  /** close() returns nothing and never fails: the XS guest posts it (bridge/marshal.ts). */
  [BRIDGE_GRANT](): Grant {
    return CLOSE_ONLY;
  }
}

const CLOSE_ONLY: Grant = Object.freeze({ methods: ['close'], budget: -1, fixed: true });

/** The simulator's view of the camera: counters and fault controls. */
export class SimCameraControl {
  /** Frames the sensor captured (delivered or discarded). */
  captured = 0;
  /** Frames discarded because every driver buffer was lent or waiting. */
  overruns = 0;
  /** Frames the sensor skipped on request (a sensor hiccup). */
  hiccups = 0;
  /** Buffers lent to the firmware and not yet closed. */
  lent = 0;
  /** Frames waiting in the driver. */
  ready = 0;
  /** Cameras opened, and closed. */
  opened = 0;
  /** The JPEG quality the last camera opened was asked for (the driver's scale, 4..63; undefined: none asked). */
  quality: number | undefined;
  closed = 0;
  /** Frames the firmware closed. */
  returned = 0;
  /** Monotonic ms of every capture (delivered, overrun or skipped), with logCaptures. */
  readonly captureTimes: number[] = [];
  #skip = 0;
  /** The sensor delivers nothing for its next `n` frame times. */
  skip(n: number): void {
    this.#skip += n;
  }
  /** @internal */
  takeSkip(): boolean {
    if (this.#skip <= 0) return false;
    this.#skip--;
    return true;
  }
}

/** Attach a simulated camera to `hw` (sets hw.devices.Camera). */
export function attachCamera(hw: SimHardware, options: SimCameraOptions = {}): SimCameraControl {
  const control = new SimCameraControl();
  const makeSource = options.source ?? synthetic();
  const buffers = options.buffers ?? 3;
  const jitter = options.jitterMs ?? 0;
  const stamp = options.stampCapture ?? true;
  const imageType: ImageType = options.imageType ?? 'jpeg';

  class SimCamera implements Camera {
    readonly width: number;
    readonly height: number;
    readonly imageType: ImageType;
    readonly #source: FrameSource | undefined;
    readonly #rate: number;
    readonly #onReadable: ((count: number) => void) | undefined;
    #ready: SimFrame[] = [];
    #timer: number | undefined;
    #t0 = 0;
    #k = 0;
    #lcg = 12345;
    #closed = false;

    constructor(o: CameraOptions) {
      if (o.format !== 'buffer/disposable') throw new BodycamError('E_ARGUMENT', 'the simulated camera lends disposable buffers only');
      if (imageType === 'jpeg') {
        if (o.imageType !== 'jpeg') throw new BodycamError('E_CAMERA_IMAGE_TYPE', `the simulated sensor gives JPEG, not ${o.imageType}`);
        this.#source = makeSource(o.width, o.height);
        this.width = this.#source.width;
        this.height = this.#source.height;
      } else {
        // A raw-only sensor: the driver falls back to its raw format whatever was asked.
        this.width = o.width;
        this.height = o.height;
      }
      this.imageType = imageType;
      this.#rate = options.sensorRate ?? o.frameRate ?? 15;
      this.#onReadable = o.onReadable;
      control.quality = o.quality;
      control.opened++;
    }

    start(): void {
      if (this.#closed || this.#timer !== undefined) return;
      this.#t0 = hw.clock.monotonic();
      this.#k = 0;
      this.#schedule();
    }

    #schedule(): void {
      this.#k++;
      let at = this.#t0 + Math.round((this.#k * 1000) / this.#rate);
      if (jitter > 0) {
        this.#lcg = (Math.imul(this.#lcg, 1103515245) + 12345) >>> 0;
        at += (this.#lcg >>> 16) % (jitter + 1);
      }
      this.#timer = hw.timer.set(() => this.#capture(), Math.max(0, at - hw.clock.monotonic()));
    }

    #capture(): void {
      this.#timer = undefined;
      const index = control.captured++;
      if (options.logCaptures) control.captureTimes.push(hw.clock.monotonic());
      this.#schedule();
      if (control.takeSkip()) {
        control.hiccups++;
        return;
      }
      if (this.#ready.length + control.lent >= buffers) {
        control.overruns++;
        return;
      }
      const buffer = this.#source ? this.#source.frame(index, hw.clock.utc()) : new ArrayBuffer(this.width * this.height * 2);
      this.#ready.push(new SimFrame(buffer, stamp ? hw.clock.monotonic() : undefined, () => {
        control.lent--;
        control.returned++;
      }));
      control.ready = this.#ready.length;
      this.#onReadable?.(this.#ready.length);
    }

    /** read() with no frame ready returns undefined and changes nothing: the XS guest answers it itself (bridge/marshal.ts). */
    [BRIDGE_GRANT](): Grant {
      return { methods: [], budget: this.#ready.length, empty: 'read' };
    }

    read(): CameraFrame | undefined {
      const f = this.#ready.shift();
      control.ready = this.#ready.length;
      if (f) control.lent++;
      return f;
    }

    stop(): void {
      if (this.#timer !== undefined) hw.timer.clear(this.#timer);
      this.#timer = undefined;
      this.#ready = [];
      control.ready = 0;
    }

    close(): void {
      if (this.#closed) return;
      this.stop();
      this.#closed = true;
      control.closed++;
    }
  }

  hw.devices.Camera = SimCamera;
  return control;
}
