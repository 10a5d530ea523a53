// The station's folder of signed camera configurations (`bodycam provision config` and the "*"
// configuration `bodycam provision evidence-key rotate` writes, in the agency's issued/ folder).
// At a docking the station pushes the newest configuration for that camera (its own device id or
// "*") when it is newer than the version the camera reports holding in its status; the camera
// verifies the agency root's signature itself and refuses an older one. The shelf checks each
// file against the agency root too, so a stray or forged file is never offered (and is listed).

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../firmware/errors.js';
import { ANY_DEVICE, verifyConfig, type CameraConfig } from '../firmware/provision/config.js';
import type { Ed25519 } from '../firmware/signing/ed25519.js';

export interface ShelfConfig {
  file: string;
  config: CameraConfig;
  bytes: Uint8Array;
}

export class ConfigShelf {
  /** Files of the last read that are not configurations the agency root signed, and why. */
  skipped: { file: string; why: string }[] = [];

  constructor(
    readonly dir: string,
    readonly rootPublicKey: Uint8Array,
    readonly ed25519?: Ed25519,
  ) {}

  /** Every configuration in the folder that the agency root signed (read afresh each call). */
  configs(): ShelfConfig[] {
    const out: ShelfConfig[] = [];
    this.skipped = [];
    for (const name of readdirSync(this.dir).sort()) {
      const file = join(this.dir, name);
      if (!name.endsWith('.cose') || !statSync(file).isFile()) continue;
      const bytes = new Uint8Array(readFileSync(file));
      try {
        out.push({ file, config: verifyConfig(bytes, this.rootPublicKey, { ed25519: this.ed25519 }), bytes });
      } catch (e) {
        this.skipped.push({ file, why: errorMessage(e) });
      }
    }
    return out;
  }

  /** The newest configuration for `device` (its own or "*"; its own wins a tie), if any. */
  newestFor(device: string): ShelfConfig | undefined {
    return this.configs()
      .filter((c) => c.config.device === device || c.config.device === ANY_DEVICE)
      .sort((a, b) => b.config.version - a.config.version || Number(b.config.device === device) - Number(a.config.device === device))[0];
  }
}
