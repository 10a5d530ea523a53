// What the camera sensors on supported boards can give, and which frame sizes the ESP32 camera
// driver offers. bodycam stores JPEG straight from the sensor (no JavaScript ever touches a
// pixel), so a sensor that only gives raw frames (YUV422, RGB565: the GC0308 and friends) is
// refused with E_CAMERA_RAW_ONLY before the camera is opened, instead of recording something
// no player can show.

import { BodycamError } from '../errors.js';

export interface SensorInfo {
  name: string;
  /** The sensor encodes JPEG itself. */
  jpeg: boolean;
}

export const SENSORS: Readonly<Record<string, SensorInfo>> = Object.freeze({
  OV2640: Object.freeze({ name: 'OV2640', jpeg: true }),
  OV3660: Object.freeze({ name: 'OV3660', jpeg: true }),
  OV5640: Object.freeze({ name: 'OV5640', jpeg: true }),
  GC0308: Object.freeze({ name: 'GC0308', jpeg: false }),
  GC032A: Object.freeze({ name: 'GC032A', jpeg: false }),
  GC2145: Object.freeze({ name: 'GC2145', jpeg: false }),
  OV7670: Object.freeze({ name: 'OV7670', jpeg: false }),
  OV7725: Object.freeze({ name: 'OV7725', jpeg: false }),
  BF3005: Object.freeze({ name: 'BF3005', jpeg: false }),
  HM01B0: Object.freeze({ name: 'HM01B0', jpeg: false }),
  /** The host simulator's synthetic sensor. */
  SYNTHETIC: Object.freeze({ name: 'SYNTHETIC', jpeg: true }),
});

/** Frame sizes of the ESP32 camera driver (landscape ones; what a body camera records). */
export const FRAME_SIZES: readonly (readonly [number, number])[] = Object.freeze([
  [96, 96], [128, 128], [160, 120], [176, 144], [240, 176], [240, 240], [320, 240], [320, 320],
  [400, 296], [480, 320], [640, 480], [800, 600], [1024, 768], [1280, 720], [1280, 1024],
  [1600, 1200], [1920, 1080],
].map((s) => Object.freeze(s as [number, number])));

/** Refuse a sensor that can't give JPEG, by name (unknown names pass: the frames are checked too). */
export function requireJpegSensor(sensor: string | SensorInfo | undefined): void {
  if (sensor === undefined) return;
  const info = typeof sensor === 'string' ? SENSORS[sensor.toUpperCase()] : sensor;
  if (info && !info.jpeg) {
    throw new BodycamError('E_CAMERA_RAW_ONLY', `the ${info.name} sensor gives only raw frames (YUV422/RGB565); bodycam records JPEG from the sensor — use a board with a JPEG sensor (OV2640, OV3660, OV5640)`);
  }
}

/** Refuse a frame size the driver doesn't offer (it would silently pick another). */
export function requireFrameSize(width: number, height: number): void {
  if (!FRAME_SIZES.some(([w, h]) => w === width && h === height)) {
    throw new BodycamError('E_CAMERA_SIZE', `${width}x${height} is not a frame size of the camera driver; use one of ${FRAME_SIZES.map(([w, h]) => `${w}x${h}`).join(', ')}`);
  }
}
