// Dock upload over real loopback TCP into a real SQLite-indexed store, on both engines.

import test from 'ava';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { SyntheticFrames } from '../host-sim/sensor/synthetic.js';
import { join } from 'node:path';
import { ENGINES } from '../host-sim/engine.js';
import { dock, rootFile, startCamera, startStation } from './helpers/dock.js';
import { run } from '../cli/bodycam.js';
import { tempDir } from './helpers/tmp.js';

for (const engine of ENGINES) {
  test(`[${engine}] a camera uploads everything; the dock verifies and stores it; the camera frees exactly what the receipt covers`, async (t) => {
    const { station, port, storeDir } = await startStation({ batch: 4 });
    const camera = await startCamera(engine);
    try {
      const made = (await camera.engine.call('dock.camera.record', { segments: 6, frames: 3, bodyBytes: 3000 })).value as number[];
      t.deepEqual(made, [0, 1, 2, 3, 4, 5]);
      const s = await dock(camera, port);
      await station.idle();
      t.deepEqual(s.pending, [], `camera still holds ${s.pending}`);
      t.deepEqual(s.released.sort((a, b) => a - b), made);
      t.is(s.awaitingUpload, 0);
      t.is(s.receipts, 2, 'one receipt per batch of 4, then the rest');
      const r = station.results[0];
      t.true(r.ok, `${r.code} ${r.message}`);
      t.deepEqual(r.stored, made);
      t.deepEqual(r.released.sort((a, b) => a - b), made);
      for (const seq of made) {
        const row = station.store.segment('CAM-0001', seq)!;
        t.is(row.state, 'stored');
        const media = join(storeDir, 'devices', 'CAM-0001', 'segments', `${String(seq).padStart(10, '0')}.media`);
        t.true(existsSync(media));
        t.is(readFileSync(media).length, row.length);
      }
      const events = station.store.custody('CAM-0001').map((e) => e.event);
      t.true(events.includes('camera-authenticated') && events.includes('receipt-signed') && events.includes('camera-released'));
      t.true(s.events.some((e) => e.startsWith('authenticated DOCK-1')));
      // The store is an evidence directory that verifies offline, receipts and all.
      const lines: string[] = [];
      t.is(await run(['verify', storeDir, '--root', rootFile()], (l) => lines.push(l)), 0, lines.join('\n'));
    } finally {
      await camera.close();
      await station.close();
    }
  });
}

test('[node] bodycam export from the store: verified first, plays in ffmpeg, with an integrity report', async (t) => {
  const { station, port, storeDir } = await startStation();
  const camera = await startCamera('node');
  const out = join(tempDir('bodycam-export-'), 'incident.avi');
  try {
    const jpeg = new Uint8Array(new SyntheticFrames({ width: 320, height: 240 }).frame(7, Date.UTC(2026, 10, 25, 6)));
    await camera.engine.call('dock.camera.record', { segments: 3, frames: 10, jpeg });
    await dock(camera, port);
    await station.idle();
  } finally {
    await camera.close();
    await station.close();
  }
  const lines: string[] = [];
  const root = rootFile();
  t.is(await run(['export', '--store', storeDir, '--device', 'CAM-0001', '--from', '1', '--to', '2', '--out', out, '--root', root], (l) => lines.push(l)), 0, lines.join('\n'));
  const report = JSON.parse(readFileSync(out.replace(/\.avi$/, '.integrity.json'), 'utf8')) as { segments: { seq: number; valid: boolean }[]; trust: { fingerprint: string; source: string }; clock: { offsetMs: number | null } };
  t.deepEqual(report.segments.map((s) => [s.seq, s.valid]), [[1, true], [2, true]]);
  t.is(report.trust.source, 'pinned');
  t.regex(report.trust.fingerprint, /^[0-9a-f]{64}$/);
  // This test camera signs no drift statement, so the export gives no offset rather than an index row's.
  t.is(report.clock.offsetMs, null);
  const probe = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames,width,height', '-of', 'json', out], { encoding: 'utf8' });
  t.is(probe.status, 0, probe.stderr);
  const stream = (JSON.parse(probe.stdout) as { streams: { nb_read_frames: string; width: number; height: number }[] }).streams[0];
  t.is(Number(stream.nb_read_frames), 20);
  t.is(stream.width, 320);
  // A tampered media file in the store: the export is refused.
  const media = join(storeDir, 'devices', 'CAM-0001', 'segments', '0000000001.media');
  const bytes = readFileSync(media);
  bytes[bytes.length - 10] ^= 1;
  chmodSync(media, 0o644);
  writeFileSync(media, bytes);
  const refused: string[] = [];
  t.is(await run(['export', '--store', storeDir, '--device', 'CAM-0001', '--out', out, '--root', root], (l) => refused.push(l)), 1);
  t.regex(refused.join('\n'), /REFUSED: segment 1 does not verify \(media-digest-mismatch\)/);
  // Without a pinned root it does not start.
  t.is(await run(['export', '--store', storeDir, '--device', 'CAM-0001', '--out', out], () => {}), 2);
});

