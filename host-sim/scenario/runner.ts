// Runs a scenario (format.ts): one simulated camera — the real firmware (firmware/main.ts) on
// the node, xs or mcu engine (XS on an emulated Cortex-M7: the report then gives instructions
// and the device's peak heap instead of XS compute units) — over simulated hardware on virtual time, with the shift's button
// presses, power cuts, sensor hiccups and battery curve, then docking at a real DockStation on
// loopback TCP with the scenario's link faults. Afterwards the evidence the dock stored is
// verified with the firmware's own verifier (manifests, media, chain, receipts, ledger) and
// compared with what the camera said it committed: anything committed and not in verified
// evidence is lost, and the run fails.
//
// Deterministic: the same scenario and seed give byte-identical evidence on every engine
// (virtual time stops while a dock session runs; the dock's clock is the simulation's).

import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { CborValue } from '../../firmware/codec/cbor.js';
import { BodycamError } from '../../firmware/errors.js';
import type { Platform } from '../../firmware/platform/platform.js';
import type { KeyStore, KeyStoreOptions, Led, LedOptions, LinkOptions } from '../../firmware/platform/index.js';
import { DEFAULT_SETTINGS, signConfig } from '../../firmware/provision/config.js';
import { issueCertificate } from '../../firmware/signing/certificate.js';
import { peekManifest, FLAG_PRE_EVENT, FLAG_RECOVERED, FLAG_UNREAD } from '../../firmware/signing/manifest.js';
import { parseSegmentMedia } from '../../firmware/encoder/frame-record.js';
import { openSealedSegment, type ExaminerKey } from '../../evidence/sealed.js';
import { segmentStem } from '../../evidence/layout.js';
import { KeyPairSigner } from '../../firmware/signing/signer.js';
import type { RecorderStatus } from '../../firmware/recorder/recorder.js';
import type { LedgerReport } from '../../firmware/recorder/ledger-verify.js';
import { hostEd25519 } from '../../host/ed25519-node.js';
import { DockStation } from '../../dock-station/station.js';
import { pinnedTrust } from '../../evidence/trust.js';
import { verifyStore } from '../../evidence/verify-store.js';
import { planStoreExport, writeAviExport } from '../../evidence/export.js';
import { evidenceKeyPair, sealEvidenceKey } from '../../evidence/evidence-keys.js';
import { writeDurable } from '../../dock-station/store.js';
import { planAviExport } from '../../firmware/encoder/avi.js';
import { startEngine, type Engine, type EngineName } from '../engine.js';
import { McuEngine, startMcuEngine, type McuEngineOptions } from '../mcu/engine.js';
import { BridgedEngine } from '../bridge/engine-base.js';
import { ModdableEngine, startModdableEngine, type ModdableEngineOptions } from '../moddable/engine.js';
import { SimFlash, attachFlash } from '../flash/sim-flash.js';
import { SimSd } from '../flash/sim-sd.js';
import { TcpLink } from '../link/tcp-link.js';
import { SeededRandom, SimHardware, nodeDigest } from '../node/hardware.js';
import { attachCamera, synthetic } from '../sensor/sim-camera.js';
import { attachMicrophone } from '../sensor/sim-microphone.js';
import { FileKeyStores } from '../node/file-keystore.js';
import { PROVISION_KEYSTORE } from '../guest/provision.js';
import { RECORDER_KEYS_PATH } from '../guest/recorder.js';
import { readProvisioned } from '../../firmware/provision/camera.js';
import { peekCertificate } from '../../firmware/signing/certificate.js';
import type { KeyStoreConstructor } from '../../firmware/platform/keystore.js';
import type { Scenario } from './format.js';

export const SIM_DEVICE = 'CAM-SIM-0001';
/** The file that marks an output folder as the simulator's own: only such a folder's evidence/ is replaced. */
export const SIM_MARK = '.bodycam-sim';
export const SIM_AGENCY = 'Simulated Constabulary';
/**
 * The simulated agency's evidence key file (out/evidence-key.secret) is sealed with this passphrase
 * (at a low scrypt cost): the key comes from the seed, like the simulated root, so it protects
 * nothing; the file is there for `bodycam export --evidence-key` on the simulated evidence.
 */
export const SIM_EVIDENCE_PASSPHRASE = 'simulated evidence passphrase';
export const SIM_EVIDENCE_KEY_FILE = 'evidence-key.secret';
const UTC_START = Date.UTC(2026, 10, 25, 6, 0, 0);
const SHORT_PRESS_MS = 200;
const LONG_PRESS_MS = 2000;

export interface RunOptions {
  engine: EngineName;
  seed: number | string;
  /** Output directory: evidence/, report.json, summary.txt, export.avi. */
  out: string;
  /** Write a playable AVI of the uploaded footage (default true). */
  export?: boolean;
  /** The mcu engine's options (heap ceiling, watchdog, device output). */
  mcu?: McuEngineOptions;
  /** The moddable engine's options (the board whose preload and creation it runs in). */
  moddable?: ModdableEngineOptions;
  /** Called now and then with how far the shift is. */
  onProgress?: (p: Progress) => void;
}

/**
 * Practice docking (practiceShift): the camera is the one `bodycam provision camera --sim DIR`
 * provisioned — its identity, certificate and settings in DIR's key store files, which it keeps —
 * and it docks at a running dock station (`bodycam dock`) at `dock`, not at the simulator's own.
 */
export interface PracticeOptions extends Omit<RunOptions, 'export'> {
  cameraDir: string;
  dock: { address: string; port: number };
}

