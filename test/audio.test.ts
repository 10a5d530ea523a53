// Synchronised sound (issue 17): the audio record format, the simulated microphone's timestamped
// signal, the capture's loss accounting, the recorder putting sound into the same segments and
// manifests as the video (node and XS byte for byte), pre-event sound as a configuration choice,
// and the AVI export that ffprobe sees as video + audio, checked for sync by reading the time the
// microphone heard back from the exported sound and the sensor's counter back from the exported
// pictures.

import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import {
  AUDIO_HEADER_LENGTH, AudioCodec, AudioFlags, decodeAudioHeader, encodeAudioHeader, type AudioHeader,
} from '../firmware/encoder/audio-record.js';
import { encodeFrameHeader, parseMedia, parseSegmentMedia } from '../firmware/encoder/frame-record.js';
import { decodeImaAdpcm, ImaAdpcmEncoder } from '../firmware/encoder/ima-adpcm.js';
import { planAviExport, aviSidecar } from '../firmware/encoder/avi.js';
import { AudioCapture } from '../firmware/sensor/audio-capture.js';
import { verifyEvidence } from '../firmware/signing/verifier.js';
import { signConfig, verifyConfig, DEFAULT_SETTINGS } from '../firmware/provision/config.js';
import { nodeDigest } from '../host/ports.js';
import { runVirtualTime, SimHardware } from '../host-sim/node/hardware.js';
import { attachMicrophone, decodeMicTime, micSample, MIC_RATE } from '../host-sim/sensor/sim-microphone.js';
import { readText } from './helpers/glyphs.js';
import { DEVICE, TestCamera } from './helpers/recorder.js';
import { certificate, root, AGENCY } from './helpers/dock.js';
import { concat } from './helpers/signing.js';
import { repoRoot } from '../toolchain/root.js';

