// Bundles the guest runtime (and through it the firmware) into one classic script for XS, with
// esbuild: no Node built-ins may be reached (the bundle fails if firmware imports one).

import { build } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BodycamError } from '../../firmware/errors.js';

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root, from dist/host-sim/xs or host-sim/xs. */
export const repoRoot = resolve(here, here.includes(`${join('dist', 'host-sim')}`) ? '../../..' : '../..');

const cache = new Map<string, Promise<string>>();
let cleanupRegistered = false;

/** Bundle a guest entry (TypeScript source path relative to the repo) and return the script's path. */
export function bundleGuest(entry = 'host-sim/xs/guest/main.ts'): Promise<string> {
  let p = cache.get(entry);
  if (!p) {
    p = (async () => {
      const result = await build({
        entryPoints: [join(repoRoot, entry)],
        bundle: true,
        write: false,
        format: 'iife',
        platform: 'neutral',
        mainFields: ['module', 'main'],
        conditions: ['import', 'default'],
        target: 'es2022',
        // The XS that @agoric/xsnap builds (13.3) reads a class's own name inside its static
        // field initialisers as uninitialised (@noble/curves: `static BASE = new Point(...)`);
        // the SDK's XS does not. Lowered to assignments after the class, which XS 13 runs.
        supported: { 'class-static-field': false },
        logLevel: 'silent',
        legalComments: 'none',
      }).catch((e: Error) => {
        throw new BodycamError('E_XS_BUNDLE', `bundling ${entry} for XS failed: ${e.message}`);
      });
      const dir = join(tmpdir(), `bodycam-xs-${process.pid}`);
      mkdirSync(dir, { recursive: true });
      // The bundle is read once, when a worker starts: the folder goes when this process does.
      if (!cleanupRegistered) {
        cleanupRegistered = true;
        process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
      }
      const out = join(dir, `${entry.replace(/[^a-z0-9]+/gi, '_')}.js`);
      writeFileSync(out, result.outputFiles[0].text);
      return out;
    })();
    cache.set(entry, p);
  }
  return p;
}
