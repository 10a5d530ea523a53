// Typings for Moddable's `embedded:io/image/in/camera` (modules/io/imagein/camera in the
// Moddable SDK), which the SDK's typings/ lack. Written from the module's JS
// surface on ESP32: one options object, onReadable, start/read/stop/close; with format
// "buffer/disposable" read() lends a host buffer that must be closed to give it back to the
// driver (3 frame buffers in PSRAM; when all are lent the driver discards new frames).
// Firmware never imports this module directly: the device platform passes the class to
// firmware/sensor/moddable-camera.ts, which is how it stays testable on Node.

declare module 'embedded:io/image/in/camera' {
  /** A frame lent by the driver: a host buffer (usable wherever an ArrayBuffer is read natively). */
  export interface DisposableHostBuffer {
    readonly byteLength: number;
    /** The camera that lent it. */
    readonly camera: Camera;
    /** Give the buffer back to the driver. The bytes are gone after this. */
    close(): void;
  }

  export interface CameraOptions {
    width?: number;
    height?: number;
    /** "jpeg", or a Commodetto bitmap format number for raw frames. */
    imageType?: 'jpeg' | number;
    format?: 'buffer' | 'buffer/disposable';
    /** Called (with 0, not a count) when a frame is ready; read until read() returns undefined. */
    onReadable?: (this: Camera, count: number) => void;
    target?: unknown;
  }

  export default class Camera {
    constructor(options: CameraOptions);
    close(): void;
    /** With format "buffer/disposable": the earliest ready frame, or undefined. */
    read(): DisposableHostBuffer | ArrayBuffer | undefined;
    start(): void;
    stop(): void;
    format: 'buffer' | 'buffer/disposable';
    /** "jpeg" or the Commodetto bitmap format of raw frames. */
    readonly imageType: 'jpeg' | number;
    readonly width: number;
    readonly height: number;
  }
}
