// What a bodycam exit status means — one table for every command — and every failure as a
// stable code: a thrown system error (errno) becomes E_NOT_FOUND, E_PORT_BUSY, ... with its path,
// anything unexpected E_INTERNAL. README "Exit codes" is this table.

import { BodycamError, errorMessage, isBodycamError } from '../firmware/errors.js';

/** What each exit status means, for every command. */
export const EXIT = Object.freeze({
  /** Done, and everything checked was in order. */
  ok: 0,
  /** The work ran and found a problem in what it checked: evidence that does not verify, lost or refused segments, a firmware image a camera would refuse. */
  finding: 1,
  /** Usage or input: a mistyped option, a missing or malformed file or folder, a folder that must not be written into. Nothing was changed. */
  usage: 2,
  /** The environment: a missing tool or engine, a busy port, a store held by another dock, a full disk, no permission, no camera answering. */
  environment: 3,
  /** A bug in bodycam (E_INTERNAL): please report it with the message. */
  internal: 4,
});

const FINDING = /^E_FW_(?!UNSIGNED$)|^E_CUSTODY_|^E_STREAM_|^E_SEALED_|^E_HPKE_OPEN$|^E_LOG_CHECKPOINT|^E_CENTRAL_(MISMATCH|PROOF|CONFLICT|OBJECT)$|^E_FORWARD_(LOCAL_DIGEST|LOG)$/;
const ENVIRONMENT = /^E_XS_|^E_MODDABLE_|^E_MCU_|^E_(SDK_MISSING|FLASH_FAILED|BUILD_FAILED|BUILD_OUTPUT|NOT_BUILT|LISTEN|PORT_BUSY|STORE_LOCKED|STATION_FULL|DISK_FULL|PERMISSION|TIMEOUT|CONNECT|IO|CENTRAL_UNAVAILABLE|CENTRAL_CREDENTIALS|CENTRAL_RETRY|FORWARD_TIMEOUT)$/;

/** The exit status of a failure with this code (EXIT). */
export function exitCodeOf(code: string): number {
  if (code === 'E_INTERNAL') return EXIT.internal;
  if (FINDING.test(code)) return EXIT.finding;
  if (ENVIRONMENT.test(code)) return EXIT.environment;
  return EXIT.usage;
}

const SYSTEM: Record<string, [string, string]> = {
  ENOENT: ['E_NOT_FOUND', 'does not exist'],
  ENOTDIR: ['E_NOT_FOLDER', 'is not a folder (a file is in the way)'],
  EISDIR: ['E_IS_FOLDER', 'is a folder where a file was expected'],
  EEXIST: ['E_EXISTS', 'already exists; nothing was overwritten'],
  ENOTEMPTY: ['E_EXISTS', 'is not empty; nothing was overwritten'],
  EACCES: ['E_PERMISSION', 'may not be read or written by this user'],
  EPERM: ['E_PERMISSION', 'may not be changed by this user'],
  EROFS: ['E_PERMISSION', 'is on a read-only file system'],
  ENOSPC: ['E_DISK_FULL', 'is on a full disk'],
  EADDRINUSE: ['E_PORT_BUSY', 'is in use by another program (another dock?); stop it or choose another port'],
  EADDRNOTAVAIL: ['E_LISTEN', 'is not an address of this computer'],
};

/** Any thrown value as a BodycamError: ours as it is, a system error (errno) with a stable code and its path, anything else E_INTERNAL. */
export function asBodycamError(e: unknown): BodycamError {
  if (e instanceof BodycamError) return e;
  const sys = e as NodeJS.ErrnoException & { address?: string; port?: number; dest?: string };
  const known = typeof sys?.code === 'string' ? SYSTEM[sys.code] : undefined;
  // A system error has a string code too (ENOENT), so it is told apart from ours by the code's shape.
  if (!known && isBodycamError(e) && e.code.startsWith('E_')) return new BodycamError(e.code, errorMessage(e));
  if (known) {
    const what = sys.path ?? (sys.address !== undefined ? `${sys.address}:${sys.port}` : sys.syscall ?? 'a file');
    return new BodycamError(known[0], `${what} ${known[1]}${sys.dest ? ` (${sys.dest})` : ''}`);
  }
  return new BodycamError('E_INTERNAL', `${e instanceof Error ? e.message : String(e)} — this is a bug in bodycam; please report it (BODYCAM_DEBUG=1 shows where)`);
}

