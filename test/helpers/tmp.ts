// Temporary folders for a test file's runs, removed when its worker process exits (ava runs each
// test file in a process of its own): a simulated shift's output is hundreds of MB, and a suite
// that leaves them behind fills the disk it runs on.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
process.on('exit', () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A new folder under the system's temporary folder, named `prefix` and random characters. */
export function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}