const dir = mkdtempSync(join(tmpdir(), 'bodycam-audio-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const HEADER: AudioHeader = {
  flags: AudioFlags.FIRST | AudioFlags.AFTER_GAP | AudioFlags.DRIVER_DROP, codec: AudioCodec.PCM_S16LE, channels: 1, sampleRate: 16000, clockSource: 'dock',
  blockNumber: 7, monotonicMs: 2 ** 40 + 5, utcMs: 1_795_000_000_123, droppedBefore: 480, sampleCount: 3200, predictor: 0, stepIndex: 0, dataLength: 6400,
};

test('audio record: the header round-trips, and decoding is strict', (t) => {
  const b = encodeAudioHeader(HEADER);
  t.is(b.length, AUDIO_HEADER_LENGTH);
  // The worked example in docs/FORMAT.md, "Audio records".
  t.is(Buffer.from(b).toString('hex'), '4155 01 30 002c 01 01 3e80 10 02 00000007 00000100 00000005 000001a1 ee565e7b 000001e0 00000c80 0000 00 00 00001900'.replace(/ /g, ''));
  t.deepEqual(decodeAudioHeader(b), HEADER);
  // Time and clock source sit where a frame header has them (the ring and the recorder read both alike).
  const v = new DataView(b.buffer);
  t.is(v.getUint32(16) * 2 ** 32 + v.getUint32(20), HEADER.monotonicMs);
  t.is(b[11], 2);
  const bad = (at: number, value: number) => {
    const c = b.slice();
    c[at] = value;
    return c;
  };
  t.throws(() => decodeAudioHeader(b.subarray(0, 47)), { message: /E_AUDIO_TRUNCATED/ });
  t.throws(() => decodeAudioHeader(bad(1, 0x56)), { message: /E_AUDIO_MAGIC/ });
  t.throws(() => decodeAudioHeader(bad(2, 2)), { message: /E_AUDIO_VERSION/ });
  t.throws(() => decodeAudioHeader(bad(6, 3)), { message: /E_AUDIO_CODEC/ });
  t.throws(() => decodeAudioHeader(bad(5, 0x01)), { message: /E_AUDIO_FLAGS/ });
  t.throws(() => decodeAudioHeader(bad(5, 0x2a)), { message: /E_AUDIO_FIELD.*AFTER_GAP/ });
  t.throws(() => decodeAudioHeader(bad(47, 0x01)), { message: /E_AUDIO_FIELD/ }, 'a data length that is not the samples\' length');
  t.throws(() => encodeAudioHeader({ ...HEADER, channels: 2 }), { message: /E_AUDIO_FIELD.*mono/ });

  // A media stream of frames and audio blocks walks into both; parseMedia keeps the frames only.
  const jpeg = Uint8Array.of(0xff, 0xd8, 0xff, 0xd9);
  const frame = encodeFrameHeader({ flags: 1, width: 320, height: 240, frameRate: 5, clockSource: 'rtc', frameNumber: 0, monotonicMs: 1, utcMs: 2, droppedBefore: 0, gapMs: 0, droppedTotal: 0, jpegLength: 4 });
  const pcm = new Uint8Array(6400);
  const media = concat([frame, jpeg, b, pcm, frame, jpeg]);
  const walked = parseSegmentMedia(media);
  t.is(walked.frames.length, 2);
  t.is(walked.audio.length, 1);
  t.is(walked.audio[0].data.length, 6400);
  t.is(parseMedia(media).length, 2);
  t.throws(() => parseSegmentMedia(media.subarray(0, 52 + 48 + 100)), { message: /E_AUDIO_TRUNCATED/ });
});

test('simulated microphone: its signal says when each sample was taken, and survives IMA ADPCM', (t) => {
  const g0 = 123_456_789;
  const n = 16000;
  const s = Int16Array.from({ length: n }, (_, i) => micSample(g0 + i));
  for (const at of [0, 1, 799, 4321, 15000 - 800]) t.is(decodeMicTime(s, at), g0 + at);
  t.is(decodeMicTime(new Int16Array(n), 0), undefined, 'silence has no time');
  // IMA ADPCM is lossy; the time still reads back, block by block from each header's state.
  const pcm = new Uint8Array(s.buffer.slice(0));
  const enc = new ImaAdpcmEncoder();
  const out: number[] = [];
  for (let b = 0; b < n; b += 3200) {
    const p = enc.predictor;
    const k = enc.stepIndex;
    const coded = new Uint8Array(1600);
    enc.encode(pcm.subarray(2 * b, 2 * (b + 3200)), 3200, coded);
    out.push(...decodeImaAdpcm(coded, 3200, p, k));
  }
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < n; i++) {
    signal += s[i] ** 2;
    noise += (s[i] - out[i]) ** 2;
  }
  const snr = 10 * Math.log10(signal / noise);
  t.true(snr > 15, `ADPCM SNR ${snr.toFixed(1)} dB`);
  t.is(decodeMicTime(out, 1000), g0 + 1000);
});

/** An AudioCapture on the simulated microphone, on Node, storing into an array. */
function micRig(options: { bufferMs?: number; stampCapture?: boolean; codec?: 'pcm' | 'adpcm' } = {}) {
  const hw = new SimHardware({ seed: 5 });
  const mic = attachMicrophone(hw, { bufferMs: options.bufferMs, stampCapture: options.stampCapture });
  const p = hw.platform();
  const records: { header: AudioHeader; data: Uint8Array }[] = [];
  let refuse = 0;
  const errors: string[] = [];
  const capture = new AudioCapture({
    AudioIn: p.AudioIn, clock: p.clock, codec: options.codec,
    sink: {
      append(h, body) {
        if (refuse > 0) {
          refuse--;
          throw new Error('flash busy');
        }
        records.push({ header: decodeAudioHeader(h), data: body instanceof ArrayBuffer ? new Uint8Array(body.slice(0)) : new Uint8Array(body.buffer, body.byteOffset, body.byteLength).slice() });
      },
    },
    onError: (e) => errors.push(e.code),
  });
  const run = (ms: number) => runVirtualTime(hw, { pump: async () => 0 }, hw.clock.monotonic() + ms);
  return { hw, mic, capture, records, errors, run, refuse: (n: number) => void (refuse += n) };
}