/** What a practice docking did, from the camera's side (the dock's own store is the dock's to verify). */
export interface PracticeReport {
  scenario: string;
  engine: EngineName;
  device: string;
  dock: string;
  ok: boolean;
  virtualSeconds: number;
  wallSeconds: number;
  framesCommitted: number;
  boots: number;
  powerCuts: number;
  sessions: { attempts: number; completed: number; failed: number };
  /** Segments still on the camera after docking: the dock did not receipt them. */
  notUploaded: number;
}

export interface Progress {
  elapsedMs: number;
  durationMs: number;
  phase: 'shift' | 'docking' | 'verifying' | 'done';
  state: string;
  boot: number;
}

export interface ScenarioReport {
  scenario: string;
  description: string;
  engine: EngineName;
  seed: string;
  ok: boolean;
  virtualSeconds: number;
  wallSeconds: number;
  simulatedSecondsPerWallSecond: number;
  footage: { recordings: number; segments: number; frames: number; seconds: number; bytes: number; preEventSegments: number; recoveredSegments: number };
  /** atCuts: frames a power cut tore in flight (the camera's signed ledger counts them, and the recovered manifest). */
  dropped: { total: number; sensor: number; storage: number; atCuts: number; inEvidence: number; powerCutGapMs: number };
  /** The camera's store when it was docked (before upload freed it): an SD card's evidence partition or NOR flash. */
  storage: { medium: 'sd-card' | 'nor-flash'; bytes: number; usedAtDock: number; freeAtDock: number; destroyedAtCuts: number };
  powerCuts: { planned: number; happened: number; survived: number; resumedRecording: number; wereRecording: number; torn: number };
  states: Record<string, number>;
  upload: { attempts: number; completed: number; failed: number; segmentsStored: number; segmentsVerified: number; notUploaded: number; rejected: number };
  verify: { valid: boolean; findings: string[]; ledger: { valid: boolean; entries: number; findings: string[]; events: Record<string, number> } };
  lost: { frames: number; segments: number; details: string[] };
  /** computeUnits: every unit the machine metered; bridgeUnits: of those, marshalling across the bridge (native port calls on a device). */
  xs?: { firmwareUnits: number; unitsPerVirtualSecond: number; computeUnits: number; bridgeUnits: number };
  mcu?: McuReport;
  moddable?: ModdableReport;
  evidence: string;
  evidenceSha256: string;
  export?: { video: string[]; sidecar: string[]; frames: number; clockOffsetMs: number | null; findings: string[] };
}

/** The mcu engine's figures for the whole run, over every boot of the camera. */
export interface McuReport {
  /** Cortex-M7 instructions the firmware executed (bridge marshalling excluded). */
  firmwareInstructions: number;
  firmwareInstructionsPerVirtualSecond: number;
  /** All instructions of every request, bridge included. */
  instructions: number;
  /** Most device heap at once in any request (bytes), bundle parsing at boot excluded. */
  heapPeak: number;
  /** The ceiling the heap was held to (bytes) and what the loaded firmware held before it ran. */
  heapCeiling: number;
  heapLoaded: number;
  /** Of the loaded heap, bytecode (in flash on a device build). */
  bytecode: number;
  /** heapPeak − heapLoaded: the heap the shift needed beyond the loaded firmware (XS first fills the free room its parser left). */
  runtimeHeapPeak: number;
  boots: number;
  /** Instructions to boot XS and load the bundle, once (the same at every boot). */
  bootInstructions: number;
}

/** The moddable engine's heap over the whole run (every boot), in the board's own machine. */
export interface ModdableReport {
  board: string;
  /** The creation's chunk heap (bytes) and slot heap (slots). */
  chunksMax: number;
  slotsMax: number;
  /** Once the firmware was loaded (after a collection). */
  loadedChunks: number;
  loadedSlots: number;
  /** Most live at the end of any request (after a collection). */
  liveChunks: number;
  liveSlots: number;
  /** Most in use at once, garbage included (XS collects when the heap is full, so this may reach the maximum without harm). */
  peakChunks: number;
  peakSlots: number;
  boots: number;
  /** Where the live chunk bytes were when the most were live. */
  liveSplit?: { strings: number; arrays: number; buffers: number; other: number };
}

/** A Map from CBOR (or an object) as a plain object, recursively. */
export function plain<T>(v: CborValue | unknown): T {
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), plain(x)])) as T;
  if (Array.isArray(v)) return v.map((x) => plain(x)) as T;
  return v as T;
}

/** The power rail: once the power is cut, nothing the firmware does reaches the hardware. */
class PowerRail {
  on = true;
  check(): void {
    if (!this.on) throw new BodycamError('E_POWER_CUT', 'no power (simulated cut)');
  }
  wrap(p: Platform): Platform {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const rail = this;
    const BaseKeys = p.KeyStore;
    const BaseLed = p.Led;
    const BaseHaptic = p.Haptic;
    class RailKeyStore implements KeyStore {
      #k: KeyStore;
      constructor(o: KeyStoreOptions) {
        this.#k = new BaseKeys(o);
      }
      get(key: string): ArrayBuffer | undefined {
        rail.check();
        return this.#k.get(key);
      }
      set(key: string, value: ArrayBuffer | Uint8Array): void {
        rail.check();
        this.#k.set(key, value);
      }
      delete(key: string): void {
        rail.check();
        this.#k.delete(key);
      }
      close(): void {
        this.#k.close();
      }
    }
    const indicator = (Base: new (o: LedOptions) => Led) =>
      class RailIndicator implements Led {
        #l: Led;
        constructor(o: LedOptions) {
          this.#l = new Base(o);
        }
        write(v: number): void {
          if (rail.on) this.#l.write(v);
        }
        close(): void {
          this.#l.close();
        }
      };
    return { ...p, KeyStore: RailKeyStore, Led: indicator(BaseLed), Haptic: indicator(BaseHaptic) };
  }
}

