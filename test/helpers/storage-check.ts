// What the storage sweep expects after a cut: the segments of the scripted workload
// (host-sim/guest/storage.ts), given how far the workload got, checked through the engine.

import type { ExecutionContext } from 'ava';
import type { CborValue } from '../../firmware/codec/cbor.js';
import type { Engine } from '../../host-sim/engine.js';
import { WORKLOAD, workloadFrame, workloadMeta, workloadTrailer, type WorkloadProgress } from '../../host-sim/guest/storage.js';

export interface SegView {
  id: number;
  sequence: number;
  state: string;
  records: number;
  mediaLength: number;
  meta: Uint8Array | null;
  trailer: Uint8Array | null;
  lostAtCut?: number;
}

export interface Summary {
  revision: number;
  nextSequence: number;
  usage: { total: number; free: number; held: number; segmentsAwaitingUpload: number; awaitingUpload: number };
  segments: SegView[];
}

export function eq(a: Uint8Array | null | undefined, b: Uint8Array | null | undefined): boolean {
  if (!a || !b) return a === b;
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}

/** The frames each workload segment holds when complete (B: the pre-event frames kept, then its own). */
export function expectedFrames(seed: number, letter: string): { header: Uint8Array; body: Uint8Array }[] {
  const out: { header: Uint8Array; body: Uint8Array }[] = [];
  if (letter === 'B') {
    const cutoff = WORKLOAD.RING * WORKLOAD.RING_STEP_MS - WORKLOAD.RING_WINDOW_S * 1000;
    for (let i = 0; i < WORKLOAD.RING; i++) if (i * WORKLOAD.RING_STEP_MS >= cutoff) out.push(workloadFrame(seed, 'R', i));
  }
  const n = (WORKLOAD as unknown as Record<string, number>)[letter];
  for (let i = 0; i < n; i++) out.push(workloadFrame(seed, letter, i));
  return out;
}

export function preEventKept(seed: number): number {
  return expectedFrames(seed, 'B').length - WORKLOAD.B;
}

/** Check a segment's records and media against the expected frames (first `count`). */
export async function checkContent(engine: Engine, seg: SegView, frames: { header: Uint8Array; body: Uint8Array }[], count: number, where: string): Promise<string | undefined> {
  const recs = (await engine.call('storage.records', seg.id)).value as [Uint8Array, Uint8Array][];
  if (recs.length !== count) return `${where}: ${recs.length} records, expected ${count}`;
  let media = 0;
  for (let i = 0; i < count; i++) {
    if (!eq(recs[i][0], frames[i].header) || !eq(recs[i][1], frames[i].body)) return `${where}: record ${i} differs`;
    media += frames[i].header.length + frames[i].body.length;
  }
  if (seg.mediaLength !== media || seg.records !== count) return `${where}: info says ${seg.records} records / ${seg.mediaLength} bytes, expected ${count} / ${media}`;
  if (media > 0) {
    // A read across record boundaries, from the middle.
    const off = Math.floor(media / 3);
    const got = (await engine.call('storage.readMedia', seg.id, off, media)).value as Uint8Array;
    const all = Buffer.concat(frames.slice(0, count).flatMap((f) => [f.header, f.body]));
    if (!eq(got, all.subarray(off))) return `${where}: readMedia from ${off} differs`;
  }
  return undefined;
}

const ORDER = ['A', 'B', 'C', 'D'];

/**
 * Check the mounted store against the workload's progress at the cut. Returns the problems
 * (empty when the store is as it must be).
 */
/**
 * Acknowledged frames at the end of `frames[0..acked)` that a cut may take with it on lossy
 * media (an SD card): those whose records lie, even in part, within one loss unit before the
 * write in flight (records of `pageLength`-aligned spans, laid end to end).
 */
export function framesAtRisk(frames: { header: Uint8Array; body: Uint8Array }[], acked: number, lossUnit: number, pageLength: number): number {
  let span = 0;
  let n = 0;
  for (let i = acked - 1; i >= 0 && span < lossUnit; i--) {
    n++;
    span += Math.ceil((16 + frames[i].header.length + frames[i].body.length) / pageLength) * pageLength;
  }
  return n;
}

/** On lossy media the open segment may lose the unit the cut hit: the loss unit and the store's page. */
export interface Lossy {
  lossUnit: number;
  pageLength: number;
}

