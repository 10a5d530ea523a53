// SegmentStore: a power-safe, log-structured store of evidence segments on a raw flash
// partition (the Flash port), with the pre-event ring.
//
// Promises (docs/FORMAT.md, "Segment store (on flash)", has every byte):
// - A segment is a byte stream of page-aligned, CRC-checked records (record.ts) over extents
//   of erased blocks: a META record, one FRAME record per appended frame, a TRAILER on seal.
//   The segment media is the concatenation of the FRAME payloads (header || body); the
//   payload is opaque here, and every checksum goes through the Checksum port.
// - Power-safe: blocks are erased before they are reserved (EXTENT delta), so a segment's
//   blocks hold its records or 0xFF, never stale data. Mount finds every sealed segment
//   bit-exact and walks the open one from its last checkpoint to its last complete record,
//   sealing it `recovered`: a cut costs at most the record in flight. An un-promoted
//   pre-event ring is discarded. attachTrailer() gives a recovered segment its trailer later
//   (the manifest signed at the next boot), in fresh blocks after its last complete record:
//   a cut leaves no trailer or all of it, and never touches the frames.
// - Evidence is freed only by release(ids, receipt), persisted before it takes effect; a full
//   store throws E_STORE_FULL and overwrites nothing.
// - Segment sequence numbers are persistent and monotonic across reboots; assigned when a
//   segment's META record is on flash (so an abandoned, empty segment leaves no gap).
// - On media that lose a whole unit around a cut write (an SD card: status().lossUnit), sealed
//   segments stay bit-exact too: no write after a seal lands in a unit that holds a sealed
//   segment or a committed metadata entry (whole-unit blocks, one unit per entry); the open
//   segment is walked from its start and comes back short of at most the unit the cut hit.
// - Mount cost is bounded by the metadata slot and one extent, not by the flash size; RAM holds
//   the segment table (bounded by maxSegments) and, while a ring is open, its record index
//   (bounded by ringRecords) — nothing per block.
// - Erase runs ahead of the writer (the next extent is reserved when half of the current one
//   is used); allocation is circular (wear levelling); blocks that fail to erase or program
//   are retired and the write goes on elsewhere.

import type { CborValue } from '../codec/cbor.js';
import { BodycamError, isBodycamError } from '../errors.js';
import { toBytes, type BufferLike } from '../platform/buffers.js';
import type { Checksum } from '../platform/checksum.js';
import type { Clock } from '../platform/clock.js';
import type { Flash } from '../platform/flash.js';
import { HARD_READ_ATTEMPTS, MetaLog, READ_ATTEMPTS } from './meta-log.js';
import { ProgressJournal, type Progress } from './progress.js';
import { alignUp, encodeRecordHead, parseRecordHead, recordCrcMatches, recordSpan, RECORD_HEAD, RecordType } from './record.js';
import {
  applyDelta, dataStart, decodeSnapshot, Delta, emptyState, encodeSnapshot, findRun, findSeg, freeBlocks, SegState,
  type Extent, type Geometry, type Seg, type StoreState,
} from './state.js';

/** Largest META or TRAILER payload; a full store always keeps room for one trailer. */
export const MAX_TRAILER = 16 * 1024;
export const MAX_META = 16 * 1024;
export const MAX_RECEIPT = 8 * 1024;
/** Metadata entries a slot holds on lossy media (each takes a loss unit) before a compaction. */
export const LOSSY_SLOT_ENTRIES = 32;
/** Extent size on lossy media: one EXTENT entry per MiB recorded. */
export const LOSSY_EXTENT_BYTES = 1024 * 1024;

export interface SegmentStoreOptions {
  flash: Flash;
  checksum: Checksum;
  /** Monotonic time for the pre-event ring (when append is given no time). */
  clock?: Clock;
}

export interface FormatOptions extends SegmentStoreOptions {
  pageLength?: number;
  extentBlocks?: number;
  slotBlocks?: number;
  maxSegments?: number;
  maxRecord?: number;
  /** Sequence number of the first segment (carry on a camera's sequence across a reformat). */
  firstSequence?: number;
}

export type SegmentStateName = 'open' | 'sealed' | 'recovered' | 'released';

export interface SegmentInfo {
  id: number;
  sequence: number;
  state: SegmentStateName;
  /** Frame records. */
  records: number;
  /** Bytes of segment media (the concatenated frame payloads). */
  mediaLength: number;
  /** Flash bytes the segment holds (0 once released). */
  flashBytes: number;
  meta: Uint8Array | undefined;
  trailer: Uint8Array | undefined;
  /**
   * Frame records a power cut cost, found when the segment was recovered: 0 or 1 (the frame in
   * flight) on NOR; on lossy media (an SD card) also the frames of the unit the cut destroyed.
   */
  lostAtCut: number;
}

export interface StoreUsage {
  /** Bytes of the data area (excluding the metadata slots and retired blocks). */
  total: number;
  free: number;
  /** Media bytes of sealed and recovered segments not yet released. */
  awaitingUpload: number;
  segmentsAwaitingUpload: number;
  /** Flash bytes held by unreleased segments (including an open one). */
  held: number;
  badBlocks: number;
  blockLength: number;
}

export interface StoredRecord {
  header: Uint8Array;
  body: Uint8Array;
}

const STATE_NAMES: readonly SegmentStateName[] = Object.freeze(['open', 'sealed', 'recovered', 'released']);
const EMPTY = new Uint8Array(0);

function bytesArg(v: unknown, what: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) return toBytes(v as BufferLike);
  throw new BodycamError('E_ARGUMENT', `${what} must be bytes`);
}

/** Flash errors that mean "this block is bad" (a device's own error, or the simulator's code). */
function isMediaFailure(e: unknown, code: string): boolean {
  if (isBodycamError(e)) return e.code === code;
  return e instanceof Error;
}

interface StoredRecordAt {
  type: number;
  headerLength: number;
  payload: Uint8Array;
  next: number;
}

