// Firmware entries for the storage area (see entries.ts): format, mount, write, read and release
// through the SegmentStore on the platform's Flash port, and the scripted workload the power-cut
// sweep cuts at every flash operation. The workload's frames come from `workloadFrame`, which
// tests import to know what each segment must hold. Pure ECMAScript: bundled into the XS guest.

import type { CborValue } from '../../firmware/codec/cbor.js';
import { BodycamError } from '../../firmware/errors.js';
import type { Flash } from '../../firmware/platform/flash.js';
import { PreEventRing, SegmentStore, SegmentWriter, type FormatOptions, type SegmentInfo } from '../../firmware/storage/index.js';
import type { Entry, GuestEnv } from './env.js';

export const STORE_PATH = 'bodycam-store';

interface StorageState {
  flash?: Flash;
  store?: SegmentStore;
  writer?: SegmentWriter;
  ring?: PreEventRing;
  progress?: WorkloadProgress;
}

function st(env: GuestEnv): StorageState {
  return ((env.state.storage as StorageState | undefined) ??= {} as StorageState) as StorageState;
}

function openFlash(env: GuestEnv): Flash {
  const s = st(env);
  try {
    s.flash?.close();
  } catch {
    // a port of a device that lost power: nothing to release
  }
  s.flash = new env.platform.Flash({ path: STORE_PATH });
  s.writer = undefined;
  s.ring = undefined;
  return s.flash;
}

function store(env: GuestEnv): SegmentStore {
  const s = st(env).store;
  if (!s) throw new BodycamError('E_STORE_NOT_MOUNTED', 'call storage.format or storage.mount first');
  return s;
}

function bytes(v: CborValue, what: string): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new BodycamError('E_ARGUMENT', `${what} must be bytes`);
  return v;
}

function optBytes(v: CborValue, what: string): Uint8Array | undefined {
  return v === undefined || v === null ? undefined : bytes(v, what);
}

function num(v: CborValue, what: string): number {
  if (typeof v !== 'number') throw new BodycamError('E_ARGUMENT', `${what} must be a number`);
  return v;
}

function infoValue(i: SegmentInfo): CborValue {
  return { id: i.id, sequence: i.sequence, state: i.state, records: i.records, mediaLength: i.mediaLength, flashBytes: i.flashBytes, meta: i.meta ?? null, trailer: i.trailer ?? null, lostAtCut: i.lostAtCut };
}

function summary(s: SegmentStore): CborValue {
  return { revision: s.revision, nextSequence: s.nextSequence, usage: { ...s.usage() }, segments: s.segments().map(infoValue) };
}

function formatOptions(v: CborValue): Omit<FormatOptions, 'flash' | 'checksum'> {
  const o: Record<string, number> = {};
  if (v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)) {
    const m = v instanceof Map ? Object.fromEntries(v as Map<string, CborValue>) : (v as Record<string, CborValue>);
    for (const k of ['pageLength', 'extentBlocks', 'slotBlocks', 'maxSegments', 'maxRecord', 'firstSequence']) if (typeof m[k] === 'number') o[k] = m[k] as number;
  }
  return o;
}

// ---------------------------------------------------------------- the scripted workload

/** A deterministic frame of the workload: segment `seg` (a letter), frame `i`. */
export function workloadFrame(seed: number, seg: string, i: number): { header: Uint8Array; body: Uint8Array } {
  const k = seg.charCodeAt(0) * 131 + i * 977 + seed * 7919;
  const header = new Uint8Array(8 + (k % 24));
  const body = new Uint8Array(200 + ((k * 2654435761) >>> 0) % 2300);
  for (let j = 0; j < header.length; j++) header[j] = (k + j * 3) & 255;
  // A cheap pattern, but not a repeating one that a misplaced block could still match.
  let x = (k ^ 0x9e3779b9) >>> 0;
  for (let j = 0; j < body.length; j++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    body[j] = x >>> 24;
  }
  return { header, body };
}

export function workloadMeta(seed: number, seg: string): Uint8Array {
  return new Uint8Array([0xa1, 0x61, seg.charCodeAt(0), seed & 255]);
}

