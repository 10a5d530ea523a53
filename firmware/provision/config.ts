// The camera configuration the armoury writes at provisioning and a dock may later push: how
// long a segment is, how many seconds the pre-event buffer keeps, the picture size and the
// frame rate. Signed by the agency root (signed.ts), so the camera and the dock can check it
// came from the agency and was meant for this camera.
//
// Promises: signConfig refuses a value out of bounds (E_CONFIG_VALUE, naming the field, the
// bounds and the value); verifyConfig returns a configuration only if the root signed it, every
// field is within bounds, and it names this device (or every device, "*"). A camera applies a
// pushed configuration only if its version is higher than the one it holds (see
// checkNewerConfig); the version at provisioning is whatever the armoury issued.
//
// The configuration also carries the agency's evidence public keys (evidence-keys.ts, field
// "evidenceKeys"): the camera seals what it records to them. A configuration signed before the
// field existed reads as none; a pushed configuration that would take away the evidence key a
// camera holds is refused (checkNewerConfig, E_CONFIG_EVIDENCE_KEY), so a dock can't turn a
// camera's encryption off by replaying an older style of configuration the root once signed.

import { BodycamError } from '../errors.js';
import type { Ed25519 } from '../signing/ed25519.js';
import type { Signer } from '../signing/signer.js';
import { openStructure, peekStructure, signStructure, text, uint, type Fields } from '../signing/signed.js';
import { deepFreeze } from '../frozen.js';
import { JPEG_QUALITY } from '../platform/camera.js';
import { encodeEvidenceKeys, parseEvidenceKeys, type EvidenceRecipient } from './evidence-keys.js';

export const CONFIG_TYPE = 'bodycam/config/1';
/** A configuration for every camera of the agency rather than one device. */
export const ANY_DEVICE = '*';

export interface RecordingSettings {
  /** Seconds of video per signed segment (each segment costs one signature on the camera). */
  segmentSeconds: number;
  /** Seconds the pre-event buffer keeps before the record button is pressed. */
  preEventSeconds: number;
  width: number;
  height: number;
  /** Frames per second. */
  frameRate: number;
  /** JPEG quality the sensor is asked for (the ESP32 camera driver's scale: 4 best .. 63 smallest). */
  quality: number;
  /** Record sound (16 kHz mono) with the video. */
  audio: boolean;
  /** Keep sound in the pre-event buffer too (agencies differ: some keep pre-event video silent). */
  preEventAudio: boolean;
}

export interface CameraConfig extends RecordingSettings {
  agency: string;
  /** The device id it is for, or "*" for every camera of the agency. */
  device: string;
  /** Increases with every configuration the agency issues; a camera refuses an older one. */
  version: number;
  /** When it was issued (UTC ms). */
  issued: number;
  /** The agency's evidence keys the camera seals to, current first ([] in a configuration without them). */
  evidenceKeys?: readonly EvidenceRecipient[];
}

/**
 * The armoury's default configuration. Picture size and rate: what the camera's board records
 * best — boards/*.json `camera`, which the camera reports when the armoury identifies it (SVGA at
 * 25 fps for the OV2640 boards, what their sensor gives at SVGA and this firmware sustains with
 * sound, sealing and signing, `npm run bench -- audio`; VGA at 5 fps for the GC0308) — and the
 * values below for a camera that reports none (firmware before it did: the OV2640's SVGA at 25
 * fps). JPEG quality 12 (Moddable's camera module default), a 30-second pre-event buffer (what
 * leading cameras ship with), 30-second segments (one signature every 30 s), sound on, and
 * pre-event video without sound (as Axon ships: an administrator turns pre-event audio on). An
 * agency asks for other values with `--config` (README, "Provisioning a camera").
 */
export const DEFAULT_SETTINGS: Readonly<RecordingSettings> = Object.freeze({ segmentSeconds: 30, preEventSeconds: 30, width: 800, height: 600, frameRate: 25, quality: 12, audio: true, preEventAudio: false });