/** The simulation-time ms of a block's first sample, read from its own sound. */
function heardMs(r: { header: AudioHeader; data: Uint8Array }): number {
  const s = r.header.codec === AudioCodec.PCM_S16LE ? new Int16Array(r.data.buffer, r.data.byteOffset, r.header.sampleCount) : decodeImaAdpcm(r.data, r.header.sampleCount, r.header.predictor, r.header.stepIndex);
  // From the second slot on (an ADPCM block's first samples are the coder settling in).
  return (decodeMicTime(s, 800)! - 800) / 16;
}

for (const stampCapture of [true, false]) {
  test(`audio capture: blocks carry the time of their first sample; an overrun and a refused block are counted (driver stamp: ${stampCapture})`, async (t) => {
    const r = micRig({ stampCapture });
    await r.run(700);
    r.capture.start();
    await r.run(2000);
    // Before any loss: every block's time is when its sound was taken (no reboot: elapsed = monotonic).
    t.true(r.records.length >= 9);
    for (const b of r.records) t.true(Math.abs(b.header.monotonicMs - heardMs(b)) <= (stampCapture ? 1 : 100), `block ${b.header.blockNumber}: ${b.header.monotonicMs} vs heard ${heardMs(b)}`);
    t.is(r.records[0].header.flags & AudioFlags.FIRST, AudioFlags.FIRST);
    t.true(r.records.slice(1).every((b, i) => b.header.blockNumber === i + 1 && b.header.monotonicMs - r.records[i].header.monotonicMs === 200));
    // The driver loses 600 ms (it says nothing): the next block says how much and why, and keeps its true time.
    r.mic.skip(600);
    const before = r.records.length;
    await r.run(2000);
    const gap = r.records.slice(before).find((b) => b.header.droppedBefore > 0)!;
    t.truthy(gap, 'the overrun is charged to a block');
    t.is(gap.header.flags & AudioFlags.DRIVER_DROP, AudioFlags.DRIVER_DROP);
    t.true(Math.abs(gap.header.droppedBefore - 9600) <= (stampCapture ? 16 : 1600), `dropped ${gap.header.droppedBefore} of 9600`);
    const after = r.records.slice(r.records.indexOf(gap));
    for (const b of after) t.true(Math.abs(b.header.monotonicMs - heardMs(b)) <= (stampCapture ? 1 : 100), `after the gap, block ${b.header.blockNumber}: ${b.header.monotonicMs} vs heard ${heardMs(b)}`);
    // Storage refuses one block: the next stored block carries its samples as lost.
    r.refuse(1);
    const n = r.records.length;
    await r.run(1000);
    t.deepEqual(r.errors, ['E_CAPTURE_SINK']);
    t.is(r.records[n].header.droppedBefore, 3200);
    t.is(r.records[n].header.flags & AudioFlags.STORAGE_DROP, AudioFlags.STORAGE_DROP);
    t.is(r.capture.stats.lost, 1);
    t.is(r.capture.stats.dropped, gap.header.droppedBefore + 3200);
    r.capture.close();
    t.is(r.mic.closed, 1);
  });
}

test('audio capture: IMA ADPCM blocks are a quarter of the size and decode on their own', async (t) => {
  const r = micRig({ codec: 'adpcm' });
  r.capture.start();
  await r.run(1500);
  t.true(r.records.length >= 6);
  for (const b of r.records) {
    t.is(b.header.codec, AudioCodec.IMA_ADPCM);
    t.is(b.data.length, 1600);
    t.true(Math.abs(b.header.monotonicMs - heardMs(b)) <= 1);
  }
});