interface Stream {
  id: number;
  /** Next record offset. */
  pos: number;
  records: number;
  media: number;
  start: number;
  /** A write failed after pos: the next record starts a new extent at pos. */
  dirty: boolean;
  /** A sequence number is assigned (the META record is on flash): the stream is evidence. */
  evidence: boolean;
  sequence: number;
  meta: Uint8Array | undefined;
  metaOffset: number;
  closed: boolean;
  /** Bytes of a last record (a sealed stream's END) every other append keeps room for, beside the trailer's. */
  endReserve: number;
}

export class SegmentStore {
  #flash: Flash;
  #checksum: Checksum;
  #clock: Clock | undefined;
  #g: Geometry;
  #log: MetaLog;
  #state: StoreState;
  #stream: Stream | undefined;
  #cursor: { id: number; pos: number; media: number } | undefined;
  /** Lossy media only: the progress journal, and its newest entry found at mount. */
  #journal: ProgressJournal | undefined;
  #progress: Progress | undefined;

  private constructor(o: SegmentStoreOptions, g: Geometry, log: MetaLog, state: StoreState) {
    this.#flash = o.flash;
    this.#checksum = o.checksum;
    this.#clock = o.clock;
    this.#g = g;
    this.#log = log;
    this.#state = state;
    if (g.lossUnit) this.#journal = new ProgressJournal({ flash: o.flash, checksum: o.checksum, first: 2 * g.slotBlocks, blockLength: g.blockLength });
  }

  /** Write an empty store on the partition (erasing the metadata slots) and return it mounted. */
  static format(o: FormatOptions): SegmentStore {
    const st = o.flash.status();
    const bl = st.blockLength;
    const pageLength = o.pageLength ?? Math.min(Math.max(256, st.writeAlign), bl);
    const pow2 = (n: number) => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
    if (!pow2(pageLength) || bl % pageLength !== 0 || pageLength % st.writeAlign !== 0 || pageLength < RECORD_HEAD) {
      throw new BodycamError('E_STORE_GEOMETRY', `page length ${pageLength} must be a power of two ≥ 16 dividing the ${bl}-byte block and a multiple of the write alignment ${st.writeAlign}`);
    }
    // An SD card (status().lossUnit) may destroy a whole internal page around a write cut short:
    // blocks are whole units, each metadata entry gets a unit of its own (a slot holds
    // LOSSY_SLOT_ENTRIES of them), and extents are larger (fewer entries per recorded byte).
    const unit = st.lossUnit ?? 0;
    const lossy = unit > pageLength;
    if (lossy && (!pow2(unit) || bl % unit !== 0)) {
      throw new BodycamError('E_STORE_GEOMETRY', `the ${bl}-byte block must be a whole number of the medium's ${unit}-byte loss units (a power of two)`);
    }
    const provisional = Math.max(16, Math.min(1024, Math.floor(st.blocks / 64)));
    const maxSegments = o.maxSegments ?? provisional;
    const snapshotBlocks = Math.ceil((8192 + maxSegments * 160 + 32768) / bl);
    const slotBlocks = o.slotBlocks ?? (lossy ? snapshotBlocks + Math.ceil((LOSSY_SLOT_ENTRIES * unit) / bl) : Math.max(2, snapshotBlocks));
    const dataBlocks = st.blocks - 2 * slotBlocks - (lossy ? 2 : 0);
    const extentBytes = lossy ? LOSSY_EXTENT_BYTES : 128 * 1024;
    const extentBlocks = o.extentBlocks ?? Math.max(1, Math.min(Math.floor(dataBlocks / 8), Math.ceil(extentBytes / bl)));
    if (dataBlocks < 4 || extentBlocks < 1) throw new BodycamError('E_STORE_GEOMETRY', `${st.blocks} blocks leave ${dataBlocks} for data after two ${slotBlocks}-block metadata slots; use a larger partition`);
    const maxRecord = o.maxRecord ?? Math.min(1024 * 1024, Math.floor((dataBlocks * bl) / 4));
    const g: Geometry = { blockLength: bl, blocks: st.blocks, writeAlign: st.writeAlign, pageLength, slotBlocks, extentBlocks, maxSegments, maxRecord };
    if (lossy) g.lossUnit = unit;
    const state = emptyState(o.firstSequence ?? 1, g);
    const log = new MetaLog({ flash: o.flash, checksum: o.checksum, geometry: g });
    log.format(encodeSnapshot(state));
    const store = new SegmentStore(o, g, log, state);
    store.#journal?.format();
    return store;
  }

  /** Mount the store on the partition, recovering from whatever cut came before. */
  static mount(o: SegmentStoreOptions): SegmentStore {
    const { log, mounted } = MetaLog.mount(o.flash, o.checksum, o.flash.status());
    const g = mounted.head.geometry;
    const state = decodeSnapshot(mounted.head.snapshot);
    for (const d of mounted.deltas) applyDelta(state, d, g);
    const store = new SegmentStore(o, g, log, state);
    store.#progress = store.#journal?.scan();
    if (!mounted.clean) log.compact(encodeSnapshot(state));
    store.#recover();
    return store;
  }

  get geometry(): Readonly<Geometry> {
    return this.#g;
  }

  /** Revision of the metadata slot in use (grows with every compaction). */
  get revision(): number {
    return this.#log.revision;
  }

