// `bodycam verify --store s3://…` and `bodycam export --store s3://…`: run the very same command on
// a station's part of the central store, laid out as that station's own store (evidence/central/view.ts).
// The command is not told which it reads; its output names the central store, not the private folder.

import { BodycamError } from '../firmware/errors.js';
import { centralConfig, centralFault } from '../evidence/central/central.js';
import { openCentralView } from '../evidence/central/view.js';
import { stringOption, type OptionSpec, type Parsed } from './args.js';

export const CENTRAL_VIEW_OPTIONS: Record<string, OptionSpec> = { db: { value: true }, station: { value: true }, 's3-endpoint': { value: true } };

export const CENTRAL_VIEW_HELP = [
  '  --store s3://BUCKET[/PREFIX] --db URL [--station ID] [--s3-endpoint URL]',
  '                        read a station\'s evidence from the central store (docs/central-store.md):',
  '                        it is laid out as that station\'s own store and checked the same way;',
  '                        --station when it holds more than one station\'s; keys from AWS_ACCESS_KEY_ID',
  '                        and AWS_SECRET_ACCESS_KEY, a database password only from PGPASSWORD',
];

export function isCentral(target: string | undefined): target is string {
  return target !== undefined && target.startsWith('s3://');
}

/** argv without the central-only options, and with the store named by `dir` instead. */
function localArgs(argv: string[], target: string, dir: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const name = a.startsWith('--') ? a.slice(2).split('=')[0] : '';
    if (name in CENTRAL_VIEW_OPTIONS) {
      if (!a.includes('=')) i++;
      continue;
    }
    if (a === target) out.push(dir);
    else if (a === `--store=${target}`) out.push(`--store=${dir}`);
    else out.push(a);
  }
  return out;
}

/** Run `run` (a command) against the central store's view instead of a directory. */
export async function onCentralView(target: string, p: Parsed, argv: string[], out: (line: string) => void, run: (argv: string[], out: (line: string) => void) => Promise<number>): Promise<number> {
  if (!stringOption(p, 'db') && !process.env.BODYCAM_CENTRAL_DB) throw new BodycamError('E_USAGE', `${target} is a central store: give its database too (--db postgres://USER@HOST:PORT/DB)`);
  const config = centralConfig({ store: target, db: stringOption(p, 'db'), endpoint: stringOption(p, 's3-endpoint') });
  let view;
  try {
    view = await openCentralView(config, stringOption(p, 'station'));
  } catch (e) {
    throw centralFault(e, `reading ${target}`);
  }
  try {
    const name = view.name;
    const dir = view.dir;
    const code = await run(localArgs(argv, target, dir), (line) => out(line.split(dir).join(name)));
    // An object the store returned changed is a finding the command could not see (it was left out).
    for (const x of view.problems) process.stderr.write(`${x.code}: ${name}/${x.path}: ${x.message}\n`);
    return view.problems.length && code === 0 ? 1 : code;
  } finally {
    view.close();
  }
}
