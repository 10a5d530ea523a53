// The station's files: secrets 0600 from their first byte, the whole store the station's alone
// (folders 0700, files 0600, evidence read-only 0400), ids checked against the one id rule before
// any path is built, and no symlink followed inside the store.

import test from 'ava';
import { lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { writeDockIdentity } from '../dock-station/identity.js';
import { repoRoot } from '../host-sim/xs/bundle.js';
import { dock, dockIdentity, root, seed, startCamera, startStation } from './helpers/dock.js';
import { tempDir } from './helpers/tmp.js';

function walk(dir: string, out: { path: string; mode: number; dir: boolean; link: boolean }[] = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = lstatSync(path);
    out.push({ path, mode: st.mode & 0o777, dir: st.isDirectory(), link: st.isSymbolicLink() });
    if (st.isDirectory()) walk(path, out);
  }
  return out;
}

test('[node] dock.seed is 0600 from its first byte, even over a stale temp file left 0644', (t) => {
  const dir = tempDir('bodycam-dockid-');
  // A temp file a crash left behind, world-readable: reusing it would keep its mode.
  writeFileSync(join(dir, `dock.seed.tmp-${process.pid}`), 'stale', { mode: 0o644 });
  const id = dockIdentity();
  writeDockIdentity(dir, { seed: seed(2), certificate: id.certificate, rootKey: root.publicKey });
  t.is(lstatSync(join(dir, 'dock.seed')).mode & 0o777, 0o600);
  t.deepEqual(readdirSync(dir).sort(), ['dock.cert.cose', 'dock.seed', 'root.pub']);
});

test('[node] bodycam dock under umask 000: every folder of its store is 0700 and every file 0600 (evidence 0400) from its first byte, the SQLite index and its WAL and shared memory too', async (t) => {
  // With no umask, a file or folder made without its own mode would come out 0666 / 0777; the
  // station chmods only the store's root and an index an older version made, so what is left is
  // the mode each was created with.
  const base = tempDir('bodycam-modes-');
  const storeDir = join(base, 'store');
  const identityDir = join(base, 'identity');
  const id = dockIdentity('DOCK-7', 2);
  writeDockIdentity(identityDir, { seed: seed(2), certificate: id.certificate, rootKey: root.publicKey });
  const child = spawn('/bin/sh', ['-c', 'umask 000 && exec "$0" "$@"', process.execPath, join(repoRoot, 'bin', 'bodycam.js'), 'dock', '--listen', '127.0.0.1:0', '--store', storeDir, '--identity', identityDir, '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve) => lines.on('line', (line) => {
    const e = JSON.parse(line) as { event: string; port?: number };
    if (e.event === 'listening') resolve(e.port!);
  }));
  const camera = await startCamera('node');
  const check = (when: string) => {
    const entries = walk(storeDir);
    // Stored objects, and their names in the device and dock trees (hard links), are read-only.
    const evidence = (p: string) => ['objects', 'devices', 'docks'].some((d) => p.startsWith(join(storeDir, d) + '/'));
    t.deepEqual(entries.filter((e) => e.dir && e.mode !== 0o700).map((e) => `${e.path} ${e.mode.toString(8)}`), [], `${when}: folders`);
    t.deepEqual(entries.filter((e) => !e.dir && e.mode !== (evidence(e.path) ? 0o400 : 0o600)).map((e) => `${e.path} ${e.mode.toString(8)}`), [], `${when}: files`);
    t.is(lstatSync(storeDir).mode & 0o777, 0o700);
    return entries.map((e) => e.path.slice(storeDir.length + 1));
  };
  try {
    await camera.engine.call('dock.camera.record', { segments: 2 });
    const s = await dock(camera, port);
    t.deepEqual(s.pending, []);
    const names = check('while it runs');
    for (const f of ['index.sqlite', 'index.sqlite-wal', 'index.sqlite-shm', 'trust/root.pub', 'devices/CAM-0001/segments/0000000000.media', 'devices/CAM-0001/receipts']) t.true(names.includes(f), f);
    t.true(names.some((n) => n.startsWith('objects/sha256/')), names.join(' '));
  } finally {
    await camera.close();
    child.kill('SIGTERM');
  }
  t.is(await exit, 0);
  const names = check('after it stopped');
  t.true(names.some((n) => n.startsWith('log/checkpoints/')), names.join(' '));
});

test('[node] a camera certificate whose id is not a safe name is refused before any path is built', async (t) => {
  const { station, port, storeDir } = await startStation();
  const camera = await startCamera('node', { id: '..' });
  try {
    await camera.engine.call('dock.camera.record', { segments: 1 });
    const s = await dock(camera, port);
    await station.idle();
    t.is(station.results[0].code, 'E_CERT_ID');
    t.deepEqual(s.pending, [0]);
    t.deepEqual(readdirSync(join(storeDir, 'partial')), []);
  } finally {
    await camera.close();
    await station.close();
  }
});

test('[node] symlinks planted in the store are never followed: the outside stays untouched, the camera keeps what could not be stored', async (t) => {
  const outside = tempDir('bodycam-outside-');
  writeFileSync(join(outside, 'victim'), 'untouched');
  const { station, port, storeDir } = await startStation();
  // partial/CAM-0001 → a folder outside the store; a device-tree name → a file outside.
  symlinkSync(outside, join(storeDir, 'partial', 'CAM-0001'));
  mkdirSync(join(storeDir, 'devices', 'CAM-0002', 'segments'), { recursive: true });
  symlinkSync(join(outside, 'victim'), join(storeDir, 'devices', 'CAM-0002', 'segments', '0000000000.media'));
  const one = await startCamera('node');
  const two = await startCamera('node', { id: 'CAM-0002' });
  try {
    await one.engine.call('dock.camera.record', { segments: 1 });
    await two.engine.call('dock.camera.record', { segments: 1 });
    const s1 = await dock(one, port);
    const s2 = await dock(two, port);
    await station.idle();
    t.deepEqual(readdirSync(outside), ['victim']);
    t.is(readFileSync(join(outside, 'victim'), 'utf8'), 'untouched');
    t.deepEqual(s1.pending, [0], 'nothing could be stored for CAM-0001: it keeps its segment');
    t.deepEqual(station.results.find((r) => r.device === 'CAM-0001')?.rejected.map((r) => r.code), ['E_STORE_SYMLINK']);
    // CAM-0002's planted link was replaced by the real file, not written through.
    t.deepEqual(s2.pending, []);
    t.false(lstatSync(join(storeDir, 'devices', 'CAM-0002', 'segments', '0000000000.media')).isSymbolicLink());
  } finally {
    await one.close();
    await two.close();
    await station.close();
  }
});
