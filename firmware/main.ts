// The firmware's start: given a Platform (device adapters on a camera, simulated hardware on a
// host), bring the camera up as a recorder (firmware/recorder/): mount the evidence store, sign
// what a power cut left open, and enter standby with the pre-event buffer running — or resume
// the recording a power cut interrupted. Everything after that is driven by the hardware's
// callbacks (camera frames, the button, the battery timer, the dock link).
//
// A camera that holds no certificate for its own key (fresh out of the box, or with a
// certificate copied from another camera) runs NO recorder: it blinks AWAITING_PROVISIONING,
// connects to the armoury at `options.provision` and answers the armoury tool
// (firmware/provision/boot.ts). Once the certificate is installed the recorder starts at once,
// in place: it reads the same key store partition a reboot would, and the LED turning to
// standby is the armoury's confirmation that the camera works — no power cycle to forget.
// The Moddable entry that builds the device Platform is firmware/device/main.ts.

import type { Platform } from './platform/platform.js';
import { Recorder, type RecorderStatus } from './recorder/recorder.js';
import type { RecorderConfig } from './recorder/config.js';
import type { CameraMode } from './provision/config.js';
import type { Ed25519 } from './signing/ed25519-interface.js';
import { DeviceIdentity } from './signing/identity.js';
import { heldProvisioning, ProvisioningBoot, type ArmouryAddress, type ProvisioningStatus, type RetryPolicy } from './provision/boot.js';

export type { ProvisioningStatus } from './provision/boot.js';

export const FIRMWARE_VERSION = 'bodycam 0.1.0';

export interface StartOptions {
  board: string;
  /** The board's camera: its default mode and, optionally, every mode it gives (a configuration asking for more gets fitMode's). */
  camera: { width: number; height: number; frameRate: number; modes?: readonly CameraMode[] };
  storagePath: string;
  keyStorePath: string;
  /** The board's sensor (e.g. "OV2640"). */
  sensor?: string;
  /** Where the dock station listens; without it a docked camera only charges. */
  dock?: { address?: string; port: number };
  /** Recorder settings under the signed configuration (segment length, timings). */
  settings?: Partial<RecorderConfig>;
  firmware?: string;
  /** Where the armoury tool listens for an unprovisioned camera (boards/*.json `provision`). */
  provision?: ArmouryAddress;
  /** Reconnection timings while awaiting provisioning (DEFAULT_RETRY in provision/boot.ts). */
  provisionRetry?: Partial<RetryPolicy>;
  /**
   * The camera's Ed25519 for everything it signs and verifies (the recorder, provisioning, docking,
   * firmware updates): NobleEd25519 (signing/ed25519-noble.ts), made by the entry that calls this
   * (firmware/device/main.ts on a camera) so that this module, which everything imports, stays
   * preloaded: noble can't be (toolchain/module-graph.ts NOT_PRELOADED).
   */
  ed25519: Ed25519;
}

export interface Started {
  /** Frames stored since the recorder started (pre-event buffer and evidence); 0 before. */
  frames(): number;
  /** The recorder, once the camera is provisioned (undefined while it awaits provisioning). */
  readonly recorder: Recorder | undefined;
  /** The recorder's status, or the provisioning status ({state: "awaiting-provisioning"}). */
  status(): RecorderStatus | ProvisioningStatus;
  close(): void;
}

export function start(platform: Platform, options: StartOptions): Started {
  const firmware = options.firmware ?? FIRMWARE_VERSION;
  const ed25519 = options.ed25519;
  const keys = new platform.KeyStore({ path: options.keyStorePath });
  let identity: DeviceIdentity;
  let held: ReturnType<typeof heldProvisioning>;
  try {
    identity = new DeviceIdentity({ keyStore: keys, random: platform.random, digest: platform.digest, ed25519 });
    held = heldProvisioning(keys, identity.publicKey);
  } finally {
    keys.close();
  }

  let recorder: Recorder | undefined;
  let boot: ProvisioningBoot | undefined;
  let closed = false;
  const startRecorder = () => {
    recorder = new Recorder({
      platform,
      storagePath: options.storagePath,
      keyStorePath: options.keyStorePath,
      firmware,
      sensor: options.sensor,
      dock: options.dock,
      ed25519,
      settings: { width: options.camera.width, height: options.camera.height, frameRate: options.camera.frameRate, ...options.settings },
      modes: options.camera.modes,
    });
  };
  if (held.ok) startRecorder();
  else {
    boot = new ProvisioningBoot({
      platform,
      keyStorePath: options.keyStorePath,
      firmwareVersion: firmware,
      armoury: options.provision,
      retry: options.provisionRetry,
      ed25519,
      reason: held,
      keyId: identity.keyId,
      recording: { width: options.camera.width, height: options.camera.height, frameRate: options.camera.frameRate },
      onInstalled: () => {
        if (!closed) startRecorder();
      },
    });
  }
  return {
    get recorder() {
      return recorder;
    },
    frames: () => recorder?.status().captured ?? 0,
    status: () => (recorder ? recorder.status() : boot!.status()),
    close: () => {
      closed = true;
      boot?.close();
      recorder?.close();
    },
  };
}
