// Console accounts and sign-in sessions, in the station's own database (index.sqlite, beside the
// evidence index). Passwords are kept only as Argon2id hashes (@node-rs/argon2: the library's
// defaults, OWASP's minimum of 19 MiB, 2 passes); a session is a random token whose SHA-256 alone
// is stored, so a copy of the database signs nobody in. Each session carries its own CSRF token.
//
// It may import firmware/errors and node:crypto; it never touches the evidence tables.

import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import type Database from 'better-sqlite3';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { BodycamError } from '../../firmware/errors.js';

export type Role = 'operator' | 'examiner';
export const ROLES: readonly Role[] = Object.freeze(['operator', 'examiner']);

/** The shortest console password (as for the agency's passphrases). */
export const MIN_PASSWORD = 12;
/** A sign-in lasts this long without being renewed (a shift). */
export const SESSION_MS = 12 * 3600 * 1000;
/** Account names: what the custody log records as "who". */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export interface SignedIn {
  name: string;
  role: Role;
  csrf: string;
  expires: number;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

export class Accounts {
  readonly #db: Database.Database;
  readonly #now: () => number;
  /** A hash to verify against when the name is unknown, so a wrong name costs what a wrong password does. */
  #decoy: Promise<string> | undefined;

  constructor(db: Database.Database, now: () => number = Date.now) {
    this.#db = db;
    this.#now = now;
    db.exec(`
      CREATE TABLE IF NOT EXISTS console_accounts (name TEXT PRIMARY KEY, role TEXT NOT NULL, hash TEXT NOT NULL, created INTEGER NOT NULL, disabled INTEGER NOT NULL DEFAULT 0);
      CREATE TABLE IF NOT EXISTS console_sessions (token_sha256 TEXT PRIMARY KEY, name TEXT NOT NULL, csrf TEXT NOT NULL, created INTEGER NOT NULL, expires INTEGER NOT NULL);
    `);
  }

  /** Add an account (E_ACCOUNT_EXISTS if the name is taken, unless `replace`: a new password or role). */
  async add(name: string, role: string, password: string, o: { replace?: boolean } = {}): Promise<{ name: string; role: Role; replaced: boolean }> {
    if (!NAME.test(name)) throw new BodycamError('E_USAGE', `account name ${JSON.stringify(name.slice(0, 80))}: 1 to 64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit`);
    if (!ROLES.includes(role as Role)) throw new BodycamError('E_USAGE', `--role is operator or examiner, not ${role}`);
    if (password.length < MIN_PASSWORD) throw new BodycamError('E_PASSWORD_SHORT', `the password must be at least ${MIN_PASSWORD} characters`);
    const exists = this.#db.prepare('SELECT name FROM console_accounts WHERE name = ?').get(name) !== undefined;
    if (exists && !o.replace) throw new BodycamError('E_ACCOUNT_EXISTS', `console account ${name} already exists; add --replace to give it a new password or role`);
    const hash = await argon2Hash(password);
    this.#db.transaction(() => {
      this.#db.prepare('INSERT INTO console_accounts (name, role, hash, created) VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET role = excluded.role, hash = excluded.hash, disabled = 0').run(name, role, hash, this.#now());
      // A new password ends the account's sessions.
      this.#db.prepare('DELETE FROM console_sessions WHERE name = ?').run(name);
    })();
    return { name, role: role as Role, replaced: exists };
  }

  list(): { name: string; role: Role; created: number; disabled: boolean }[] {
    return (this.#db.prepare('SELECT name, role, created, disabled FROM console_accounts ORDER BY name').all() as { name: string; role: Role; created: number; disabled: number }[]).map((r) => ({ ...r, disabled: r.disabled !== 0 }));
  }

  /** Check a password; a new session token (the cookie's value) if it is right, else undefined. */
  async signIn(name: string, password: string): Promise<{ token: string; session: SignedIn } | undefined> {
    const row = this.#db.prepare('SELECT name, role, hash, disabled FROM console_accounts WHERE name = ?').get(name) as { name: string; role: Role; hash: string; disabled: number } | undefined;
    if (!row) {
      this.#decoy ??= argon2Hash(randomBytes(16).toString('hex'));
      await argon2Verify(await this.#decoy, password).catch(() => false);
      return undefined;
    }
    const ok = await argon2Verify(row.hash, password).catch(() => false);
    if (!ok || row.disabled) return undefined;
    const token = randomBytes(32).toString('base64url');
    const session: SignedIn = { name: row.name, role: row.role, csrf: randomBytes(32).toString('base64url'), expires: this.#now() + SESSION_MS };
    this.#db.prepare('DELETE FROM console_sessions WHERE expires < ?').run(this.#now());
    this.#db.prepare('INSERT INTO console_sessions (token_sha256, name, csrf, created, expires) VALUES (?, ?, ?, ?, ?)').run(sha(token), session.name, session.csrf, this.#now(), session.expires);
    return { token, session };
  }

  /** The signed-in account a session token belongs to, if it is current. */
  session(token: string | undefined): SignedIn | undefined {
    if (!token || token.length > 100) return undefined;
    const r = this.#db.prepare('SELECT s.name, a.role, s.csrf, s.expires FROM console_sessions s JOIN console_accounts a ON a.name = s.name WHERE s.token_sha256 = ? AND a.disabled = 0').get(sha(token)) as SignedIn | undefined;
    if (!r || r.expires < this.#now()) return undefined;
    return r;
  }

  signOut(token: string | undefined): void {
    if (token) this.#db.prepare('DELETE FROM console_sessions WHERE token_sha256 = ?').run(sha(token));
  }
}

/** Compare a submitted CSRF token with the session's in constant time. */
export function csrfMatches(expected: string, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
