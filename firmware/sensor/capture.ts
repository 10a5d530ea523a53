// FrameCapture: the record path from the camera to storage.
//
// camera onReadable → read() every ready frame → the pacer takes or skips it → a 48-byte frame
// header (frame number, monotonic and UTC time — of the capture when the driver stamps the frame,
// else of the read —, drops before it, JPEG length) → the sink
// (storage) gets header + JPEG as one record → the camera's disposable buffer is closed, always,
// also when storing throws (or the driver runs out of buffers and stalls).
//
// Every lost frame is counted: slots the sensor missed (the pacer) and frames the sink refused
// (storage full, busy, failing) are charged to the next stored frame's header. Nothing here
// touches the JPEG bytes beyond the two-byte SOI check, so the cost of a frame does not depend on
// its size; the header is encoded into one reused buffer.

import { BodycamError, isBodycamError } from '../errors.js';
import type { Camera, CameraConstructor, CameraFrame } from '../platform/camera.js';
import type { Clock } from '../platform/clock.js';
import { FrameFlags, FrameHeaderEncoder, type FrameHeader, type FrameSink } from '../encoder/frame-record.js';
import { FramePacer } from './pacer.js';
import { requireJpegSensor, type SensorInfo } from './sensors.js';

export interface FrameCaptureOptions {
  /** The Camera port (Platform.Camera). */
  Camera: CameraConstructor;
  clock: Clock;
  width: number;
  height: number;
  /** Target frames per second (1..60); the sensor is asked for the same. */
  frameRate: number;
  /** JPEG quality the sensor is asked for (the ESP32 camera driver's scale, 4..63); the driver's own when absent. */
  quality?: number;
  /** The board's sensor: a raw-only one is refused before the camera is opened. */
  sensor?: string | SensorInfo;
  /** Where frame records go; switch later with route(). */
  sink: FrameSink;
  /** Frames are pre-event (ring) frames until route() says otherwise. */
  preEvent?: boolean;
  /** A frame was lost (storage failed, not a JPEG) or the camera reported an error. */
  onError?: (error: BodycamError) => void;
  /** A frame was stored; `header` is reused for the next frame (copy what you keep). */
  onStored?: (header: Readonly<FrameHeader>) => void;
}

export interface CaptureStats {
  /** Frames handed to the sink successfully. */
  stored: number;
  /** Frames lost in all (missed + lost), including losses not yet charged to a stored frame. */
  dropped: number;
  /** Slots the sensor delivered no frame in. */
  missed: number;
  /** Frames delivered that could not be stored. */
  lost: number;
  /** Surplus frames skipped by pacing (not a loss). */
  skipped: number;
  /** The number the next stored frame will get. */
  nextFrameNumber: number;
}

function lostError(e: unknown): BodycamError {
  if (isBodycamError(e)) return e as BodycamError;
  return new BodycamError('E_CAPTURE_SINK', `storing a frame failed: ${e instanceof Error ? e.message : String(e)}`);
}

export class FrameCapture {
  readonly #camera: Camera;
  readonly #clock: Clock;
  readonly #pacer: FramePacer;
  readonly #encoder = new FrameHeaderEncoder();
  readonly #onError: ((error: BodycamError) => void) | undefined;
  readonly #onStored: ((header: Readonly<FrameHeader>) => void) | undefined;
  readonly #header: FrameHeader;
  readonly #quality: number | undefined;
  #sink: FrameSink;
  #preEvent: boolean;
  #running = false;
  #first = true;
  #lastMonotonic = 0;
  #pendingDrops = 0;
  #pendingFlags = 0;
  #droppedTotal = 0;
  #stored = 0;
  #closed = false;

