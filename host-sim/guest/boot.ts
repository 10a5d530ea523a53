// Firmware entries for a camera's power-on exactly as a device does it: firmware/main.ts start()
// with the board's armoury address, so a camera without a certificate awaits provisioning over
// the Link (firmware/provision/boot.ts) and starts recording once provisioned. Unlike
// recorder.boot, nothing is provisioned by an entry beforehand. Uses the recorder entries' key
// store and flash partitions, so the recorder.* helpers read the same camera.
// Pure ECMAScript: bundled into the XS guest.

import type { CborValue } from '../../firmware/codec/cbor.js';
import { BodycamError } from '../../firmware/errors.js';
import { start, type Started } from '../../firmware/main.js';
import type { RecorderConfig } from '../../firmware/recorder/config.js';
import type { RetryPolicy } from '../../firmware/provision/boot.js';
import { RECORDER_KEYS_PATH, RECORDER_STORE_PATH } from './recorder.js';
import { SIM_FIRMWARE_VERSION } from './provision.js';
import type { Entry, GuestEnv } from './env.js';

function plain(v: CborValue | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (v instanceof Map) for (const [k, x] of v) out[String(k)] = x instanceof Map ? plain(x) : x;
  return out;
}

function address(v: CborValue | undefined): { address?: string; port: number } | undefined {
  if (!(v instanceof Map)) return undefined;
  const o = plain(v);
  return { address: typeof o.address === 'string' ? o.address : '127.0.0.1', port: Number(o.port) };
}

function running(env: GuestEnv): Started {
  const s = env.state.boot as Started | undefined;
  if (!s) throw new BodycamError('E_NOT_STARTED', 'the firmware is not running; call boot.start first');
  return s;
}

export const bootEntries: Record<string, Entry> = {
  /**
   * Power on: start() with {camera, provision: {address, port}, dock, settings, retry}. Returns the
   * status: the recorder's, or {state: "awaiting-provisioning", ...}.
   */
  'boot.start': (env, options) => {
    if (env.state.boot) throw new BodycamError('E_STARTED', 'the firmware is already running (a reboot is a new engine)');
    const o = options instanceof Map ? options : new Map<CborValue, CborValue>();
    const camera = plain(o.get('camera'));
    const s = start(env.platform, {
      board: 'sim',
      camera: { width: Number(camera.width ?? 320), height: Number(camera.height ?? 240), frameRate: Number(camera.frameRate ?? 5) },
      storagePath: RECORDER_STORE_PATH,
      keyStorePath: RECORDER_KEYS_PATH,
      sensor: 'SYNTHETIC',
      firmware: SIM_FIRMWARE_VERSION,
      provision: address(o.get('provision')),
      provisionRetry: plain(o.get('retry')) as Partial<RetryPolicy>,
      dock: address(o.get('dock')),
      settings: plain(o.get('settings')) as Partial<RecorderConfig>,
    });
    env.state.boot = s;
    return s.status() as unknown as CborValue;
  },

  'boot.status': (env) => running(env).status() as unknown as CborValue,

  /** The power switch. */
  'boot.off': (env) => {
    const s = running(env);
    s.close();
    return s.status() as unknown as CborValue;
  },
};