test('signed configuration: sound, pre-event sound and JPEG quality are settings; older configurations read with the defaults', (t) => {
  const base = { ...DEFAULT_SETTINGS, agency: AGENCY, device: DEVICE, version: 1, issued: 0 };
  t.true(DEFAULT_SETTINGS.audio);
  t.false(DEFAULT_SETTINGS.preEventAudio);
  const c = verifyConfig(signConfig({ ...base, audio: false, preEventAudio: true, quality: 20 }, root), root.publicKey);
  t.false(c.audio);
  t.true(c.preEventAudio);
  t.is(c.quality, 20);
  t.throws(() => signConfig({ ...base, quality: 2 }, root), { message: /E_CONFIG_VALUE.*quality/ });
  t.throws(() => signConfig({ ...base, audio: 1 as unknown as boolean }, root), { message: /E_CONFIG_VALUE.*audio/ });
});

/** A recording with sound: 3 s standby, 12 s recording, a power cut, 8 s more, stopped. */
async function record(engine: 'node' | 'xs', o: { preEventAudio?: boolean; cut?: boolean; frameRate?: number } = {}) {
  const c = await TestCamera.start({ engine, microphone: {}, preEventAudio: o.preEventAudio, segmentSeconds: 10, frameRate: o.frameRate ?? 5, camera: { logCaptures: true } });
  // Simulation time of each capture (the sensor's counter is its index), across reboots.
  const bootOffsets: { from: number; offset: number }[] = [{ from: 0, offset: 0 }];
  await c.run(3000);
  await c.press();
  await c.run(12_000);
  if (o.cut !== false) {
    const from = c.cam.captured;
    await c.powerCutNow(3000);
    bootOffsets.push({ from, offset: c.hw.clock.elapsed() - c.hw.clock.monotonic() });
  }
  await c.run(8000);
  await c.longPress();
  await c.run(500);
  const captureMs = (k: number) => [...bootOffsets].reverse().find((b) => k >= b.from)!.offset + c.cam.captureTimes[k];
  return { c, captureMs };
}

test('recorder: sound goes into the same segments and manifests as the video; node and XS make the same evidence', async (t) => {
  const digests: Record<string, string[]> = {};
  for (const engine of ['node', 'xs'] as const) {
    const { c } = await record(engine);
    const st = await c.status();
    t.is(st.lastError, '', engine);
    const segs = c.segments();
    t.true(segs.length >= 3, `${engine}: ${segs.length} segments`);
    for (const s of segs) {
      const m = parseSegmentMedia(c.media(s.seq));
      t.is(s.manifest.format, 'bodycam-av/1');
      t.is(s.manifest.frames, m.frames.length);
      t.is(s.manifest.audioBlocks, m.audio.length);
      t.is(s.manifest.audioSamples, m.audio.reduce((n, a) => n + a.header.sampleCount, 0));
      t.is(s.manifest.audioDropped, 0);
      t.true(m.audio.length > 0, `segment ${s.seq} has sound`);
      t.is(createHash('sha256').update(c.media(s.seq)).digest('hex'), Buffer.from(s.manifest.media).toString('hex'), 'the media digest covers the sound');
      // Without pre-event sound, no sound before the press, and none flagged pre-event.
      t.true(m.audio.every((a) => (a.header.flags & AudioFlags.PRE_EVENT) === 0));
    }
    // The segment a power cut left open was recovered and signed with its sound counted.
    t.true(segs.some((s) => (s.manifest.flags & 2) !== 0 && (s.manifest.audioBlocks ?? 0) > 0), `${engine}: a recovered segment with sound`);
    digests[engine] = segs.map((s) => Buffer.from(s.manifest.media).toString('hex'));

    // Verify: the evidence as stored verifies; one flipped audio sample does not.
    const publicKey = (await c.engine.call('recorder.identity')).value as Uint8Array;
    const cert = certificate({ id: DEVICE, kind: 'device', publicKey });
    const manifests = c.manifests();
    const input = (tamper: boolean) => ({
      root: root.publicKey,
      devices: [{
        id: DEVICE, certificate: cert,
        segments: segs.map((s, i) => {
          const media = c.media(s.seq).slice();
          if (tamper && i === 1) media[parseSegmentMedia(media).audio[2].offset + AUDIO_HEADER_LENGTH + 100] ^= 1;
          return { seq: s.seq, manifest: manifests.get(s.seq)!, media };
        }),
      }],
    });
    const good = verifyEvidence(input(false), { digest: nodeDigest });
    t.deepEqual(good.devices[0].segments.flatMap((s) => s.reasons.map((f) => f.code)), [], engine);
    const bad = verifyEvidence(input(true), { digest: nodeDigest });
    t.deepEqual(bad.devices[0].segments.flatMap((s) => s.reasons.map((f) => f.code)), ['media-digest-mismatch'], `${engine}: a changed audio sample is found`);
    await c.close();
  }
  t.deepEqual(digests.xs, digests.node);
});

