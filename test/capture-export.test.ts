// The playable export, checked by the tools a court's video examiner would use: ffprobe reads
// the AVI's structure and ffmpeg decodes every frame. Frame count, size and duration must match
// the evidence, lost frames must show as repeats listed in the sidecar, across segment
// boundaries and split parts. Also: the replay sensor reads the export back.

import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planAviExport } from '../firmware/encoder/avi.js';
import { encodeFrameHeader, FRAME_HEADER_LENGTH, parseMedia } from '../firmware/encoder/frame-record.js';
import { startEngine } from '../host-sim/engine.js';
import { SimHardware } from '../host-sim/node/hardware.js';
import { ReplayFrames } from '../host-sim/sensor/replay.js';
import { attachCamera } from '../host-sim/sensor/sim-camera.js';
import { runVirtualTime } from '../host-sim/node/hardware.js';
import { run } from '../cli/bodycam.js';
import { writeAviExport } from '../evidence/export.js';
import { concat } from './helpers/signing.js';
import { bothEngines } from './helpers/engines.js';

const dir = mkdtempSync(join(tmpdir(), 'bodycam-export-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));


/** Capture on the node engine with two sensor hiccups and a storage failure; media in `segments` pieces. */
async function evidence(options: { width?: number; height?: number; segments?: number; hw?: SimHardware; camera?: Parameters<typeof attachCamera>[1] } = {}): Promise<Uint8Array[]> {
  const hw = options.hw ?? new SimHardware({ seed: 3 });
  const cam = attachCamera(hw, options.camera);
  const engine = await startEngine('node', hw.platform());
  await engine.call('capture.open', { width: options.width ?? 320, height: options.height ?? 240, frameRate: 15 });
  await engine.call('capture.start');
  await runVirtualTime(hw, engine, 1000);
  cam.skip(2);
  await runVirtualTime(hw, engine, 2500);
  await engine.call('capture.failSink', 1);
  await runVirtualTime(hw, engine, 3500);
  cam.skip(4);
  await runVirtualTime(hw, engine, 6000);
  const records = (await engine.call('capture.take')).value as Uint8Array[];
  await engine.close();
  const n = options.segments ?? 3;
  const per = Math.ceil(records.length / n);
  return Array.from({ length: n }, (_, i) => concat(records.slice(i * per, (i + 1) * per)));
}

interface Probe {
  streams: { codec_name: string; width: number; height: number; nb_read_frames: string; r_frame_rate: string; duration: string }[];
  format: { format_name: string; duration: string };
}

function probe(file: string): Probe {
  const out = execFileSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,nb_read_frames,r_frame_rate,duration:format=format_name,duration', '-of', 'json', file]);
  return JSON.parse(out.toString()) as Probe;
}

/** ffmpeg decodes every frame (-xerror: any decode error fails); one MD5 per decoded frame. */
function decodeAll(file: string): string[] {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-xerror', '-i', file, '-f', 'framemd5', '-'], { maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0 || r.stderr.length) throw new Error(`ffmpeg failed (${r.status}): ${r.stderr.toString()}`);
  return r.stdout.toString().split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(',').pop()!.trim());
}

test('export: ffprobe and ffmpeg accept the AVI; frames, size and duration match the evidence; drops are repeats', async (t) => {
  const media = await evidence({ segments: 3 });
  const stored = media.reduce((n, m) => n + parseMedia(m).length, 0);
  const exp = planAviExport(media, { clockOffsetMs: 120 });
  t.is(exp.stored, stored);
  t.is(exp.dropped, 7);
  t.is(exp.duplicated, 7);
  t.is(stored + 7, 90, 'six seconds at 15 fps, lost frames included');
  const out = join(dir, 'shift.avi');
  const written = writeAviExport(exp, out);
  t.deepEqual(written.videos, [out]);

  const p = probe(out);
  t.is(p.format.format_name, 'avi');
  t.is(p.streams[0].codec_name, 'mjpeg');
  t.is(p.streams[0].width, 320);
  t.is(p.streams[0].height, 240);
  t.is(p.streams[0].r_frame_rate, '15/1');
  t.is(Number(p.streams[0].nb_read_frames), 90);
  t.is(Number(p.format.duration), 6);

  const md5 = decodeAll(out);
  t.is(md5.length, 90);
  const sidecar = JSON.parse(readFileSync(`${out}.json`, 'utf8')) as {
    frames: { index: number; frameNumber: number; utcMs: number; monotonicMs: number; referenceUtcMs: number; duplicateOf?: number }[];
    gaps: { frameNumber: number; dropped: number; gapMs: number; utcMs: number; kind: string; filled: number }[];
    clock: { clockOffsetMs: number };
    video: { frames: number; durationMs: number };
  };
  t.is(sidecar.video.frames, 90);
  t.is(sidecar.video.durationMs, 6000);
  t.is(sidecar.clock.clockOffsetMs, 120);
  t.is(sidecar.frames.length, 90);
  t.true(sidecar.frames.every((f, i) => f.index === i && f.referenceUtcMs === f.utcMs - 120));
  // Drops, with their count and time: two sensor hiccups and one refused frame.
  t.deepEqual(sidecar.gaps.map((g) => [g.dropped, g.kind, g.filled]), [[2, 'drop', 2], [1, 'drop', 1], [4, 'drop', 4]]);
  t.true(sidecar.gaps.every((g) => g.gapMs >= (g.dropped + 1) * 66 && g.gapMs <= (g.dropped + 1) * 67 + 1));
  // Every repeat decodes to the same picture as the frame it repeats; real frames all differ.
  const dups = sidecar.frames.filter((f) => f.duplicateOf !== undefined);
  t.is(dups.length, 7);
  for (const d of dups) t.is(md5[d.index], md5[d.index - 1]);
  const real = sidecar.frames.filter((f) => f.duplicateOf === undefined).map((f) => md5[f.index]);
  t.is(new Set(real).size, real.length);
  // Times run on across the segment boundaries without a jump.
  t.true(sidecar.frames.every((f, i) => i === 0 || (f.monotonicMs - sidecar.frames[i - 1].monotonicMs >= 66 && f.monotonicMs - sidecar.frames[i - 1].monotonicMs <= 67)));
});

test('export: a large export is split into parts that each play, together holding every frame', async (t) => {
  const media = await evidence({ segments: 2 });
  const one = planAviExport(media);
  const exp = planAviExport(media, { maxBytes: Math.ceil(one.parts[0].byteLength / 3) });
  t.true(exp.parts.length >= 3);
  const written = writeAviExport(exp, join(dir, 'parts.avi'));
  t.is(written.videos.length, exp.parts.length);
  t.regex(written.videos[1], /parts\.part2\.avi$/);
  let frames = 0;
  for (const v of written.videos) {
    const p = probe(v);
    frames += Number(p.streams[0].nb_read_frames);
    t.is(decodeAll(v).length, Number(p.streams[0].nb_read_frames));
  }
  t.is(frames, 90);
});

test('export: the replay sensor feeds the frames of an exported AVI back, byte for byte', async (t) => {
  const media = await evidence({ segments: 1 });
  const exp = planAviExport(media);
  const out = join(dir, 'replay.avi');
  writeAviExport(exp, out);
  const replay = ReplayFrames.fromFile(out);
  t.is(replay.length, 90);
  t.deepEqual([replay.width, replay.height], [320, 240]);
  const again = await evidence({ segments: 1, camera: { source: () => replay } });
  const jpegs = parseMedia(again[0]).map((f) => f.jpeg);
  const original = exp.parts[0].frames.map((f) => f.jpeg);
  // Same hiccups in the replayed run: the sensor's k-th frame is the AVI's k-th frame.
  const hs = parseMedia(again[0]).map((f) => f.header);
  let k = 0;
  hs.forEach((h, i) => {
    k += h.droppedBefore;
    t.deepEqual(jpegs[i], original[k], `frame ${i}`);
    k++;
  });
  // Segment media replays too.
  t.is(ReplayFrames.fromBytes(media[0]).length, 83);
});

test('export: bodycam export writes the AVI and its sidecar; refuses bad input with a code', async (t) => {
  const media = await evidence({ segments: 2 });
  const files = media.map((m, i) => {
    const f = join(dir, `seg${i}.media`);
    writeFileSync(f, m);
    return f;
  });
  const lines: string[] = [];
  const out = join(dir, 'cli.avi');
  t.is(await run(['export', '--out', out, '--clock-offset', '-40', ...files], (l) => lines.push(l)), 0);
  t.regex(lines[0], /320x240 at 15 fps, 90 frames \(83 stored, 7 repeats for 7 lost\)/);
  t.is(lines.filter((l) => l.includes('gap before frame')).length, 3);
  t.is(Number(probe(out).streams[0].nb_read_frames), 90);
  t.is((JSON.parse(readFileSync(`${out}.json`, 'utf8')) as { clock: { clockOffsetMs: number } }).clock.clockOffsetMs, -40);
  // Bare media files were not verified, and the export says so, on the console and in the sidecar.
  t.regex(lines.join('\n'), /^UNVERIFIED: /m);
  t.like(JSON.parse(readFileSync(`${out}.json`, 'utf8')), { verified: false });
  t.regex((JSON.parse(readFileSync(`${out}.json`, 'utf8')) as { note: string }).note, /^UNVERIFIED/);
  t.is(await run(['export'], () => {}), 2);

  t.throws(() => planAviExport([]), { message: /E_EXPORT_EMPTY/ });
  t.throws(() => planAviExport([media[0].subarray(0, media[0].length - 1)]), { message: /E_FRAME_TRUNCATED/ });
  const vga = await evidence({ width: 640, height: 480, segments: 1 });
  t.throws(() => planAviExport([media[0], vga[0]]), { message: /E_EXPORT_MIXED/ });
});

test('export: a restart and a gap longer than the fill limit are listed, not filled', (t) => {
  const jpeg = Uint8Array.from([0xff, 0xd8, 0xff, 0xd9]);
  const frame = (n: number, mono: number, flags: number, dropped = 0, gap = 0) => {
    const h = encodeFrameHeader({ flags: flags | (dropped ? 4 : 0), width: 320, height: 240, frameRate: 10, clockSource: 'dock', frameNumber: n, monotonicMs: mono, utcMs: 1e12 + mono, droppedBefore: dropped, gapMs: gap, droppedTotal: dropped, jpegLength: 4 });
    return concat([h, jpeg]);
  };
  const media = concat([frame(0, 0, 9), frame(1, 100, 1), frame(2, 90_100, 1, 900, 90_000), frame(3, 200_000, 9, 0, 109_900)]);
  t.is(media.length, 4 * (FRAME_HEADER_LENGTH + 4));
  const exp = planAviExport([media], { maxFillMs: 60_000 });
  t.is(exp.parts[0].frames.length, 4);
  t.deepEqual(exp.gaps.map((g) => [g.frameNumber, g.kind, g.dropped, g.filled]), [[2, 'long-gap', 900, 0], [3, 'restart', 0, 0]]);
});

bothEngines('export: a reboot inside a recording stays in the timeline as a freeze, so the video lasts as long as the recording', async (t, { engine }) => {
  const jpeg = Uint8Array.from([0xff, 0xd8, 0xff, 0xd9]);
  const frame = (n: number, mono: number, utc: number, flags: number) =>
    concat([encodeFrameHeader({ flags, width: 320, height: 240, frameRate: 10, clockSource: 'dock', frameNumber: n, monotonicMs: mono, utcMs: 1e12 + utc, droppedBefore: 0, gapMs: 0, droppedTotal: 0, jpegLength: 4 }), jpeg]);
  // Boot 1: frames at 0, 100, 200 ms; the power is cut; boot 2 resumes 2.1 s later (its monotonic
  // time starts again), then 4 s later a pause and a new start in the same boot.
  const before = concat([frame(0, 50_000, 0, 9), frame(1, 50_100, 100, 1), frame(2, 50_200, 200, 1)]);
  const after = concat([frame(0, 900, 2300, 9), frame(1, 1000, 2400, 1), frame(0, 5000, 6400, 9)]);
  const value = (await engine.call('capture.exportPlan', [before, after], 60_000)).value as unknown as Map<string, unknown>;
  const plan = { frames: value.get('frames') as [number, number, number | null][], gaps: value.get('gaps') as [number, string, number, number, number][] };
  t.deepEqual(plan.gaps, [[0, 'reboot', 0, 20, 2100], [0, 'restart', 0, 0, 0]]);
  const frames = plan.frames;
  t.is(frames.length, 3 + 20 + 3);
  // The repeats hold the frame before the cut, at the times the camera was off.
  t.deepEqual(frames.slice(3, 23).map((f) => f[2]), Array(20).fill(2));
  t.is(frames[3][1], 1e12 + 300);
  t.is(frames[22][1], 1e12 + 2200);
  // So the video (frames / 10 fps) spans the recording's UTC span up to the pause, to the frame.
  t.is((frames.length - 1 - 1) / 10, (2400 - 0) / 1000);
});