test('[node] bodycam export tells the truth: a range the store does not hold whole is refused, an existing export is not overwritten without --force', async (t) => {
  const { station, port, storeDir } = await startStation();
  const camera = await startCamera('node');
  const dir = tempDir('bodycam-export-');
  const out = join(dir, 'incident.avi');
  try {
    const jpeg = new Uint8Array(new SyntheticFrames({ width: 320, height: 240 }).frame(7, Date.UTC(2026, 10, 25, 6)));
    await camera.engine.call('dock.camera.record', { segments: 3, frames: 4, jpeg });
    await dock(camera, port);
    await station.idle();
  } finally {
    await camera.close();
    await station.close();
  }
  const root = rootFile();
  const exportTo = async (...args: string[]) => {
    const lines: string[] = [];
    const code = await run(['export', '--store', storeDir, '--device', 'CAM-0001', '--root', root, ...args], (l) => lines.push(l));
    return { code, out: lines.join('\n') };
  };
  const partial = await exportTo('--from', '1', '--to', '5', '--out', out);
  t.is(partial.code, 1, partial.out);
  t.regex(partial.out, /REFUSED: segments 1\.\.5 were asked for, but 3 of them are not in the store \(3, 4, 5; it holds 0\.\.2\)/);
  t.false(existsSync(out), 'nothing written');
  t.is((await exportTo('--from', '1', '--to', '2', '--out', out)).code, 0);
  const first = readFileSync(out);
  const sidecar = readFileSync(`${out}.json`);
  writeFileSync(out, 'an export someone already handed over');
  const again = await exportTo('--from', '0', '--to', '2', '--out', out);
  t.is(again.code, 2, 'a usage error');
  t.is(readFileSync(out, 'utf8'), 'an export someone already handed over', 'not overwritten');
  t.deepEqual(readFileSync(`${out}.json`), sidecar);
  t.is((await exportTo('--from', '1', '--to', '2', '--out', out, '--force')).code, 0);
  t.deepEqual(readFileSync(out), first, '--force replaces it');
  t.is((JSON.parse(readFileSync(`${out}.json`, 'utf8')) as { verified?: boolean }).verified, undefined, 'a verified export carries no UNVERIFIED note');
  // The sidecar names each frame's segment by its evidence sequence number, not its place in the export.
  const frames = (JSON.parse(readFileSync(`${out}.json`, 'utf8')) as { frames: { segment: number }[] }).frames;
  t.deepEqual([...new Set(frames.map((f) => f.segment))], [1, 2]);
  // --json: one object, for a refusal and for a written export alike.
  const refusedJson = await exportTo('--from', '1', '--to', '5', '--out', join(dir, 'j.avi'), '--json');
  t.is(refusedJson.code, 1);
  const r = JSON.parse(refusedJson.out) as { ok: boolean; exitCode: number; refused: string[]; trust: { fingerprint: string } };
  t.deepEqual([r.ok, r.exitCode], [false, 1]);
  t.regex(r.refused.join(' '), /3 of them are not in the store/);
  t.regex(r.trust.fingerprint, /^[0-9a-f]{64}$/);
  const okJson = await exportTo('--from', '1', '--to', '2', '--out', join(dir, 'j.avi'), '--json');
  t.is(okJson.code, 0);
  const o = JSON.parse(okJson.out) as { ok: boolean; verified: boolean; videos: string[]; sidecars: string[]; integrityReport: string; frames: number };
  t.true(o.ok && o.verified);
  t.deepEqual(o.videos, [join(dir, 'j.avi')]);
  t.true(existsSync(o.sidecars[0]) && existsSync(o.integrityReport));
  t.true(o.frames > 0);
});
