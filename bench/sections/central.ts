// Central-store figures (docs/scale.md): a station forwarding its store to the central store — a
// single-node Ceph cluster's RADOS gateway and PostgreSQL on this machine — against a plain S3
// upload of the same bytes (PutObject of every file, 4 at a time, as `aws s3 cp --recursive`
// does; no read-back, no index) in the same run; and stations forwarding at once.

import { PutObjectCommand, CreateBucketCommand } from '@aws-sdk/client-s3';
import { readFileSync, readdirSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { CentralStore } from '../../dock-station/central/central-store.js';
import { Forwarder } from '../../dock-station/central/forward.js';
import { s3Client } from '../../evidence/central/central.js';
import { centralAvailable, startCentralServers } from '../../test/helpers/central.js';
import { dock, dockIdentity, startCamera, startStation } from '../../test/helpers/dock.js';
import type { Report } from '../report.js';

// Ten-second segments at 15 fps of 30 KiB VGA frames: 4.4 MiB each, as a camera records them.
const SEGMENTS = 12;
const RECORD = { segments: SEGMENTS, frames: 150, bodyBytes: 30 * 1024 };
const STATIONS = 3;

async function stationStore(dockId: string, seedByte: number, device: string): Promise<string> {
  const { station, port, storeDir } = await startStation({ identity: dockIdentity(dockId, seedByte) });
  const camera = await startCamera('node', { id: device, flashBlocks: 16384 });
  try {
    await camera.engine.call('dock.camera.record', RECORD);
    const s = await dock(camera, port, 300_000);
    if (s.pending.length) throw new Error(`${device} kept ${s.pending.length} segments`);
  } finally {
    await camera.close();
    await station.close();
  }
  return storeDir;
}

function treeFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    let names: string[];
    try {
      names = readdirSync(join(dir, rel));
    } catch {
      return;
    }
    for (const n of names) {
      const r = `${rel}/${n}`;
      const st = lstatSync(join(dir, r));
      if (st.isDirectory()) walk(r);
      else if (st.isFile()) out.push(r);
    }
  };
  for (const top of ['trust', 'docks', 'devices', 'log']) walk(top);
  return out;
}

export default async function central(report: Report): Promise<void> {
  report.section('central: forwarding a station\'s store to Ceph RGW (S3) + PostgreSQL, against a plain S3 upload of the same bytes');
  if (!centralAvailable()) {
    report.note('Ceph (ceph-mon, ceph-osd, radosgw) or PostgreSQL is not installed: skipped (.ci/run installs them)');
    return;
  }
  const servers = startCentralServers();
  try {
    const stores: string[] = [];
    for (let i = 0; i < STATIONS; i++) stores.push(await stationStore(`DOCK-${i + 1}`, 60 + i, `CAM-${i + 1}`));
    const files = treeFiles(stores[0]);
    const bytes = files.reduce((n, f) => n + lstatSync(join(stores[0], f)).size, 0);
    const mib = bytes / 1048576;
    report.note(`one station's store: ${SEGMENTS} segments of ${(RECORD.frames * RECORD.bodyBytes / 1048576).toFixed(1)} MiB, ${files.length} files, ${mib.toFixed(1)} MiB`);

    // Baseline: every file of the tree PUT as it is, 4 at a time.
    const plain = s3Client(servers.config('plain'));
    await plain.send(new CreateBucketCommand({ Bucket: 'plain' }));
    const queue = [...files];
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let f = queue.shift(); f; f = queue.shift()) await plain.send(new PutObjectCommand({ Bucket: 'plain', Key: f, Body: readFileSync(join(stores[0], f)) }));
      }),
    );
    const plainMs = performance.now() - t0;
    plain.destroy();

    const one = new CentralStore(servers.config('forward'));
    await one.prepare();
    const t1 = performance.now();
    const r = await new Forwarder({ storeDir: stores[0], central: one }).pass();
    const fwdMs = performance.now() - t1;
    const t2 = performance.now();
    await new Forwarder({ storeDir: stores[0], central: one }).pass();
    const againMs = performance.now() - t2;
    await one.close();
    report.add({ name: 'forward one station (upload, read back and hash, index, custody log with proofs)', value: mib / (fwdMs / 1000), unit: 'MiB/s', baseline: { name: 'plain S3 upload of the same bytes, MiB/s', value: mib / (plainMs / 1000) } });
    report.add({ name: 'forward one station', value: r.segments / (fwdMs / 1000), unit: 'segments/s' });
    report.add({ name: 'forward again, nothing new (a station\'s idle pass)', value: againMs, unit: 'ms', baseline: { name: 'the first pass, ms', value: fwdMs } });

    // Stations at once into one central store.
    const many = new CentralStore(servers.config('many'));
    await many.prepare();
    const t3 = performance.now();
    // Each station its own connections, as separate stations have.
    const own = stores.map(() => new CentralStore(servers.config('many')));
    const rs = await Promise.all(stores.map((storeDir, i) => new Forwarder({ storeDir, central: own[i] }).pass()));
    const manyMs = performance.now() - t3;
    await many.close();
    for (const c of own) await c.close();
    const segs = rs.reduce((n, x) => n + x.segments, 0);
    report.add({ name: `${STATIONS} stations forwarding at once, together`, value: (mib * STATIONS) / (manyMs / 1000), unit: 'MiB/s', baseline: { name: 'one station, MiB/s', value: mib / (fwdMs / 1000) } });
    report.add({ name: `${STATIONS} stations forwarding at once, together`, value: segs / (manyMs / 1000), unit: 'segments/s' });
  } finally {
    servers.stop();
  }
}
