// Firmware entries for a camera's power-on exactly as a device does it: firmware/main.ts start()
// with the board's armoury address, so a camera without a certificate awaits provisioning over
// the Link (firmware/provision/boot.ts) and starts recording once provisioned. Unlike
// recorder.boot, nothing is provisioned by an entry beforehand. Uses the recorder entries' key
// store and flash partitions, so the recorder.* helpers read the same camera.
// Pure ECMAScript: bundled into the XS guest.

import { SIM_FIRMWARE_VERSION } from './provision.js';
import { powerOn, recorderEntries } from './recorder.js';
import type { Entry } from './env.js';

export const bootEntries: Record<string, Entry> = Object.freeze({
  /**
   * Power on: start() with {camera, provision: {address, port}, dock, settings, retry}. Returns the
   * status: the recorder's, or {state: "awaiting-provisioning", ...}.
   */
  'boot.start': (env, options) => powerOn(env, options, { frameRate: 5, firmware: SIM_FIRMWARE_VERSION }),
  'boot.status': recorderEntries['recorder.status'],
  /** The power switch. */
  'boot.off': recorderEntries['recorder.off'],
});
