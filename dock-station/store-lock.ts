// One dock station per evidence store. Two stations writing one store would interleave custody
// log entries and race on the index; `bodycam dock` takes this lock before it opens the store and
// drops it when it stops. The lock is a file, DIR/station.lock, created exclusively (O_EXCL),
// naming the process and computer that hold it. A lock left by a station that died (killed, a
// power cut) is taken over when its process is gone from this computer; a lock from another
// computer (a store on a shared drive) is never taken over: a person has to look.
//
// Also here: the store's folder is checked before anything is written — its parent must exist
// (a mistyped --store must not create folders at the filesystem root).

import { closeSync, lstatSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { BodycamError } from '../firmware/errors.js';

export const LOCK_FILE = 'station.lock';

interface Holder {
  pid: number;
  host: string;
  since: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The store folder, made if absent — but only inside a folder that exists. */
export function prepareStoreDir(dir: string): string {
  const abs = resolve(dir);
  const parent = dirname(abs);
  let parentIsDir = false;
  try {
    parentIsDir = lstatSync(parent).isDirectory();
  } catch {
    parentIsDir = false;
  }
  if (!parentIsDir) throw new BodycamError('E_STORE_PATH', `--store ${dir}: the folder that would hold it, ${parent}, does not exist; nothing was created. Check the path, or make ${parent} first`);
  try {
    mkdirSync(abs, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  if (!lstatSync(abs).isDirectory()) throw new BodycamError('E_STORE_PATH', `--store ${dir} is not a folder (a file or a link is there); nothing was changed`);
  return abs;
}

export class StoreLock {
  #file: string | undefined;

  private constructor(file: string) {
    this.#file = file;
  }

  /** Takes the store's lock, or throws E_STORE_LOCKED naming the station that holds it. */
  static take(storeDir: string, now = () => new Date()): StoreLock {
    const file = join(storeDir, LOCK_FILE);
    const me: Holder = { pid: process.pid, host: hostname(), since: now().toISOString() };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(file, 'wx', 0o600);
        try {
          writeSync(fd, `${JSON.stringify(me)}\n`);
        } finally {
          closeSync(fd);
        }
        return new StoreLock(file);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      let holder: Partial<Holder> = {};
      try {
        holder = JSON.parse(readFileSync(file, 'utf8')) as Holder;
      } catch {
        // Unreadable: it was being written at a crash, or is not ours. Treated as held, below.
      }
      const stale = holder.host === me.host && typeof holder.pid === 'number' && holder.pid !== process.pid && !alive(holder.pid);
      if (!stale) {
        const who = holder.pid ? `process ${holder.pid} on ${holder.host} since ${holder.since}` : 'an unknown station';
        throw new BodycamError('E_STORE_LOCKED', `another dock station (${who}) is using the store ${storeDir}; one store takes one station. Stop that one first; if it is certainly gone, remove ${file}`);
      }
      rmSync(file, { force: true });
    }
    throw new BodycamError('E_STORE_LOCKED', `the store ${storeDir} was locked by another station starting at the same moment`);
  }

  release(): void {
    if (this.#file) rmSync(this.#file, { force: true });
    this.#file = undefined;
  }
}
