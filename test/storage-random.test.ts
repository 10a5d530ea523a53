// Random long runs of the segment store against a model: segments, pre-event rings, seals,
// releases and full stores, on a small flash with bit flips on read, blocks that wear out
// early, power cuts at random operations — sometimes a second cut during the recovering
// mount. After every remount every acknowledged frame, seal and release must be there, bit
// for bit. The same runs on a simulated SD card (host-sim/flash/sim-sd.ts: sectors, no erase,
// cuts that destroy the 16 KiB internal page around the write): every seal and release must
// be there bit for bit, and the open segment may lose only the frames of the unit the cut hit.
// Runs on Node, driving firmware/storage directly (the sweeps cover XS).
// A bounded number in `npm test`; thousands with BODYCAM_LONG. A failure prints the run's seed:
// replay it with BODYCAM_STORAGE_RANDOM_SEED=seed.

import test from 'ava';
import { isBodycamError } from '../firmware/errors.js';
import { PreEventRing, SegmentStore, SegmentWriter } from '../firmware/storage/index.js';
import { prng, SimFlash } from '../host-sim/flash/sim-flash.js';
import { SimSd } from '../host-sim/flash/sim-sd.js';
import { nodeChecksum } from '../host-sim/node/hardware.js';
import { eq } from './helpers/storage-check.js';

const LONG = !!process.env.BODYCAM_LONG;
const ONLY = process.env.BODYCAM_STORAGE_RANDOM_SEED;
const RUNS = LONG ? 1000 : 12;
const STEPS = LONG ? 1000 : 400;
const WINDOW_MS = 1000;


interface Frame {
  h: Uint8Array;
  b: Uint8Array;
  time: number;
}

interface ModelSeg {
  id: number;
  frames: Frame[];
  state: 'open' | 'sealed' | 'recovered' | 'released';
  trailer?: Uint8Array;
  meta: Uint8Array | undefined;
  /** Evidence on flash (a sequence is assigned). */
  assigned: boolean;
}

const SD = { bytes: 100 * 16384, blockLength: 16384, internalPage: 16384, lossUnit: 16384 };

class Run {
  readonly rand: () => number;
  readonly flash: SimFlash | SimSd;
  store!: SegmentStore;
  readonly segs = new Map<number, ModelSeg>();
  writer: SegmentWriter | undefined;
  writerSeg: ModelSeg | undefined;
  ring: { r: PreEventRing; frames: Frame[] } | undefined;
  /** The operation in flight when a cut hit. */
  inflight: { kind: 'append'; frame: Frame } | { kind: 'seal'; trailer: Uint8Array } | { kind: 'release'; ids: number[] } | { kind: 'promote'; seg: ModelSeg } | undefined;
  time = 0;
  cuts = 0;
  frameNo = 0;

  constructor(readonly seed: number, readonly card = false) {
    this.rand = prng(seed);
    if (card) {
      this.flash = new SimSd({ ...SD, seed, pageLoss: this.rand() < 0.5 ? 1 : 0.5 });
      return;
    }
    const flash = new SimFlash({ blockLength: 512, blocks: 200, pageLength: 64, writeAlign: this.rand() < 0.5 ? 1 : 4, seed, bitFlipRate: 0.01, tear: this.rand() < 0.7 ? 'page' : 'range' });
    for (let i = 0; i < 4; i++) flash.weakBlocks.set(40 + Math.floor(this.rand() * 160), 1 + Math.floor(this.rand() * 6));
    this.flash = flash;
  }

  /** Acknowledged frames at the end of `frames` a cut may take on a card (records within one loss unit of the write in flight). */
  atRisk(frames: Frame[]): number {
    if (!this.card) return 0;
    let span = 0;
    let n = 0;
    for (let i = frames.length - 1; i >= 0 && span < SD.lossUnit; i--, n++) span += Math.ceil((16 + frames[i].h.length + frames[i].b.length) / 512) * 512;
    return n;
  }

  opts() {
    return { flash: new (this.flash.portClass())({ path: 's' }), checksum: nodeChecksum };
  }

  int(n: number): number {
    return Math.floor(this.rand() * n);
  }