export async function checkAfterCut(engine: Engine, seed: number, summary: Summary, p: WorkloadProgress, lossy?: Lossy): Promise<string[]> {
  const problems: string[] = [];
  const done = new Set(p.done);
  const byId = new Map(summary.segments.map((s) => [s.id, s]));
  const known = new Set(Object.values(p.ids));
  for (const s of summary.segments) if (!known.has(s.id)) problems.push(`segment ${s.id} (seq ${s.sequence}) is not one the workload wrote`);
  let expectedSeq = 1;
  for (const L of ORDER) {
    const id = p.ids[L];
    if (id === undefined) continue;
    const seg = byId.get(id);
    const frames = expectedFrames(seed, L);
    const total = frames.length;
    const pre = L === 'B' ? preEventKept(seed) : 0;
    const acked = pre + (p.acked[L] ?? 0);
    const where = `segment ${L}`;
    const sealedAcked = done.has(`seal:${L}`);
    if (L === 'A' && done.has('release')) {
      if (seg && seg.state !== 'released') problems.push(`${where}: released before the cut, now ${seg.state}`);
      expectedSeq++;
      continue;
    }
    if (L === 'B' && !done.has('promote')) {
      // Promote in flight: B is absent (still provisional) or holds exactly the pre-event frames.
      if (seg) {
        if (seg.state !== 'recovered') problems.push(`${where}: promoted in flight, state ${seg.state}`);
        const least = lossy ? pre - framesAtRisk(frames, pre, lossy.lossUnit, lossy.pageLength) : pre;
        if (seg.records < least || seg.records > pre) problems.push(`${where}: promoted in flight with ${seg.records} of its ${pre} pre-event frames (at least ${least})`);
        const e = await checkContent(engine, seg, frames, Math.min(seg.records, pre), where);
        if (e) problems.push(e);
      } else if (summary.nextSequence !== expectedSeq) problems.push(`${where}: absent, but the next sequence is ${summary.nextSequence}, expected ${expectedSeq}`);
      if (seg) expectedSeq++;
      continue;
    }
    if (!seg) {
      if (acked > 0 || sealedAcked) problems.push(`${where}: missing, though ${acked} frames were acknowledged`);
      continue;
    }
    if (seg.sequence !== expectedSeq) problems.push(`${where}: sequence ${seg.sequence}, expected ${expectedSeq}`);
    expectedSeq++;
    // On lossy media the META record goes with the unit the cut destroyed, and then frames of that unit go too.
    const metaLost = lossy && seg.meta === null && seg.state === 'recovered' && seg.records <= acked;
    if (!eq(seg.meta, workloadMeta(seed, L)) && !metaLost) problems.push(`${where}: meta differs`);
    if (sealedAcked) {
      const releasing = L === 'A' && done.has('seal:C');
      if (seg.state !== 'sealed' && !(releasing && seg.state === 'released')) problems.push(`${where}: sealed before the cut, now ${seg.state}`);
      if (seg.state === 'released') continue;
      if (!eq(seg.trailer, workloadTrailer(seed, L))) problems.push(`${where}: trailer differs`);
      const e = await checkContent(engine, seg, frames, total, where);
      if (e) problems.push(e);
      continue;
    }
    // In progress at the cut: everything acknowledged, at most the frame in flight more.
    const k = seg.records;
    const least = lossy ? acked - framesAtRisk(frames, acked, lossy.lossUnit, lossy.pageLength) : acked;
    if (k < least || k > Math.min(acked + 1, total)) problems.push(`${where}: ${k} records after the cut, acknowledged ${acked} (at least ${least} must survive, at most one more)`);
    // On a card the frames the cut destroyed are counted: the progress journal knew they were stored.
    if (lossy && k < acked && (seg.lostAtCut ?? 0) < acked - k) problems.push(`${where}: the cut destroyed ${acked - k} acknowledged frames, the store counts ${seg.lostAtCut ?? 0} lost`);
    // D is never sealed: after the workload's reboot it is recovered, then its trailer is attached.
    const attaching = L === 'D' && done.has('reboot');
    if (seg.state === 'sealed') {
      if (L === 'D') problems.push(`${where}: sealed, but it was never sealed (only recovered, then given a trailer)`);
      else if (k !== total || !eq(seg.trailer, workloadTrailer(seed, L))) problems.push(`${where}: sealed without all frames and its trailer`);
    } else if (seg.state !== 'recovered') problems.push(`${where}: state ${seg.state} after a cut, expected recovered`);
    else if (seg.trailer) {
      if (!attaching) problems.push(`${where}: recovered with a trailer nobody attached`);
      else if (!eq(seg.trailer, workloadTrailer(seed, L))) problems.push(`${where}: the attached trailer differs (a torn attach must leave none)`);
    } else if (done.has(`attach:${L}`)) problems.push(`${where}: its trailer was attached before the cut and is gone`);
    const e = await checkContent(engine, seg, frames, Math.min(k, total), where);
    if (e) problems.push(e);
  }
  return problems;
}

