// `bodycam dock` killed with SIGKILL mid-upload, as a real process: the camera keeps everything
// not receipted, the restarted station resumes on the same store, and everything arrives once.
// A store whose index was lost is refused by the command until --rebuild-index.

import test from 'ava';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { EvidenceStore } from '../dock-station/store.js';
import { dock, startCamera } from './helpers/dock.js';
import { bodycamDock, dockProcessArgs } from './helpers/dock-process.js';

test('[node] bodycam dock killed with SIGKILL mid-upload: nothing lost, the restart resumes, everything arrives once; a lost index is refused until --rebuild-index', async (t) => {
  const { args, storeDir } = dockProcessArgs();
  const camera = await startCamera('node', { flashBlocks: 4096 });
  try {
    await camera.engine.call('dock.camera.record', { segments: 3, frames: 60, bodyBytes: 30 * 1024 });
    const first = bodycamDock(args);
    const port = (await first.waitFor((e) => e.event === 'listening')).port as number;
    const docking = dock(camera, port);
    await first.waitFor((e) => e.event === 'progress' && (e.bytesDone as number) > 1024 * 1024);
    first.child.kill('SIGKILL');
    t.is(await first.exit, 'SIGKILL');
    const cut = await docking;
    t.true(cut.pending.length > 0, 'the camera kept what was not receipted');

    const second = bodycamDock(args);
    const port2 = (await second.waitFor((e) => e.event === 'listening')).port as number;
    const done = await dock(camera, port2);
    const session = await second.waitFor((e) => e.event === 'session');
    t.true(session.ok as boolean, JSON.stringify(session));
    t.deepEqual(done.pending, []);
    second.child.kill('SIGTERM');
    t.is(await second.exit, 0);
    const store = new EvidenceStore(storeDir);
    t.deepEqual(store.segments('CAM-0001').map((s) => [s.seq, s.state]), [[0, 'stored'], [1, 'stored'], [2, 'stored']]);
    store.close();

    // The index lost: refused, then rebuilt on request.
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(storeDir, `index.sqlite${suffix}`), { force: true });
    const refused = bodycamDock(args);
    t.not(await refused.exit, 0);
    t.regex(refused.stderr.join(''), /E_INDEX_MISSING/);
    const rebuilt = bodycamDock([...args, '--rebuild-index']);
    const r = await rebuilt.waitFor((e) => e.event === 'index-rebuilt');
    t.is(r.segments, 3);
    await rebuilt.waitFor((e) => e.event === 'listening');
    rebuilt.child.kill('SIGTERM');
    t.is(await rebuilt.exit, 0, rebuilt.stderr.join(''));
  } finally {
    await camera.close();
  }
});
