// The 'moddable' engine: the firmware as the real mcconfig (SDK 8.2.3) builds it — TypeScript
// checked against the SDK's typings, bytecode from xsc, linked and preloaded by xsl with a
// board's preload list — for the x-cli-lin platform, in a machine created with the board's own
// `creation` (fixed chunk heap, slot heap, stack and keys, as on the camera), linked with a
// small C host (host.c) that speaks the bridge protocol of the xs and mcu engines.
//
// What it proves that xs and mcu do not: the code that runs is the code mcconfig compiles and
// preloads (a module that writes a buffer it made at load time throws "read-only buffer" here,
// as on the camera), and the firmware runs inside the machine the board's manifest creates (a
// heap too small stops it with E_XS_OUT_OF_MEMORY). It has no compute meter: cost is measured on
// xs (compute units) and mcu (instructions).
//
// The executable is built on first use (toolchain/mcconfig.ts) under .bodycam/build and reused
// while its sources are unchanged (mcconfig's make rebuilds only what changed).

import { join } from 'node:path';
import { BodycamError } from '../../firmware/errors.js';
import type { Platform } from '../../firmware/platform/index.js';
import { BridgedEngine } from '../bridge/engine-base.js';
import { EventQueue } from '../bridge/events.js';
import type { CallMeter, CallResult, Engine } from '../engine.js';
import { XsWorker, type Meter, type XsReply } from '../xs/worker.js';
import { findBoard, type Board } from '../../toolchain/boards.js';
import { buildEngine, type Creation } from '../../toolchain/mcconfig.js';
import { repoRoot } from '../../toolchain/root.js';
import { ensureSdk } from '../../toolchain/sdk.js';

/** The board whose preload and creation the engine uses unless told otherwise. */
export const DEFAULT_MODDABLE_BOARD = 'xiao_esp32s3_sense';

export interface ModdableEngineOptions {
  /** boards/<name>.json: its creation (unless `creation` overrides it) and the firmware's preload. */
  board?: string;
  /** A creation to use instead of the board's (the bench's roomy machine that measures peaks). */
  creation?: Creation;
  /** Progress of a first build (it takes a minute). */
  log?: (line: string) => void;
  /** An executable built already (tests build fixtures with toolchain/mcconfig.ts). */
  binary?: string;
}

export interface ModdableMeter extends CallMeter {
  chunksPeak: number;
  chunksMax: number;
  slotsPeak: number;
  slotsMax: number;
}

/** Where engine builds go (gitignored). */
export function buildDir(root = repoRoot): string {
  return join(root, '.bodycam', 'build');
}

const built = new Map<string, string>();

/** Build (or bring up to date) the engine executable for a board, once per process. */
export function ensureModdableBinary(board: Board, creation?: Creation, log: (line: string) => void = () => {}): string {
  const key = `${board.name}:${JSON.stringify(creation ?? null)}`;
  const done = built.get(key);
  if (done) return done;
  const sdk = ensureSdk(log);
  log(`building the moddable engine for ${board.name} with mcconfig (x-cli-lin)`);
  const r = buildEngine(sdk, board, { out: buildDir(), creation });
  if (!r.ok || !r.binary) throw new BodycamError('E_MODDABLE_BUILD', `mcconfig could not build the moddable engine for ${board.name}:\n${r.problems.join('\n')}`);
  built.set(key, r.binary);
  return r.binary;
}

function toMeter(m: Meter, bridge: number): ModdableMeter {
  return {
    ...m,
    bridge,
    firmware: 0,
    chunksPeak: m.chunksPeak ?? m.allocate,
    chunksMax: m.chunksMax ?? 0,
    slotsPeak: m.slotsPeak ?? m.currentHeapCount,
    slotsMax: m.slotsMax ?? 0,
  };
}

/** Heap use over a stretch of requests. */
export interface ModdablePeaks {
  /** Most chunk bytes and slots in use at once (live data plus garbage not yet collected). */
  chunks: number;
  slots: number;
  /** Most chunk bytes and slots live at the end of a request (after a full collection). */
  liveChunks: number;
  liveSlots: number;
  /** Where the live chunk bytes were at the request that left the most. */
  liveSplit?: Meter['split'];
}

export class ModdableEngine extends BridgedEngine<Meter, ModdableMeter> implements Engine {
  readonly name = 'moddable' as const;
  #worker!: XsWorker;
  #options: ModdableEngineOptions;
  #board!: Board;
  #loaded!: ModdableMeter;
  #peaks!: ModdablePeaks;

  constructor(platform: Platform, queue: EventQueue, options: ModdableEngineOptions = {}) {
    super(platform, queue);
    this.#options = options;
  }

  async start(): Promise<this> {
    this.#board = findBoard(this.#options.board ?? DEFAULT_MODDABLE_BOARD);
    const binary = this.#options.binary ?? ensureModdableBinary(this.#board, this.#options.creation, this.#options.log);
    this.#worker = XsWorker.start({ onQuery: (m) => this.bridge.handle(m), binary });
    try {
      // An empty script: the machine once the guest runtime is loaded.
      this.#loaded = toMeter((await this.#worker.evaluate('')).meter, 0);
    } catch (e) {
      await this.#worker.close();
      throw e;
    }
    this.#peaks = { chunks: this.#loaded.allocate, slots: this.#loaded.currentHeapCount, liveChunks: this.#loaded.allocate, liveSlots: this.#loaded.currentHeapCount };
    return this;
  }

  get board(): Board {
    return this.#board;
  }

  /** The machine once the firmware modules and the guest were loaded (nothing run yet). */
  get loaded(): ModdableMeter {
    return this.#loaded;
  }

  /** Heap use since start. */
  get peaks(): ModdablePeaks {
    return { ...this.#peaks };
  }

  protected command(bytes: Uint8Array): Promise<XsReply> {
    return this.#worker.command(bytes);
  }

  protected meterOf(raw: Meter, bridge: number): ModdableMeter {
    const m = toMeter(raw, bridge);
    // BODYCAM_MODDABLE_TRACE=1: one line per request (the entry, or the last entry before a callback).
    if (process.env.BODYCAM_MODDABLE_TRACE) process.stderr.write(`moddable: ${this.#last} live ${m.allocate} B ${m.currentHeapCount} slots, peak ${m.chunksPeak} B ${m.slotsPeak} slots\n`);
    this.#peaks.chunks = Math.max(this.#peaks.chunks, m.chunksPeak);
    this.#peaks.slots = Math.max(this.#peaks.slots, m.slotsPeak);
    if (m.allocate > this.#peaks.liveChunks) this.#peaks.liveSplit = m.split;
    this.#peaks.liveChunks = Math.max(this.#peaks.liveChunks, m.allocate);
    this.#peaks.liveSlots = Math.max(this.#peaks.liveSlots, m.currentHeapCount);
    return m;
  }

  #last = '';
  override call(entry: string, ...args: Parameters<Engine['call']>[1][]): Promise<CallResult & { meter: ModdableMeter }> {
    this.#last = entry;
    return super.call(entry, ...args);
  }

  close(): Promise<void> {
    return this.#worker.close();
  }
}

export function startModdableEngine(platform: Platform, options: ModdableEngineOptions = {}, queue: EventQueue = new EventQueue()): Promise<ModdableEngine> {
  return new ModdableEngine(platform, queue, options).start();
}