  frame(): Frame {
    const n = this.frameNo++;
    const h = new Uint8Array(4 + this.int(20)).fill(n & 255);
    const b = new Uint8Array(50 + this.int(this.rand() < 0.1 ? 6000 : 1500));
    let x = (this.seed * 31 + n) >>> 0;
    for (let i = 0; i < b.length; i += 16) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      b[i] = x >>> 24;
    }
    this.time += 100;
    return { h, b, time: this.time };
  }

  /** Remount after a cut (sometimes cut again during recovery), then reconcile the model. */
  remount(): string[] {
    for (;;) {
      this.flash.reboot();
      if (this.rand() < 0.3) this.flash.cutAfter(1 + this.int(6));
      try {
        this.store = SegmentStore.mount(this.opts());
        this.flash.cutAfter(0);
        break;
      } catch (e) {
        if (!isBodycamError(e, 'E_POWER_CUT')) throw e;
        this.cuts++;
      }
    }
    this.writer = undefined;
    this.ring = undefined;
    return this.reconcile();
  }

  reconcile(): string[] {
    const problems: string[] = [];
    const infos = new Map(this.store.segments().map((s) => [s.id, s]));
    const f = this.inflight;
    this.inflight = undefined;
    // The writer's segment at the cut.
    const w = this.writerSeg;
    this.writerSeg = undefined;
    if (w && w.state === 'open') {
      const info = infos.get(w.id);
      const extra = f?.kind === 'append' ? 1 : 0;
      if (!info) {
        if (w.assigned) problems.push(`segment ${w.id}: open with ${w.frames.length} frames, gone after the cut`);
        this.segs.delete(w.id);
      } else {
        const k = info.records;
        const least = w.frames.length - this.atRisk(w.frames);
        if (k < least || k > w.frames.length + extra) problems.push(`segment ${w.id}: ${k} records, ${w.frames.length} acknowledged (+${extra} in flight, at least ${least} must survive)`);
        if (k === w.frames.length + 1 && f?.kind === 'append') w.frames.push(f.frame);
        // The card lost the unit the cut hit: its frames are gone, and the META record with them if it was there.
        if (k < w.frames.length && info.lostAtCut < w.frames.length - k) problems.push(`segment ${w.id}: the cut destroyed ${w.frames.length - k} acknowledged frames, the store counts ${info.lostAtCut} lost`);
        if (k < w.frames.length && k >= least) w.frames = w.frames.slice(0, k);
        if (this.card && info.meta === undefined && k <= w.frames.length) w.meta = undefined;
        w.assigned = true;
        if (info.state === 'sealed' && f?.kind === 'seal') {
          w.state = 'sealed';
          w.trailer = f.trailer;
        }
        else if (info.state === 'recovered') w.state = 'recovered';
        else problems.push(`segment ${w.id}: ${info.state} after a cut while open`);
      }
    }
    if (f?.kind === 'promote') {
      const info = infos.get(f.seg.id);
      if (info) {
        const least = f.seg.frames.length - this.atRisk(f.seg.frames);
        if (info.records < f.seg.frames.length && info.records >= least) f.seg.frames = f.seg.frames.slice(0, info.records);
        if (this.card && info.meta === undefined) f.seg.meta = undefined;
        f.seg.assigned = true;
        f.seg.state = 'recovered';
        this.segs.set(f.seg.id, f.seg);
      }
    }
    if (f?.kind === 'release') {
      for (const id of f.ids) {
        const info = infos.get(id);
        const m = this.segs.get(id)!;
        if (!info || info.state === 'released') m.state = 'released';
      }
    }
    problems.push(...this.check());
    return problems;
  }

  check(): string[] {
    const problems: string[] = [];
    const infos = this.store.segments();
    let lastSeq = -1;
    for (const info of infos) {
      if (info.sequence <= lastSeq) problems.push(`sequence ${info.sequence} after ${lastSeq}`);
      lastSeq = info.sequence;
      const m = this.segs.get(info.id);
      if (!m) {
        if (!(this.writerSeg?.id === info.id)) problems.push(`segment ${info.id} is not in the model`);
        continue;
      }
      if (m.state === 'released') {
        if (info.state !== 'released') problems.push(`segment ${info.id}: released, now ${info.state}`);
        continue;
      }
      if (info.state !== m.state) problems.push(`segment ${info.id}: ${info.state}, model says ${m.state}`);
      if (m.state !== 'open' && !eq(info.meta, m.meta)) problems.push(`segment ${info.id}: meta differs`);
      if (m.state === 'sealed' && !eq(info.trailer, m.trailer)) problems.push(`segment ${info.id}: trailer differs`);
      const recs = [...this.store.records(info.id)];
      if (recs.length !== m.frames.length) problems.push(`segment ${info.id}: ${recs.length} records, model ${m.frames.length}`);
      else if (!recs.every((r, i) => eq(r.header, m.frames[i].h) && eq(r.body, m.frames[i].b))) problems.push(`segment ${info.id}: records differ`);
    }
    for (const m of this.segs.values()) {
      if (m.state !== 'released' && m.assigned && !infos.some((i) => i.id === m.id)) problems.push(`segment ${m.id} (${m.state}) is missing`);
    }
    return problems;
  }

  step(): string[] {
    if (this.rand() < 0.08) this.flash.cutAfter(1 + this.int(60));
    try {
      this.act();
      return [];
    } catch (e) {
      return this.handle(e);
    }
  }

  handle(e: unknown): string[] {
    if (isBodycamError(e, 'E_POWER_CUT')) {
      this.cuts++;
      return this.remount();
    }
    if (isBodycamError(e, 'E_STORE_FULL')) {
      this.inflight = undefined;
      try {
        this.releaseOldest(true);
        return [];
      } catch (e2) {
        return this.handle(e2);
      }
    }
    throw e;
  }

  releaseOldest(all: boolean): void {
    const ids = [...this.segs.values()].filter((m) => m.state === 'sealed' || m.state === 'recovered').map((m) => m.id);
    if (ids.length === 0) {
      // Nothing to free: end the open segment or ring so the store can move on.
      if (this.writer && this.writerSeg!.frames.length) this.seal();
      else if (this.ring) {
        this.ring.r.discard();
        this.ring = undefined;
      }
      return;
    }
    const pick = all ? ids.slice(0, Math.max(1, Math.ceil(ids.length / 2))) : ids.slice(0, 1);
    this.inflight = { kind: 'release', ids: pick };
    this.store.release(pick, new Uint8Array([pick.length, this.seed & 255]));
    this.inflight = undefined;
    for (const id of pick) this.segs.get(id)!.state = 'released';
  }

  seal(): void {
    const m = this.writerSeg!;
    const trailer = new Uint8Array(20 + this.int(200)).fill(m.id & 255);
    this.inflight = { kind: 'seal', trailer };
    this.writer!.seal(trailer);
    this.inflight = undefined;
    m.state = 'sealed';
    m.trailer = trailer;
    this.writer = undefined;
    this.writerSeg = undefined;
  }

  act(): void {
    const r = this.rand();
    if (this.writer) {
      const m = this.writerSeg!;
      if (r < 0.85 || m.frames.length === 0) {
        const fr = this.frame();
        this.inflight = { kind: 'append', frame: fr };
        this.writer.append(fr.h, fr.b);
        this.inflight = undefined;
        m.frames.push(fr);
        m.assigned = true;
      } else this.seal();
      return;
    }
    if (this.ring) {
      if (r < 0.8) {
        const fr = this.frame();
        this.ring.r.append(fr.h, fr.b, fr.time);
        this.ring.frames.push(fr);
      } else if (r < 0.95) {
        this.time += 100;
        const kept = this.ring.frames.filter((x) => x.time >= this.time - WINDOW_MS);
        const meta = new Uint8Array([0xbb, this.ring.r.id & 255]);
        const seg: ModelSeg = { id: this.ring.r.id, frames: kept, state: 'open', meta, assigned: kept.length > 0 };
        this.inflight = { kind: 'promote', seg };
        this.writer = this.ring.r.promote(meta, this.time);
        this.inflight = undefined;
        this.ring = undefined;
        this.segs.set(seg.id, seg);
        this.writerSeg = seg;
      } else {
        this.ring.r.discard();
        this.ring = undefined;
      }
      return;
    }
    if (r < 0.45) {
      const meta = new Uint8Array(1 + this.int(40)).fill(7);
      this.writer = this.store.openSegment(meta);
      const seg: ModelSeg = { id: this.writer.id, frames: [], state: 'open', meta, assigned: false };
      this.segs.set(seg.id, seg);
      this.writerSeg = seg;
    } else if (r < 0.65) {
      const ring = this.store.openPreEvent({ seconds: WINDOW_MS / 1000 });
      this.ring = { r: ring, frames: [] };
    } else this.releaseOldest(false);
  }
}

