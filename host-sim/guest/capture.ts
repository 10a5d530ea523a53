// Firmware entries for the capture area: open a FrameCapture on the platform's Camera with a
// sink that lives in the engine (so tests and benches see the exact frame records the firmware
// hands to storage), start and stop it, take the records, fail the sink on purpose, and run the
// frame-record codec and the export's timeline. Pure ECMAScript: bundled into the XS guest.

import { type CborValue } from '../../firmware/codec/cbor.js';
import { decodeFrameHeader, encodeFrameHeader, parseMedia, type FrameHeader, type FrameSink } from '../../firmware/encoder/frame-record.js';
import { planAviExport } from '../../firmware/encoder/avi.js';
import { BodycamError } from '../../firmware/errors.js';
import { toBytes, type BufferLike } from '../../firmware/platform/buffers.js';
import { FrameCapture } from '../../firmware/sensor/capture.js';
import type { Entry, GuestEnv } from './env.js';

/** Keeps records (header || JPEG copies) or only counts them; can be told to fail. */
class GuestSink implements FrameSink {
  records: Uint8Array[] = [];
  appended = 0;
  bytes = 0;
  failNext = 0;
  constructor(readonly keep: boolean) {}
  append(header: Uint8Array, body: BufferLike): void {
    if (this.failNext > 0) {
      this.failNext--;
      throw new BodycamError('E_STORE_IO', 'simulated storage failure (test)');
    }
    const b = toBytes(body);
    this.appended++;
    this.bytes += header.length + b.length;
    if (this.keep) {
      const r = new Uint8Array(header.length + b.length);
      r.set(header);
      r.set(b, header.length);
      this.records.push(r);
    }
  }
}

interface CaptureState {
  capture: FrameCapture;
  sink: GuestSink;
  errors: string[];
}

function state(env: GuestEnv): CaptureState {
  const s = env.state.capture as CaptureState | undefined;
  if (!s) throw new BodycamError('E_CAPTURE_NOT_OPEN', 'call capture.open first');
  return s;
}

function num(v: CborValue, what: string): number {
  if (typeof v !== 'number') throw new BodycamError('E_ARGUMENT', `${what} must be a number`);
  return v;
}

/** A CBOR map (decoded as a Map) or a plain object, as a record. */
function record(v: CborValue): Record<string, CborValue> {
  if (v instanceof Map) {
    const o: Record<string, CborValue> = {};
    for (const [k, x] of v) o[String(k)] = x;
    return o;
  }
  if (v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)) return v as Record<string, CborValue>;
  return {};
}

function headerValue(h: FrameHeader): CborValue {
  return { ...h };
}

export const captureEntries: Record<string, Entry> = Object.freeze({
  /** Open the camera: {width, height, frameRate, sensor?, keep? (default true), preEvent?}. */
  'capture.open': (env, config) => {
    const c = record(config);
    const old = env.state.capture as CaptureState | undefined;
    if (old) old.capture.close();
    const sink = new GuestSink(c.keep !== false);
    const errors: string[] = [];
    const capture = new FrameCapture({
      Camera: env.platform.Camera,
      clock: env.platform.clock,
      width: num(c.width, 'width'),
      height: num(c.height, 'height'),
      frameRate: num(c.frameRate, 'frameRate'),
      sensor: typeof c.sensor === 'string' ? c.sensor : undefined,
      preEvent: c.preEvent === true,
      sink,
      onError: (e) => void errors.push(e.code),
    });
    env.state.capture = { capture, sink, errors } satisfies CaptureState;
    return { width: capture.width, height: capture.height, frameRate: capture.frameRate };
  },
  'capture.start': (env) => {
    state(env).capture.start();
    return null;
  },
  'capture.stop': (env) => {
    state(env).capture.stop();
    return null;
  },
  'capture.close': (env) => {
    const s = env.state.capture as CaptureState | undefined;
    if (s) s.capture.close();
    env.state.capture = undefined;
    return null;
  },
  /** Following frames are pre-event (true) or evidence (false). */
  'capture.route': (env, preEvent) => {
    const s = state(env);
    s.capture.route(s.sink, { preEvent: preEvent === true });
    return null;
  },
  /** The next `n` appends throw E_STORE_IO. */
  'capture.failSink': (env, n) => {
    state(env).sink.failNext = num(n, 'n');
    return null;
  },
  /** The records kept since the last take (each: frame header || JPEG), oldest first. */
  'capture.take': (env) => {
    const s = state(env);
    const r = s.sink.records;
    s.sink.records = [];
    return r;
  },
  'capture.stats': (env) => {
    const s = state(env);
    return { ...s.capture.stats, appended: s.sink.appended, bytes: s.sink.bytes, errors: s.errors.slice() };
  },
  'capture.encodeHeader': (_env, h) => encodeFrameHeader(record(h) as unknown as FrameHeader),
  'capture.decodeHeader': (_env, bytes) => headerValue(decodeFrameHeader(bytes as Uint8Array)),
  /** Headers of every frame in a segment's media. */
  'capture.parseMedia': (_env, media) => parseMedia(media as Uint8Array).map((f) => headerValue(f.header)),
  /** The export's timeline of segment media: [frame number, UTC ms, repeat of] per AVI frame, and the gaps. */
  'capture.exportPlan': (_env, media, maxFillMs) => {
    const exp = planAviExport(media as Uint8Array[], { maxFillMs: maxFillMs as number });
    return {
      frames: exp.parts.flatMap((p) => p.frames.map((f) => [f.frameNumber, f.utcMs, f.duplicateOf ?? null])),
      gaps: exp.gaps.map((g) => [g.frameNumber, g.kind, g.dropped, g.filled, g.gapMs]),
    };
  },
});
