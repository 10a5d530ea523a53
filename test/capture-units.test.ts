// Capture units on Node: the frame header byte by byte and its strict decoder, the pacer, the
// Moddable camera adapter against a fake of `embedded:io/image/in/camera`, and the synthetic
// sensor's pictures (decoded by ffmpeg: the counter is drawn, frames differ; from 640 wide up
// 4:2:2, with the counter and time read back glyph by glyph).

import test from 'ava';
import { spawnSync } from 'node:child_process';
import { decodeFrameHeader, encodeFrameHeader, FrameFlags, parseMedia, type FrameHeader, type FrameSink } from '../firmware/encoder/frame-record.js';
import { toHex } from '../firmware/codec/cbor.js';
import { FrameCapture } from '../firmware/sensor/capture.js';
import { moddableCameraPort, type ModdableCameraInstance, type ModdableFrame } from '../firmware/sensor/moddable-camera.js';
import { FramePacer } from '../firmware/sensor/pacer.js';
import { VirtualClock } from '../host-sim/node/hardware.js';
import { counterText, SyntheticFrames, timeText } from '../host-sim/sensor/synthetic.js';
import { jpegSize } from '../host-sim/sensor/jpeg.js';
import { readText } from './helpers/glyphs.js';

const H: FrameHeader = {
  flags: FrameFlags.KEYFRAME | FrameFlags.AFTER_GAP | FrameFlags.SENSOR_DROP,
  width: 640, height: 480, frameRate: 15, clockSource: 'dock',
  frameNumber: 0x01020304, monotonicMs: 0x0001_0000_0005, utcMs: 1_795_000_000_123, droppedBefore: 3, gapMs: 267, droppedTotal: 9, jpegLength: 0x1234,
};

test('frame header: 48 bytes, big-endian, field by field as docs/FORMAT.md says', (t) => {
  const b = encodeFrameHeader(H);
  t.is(
    toHex(b),
    '4652' + '01' + '30' + '0025' + '0280' + '01e0' + '0f' + '02' + '01020304' + '00000001' + '00000005' +
      '000001a1' + (1_795_000_000_123 % 2 ** 32).toString(16).padStart(8, '0') + '00000003' + '0000010b' + '00000009' + '00001234',
  );
  t.deepEqual(decodeFrameHeader(b), H);
});

test('frame header: the decoder is strict, with a stable code for each fault', (t) => {
  const b = encodeFrameHeader(H);
  const bad = (i: number, v: number) => {
    const c = b.slice();
    c[i] = v;
    return c;
  };
  t.throws(() => decodeFrameHeader(b.subarray(0, 47)), { message: /E_FRAME_TRUNCATED/ });
  t.throws(() => decodeFrameHeader(bad(0, 0x47)), { message: /E_FRAME_MAGIC/ });
  t.throws(() => decodeFrameHeader(bad(2, 2)), { message: /E_FRAME_VERSION/ });
  t.throws(() => decodeFrameHeader(bad(3, 52)), { message: /E_FRAME_VERSION/ });
  t.throws(() => decodeFrameHeader(bad(4, 0x80)), { message: /E_FRAME_FLAGS/ });
  t.throws(() => decodeFrameHeader(bad(5, 0x21)), { message: /E_FRAME_FIELD.*AFTER_GAP/ });
  t.throws(() => decodeFrameHeader(bad(11, 3)), { message: /E_FRAME_FIELD.*clock source/ });
  t.throws(() => encodeFrameHeader({ ...H, monotonicMs: 1.5 }), { message: /E_FRAME_FIELD/ });
  t.throws(() => encodeFrameHeader({ ...H, frameRate: 300 }), { message: /E_FRAME_FIELD/ });
  // A media stream whose JPEG isn't one.
  const media = new Uint8Array(48 + 4);
  media.set(encodeFrameHeader({ ...H, flags: 1, droppedBefore: 0, jpegLength: 4 }));
  t.throws(() => parseMedia(media), { message: /E_FRAME_NOT_JPEG/ });
});

test('pacer: nearest-slot pacing; missed slots are counted, surplus frames are not', (t) => {
  const p = new FramePacer({ frameRate: 10 });
  const taken = [0, 40, 80, 110, 190, 300, 330, 700].map((ms) => p.offer(ms));
  t.deepEqual(taken.map((d) => (d.take ? d.missed : 'skip')), [0, 'skip', 0, 'skip', 0, 0, 'skip', 3]);
  t.deepEqual(p.stats, { taken: 5, skipped: 3, missed: 3, lost: 0 });
  t.throws(() => new FramePacer({ frameRate: 0 }), { message: /E_CAPTURE_RATE/ });
  t.throws(() => new FramePacer({ frameRate: 12.5 }), { message: /E_CAPTURE_RATE/ });
});