const seeds = ONLY ? [Number(ONLY)] : Array.from({ length: RUNS }, (_, i) => 1000 + i);

test(`storage on an SD card: ${seeds.length} random runs × ${STEPS} steps with power cuts that destroy internal pages`, (t) => {
  let cuts = 0;
  let steps = 0;
  let pagesLost = 0;
  let sealed = 0;
  for (const seed of seeds) {
    const run = new Run(seed, true);
    run.store = SegmentStore.format({ ...run.opts(), extentBlocks: 4, slotBlocks: 8, maxSegments: 40 });
    const card = run.flash as SimSd;
    const countLoss = () => {
      if (card.lastCut?.lost && card.lastCut !== lastSeen) pagesLost++;
      lastSeen = card.lastCut;
    };
    let lastSeen = card.lastCut;
    let problems: string[] = [];
    let step = 0;
    try {
      for (; step < STEPS && problems.length === 0; step++) {
        problems = run.step();
        countLoss();
      }
      if (problems.length === 0) {
        run.flash.cutAfter(0);
        problems = run.remount();
      }
    } catch (e) {
      problems = [`threw ${(e as Error).stack ?? String(e)}`];
    }
    if (problems.length) {
      t.fail(`random run on a card, seed ${seed}, step ${step}: replay with BODYCAM_STORAGE_RANDOM_SEED=${seed}\n  ${problems.join('\n  ')}`);
      return;
    }
    cuts += run.cuts;
    steps += step;
    sealed += [...run.segs.values()].filter((m) => m.state === 'sealed').length;
  }
  t.log(`${seeds.length} runs on a card, ${steps} steps, ${cuts} power cuts (${pagesLost} destroyed an internal page), ${sealed} sealed segments checked bit for bit after every remount: 0 lost`);
  t.true(cuts > seeds.length, 'the runs were cut often');
  t.true(pagesLost > 0, 'cuts destroyed internal pages');
});

