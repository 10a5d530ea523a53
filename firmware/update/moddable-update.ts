// The UpdateTarget on a camera: Moddable's `embedded:update` over the next OTA partition
// (`embedded:storage/flash` path "nextota"). The modules are handed in by the device's main
// (firmware/device), never imported here, so this file stays importable on a host.
// `complete()` makes ESP-IDF boot the new partition after a restart; `close()` without it leaves
// the running partition the boot partition.

import type { UpdateTarget, UpdateTargetOpener, UpdateTargetOptions } from './target.js';

/** The static side of `embedded:update` (ECMA-419 Update). */
export interface ModdableUpdateModule {
  open(options: { partition: unknown; mode?: 'a' | 'w'; byteLength?: number }): UpdateTarget;
}

/** The static side of `embedded:storage/flash`. */
export interface ModdableFlashModule {
  open(options: { path: string }): unknown;
}

export interface ModdableUpdateOptions {
  update: ModdableUpdateModule;
  flash: ModdableFlashModule;
  /** The OTA partition to write (default "nextota": the one not running). */
  path?: string;
}

export class ModdableUpdateTarget implements UpdateTargetOpener {
  #o: ModdableUpdateOptions;
  constructor(o: ModdableUpdateOptions) {
    this.#o = o;
  }
  open(options: UpdateTargetOptions): UpdateTarget {
    const partition = this.#o.flash.open({ path: this.#o.path ?? 'nextota' });
    return this.#o.update.open({ partition, mode: options.mode ?? 'w', byteLength: options.byteLength });
  }
}
