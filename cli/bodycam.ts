// The `bodycam` command line: one entry per user task (simulate a shift, run a dock, verify
// and export evidence, provision, build and flash). Each subcommand lives in its own module.
// Exit codes: 0 success, 1 the work ran and found a problem (e.g. evidence that doesn't
// verify), 2 a usage or environment error.

import { BodycamError, isBodycamError } from '../firmware/errors.js';
import { demo } from './demo.js';
import { dockCommand } from './dock.js';
import { verifyCommand } from './verify.js';
import { exportCommand } from './export.js';
import { buildCommand } from './build.js';
import { provisionCommand } from './provision.js';
import { firmwareCommand } from './firmware.js';
import { simCommand } from './sim.js';

export interface Command {
  summary: string;
  run(argv: string[], out: (line: string) => void): Promise<number>;
}

export const commands: Record<string, Command> = {
  sim: { summary: 'simulate a shift with the camera firmware, dock it, verify and report what was lost', run: (a, out) => simCommand(a, out) },
  demo: { summary: 'run firmware modules in the real XS engine and on Node, with their cost', run: (_a, out) => demo(out) },
  dock: { summary: 'run a dock station: authenticate cameras, upload and verify evidence, sign receipts', run: (a, out) => dockCommand(a, out) },
  verify: { summary: 'verify a directory of evidence: signatures, media digests, chain, receipts', run: (a, out) => verifyCommand(a, out) },
  export: { summary: 'mux segment media into a playable AVI (MJPEG) with per-frame timing', run: (a, out) => exportCommand(a, out) },
  build: { summary: 'build the camera firmware for a board with the Moddable SDK', run: (a, out) => buildCommand(a, out, false) },
  flash: { summary: 'build the camera firmware and write it to a camera over USB', run: (a, out) => buildCommand(a, out, true) },
  provision: { summary: 'create the agency root, issue docks, provision cameras, revoke keys', run: (a, out) => provisionCommand(a, out) },
  firmware: { summary: 'firmware signing key, sign and verify firmware images (armoury)', run: (a, out) => firmwareCommand(a, out) },
};

function usage(out: (line: string) => void): void {
  out('usage: bodycam <command> [options]');
  out('');
  for (const [name, c] of Object.entries(commands)) out(`  ${name.padEnd(10)} ${c.summary}`);
  out('');
  out('bodycam <command> --help tells more.');
}

export async function run(argv: string[], out: (line: string) => void = (l) => console.log(l)): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    usage(out);
    return name ? 0 : 2;
  }
  const c = commands[name];
  if (!c) {
    console.error(`E_USAGE: unknown command "${name}"`);
    usage((l) => console.error(l));
    return 2;
  }
  try {
    return await c.run(rest, out);
  } catch (e) {
    if (isBodycamError(e)) {
      console.error(e.message);
      return e.code === 'E_USAGE' || e.code.startsWith('E_TRUST') ? 2 : e instanceof BodycamError && e.code.startsWith('E_XS') ? 2 : 1;
    }
    throw e;
  }
}