test('recorder: pre-event sound is the configuration\'s choice', async (t) => {
  const { c } = await record('node', { preEventAudio: true, cut: false });
  const first = parseSegmentMedia(c.media(c.segments()[0].seq));
  const pre = first.audio.filter((a) => (a.header.flags & AudioFlags.PRE_EVENT) !== 0);
  // About 3 s of standby before the press: pre-event blocks from the start of the buffer.
  t.true(pre.length >= 13, `${pre.length} pre-event blocks`);
  t.true(pre[0].header.monotonicMs < 300);
  t.true(first.audio.some((a) => (a.header.flags & AudioFlags.PRE_EVENT) === 0), 'and sound after the press');
  await c.close();
  // Without it (the default) the first sound is at the press.
  const off = await record('node', { cut: false });
  const m = parseSegmentMedia(off.c.media(off.c.segments()[0].seq));
  t.true(m.audio[0].header.monotonicMs >= 3000, `first sound at ${m.audio[0].header.monotonicMs} ms`);
  t.true(m.frames[0].header.monotonicMs < 300, 'pre-event video is still kept');
  await off.c.close();
});

test('recorder: a camera with no microphone records video, says so in its ledger, and exports video only', async (t) => {
  const c = await TestCamera.start({ engine: 'node', audio: true, segmentSeconds: 10 });
  await c.press();
  await c.run(4000);
  await c.longPress();
  const st = await c.status();
  t.is(st.lastError, '');
  t.false(st.audio.on);
  const segs = c.segments();
  t.is(segs[0].manifest.format, 'bodycam-frames/1');
  t.is(segs[0].manifest.audioBlocks, undefined);
  t.true(c.ledgerEntries().some((e) => Buffer.from(e).includes(Buffer.from('audio-unavailable'))));
  const exp = planAviExport(segs.map((s) => c.media(s.seq)));
  t.is(exp.audio, undefined);
  t.is(exp.parts[0].audioRate, undefined);
  await c.close();
});

/** Read the sensor's burned-in counter ("#0001234", line 0, 8x8 cells at 320 wide) from a grey picture. */
function readCounter(gray: Uint8Array, width: number): number {
  return Number(readText(gray, width, { from: 1, cells: 7, alphabet: '0123456789' }).text);
}

