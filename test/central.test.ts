// Dock stations forwarding to the central store on the real engines: Ceph's RADOS gateway (a
// single-node cluster with one memstore OSD) and PostgreSQL, started for this file by
// toolchain/central-servers.sh. Several stations at once; a forwarder killed mid-object; the
// object store refusing and timing out; PostgreSQL restarted mid-run; and verify and export on
// the central store giving the same answers as on the station's own store.

import test from 'ava';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ListMultipartUploadsCommand, ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';
import { repoRoot } from '../host-sim/xs/bundle.js';
import { CentralStore } from '../dock-station/central/central-store.js';
import { ensureSchema } from '../evidence/central/central.js';
import { Forwarder, type ForwardEvent } from '../dock-station/central/forward.js';
import { EvidenceStore } from '../dock-station/store.js';
import { verifyCommand } from '../cli/verify.js';
import { exportCommand } from '../cli/export.js';
import { centralAvailable, startCentralServers, TcpProxy, type CentralServers } from './helpers/central.js';
import { dock, dockIdentity, rootFile, seed, startCamera, startStation } from './helpers/dock.js';
import { writeDockIdentity } from '../dock-station/identity.js';
import { tempDir } from './helpers/tmp.js';

const available = centralAvailable();
const serial = available ? test.serial : test.skip;
let servers: CentralServers | undefined;
const ROOT = rootFile();

test.before(() => {
  if (!available) return;
  servers = startCentralServers();
  // In-process verify and export read the object store's keys from the environment, as the command does.
  process.env.AWS_ACCESS_KEY_ID = servers.env.S3_ACCESS_KEY;
  process.env.AWS_SECRET_ACCESS_KEY = servers.env.S3_SECRET_KEY;
  process.env.AWS_ENDPOINT_URL_S3 = servers.env.S3_ENDPOINT;
});
test.after.always(() => servers?.stop());

/** A station's store after one camera docked `segments` segments at it (the station then stopped). */
async function stationStore(o: { dock: string; seedByte: number; device: string; segments: number; frames?: number; bodyBytes?: number }): Promise<string> {
  const { station, port, storeDir } = await startStation({ identity: dockIdentity(o.dock, o.seedByte) });
  const frames = o.frames ?? 20;
  const bodyBytes = o.bodyBytes ?? 8 * 1024;
  const camera = await startCamera('node', { id: o.device, flashBlocks: Math.max(512, Math.ceil((o.segments * frames * (bodyBytes + 512)) / 4096) + 256) });
  try {
    await camera.engine.call('dock.camera.record', { segments: o.segments, frames, bodyBytes });
    const s = await dock(camera, port);
    if (s.pending.length) throw new Error(`camera kept ${s.pending.length} segments`);
  } finally {
    await camera.close();
    await station.close();
  }
  return storeDir;
}

/** `bodycam verify --json` on a store (a directory or s3://…), with the store's name made neutral. */
async function verifyReport(args: string[], name: string): Promise<{ code: number; text: string; report: Record<string, unknown> }> {
  const lines: string[] = [];
  const code = await verifyCommand([...args, '--root', ROOT, '--json'], (l) => lines.push(l));
  const text = lines.join('\n').split(name).join('<store>');
  return { code, text, report: JSON.parse(text) as Record<string, unknown> };
}

function centralArgs(bucket: string, station: string): string[] {
  return ['--store', `s3://${bucket}`, '--db', servers!.config(bucket).database, '--station', station];
}

/** verify on the station's store and on its part of the central store: the same report. */
async function sameVerify(t: import('ava').ExecutionContext, storeDir: string, bucket: string, station: string): Promise<void> {
  const local = await verifyReport([storeDir], storeDir);
  const central = await verifyReport(centralArgs(bucket, station), `s3://${bucket}#${station}`);
  t.is(local.code, 0, local.text.slice(0, 2000));
  t.is(central.code, local.code, central.text.slice(0, 2000));
  t.deepEqual(central.report, local.report);
}

function sha(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

async function versionsPerKey(s3: S3Client, bucket: string): Promise<Map<string, number>> {
  const m = new Map<string, number>();
  let keyMarker: string | undefined;
  for (;;) {
    const r = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket, KeyMarker: keyMarker }));
    for (const v of r.Versions ?? []) m.set(v.Key!, (m.get(v.Key!) ?? 0) + 1);
    if (!r.IsTruncated) return m;
    keyMarker = r.NextKeyMarker;
  }
}

