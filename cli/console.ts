// `bodycam console add-account | list-accounts --store DIR`: the web console's accounts, kept in
// the station's database (dock-station/console/accounts.ts). The password comes from a file
// (--password-file, its first line) or BODYCAM_CONSOLE_PASSWORD, never from the command line.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BodycamError } from '../firmware/errors.js';
import { Accounts, MIN_PASSWORD } from '../dock-station/console/accounts.js';
import { EvidenceStore } from '../dock-station/store.js';
import { parseArgs, secretOption, stringOption } from './args.js';

const HELP = `usage: bodycam console add-account --store DIR --name NAME --role operator|examiner [--password-file FILE] [--replace] [--json]
       bodycam console list-accounts --store DIR [--json]

Accounts for the dock station's web console (bodycam dock --http). An operator sees the dock
board; an examiner also sees the evidence: timelines, verification, playback, export and custody
log. Every view and export is written to the station's custody log with the account's name.
Sealed evidence is shown and exported only by a console given the agency's evidence key
(bodycam dock --http ADDR --evidence-key FILE), and then to examiners alone.
The password (at least ${MIN_PASSWORD} characters) is read from --password-file FILE (its first line)
or the environment variable BODYCAM_CONSOLE_PASSWORD, never from the command line; only its
Argon2id hash is kept, in DIR/index.sqlite. --replace gives an existing account a new password or
role and signs it out everywhere. The store is the one \`bodycam dock --store\` serves (it may be running).`;

export async function consoleCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const a = parseArgs(argv, { store: { value: true }, name: { value: true }, role: { value: true }, 'password-file': { value: true }, password: { value: true }, replace: {}, json: {}, help: {} });
  const [sub] = a.positionals;
  if (a.options.help || sub === undefined) {
    out(HELP);
    return sub === undefined && !a.options.help ? 2 : 0;
  }
  if (a.options.password !== undefined) throw new BodycamError('E_SECRET_ON_COMMAND_LINE', 'a password on the command line is seen by every user of this computer (ps): use --password-file FILE or BODYCAM_CONSOLE_PASSWORD');
  const dir = stringOption(a, 'store');
  if (!dir) throw new BodycamError('E_USAGE', `--store DIR is required\n${HELP}`);
  if (!existsSync(join(dir, 'index.sqlite'))) throw new BodycamError('E_STORE_PATH', `${dir} holds no dock station store (no index.sqlite): start \`bodycam dock --store ${dir}\` once first`);
  const json = a.options.json === true;
  const store = new EvidenceStore(dir);
  try {
    const accounts = new Accounts(store.db);
    if (sub === 'list-accounts') {
      const list = accounts.list();
      if (json) out(JSON.stringify({ ok: true, accounts: list }));
      else for (const x of list) out(`${x.name.padEnd(24)} ${x.role.padEnd(9)} since ${new Date(x.created).toISOString()}${x.disabled ? ' (disabled)' : ''}`);
      return 0;
    }
    if (sub !== 'add-account') throw new BodycamError('E_USAGE', `unknown console command ${sub}\n${HELP}`);
    const name = stringOption(a, 'name');
    const role = stringOption(a, 'role');
    if (!name || !role) throw new BodycamError('E_USAGE', '--name and --role are required');
    const password = secretOption(a, process.env, 'password-file', 'BODYCAM_CONSOLE_PASSWORD');
    if (password === undefined) throw new BodycamError('E_USAGE', 'give the password in --password-file FILE or BODYCAM_CONSOLE_PASSWORD');
    const r = await accounts.add(name, role, password, { replace: a.options.replace === true });
    out(json ? JSON.stringify({ ok: true, ...r }) : `console account ${r.name} (${r.role}) ${r.replaced ? 'replaced' : 'added'} in ${join(dir, 'index.sqlite')}`);
    return 0;
  } finally {
    store.close();
  }
}