test('export: ffprobe sees video and audio; sound stays within one frame of the picture across a segment and a power cut', async (t) => {
  for (const frameRate of [5, 25]) {
    const { c, captureMs } = await record('node', { frameRate });
    const segs = c.segments();
    const exp = planAviExport(segs.map((s) => c.media(s.seq)), { segmentSeqs: segs.map((s) => s.seq) });
    t.is(exp.parts.length, 1);
    const part = exp.parts[0];
    const file = join(dir, `sync-${frameRate}.avi`);
    writeFileSync(file, Buffer.concat([...part.chunks()]));
    const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name,sample_rate,channels,r_frame_rate', '-of', 'json', file]).toString()) as { streams: Record<string, string | number>[] };
    t.deepEqual(probe.streams.map((s) => [s.codec_type, s.codec_name]), [['video', 'mjpeg'], ['audio', 'pcm_s16le']]);
    t.is(Number(probe.streams[1].sample_rate), MIC_RATE);
    t.is(probe.streams[0].r_frame_rate, `${frameRate}/1`);
    t.truthy(exp.gaps.find((g) => g.kind === 'reboot'), 'the power cut is in the export');
    const sidecar = aviSidecar(exp, part, { video: 'x.avi', part: 1 }) as { audio?: { sampleRate: number; evidence: { blocks: number } } };
    t.is(sidecar.audio?.sampleRate, MIC_RATE);

    // What a player shows and plays, decoded by ffmpeg: grey pictures, and the sound as PCM.
    const w = part.width;
    const h = part.height;
    const pictures = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:v', '-f', 'rawvideo', '-pix_fmt', 'gray', '-'], { maxBuffer: 256 * 1024 * 1024 });
    const raw = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:a', '-f', 's16le', '-'], { maxBuffer: 256 * 1024 * 1024 });
    const sound = new Int16Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    t.is(pictures.length / (w * h), part.frames.length);
    t.is(sound.length, (part.frames.length * MIC_RATE) / frameRate, 'the sound lasts as long as the video');

    // For every shown frame with sound under it: the time the microphone heard at that moment of
    // playback vs the time the sensor took the picture (its counter), both on the simulation's clock.
    const frameMs = 1000 / frameRate;
    let checked = 0;
    let afterCut = 0;
    let worst = 0;
    const cutAt = part.frames.findIndex((f, i) => i > 0 && f.monotonicMs < part.frames[i - 1].monotonicMs && f.duplicateOf === undefined);
    for (let i = 0; i < part.frames.length; i++) {
      if (part.frames[i].duplicateOf !== undefined) continue;
      const at = (i * MIC_RATE) / frameRate;
      const g = decodeMicTime(sound, at);
      if (g === undefined) continue;
      const counter = readCounter(pictures.subarray(i * w * h, (i + 1) * w * h), w);
      const off = g / 16 - captureMs(counter);
      worst = Math.max(worst, Math.abs(off));
      t.true(Math.abs(off) < frameMs, `${frameRate} fps, frame ${i} (sensor #${counter}): sound ${off.toFixed(1)} ms off the picture`);
      checked++;
      if (cutAt > 0 && i >= cutAt) afterCut++;
    }
    // Sound from the press to the stop, before and after the cut (each frame time whose whole slot has sound).
    t.true(checked >= 15 * frameRate, `${frameRate} fps: ${checked} frames checked`);
    t.true(afterCut >= 6 * frameRate, `${frameRate} fps: ${afterCut} frames checked after the power cut`);
    t.log(`${frameRate} fps: ${checked} frames checked (${afterCut} after the cut), worst offset ${worst.toFixed(1)} ms`);
    await c.close();
  }
});

test('recorder: at 25 fps the pre-event buffer keeps its whole 120 s, pictures and sound', async (t) => {
  const c = await TestCamera.start({ engine: 'node', microphone: {}, preEventAudio: true, frameRate: 25, preEventSeconds: 120, segmentSeconds: 30, blocks: 12288 });
  await c.run(130_000);
  const pressAt = c.hw.clock.monotonic();
  await c.press();
  await c.run(1000);
  await c.longPress();
  const first = parseSegmentMedia(c.media(c.segments()[0].seq));
  const pre = first.frames.filter((f) => (f.header.flags & 2) !== 0);
  const preSound = first.audio.filter((a) => (a.header.flags & AudioFlags.PRE_EVENT) !== 0);
  const span = pressAt - pre[0].header.monotonicMs;
  t.true(span >= 119_900 && span <= 120_100, `pre-event pictures from ${span} ms before the press`);
  t.true(pre.length >= 120 * 25 - 2, `${pre.length} pre-event frames`);
  const soundSpan = pressAt - preSound[0].header.monotonicMs;
  t.true(soundSpan >= 119_800 && soundSpan <= 120_200, `pre-event sound from ${soundSpan} ms before the press`);
  t.is((await c.status()).lastError, '');
  await c.close();
});