serial('three stations forward at once into one central store: each station\'s part verifies exactly as its own store; every object is stored once; the index holds every segment', async (t) => {
  const stores = await Promise.all([
    stationStore({ dock: 'DOCK-A', seedByte: 11, device: 'CAM-A1', segments: 3 }),
    stationStore({ dock: 'DOCK-B', seedByte: 12, device: 'CAM-B1', segments: 2 }),
    stationStore({ dock: 'DOCK-C', seedByte: 13, device: 'CAM-C1', segments: 4 }),
  ]);
  const central = new CentralStore(servers!.config('concurrent'));
  try {
    const reports = await Promise.all(stores.map((storeDir) => new Forwarder({ storeDir, central }).pass()));
    t.deepEqual(reports.map((r) => [r.station, r.segments]), [['DOCK-A', 3], ['DOCK-B', 2], ['DOCK-C', 4]]);
    t.true(central.objectLock, 'the RADOS gateway keeps objects under object-lock retention');
    // Again, all at once: nothing to send.
    const again = await Promise.all(stores.map((storeDir) => new Forwarder({ storeDir, central }).pass()));
    t.deepEqual(again.map((r) => [r.sent, r.uploaded, r.leaves]), [[0, 0, 0], [0, 0, 0], [0, 0, 0]]);
    const segs = await central.pool.query<{ station: string; n: string }>('SELECT station, count(*) AS n FROM bodycam_segments GROUP BY station ORDER BY station');
    t.deepEqual(segs.rows.map((r) => [r.station, Number(r.n)]), [['DOCK-A', 3], ['DOCK-B', 2], ['DOCK-C', 4]]);
    // The agency root's file is the same bytes at all three: one object, three names.
    const rootSha = sha(join(stores[0], 'trust', 'root.pub'));
    const names = await central.pool.query('SELECT station FROM bodycam_files WHERE sha256 = $1', [rootSha]);
    t.is(names.rowCount, 3);
    const versions = await versionsPerKey(central.s3, 'concurrent');
    const objects = await central.pool.query<{ n: string }>('SELECT count(*) AS n FROM bodycam_objects');
    t.is(versions.size, Number(objects.rows[0].n));
    t.true([...versions.values()].every((n) => n === 1), 'no object was written twice');
    const held = await central.head(rootSha);
    t.is(held?.lockMode, 'COMPLIANCE');
    t.true(held!.retainUntil!.getTime() > Date.now() + 7 * 365 * 86_400_000 - 86_400_000);
    for (const [i, station] of ['DOCK-A', 'DOCK-B', 'DOCK-C'].entries()) await sameVerify(t, stores[i], 'concurrent', station);
    // Export from the central store: the same file, byte for byte, and the same account of it.
    const exp = async (store: string[], name: string) => {
      const out = tempDir('bodycam-central-export-');
      const lines: string[] = [];
      const code = await exportCommand([...store, '--device', 'CAM-A1', '--root', ROOT, '--format', 'avi', '--out', join(out, 'export.avi'), '--json'], (l) => lines.push(l));
      return { code, file: join(out, 'export.avi'), json: JSON.parse(lines.join('\n').split(name).join('<store>').split(out).join('<out>')) as Record<string, unknown> };
    };
    const a = await exp(['--store', stores[0]], stores[0]);
    const b = await exp(centralArgs('concurrent', 'DOCK-A'), 's3://concurrent#DOCK-A');
    t.is(a.code, 0);
    t.is(b.code, 0);
    t.is(sha(b.file), sha(a.file));
    t.deepEqual(b.json, a.json);
  } finally {
    await central.close();
  }
});

serial('a station forwards in the background after each docking, and prunes local media only once the central store holds them verified and in its custody log', async (t) => {
  const { station, port, storeDir } = await startStation({ identity: dockIdentity('DOCK-BG', 21) });
  const central = new CentralStore(servers!.config('background'));
  const events: ForwardEvent[] = [];
  const forwarder = new Forwarder({ storeDir, central, station: 'DOCK-BG', onEvent: (e) => events.push(e) });
  forwarder.start();
  const camera = await startCamera('node', { id: 'CAM-BG1' });
  try {
    await camera.engine.call('dock.camera.record', { segments: 2, frames: 20, bodyBytes: 8 * 1024 });
    await dock(camera, port);
    forwarder.kick();
    const r = await forwarder.settled();
    t.is(r.segments, 2);
  } finally {
    await forwarder.stop();
    await camera.close();
    await station.close();
  }
  // After the station's stop (its last checkpoint), forward once more, then prune.
  await new Forwarder({ storeDir, central }).pass();
  await sameVerify(t, storeDir, 'background', 'DOCK-BG');
  const store = new EvidenceStore(storeDir);
  try {
    const media = join(storeDir, 'devices', 'CAM-BG1', 'segments', '0000000000.media');
    t.true(existsSync(media));
    const pr = await new Forwarder({ storeDir, central, prune: true, store }).pass();
    t.is(pr.pruned, 2);
    t.false(existsSync(media));
    t.deepEqual(store.custody('CAM-BG1').filter((c) => c.event === 'segment-pruned').length, 2);
  } finally {
    store.close();
    await central.close();
  }
  // The central copy still verifies whole (the pruning entries are forwarded as the log grows).
  const c = await verifyReport(centralArgs('background', 'DOCK-BG'), 's3://background#DOCK-BG');
  t.is(c.code, 0, c.text.slice(0, 2000));
});