  /**
   * Open an evidence segment. `meta` is stored with it (opaque). Nothing is written until the first
   * frame. `endReserve`: the bytes of a last record (SegmentWriter.appendEnd) every frame keeps room for.
   */
  openSegment(meta: Uint8Array, options: { endReserve?: number } = {}): SegmentWriter {
    const m = bytesArg(meta, 'meta');
    if (m.length > MAX_META) throw new BodycamError('E_ARGUMENT', `segment meta of ${m.length} bytes exceeds ${MAX_META}`);
    this.#checkIdle();
    this.#checkRoom();
    const stream = this.#newStream(options.endReserve);
    stream.meta = m;
    return new SegmentWriter(this.#writerOps(stream));
  }

  /** Start the pre-event ring: provisional frames, the last `seconds` kept, older ones overwritten. */
  /** `ringRecords` bounds the ring's RAM index (20 bytes a frame; default 2048: 120 s at 15 fps). */
  openPreEvent(options: { seconds: number; ringRecords?: number; endReserve?: number }): PreEventRing {
    const seconds = options.seconds;
    if (typeof seconds !== 'number' || !(seconds >= 0 && seconds <= 120)) throw new BodycamError('E_ARGUMENT', `pre-event length must be 0 to 120 seconds, not ${String(seconds)}`);
    this.#checkIdle();
    this.#checkRoom();
    const stream = this.#newStream(options.endReserve);
    return new PreEventRing({ store: this.#writerOps(stream), windowMs: seconds * 1000, capacity: options.ringRecords ?? 2048, clock: this.#clock });
  }

  /** Every segment in the table (provisional rings excluded), oldest first. */
  segments(): SegmentInfo[] {
    const out: SegmentInfo[] = [];
    for (const s of this.#state.segments) if (s.sequence >= 0) out.push(this.#info(s));
    return out;
  }

  segment(id: number): SegmentInfo {
    return this.#info(this.#need(id));
  }

  /** The frame records of a segment, verified against their CRC. */
  *records(id: number): Generator<StoredRecord> {
    const seg = this.#readable(id);
    const end = this.#endOf(seg); // what the segment holds now: records appended later are not visited
    for (let r = this.#frameBefore(seg, seg.start, end); r; r = this.#frameBefore(seg, r.next, end)) yield { header: r.header, body: r.body };
  }

  /** The first frame record of `seg` from position `from` that starts before `end`, with where the next record starts. */
  #frameBefore(seg: Seg, from: number, end: number): (StoredRecord & { next: number }) | undefined {
    for (let p = from; p < end; ) {
      const r = this.#readRecord(seg, p);
      if (r.type === RecordType.FRAME) return { header: r.payload.subarray(0, r.headerLength), body: r.payload.subarray(r.headerLength), next: r.next };
      p = r.next;
    }
    return undefined;
  }

  /**
   * The first frame record of segment `id` at or after store position `from` (absent: the
   * segment's start), verified against its CRC, with the position of the record after it; or
   * undefined when there is none yet. For reading a segment that is still growing, one record
   * at a time: a later call from the same position finds what was appended since.
   */
  frameFrom(id: number, from?: number): (StoredRecord & { next: number }) | undefined {
    const seg = this.#readable(id);
    return this.#frameBefore(seg, from ?? seg.start, this.#endOf(seg));
  }

  /** `length` bytes of the segment media from `offset` (shorter at the end). */
  readMedia(id: number, offset: number, length: number): Uint8Array {
    const seg = this.#readable(id);
    const media = this.#mediaOf(seg);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset > media) {
      throw new BodycamError('E_ARGUMENT', `media range ${offset}+${length} is outside segment ${id} (${media} bytes)`);
    }
    const n = Math.min(length, media - offset);
    const out = new Uint8Array(n);
    if (n === 0) return out;
    const c = this.#cursor;
    let p = seg.start;
    let m = 0;
    if (c && c.id === id && c.media <= offset) {
      p = c.pos;
      m = c.media;
    }
    const end = this.#endOf(seg);
    let filled = 0;
    while (filled < n && p < end) {
      const r = this.#readRecord(seg, p);
      if (r.type === RecordType.FRAME) {
        const len = r.payload.length;
        if (m + len > offset) {
          const from = Math.max(0, offset + filled - m);
          const take = Math.min(len - from, n - filled);
          out.set(r.payload.subarray(from, from + take), filled);
          filled += take;
          if (m + len > offset + n) break; // the next read may start inside this record
        }
        m += len;
      }
      p = r.next;
    }
    this.#cursor = { id, pos: p, media: m };
    if (filled < n) throw new BodycamError('E_STORE_CORRUPT', `segment ${id} ended after ${offset + filled} of ${media} media bytes`);
    return out;
  }

  /** Free segments the dock has receipted. The caller has verified `receipt`; it is persisted first. */
  release(ids: readonly number[], receipt: Uint8Array): void {
    const r = bytesArg(receipt, 'receipt');
    if (r.length > MAX_RECEIPT) throw new BodycamError('E_ARGUMENT', `receipt of ${r.length} bytes exceeds ${MAX_RECEIPT}`);
    if (!Array.isArray(ids)) throw new BodycamError('E_ARGUMENT', 'release needs an array of segment ids');
    const todo: number[] = [];
    for (const id of ids) {
      const s = this.#need(id);
      if (s.state === SegState.RELEASED) continue;
      if (s.state === SegState.OPEN) throw new BodycamError('E_SEGMENT_STATE', `segment ${id} is still being recorded; seal it before releasing`);
      if (!todo.includes(id)) todo.push(id);
    }
    if (todo.length === 0) return;
    this.#commit([Delta.RELEASE, todo, r]);
    this.#cursor = undefined;
  }

  /**
   * Give a segment a power cut left `recovered` without a trailer, or one closed unsigned
   * (SegmentWriter.close: `sealed` with no trailer yet), its trailer (the manifest the
   * recorder signs at the next boot). The segment stays `recovered`; its records are not touched:
   * what follows its last complete record may be the torn record in flight, so the TRAILER goes
   * at the start of a freshly erased extent at that stream offset, and a SEAL makes it count. A
   * cut at any flash operation leaves the segment without a trailer (call again) or with all of it.
   */
  attachTrailer(id: number, trailer: Uint8Array): SegmentInfo {
    const t = bytesArg(trailer, 'trailer');
    if (t.length > MAX_TRAILER) throw new BodycamError('E_ARGUMENT', `trailer of ${t.length} bytes exceeds ${MAX_TRAILER}`);
    const seg = this.#need(id);
    const closed = seg.state === SegState.SEALED && seg.trailerOffset < 0;
    if (seg.state !== SegState.RECOVERED && !closed) throw new BodycamError('E_SEGMENT_STATE', `segment ${id} is ${STATE_NAMES[seg.state]}; only a recovered segment or one closed unsigned takes a trailer afterwards`);
    if (seg.trailerOffset >= 0) throw new BodycamError('E_SEGMENT_STATE', `segment ${id} already has its trailer`);
    const st: Stream = {
      id, pos: seg.end, records: seg.records, media: seg.media, start: seg.start, dirty: true,
      evidence: true, sequence: seg.sequence, meta: undefined, metaOffset: seg.metaOffset, closed: false, endReserve: 0,
    };
    const at = this.#append(st, RecordType.TRAILER, EMPTY, t);
    this.#commit([Delta.SEAL, id, st.pos, st.records, st.media, at, closed ? 0 : 1, seg.metaOffset, ...(seg.lostAtCut ? [seg.lostAtCut] : [])]);
    this.#cursor = undefined;
    return this.segment(id);
  }

  /** The last receipts persisted by release(), oldest first. */
  receipts(): { ids: number[]; receipt: Uint8Array }[] {
    return this.#state.receipts.map((x) => ({ ids: x.ids.slice(), receipt: x.receipt }));
  }

  usage(): StoreUsage {
    const bl = this.#g.blockLength;
    let awaiting = 0;
    let count = 0;
    let held = 0;
    for (const s of this.#state.segments) {
      for (const e of s.extents) held += e.count * bl;
      if (s.state === SegState.SEALED || s.state === SegState.RECOVERED) {
        awaiting += s.media;
        count++;
      }
    }
    const total = (this.#g.blocks - dataStart(this.#g) - this.#state.bad.length) * bl;
    return { total, free: freeBlocks(this.#state, this.#g) * bl, awaitingUpload: awaiting, segmentsAwaitingUpload: count, held, badBlocks: this.#state.bad.length, blockLength: bl };
  }

  /** Sequence the next evidence segment will get. */
  get nextSequence(): number {
    return this.#state.nextSequence;
  }

  // ---------------------------------------------------------------- internals

  #commit(delta: CborValue): void {
    applyDelta(this.#state, delta, this.#g);
    this.#log.append(delta, () => encodeSnapshot(this.#state));
  }

  #need(id: number): Seg {
    const s = typeof id === 'number' ? findSeg(this.#state, id) : undefined;
    if (!s || s.sequence < 0) throw new BodycamError('E_SEGMENT_UNKNOWN', `no segment ${String(id)} in the store`);
    return s;
  }

  #readable(id: number): Seg {
    const s = this.#need(id);
    if (s.state === SegState.RELEASED) throw new BodycamError('E_SEGMENT_STATE', `segment ${id} was released; its media is gone from the camera`);
    return s;
  }

  #live(s: Seg): Stream | undefined {
    const st = this.#stream;
    return st && !st.closed && st.id === s.id ? st : undefined;
  }

  #endOf(s: Seg): number {
    return this.#live(s)?.pos ?? s.end;
  }

  #mediaOf(s: Seg): number {
    return this.#live(s)?.media ?? s.media;
  }

  #info(s: Seg): SegmentInfo {
    const live = this.#live(s);
    let flashBytes = 0;
    for (const e of s.extents) flashBytes += e.count * this.#g.blockLength;
    const released = s.state === SegState.RELEASED;
    return {
      id: s.id,
      sequence: s.sequence,
      state: STATE_NAMES[s.state],
      records: live?.records ?? s.records,
      mediaLength: live?.media ?? s.media,
      flashBytes,
      meta: !released && s.metaOffset >= 0 ? this.#readRecord(s, s.metaOffset).payload : undefined,
      trailer: !released && s.trailerOffset >= 0 ? this.#readRecord(s, s.trailerOffset).payload : undefined,
      lostAtCut: s.lostAtCut ?? 0,
    };
  }

  #checkIdle(): void {
    if (this.#stream && !this.#stream.closed) throw new BodycamError('E_STORE_BUSY', `segment ${this.#stream.id} is still open; seal or discard it first`);
  }

  #fullError(what: string): BodycamError {
    const u = this.usage();
    const mib = (u.awaitingUpload / 1048576).toFixed(1);
    return new BodycamError('E_STORE_FULL', `${u.segmentsAwaitingUpload} segments (${mib} MiB) await upload; ${what}`, u);
  }