test(`storage: ${seeds.length} random runs × ${STEPS} steps with power cuts, bit flips and worn blocks`, (t) => {
  let cuts = 0;
  let flips = 0;
  let bad = 0;
  let steps = 0;
  for (const seed of seeds) {
    const run = new Run(seed);
    run.store = SegmentStore.format({ ...run.opts(), pageLength: 64, extentBlocks: 4, slotBlocks: 8, maxSegments: 40 });
    let problems: string[] = [];
    let step = 0;
    try {
      for (; step < STEPS && problems.length === 0; step++) problems = run.step();
      if (problems.length === 0) {
        run.flash.cutAfter(0);
        problems = run.remount();
      }
    } catch (e) {
      if (isBodycamError(e, 'E_STORE_WORN_OUT')) {
        t.log(`seed ${seed}: the metadata wore out at step ${step} (weak blocks in a slot)`);
        continue;
      }
      problems = [`threw ${(e as Error).stack ?? String(e)}`];
    }
    if (problems.length) {
      t.fail(`random run seed ${seed}, step ${step}: replay with BODYCAM_STORAGE_RANDOM_SEED=${seed}\n  ${problems.join('\n  ')}`);
      return;
    }
    cuts += run.cuts;
    flips += run.flash.counters.bitFlips;
    bad += run.store.usage().badBlocks;
    steps += step;
  }
  t.log(`${seeds.length} runs, ${steps} steps, ${cuts} power cuts, ${flips} bit flips read, ${bad} blocks retired`);
  t.true(cuts > seeds.length, 'the runs were cut often');
  t.true(flips > 0, 'bits were flipped');
});
