// The console's parts without a browser: the dock board's rows from the station's progress and
// results, the accounts (Argon2id hashes, sessions, CSRF tokens) in a real SQLite store, and the
// CLI's rules (no password on the command line; a console off loopback says so).

import test from 'ava';
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Accounts, csrfMatches, SESSION_MS } from '../dock-station/console/accounts.js';
import { DockBoard, RECENT_ROWS, type BoardRow } from '../dock-station/console/board.js';
import { writeDockIdentity } from '../dock-station/identity.js';
import type { SessionProgress } from '../dock-station/session.js';
import { KeyPairSigner } from '../firmware/signing/signer.js';
import { nodeDigest } from '../host-sim/node/hardware.js';
import { bodycamAsync, dockProcess } from './helpers/cli.js';
import { certificate, root, seed } from './helpers/dock.js';
import { tempDir } from './helpers/tmp.js';

const progress = (p: Partial<SessionProgress>): SessionProgress => ({ session: 's1', device: 'CAM-1', phase: 'segment 0', segmentsDone: 0, segmentsTotal: 4, bytesDone: 0, bytesTotal: 4000, bytesReceived: 0, startedAt: 0, ...p });

test('[node] the board: rate and time left from progress, officer, completion and the last error with its code; recent rows are capped', async (t) => {
  let now = 0;
  const board = new DockBoard({ officerOf: (d) => (d === 'CAM-1' ? 'PC 1 Smith' : undefined), now: () => now });
  const updates: BoardRow[][] = [];
  board.subscribe((rows) => updates.push(rows));
  now = 2000;
  board.progress(progress({ bytesDone: 1000, segmentsDone: 1 }));
  t.like(board.rows()[0], { device: 'CAM-1', officer: 'PC 1 Smith', state: 'uploading', rate: 500, secondsLeft: 6, bytesDone: 1000, ended: false });
  // Progress is coalesced into one update per UPDATE_MS.
  board.progress(progress({ bytesDone: 1500, segmentsDone: 1 }));
  t.is(updates.length, 0);
  await new Promise((r) => setTimeout(r, 150));
  t.is(updates.length, 1);
  t.is(updates[0][0].bytesDone, 1500);
  // A result is sent at once.
  board.result({ session: 's1', device: 'CAM-1', ok: true, stored: [0, 1, 2, 3], rejected: [], released: [0, 1, 2, 3], bytesReceived: 4000, chunksResent: 0 });
  t.is(updates.length, 2);
  t.like(updates[1][0], { state: 'done', segmentsDone: 4, secondsLeft: 0, error: null, ended: true });
  // A camera that failed: its code; one that never authenticated: an unknown camera.
  board.progress(progress({ session: 's2', device: 'CAM-2', phase: 'inventory' }));
  board.result({ session: 's2', device: 'CAM-2', ok: false, code: 'E_TIMEOUT', message: 'the camera sent no whole message', stored: [], rejected: [], released: [], bytesReceived: 10, chunksResent: 0 });
  board.result({ session: 's3', ok: false, code: 'E_AUTH_CHAIN', message: 'not of this agency', stored: [], rejected: [], released: [], bytesReceived: 10, chunksResent: 0 });
  const rows = board.rows();
  t.like(rows.find((r) => r.session === 's2'), { device: 'CAM-2', officer: null, state: 'failed', error: { code: 'E_TIMEOUT', message: 'the camera sent no whole message' } });
  t.like(rows.find((r) => r.session === 's3'), { device: null, state: 'failed', error: { code: 'E_AUTH_CHAIN' } });
  // A stored session whose segment was refused keeps that code as its last error.
  board.result({ session: 's4', device: 'CAM-4', ok: true, stored: [0], rejected: [{ seq: 1, code: 'E_MEDIA_DIGEST' }], released: [0], bytesReceived: 10, chunksResent: 0 });
  t.like(board.rows().find((r) => r.session === 's4'), { state: 'done', error: { code: 'E_MEDIA_DIGEST' } });
  // Connected cameras first, then recent ones; at most RECENT_ROWS ended rows are kept.
  board.progress(progress({ session: 'live', device: 'CAM-9' }));
  for (let i = 0; i < RECENT_ROWS + 10; i++) board.result({ session: `old${i}`, ok: false, code: 'E_X', stored: [], rejected: [], released: [], bytesReceived: 0, chunksResent: 0 });
  const all = board.rows();
  t.is(all[0].session, 'live');
  t.is(all.filter((r) => r.ended).length, RECENT_ROWS);
  board.close();
});