export function workloadTrailer(seed: number, seg: string): Uint8Array {
  const t = new Uint8Array(90 + (seg.charCodeAt(0) % 7) * 13);
  for (let j = 0; j < t.length; j++) t[j] = (seg.charCodeAt(0) + j * 5 + seed) & 255;
  return t;
}

/** Frames per segment in the workload; B's pre-event frames come every 100 ms, the window is 1 s. */
export const WORKLOAD = Object.freeze({ A: 8, RING: 20, RING_WINDOW_S: 1, RING_STEP_MS: 100, B: 4, C: 6, D: 5 });

export interface WorkloadProgress {
  /** Segment id by workload letter. */
  ids: Record<string, number>;
  /** Frames whose append() returned, by letter (B counts only frames after promote). */
  acked: Record<string, number>;
  /** Steps whose call returned: 'seal:A', 'promote', 'release', ... */
  done: string[];
}

/**
 * The sweep's workload: A (8 frames, sealed); a pre-event ring of 20 frames promoted into B
 * (+4 frames, sealed); C (6 frames, sealed); release A; D (5 frames, left open); a reboot (the
 * store remounted on the same flash: D comes back `recovered`); D's trailer attached, as the
 * recorder does with the manifest it signs at boot. Frames are 200–2500 bytes, so records cross
 * blocks and extents on the sweep's small flash.
 */
function runWorkload(env: GuestEnv, seed: number): void {
  const s = store(env);
  const p: WorkloadProgress = { ids: {}, acked: {}, done: [] };
  st(env).progress = p;
  const segment = (letter: string, frames: number, seal: boolean) => {
    const w = s.openSegment(workloadMeta(seed, letter));
    p.ids[letter] = w.id;
    p.acked[letter] = 0;
    for (let i = 0; i < frames; i++) {
      const f = workloadFrame(seed, letter, i);
      w.append(f.header, f.body);
      p.acked[letter]++;
    }
    if (seal) {
      w.seal(workloadTrailer(seed, letter));
      p.done.push(`seal:${letter}`);
    }
  };
  segment('A', WORKLOAD.A, true);
  const ring = s.openPreEvent({ seconds: WORKLOAD.RING_WINDOW_S });
  p.ids.B = ring.id;
  p.acked.B = 0;
  for (let i = 0; i < WORKLOAD.RING; i++) {
    const f = workloadFrame(seed, 'R', i);
    ring.append(f.header, f.body, i * WORKLOAD.RING_STEP_MS);
  }
  p.done.push('ring');
  const w = ring.promote(workloadMeta(seed, 'B'), WORKLOAD.RING * WORKLOAD.RING_STEP_MS);
  p.done.push('promote');
  for (let i = 0; i < WORKLOAD.B; i++) {
    const f = workloadFrame(seed, 'B', i);
    w.append(f.header, f.body);
    p.acked.B++;
  }
  w.seal(workloadTrailer(seed, 'B'));
  p.done.push('seal:B');
  segment('C', WORKLOAD.C, true);
  s.release([p.ids.A], workloadTrailer(seed, 'receipt'));
  p.done.push('release');
  segment('D', WORKLOAD.D, false);
  p.done.push('frames:D');
  const flash = st(env).flash;
  if (!flash) throw new BodycamError('E_STORE_NOT_MOUNTED', 'the workload needs a mounted store');
  const again = SegmentStore.mount({ flash, checksum: env.platform.checksum, clock: env.platform.clock });
  st(env).store = again;
  p.done.push('reboot');
  again.attachTrailer(p.ids.D, workloadTrailer(seed, 'D'));
  p.done.push('attach:D');
  p.done.push('end');
}

// ---------------------------------------------------------------- entries