/** Wakes the docking loop when the link has news. */
class Activity {
  #wake: (() => void) | undefined;
  onActivity(): void {
    this.#wake?.();
  }
  wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}

function seedBytes(label: string, seed: number | string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`bodycam-sim-${label}:${seed}`).digest());
}

type Event =
  | { atMs: number; kind: 'button'; down: boolean }
  | { atMs: number; kind: 'cut' }
  | { atMs: number; kind: 'hiccup'; frames: number };

/** The scenario's timeline: gestures as button edges, cuts (fixed and seeded random), hiccups. */
export function timeline(sc: Scenario, seed: number | string): { events: Event[]; cuts: number } {
  const events: Event[] = [];
  for (const p of sc.presses) {
    events.push({ atMs: p.atMs, kind: 'button', down: true });
    events.push({ atMs: p.atMs + (p.gesture === 'long' ? LONG_PRESS_MS + 500 : SHORT_PRESS_MS), kind: 'button', down: false });
  }
  const cuts = [...sc.powerCuts.atMs];
  if (sc.powerCuts.random) {
    const r = new SeededRandom(`cuts:${seed}`);
    const { count, fromMs, toMs } = sc.powerCuts.random;
    const b = new Uint8Array(4);
    for (let i = 0; i < count; i++) {
      r.fill(b);
      cuts.push(fromMs + Math.floor((new DataView(b.buffer).getUint32(0) / 2 ** 32) * (toMs - fromMs)));
    }
  }
  for (const at of cuts) events.push({ atMs: at, kind: 'cut' });
  for (const h of sc.sensor.hiccups) events.push({ atMs: h.atMs, kind: 'hiccup', frames: h.frames });
  // Stable: same-time events keep their order (presses, then cuts, then hiccups).
  events.sort((a, b) => a.atMs - b.atMs);
  return { events, cuts: cuts.length };
}

const PRACTICE_CLOCK = 'clock.json';

/** Where the practice camera's clock stopped (UTC ms), or 0. */
function practiceClock(dir: string): number {
  try {
    const utc = (JSON.parse(readFileSync(join(dir, PRACTICE_CLOCK), 'utf8')) as { utc?: unknown }).utc;
    return typeof utc === 'number' && Number.isFinite(utc) ? utc : 0;
  } catch {
    return 0;
  }
}

/** The practice camera's flash in a file (gzip), sparse: each block that is not erased, as its number (u32 LE) and bytes. */
function saveFlash(flash: SimFlash, file: string): void {
  const parts: Uint8Array[] = [];
  for (let b = 0; b < flash.blocks; b++) {
    const bytes = flash.peek(b * flash.blockLength, flash.blockLength);
    if (bytes.every((x) => x === 0xff)) continue;
    const n = new Uint8Array(4);
    new DataView(n.buffer).setUint32(0, b, true);
    parts.push(n, bytes);
  }
  writeFileSync(file, gzipSync(Buffer.concat(parts)));
}

function loadFlash(flash: SimFlash, file: string): void {
  let data: Uint8Array;
  try {
    data = new Uint8Array(gunzipSync(readFileSync(file)));
  } catch {
    throw new BodycamError('E_CAMERA_STORAGE', `${file} is not a practice camera's storage; provision a new practice camera`);
  }
  const step = 4 + flash.blockLength;
  if (data.length % step) throw new BodycamError('E_CAMERA_STORAGE', `${file} is not a practice camera's storage (its length is not whole blocks); provision a new practice camera`);
  for (let at = 0; at < data.length; at += step) {
    const b = new DataView(data.buffer, data.byteOffset + at, 4).getUint32(0, true);
    if (b >= flash.blocks) throw new BodycamError('E_CAMERA_STORAGE', `${file} names block ${b} of a ${flash.blocks}-block flash; provision a new practice camera`);
    flash.poke(b * flash.blockLength, data.subarray(at + 4, at + step));
  }
}

/** The practice camera's key store: its files in `dir`; the recorder's partition is the one provisioning wrote (a camera has one). */
function practiceKeyStore(dir: string): KeyStoreConstructor {
  const files = new FileKeyStores(dir, { nvsNames: true });
  return class PracticeKeyStore {
    constructor(o: KeyStoreOptions) {
      return files.open({ ...o, path: o.path === RECORDER_KEYS_PATH ? PROVISION_KEYSTORE : o.path });
    }
  } as unknown as KeyStoreConstructor;
}

/**
 * Makes `dir` the simulator's output folder, or refuses: a run replaces its evidence/, so the
 * folder must be new, empty, or one a run made (marked with SIM_MARK) whose evidence holds only
 * the simulated camera. Anything else — a dock store, a copy of one, someone's files — is left
 * untouched (E_OUT_EXISTS, E_OUT_NOT_FOLDER).
 */
export function claimOutDir(dir: string): void {
  let entries: string[];
  try {
    if (!lstatSync(dir).isDirectory()) throw new BodycamError('E_OUT_NOT_FOLDER', `--out ${dir} is a file, not a folder; nothing was changed. Give a new or empty folder`);
    entries = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    mkdirSync(dir, { recursive: true });
    entries = [];
  }
  if (entries.length && !entries.includes(SIM_MARK)) {
    throw new BodycamError('E_OUT_EXISTS', `--out ${dir} already holds files bodycam sim did not make (${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', …' : ''}); a run replaces the evidence/ folder in it, so nothing was changed. Give a new or empty folder`);
  }
  let devices: string[] = [];
  try {
    devices = readdirSync(join(dir, 'evidence', 'devices'));
  } catch {
    // No evidence yet, or not a store: nothing of anyone's to lose.
  }
  const others = devices.filter((d) => d !== SIM_DEVICE);
  if (others.length) {
    throw new BodycamError('E_OUT_EXISTS', `--out ${dir}/evidence holds evidence of cameras the simulator did not make (${others.slice(0, 3).join(', ')}); nothing was changed. Give a new or empty folder`);
  }
  writeFileSync(join(dir, SIM_MARK), 'made by bodycam sim: each run replaces evidence/, report.json, summary.txt, root.pub, evidence-key.secret and export.avi here\n');
}

