// One station's part of the central store, laid out as that station's own store directory
// (docs/FORMAT.md): its tree's files from the object store, its custody log leaves from
// PostgreSQL into index.sqlite's `log` table. The verifier and the exporter then read it through
// the very code that reads a station's disk (layout.ts, custody-log.ts), so a central store and
// a local one give the same answers: nothing in that code is told which it reads.
//
// Every object is hashed as it arrives and must be the SHA-256 it is stored under; a byte the
// object store changed is a finding of the view (E_CENTRAL_OBJECT), never silently passed on.
// The folder is private (0700) and removed by close().

import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { BodycamError } from '../../firmware/errors.js';
import { CentralReader, type CentralConfig } from './central.js';

export interface CentralView {
  /** The station whose part this is. */
  station: string;
  /** A private folder laid out as the station's store. */
  dir: string;
  /** s3://bucket/prefix#station, for reports. */
  name: string;
  /** Objects whose bytes did not hash to their name (each left out of the view). */
  problems: { path: string; code: string; message: string }[];
  close(): void;
}

/** Paths a station's tree may hold in the central store: relative, no "..", no empty parts. */
function safeRelative(path: string): boolean {
  return !path.startsWith('/') && path.split('/').every((p) => p !== '' && p !== '.' && p !== '..') && /^(trust|docks|devices|log)\//.test(path);
}

/** Lay a station's part of the central store out in a private temporary folder. */
export async function openCentralView(config: CentralConfig, station?: string, o: { parallel?: number } = {}): Promise<CentralView> {
  const reader = new CentralReader(config);
  const dir = mkdtempSync(join(tmpdir(), 'bodycam-central-'));
  const problems: CentralView['problems'] = [];
  try {
    const stations = await reader.stations();
    const which = station ?? (stations.length === 1 ? stations[0] : undefined);
    if (which === undefined) throw new BodycamError('E_USAGE', stations.length ? `${reader.url} holds the stores of ${stations.length} stations (${stations.join(', ')}): name one with --station ID` : `${reader.url} holds no station's evidence`);
    if (!stations.includes(which)) throw new BodycamError('E_CENTRAL_STATION', `${reader.url} holds nothing from station ${which} (it holds ${stations.join(', ') || 'none'})`);
    const files = await reader.files(which);
    const queue = [...files];
    const worker = async () => {
      for (let f = queue.shift(); f; f = queue.shift()) {
        if (!safeRelative(f.path)) {
          problems.push({ path: f.path, code: 'E_CENTRAL_PATH', message: 'not a path a station\'s store holds; not laid out' });
          continue;
        }
        const path = join(dir, f.path);
        mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
        const hash = createHash('sha256');
        const tap = new Transform({
          transform(chunk: Buffer, _enc, done) {
            hash.update(chunk);
            done(null, chunk);
          },
        });
        await pipeline(await reader.objectStream(f.sha256), tap, createWriteStream(path, { mode: 0o400 }));
        const got = hash.digest('hex');
        if (got !== f.sha256) {
          rmSync(path);
          problems.push({ path: f.path, code: 'E_CENTRAL_OBJECT', message: `the object store returned bytes whose SHA-256 is ${got}, not ${f.sha256}; left out` });
        }
      }
    };
    await Promise.all(Array.from({ length: o.parallel ?? 4 }, worker));
    const leaves = await reader.leaves(which);
    const db = new Database(join(dir, 'index.sqlite'));
    try {
      db.exec('CREATE TABLE log (idx INTEGER PRIMARY KEY, leaf BLOB NOT NULL)');
      const put = db.prepare('INSERT INTO log (idx, leaf) VALUES (?, ?)');
      db.transaction(() => leaves.forEach((leaf, i) => put.run(i, leaf)))();
    } finally {
      db.close();
    }
    return { station: which, dir, name: `${reader.url}#${which}`, problems, close: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  } finally {
    await reader.close();
  }
}
