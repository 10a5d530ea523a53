// `npm run build:moddable`: the real Moddable build for every board in boards/ (TypeScript
// against the SDK's typings, xsc, xsl link and preload; everything short of ESP-IDF), then the
// moddable engine (x-cli-lin with the board's preload and creation). Prints one line per build
// and every problem; exits 1 if any build has one.
//   npm run build:moddable [-- --board NAME] [-- --no-engine]

import { join } from 'node:path';
import { listBoards } from './boards.js';
import { unlistedLoadTimeBuffers } from './load-time-buffers.js';
import { buildBoardImage, buildEngine, readRootManifest, type BuildResult } from './mcconfig.js';
import { repoRoot } from './root.js';
import { ensureSdk, SDK_VERSION } from './sdk.js';

function line(r: BuildResult): string {
  const status = r.ok ? 'ok' : 'FAILED';
  const accepted = r.warnings.filter((w) => w.accepted).length;
  return `${status.padEnd(6)} ${r.platform.padEnd(36)} ${r.seconds.toFixed(1).padStart(6)} s  ${r.summary.replace(/^### /, '')}${accepted ? `  (${accepted} accepted third-party xsl warnings)` : ''}`;
}

async function main(argv: string[]): Promise<number> {
  const only = argv.includes('--board') ? argv[argv.indexOf('--board') + 1] : undefined;
  const engine = !argv.includes('--no-engine');
  const sdk = ensureSdk((l) => console.log(l));
  console.log(`Moddable SDK ${sdk.version}: ${sdk.root}${sdk.fromEnv ? ' ($MODDABLE)' : ''}`);
  if (sdk.version !== SDK_VERSION) console.log(`warning: this firmware is built and tested with Moddable SDK ${SDK_VERSION}; ${sdk.root} is ${sdk.version}`);
  const out = join(repoRoot, '.bodycam', 'build');
  let failed = 0;
  for (const board of listBoards().filter((b) => !only || b.name === only)) {
    const results = [buildBoardImage(sdk, board, { out })];
    if (engine) results.push(buildEngine(sdk, board, { out }));
    for (const r of results) {
      console.log(line(r));
      for (const p of r.problems) console.log(`  ${p.replace(/\n/g, '\n  ')}`);
      if (!r.ok) failed++;
    }
  }
  // Typed arrays a preloaded module makes at load time: xsl says nothing of them, and they are
  // read-only on the camera.
  const manifest = readRootManifest();
  const buffers = await unlistedLoadTimeBuffers(manifest.modules, manifest.preload);
  for (const b of buffers) console.log(`FAILED load-time buffer: ${b.module}: ${b.name} (${b.type}) is made when the module loads and is preloaded into flash, where it is read-only; make it per call or per instance, or list it in READ_ONLY_TABLES (toolchain/load-time-buffers.ts) if it is only ever read`);
  if (buffers.length) failed++;
  if (failed) console.log(`${failed} build${failed === 1 ? '' : 's'} failed`);
  else console.log('every board compiles, links and preloads with the real mcconfig; ESP-IDF would take it from here (`mcconfig -d -m -p esp32/<board>`)');
  return failed ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
