// Faults of the station's own storage: a disk that fills up mid-upload (a real, small tmpfs the
// test mounts), a restart on a full disk, and an index that is missing, empty or damaged.
// A full disk ends the session with E_STATION_FULL and no receipt for anything not durable, the
// camera keeps everything, the station stays up and says so, and takes evidence again once
// space is freed; a restart on a full disk comes up read-only. A store whose index is gone is
// refused unless the operator asks for the index to be rebuilt from the signed files.

import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statfsSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBodycamError } from '../firmware/errors.js';
import { hostEd25519 } from '../host/ed25519-node.js';
import { DockStation } from '../dock-station/station.js';
import { dock, dockIdentity, startCamera, startStation } from './helpers/dock.js';

const mounted = new Set<string>();
// A test that times out never reaches its finally: unmount whatever is left when the file ends.
test.after.always(() => {
  for (const dir of mounted) {
    try {
      execFileSync('umount', [dir], { stdio: 'pipe' });
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // already gone
    }
  }
});

/** Mount a tmpfs of `bytes` at a fresh folder; undefined (and why) where this machine can't. */
function smallDisk(bytes: number): { dir: string; unmount: () => void } | string {
  const dir = mkdtempSync(join(tmpdir(), 'bodycam-smalldisk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    return `mounting a tmpfs needs root (or CAP_SYS_ADMIN): ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`;
  }
  mounted.add(dir);
  return {
    dir,
    unmount: () => {
      try {
        execFileSync('umount', [dir], { stdio: 'pipe' });
      } finally {
        mounted.delete(dir);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

const probe = smallDisk(1024 * 1024);
const canMount = typeof probe !== 'string';
if (typeof probe !== 'string') probe.unmount();
const onSmallDisk = canMount ? test : test.skip;
const skipNote = canMount ? '' : ` [skipped: ${probe}]`;

/** Fill the disk with a file until `leave` bytes are free. */
function fill(dir: string, leave: number): string {
  const st = statfsSync(dir);
  const free = st.bavail * st.bsize;
  const path = join(dir, `filler-${Date.now()}`);
  writeFileSync(path, Buffer.alloc(Math.max(0, free - leave)));
  return path;
}

const SEGMENT = { frames: 20, bodyBytes: 30 * 1024 }; // about 600 KiB each

onSmallDisk(`[node] a disk that fills mid-upload: E_STATION_FULL, nothing receipted that isn't stored, the camera keeps the rest, the station stays up and takes evidence again once space is freed${skipNote}`, async (t) => {
  const disk = smallDisk(8 * 1024 * 1024) as { dir: string; unmount: () => void };
  const storeDir = join(disk.dir, 'store');
  const faults: string[] = [];
  const { station, port } = await startStation({ storeDir, batch: 1, minFreeBytes: 256 * 1024, onFault: (e) => faults.push(e.code) });
  const camera = await startCamera('node', { flashBlocks: 2048 });
  try {
    const filler = fill(disk.dir, 1400 * 1024);
    await camera.engine.call('dock.camera.record', { segments: 4, ...SEGMENT });
    const s = await dock(camera, port);
    await station.idle();
    const r = station.results[0];
    t.is(r.code, 'E_STATION_FULL', JSON.stringify(r));
    // Freed exactly what was stored and receipted; everything else is still on the camera.
    const stored = station.store.segments('CAM-0001').filter((x) => x.state === 'stored').map((x) => x.seq);
    t.deepEqual(s.released, r.released);
    t.true(r.released.every((seq) => stored.includes(seq)));
    t.deepEqual([...s.pending, ...s.released].sort(), [0, 1, 2, 3]);
    t.true(s.pending.length > 0);
    t.deepEqual(faults, ['E_STATION_FULL']);
    t.is(station.fault?.code, 'E_STATION_FULL');

    // Still full: the next camera is told so at once and keeps everything.
    const other = await startCamera('node', { id: 'CAM-0002', flashBlocks: 2048 });
    await other.engine.call('dock.camera.record', { segments: 1, ...SEGMENT });
    const turned = await dock(other, port);
    t.true(turned.closeReason.includes('E_STATION_FULL'), turned.closeReason);
    t.deepEqual(turned.pending, [0]);

    // Space freed: the same station (never restarted) takes the rest.
    unlinkSync(filler);
    const again = await dock(camera, port);
    await station.idle();
    t.deepEqual(again.pending, []);
    const second = await dock(other, port);
    await station.idle();
    t.deepEqual(second.pending, []);
    t.is(station.fault, undefined);
    await other.close();
  } finally {
    await camera.close();
    await station.close();
    disk.unmount();
  }
});

onSmallDisk(`[node] a station restarted on a full disk starts read-only: cameras are told E_STATION_FULL and keep everything${skipNote}`, async (t) => {
  const disk = smallDisk(4 * 1024 * 1024) as { dir: string; unmount: () => void };
  const storeDir = join(disk.dir, 'store');
  try {
    const first = await startStation({ storeDir, minFreeBytes: 256 * 1024 });
    await first.station.close();
    // Under the station's floor, with just room for SQLite to open its index.
    fill(disk.dir, 160 * 1024);
    const { station, port } = await startStation({ storeDir, minFreeBytes: 256 * 1024 });
    t.is(station.fault?.code, 'E_STATION_FULL');
    const camera = await startCamera('node');
    try {
      await camera.engine.call('dock.camera.record', { segments: 1 });
      const s = await dock(camera, port);
      t.true(s.closeReason.includes('E_STATION_FULL'), s.closeReason);
      t.deepEqual(s.pending, [0]);
    } finally {
      await camera.close();
      await station.close();
    }
  } finally {
    disk.unmount();
  }
});

async function storeWithEvidence(): Promise<string> {
  const { station, port, storeDir } = await startStation();
  const camera = await startCamera('node');
  try {
    await camera.engine.call('dock.camera.record', { segments: 3 });
    const s = await dock(camera, port);
    await station.idle();
    if (s.pending.length) throw new Error('docking failed');
  } finally {
    await camera.close();
    await station.close();
  }
  return storeDir;
}

for (const [what, damage, code] of [
  ['missing', (p: string) => unlinkSync(p), 'E_INDEX_MISSING'],
  ['empty', (p: string) => truncateSync(p, 0), 'E_INDEX_MISSING'],
  ['damaged', (p: string) => writeFileSync(p, Buffer.alloc(8192, 0x5a)), 'E_INDEX_DAMAGED'],
] as const) {
  test(`[node] a store whose index is ${what} is refused (${code}) unless the index is rebuilt from the signed files`, async (t) => {
    const storeDir = await storeWithEvidence();
    const before = (await startStation({ storeDir })).station;
    const segments = before.store.segments('CAM-0001').map((x) => [x.seq, x.manifestSha256, x.mediaSha256, x.state]);
    await before.close();
    damage(join(storeDir, 'index.sqlite'));
    for (const suffix of ['-wal', '-shm']) rmSync(join(storeDir, `index.sqlite${suffix}`), { force: true });
    const e = t.throws(() => new DockStation({ identity: dockIdentity(), storeDir, ed25519: hostEd25519() }));
    t.true(isBodycamError(e) && e.code === code, String(e));
    t.true(String(e).includes('--rebuild-index'));

    const { station, port } = await startStation({ storeDir, rebuildIndex: true });
    try {
      t.deepEqual(station.store.segments('CAM-0001').map((x) => [x.seq, x.manifestSha256, x.mediaSha256, x.state]), segments);
      t.is(station.rebuilt?.segments, 3);
      t.truthy(station.store.custody().find((x) => x.event === 'index-rebuilt'));
      // And it serves cameras again.
      const camera = await startCamera('node', { id: 'CAM-0002' });
      try {
        await camera.engine.call('dock.camera.record', { segments: 1 });
        const s = await dock(camera, port);
        await station.idle();
        t.deepEqual(s.pending, []);
      } finally {
        await camera.close();
      }
    } finally {
      await station.close();
    }
  });
}