  constructor(options: FrameCaptureOptions) {
    requireJpegSensor(options.sensor);
    this.#pacer = new FramePacer({ frameRate: options.frameRate });
    this.#clock = options.clock;
    this.#sink = options.sink;
    this.#preEvent = options.preEvent ?? false;
    this.#onError = options.onError;
    this.#onStored = options.onStored;
    let camera: Camera;
    try {
      camera = new options.Camera({
        width: options.width,
        height: options.height,
        imageType: 'jpeg',
        format: 'buffer/disposable',
        frameRate: options.frameRate,
        quality: options.quality,
        onReadable: () => this.#drain(),
        onError: (message: string) => this.#report(new BodycamError('E_CAMERA', message)),
      });
    } catch (e) {
      if (isBodycamError(e)) throw e;
      throw new BodycamError('E_CAMERA_INIT', `the camera did not start (${e instanceof Error ? e.message : String(e)}); check the board's camera pins and sensor`);
    }
    if (camera.imageType !== 'jpeg') {
      camera.close();
      throw new BodycamError('E_CAMERA_RAW_ONLY', `the camera gives ${String(camera.imageType)} frames, not JPEG; bodycam records JPEG from the sensor — use a board with a JPEG sensor (OV2640, OV3660, OV5640)`);
    }
    if (camera.width !== options.width || camera.height !== options.height) {
      camera.close();
      throw new BodycamError('E_CAMERA_SIZE', `asked the camera for ${options.width}x${options.height}, it gives ${camera.width}x${camera.height}; pick a size from the board's supported set`);
    }
    this.#camera = camera;
    this.#quality = options.quality;
    this.#header = {
      flags: 0, width: camera.width, height: camera.height, frameRate: options.frameRate, clockSource: 'none',
      frameNumber: 0, monotonicMs: 0, utcMs: 0, droppedBefore: 0, gapMs: 0, droppedTotal: 0, jpegLength: 0,
    };
  }

  get width(): number {
    return this.#header.width;
  }
  get height(): number {
    return this.#header.height;
  }
  get frameRate(): number {
    return this.#header.frameRate;
  }
  /** The JPEG quality the camera was opened with (undefined: the driver's own). */
  get quality(): number | undefined {
    return this.#quality;
  }
  get running(): boolean {
    return this.#running;
  }

  /** Start capturing. A new pacing grid starts, and the next frame is flagged FIRST (a pause is not a loss). */
  start(): void {
    this.#checkOpen();
    if (this.#running) return;
    this.#pacer.restart();
    this.#first = true;
    this.#running = true;
    this.#camera.start();
  }

  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#camera.stop();
  }

  /** Send the following frames to `sink`, flagged pre-event or not (pre-event ring → evidence). */
  route(sink: FrameSink, options: { preEvent?: boolean } = {}): void {
    this.#sink = sink;
    this.#preEvent = options.preEvent ?? false;
  }

  /** Count frames lost outside the camera path (e.g. the recorder threw away queued frames). */
  charge(count: number): void {
    if (!Number.isSafeInteger(count) || count < 0) throw new BodycamError('E_ARGUMENT', `a dropped-frame count must be a whole number, got ${count}`);
    this.#pendingDrops += count;
    if (count > 0) this.#pendingFlags |= FrameFlags.STORAGE_DROP;
  }

  get stats(): CaptureStats {
    const p = this.#pacer.stats;
    return { stored: this.#stored, dropped: this.#droppedTotal + this.#pendingDrops, missed: p.missed, lost: p.lost, skipped: p.skipped, nextFrameNumber: this.#header.frameNumber };
  }

  close(): void {
    if (this.#closed) return;
    this.stop();
    this.#closed = true;
    this.#camera.close();
  }

  #checkOpen(): void {
    if (this.#closed) throw new BodycamError('E_CAPTURE_CLOSED', 'the capture is closed');
  }

  #report(e: BodycamError): void {
    if (this.#onError) this.#onError(e);
  }

  /** onReadable: read every ready frame (Moddable passes no count; read until none is left). */
  #drain(): void {
    if (!this.#running) return;
    for (let frame = this.#camera.read(); frame; frame = this.#running ? this.#camera.read() : undefined) {
      try {
        this.#take(frame);
      } finally {
        frame.close();
      }
    }
  }

  #take(frame: CameraFrame): void {
    // Whole milliseconds, as a device's ticks are (a simulator may run on fractional time). The
    // frame's time is when the sensor took it if the driver says (a frame read late, after the
    // firmware was busy, keeps its own time and slot), else when it is read.
    const read = Math.floor(this.#clock.monotonic());
    const stamp = frame.capturedMs;
    const now = typeof stamp === 'number' && stamp >= 0 && stamp <= read ? Math.floor(stamp) : read;
    const decision = this.#pacer.offer(now);
    if (!decision.take) return;
    if (decision.missed > 0) {
      this.#pendingDrops += decision.missed;
      this.#pendingFlags |= FrameFlags.SENSOR_DROP;
    }
    const body = frame.buffer;
    if (body.byteLength < 4 || !isJpegStart(body)) {
      this.#lose(new BodycamError('E_CAMERA_NOT_JPEG', `the camera delivered a frame that is not a JPEG (${body.byteLength} bytes); frame dropped`));
      return;
    }
    const h = this.#header;
    const dropped = this.#pendingDrops;
    h.flags = FrameFlags.KEYFRAME | this.#pendingFlags | (this.#preEvent ? FrameFlags.PRE_EVENT : 0) | (this.#first ? FrameFlags.FIRST : 0) | (dropped > 0 ? FrameFlags.AFTER_GAP : 0);
    h.clockSource = this.#clock.source().source;
    h.monotonicMs = now;
    h.utcMs = Math.max(0, Math.floor(this.#clock.utc()) - (read - now));
    h.droppedBefore = dropped;
    h.gapMs = this.#first && this.#stored === 0 ? 0 : now - this.#lastMonotonic;
    h.droppedTotal = this.#droppedTotal + dropped;
    h.jpegLength = body.byteLength;
    try {
      this.#sink.append(this.#encoder.encode(h), body);
    } catch (e) {
      this.#lose(lostError(e));
      return;
    }
    this.#droppedTotal += dropped;
    this.#pendingDrops = 0;
    this.#pendingFlags = 0;
    this.#first = false;
    this.#lastMonotonic = now;
    this.#stored++;
    if (this.#onStored) this.#onStored(h);
    h.frameNumber++;
  }

  #lose(e: BodycamError): void {
    this.#pacer.lost();
    this.#pendingDrops++;
    this.#pendingFlags |= FrameFlags.STORAGE_DROP;
    this.#report(e);
  }
}

function isJpegStart(body: ArrayBuffer): boolean {
  const b = new Uint8Array(body, 0, 2);
  return b[0] === 0xff && b[1] === 0xd8;
}