test('[node] accounts: only an Argon2id hash is kept, a wrong password or name signs nobody in, sessions are stored by hash and end on a new password', async (t) => {
  const db = new Database(':memory:');
  let now = 1_000_000;
  const accounts = new Accounts(db, () => now);
  await accounts.add('alice', 'examiner', 'a long enough password');
  const row = db.prepare('SELECT hash FROM console_accounts WHERE name = ?').get('alice') as { hash: string };
  t.regex(row.hash, /^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$/);
  t.false(row.hash.includes('a long enough password'));
  await t.throwsAsync(accounts.add('alice', 'examiner', 'another long password'), { message: /E_ACCOUNT_EXISTS|already exists/ });
  await t.throwsAsync(accounts.add('bob', 'examiner', 'short'), { message: /at least 12/ });
  await t.throwsAsync(accounts.add('bob', 'admin', 'a long enough password'), { message: /operator or examiner/ });
  await t.throwsAsync(accounts.add('../bob', 'operator', 'a long enough password'), { message: /account name/ });
  t.is(await accounts.signIn('alice', 'wrong password!!'), undefined);
  t.is(await accounts.signIn('nobody', 'a long enough password'), undefined);
  const s = await accounts.signIn('alice', 'a long enough password');
  t.truthy(s);
  t.like(accounts.session(s!.token), { name: 'alice', role: 'examiner' });
  // The database holds the token's SHA-256, never the token.
  const stored = db.prepare('SELECT token_sha256 FROM console_sessions').all() as { token_sha256: string }[];
  t.is(stored.length, 1);
  t.not(stored[0].token_sha256, s!.token);
  t.is(accounts.session('not a token'), undefined);
  t.true(csrfMatches(s!.session.csrf, s!.session.csrf));
  t.false(csrfMatches(s!.session.csrf, undefined));
  t.false(csrfMatches(s!.session.csrf, s!.session.csrf.slice(1)));
  // Expiry, and a new password ending every session.
  now += SESSION_MS + 1;
  t.is(accounts.session(s!.token), undefined);
  const again = await accounts.signIn('alice', 'a long enough password');
  await accounts.add('alice', 'operator', 'a brand new password', { replace: true });
  t.is(accounts.session(again!.token), undefined);
  t.like(await accounts.signIn('alice', 'a brand new password'), { session: { role: 'operator' } });
  accounts.signOut(again!.token);
  db.close();
});

test('[node] bodycam console add-account takes the password from a file or the environment, never the command line; a console off loopback says so', async (t) => {
  const identityDir = tempDir('bodycam-dockid-');
  const store = join(tempDir('bodycam-console-store-'), 'store');
  const signer = new KeyPairSigner({ seed: seed(2), digest: nodeDigest });
  writeDockIdentity(identityDir, { seed: seed(2), certificate: certificate({ id: 'DOCK-7', kind: 'dock', publicKey: signer.publicKey }), rootKey: root.publicKey });
  // No store yet: refused, nothing made.
  const early = await bodycamAsync(['console', 'add-account', '--store', store, '--name', 'alice', '--role', 'examiner'], { BODYCAM_CONSOLE_PASSWORD: 'a long enough password' });
  t.is(early.status, 2, early.stderr);
  t.regex(early.stderr, /E_STORE_PATH/);
  const { child: dock, lines: jsonLines, exit } = await dockProcess(['--json', '--listen', '127.0.0.1:0', '--store', store, '--identity', identityDir, '--http', '0.0.0.0:0'], (line) => line.includes('"event":"listening"'));
  const events = jsonLines.map((l) => JSON.parse(l) as Record<string, unknown>);
  try {
    t.like(events.find((e) => e.event === 'console-listening'), { address: '0.0.0.0', loopback: false, accounts: 0 });
    const onLine = await bodycamAsync(['console', 'add-account', '--store', store, '--name', 'alice', '--role', 'examiner', '--password', 'a long enough password']);
    t.is(onLine.status, 2);
    t.regex(onLine.stderr, /E_SECRET_ON_COMMAND_LINE/);
    const fromEnv = await bodycamAsync(['console', 'add-account', '--store', store, '--name', 'alice', '--role', 'examiner', '--json'], { BODYCAM_CONSOLE_PASSWORD: 'a long enough password' });
    t.is(fromEnv.status, 0, fromEnv.stderr);
    t.like(JSON.parse(fromEnv.stdout), { ok: true, name: 'alice', role: 'examiner', replaced: false });
    const pw = join(identityDir, 'bob.pw');
    writeFileSync(pw, 'operator password 12\n', { mode: 0o600 });
    const fromFile = await bodycamAsync(['console', 'add-account', '--store', store, '--name', 'bob', '--role', 'operator', '--password-file', pw]);
    t.is(fromFile.status, 0, fromFile.stderr);
    const list = await bodycamAsync(['console', 'list-accounts', '--store', store, '--json']);
    t.deepEqual((JSON.parse(list.stdout) as { accounts: { name: string; role: string }[] }).accounts.map((a) => [a.name, a.role]), [['alice', 'examiner'], ['bob', 'operator']]);
  } finally {
    dock.kill('SIGTERM');
    t.is(await exit, 0);
  }
  // In words, off loopback: a warning.
  const { child: text, lines, exit: textExit } = await dockProcess(['--listen', '127.0.0.1:0', '--store', store, '--identity', identityDir, '--http', '0.0.0.0:0'], (line) => /listening on/.test(line));
  text.kill('SIGTERM');
  t.is(await textExit, 0);
  t.true(lines.some((l) => /^console on http:\/\/0\.0\.0\.0:\d+\/ — NOT LOOPBACK/.test(l)), lines.join('\n'));
});
