// The firmware's start: given a Platform (device adapters on a camera, simulated hardware on a
// host), bring the camera up. Placeholder until the recorder (firmware/recorder/) owns this
// file: it proves the board end to end — the LED lights once the camera delivers its first
// frame, and frames are given straight back to the driver (nothing is recorded yet).
// The Moddable entry that builds the device Platform is firmware/device/main.ts.

import type { Platform } from './platform/platform.js';

export interface StartOptions {
  board: string;
  camera: { width: number; height: number; frameRate: number };
  storagePath: string;
  keyStorePath: string;
}

export interface Started {
  /** Frames the camera has delivered since start. */
  frames(): number;
  close(): void;
}

export function start(platform: Platform, options: StartOptions): Started {
  const led = new platform.Led({ pin: 'status' });
  let frames = 0;
  const camera = new platform.Camera({
    width: options.camera.width,
    height: options.camera.height,
    imageType: 'jpeg',
    format: 'buffer/disposable',
    frameRate: options.camera.frameRate,
    onReadable: () => {
      for (let f = camera.read(); f; f = camera.read()) {
        f.close();
        if (frames++ === 0) led.write(1);
      }
    },
  });
  camera.start();
  return {
    frames: () => frames,
    close() {
      camera.stop();
      camera.close();
      led.write(0);
      led.close();
    },
  };
}
