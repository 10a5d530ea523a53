// A lock file across processes (ava runs test files in parallel; builds share folders).

import { closeSync, openSync, rmSync, statSync } from 'node:fs';
import { BodycamError } from '../firmware/errors.js';

/** Run fn holding a lock file (builds share folders; other processes wait, up to 20 minutes). */
export function withLock<T>(lock: string, fn: () => T): T {
  const started = Date.now();
  let fd: number | undefined;
  while (fd === undefined) {
    try {
      fd = openSync(lock, 'wx');
    } catch {
      try {
        // A lock older than 15 minutes was left by a killed build.
        if (Date.now() - statSync(lock).mtimeMs > 15 * 60_000) rmSync(lock, { force: true });
      } catch {
        /* released meanwhile */
      }
      if (Date.now() - started > 20 * 60_000) throw new BodycamError('E_MODDABLE_BUILD', `waited 20 minutes for ${lock}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 250);
    }
  }
  try {
    return fn();
  } finally {
    closeSync(fd);
    rmSync(lock, { force: true });
  }
}