  #checkRoom(): void {
    let live = 0;
    for (const s of this.#state.segments) if (s.state !== SegState.RELEASED) live++;
    if (live >= this.#g.maxSegments) throw this.#fullError(`the segment table is full (${this.#g.maxSegments}); recording stopped`);
    if (freeBlocks(this.#state, this.#g) * this.#g.blockLength < recordSpan(MAX_TRAILER, this.#g.pageLength) + this.#g.blockLength) throw this.#fullError('no room for a new segment; recording stopped');
  }

  #newStream(endReserve = 0): Stream {
    if (!(Number.isSafeInteger(endReserve) && endReserve >= 0 && endReserve <= 4096)) throw new BodycamError('E_ARGUMENT', `an end reserve is 0 to 4096 bytes, not ${String(endReserve)}`);
    const st: Stream = { id: this.#state.nextId++, pos: 0, records: 0, media: 0, start: 0, dirty: false, evidence: false, sequence: -1, meta: undefined, metaOffset: -1, closed: false, endReserve };
    this.#stream = st;
    return st;
  }

  /** Recovery after mount: discard provisional rings, seal open segments at their last complete record. */
  #recover(): void {
    for (const s of this.#state.segments.slice()) {
      if (s.state !== SegState.OPEN) continue;
      if (s.sequence < 0) {
        this.#commit([Delta.DISCARD, s.id]);
        continue;
      }
      if (this.#g.lossUnit) {
        // The cut may have destroyed the whole unit around the write in flight, records before
        // the last checkpoint included: walk the segment from its start. Frames the checkpoint
        // counted and the walk did not find are counted lost, with the one in flight.
        const w = this.#walk(s, s.start, 0, 0);
        const p = this.#progress;
        const acknowledged = Math.max(s.records, p && p.id === s.id ? p.records : 0);
        const lost = (w.trailerOffset < 0 ? this.#tornFrameAt(s, w.end) : 0) + Math.max(0, acknowledged - w.records);
        let metaOffset = w.metaOffset;
        if (metaOffset < 0 && s.metaOffset >= 0) {
          // The walk stopped before the META record (the unit before it was lost): keep it if it is whole.
          const m = this.#tryRecord(s, s.metaOffset, this.#capacity(s));
          if (m && !('bad' in m) && m.type === RecordType.META) metaOffset = s.metaOffset;
        }
        this.#commit([Delta.SEAL, s.id, w.end, w.records, w.media, w.trailerOffset, w.trailerOffset >= 0 ? 0 : 1, metaOffset, ...(lost ? [lost] : [])]);
        continue;
      }
      const w = this.#walk(s, s.end, s.records, s.media);
      const metaOffset = s.metaOffset >= 0 ? s.metaOffset : w.metaOffset;
      const torn = w.trailerOffset < 0 ? this.#tornFrameAt(s, w.end) : 0;
      this.#commit([Delta.SEAL, s.id, w.end, w.records, w.media, w.trailerOffset, w.trailerOffset >= 0 ? 0 : 1, metaOffset, ...(torn ? [torn] : [])]);
    }
  }

  /**
   * 1 if the flash after a recovered segment's last complete record is not erased and is not a
   * META or TRAILER head: a frame record was being written when the power went (the frame in
   * flight, lost). A cut before its first byte reached the flash leaves no trace to count.
   */
  #tornFrameAt(s: Seg, p: number): number {
    if (p + RECORD_HEAD > this.#capacity(s)) return 0;
    const head = parseRecordHead(this.#readStream(s, p, RECORD_HEAD));
    if (head === 'erased') return 0;
    if (head && head.owner === s.id >>> 0 && head.type !== RecordType.FRAME) return 0;
    return 1;
  }

  /** Walk complete records from `from` (a checkpoint) to the first missing or broken one. */
  #walk(s: Seg, from: number, records: number, media: number): { end: number; records: number; media: number; metaOffset: number; trailerOffset: number } {
    let p = from;
    let metaOffset = -1;
    let trailerOffset = -1;
    const limit = this.#capacity(s);
    while (p + RECORD_HEAD <= limit) {
      const r = this.#recoverRecord(s, p, limit);
      if (!r) break;
      if (r.type === RecordType.FRAME) {
        records++;
        media += r.payload.length;
      } else if (r.type === RecordType.META) metaOffset = p;
      else if (r.type === RecordType.TRAILER) {
        trailerOffset = p;
        p = r.next;
        break;
      }
      p = r.next;
    }
    return { end: p, records, media, metaOffset, trailerOffset };
  }

  #capacity(s: Seg): number {
    const last = s.extents[s.extents.length - 1];
    return last ? last.base + last.count * this.#g.blockLength : 0;
  }

  /** Physical address of stream offset `o`, and the bytes left in its extent. */
  #locate(extents: Extent[], o: number): { address: number; room: number } {
    const bl = this.#g.blockLength;
    for (let i = extents.length - 1; i >= 0; i--) {
      const e = extents[i];
      if (o < e.base) continue;
      const len = i + 1 < extents.length ? extents[i + 1].base - e.base : e.count * bl;
      if (o >= e.base + len) break;
      return { address: e.block * bl + (o - e.base), room: e.base + len - o };
    }
    throw new BodycamError('E_STORE_CORRUPT', `stream offset ${o} is outside the segment's extents`);
  }

  #readStream(s: Seg, o: number, length: number): Uint8Array {
    // Within one extent (nearly always): the flash's own buffer, not a copy of it.
    const first = this.#locate(s.extents, o);
    if (first.room >= length) return new Uint8Array(this.#flash.read(length, first.address));
    const out = new Uint8Array(length);
    for (let i = 0; i < length; ) {
      const { address, room } = this.#locate(s.extents, o + i);
      const n = Math.min(room, length - i);
      out.set(new Uint8Array(this.#flash.read(n, address)), i);
      i += n;
    }
    return out;
  }

  /** A complete, CRC-valid record at `p`; or where it would end if its head was plausible; or undefined (erased, or garbage). */
  #tryRecord(s: Seg, p: number, limit: number, attempts = READ_ATTEMPTS): StoredRecordAt | { bad: number } | undefined {
    let next = -1;
    for (let attempt = 0; attempt < attempts; attempt++) {
      const h = this.#readStream(s, p, RECORD_HEAD);
      const head = parseRecordHead(h);
      if (head === 'erased') return undefined;
      if (!head || head.owner !== s.id >>> 0) continue;
      const length = head.headerLength + head.bodyLength;
      if (length > Math.max(this.#g.maxRecord, MAX_TRAILER, MAX_META) || p + RECORD_HEAD + length > limit) continue;
      next = p + recordSpan(length, this.#g.pageLength);
      const payload = this.#readStream(s, p + RECORD_HEAD, length);
      if (!recordCrcMatches(this.#checksum, h, payload, head.crc)) continue;
      return { type: head.type, headerLength: head.headerLength, payload, next };
    }
    return next >= 0 ? { bad: next } : undefined;
  }

  /**
   * The record at `p` during recovery: a record that fails its CRC ends the segment only if
   * nothing was written after it (the torn frame in flight); if something was, it's a read
   * error — read harder.
   */
  #recoverRecord(s: Seg, p: number, limit: number): StoredRecordAt | undefined {
    const r = this.#tryRecord(s, p, limit);
    if (!r || !('bad' in r)) return r;
    if (r.bad + RECORD_HEAD > limit) return undefined;
    for (let attempt = 0; attempt < READ_ATTEMPTS; attempt++) if (parseRecordHead(this.#readStream(s, r.bad, RECORD_HEAD)) === 'erased') return undefined;
    const again = this.#tryRecord(s, p, limit, HARD_READ_ATTEMPTS);
    return again && !('bad' in again) ? again : undefined;
  }

  #readRecord(s: Seg, p: number): StoredRecordAt {
    const r = this.#tryRecord(s, p, this.#capacity(s), HARD_READ_ATTEMPTS);
    if (!r || 'bad' in r) throw new BodycamError('E_STORE_CORRUPT', `record at ${p} of segment ${s.id} fails its CRC after ${HARD_READ_ATTEMPTS} reads; the flash is damaged there`);
    return r;
  }

  // ---------------------------------------------------------------- writing

  #writerOps(st: Stream): WriterOps {
    return {
      stream: st,
      geometry: this.#g,
      append: (type, header, body, last) => this.#append(st, type, header, body, last),
      check: (h, b) => this.#checkFrame(h, b),
      assign: () => this.#assign(st),
      trim: (firstKept, force) => this.#trim(st, firstKept, force),
      seal: (trailer) => this.#seal(st, trailer),
      close: () => this.#close(st),
      discard: () => this.#discard(st),
      info: () => this.segment(st.id),
      nextSequence: () => this.#state.nextSequence,
    };
  }

  #checkOpen(st: Stream): void {
    if (st.closed) throw new BodycamError('E_SEGMENT_STATE', `segment ${st.id} is closed; open a new one`);
  }

  /** Room a record of the stream keeps after itself: the trailer's, and the END record's unless it is that (`last`). */
  #reserveAfter(st: Stream, trailer: boolean, last: boolean): number {
    if (trailer) return 0;
    const page = this.#g.pageLength;
    return recordSpan(MAX_TRAILER, page) + (st.endReserve && !last ? recordSpan(st.endReserve, page) : 0);
  }

  /** Append one record to the stream; returns its offset. `last`: a sealed stream's END record (uses the room kept for it). */
  #append(st: Stream, type: number, header: Uint8Array, body: Uint8Array | undefined, last = false): number {
    this.#checkOpen(st);
    const payload = header.length + (body ? body.length : 0);
    if (type === RecordType.FRAME) this.#checkFrame(header.length, payload - header.length);
    const span = recordSpan(payload, this.#g.pageLength);
    const trailer = type === RecordType.TRAILER;
    // A trailer is the stream's last record: it needs no room kept after it, and no erase ahead.
    const reserve = this.#reserveAfter(st, trailer, last);
    for (let attempt = 0; ; attempt++) {
      this.#ensure(st, span, reserve, trailer);
      try {
        this.#writeRecord(st, type, header, body);
        break;
      } catch (e) {
        st.dirty = true;
        const block = isBodycamError(e, 'E_FLASH_PROGRAM') ? (e.detail as { block?: number } | undefined)?.block : undefined;
        if (block === undefined || attempt >= 3) throw e;
        this.#commit([Delta.BAD, block]);
      }
    }
    const at = st.pos;
    st.pos += span;
    if (type === RecordType.FRAME) {
      st.records++;
      st.media += payload;
      // On lossy media the frame counts as stored once the journal says so (a cut may take its unit).
      if (st.evidence) this.#journal?.note(st.id, st.records, st.media);
    }
    if (!trailer) this.#eraseAhead(st, span);
    return at;
  }

  #checkFrame(headerLength: number, bodyLength: number): void {
    if (headerLength > 0xffff) throw new BodycamError('E_RECORD_TOO_LARGE', `a frame header of ${headerLength} bytes exceeds 65535`);
    if (headerLength + bodyLength > this.#g.maxRecord) throw new BodycamError('E_RECORD_TOO_LARGE', `a frame of ${headerLength + bodyLength} bytes exceeds this store's maximum record of ${this.#g.maxRecord}`);
  }

  /** Make sure the stream has erased room for `span` bytes at pos, and `reserve` more in free blocks (`exact`: erase only the blocks `span` needs). */
  #ensure(st: Stream, span: number, reserve: number, exact: boolean): void {
    const bl = this.#g.blockLength;
    const cap = () => this.#streamCap(st);
    const have = cap() - st.pos;
    if (have < span + reserve) {
      const free = freeBlocks(this.#state, this.#g) * bl;
      if (have + free < span + reserve) throw this.#fullError(`no room for ${span} more bytes; recording stopped`);
    }
    while (cap() < st.pos + span) {
      const need = Math.ceil((st.pos + span - cap()) / bl);
      this.#reserve(st, cap(), need, exact ? need : this.#g.extentBlocks);
    }
  }

  /** Where the stream's erased room ends (pos itself if it has none, or a failed write left garbage). */
  #streamCap(st: Stream): number {
    const seg = findSeg(this.#state, st.id);
    if (st.dirty || !seg || seg.extents.length === 0) return st.pos;
    return this.#capacity(seg);
  }

  /** Erase a run of free blocks (up to `maxBlocks`, at least `minBlocks` wanted) and commit it as the stream's next extent (at stream offset `base`). */
  #reserve(st: Stream, base: number, minBlocks: number, maxBlocks: number): void {
    for (;;) {
      const run = findRun(this.#state, this.#g, Math.max(maxBlocks, minBlocks));
      if (!run) throw this.#fullError('no free block left; recording stopped');
      let n = 0;
      for (; n < run.count; n++) {
        try {
          this.#flash.eraseBlock(run.block + n);
        } catch (e) {
          if (!isMediaFailure(e, 'E_FLASH_ERASE')) throw e;
          break;
        }
      }
      if (n > 0) this.#commit([Delta.EXTENT, st.id, run.block, n, base, st.pos, st.records, st.media]);
      if (n < run.count) this.#commit([Delta.BAD, run.block + n]);
      if (n > 0) {
        st.dirty = false;
        return;
      }
    }
  }

  /** Reserve the next extent once less than half of the current one (or two records' worth) is left, so erases run ahead of frames. */
  #eraseAhead(st: Stream, lastSpan: number): void {
    const seg = findSeg(this.#state, st.id);
    if (!seg || st.dirty || seg.extents.length === 0) return;
    const left = this.#capacity(seg) - st.pos;
    const extent = this.#g.extentBlocks * this.#g.blockLength;
    if (left >= extent / 2 && left >= 2 * lastSpan) return;
    if ((freeBlocks(this.#state, this.#g) - this.#g.extentBlocks) * this.#g.blockLength < recordSpan(MAX_TRAILER, this.#g.pageLength)) return;
    this.#reserve(st, this.#capacity(seg), 1, this.#g.extentBlocks);
  }

  #program(st: Stream, o: number, bytes: Uint8Array): void {
    const seg = findSeg(this.#state, st.id)!;
    for (let i = 0; i < bytes.length; ) {
      const { address, room } = this.#locate(seg.extents, o + i);
      const n = Math.min(room, bytes.length - i);
      try {
        this.#flash.write(i === 0 && n === bytes.length ? bytes : bytes.subarray(i, i + n), address);
      } catch (e) {
        if (!isMediaFailure(e, 'E_FLASH_PROGRAM')) throw e;
        const block = Math.floor(address / this.#g.blockLength);
        throw new BodycamError('E_FLASH_PROGRAM', `program failed in block ${block}`, { block });
      }
      i += n;
    }
  }

  /** The record's head, its header and the start of the body up to the write alignment go in one write; the body follows without a copy. */
  #writeRecord(st: Stream, type: number, header: Uint8Array, body: Uint8Array | undefined): void {
    const a = this.#g.writeAlign;
    const b = body ?? EMPTY;
    const head = encodeRecordHead(this.#checksum, type, st.id, header, b);
    const first = RECORD_HEAD + header.length;
    const k = Math.min(b.length, (a - (first % a)) % a);
    const stageLength = first + k;
    const stage = new Uint8Array(alignUp(stageLength, a));
    if (stage.length > stageLength) stage.fill(0xff, stageLength);
    stage.set(head, 0);
    stage.set(header, RECORD_HEAD);
    if (k) stage.set(b.subarray(0, k), first);
    this.#program(st, st.pos, stage);
    const rest = b.length - k;
    if (rest <= 0) return;
    const mid = rest - (rest % a);
    if (mid) this.#program(st, st.pos + stageLength, b.subarray(k, k + mid));
    if (rest > mid) {
      const tail = new Uint8Array(a).fill(0xff);
      tail.set(b.subarray(k + mid), 0);
      this.#program(st, st.pos + stageLength + mid, tail);
    }
  }

  /** Make the stream evidence: write its META record, then assign the next sequence number. */
  #assign(st: Stream): void {
    const meta = st.meta ?? EMPTY;
    st.metaOffset = this.#append(st, RecordType.META, EMPTY, meta);
    const seq = this.#state.nextSequence;
    this.#commit([Delta.ASSIGN, st.id, seq, st.start, st.metaOffset, st.pos, st.records, st.media]);
    st.evidence = true;
    st.sequence = seq;
  }

  /**
   * Give back the stream's leading blocks that hold only records before `firstKept` (pre-event
   * frames that aged out) — in whole extents, so the ring costs one delta per extent, unless
   * `force` (at promote: nothing stale may stay in evidence).
   */
  #trim(st: Stream, firstKept: number, force: boolean): void {
    const seg = findSeg(this.#state, st.id);
    if (!seg) return;
    const bl = this.#g.blockLength;
    let n = 0;
    for (let i = 0; i < seg.extents.length; i++) {
      const e = seg.extents[i];
      const len = i + 1 < seg.extents.length ? seg.extents[i + 1].base - e.base : e.count * bl;
      if (e.base + len <= firstKept && e.base + len <= st.pos) {
        n += e.count;
        continue;
      }
      n += Math.max(0, Math.min(e.count, Math.floor((firstKept - e.base) / bl)));
      break;
    }
    if (n > 0 && (force || n >= this.#g.extentBlocks)) this.#commit([Delta.TRIM, st.id, n]);
  }

  #seal(st: Stream, trailer: Uint8Array): SegmentInfo {
    this.#checkOpen(st);
    if (trailer.length > MAX_TRAILER) throw new BodycamError('E_ARGUMENT', `trailer of ${trailer.length} bytes exceeds ${MAX_TRAILER}`);
    if (st.records === 0) throw new BodycamError('E_SEGMENT_EMPTY', `segment ${st.id} has no frames; append at least one or abandon() it`);
    const at = this.#append(st, RecordType.TRAILER, EMPTY, trailer);
    this.#commit([Delta.SEAL, st.id, st.pos, st.records, st.media, at, 0, st.metaOffset]);
    st.closed = true;
    this.#cursor = undefined;
    return this.segment(st.id);
  }

  /** End the stream without its trailer: `sealed`, no TRAILER until attachTrailer. */
  #close(st: Stream): SegmentInfo {
    this.#checkOpen(st);
    if (st.records === 0) throw new BodycamError('E_SEGMENT_EMPTY', `segment ${st.id} has no frames; append at least one or abandon() it`);
    this.#commit([Delta.SEAL, st.id, st.pos, st.records, st.media, -1, 0, st.metaOffset]);
    st.closed = true;
    this.#cursor = undefined;
    return this.segment(st.id);
  }

  #discard(st: Stream): void {
    if (st.closed) return;
    if (st.evidence) throw new BodycamError('E_SEGMENT_STATE', `segment ${st.id} holds evidence; seal it`);
    st.closed = true;
    if (findSeg(this.#state, st.id)) this.#commit([Delta.DISCARD, st.id]);
  }
}

// The prototype of the generators records() makes is an object of this module: frozen, because
// the camera preloads the module and xsl flags every object it would leave writable in flash.
Object.freeze((SegmentStore.prototype.records as unknown as { prototype: object }).prototype);

/** What a writer may do to the store (internal). */
interface WriterOps {
  stream: Stream;
  geometry: Geometry;
  append(type: number, header: Uint8Array, body: Uint8Array | undefined, last?: boolean): number;
  /** Throw if a frame of these sizes can never be stored. */
  check(headerLength: number, bodyLength: number): void;
  assign(): void;
  trim(firstKept: number, force: boolean): void;
  seal(trailer: Uint8Array): SegmentInfo;
  close(): SegmentInfo;
  discard(): void;
  info(): SegmentInfo;
  nextSequence(): number;
}

/** Appends frames to one evidence segment, then seals it with a trailer. */
export class SegmentWriter {
  #ops: WriterOps;
  /** @internal */
  constructor(ops: WriterOps) {
    this.#ops = ops;
  }

  get id(): number {
    return this.#ops.stream.id;
  }

  /** The segment's sequence number (assigned when its first frame is written; this is the one it will get). */
  get sequence(): number {
    const st = this.#ops.stream;
    return st.evidence ? st.sequence : this.#ops.nextSequence();
  }

  get records(): number {
    return this.#ops.stream.records;
  }

  get mediaLength(): number {
    return this.#ops.stream.media;
  }

  /** Append one frame: `header` (from capture) and `body` (the JPEG). Returns the frame's media offset. */
  append(header: Uint8Array, body?: BufferLike): number {
    const h = bytesArg(header, 'frame header');
    const b = body === undefined ? undefined : bytesArg(body, 'frame body');
    if (h.length + (b ? b.length : 0) === 0) throw new BodycamError('E_ARGUMENT', 'an empty frame record');
    const st = this.#ops.stream;
    if (st.closed) throw new BodycamError('E_SEGMENT_STATE', `segment ${st.id} is closed; open a new one`);
    this.#ops.check(h.length, b ? b.length : 0);
    if (!st.evidence) this.#ops.assign();
    const at = st.media;
    this.#ops.append(RecordType.FRAME, h, b);
    return at;
  }

  /**
   * Append a sealed stream's END record (at most the `endReserve` the segment was opened with):
   * it takes the room every frame kept for it, so a full store can still end the stream.
   */
  appendEnd(record: Uint8Array): number {
    const r = bytesArg(record, 'end record');
    const st = this.#ops.stream;
    if (st.closed) throw new BodycamError('E_SEGMENT_STATE', `segment ${st.id} is closed; open a new one`);
    if (r.length === 0 || r.length > st.endReserve) throw new BodycamError('E_ARGUMENT', `an end record of ${r.length} bytes does not fit the ${st.endReserve} kept for it`);
    if (!st.evidence) this.#ops.assign();
    const at = st.media;
    this.#ops.append(RecordType.FRAME, r, undefined, true);
    return at;
  }

  /** Seal with the trailer (e.g. the signed manifest); the segment can't change afterwards. */
  seal(trailer: Uint8Array): SegmentInfo {
    return this.#ops.seal(bytesArg(trailer, 'trailer'));
  }

  /**
   * End the segment now and sign it later: it is `sealed` with no trailer (nothing more can be
   * appended, the store may open the next segment at once) until attachTrailer(id, trailer). A
   * power cut in between leaves it so, and the next boot signs it as it signs a recovered one.
   */
  close(): SegmentInfo {
    return this.#ops.close();
  }

  /** Give up a segment that has no frames yet (no sequence number is used). */
  abandon(): void {
    const st = this.#ops.stream;
    if (st.records > 0 || st.evidence) throw new BodycamError('E_SEGMENT_STATE', `segment ${st.id} already holds frames; seal it`);
    this.#ops.discard();
  }
}

/** The pre-event ring: provisional frames, the last `seconds` kept; promote() makes them the start of evidence. */
export class PreEventRing {
  #ops: WriterOps;
  #windowMs: number;
  #clock: Clock | undefined;
  // Index of the provisional records still kept: offset, time and payload length, as a ring.
  #offsets: Float64Array;
  #times: Float64Array;
  #lengths: Uint32Array;
  #head = 0;
  #count = 0;
  #promoted = false;

  /** @internal */
  constructor(o: { store: WriterOps; windowMs: number; capacity: number; clock: Clock | undefined }) {
    this.#ops = o.store;
    this.#windowMs = o.windowMs;
    this.#clock = o.clock;
    const n = Math.max(1, o.capacity | 0);
    this.#offsets = new Float64Array(n);
    this.#times = new Float64Array(n);
    this.#lengths = new Uint32Array(n);
  }

  get id(): number {
    return this.#ops.stream.id;
  }

  /** Provisional frames kept now. */
  get records(): number {
    return this.#count;
  }

  #now(time: number | undefined): number {
    if (time !== undefined) return time;
    if (!this.#clock) throw new BodycamError('E_ARGUMENT', 'the pre-event ring needs a frame time or a clock in the store options');
    return this.#clock.monotonic();
  }

  /** Drop index entries older than the window and give their blocks back. */
  #age(now: number, force: boolean): void {
    const cap = this.#offsets.length;
    while (this.#count > 0 && this.#times[this.#head] < now - this.#windowMs) {
      this.#head = (this.#head + 1) % cap;
      this.#count--;
    }
    const firstKept = this.#count > 0 ? this.#offsets[this.#head] : this.#ops.stream.pos;
    this.#ops.trim(firstKept, force);
  }

  /** Append a provisional frame (time: monotonic ms; the store's clock if omitted). */
  append(header: Uint8Array, body?: BufferLike, time?: number): void {
    if (this.#promoted || this.#ops.stream.closed) throw new BodycamError('E_SEGMENT_STATE', 'the pre-event ring was promoted or discarded');
    const h = bytesArg(header, 'frame header');
    const b = body === undefined ? undefined : bytesArg(body, 'frame body');
    if (h.length + (b ? b.length : 0) === 0) throw new BodycamError('E_ARGUMENT', 'an empty frame record');
    this.#ops.check(h.length, b ? b.length : 0);
    const now = this.#now(time);
    this.#age(now, false);
    const cap = this.#offsets.length;
    if (this.#count === cap) {
      // More frames than the index holds: the oldest goes early.
      this.#head = (this.#head + 1) % cap;
      this.#count--;
    }
    const at = this.#ops.stream.pos;
    this.#ops.append(RecordType.FRAME, h, b);
    const i = (this.#head + this.#count) % cap;
    this.#offsets[i] = at;
    this.#times[i] = now;
    this.#lengths[i] = h.length + (b ? b.length : 0);
    this.#count++;
  }

  /** Recording starts: the kept frames become the first frames of an evidence segment, with no gap. */
  promote(meta: Uint8Array, time?: number): SegmentWriter {
    if (this.#promoted || this.#ops.stream.closed) throw new BodycamError('E_SEGMENT_STATE', 'the pre-event ring was promoted or discarded');
    const m = bytesArg(meta, 'meta');
    if (m.length > MAX_META) throw new BodycamError('E_ARGUMENT', `segment meta of ${m.length} bytes exceeds ${MAX_META}`);
    const now = this.#now(time);
    this.#age(now, true);
    const st = this.#ops.stream;
    const cap = this.#offsets.length;
    let media = 0;
    for (let k = 0; k < this.#count; k++) media += this.#lengths[(this.#head + k) % cap];
    st.start = this.#count > 0 ? this.#offsets[this.#head] : st.pos;
    st.records = this.#count;
    st.media = media;
    st.meta = m;
    // If the META record can't be written (E_STORE_FULL), the ring stays a ring.
    if (this.#count > 0) this.#ops.assign();
    this.#promoted = true;
    return new SegmentWriter(this.#ops);
  }

  /** Stop buffering and give the ring's blocks back. */
  discard(): void {
    if (this.#promoted) throw new BodycamError('E_SEGMENT_STATE', 'the pre-event ring was promoted; seal the segment instead');
    this.#ops.discard();
  }
}
