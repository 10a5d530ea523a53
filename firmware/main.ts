// The firmware's start: given a Platform (device adapters on a camera, simulated hardware on a
// host), bring the camera up as a recorder (firmware/recorder/): mount the evidence store, sign
// what a power cut left open, and enter standby with the pre-event buffer running — or resume
// the recording a power cut interrupted. Everything after that is driven by the hardware's
// callbacks (camera frames, the button, the battery timer, the dock link).
// The Moddable entry that builds the device Platform is firmware/device/main.ts.

import type { Platform } from './platform/platform.js';
import { Recorder, type RecorderStatus } from './recorder/recorder.js';
import type { RecorderConfig } from './recorder/config.js';

export const FIRMWARE_VERSION = 'bodycam 0.1.0';

export interface StartOptions {
  board: string;
  camera: { width: number; height: number; frameRate: number };
  storagePath: string;
  keyStorePath: string;
  /** The board's sensor (e.g. "OV2640"). */
  sensor?: string;
  /** Where the dock station listens; without it a docked camera only charges. */
  dock?: { address?: string; port: number };
  /** Recorder settings under the signed configuration (segment length, timings). */
  settings?: Partial<RecorderConfig>;
  firmware?: string;
}

export interface Started {
  /** Frames stored since start (pre-event buffer and evidence). */
  frames(): number;
  recorder: Recorder;
  status(): RecorderStatus;
  close(): void;
}

export function start(platform: Platform, options: StartOptions): Started {
  const recorder = new Recorder({
    platform,
    storagePath: options.storagePath,
    keyStorePath: options.keyStorePath,
    firmware: options.firmware ?? FIRMWARE_VERSION,
    sensor: options.sensor,
    dock: options.dock,
    settings: { width: options.camera.width, height: options.camera.height, frameRate: options.camera.frameRate, ...options.settings },
  });
  return {
    frames: () => recorder.status().captured,
    recorder,
    status: () => recorder.status(),
    close: () => recorder.close(),
  };
}
