// The store's state — the segment table, bad blocks, counters, last receipts — and the deltas
// that change it. The metadata log (meta-log.ts) persists deltas and snapshots of this state;
// mount replays them through the same `applyDelta` the live store uses, so what a store did
// before a cut and what mount rebuilds after it can't disagree. Also the block allocator: a
// circular cursor over the data area that skips live extents and bad blocks (wear levelling:
// every free block is erased once per lap).
//
// RAM: one small object per segment in the table (at most geometry.maxSegments, plus
// KEEP_RELEASED released ones) and one entry per bad block; nothing per flash block.

import { BodycamError } from '../errors.js';
import type { CborValue } from '../codec/cbor.js';

export interface Geometry {
  blockLength: number;
  blocks: number;
  writeAlign: number;
  /** Program page: every record starts on one, so a torn program never touches a committed record. */
  pageLength: number;
  /** Blocks per metadata slot (two slots, interleaved over the first 2 × slotBlocks blocks). */
  slotBlocks: number;
  /** Blocks reserved (erased ahead) for a writer at a time. */
  extentBlocks: number;
  /** Segments (live, not released) the table holds at most. */
  maxSegments: number;
  /** Largest record payload (frame header + body), bytes. */
  maxRecord: number;
  /**
   * Media that a power cut damages a whole unit of around the write in flight (an SD card's
   * internal page): every metadata entry starts a unit of its own, blocks are whole units, and
   * an open segment is recovered by walking it from its start. Absent on NOR.
   */
  lossUnit?: number;
}

export interface Extent {
  block: number;
  count: number;
  /** Offset in the segment's byte stream where this extent starts. */
  base: number;
}

export const SegState = Object.freeze({ OPEN: 0, SEALED: 1, RECOVERED: 2, RELEASED: 3 });

export interface Seg {
  id: number;
  /** Evidence sequence number; -1 while provisional (a pre-event ring not promoted). */
  sequence: number;
  state: number;
  extents: Extent[];
  /** Stream offset of the first kept record (pre-event records before it were dropped). */
  start: number;
  /** Stream offset after the last durable record (a checkpoint while open). */
  end: number;
  /** Frame records and media bytes from start to end. */
  records: number;
  media: number;
  metaOffset: number;
  trailerOffset: number;
  /** Records a power cut tore in flight (found at recovery, 0 or 1): frames lost at the cut. */
  lostAtCut?: number;
}

export interface StoreState {
  nextId: number;
  nextSequence: number;
  /** Allocation cursor: the block the next extent is sought from. */
  cursor: number;
  bad: number[];
  segments: Seg[];
  receipts: { ids: number[]; receipt: Uint8Array }[];
}

export const Delta = Object.freeze({ EXTENT: 1, ASSIGN: 2, TRIM: 3, SEAL: 4, RELEASE: 5, BAD: 6, DISCARD: 7 });

/** Released segments kept in the table (for reporting); older ones are forgotten. */
export const KEEP_RELEASED = 16;
/** Receipts kept. */
export const KEEP_RECEIPTS = 4;

export function emptyState(firstSequence: number, g: Geometry): StoreState {
  return { nextId: 1, nextSequence: firstSequence, cursor: dataStart(g), bad: [], segments: [], receipts: [] };
}

/** Blocks of the progress journal (progress.ts) after the metadata slots, on lossy media only. */
export function progressBlocks(g: Geometry): number {
  return g.lossUnit ? 2 : 0;
}

export function dataStart(g: Geometry): number {
  return 2 * g.slotBlocks + progressBlocks(g);
}

function corrupt(what: string): never {
  throw new BodycamError('E_STORE_CORRUPT', `metadata log: ${what}; the store cannot be trusted as it is (reformat only after its evidence is recovered)`);
}

function uint(v: CborValue, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) corrupt(`${what} is not an unsigned integer`);
  return v;
}

function int(v: CborValue, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) corrupt(`${what} is not an integer`);
  return v;
}

export function findSeg(s: StoreState, id: number): Seg | undefined {
  for (const x of s.segments) if (x.id === id) return x;
  return undefined;
}

function needSeg(s: StoreState, id: number): Seg {
  const x = findSeg(s, id);
  if (!x) corrupt(`delta for unknown segment ${id}`);
  return x;
}