export const storageEntries: Record<string, Entry> = Object.freeze({
  /** Format the platform's flash (options: pageLength, extentBlocks, slotBlocks, maxSegments, maxRecord, firstSequence). */
  'storage.format': (env, options) => {
    const flash = openFlash(env);
    const s = SegmentStore.format({ flash, checksum: env.platform.checksum, clock: env.platform.clock, ...formatOptions(options) });
    st(env).store = s;
    return { geometry: { ...s.geometry }, ...(summary(s) as Record<string, CborValue>) };
  },
  /** Mount (recovering after any cut) and summarise. */
  'storage.mount': (env) => {
    const flash = openFlash(env);
    st(env).store = undefined;
    const s = SegmentStore.mount({ flash, checksum: env.platform.checksum, clock: env.platform.clock });
    st(env).store = s;
    return summary(s);
  },
  'storage.summary': (env) => summary(store(env)),
  'storage.segments': (env) => store(env).segments().map(infoValue),
  'storage.usage': (env) => ({ ...store(env).usage() }),
  'storage.open': (env, meta) => {
    const w = store(env).openSegment(bytes(meta, 'meta'));
    st(env).writer = w;
    return w.id;
  },
  'storage.append': (env, header, body) => {
    const w = st(env).writer;
    if (!w) throw new BodycamError('E_SEGMENT_STATE', 'no open segment (storage.open or storage.promote)');
    return w.append(bytes(header, 'header'), optBytes(body, 'body'));
  },
  /** Append the same frame `count` times (cost measurement: one bridge crossing for the body). */
  'storage.appendRepeat': (env, header, body, count) => {
    const w = st(env).writer;
    if (!w) throw new BodycamError('E_SEGMENT_STATE', 'no open segment');
    const h = bytes(header, 'header');
    const b = bytes(body, 'body');
    for (let i = 0; i < num(count, 'count'); i++) w.append(h, b);
    return w.records;
  },
  'storage.seal': (env, trailer) => {
    const w = st(env).writer;
    if (!w) throw new BodycamError('E_SEGMENT_STATE', 'no open segment');
    const info = w.seal(bytes(trailer, 'trailer'));
    st(env).writer = undefined;
    return infoValue(info);
  },
  /** Attach the trailer of a segment recovered without one. */
  'storage.attachTrailer': (env, id, trailer) => infoValue(store(env).attachTrailer(num(id, 'id'), bytes(trailer, 'trailer'))),
  'storage.abandon': (env) => {
    st(env).writer?.abandon();
    st(env).writer = undefined;
    return null;
  },
  'storage.ring.open': (env, seconds) => {
    const r = store(env).openPreEvent({ seconds: num(seconds, 'seconds') });
    st(env).ring = r;
    return r.id;
  },
  'storage.ring.append': (env, header, body, time) => {
    const r = st(env).ring;
    if (!r) throw new BodycamError('E_SEGMENT_STATE', 'no pre-event ring open');
    r.append(bytes(header, 'header'), optBytes(body, 'body'), typeof time === 'number' ? time : undefined);
    return r.records;
  },
  'storage.promote': (env, meta, time) => {
    const r = st(env).ring;
    if (!r) throw new BodycamError('E_SEGMENT_STATE', 'no pre-event ring open');
    const w = r.promote(bytes(meta, 'meta'), typeof time === 'number' ? time : undefined);
    st(env).ring = undefined;
    st(env).writer = w;
    return w.records;
  },
  'storage.ring.discard': (env) => {
    st(env).ring?.discard();
    st(env).ring = undefined;
    return null;
  },
  /** Every frame record of a segment as [header, body] pairs. */
  'storage.records': (env, id) => {
    const out: CborValue[] = [];
    for (const r of store(env).records(num(id, 'id'))) out.push([r.header, r.body]);
    return out;
  },
  'storage.readMedia': (env, id, offset, length) => store(env).readMedia(num(id, 'id'), num(offset, 'offset'), num(length, 'length')),
  'storage.release': (env, ids, receipt) => {
    if (!Array.isArray(ids)) throw new BodycamError('E_ARGUMENT', 'ids must be an array');
    store(env).release(ids.map((x) => num(x, 'id')), bytes(receipt, 'receipt'));
    return null;
  },
  'storage.receipts': (env) => store(env).receipts().map((r) => ({ ids: r.ids, receipt: r.receipt })),
  /** Run the sweep's workload on the mounted store (progress kept for storage.workload.progress). */
  'storage.workload': (env, seed) => {
    runWorkload(env, num(seed, 'seed'));
    return st(env).progress as unknown as CborValue;
  },
  'storage.workload.progress': (env) => (st(env).progress ?? null) as unknown as CborValue,
});