serial('the object store refusing, then timing out: the pass fails with E_CENTRAL_UNAVAILABLE, nothing is pruned or recorded; the background forwarder backs off and finishes once it answers', async (t) => {
  const storeDir = await stationStore({ dock: 'DOCK-F', seedByte: 31, device: 'CAM-F1', segments: 2 });
  const rgw = new URL(servers!.env.S3_ENDPOINT);
  const proxy = new TcpProxy({ host: rgw.hostname, port: Number(rgw.port) });
  const endpoint = await proxy.listen();
  const central = new CentralStore(servers!.config('faults', { endpoint, requestTimeoutMs: 1500 }));
  const store = new EvidenceStore(storeDir);
  let forwarder: Forwarder | undefined;
  try {
    proxy.mode = 'refuse';
    const refused = await t.throwsAsync(new Forwarder({ storeDir, central, prune: true, store }).pass());
    t.is((refused as { code?: string }).code, 'E_CENTRAL_UNAVAILABLE');
    proxy.mode = 'stall';
    const t0 = Date.now();
    const stalled = await t.throwsAsync(new Forwarder({ storeDir, central, prune: true, store }).pass());
    t.is((stalled as { code?: string }).code, 'E_CENTRAL_UNAVAILABLE');
    t.true(Date.now() - t0 < 20_000);
    t.true(existsSync(join(storeDir, 'devices', 'CAM-F1', 'segments', '0000000001.media')));

    // In the background: retries with growing waits while refused, then done.
    proxy.mode = 'refuse';
    await ensureSchema(central.pool, central.url);
    const events: ForwardEvent[] = [];
    forwarder = new Forwarder({ storeDir, central, onEvent: (e) => events.push(e), minBackoffMs: 100, maxBackoffMs: 400 });
    forwarder.start();
    while (events.filter((e) => e.event === 'forward-retry').length < 3) await new Promise((r) => setTimeout(r, 50));
    const waits = events.filter((e) => e.event === 'forward-retry').map((e) => e.inMs as number);
    t.deepEqual(waits.slice(0, 3), [100, 200, 400]);
    t.is((await central.pool.query("SELECT 1 FROM bodycam_files WHERE station = 'DOCK-F'")).rowCount, 0, 'nothing recorded while the object store refused');
    proxy.mode = 'pass';
    const r = await forwarder.settled(60_000);
    await forwarder.stop();
    t.is(r.segments, 2);
    proxy.cut();
  } finally {
    await forwarder?.stop();
    store.close();
    await central.close();
    await proxy.close();
  }
  await sameVerify(t, storeDir, 'faults', 'DOCK-F');
});

serial('PostgreSQL restarted mid-forward: the forwarder retries and the central store ends complete, each row once', async (t) => {
  const storeDir = await stationStore({ dock: 'DOCK-P', seedByte: 41, device: 'CAM-P1', segments: 6 });
  const central = new CentralStore(servers!.config('pgrestart'));
  const events: ForwardEvent[] = [];
  let restarted = false;
  const forwarder = new Forwarder({
    storeDir,
    central,
    parallel: 1,
    minBackoffMs: 200,
    maxBackoffMs: 1000,
    onEvent: (e) => {
      events.push(e);
      if (process.env.BODYCAM_DEBUG) console.log(Date.now(), JSON.stringify(e).slice(0, 200));
      if (e.event === 'forward-file' && !restarted) {
        restarted = true;
        servers!.restartPostgres();
      }
    },
  });
  try {
    forwarder.start();
    const r = await forwarder.settled(120_000);
    await forwarder.stop();
    t.true(restarted);
    t.true(events.some((e) => e.event === 'forward-retry'), 'the restart cost a pass');
    t.is(r.segments, 6);
    const files = await central.pool.query<{ n: string }>("SELECT count(*) AS n FROM bodycam_files WHERE station = 'DOCK-P'");
    t.is(Number(files.rows[0].n), r.files);
  } finally {
    await central.close();
  }
  await sameVerify(t, storeDir, 'pgrestart', 'DOCK-P');
});