/** Picture sizes the supported sensors give as JPEG, by the names people use for them. */
export const RESOLUTIONS: Readonly<Record<string, readonly [number, number]>> = deepFreeze({
  QVGA: [320, 240],
  VGA: [640, 480],
  SVGA: [800, 600],
  XGA: [1024, 768],
  HD: [1280, 720],
  SXGA: [1280, 1024],
  UXGA: [1600, 1200],
});

export const BOUNDS = deepFreeze({
  segmentSeconds: [5, 600] as const,
  preEventSeconds: [0, 120] as const,
  frameRate: [1, 30] as const,
  quality: JPEG_QUALITY,
});

const CODE = 'E_CONFIG_FORMAT';
const VCODE = 'E_CONFIG_VALUE';

function inRange(name: keyof typeof BOUNDS, v: number): void {
  const [lo, hi] = BOUNDS[name];
  if (!Number.isSafeInteger(v) || v < lo || v > hi) throw new BodycamError(VCODE, `${name} must be a whole number from ${lo} to ${hi}, not ${String(v)}`);
}

/** Check every recording setting; throws E_CONFIG_VALUE naming the first bad one. */
export function checkSettings(s: RecordingSettings): void {
  inRange('segmentSeconds', s.segmentSeconds);
  inRange('preEventSeconds', s.preEventSeconds);
  inRange('frameRate', s.frameRate);
  inRange('quality', s.quality);
  if (typeof s.audio !== 'boolean') throw new BodycamError(VCODE, `audio must be true or false, not ${String(s.audio)}`);
  if (typeof s.preEventAudio !== 'boolean') throw new BodycamError(VCODE, `preEventAudio must be true or false, not ${String(s.preEventAudio)}`);
  if (!Object.values(RESOLUTIONS).some(([w, h]) => w === s.width && h === s.height)) {
    const known = Object.entries(RESOLUTIONS).map(([n, [w, h]]) => `${n} ${w}x${h}`).join(', ');
    throw new BodycamError(VCODE, `resolution ${String(s.width)}x${String(s.height)} is not one the cameras give; use one of ${known}`);
  }
}

/** A picture size a board's sensor gives and the fastest rate this firmware records it at (boards/*.json `camera.modes`). */
export type CameraMode = readonly [width: number, height: number, frameRate: number];

/**
 * What a camera records when its configuration asks for `asked`, given its board's `modes`: one
 * configuration may be signed for every camera of an agency ("*"), and boards differ. A size no
 * larger than one of the modes is recorded as asked, at the asked rate or, if lower, the fastest
 * rate of the modes that hold it (a sensor gives a smaller window at least as fast); a size larger
 * than every mode is recorded at the board's largest mode instead, at the lower of the two rates.
 * No modes (a board file without them): asked is recorded as it is.
 */
export function fitMode(asked: { width: number; height: number; frameRate: number }, modes: readonly CameraMode[] | undefined): { width: number; height: number; frameRate: number } {
  if (!modes || modes.length === 0) return { width: asked.width, height: asked.height, frameRate: asked.frameRate };
  const holding = modes.filter(([w, h]) => w >= asked.width && h >= asked.height);
  if (holding.length) return { width: asked.width, height: asked.height, frameRate: Math.min(asked.frameRate, Math.max(...holding.map((m) => m[2]))) };
  const largest = modes.reduce((a, m) => (m[0] * m[1] > a[0] * a[1] ? m : a));
  return { width: largest[0], height: largest[1], frameRate: Math.min(asked.frameRate, largest[2]) };
}

/** "SVGA" or "800x600" → [800, 600]. */
export function parseResolution(v: string): [number, number] {
  const named = RESOLUTIONS[v.toUpperCase()];
  if (named) return [named[0], named[1]];
  const m = /^(\d{1,5})x(\d{1,5})$/i.exec(v);
  if (!m) throw new BodycamError(VCODE, `resolution "${v}" is neither a name (${Object.keys(RESOLUTIONS).join(', ')}) nor WIDTHxHEIGHT`);
  return [Number(m[1]), Number(m[2])];
}

