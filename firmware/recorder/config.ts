// What the recorder needs to know to record: the signed camera configuration's recording
// settings (firmware/provision/config.ts — segment length, pre-event seconds, picture size,
// frame rate, JPEG quality, sound and pre-event sound) plus the recorder's own timings (the stop gesture, battery thresholds, docking).
// Safe defaults everywhere: a camera with no configuration still records.
// evidenceKeys (KEYS, issue 22): the agency's evidence public keys from the signed configuration
// (firmware/provision/evidence-keys.ts), current first; [] when the camera holds none.

import { BodycamError } from '../errors.js';
import type { KeyStore } from '../platform/keystore.js';
import { checkSettings, DEFAULT_SETTINGS, verifyConfig, type CameraConfig, type RecordingSettings } from '../provision/config.js';
import { KEY_CONFIG } from '../provision/camera.js';
import type { Ed25519 } from '../signing/ed25519.js';
import type { AudioCodecName } from '../sensor/audio-capture.js';
import type { EvidenceRecipient } from '../provision/evidence-keys.js';

export interface RecorderConfig extends RecordingSettings {
  /** Hold the button this long to stop recording (a deliberate gesture). */
  longPressMs: number;
  /** How often the battery is read. */
  batteryPollMs: number;
  /** Below this the camera seals what it has and powers off, before the brown-out. */
  criticalMillivolts: number;
  /** Below this the officer is warned once (haptic). */
  lowMillivolts: number;
  /** After a dock session fails, wait this long before trying again (while still docked). */
  dockRetryMs: number;
  /**
   * How sound is stored: "pcm" (as the microphone gives it; the default) or "adpcm" (IMA ADPCM,
   * a quarter of the size, coded in JavaScript: see docs/FORMAT.md, "Audio records", for the cost).
   */
  audioCodec: AudioCodecName;
  /**
   * The agency's evidence keys (X25519) each segment is sealed to, current first: from the signed
   * configuration held at boot, replaced when a dock pushes a newer one. [] when none is held.
   */
  evidenceKeys: readonly EvidenceRecipient[];
  /** The version of the signed configuration these settings came from (0: the defaults, none held). */
  configVersion: number;
}

export const DEFAULT_RECORDER_CONFIG: Readonly<RecorderConfig> = Object.freeze({
  ...DEFAULT_SETTINGS,
  longPressMs: 2000,
  batteryPollMs: 10_000,
  criticalMillivolts: 3450,
  lowMillivolts: 3550,
  dockRetryMs: 10_000,
  audioCodec: 'pcm',
  evidenceKeys: Object.freeze([]) as readonly EvidenceRecipient[],
  configVersion: 0,
});

/** The defaults with `overrides`, checked (E_CONFIG_VALUE names the first bad value). */
export function recorderConfig(overrides: Partial<RecorderConfig> = {}): RecorderConfig {
  const c: RecorderConfig = { ...DEFAULT_RECORDER_CONFIG };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) (c as unknown as Record<string, unknown>)[k] = v;
  checkSettings(c);
  for (const k of ['longPressMs', 'batteryPollMs', 'criticalMillivolts', 'lowMillivolts', 'dockRetryMs'] as const) {
    if (!Number.isSafeInteger(c[k]) || c[k] <= 0) throw new BodycamError('E_CONFIG_VALUE', `${k} must be a positive whole number, not ${String(c[k])}`);
  }
  if (c.audioCodec !== 'pcm' && c.audioCodec !== 'adpcm') throw new BodycamError('E_CONFIG_VALUE', `audioCodec must be "pcm" or "adpcm", not ${String(c.audioCodec)}`);
  return c;
}

/** The recording settings of a signed configuration applied over `base`. */
export function fromSignedConfig(base: RecorderConfig, config: CameraConfig): RecorderConfig {
  return recorderConfig({
    ...base, segmentSeconds: config.segmentSeconds, preEventSeconds: config.preEventSeconds, width: config.width, height: config.height, frameRate: config.frameRate,
    quality: config.quality, audio: config.audio, preEventAudio: config.preEventAudio, evidenceKeys: config.evidenceKeys ?? [], configVersion: config.version,
  });
}

/**
 * The configuration held in the key store (written at provisioning or pushed by a dock), if it
 * verifies against the agency root for this device; undefined otherwise (the camera then
 * records with its defaults — a bad configuration never stops a camera from recording).
 */
export function heldConfig(keyStore: KeyStore, rootKey: Uint8Array | undefined, device: string | undefined, ed25519?: Ed25519): CameraConfig | undefined {
  const bytes = keyStore.get(KEY_CONFIG);
  if (!bytes || !rootKey) return undefined;
  try {
    return verifyConfig(new Uint8Array(bytes), rootKey, { device, ed25519 });
  } catch {
    return undefined;
  }
}

/** The evidence keys of the held configuration (heldConfig's rules): [] when none verifies. */
export function heldEvidenceRecipients(keyStore: KeyStore, rootKey: Uint8Array | undefined, device: string | undefined, ed25519?: Ed25519): readonly EvidenceRecipient[] {
  return heldConfig(keyStore, rootKey, device, ed25519)?.evidenceKeys ?? [];
}
