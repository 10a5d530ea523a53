// The station's files: secrets 0600 from their first byte, evidence read-only, ids checked
// against the one id rule before any path is built, and no symlink followed inside the store.

import test from 'ava';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDockIdentity } from '../dock-station/identity.js';
import { dock, dockIdentity, root, seed, startCamera, startStation } from './helpers/dock.js';

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
  const dir = mkdtempSync(join(tmpdir(), 'bodycam-dockid-'));
  // A temp file a crash left behind, world-readable: reusing it would keep its mode.
  writeFileSync(join(dir, `dock.seed.tmp-${process.pid}`), 'stale', { mode: 0o644 });
  const id = dockIdentity();
  writeDockIdentity(dir, { seed: seed(2), certificate: id.certificate, rootKey: root.publicKey });
  t.is(lstatSync(join(dir, 'dock.seed')).mode & 0o777, 0o600);
  t.deepEqual(readdirSync(dir).sort(), ['dock.cert.cose', 'dock.seed', 'root.pub']);
});

test('[node] stored evidence is read-only and the store folders are the station\'s alone', async (t) => {
  const { station, port, storeDir } = await startStation();
  const camera = await startCamera('node');
  try {
    await camera.engine.call('dock.camera.record', { segments: 2 });
    const s = await dock(camera, port);
    await station.idle();
    t.deepEqual(s.pending, []);
    const entries = [...walk(join(storeDir, 'objects')), ...walk(join(storeDir, 'devices'))];
    t.true(entries.length > 10);
    t.deepEqual(entries.filter((e) => !e.dir && e.mode !== 0o440).map((e) => `${e.path} ${e.mode.toString(8)}`), []);
    t.deepEqual(entries.filter((e) => e.dir && e.mode !== 0o750).map((e) => `${e.path} ${e.mode.toString(8)}`), []);
    t.is(lstatSync(join(storeDir, 'index.sqlite')).mode & 0o777, 0o640);
  } finally {
    await camera.close();
    await station.close();
  }
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
  const outside = mkdtempSync(join(tmpdir(), 'bodycam-outside-'));
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