export function signConfig(config: CameraConfig, root: Signer): Uint8Array {
  checkSettings(config);
  if (config.device.length === 0) throw new BodycamError(VCODE, 'device must be a device id or "*"');
  if (!Number.isSafeInteger(config.version) || config.version < 1) throw new BodycamError(VCODE, `version must be a whole number from 1, not ${String(config.version)}`);
  return signStructure(CONFIG_TYPE, {
    agency: config.agency,
    device: config.device,
    version: config.version,
    issued: config.issued,
    segmentSeconds: config.segmentSeconds,
    preEventSeconds: config.preEventSeconds,
    width: config.width,
    height: config.height,
    frameRate: config.frameRate,
    quality: config.quality,
    audio: config.audio,
    preEventAudio: config.preEventAudio,
    // Left out when there is none, so a configuration without keys signs as before.
    ...(config.evidenceKeys?.length ? { evidenceKeys: encodeEvidenceKeys(config.evidenceKeys) } : {}),
  }, root);
}

function flag(f: Fields, key: string, absent: boolean): boolean {
  const v = f.get(key);
  if (v === undefined) return absent;
  if (typeof v !== 'boolean') throw new BodycamError(CODE, `configuration: field "${key}" is not true or false`);
  return v;
}

function configFields(f: Fields): CameraConfig {
  const t = 'configuration';
  const c: CameraConfig = {
    agency: text(f, 'agency', CODE, t),
    device: text(f, 'device', CODE, t),
    version: uint(f, 'version', CODE, t),
    issued: uint(f, 'issued', CODE, t),
    segmentSeconds: uint(f, 'segmentSeconds', CODE, t),
    preEventSeconds: uint(f, 'preEventSeconds', CODE, t),
    width: uint(f, 'width', CODE, t),
    height: uint(f, 'height', CODE, t),
    frameRate: uint(f, 'frameRate', CODE, t),
    // Absent in a configuration signed before they existed: the defaults.
    quality: f.has('quality') ? uint(f, 'quality', CODE, t) : DEFAULT_SETTINGS.quality,
    audio: flag(f, 'audio', DEFAULT_SETTINGS.audio),
    preEventAudio: flag(f, 'preEventAudio', DEFAULT_SETTINGS.preEventAudio),
  };
  // Only where the field is: a configuration without keys reads back as it was signed.
  if (f.has('evidenceKeys')) c.evidenceKeys = parseEvidenceKeys(f.get('evidenceKeys'));
  checkSettings(c);
  return c;
}

/** Read a configuration without checking its signature (to show it). */
export function peekConfig(bytes: Uint8Array): CameraConfig {
  return configFields(peekStructure(bytes, CONFIG_TYPE, CODE).fields);
}

export interface VerifyConfigOptions {
  ed25519?: Ed25519;
  /** The device that will apply it: the configuration must name it or "*". */
  device?: string;
}

/** Verify a configuration against the agency root public key. */
export function verifyConfig(bytes: Uint8Array, rootPublicKey: Uint8Array, o: VerifyConfigOptions = {}): CameraConfig {
  const c = configFields(openStructure(bytes, CONFIG_TYPE, CODE, rootPublicKey, o.ed25519).fields);
  if (o.device !== undefined && c.device !== ANY_DEVICE && c.device !== o.device) {
    throw new BodycamError('E_CONFIG_DEVICE', `configuration version ${c.version} is for ${c.device}, not ${o.device}`);
  }
  return c;
}

/**
 * A pushed configuration must be newer than the one the camera holds, and must not take away
 * the evidence key the camera holds (it may replace it: a rotation).
 */
export function checkNewerConfig(incoming: CameraConfig, held: CameraConfig | undefined): void {
  if (held && incoming.version <= held.version) {
    throw new BodycamError('E_CONFIG_STALE', `configuration version ${incoming.version} is not newer than the camera's version ${held.version}`);
  }
  if (held?.evidenceKeys?.length && !incoming.evidenceKeys?.length) {
    throw new BodycamError('E_CONFIG_EVIDENCE_KEY', `configuration version ${incoming.version} names no evidence key, and the camera seals its evidence to one: it is refused (issue configurations with \`bodycam provision config\`, which adds the agency's current evidence key)`);
  }
}