/** Apply one delta (a CBOR array) to the state. Used live and by mount's replay. */
export function applyDelta(s: StoreState, d: CborValue, g: Geometry): void {
  if (!Array.isArray(d) || d.length === 0) corrupt('delta is not an array');
  const kind = uint(d[0], 'delta type');
  switch (kind) {
    case Delta.EXTENT: {
      const id = uint(d[1], 'id');
      const e: Extent = { block: uint(d[2], 'block'), count: uint(d[3], 'count'), base: uint(d[4], 'base') };
      let seg = findSeg(s, id);
      if (!seg) {
        seg = { id, sequence: -1, state: SegState.OPEN, extents: [], start: 0, end: 0, records: 0, media: 0, metaOffset: -1, trailerOffset: -1 };
        s.segments.push(seg);
        if (id >= s.nextId) s.nextId = id + 1;
      }
      const prev = seg.extents[seg.extents.length - 1];
      if (prev && e.base < prev.base + prev.count * g.blockLength) {
        // The previous extent was abandoned at e.base (a failed program): keep what precedes it.
        const keep = e.base - prev.base;
        if (keep <= 0) seg.extents.pop();
        else prev.count = Math.ceil(keep / g.blockLength);
      }
      const last = seg.extents[seg.extents.length - 1];
      if (last && last.block + last.count === e.block && last.base + last.count * g.blockLength === e.base) last.count += e.count;
      else seg.extents.push(e);
      seg.end = uint(d[5], 'end');
      seg.records = uint(d[6], 'records');
      seg.media = uint(d[7], 'media');
      s.cursor = e.block + e.count;
      return;
    }
    case Delta.ASSIGN: {
      const seg = needSeg(s, uint(d[1], 'id'));
      seg.sequence = uint(d[2], 'sequence');
      if (seg.sequence >= s.nextSequence) s.nextSequence = seg.sequence + 1;
      seg.start = uint(d[3], 'start');
      seg.metaOffset = uint(d[4], 'meta offset');
      seg.end = uint(d[5], 'end');
      seg.records = uint(d[6], 'records');
      seg.media = uint(d[7], 'media');
      return;
    }
    case Delta.TRIM: {
      // Drop the first n blocks of the stream (pre-event data that aged out).
      const seg = needSeg(s, uint(d[1], 'id'));
      let n = uint(d[2], 'blocks');
      while (n > 0 && seg.extents.length > 0) {
        const e = seg.extents[0];
        if (n >= e.count) {
          n -= e.count;
          seg.extents.shift();
        } else {
          e.block += n;
          e.count -= n;
          e.base += n * g.blockLength;
          n = 0;
        }
      }
      return;
    }
    case Delta.SEAL: {
      const seg = needSeg(s, uint(d[1], 'id'));
      seg.end = uint(d[2], 'end');
      seg.records = uint(d[3], 'records');
      seg.media = uint(d[4], 'media');
      seg.trailerOffset = int(d[5], 'trailer offset');
      seg.state = d[6] === 1 ? SegState.RECOVERED : SegState.SEALED;
      seg.metaOffset = int(d[7], 'meta offset');
      if (d.length > 8) seg.lostAtCut = uint(d[8], 'lost at cut');
      // Give back the blocks reserved ahead that the segment never used.
      const kept: Extent[] = [];
      for (const e of seg.extents) {
        if (e.base >= seg.end) break;
        const used = Math.ceil((seg.end - e.base) / g.blockLength);
        if (used < e.count) e.count = used;
        kept.push(e);
      }
      seg.extents = kept;
      return;
    }
    case Delta.RELEASE: {
      const ids = d[1];
      if (!Array.isArray(ids)) corrupt('release ids');
      const receipt = d[2];
      if (!(receipt instanceof Uint8Array)) corrupt('release receipt');
      const released: number[] = [];
      for (const v of ids) {
        const seg = findSeg(s, uint(v, 'id'));
        if (!seg) continue;
        seg.state = SegState.RELEASED;
        seg.extents = [];
        released.push(seg.id);
      }
      s.receipts.push({ ids: released, receipt });
      while (s.receipts.length > KEEP_RECEIPTS) s.receipts.shift();
      let n = 0;
      for (const x of s.segments) if (x.state === SegState.RELEASED) n++;
      while (n > KEEP_RELEASED) {
        const i = s.segments.findIndex((x) => x.state === SegState.RELEASED);
        s.segments.splice(i, 1);
        n--;
      }
      return;
    }
    case Delta.BAD: {
      const b = uint(d[1], 'block');
      let i = 0;
      while (i < s.bad.length && s.bad[i] < b) i++;
      if (s.bad[i] !== b) s.bad.splice(i, 0, b);
      return;
    }
    case Delta.DISCARD: {
      const id = uint(d[1], 'id');
      s.segments = s.segments.filter((x) => x.id !== id);
      return;
    }
    default:
      corrupt(`unknown delta type ${kind}`);
  }
}