/** A fake of Moddable's camera module: frames lent as disposable buffers that count their closes. */
type FakeFrame = ArrayBuffer & ModdableFrame & { closes: number };
function fakeFrame(bytes: Uint8Array): FakeFrame {
  const f = bytes.slice().buffer as FakeFrame;
  f.closes = 0;
  f.close = () => void f.closes++;
  return f;
}
function fakeModdable(o: { imageType?: 'jpeg' | number; fail?: string; size?: [number, number] } = {}) {
  const log = { opened: [] as unknown[], frames: [] as FakeFrame[], ready: [] as FakeFrame[], onReadable: undefined as undefined | ((n: number) => void), closed: 0 };
  class Camera implements ModdableCameraInstance {
    readonly imageType = o.imageType ?? 'jpeg';
    readonly width: number;
    readonly height: number;
    constructor(options: { width: number; height: number; onReadable: (n: number) => void }) {
      if (o.fail) throw new Error(o.fail);
      log.opened.push(options);
      log.onReadable = options.onReadable;
      [this.width, this.height] = o.size ?? [options.width, options.height];
    }
    read() {
      return log.ready.shift();
    }
    start() {}
    stop() {}
    close() {
      log.closed++;
    }
  }
  /** The driver has a frame: queue it and call onReadable with 0, as the ESP32 driver does. */
  const deliver = (bytes: Uint8Array) => {
    const f = fakeFrame(bytes);
    log.frames.push(f);
    log.ready.push(f);
    log.onReadable?.(0);
  };
  return { Camera, log, deliver };
}

test('moddable camera: frames reach the sink and every lent buffer is closed exactly once, also when storing throws', (t) => {
  const fake = fakeModdable();
  const clock = new VirtualClock();
  const stored: string[] = [];
  let fail = false;
  const sink: FrameSink = {
    append(header, body) {
      if (fail) throw new Error('card removed');
      stored.push(`${decodeFrameHeader(header).frameNumber}:${body.byteLength}`);
    },
  };
  const errors: string[] = [];
  const Camera = moddableCameraPort({ Camera: fake.Camera, sensor: 'OV2640' });
  const capture = new FrameCapture({ Camera, clock, width: 640, height: 480, frameRate: 15, sink, onError: (e) => errors.push(e.code) });
  t.like(fake.log.opened[0], { width: 640, height: 480, imageType: 'jpeg', format: 'buffer/disposable' });
  capture.start();
  const jpeg = Uint8Array.from([0xff, 0xd8, 1, 2, 3, 0xff, 0xd9]);
  for (let i = 0; i < 3; i++) {
    clock.advanceTo(i * 67);
    fake.deliver(jpeg);
  }
  fail = true;
  clock.advanceTo(3 * 67);
  fake.deliver(jpeg);
  t.deepEqual(errors, ['E_CAPTURE_SINK']);
  fail = false;
  clock.advanceTo(4 * 67);
  fake.deliver(jpeg);
  t.deepEqual(stored, ['0:7', '1:7', '2:7', '3:7']);
  t.true(fake.log.frames.every((f) => f.closes === 1));
  t.is(capture.stats.dropped, 1);
  capture.close();
  t.is(fake.log.closed, 1);
});

test('moddable camera: raw-only sensors, odd sizes and a failing driver are refused with codes', (t) => {
  const ok = fakeModdable();
  const open = (Camera: ReturnType<typeof moddableCameraPort>, width = 640, height = 480) => new Camera({ width, height, imageType: 'jpeg', format: 'buffer/disposable' });
  t.throws(() => open(moddableCameraPort({ Camera: ok.Camera, sensor: 'GC0308' })), { message: /E_CAMERA_RAW_ONLY.*GC0308/ });
  t.is(ok.log.opened.length, 0, 'refused before the driver opened');
  t.throws(() => open(moddableCameraPort({ Camera: ok.Camera }), 650, 480), { message: /E_CAMERA_SIZE/ });
  const raw = fakeModdable({ imageType: 7 });
  t.throws(() => open(moddableCameraPort({ Camera: raw.Camera, sensor: 'mystery' })), { message: /E_CAMERA_RAW_ONLY/ });
  t.is(raw.log.closed, 1);
  const broken = fakeModdable({ fail: 'camera init failed' });
  t.throws(() => open(moddableCameraPort({ Camera: broken.Camera, sensor: 'OV2640' })), { message: /E_CAMERA_INIT.*OV2640.*camera init failed/ });
  const Camera = moddableCameraPort({ Camera: ok.Camera });
  t.throws(() => new Camera({ width: 640, height: 480, imageType: 'rgb565le', format: 'buffer/disposable' }), { message: /E_CAMERA_RAW_ONLY/ });
  // A driver that rounds the size is caught by the capture.
  const rounds = fakeModdable({ size: [800, 600] });
  t.throws(() => new FrameCapture({ Camera: moddableCameraPort({ Camera: rounds.Camera }), clock: new VirtualClock(), width: 640, height: 480, frameRate: 15, sink: { append() {} } }), { message: /E_CAMERA_SIZE/ });
  t.is(rounds.log.closed, 1);
});

