// Camera port, shaped on Moddable's `embedded:io/image/in/camera` with
// `format: "buffer/disposable"`: the driver owns a few frame buffers (3 in PSRAM on an
// ESP32-S3) and lends one per read(); it must be closed as soon as its bytes are stored, or
// the sensor runs out of buffers and stalls.

/** The JPEG quality scale sensors are asked on (the ESP32 camera driver's): 4 best .. 63 smallest. */
export const JPEG_QUALITY = Object.freeze([4, 63] as const);

export type ImageType = 'jpeg' | 'yuv422' | 'rgb565le' | 'rgb565be' | 'gray8';

export interface CameraOptions {
  width: number;
  height: number;
  imageType: ImageType;
  format: 'buffer/disposable';
  /** Frames per second the sensor is asked for; the pacer enforces the real rate. */
  frameRate?: number;
  /** JPEG quality the sensor is asked for, on the ESP32 camera driver's scale (4 best .. 63 smallest); the driver's own when absent. */
  quality?: number;
  /** A frame is ready: `count` frames can be read now. */
  onReadable?: (count: number) => void;
  onError?: (message: string) => void;
}

/** One frame lent by the driver: its bytes, and close() to give the buffer back. */
export interface CameraFrame {
  readonly buffer: ArrayBuffer;
  /**
   * Monotonic ms (the Clock port's time) at which the sensor captured the frame, when the driver
   * stamps it. Without it the capture stamps the time it reads the frame: a frame that waited in
   * a driver buffer while the firmware was busy then gets a later time than it was taken at.
   */
  readonly capturedMs?: number;
  close(): void;
}

export interface Camera {
  readonly width: number;
  readonly height: number;
  readonly imageType: ImageType;
  start(): void;
  stop(): void;
  /** The oldest ready frame, or undefined when none is ready. */
  read(): CameraFrame | undefined;
  close(): void;
}

export type CameraConstructor = new (options: CameraOptions) => Camera;