// ---------------------------------------------------------------- snapshots

export function encodeSnapshot(s: StoreState): CborValue {
  return [
    s.nextId,
    s.nextSequence,
    s.cursor,
    s.bad.slice(),
    s.receipts.map((r) => [r.ids.slice(), r.receipt]),
    s.segments.map((x) => {
      const ext: number[] = [];
      for (const e of x.extents) ext.push(e.block, e.count, e.base);
      const entry: CborValue[] = [x.id, x.sequence, x.state, x.start, x.end, x.records, x.media, x.metaOffset, x.trailerOffset, ext];
      if (x.lostAtCut) entry.push(x.lostAtCut);
      return entry;
    }),
  ];
}

export function decodeSnapshot(v: CborValue): StoreState {
  if (!Array.isArray(v) || v.length !== 6) corrupt('snapshot is not a 6-item array');
  const [nextId, nextSequence, cursor, bad, receipts, segs] = v;
  if (!Array.isArray(bad) || !Array.isArray(receipts) || !Array.isArray(segs)) corrupt('snapshot lists');
  return {
    nextId: uint(nextId, 'next id'),
    nextSequence: uint(nextSequence, 'next sequence'),
    cursor: uint(cursor, 'cursor'),
    bad: bad.map((b) => uint(b, 'bad block')),
    receipts: receipts.map((r) => {
      if (!Array.isArray(r) || !Array.isArray(r[0]) || !(r[1] instanceof Uint8Array)) corrupt('receipt entry');
      return { ids: r[0].map((x) => uint(x, 'receipt id')), receipt: r[1] };
    }),
    segments: segs.map((x) => {
      if (!Array.isArray(x) || (x.length !== 10 && x.length !== 11) || !Array.isArray(x[9]) || x[9].length % 3 !== 0) corrupt('segment entry');
      const ext = x[9];
      const extents: Extent[] = [];
      for (let i = 0; i < ext.length; i += 3) extents.push({ block: uint(ext[i], 'block'), count: uint(ext[i + 1], 'count'), base: uint(ext[i + 2], 'base') });
      return {
        id: uint(x[0], 'id'), sequence: int(x[1], 'sequence'), state: uint(x[2], 'state'), start: uint(x[3], 'start'), end: uint(x[4], 'end'),
        records: uint(x[5], 'records'), media: uint(x[6], 'media'), metaOffset: int(x[7], 'meta offset'), trailerOffset: int(x[8], 'trailer offset'), extents,
        ...(x.length === 11 ? { lostAtCut: uint(x[10], 'lost at cut') } : {}),
      };
    }),
  };
}

// ---------------------------------------------------------------- allocation

/** Blocks in use (live extents and bad blocks) as sorted, merged [start, end) intervals. */
function usedIntervals(s: StoreState): number[][] {
  const iv: number[][] = [];
  for (const x of s.segments) for (const e of x.extents) iv.push([e.block, e.block + e.count]);
  for (const b of s.bad) iv.push([b, b + 1]);
  iv.sort((a, b) => a[0] - b[0]);
  const out: number[][] = [];
  for (const i of iv) {
    const last = out[out.length - 1];
    if (last && i[0] <= last[1]) last[1] = Math.max(last[1], i[1]);
    else out.push([i[0], i[1]]);
  }
  return out;
}

/** Free blocks in the data area. */
export function freeBlocks(s: StoreState, g: Geometry): number {
  let used = 0;
  const lo = dataStart(g);
  for (const [a, b] of usedIntervals(s)) used += Math.max(0, Math.min(b, g.blocks) - Math.max(a, lo));
  return g.blocks - lo - used;
}

/** The next run of free blocks at or after the cursor (wrapping), at most `max` long. */
export function findRun(s: StoreState, g: Geometry, max: number): { block: number; count: number } | undefined {
  const lo = dataStart(g);
  const iv = usedIntervals(s);
  const from = s.cursor >= lo && s.cursor < g.blocks ? s.cursor : lo;
  // Try from the cursor to the end of the area, then from its start.
  for (const [start, stop] of [[from, g.blocks], [lo, from]]) {
    let b = start;
    for (const [a, z] of iv) {
      if (z <= b) continue;
      if (a <= b) {
        b = z;
        continue;
      }
      break;
    }
    if (b < stop) {
      let end = Math.min(stop, b + max);
      for (const [a] of iv) if (a > b && a < end) end = a;
      return { block: b, count: end - b };
    }
  }
  return undefined;
}