test('synthetic sensor: real JPEGs of the asked size that ffmpeg decodes, with the counter and time drawn', (t) => {
  const s = new SyntheticFrames({ width: 640, height: 480 });
  const utc = Date.UTC(2026, 10, 25, 6, 0, 1, 66);
  const a = new Uint8Array(s.frame(123, utc));
  const b = new Uint8Array(s.frame(124, utc + 67));
  t.deepEqual(jpegSize(a), { width: 640, height: 480 });
  t.is(counterText(123), '#0000123');
  t.is(timeText(utc), '06:00:01.066');
  const gray = (jpeg: Uint8Array) => {
    const r = spawnSync('ffmpeg', ['-v', 'error', '-xerror', '-f', 'mjpeg', '-i', '-', '-f', 'rawvideo', '-pix_fmt', 'gray', '-'], { input: jpeg, maxBuffer: 1 << 22 });
    if (r.status !== 0) throw new Error(r.stderr.toString());
    return r.stdout;
  };
  const ga = gray(a);
  const gb = gray(b);
  t.is(ga.length, 640 * 480);
  // The text box (top-left, two 16-px lines at this size) holds white glyph pixels on black.
  let white = 0;
  for (let y = 0; y < 32; y++) for (let x = 0; x < 12 * 16; x++) if (ga[y * 640 + x] > 200) white++;
  t.true(white > 500, `${white} white pixels in the text box`);
  // Frames differ (counter, time and the moving band), and only there: the lower right corner is still.
  let diffText = 0;
  let diffCorner = 0;
  for (let y = 0; y < 32; y++) for (let x = 0; x < 12 * 16; x++) if (Math.abs(ga[y * 640 + x] - gb[y * 640 + x]) > 40) diffText++;
  for (let y = 400; y < 480; y++) for (let x = 500; x < 640; x++) if (ga[y * 640 + x] !== gb[y * 640 + x]) diffCorner++;
  t.true(diffText > 20);
  t.is(diffCorner, 0);
  // Padding to a sensor-like size keeps it valid.
  const padded = new Uint8Array(new SyntheticFrames({ width: 320, height: 240, frameBytes: 70_000 }).frame(5, utc));
  t.true(padded.length >= 70_000 && padded.length < 70_010);
  t.is(gray(padded).length, 320 * 240);
});

/** ffmpeg's greyscale decode of one JPEG, refusing any decoding error (-xerror). */
function decodeGray(jpeg: Uint8Array): Uint8Array {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-xerror', '-f', 'mjpeg', '-i', '-', '-f', 'rawvideo', '-pix_fmt', 'gray', '-'], { input: jpeg, maxBuffer: 1 << 23 });
  if (r.status !== 0) throw new Error(r.stderr.toString());
  return new Uint8Array(r.stdout);
}

/** What ffprobe says of one JPEG: its pixel format (the sampling) and size. */
function probe(jpeg: Uint8Array): { pix_fmt: string; width: number; height: number } {
  const r = spawnSync('ffprobe', ['-v', 'error', '-f', 'mjpeg', '-i', '-', '-show_entries', 'stream=pix_fmt,width,height', '-of', 'json'], { input: jpeg });
  if (r.status !== 0) throw new Error(r.stderr.toString());
  return (JSON.parse(r.stdout.toString()) as { streams: { pix_fmt: string; width: number; height: number }[] }).streams[0];
}

test('synthetic sensor from 640 wide up: 4:2:2 as an OV2640 gives, which ffmpeg decodes; the counter and time read back glyph by glyph', (t) => {
  const utc = Date.UTC(2026, 10, 25, 6, 59, 58, 947);
  // QVGA stays 4:4:4 (8x8 MCUs, the font at scale 1).
  t.is(probe(new Uint8Array(new SyntheticFrames({ width: 320, height: 240 }).frame(1, utc))).pix_fmt, 'yuvj444p');
  const svga = new SyntheticFrames({ width: 800, height: 600 });
  for (const index of [1234567, 9876543]) {
    const jpeg = new Uint8Array(svga.frame(index, utc + index));
    t.deepEqual(probe(jpeg), { pix_fmt: 'yuvj422p', width: 800, height: 600 });
    // Half the MCUs of 4:4:4, which made about 57 KB here: about 32 KB (an OV2640 makes about 25 KB at quality 12).
    t.true(jpeg.length > 20_000 && jpeg.length < 34_000, `${jpeg.length} bytes`);
    const gray = decodeGray(jpeg);
    t.is(gray.length, 800 * 600);
    // The font at scale 2: 16-pixel cells, one MCU each.
    const counter = readText(gray, 800, { scale: 2, line: 0, cells: 8 });
    const time = readText(gray, 800, { scale: 2, line: 1, cells: 12 });
    t.is(counter.text, counterText(index));
    t.is(time.text, timeText(utc + index));
    t.true(counter.worst < 16 && time.worst < 16, `cells within ${Math.max(counter.worst, time.worst).toFixed(1)} of their glyphs`);
  }
  // HD: the font at scale 4, a cell two MCUs across.
  const hd = new Uint8Array(new SyntheticFrames({ width: 1280, height: 720 }).frame(4321, utc));
  t.is(probe(hd).pix_fmt, 'yuvj422p');
  t.is(readText(decodeGray(hd), 1280, { scale: 4, line: 0, cells: 8 }).text, counterText(4321));
});
