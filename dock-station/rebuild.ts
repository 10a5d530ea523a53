// Rebuild a station's index from its signed files (`bodycam dock --rebuild-index`), when the
// index was missing or damaged. Only what verifies goes back in: a device tree is indexed if its
// certificate verifies against the agency root; a segment if its manifest verifies with that
// device's key, names that device and sequence, and its media has the manifest's length and
// SHA-256; receipts as they are (they are the dock's own signed statements). The custody rows
// that can still be read from the damaged index are carried over; an `index-rebuilt` event says
// what was restored and what was left out, and why.

import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { errorMessage } from '../firmware/errors.js';
import { verifyCertificate } from '../firmware/signing/certificate.js';
import type { Ed25519 } from '../firmware/signing/ed25519.js';
import { verifyManifest } from '../firmware/signing/manifest.js';
import { peekReceipt } from '../firmware/signing/receipt.js';
import { nodeDigest } from '../host/ports.js';
import { isSafeId } from '../firmware/signing/ids.js';
import type { EvidenceStore } from './store.js';

export interface RebuildReport {
  devices: number;
  segments: number;
  receipts: number;
  custodyRows: number;
  skipped: { file: string; why: string }[];
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Regular files of a folder (no symlinks followed), sorted. */
function files(dir: string): string[] {
  if (!existsSync(dir) || !lstatSync(dir).isDirectory()) return [];
  return readdirSync(dir).filter((n) => lstatSync(join(dir, n)).isFile()).sort();
}

export function rebuildIndex(store: EvidenceStore, o: { dock: string; rootKey: Uint8Array; ed25519: Ed25519; damaged?: string }): RebuildReport {
  const report: RebuildReport = { devices: 0, segments: 0, receipts: 0, custodyRows: 0, skipped: [] };
  const db = store.db;
  const now = Date.now();
  // Objects, and which object each hard link in the device tree is (by inode: no re-hashing).
  const byInode = new Map<number, string>();
  const putObject = db.prepare('INSERT OR IGNORE INTO objects (sha256, size, kind, stored_at) VALUES (?, ?, ?, ?)');
  const objects = join(store.dir, 'objects', 'sha256');
  db.transaction(() => {
    for (const prefix of readdirSync(objects)) {
      for (const name of files(join(objects, prefix))) {
        const st = statSync(join(objects, prefix, name));
        byInode.set(st.ino, name);
        putObject.run(name, st.size, 'object', now);
      }
    }
  })();
  const devicesDir = join(store.dir, 'devices');
  const devices = existsSync(devicesDir) ? readdirSync(devicesDir).sort() : [];
  for (const device of devices) {
    const dir = join(devicesDir, device);
    if (!isSafeId(device) || !lstatSync(dir).isDirectory()) {
      report.skipped.push({ file: dir, why: 'not a device folder' });
      continue;
    }
    let key: Uint8Array;
    try {
      const cert = verifyCertificate(new Uint8Array(readFileSync(join(dir, 'certificate.cose'))), o.rootKey, { digest: nodeDigest, ed25519: o.ed25519, kind: 'device' });
      if (cert.id !== device) throw new Error(`the certificate is for ${cert.id}`);
      key = cert.publicKey;
    } catch (e) {
      report.skipped.push({ file: join(dir, 'certificate.cose'), why: errorMessage(e) });
      continue;
    }
    db.prepare('INSERT OR IGNORE INTO devices (device, first_seen, last_seen) VALUES (?, ?, ?)').run(device, now, now);
    report.devices++;
    const segDir = join(dir, 'segments');
    db.transaction(() => {
      for (const name of files(segDir).filter((n) => n.endsWith('.manifest.cose'))) {
        const file = join(segDir, name);
        try {
          const bytes = new Uint8Array(readFileSync(file));
          const m = verifyManifest(bytes, key, o.ed25519);
          if (m.device !== device || `${String(m.seq).padStart(10, '0')}.manifest.cose` !== name) throw new Error(`the manifest is for ${m.device} segment ${m.seq}`);
          const media = join(segDir, name.replace('.manifest.cose', '.media'));
          if (!existsSync(media) || !lstatSync(media).isFile()) throw new Error('its media is missing');
          const st = statSync(media);
          const mediaSha = byInode.get(st.ino) ?? sha256(readFileSync(media));
          if (st.size !== m.bytes || mediaSha !== Buffer.from(m.media).toString('hex')) throw new Error("its media is not the manifest's");
          db.prepare("INSERT OR REPLACE INTO segments (device, seq, length, manifest_sha256, durable, state, media_sha256, session, updated_at) VALUES (?, ?, ?, ?, ?, 'stored', ?, 'rebuilt', ?)").run(device, m.seq, m.bytes, sha256(bytes), m.bytes, mediaSha, now);
          report.segments++;
        } catch (e) {
          report.skipped.push({ file, why: errorMessage(e) });
        }
      }
      for (const name of files(join(dir, 'receipts'))) {
        const file = join(dir, 'receipts', name);
        try {
          const bytes = new Uint8Array(readFileSync(file));
          const r = peekReceipt(bytes).receipt;
          db.prepare('INSERT INTO receipts (device, session, sha256, segments, at) VALUES (?, ?, ?, ?, ?)').run(device, 'rebuilt', sha256(bytes), r.entries.length, r.utc);
          report.receipts++;
        } catch (e) {
          report.skipped.push({ file, why: errorMessage(e) });
        }
      }
    })();
  }
  // The custody log: every row the damaged index still gives up, in order.
  if (o.damaged && existsSync(o.damaged)) {
    let old: Database.Database | undefined;
    const rows: { at: number; dock: string; session: string | null; device: string | null; event: string; detail: string | null }[] = [];
    try {
      old = new Database(o.damaged, { readonly: true, fileMustExist: true });
      for (const r of old.prepare('SELECT at, dock, session, device, event, detail FROM custody ORDER BY id').iterate() as Iterable<{ at: number; dock: string; session: string | null; device: string | null; event: string; detail: string | null }>) rows.push(r);
    } catch (e) {
      report.skipped.push({ file: o.damaged, why: `custody rows after ${rows.length} could not be read (${errorMessage(e)})` });
    } finally {
      old?.close();
    }
    const put = db.prepare('INSERT INTO custody (at, dock, session, device, event, detail) VALUES (?, ?, ?, ?, ?, ?)');
    db.transaction(() => {
      for (const r of rows) put.run(r.at, r.dock, r.session, r.device, r.event, r.detail);
    })();
    report.custodyRows = rows.length;
  }
  store.log('index-rebuilt', { dock: o.dock, detail: { ...report, skipped: report.skipped.slice(0, 100) } });
  return report;
}