export async function runScenario(sc: Scenario, o: RunOptions): Promise<ScenarioReport> {
  return (await runShift(sc, o, undefined)) as ScenarioReport;
}

/** A simulated shift by the provisioned practice camera, docked at a running dock station (PracticeOptions). */
export async function practiceShift(sc: Scenario, o: PracticeOptions): Promise<PracticeReport> {
  const store = new FileKeyStores(o.cameraDir, { nvsNames: true }).open({ path: PROVISION_KEYSTORE });
  let device: string;
  try {
    const held = readProvisioned(store);
    if (!held.certificate || !held.rootKey) throw new BodycamError('E_NOT_PROVISIONED', `${o.cameraDir} holds no provisioned camera: make one with \`bodycam provision camera --root AGENCY --device ID --officer NAME --sim ${o.cameraDir}\``);
    device = peekCertificate(held.certificate).id;
  } finally {
    store.close();
  }
  return (await runShift(sc, { ...o, export: false }, { ...o, device })) as PracticeReport;
}

async function runShift(sc: Scenario, o: RunOptions, practice: (PracticeOptions & { device: string }) | undefined): Promise<ScenarioReport | PracticeReport> {
  const wall0 = Date.now();
  const seed = String(o.seed);
  claimOutDir(o.out);
  const evidenceDir = join(o.out, 'evidence');
  rmSync(evidenceDir, { recursive: true, force: true });

  // The agency, its dock and the camera's certificate: deterministic from the seed.
  const ed = hostEd25519();
  const root = new KeyPairSigner({ seed: seedBytes('root', seed), digest: nodeDigest, ed25519: ed });
  const dockSigner = new KeyPairSigner({ seed: seedBytes('dock', seed), digest: nodeDigest, ed25519: ed });
  const cert = (id: string, kind: 'dock' | 'device', publicKey: Uint8Array) =>
    issueCertificate({ agency: SIM_AGENCY, serial: 1, id, kind, publicKey, notBefore: Date.UTC(2026, 0, 1), notAfter: Date.UTC(2030, 0, 1) }, root);
  const dockIdentity = { id: 'DOCK-SIM-1', signer: dockSigner, certificate: cert('DOCK-SIM-1', 'dock', dockSigner.publicKey), rootKey: root.publicKey };
  // The agency's evidence key (X25519): the camera seals what it records to its public half.
  const evidenceSecret = seedBytes('evidence', seed);
  const evidenceKey = { ...evidenceKeyPair(evidenceSecret), secret: evidenceSecret };

  // Hardware.
  // A practice camera meets a real dock, whose certificate is valid from today: it runs on today's
  // time — or later, where its last shift left its clock (virtual time runs ahead of real time, and
  // a camera's clock never goes back between segments).
  const utcStart = practice ? Math.max(Date.now(), practiceClock(practice.cameraDir) + 1000) : UTC_START;
  const hw = new SimHardware({ seed, utcStart });
  // An SD card (sim-sd.ts: sectors, no erase, cuts that destroy an internal page) or NOR flash.
  if (sc.storage.card && practice) throw new BodycamError('E_SCENARIO', `scenario ${sc.name} keeps evidence on an SD card; a practice camera keeps NOR flash: practise with another scenario`);
  const nor = sc.storage.card ? undefined : attachFlash(hw, new SimFlash({ blockLength: sc.storage.blockLength, blocks: sc.storage.blocks, seed }));
  // The card's written pages live in a temporary file: a 12-hour shift writes tens of GB.
  const card = sc.storage.card ? new SimSd({ bytes: sc.storage.blocks * sc.storage.blockLength, seed, file: join(tmpdir(), `bodycam-sd-${process.pid}-${Date.now()}.img`) }) : undefined;
  if (card) hw.devices.Flash = card.portClass();
  const flash: SimFlash | SimSd = nor ?? card!;
  // The practice camera keeps its storage too (what it recorded and has not docked, its chain),
  // or its key store's chain head would be ahead of a fresh flash.
  const flashFile = practice ? join(practice.cameraDir, `flash-${sc.storage.blocks}x${sc.storage.blockLength}.bin`) : undefined;
  if (practice && flashFile) {
    const other = readdirSync(practice.cameraDir).find((f) => /^flash-\d+x\d+\.bin$/.test(f) && join(practice.cameraDir, f) !== flashFile);
    if (other) throw new BodycamError('E_CAMERA_STORAGE', `the practice camera in ${practice.cameraDir} has storage of another size (${other}) than scenario ${sc.name} (${sc.storage.blocks} blocks of ${sc.storage.blockLength} bytes); practise with a scenario of its size, or provision a new practice camera`);
    if (existsSync(flashFile)) loadFlash(nor!, flashFile);
  }
  const camera = attachCamera(hw, { source: synthetic(sc.sensor.frameBytes ? { frameBytes: sc.sensor.frameBytes } : {}), jitterMs: sc.sensor.jitterMs });
  if (sc.camera.audio) attachMicrophone(hw);
  const activity = new Activity();
  let linkAttempts = 0;
  hw.devices.Link = function ScenarioLink(options: LinkOptions) {
    return new TcpLink(options, { ...(sc.link.faults[linkAttempts++] ?? {}) }, activity);
  } as unknown as NonNullable<typeof hw.devices.Link>;
  const rail = new PowerRail();
  const platform = rail.wrap(practice ? { ...hw.platform(), KeyStore: practiceKeyStore(practice.cameraDir) } : hw.platform());

  let bootAt = 0;
  const elapsed = () => bootAt + hw.clock.monotonic();
  const station = practice ? undefined : new DockStation({ identity: dockIdentity, storeDir: evidenceDir, ed25519: ed, timeoutMs: 20_000, now: () => UTC_START + elapsed() });
  const dockAddress = practice ? practice.dock : { address: '127.0.0.1', port: (await station!.listen(0)).port };

  let docked = false;
  let atDock: RecorderStatus['storage'] | undefined;
  const batteryCurve = () => {
    const pts = sc.battery.map((b) => ({ at: b.atMs - bootAt, millivolts: b.millivolts, charging: false }));
    if (docked) {
      const t = hw.clock.monotonic();
      const now = hw.battery.read().millivolts;
      return [...pts.filter((p) => p.at < t), { at: t, millivolts: now, charging: true }, { at: t + 3_600_000, millivolts: 4150, charging: true }];
    }
    return pts;
  };

  let engine: Engine | undefined;
  let units = 0;
  let mcu: McuReport | undefined;
  let moddable: ModdableReport | undefined;
  const startCamera = async (): Promise<Engine> => {
    if (o.engine === 'moddable') {
      const m = await startModdableEngine(platform, o.moddable);
      const l = m.loaded;
      moddable ??= { board: m.board.name, chunksMax: l.chunksMax, slotsMax: l.slotsMax, loadedChunks: l.allocate, loadedSlots: l.currentHeapCount, liveChunks: 0, liveSlots: 0, peakChunks: 0, peakSlots: 0, boots: 0 };
      moddable.boots++;
      return m;
    }
    if (o.engine !== 'mcu') return startEngine(o.engine, platform);
    const m = await startMcuEngine(platform, o.mcu);
    const { bundle, loaded } = m.boot;
    mcu ??= { firmwareInstructions: 0, firmwareInstructionsPerVirtualSecond: 0, instructions: 0, heapPeak: 0, heapCeiling: 0, heapLoaded: loaded.heapInUse, bytecode: loaded.code, runtimeHeapPeak: 0, boots: 0, bootInstructions: m.boot.machine.instructions + bundle.instructions };
    mcu.boots++;
    mcu.heapCeiling = m.heapCeiling;
    return m;
  };
  const bridged = { compute: 0, bridge: 0 };
  /** The camera's engine stops (power cut, end of the run): keep the mcu engine's totals. */
  const stopCamera = async () => {
    const e = engine;
    engine = undefined;
    if (!e) return;
    if (mcu && e instanceof McuEngine) {
      const t = e.totals;
      mcu.instructions += t.instructions;
      mcu.heapPeak = Math.max(mcu.heapPeak, t.heapPeak);
      mcu.heapLoaded = Math.max(mcu.heapLoaded, e.boot.loaded.heapInUse);
    }
    if (e instanceof BridgedEngine) {
      bridged.compute += e.units.compute;
      bridged.bridge += e.units.bridge;
    }
    if (moddable && e instanceof ModdableEngine) {
      const p = e.peaks;
      if (p.liveChunks > moddable.liveChunks) moddable.liveSplit = p.liveSplit;
      moddable.liveChunks = Math.max(moddable.liveChunks, p.liveChunks);
      moddable.liveSlots = Math.max(moddable.liveSlots, p.liveSlots);
      moddable.peakChunks = Math.max(moddable.peakChunks, p.chunks);
      moddable.peakSlots = Math.max(moddable.peakSlots, p.slots);
    }
    await e.close();
  };
  const meter = (r: { meter?: { firmware: number } }) => {
    if (r.meter) units += r.meter.firmware;
  };
  const call = async (entry: string, ...args: CborValue[]) => {
    const r = await engine!.call(entry, ...args);
    meter(r);
    return r.value;
  };
  const pump = async () => {
    await engine!.pump();
    units += engine!.takeCallbackCompute();
  };
  const status = async () => plain<RecorderStatus>(await call('recorder.status'));

  const committed = new Map<number, number>();
  const finalStatuses: RecorderStatus[] = [];
  const states: Record<string, number> = {};
  let last: RecorderStatus | undefined;
  const sample = async () => {
    last = await status();
    committed.set(last.boot, last.evidenceFrames);
    states[last.state] = (states[last.state] ?? 0) + 1;
    return last;
  };

  const boot = async (first: boolean) => {
    engine = await startCamera();
    if (first && !practice) {
      const publicKey = (await call('recorder.identity')) as Uint8Array;
      const evidenceKeys = [{ keyId: evidenceKey.keyId, publicKey: evidenceKey.publicKey }];
      const config = signConfig({ ...DEFAULT_SETTINGS, agency: SIM_AGENCY, device: SIM_DEVICE, version: 1, issued: UTC_START, ...sc.camera, evidenceKeys }, root);
      await call('recorder.provision', root.publicKey, cert(SIM_DEVICE, 'device', publicKey), config);
    }
    hw.battery.curve = batteryCurve();
    last = plain<RecorderStatus>(await call('recorder.boot', { camera: { width: sc.camera.width, height: sc.camera.height, frameRate: sc.camera.frameRate }, sensor: 'SYNTHETIC', dock: dockAddress, settings: { longPressMs: LONG_PRESS_MS } }));
    await pump();
  };

  const cutsReport = { planned: 0, happened: 0, survived: 0, resumedRecording: 0, wereRecording: 0, torn: 0 };
  let powerCutGapMs = 0;
  let progressAt = 0;
  const progress = (phase: Progress['phase']) => {
    if (!o.onProgress) return;
    const now = Date.now();
    if (phase === 'shift' && now - progressAt < 200) return;
    progressAt = now;
    o.onProgress({ elapsedMs: Math.min(elapsed(), sc.durationMs), durationMs: sc.durationMs, phase, state: last?.state ?? 'off', boot: last?.boot ?? 0 });
  };

  /** Power cut now: the in-flight flash operation (if any) is torn, the engine dies, the camera reboots. */
  const powerCut = async (torn: boolean) => {
    const before = last!;
    rail.on = false;
    cutsReport.happened++;
    if (torn) cutsReport.torn++;
    finalStatuses.push(before);
    await stopCamera();
    hw.timer.reset();
    hw.clock.advanceTo(hw.clock.monotonic() + sc.rebootMs);
    const t = elapsed();
    hw.clock.reboot();
    bootAt = t;
    flash.reboot();
    rail.on = true;
    if (before.state === 'recording') {
      cutsReport.wereRecording++;
      powerCutGapMs += sc.rebootMs;
    }
    await boot(false);
    const after = await sample();
    const expected = before.state === 'recording' ? 'recording' : before.state === 'storage-full' ? 'storage-full' : before.state === 'off' ? 'off' : 'standby';
    if (after.state === expected || (expected === 'standby' && after.state === 'storage-full')) cutsReport.survived++;
    if (before.state === 'recording' && after.state === 'recording') cutsReport.resumedRecording++;
  };

  /** Advance virtual time to `target` (scenario ms), timer by timer; a pending cut fires on the next flash operation. */
  let cutArmedAt = -1;
  const advanceTo = async (target: number) => {
    for (;;) {
      if (cutArmedAt >= 0 && !flash.powered) {
        cutArmedAt = -1;
        await powerCut(true);
        continue;
      }
      if (cutArmedAt >= 0 && elapsed() >= cutArmedAt + 1000) {
        // Nothing wrote to flash for a second (docked, off): the power just goes.
        flash.cutAtOperation(0);
        cutArmedAt = -1;
        await powerCut(false);
        continue;
      }
      const next = hw.timer.nextAt();
      const limit = cutArmedAt >= 0 ? Math.min(target, cutArmedAt + 1000) : target;
      if (next === undefined || bootAt + next > limit) {
        hw.timer.runUntil(Math.max(hw.clock.monotonic(), limit - bootAt));
        await pump();
        if (cutArmedAt >= 0 && (elapsed() < target || !flash.powered)) continue;
        return;
      }
      hw.timer.runUntil(next);
      await pump();
      progress('shift');
    }
  };

  const { events, cuts } = timeline(sc, seed);
  cutsReport.planned = cuts;
  try {
    await boot(true);
    await sample();
    for (const ev of events) {
      if (ev.atMs >= sc.dock.atMs) break;
      await advanceTo(ev.atMs);
      if (ev.kind === 'button') hw.buttons.set('record', ev.down);
      else if (ev.kind === 'hiccup') camera.skip(ev.frames);
      else {
        // A cut still pending (nothing written since) happens first; this one follows the reboot.
        if (cutArmedAt >= 0) await advanceTo(cutArmedAt + 1000);
        await sample();
        flash.cutAfter(1);
        cutArmedAt = elapsed();
      }
      await pump();
      if (ev.kind === 'button') await sample();
    }
    await advanceTo(sc.dock.atMs);
    if (cutArmedAt >= 0) await advanceTo(elapsed() + 1000);
    await sample();

    // Docking: the camera sees it is charging, connects, uploads; virtual time stands still while a session runs.
    docked = true;
    atDock = last!.storage;
    if (last!.state === 'off') {
      finalStatuses.push(last!);
      await stopCamera();
      hw.timer.reset();
      const t = elapsed();
      hw.clock.reboot();
      bootAt = t;
      await boot(false);
    }
    hw.battery.curve = batteryCurve();
    // A hang guard, not a speed test: 15 minutes, and a second more for every 2 MiB awaiting upload
    // (a 12-hour shift on a card docks tens of GB, as a real dock would take an hour or more to).
    const allowedMs = 15 * 60_000 + Math.round((atDock?.awaitingUpload ?? 0) / 2097152) * 1000;
    const realDeadline = Date.now() + allowedMs;
    for (;;) {
      progress('docking');
      const st = await sample();
      if (st.session === 'active') {
        await activity.wait(50);
        await pump();
        if (Date.now() > realDeadline) throw new BodycamError('E_SIM_DOCK', `docking did not finish in ${Math.round(allowedMs / 60_000)} minutes of real time`);
        continue;
      }
      if (st.state === 'docked' && st.sessions.completed > 0) break;
      if (st.sessions.attempts > sc.link.faults.length + 5) break;
      const next = hw.timer.nextAt();
      if (next === undefined) break;
      hw.timer.runUntil(next);
      await pump();
    }
    await station?.idle();
    finalStatuses.push(await sample());
  } finally {
    await stopCamera();
    await station?.close();
    card?.close();
    if (practice && flashFile) {
      saveFlash(nor!, flashFile);
      writeFileSync(join(practice.cameraDir, PRACTICE_CLOCK), `${JSON.stringify({ utc: utcStart + elapsed() })}\n`);
    }
  }
  if (practice) {
    const fin = finalStatuses[finalStatuses.length - 1];
    const notUploaded = fin ? fin.storage.segmentsAwaitingUpload : 0;
    const sessions = { attempts: fin?.sessions.attempts ?? 0, completed: fin?.sessions.completed ?? 0, failed: fin?.sessions.failed ?? 0 };
    progress('done');
    return {
      scenario: sc.name,
      engine: o.engine,
      device: practice.device,
      dock: `${practice.dock.address}:${practice.dock.port}`,
      ok: notUploaded === 0 && sessions.completed > 0,
      virtualSeconds: Math.round(elapsed() / 1000),
      wallSeconds: Math.round((Date.now() - wall0) / 100) / 10,
      framesCommitted: [...committed.values()].reduce((a, b) => a + b, 0),
      boots: committed.size,
      powerCuts: cutsReport.happened,
      sessions,
      notUploaded,
    };
  }
  progress('verifying');

  // What the dock holds, verified with the firmware's verifier.
  // The root is pinned from outside the store (the simulator made it), and kept beside the evidence.
  writeFileSync(join(o.out, 'root.pub'), root.publicKey);
  if (!practice) {
    const sealed = sealEvidenceKey({ secret: evidenceKey.secret, passphrase: SIM_EVIDENCE_PASSPHRASE, agency: SIM_AGENCY, created: new Date(UTC_START).toISOString(), scryptN: 1 << 14 });
    writeDurable(join(o.out, SIM_EVIDENCE_KEY_FILE), JSON.stringify(sealed, null, 2) + '\n', { mode: 0o600 });
  }
  const trust = pinnedTrust(root.publicKey, join(o.out, 'root.pub'));
  const checked = verifyStore(evidenceDir, { trust, ed25519: ed });
  const { input, problems } = checked;
  const verdict = checked.evidence;
  const ledgers: LedgerReport[] = checked.ledgers;
  const ledger = ledgers.find((l) => l.device === SIM_DEVICE);
  const device = input.devices.find((d) => d.id === SIM_DEVICE);
  const deviceReport = verdict.devices.find((d) => d.device === SIM_DEVICE);
  const segments = device?.segments ?? [];
  const framesByBoot = new Map<number, number>();
  const recordings = new Set<number>();
  const footage = { recordings: 0, segments: segments.length, frames: 0, seconds: 0, bytes: 0, preEventSegments: 0, recoveredSegments: 0 };
  let inEvidence = 0;
  const evidenceHash = createHash('sha256');
  // The agency's evidence key, as an examiner holds it: a sealed segment a cut left unread is counted from its decrypted headers.
  const examiner: ExaminerKey | undefined = practice ? undefined : { ...evidenceKey, file: join(o.out, SIM_EVIDENCE_KEY_FILE), form: 'sealed' };
  for (const s of segments) {
    const m = peekManifest(s.manifest).manifest;
    let frames = m.frames;
    if (m.flags & FLAG_UNREAD && examiner && s.seq !== undefined) {
      try {
        const media = new Uint8Array(readFileSync(join(evidenceDir, 'devices', SIM_DEVICE, 'segments', `${segmentStem(s.seq)}.media`)));
        frames = parseSegmentMedia(openSealedSegment(media, m, examiner).media).frames.length;
      } catch {
        // what does not open counts nothing (and the export refuses it)
      }
    }
    framesByBoot.set(m.boot, (framesByBoot.get(m.boot) ?? 0) + frames);
    recordings.add(m.recording);
    footage.frames += frames;
    footage.bytes += m.bytes;
    footage.seconds += frames / sc.camera.frameRate;
    if (m.flags & FLAG_PRE_EVENT) footage.preEventSegments++;
    if (m.flags & FLAG_RECOVERED) footage.recoveredSegments++;
    inEvidence += m.dropped;
    evidenceHash.update(s.manifest);
    if (s.mediaDigest) evidenceHash.update(s.mediaDigest);
  }
  for (const e of ledger?.entries ?? []) evidenceHash.update(e.cose);
  footage.recordings = recordings.size;
  footage.seconds = Math.round(footage.seconds * 10) / 10;

  const lostDetails: string[] = [];
  let lostFrames = 0;
  // A card may destroy the unit around the write a cut interrupts, acknowledged frames included;
  // the next boot's segment-recovered entry (and the manifest) counts them with the frame in flight.
  let destroyedAtCuts = 0;
  const countedAtBoot = (b: number) => (ledger?.entries ?? []).reduce((n, e) => {
    const k = e.boot === b && e.event === 'segment-recovered' ? e.detail.get('lostAtCut') : undefined;
    return n + (typeof k === 'number' ? k : 0);
  }, 0);
  for (const [b, n] of [...committed].sort((x, y) => x[0] - y[0])) {
    const got = framesByBoot.get(b) ?? 0;
    if (card && got < n && n - got <= countedAtBoot(b + 1)) {
      destroyedAtCuts += n - got;
      continue;
    }
    if (got < n) {
      lostFrames += n - got;
      lostDetails.push(`boot ${b}: the camera committed ${n} frames to evidence, the dock holds ${got}`);
    }
  }
  const fin = finalStatuses[finalStatuses.length - 1];
  const notUploaded = fin ? fin.storage.segmentsAwaitingUpload : 0;
  if (notUploaded) lostDetails.push(`${notUploaded} segments still on the camera after docking`);
  const seqs = segments.map((s) => s.seq as number);
  let lostSegments = 0;
  for (let i = 1; i < seqs.length; i++) if (seqs[i] !== seqs[i - 1] + 1) {
    lostSegments += seqs[i] - seqs[i - 1] - 1;
    lostDetails.push(`segments ${seqs[i - 1] + 1}..${seqs[i] - 1} are missing from the evidence`);
  }
  if (seqs.length && seqs[0] !== 0) {
    lostSegments += seqs[0];
    lostDetails.push(`segments 0..${seqs[0] - 1} are missing from the evidence`);
  }
  const findings = [
    ...verdict.reasons.map((f) => `${f.code}: ${f.message}`),
    ...problems.map((p) => `layout: ${p.path}: ${p.message}`),
    ...(deviceReport?.reasons ?? []).map((f) => `${f.code}: ${f.message}`),
    ...(deviceReport?.segments ?? []).flatMap((s) => s.reasons.map((f) => `segment ${s.seq ?? '?'}: ${f.code}: ${f.message}`)),
    ...checked.completeness.flatMap((c) => c.findings.map((f) => `${f.code}: ${f.message}`)),
    ...checked.custody.findings.map((f) => `${f.code}: ${f.message}`),
  ];
  const verifiedSegments = (deviceReport?.segments ?? []).filter((s) => s.valid).length;
  const ledgerEvents: Record<string, number> = {};
  let atCuts = 0;
  for (const e of ledger?.entries ?? []) {
    ledgerEvents[e.event] = (ledgerEvents[e.event] ?? 0) + 1;
    const n = e.event === 'segment-recovered' ? e.detail.get('lostAtCut') : undefined;
    if (typeof n === 'number') atCuts += n;
  }
  const ledgerOk = !!ledger && ledger.valid;
  const sum = (k: 'missed' | 'lost') => finalStatuses.reduce((n, s) => n + (s[k] ?? 0), 0);
  const rejected = station!.results.reduce((n, r) => n + r.rejected.length, 0);

  const report: ScenarioReport = {
    scenario: sc.name,
    description: sc.description,
    engine: o.engine,
    seed,
    ok: false,
    virtualSeconds: Math.round(elapsed() / 1000),
    wallSeconds: 0,
    simulatedSecondsPerWallSecond: 0,
    footage,
    storage: { medium: card ? 'sd-card' : 'nor-flash', bytes: atDock?.total ?? 0, usedAtDock: atDock ? atDock.total - atDock.free : 0, freeAtDock: atDock?.free ?? 0, destroyedAtCuts },
    dropped: { total: sum('missed') + sum('lost') + atCuts, sensor: sum('missed'), storage: sum('lost'), atCuts, inEvidence, powerCutGapMs },
    powerCuts: cutsReport,
    states,
    upload: { attempts: fin?.sessions.attempts ?? 0, completed: fin?.sessions.completed ?? 0, failed: fin?.sessions.failed ?? 0, segmentsStored: segments.length, segmentsVerified: verifiedSegments, notUploaded, rejected },
    verify: {
      // The whole answer: segments, layout, ledgers, the ledger against the segments, the custody log.
      valid: checked.valid,
      findings,
      ledger: { valid: ledgerOk, entries: ledger?.entries.length ?? 0, findings: ledger ? ledger.findings.map((f) => `${f.code}: ${f.message}`) : ['no ledger was uploaded'], events: ledgerEvents },
    },
    lost: { frames: lostFrames, segments: lostSegments, details: lostDetails },
    xs: o.engine === 'xs' ? { firmwareUnits: units, unitsPerVirtualSecond: Math.round(units / Math.max(1, elapsed() / 1000)), computeUnits: bridged.compute, bridgeUnits: bridged.bridge } : undefined,
    mcu: mcu ? { ...mcu, firmwareInstructions: units, firmwareInstructionsPerVirtualSecond: Math.round(units / Math.max(1, elapsed() / 1000)), runtimeHeapPeak: Math.max(0, mcu.heapPeak - mcu.heapLoaded) } : undefined,
    moddable,
    evidence: evidenceDir,
    evidenceSha256: evidenceHash.digest('hex'),
  };
  report.ok = lostFrames === 0 && lostSegments === 0 && notUploaded === 0 && rejected === 0 && report.verify.valid && ledgerOk && verifiedSegments === segments.length;

  if (o.export !== false && segments.length > 0) {
    // The same export `bodycam export --store` makes: verified segments, the signed clock offset.
    // Sealed evidence needs the agency's evidence key: a practice camera's is not the simulator's, so its export is left out.
    const sealedWithoutKey = !examiner && segments.some((x) => peekManifest(x.manifest).manifest.sealed);
    const plan = sealedWithoutKey ? undefined : planStoreExport(evidenceDir, SIM_DEVICE, 0, Number.MAX_SAFE_INTEGER, { trust, ed25519: ed, verified: checked, evidenceKey: examiner, examiner: 'bodycam sim' });
    if (plan && plan.blocked.length === 0) {
      const exp = planAviExport(plan.mediaBytes, { clockOffsetMs: plan.clockOffsetMs, segmentSeqs: plan.seqs });
      const written = writeAviExport(exp, join(o.out, 'export.avi'));
      report.export = { video: written.videos, sidecar: written.sidecars, frames: exp.parts.reduce((n, p) => n + p.frames.length, 0), clockOffsetMs: plan.clockOffsetMs, findings: plan.findings.map((f) => `${f.scope}: ${f.code}: ${f.message}`) };
    }
  }
  report.wallSeconds = Math.round((Date.now() - wall0) / 100) / 10;
  // Two significant digits: an mcu run is slower than real time (0.83x, not 0x).
  report.simulatedSecondsPerWallSecond = Number((elapsed() / Math.max(1, Date.now() - wall0)).toPrecision(2));
  progress('done');
  return report;
}
