// Where an accepted payload is written: an UpdateTarget, shaped on Moddable's `embedded:update`
// (ECMA-419 "Update": `update.open({partition, mode, byteLength})` returns an object with
// `write(data[, offset])`, `complete()` and `close()`; `close()` before `complete()` aborts).
// On a camera the target is Moddable's own module over the next OTA partition
// (moddable-update.ts); in the simulator it is an A/B slot pair over the Flash port
// (host-sim/update/ab-slots.ts). The session writes only the payload (the application image
// mcconfig builds), at payload offsets, in order, and calls `complete()` only after the whole
// signed image has been verified. Nothing written before `complete()` can boot.

import type { BufferLike } from '../platform/buffers.js';

export interface UpdateTargetOptions {
  /** Payload bytes that will be written. */
  byteLength: number;
  /** "w": random access by offset (what UpdateSession uses); "a": append. */
  mode?: 'a' | 'w';
}

export interface UpdateTarget {
  /** Write `data` at `offset` in the payload (mode "w"), or append (mode "a"). */
  write(data: BufferLike, offset?: number): void;
  /** The payload is whole and verified: make it the image the next boot runs. */
  complete(): void;
  /** Release; before `complete()` this aborts and the running image stays the boot image. */
  close(): void;
}

/** `embedded:update`'s static side, bound to the partition the camera updates. */
export interface UpdateTargetOpener {
  open(options: UpdateTargetOptions): UpdateTarget;
}

/** A target that keeps nothing: verify an image without installing it (armoury, bench). */
export const discardTarget: UpdateTargetOpener = Object.freeze({
  open(): UpdateTarget {
    return { write() {}, complete() {}, close() {} };
  },
});
