// The `bodycam` command line: one entry per user task (simulate a shift, run a dock, verify
// and export evidence, provision, build and flash). Each subcommand lives in its own module.
// Exit codes mean one thing each, for every command (EXIT below; README "Exit codes"): a script
// or CI can tell lost evidence from a typo from a busy port. Every failure reaches the user as
// a stable E_* code and a message, never a stack trace or a bare errno; with --json, as JSON.

import { readFileSync } from 'node:fs';
import { BodycamError, errorMessage } from '../firmware/errors.js';
import { EXIT, asBodycamError, exitCodeOf } from './exit.js';
import { demo } from './demo.js';
import { dockCommand } from './dock.js';
import { consoleCommand } from './console.js';
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
  demo: {
    summary: 'run firmware modules in the real XS engine and on Node, with their cost',
    run: async (a, out) => {
      if (!a.includes('--json')) return demo(out);
      const lines: string[] = [];
      const code = await demo((l) => void lines.push(l));
      out(JSON.stringify({ ok: code === 0, exitCode: code, command: 'demo', lines }));
      return code;
    },
  },
  dock: { summary: 'run a dock station: authenticate cameras, upload and verify evidence, sign receipts', run: (a, out) => dockCommand(a, out) },
  console: { summary: 'accounts for the dock station\'s web console (bodycam dock --http)', run: (a, out) => consoleCommand(a, out) },
  verify: { summary: 'verify a directory of evidence: signatures, media digests, chain, receipts', run: (a, out) => verifyCommand(a, out) },
  export: { summary: 'mux segment media into a playable AVI (MJPEG) with per-frame timing', run: (a, out) => exportCommand(a, out) },
  build: { summary: 'build the camera firmware for a board with the Moddable SDK', run: (a, out) => buildCommand(a, out, false) },
  flash: { summary: 'build the camera firmware and write it to a camera over USB', run: (a, out) => buildCommand(a, out, true) },
  provision: { summary: 'create the agency root, issue docks, provision cameras, revoke keys', run: (a, out) => provisionCommand(a, out) },
  firmware: { summary: 'firmware signing key, sign and verify firmware images (armoury)', run: (a, out) => firmwareCommand(a, out) },
};

/** This package's version (bodycam --version). */
export function version(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

const EXIT_HELP = 'exit status: 0 ok, 1 the work found a problem with evidence (or an image), 2 usage or input, 3 environment (a tool, a port, the disk), 4 a bug';

function usage(out: (line: string) => void): void {
  out('usage: bodycam <command> [options]');
  out('');
  for (const [name, c] of Object.entries(commands)) out(`  ${name.padEnd(10)} ${c.summary}`);
  out('');
  out('bodycam help COMMAND (or bodycam COMMAND --help) tells more; bodycam --version.');
  out(EXIT_HELP);
}

export async function run(argv: string[], out: (line: string) => void = (l) => console.log(l)): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === 'version') {
    out(`bodycam ${version()}`);
    return EXIT.ok;
  }
  if (name === 'help' && rest[0] !== undefined && commands[rest[0]]) return run([rest[0], '--help'], out);
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    usage(out);
    return name ? EXIT.ok : EXIT.usage;
  }
  const json = argv.includes('--json');
  const c = commands[name];
  try {
    if (!c) throw new BodycamError('E_USAGE', `unknown command "${name}" (bodycam help lists them)`);
    const code = await c.run(rest, out);
    if (rest.includes('--help') && code === EXIT.ok) out(EXIT_HELP);
    return code;
  } catch (thrown) {
    const e = asBodycamError(thrown);
    const exit = exitCodeOf(e.code);
    // With --json the machine reading stdout gets it as JSON; the person watching still sees it.
    if (json) out(JSON.stringify({ ok: false, error: { code: e.code, message: errorMessage(e) }, exit }));
    console.error(e.message);
    if (process.env.BODYCAM_DEBUG && thrown instanceof Error) console.error(thrown.stack);
    return exit;
  }
}