/**
 * A fake of Moddable's ESP32 AudioIn (modules/io/audioin/esp32): 16-bit mono from the constructor's
 * options, onReadable(byteLength) with all that is ready, read(n) throws "invalid size" beyond it.
 */
class FakeAudioInDriver {
  static opened: FakeAudioInDriver[] = [];
  readonly sampleRate: number;
  readonly bitsPerSample = 16 as const;
  readonly channels = 1 as const;
  readonly onReadable: (byteLength: number, sampleCount?: number) => void;
  ready = 0;
  started = 0;
  closed = false;
  constructor(o: { sampleRate: number; bitsPerSample: 16; channels: 1; audioType: 'LPCM'; format: 'buffer'; onReadable: (byteLength: number, sampleCount?: number) => void }) {
    if (o.sampleRate < 8000 || o.sampleRate > 48000) throw new Error('invalid sample rate');
    this.sampleRate = o.sampleRate;
    this.onReadable = o.onReadable;
    FakeAudioInDriver.opened.push(this);
  }
  fill(bytes: number): void {
    this.ready += bytes;
    this.onReadable(this.ready);
  }
  read(n: number): ArrayBuffer {
    if (n <= 0 || n > this.ready) throw new Error('invalid size');
    this.ready -= n;
    return new ArrayBuffer(n);
  }
  start(): void {
    this.started++;
  }
  stop(): void {}
  close(): void {
    this.closed = true;
  }
}

test('device adapter: the AudioIn port over Moddable\'s driver; a board without a microphone records video only', async (t) => {
  const { moddableAudioInPort, noMicrophone } = await import('../firmware/device/audio-in.js');
  const { readBoard } = await import('../firmware/device/board.js');
  const { readFileSync } = await import('node:fs');
  const Port = moddableAudioInPort(FakeAudioInDriver);
  const hw = new SimHardware({ seed: 9 });
  const records: AudioHeader[] = [];
  const capture = new AudioCapture({ AudioIn: Port, clock: hw.clock, sink: { append: (h) => void records.push(decodeAudioHeader(h)) } });
  const driver = FakeAudioInDriver.opened.at(-1)!;
  capture.start();
  t.is(driver.started, 1);
  hw.clock.advanceTo(150);
  driver.fill(4800); // 150 ms: not a whole block yet
  t.is(records.length, 0);
  hw.clock.advanceTo(450);
  driver.fill(9600); // 450 ms ready: two blocks taken, 50 ms left in the driver
  t.is(records.length, 2);
  t.is(driver.ready, 1600);
  // No driver stamp: the first block's time is the read time less what was ready (450 − 450 ms).
  t.deepEqual(records.map((r) => r.monotonicMs), [0, 200]);
  t.is(new Port({ sampleRate: 16000, bitsPerSample: 16, channels: 1 }).read(1_000_000), undefined, 'more than is ready is undefined, not a throw');
  capture.close();
  t.true(driver.closed);
  t.throws(() => new Port({ sampleRate: 96000, bitsPerSample: 16, channels: 1 }), { message: /E_AUDIO_INIT.*invalid sample rate/ });
  const None = noMicrophone('m5atom_s3r_cam');
  t.throws(() => new None({ sampleRate: 16000, bitsPerSample: 16, channels: 1 }), { message: /E_NO_DEVICE.*m5atom_s3r_cam has no microphone/ });
  // The boards: the two OV2640 boards name their PDM microphone (as the SDK's targets wire it); the AtomS3R-CAM has none.
  const board = (name: string) => readBoard((JSON.parse(readFileSync(join(repoRoot, 'boards', `${name}.json`), 'utf8')) as { config: { bodycam: unknown } }).config.bodycam, name);
  t.deepEqual(board('xiao_esp32s3_sense').microphone, { kind: 'pdm', clock: 42, data: 41 });
  t.deepEqual(board('lilygo_t_camera_plus_s3').microphone, { kind: 'pdm', clock: 39, data: 40 });
  t.is(board('m5atom_s3r_cam').microphone, null);
});
