// Firmware entries for the recorder area: the camera's identity and provisioning (as the
// armoury does it), boot (firmware/main.ts start(), exactly what a device runs), status and a
// clean power-off. Everything else reaches the firmware as hardware callbacks — camera frames,
// the button, the battery timer, the dock link — delivered by the engine's pump.
// Pure ECMAScript: bundled into the XS guest.

import type { CborValue } from '../../firmware/codec/cbor.js';
import { BodycamError } from '../../firmware/errors.js';
import { start, type Started, type StartOptions } from '../../firmware/main.js';
import { KEY_CONFIG, KEY_REVOCATIONS } from '../../firmware/provision/camera.js';
import { DeviceIdentity } from '../../firmware/signing/identity.js';
import type { RecorderConfig } from '../../firmware/recorder/config.js';
import type { CameraMode } from '../../firmware/provision/config.js';
import type { RetryPolicy } from '../../firmware/provision/boot.js';
import type { Entry, GuestEnv } from './env.js';

export const RECORDER_STORE_PATH = 'bodycam-store';
export const RECORDER_KEYS_PATH = 'bodycam-keys';

function opts(v: CborValue): Map<CborValue, CborValue> {
  return v instanceof Map ? v : new Map();
}

function plain(v: CborValue | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (v instanceof Map) for (const [k, x] of v) out[String(k)] = x instanceof Map ? plain(x) : x;
  return out;
}

function identity(env: GuestEnv): DeviceIdentity {
  const keys = new env.platform.KeyStore({ path: RECORDER_KEYS_PATH });
  return new DeviceIdentity({ keyStore: keys, random: env.platform.random, digest: env.platform.digest });
}

function started(env: GuestEnv): Started {
  const s = env.state.recorder as Started | undefined;
  if (!s) throw new BodycamError('E_NOT_STARTED', 'the firmware is not running; call recorder.boot first');
  return s;
}

function address(v: CborValue | undefined): { address?: string; port: number } | undefined {
  if (!(v instanceof Map)) return undefined;
  const o = plain(v);
  return { address: typeof o.address === 'string' ? o.address : '127.0.0.1', port: Number(o.port) };
}

/**
 * Power on as a device does: firmware/main.ts start() with CBOR options {camera: {width, height,
 * frameRate, modes?}, sensor, dock: {address, port}, provision: {address, port}, retry, settings}.
 * Returns the status: the recorder's, or {state: "awaiting-provisioning", ...}.
 */
export function powerOn(env: GuestEnv, options: CborValue, defaults: { frameRate: number; firmware?: string }): CborValue {
  if (env.state.recorder) throw new BodycamError('E_STARTED', 'the firmware is already running (a reboot is a new engine)');
  const o = opts(options);
  const camera = plain(o.get('camera'));
  const startOptions: StartOptions = {
    board: 'sim',
    camera: {
      width: Number(camera.width ?? 320), height: Number(camera.height ?? 240), frameRate: Number(camera.frameRate ?? defaults.frameRate),
      modes: Array.isArray(camera.modes) ? (camera.modes as CborValue[]).map((m) => (m as number[]).map(Number) as unknown as CameraMode) : undefined,
    },
    storagePath: RECORDER_STORE_PATH,
    keyStorePath: RECORDER_KEYS_PATH,
    sensor: typeof o.get('sensor') === 'string' ? (o.get('sensor') as string) : 'SYNTHETIC',
    firmware: defaults.firmware,
    dock: address(o.get('dock')),
    provision: address(o.get('provision')),
    provisionRetry: plain(o.get('retry')) as Partial<RetryPolicy>,
    settings: plain(o.get('settings')) as Partial<RecorderConfig>,
    ed25519: env.cameraEd25519,
  };
  const s = start(env.platform, startOptions);
  env.state.recorder = s;
  return s.status() as unknown as CborValue;
}

export const recorderEntries: Record<string, Entry> = Object.freeze({
  /** The camera's public key (the key pair is made on first use from the Random port). */
  'recorder.identity': (env) => identity(env).publicKey,

  /** Armoury: install the agency root, this camera's certificate and (optionally) a signed config. */
  'recorder.provision': (env, root, certificate, config, revocations) => {
    const id = identity(env);
    id.provision(root as Uint8Array, certificate as Uint8Array);
    const keys = new env.platform.KeyStore({ path: RECORDER_KEYS_PATH });
    if (config instanceof Uint8Array) keys.set(KEY_CONFIG, config);
    if (revocations instanceof Uint8Array) keys.set(KEY_REVOCATIONS, revocations);
    return id.deviceId() ?? null;
  },

  /** The signed revocation list the camera holds (provisioning's, or a newer one a dock brought). */
  'recorder.revocations': (env) => {
    const v = new env.platform.KeyStore({ path: RECORDER_KEYS_PATH }).get(KEY_REVOCATIONS);
    return v ? new Uint8Array(v) : null;
  },

  /** Power on: firmware/main.ts start() with {camera, sensor, dock: {address, port}, settings}. */
  'recorder.boot': (env, options) => powerOn(env, options, { frameRate: 15 }),

  'recorder.status': (env) => started(env).status() as unknown as CborValue,

  /** The power switch: seal, log, shut down cleanly. */
  'recorder.off': (env) => {
    const s = started(env);
    s.close();
    return s.status() as unknown as CborValue;
  },
});