/**
 * What the recorder does at the next boot: attach a trailer to every segment recovered without
 * one (`B` or `D`, by the workload's ids), remount, and check each kept its frames and got all
 * of its trailer, still `recovered`. Returns the problems and the summary after the remount.
 */
export async function checkAttach(engine: Engine, seed: number, before: Summary, p: WorkloadProgress): Promise<{ problems: string[]; summary: Summary }> {
  const problems: string[] = [];
  const letterOf = new Map(Object.entries(p.ids).map(([L, id]) => [id, L]));
  const todo = before.segments.filter((s) => s.state === 'recovered' && !s.trailer);
  for (const s of todo) {
    const L = letterOf.get(s.id) ?? '?';
    const info = plain<SegView>((await engine.call('storage.attachTrailer', s.id, workloadTrailer(seed, L))).value);
    if (info.state !== 'recovered' || !eq(info.trailer, workloadTrailer(seed, L))) problems.push(`segment ${L}: attachTrailer returned ${info.state} with ${info.trailer ? 'another' : 'no'} trailer`);
  }
  const summary = todo.length ? asSummary((await engine.call('storage.mount')).value) : before;
  for (const s of todo) {
    const L = letterOf.get(s.id) ?? '?';
    const where = `segment ${L} after attachTrailer and a remount`;
    const a = summary.segments.find((x) => x.id === s.id);
    if (!a) {
      problems.push(`${where}: missing`);
      continue;
    }
    if (a.state !== 'recovered' || !eq(a.trailer, workloadTrailer(seed, L))) problems.push(`${where}: ${a.state} with ${a.trailer ? 'another' : 'no'} trailer`);
    if (a.sequence !== s.sequence || !eq(a.meta, s.meta)) problems.push(`${where}: sequence or meta changed`);
    const e = await checkContent(engine, a, expectedFrames(seed, L), s.records, where);
    if (e) problems.push(e);
  }
  return { problems, summary };
}

/** After recovery the store must take a new segment and keep it across another mount. */
export async function checkWritable(t: ExecutionContext, engine: Engine, seed: number, before: Summary): Promise<string[]> {
  const problems: string[] = [];
  await engine.call('storage.open', workloadMeta(seed, 'E'));
  const frames = [0, 1, 2].map((i) => workloadFrame(seed, 'E', i));
  for (const f of frames) await engine.call('storage.append', f.header, f.body);
  const info = plain<SegView>((await engine.call('storage.seal', workloadTrailer(seed, 'E'))).value);
  const after = asSummary((await engine.call('storage.mount')).value);
  const e = after.segments.find((s) => s.id === info.id);
  if (!e || e.state !== 'sealed') problems.push(`new segment after recovery: ${e ? e.state : 'missing'} after a remount`);
  else {
    if (e.sequence !== before.nextSequence) problems.push(`new segment has sequence ${e.sequence}, expected ${before.nextSequence}`);
    const c = await checkContent(engine, e, frames, 3, 'new segment after recovery');
    if (c) problems.push(c);
  }
  for (const s of before.segments) {
    const a = after.segments.find((x) => x.id === s.id);
    if (s.state === 'released') continue;
    if (!a || a.state !== s.state || a.records !== s.records || a.mediaLength !== s.mediaLength || !eq(a.trailer, s.trailer)) problems.push(`segment ${s.id} changed when the store was written after recovery`);
  }
  void t;
  return problems;
}

/** CBOR maps (as both engines return them) to plain objects, recursively. */
export function plain<T>(v: CborValue): T {
  const walk = (x: CborValue): unknown => {
    if (x instanceof Map) return Object.fromEntries([...x].map(([k, y]) => [String(k), walk(y)]));
    if (Array.isArray(x)) return x.map(walk);
    return x;
  };
  return walk(v) as T;
}

export function asSummary(v: CborValue): Summary {
  return plain<Summary>(v);
}