serial('`bodycam dock forward --from DIR` killed with SIGKILL mid multipart upload: the next run aborts the leftover upload and completes; nothing is lost or stored twice', async (t) => {
  // Segments of about 6 MiB, sent in 5 MiB parts.
  const storeDir = await stationStore({ dock: 'DOCK-K', seedByte: 51, device: 'CAM-K1', segments: 3, frames: 40, bodyBytes: 150 * 1024 });
  const env = servers!.childEnv();
  const args = [join(repoRoot, 'bin', 'bodycam.js'), 'dock', 'forward', '--from', storeDir, '--store', 's3://killed', '--db', servers!.config('killed').database, '--part-mib', '5', '--json'];
  const central = new CentralStore(servers!.config('killed'));
  try {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exit = new Promise<string | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
    createInterface({ input: child.stdout }).on('line', () => undefined);
    await central.prepare();
    // Wait until a multipart upload is under way, then kill.
    for (let i = 0; ; i++) {
      const r = await central.pool.query('SELECT 1 FROM bodycam_multipart');
      if (r.rowCount) break;
      if (i > 2000) throw new Error('no multipart upload began');
      await new Promise((res) => setTimeout(res, 10));
    }
    child.kill('SIGKILL');
    t.is(await exit, 'SIGKILL');
    const open = await central.s3.send(new ListMultipartUploadsCommand({ Bucket: 'killed' }));
    t.true((open.Uploads ?? []).length >= 1, 'the killed run left an upload open');

    const again = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    createInterface({ input: again.stdout }).on('line', (l) => lines.push(l));
    const stderr: string[] = [];
    again.stderr.on('data', (b: Buffer) => stderr.push(b.toString()));
    t.is(await new Promise((resolve) => again.on('exit', resolve)), 0, stderr.join(''));
    const pass = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((e) => e.event === 'forward-pass')!;
    t.true((pass.aborted as number) >= 1);
    t.is(pass.segments, 3);
    t.deepEqual((await central.s3.send(new ListMultipartUploadsCommand({ Bucket: 'killed' }))).Uploads ?? [], []);
    const versions = await versionsPerKey(central.s3, 'killed');
    t.true([...versions.values()].every((n) => n === 1), 'no object was written twice');
    t.is(versions.size, Number((await central.pool.query<{ n: string }>('SELECT count(*) AS n FROM bodycam_objects')).rows[0].n));
    const big = await central.pool.query<{ upload: string }>("SELECT upload FROM bodycam_objects WHERE kind = 'media'");
    t.true(big.rows.every((r) => r.upload === 'multipart:2' || r.upload === 'found'), JSON.stringify(big.rows));
  } finally {
    await central.close();
  }
  await sameVerify(t, storeDir, 'killed', 'DOCK-K');
});

serial('`bodycam dock --central` as a real process: it forwards after the docking, says so on stdout, and stops cleanly', async (t) => {
  const identityDir = tempDir('bodycam-dockid-');
  const storeDir = tempDir('bodycam-store-');
  const id = dockIdentity('DOCK-CLI', 71);
  writeDockIdentity(identityDir, { seed: seed(71), certificate: id.certificate, rootKey: id.rootKey });
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'bodycam.js'), 'dock', '--listen', '127.0.0.1:0', '--json', '--store', storeDir, '--identity', identityDir, '--central', 's3://cli', '--db', servers!.config('cli').database], { env: servers!.childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  const events: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => {
    try {
      events.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      // not JSON
    }
    for (const w of waiters) w();
  });
  const stderr: string[] = [];
  child.stderr.on('data', (b: Buffer) => stderr.push(b.toString()));
  const exit = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  const waitFor = (pred: (e: Record<string, unknown>) => boolean) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const check = () => {
        const e = events.find(pred);
        if (e) resolve(e);
      };
      waiters.push(check);
      void exit.then((code) => reject(new Error(`bodycam dock exited (${code}): ${stderr.join('')}`)));
      check();
    });
  const camera = await startCamera('node', { id: 'CAM-CLI1' });
  try {
    const port = (await waitFor((e) => e.event === 'listening')).port as number;
    await camera.engine.call('dock.camera.record', { segments: 2, frames: 20, bodyBytes: 8 * 1024 });
    await dock(camera, port);
    const pass = await waitFor((e) => e.event === 'forward-pass' && e.segments === 2);
    t.is(pass.station, 'DOCK-CLI');
    child.kill('SIGTERM');
    t.is(await exit, 0, stderr.join(''));
  } finally {
    child.kill('SIGKILL');
    await camera.close();
  }
  // The station's stop logged and checkpointed after the last pass: forward that too, then compare.
  const central = new CentralStore(servers!.config('cli'));
  try {
    await new Forwarder({ storeDir, central }).pass();
  } finally {
    await central.close();
  }
  await sameVerify(t, storeDir, 'cli', 'DOCK-CLI');
});
