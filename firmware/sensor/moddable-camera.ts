// The Camera port on a device: a thin adapter over Moddable's `embedded:io/image/in/camera`
// (typed in firmware/device-types/). The Moddable class is handed in, never imported, so this
// file compiles with no device typings in scope and is tested on Node with a fake.
//
// What it adds to the driver: refuses raw-only sensors (E_CAMERA_RAW_ONLY) and sizes the driver
// would silently round (E_CAMERA_SIZE) before opening; wraps each disposable host buffer as a
// CameraFrame whose close() gives it back exactly once; turns a driver failure into
// E_CAMERA_INIT with a message a person can act on; asks the open sensor for the configured JPEG
// quality through a native call (Moddable's module takes it only at build time).

import { BodycamError } from '../errors.js';
import { JPEG_QUALITY, type Camera, type CameraConstructor, type CameraFrame, type CameraOptions, type ImageType } from '../platform/camera.js';
import { requireFrameSize, requireJpegSensor, type SensorInfo } from './sensors.js';

/** The disposable host buffer read() lends (or an ArrayBuffer with format "buffer"). */
export interface ModdableFrame {
  readonly byteLength: number;
  close(): void;
}

/** The surface of Moddable's Camera class that bodycam uses. */
export interface ModdableCameraInstance {
  read(): ModdableFrame | ArrayBuffer | undefined;
  start(): void;
  stop(): void;
  close(): void;
  readonly imageType: 'jpeg' | number;
  readonly width: number;
  readonly height: number;
}

export type ModdableCameraClass = new (options: {
  width: number;
  height: number;
  imageType: 'jpeg';
  format: 'buffer/disposable';
  onReadable: (count: number) => void;
}) => ModdableCameraInstance;

export interface ModdableCameraPortOptions {
  /** The default export of `embedded:io/image/in/camera`. */
  Camera: ModdableCameraClass;
  /** The board's sensor (boards/*): raw-only sensors are refused before the driver starts. */
  sensor?: string | SensorInfo;
  /**
   * Ask the open sensor for a JPEG quality (bodycam/native cameraQuality: the ESP32 camera
   * driver's set_quality, 4 best .. 63 smallest). Moddable's module takes quality only at build
   * time (MODDEF_CAMERA_JPEG_QUALITY); without this, CameraOptions.quality is refused.
   */
  setQuality?: (quality: number) => void;
}

class LentFrame implements CameraFrame {
  #frame: ModdableFrame | undefined;
  readonly buffer: ArrayBuffer;
  constructor(frame: ModdableFrame) {
    this.#frame = frame;
    // A host buffer stands in for an ArrayBuffer: typed arrays, crc and digest read it natively.
    this.buffer = frame as unknown as ArrayBuffer;
  }
  close(): void {
    const f = this.#frame;
    this.#frame = undefined;
    if (f) f.close();
  }
}

const copied: CameraFrame['close'] = () => {};

/** A Camera port constructor over the given Moddable Camera class. */
export function moddableCameraPort(port: ModdableCameraPortOptions): CameraConstructor {
  const Device = port.Camera;
  const sensor = port.sensor;
  return class ModdableCamera implements Camera {
    readonly #device: ModdableCameraInstance;
    constructor(options: CameraOptions) {
      requireJpegSensor(sensor);
      if (options.imageType !== 'jpeg') throw new BodycamError('E_CAMERA_RAW_ONLY', `bodycam records JPEG from the sensor; image type ${String(options.imageType)} is not supported`);
      if (options.format !== 'buffer/disposable') throw new BodycamError('E_ARGUMENT', 'the camera port lends disposable buffers (format "buffer/disposable")');
      requireFrameSize(options.width, options.height);
      const onReadable = options.onReadable;
      let device: ModdableCameraInstance;
      try {
        device = new Device({
          width: options.width,
          height: options.height,
          imageType: 'jpeg',
          format: 'buffer/disposable',
          // Moddable passes 0, not a count: the reader reads until read() returns undefined.
          onReadable: () => {
            if (onReadable) onReadable(1);
          },
        });
      } catch (e) {
        const name = typeof sensor === 'string' ? sensor : sensor?.name ?? 'camera';
        throw new BodycamError('E_CAMERA_INIT', `the ${name} did not start (${e instanceof Error ? e.message : String(e)}); check the board's camera pins, power and ribbon cable`);
      }
      if (device.imageType !== 'jpeg') {
        device.close();
        throw new BodycamError('E_CAMERA_RAW_ONLY', `the camera driver gives raw frames (format ${String(device.imageType)}), not JPEG; use a board with a JPEG sensor (OV2640, OV3660, OV5640)`);
      }
      const quality = options.quality;
      if (quality !== undefined) {
        try {
          const [best, smallest] = JPEG_QUALITY;
          if (!Number.isSafeInteger(quality) || quality < best || quality > smallest) throw new Error(`quality ${String(quality)} is not ${best}..${smallest}`);
          if (!port.setQuality) throw new Error('this build has no way to set it');
          port.setQuality(quality);
        } catch (e) {
          device.close();
          throw new BodycamError('E_CAMERA_QUALITY', `the camera did not take JPEG quality ${String(quality)} (${e instanceof Error ? e.message : String(e)})`);
        }
      }
      this.#device = device;
    }
    get width(): number {
      return this.#device.width;
    }
    get height(): number {
      return this.#device.height;
    }
    get imageType(): ImageType {
      return 'jpeg';
    }
    start(): void {
      this.#device.start();
    }
    stop(): void {
      this.#device.stop();
    }
    read(): CameraFrame | undefined {
      const f = this.#device.read();
      if (f === undefined) return undefined;
      // A disposable host buffer has close(); a plain ArrayBuffer (format "buffer") is a copy.
      if (typeof (f as Partial<ModdableFrame>).close === 'function') return new LentFrame(f as ModdableFrame);
      return { buffer: f as ArrayBuffer, close: copied };
    }
    close(): void {
      this.#device.close();
    }
  };
}
