// A camera running the real firmware (firmware/main.ts via the recorder.* entries) on either
// engine, over simulated hardware: flash, camera, button, battery, LED and haptic — for the
// recorder's state-machine tests. Time is virtual: run(ms) fires every timer on the way and
// delivers the callbacks it queued.

import type { CborValue } from '../../firmware/codec/cbor.js';
import { decodeFrameHeader, parseMedia, parseSegmentMedia } from '../../firmware/encoder/frame-record.js';
import { openSealedSegment, type ExaminerKey } from '../../evidence/sealed.js';
import { isAudioRecord } from '../../firmware/encoder/audio-record.js';
import { DEFAULT_SETTINGS, signConfig } from '../../firmware/provision/config.js';
import type { RecorderStatus } from '../../firmware/recorder/recorder.js';
import { peekManifest, type Manifest } from '../../firmware/signing/manifest.js';
import { SegmentStore } from '../../firmware/storage/index.js';
import { startEngine, type Engine, type EngineName } from '../../host-sim/engine.js';
import { SimFlash, attachFlash } from '../../host-sim/flash/sim-flash.js';
import { RECORDER_KEYS_PATH } from '../../host-sim/guest/recorder.js';
import { MCU_DEVICE_TIMING, nodeChecksum, runDeviceTime, runVirtualTime, SimHardware, XS_DEVICE_TIMING, type BusySpan } from '../../host-sim/node/hardware.js';
import { TcpLink } from '../../host-sim/link/tcp-link.js';
import type { LinkOptions } from '../../firmware/platform/link.js';
import type { Platform } from '../../firmware/platform/platform.js';
import { plain } from '../../host-sim/scenario/runner.js';
import { attachCamera, synthetic, type SimCameraControl, type SimCameraOptions } from '../../host-sim/sensor/sim-camera.js';
import { attachMicrophone, type SimMicrophoneControl, type SimMicrophoneOptions } from '../../host-sim/sensor/sim-microphone.js';
import { certificate, root, AGENCY } from './dock.js';

export const DEVICE = 'CAM-REC-1';
export const LONG_MS = 2000;

export interface CameraOptions {
  engine: EngineName;
  /** Recording settings put in the signed configuration. */
  segmentSeconds?: number;
  preEventSeconds?: number;
  frameRate?: number;
  /** Flash size in blocks of 4 KiB (default 2048: 8 MiB). */
  blocks?: number;
  millivolts?: number;
  camera?: SimCameraOptions;
  dockPort?: number;
  /** Skip provisioning (an unprovisioned camera). */
  unprovisioned?: boolean;
  /** The agency's signed revocation list to provision the camera with. */
  revocations?: Uint8Array;
  /** A one-colour status LED (as the XIAO's), instead of an RGB one. */
  monoLed?: boolean;
  /** Attach the simulated microphone (and turn sound on in the signed configuration). */
  microphone?: SimMicrophoneOptions;
  /** Pre-event sound in the signed configuration (with a microphone). */
  preEventAudio?: boolean;
  /** Sound in the signed configuration (default: on with a microphone, off without). */
  audio?: boolean;
  /** The board's camera as firmware/main.ts gets it (default: the configuration's size and rate, no modes). */
  board?: { width: number; height: number; frameRate: number; modes?: [number, number, number][] };
  /** JPEG quality in the signed configuration (default 12). */
  quality?: number;
  /** Picture size in the signed configuration (default QVGA). */
  width?: number;
  height?: number;
  /** Recorder settings under the signed configuration (e.g. audioCodec). */
  settings?: Record<string, CborValue>;
  /** The agency's evidence keys in the signed configuration: the camera seals what it records to them. */
  evidenceKeys?: { keyId: Uint8Array; publicKey: Uint8Array }[];
  /** Change the platform the engine gets (e.g. watch its Cipher port); at every boot. */
  platform?: (p: Platform) => Platform;
}

export interface StoredSegment {
  seq: number;
  state: string;
  manifest: Manifest;
  frameNumbers: number[];
  flags: number[];
  /** Each frame's monotonic ms and the drops charged to it. */
  monotonic: number[];
  droppedBefore: number[];
}

export class TestCamera {
  engine!: Engine;
  readonly hw: SimHardware;
  readonly flash: SimFlash;
  readonly cam: SimCameraControl;
  mic: SimMicrophoneControl | undefined;
  readonly o: CameraOptions;
  #bootAt = 0;

  constructor(o: CameraOptions) {
    this.o = o;
    this.hw = new SimHardware({ seed: 'recorder-test' });
    if (o.monoLed) this.hw.rgbLed = false;
    this.flash = attachFlash(this.hw, new SimFlash({ blockLength: 4096, blocks: o.blocks ?? 2048 }));
    this.cam = attachCamera(this.hw, { source: synthetic(), ...o.camera });
    if (o.microphone) this.mic = attachMicrophone(this.hw, o.microphone);
    this.hw.devices.Link = function TestLink(options: LinkOptions) {
      return new TcpLink(options);
    } as unknown as NonNullable<SimHardware['devices']['Link']>;
    this.battery(o.millivolts ?? 4100, false);
  }

  static async start(o: CameraOptions): Promise<TestCamera> {
    const c = new TestCamera(o);
    c.engine = await startEngine(o.engine, c.platform());
    if (!o.unprovisioned) {
      const publicKey = (await c.engine.call('recorder.identity')).value as Uint8Array;
      // Sound only with a microphone attached (o.microphone); the firmware's default is on.
      const config = signConfig({
        ...DEFAULT_SETTINGS, agency: AGENCY, device: DEVICE, version: 1, issued: 0, width: o.width ?? 320, height: o.height ?? 240, frameRate: o.frameRate ?? 5, segmentSeconds: o.segmentSeconds ?? 30, preEventSeconds: o.preEventSeconds ?? 10,
        audio: o.audio ?? o.microphone !== undefined, preEventAudio: o.preEventAudio ?? false, quality: o.quality ?? DEFAULT_SETTINGS.quality,
        ...(o.evidenceKeys ? { evidenceKeys: o.evidenceKeys } : {}),
      }, root);
      await c.engine.call('recorder.provision', root.publicKey, certificate({ id: DEVICE, kind: 'device', publicKey }), config, o.revocations ?? null);
    }
    await c.boot();
    return c;
  }

  platform(): Platform {
    const p = this.hw.platform();
    return this.o.platform ? this.o.platform(p) : p;
  }

  async boot(): Promise<RecorderStatus> {
    const v = (await this.engine.call('recorder.boot', { camera: this.o.board ?? { width: this.o.width ?? 320, height: this.o.height ?? 240, frameRate: this.o.frameRate ?? 5 }, dock: this.o.dockPort ? { port: this.o.dockPort } : null, settings: { longPressMs: LONG_MS, ...this.o.settings } } as CborValue)).value;
    await this.engine.pump();
    return plain<RecorderStatus>(v);
  }

  /** Battery at `millivolts` from now on (charging or not). */
  battery(millivolts: number, charging: boolean): void {
    this.hw.battery.curve = [{ at: 0, millivolts, charging }];
  }

  async status(): Promise<RecorderStatus> {
    return plain<RecorderStatus>((await this.engine.call('recorder.status')).value);
  }

  /** Run virtual time forward `ms`, timer by timer. */
  async run(ms: number): Promise<void> {
    await runVirtualTime(this.hw, this.engine, this.hw.clock.monotonic() + ms);
  }

  /**
   * Run `ms` on device timing (runDeviceTime): each callback's measured work keeps the core busy
   * while the camera goes on capturing. xs and mcu have a meter; node costs nothing.
   */
  async runDevice(ms: number, busy?: BusySpan[]): Promise<void> {
    await runDeviceTime(this.hw, this.engine, this.hw.clock.monotonic() + ms, this.o.engine === 'mcu' ? MCU_DEVICE_TIMING : XS_DEVICE_TIMING, busy);
  }

  async button(down: boolean): Promise<void> {
    this.hw.buttons.set('record', down);
    await this.engine.pump();
  }

  /** A short press (down, 200 ms, up). */
  async press(): Promise<void> {
    await this.button(true);
    await this.run(200);
    await this.button(false);
  }

  /** A deliberate long press (held past the long-press time). */
  async longPress(): Promise<void> {
    await this.button(true);
    await this.run(LONG_MS + 300);
    await this.button(false);
  }

  /** Cut the power at the next flash operation (within a frame), then boot again after `offMs`. */
  async powerCut(offMs = 2000): Promise<RecorderStatus> {
    this.flash.cutAfter(1);
    for (let i = 0; i < 1000 && this.flash.powered; i++) await this.run(10);
    return this.powerCutNow(offMs);
  }

  /** Cut the power now, between two flash operations, then boot again after `offMs`. */
  async powerCutNow(offMs = 2000): Promise<RecorderStatus> {
    await this.engine.close();
    this.hw.timer.reset();
    this.hw.clock.advanceTo(this.hw.clock.monotonic() + offMs);
    this.#bootAt += this.hw.clock.monotonic();
    this.hw.clock.reboot();
    this.flash.reboot();
    this.engine = await startEngine(this.o.engine, this.platform());
    return this.boot();
  }

  /** LED writes (colours) and haptic pulses, in order. */
  led(): number[] {
    return this.hw.indicators.writes.filter((w) => w.pin === 'status').map((w) => w.value);
  }
  haptic(): number[] {
    return this.hw.indicators.writes.filter((w) => w.pin === 'haptic').map((w) => w.value);
  }

  keys(): Map<string, Uint8Array> {
    return this.hw.keyStores.partitions.get(RECORDER_KEYS_PATH)!;
  }

  /** Ledger entries held on the camera, by index. */
  ledgerEntries(): Uint8Array[] {
    const k = this.keys();
    return [...k.entries()].filter(([n]) => /^lg\.\d+$/.test(n)).sort((a, b) => Number(a[0].slice(3)) - Number(b[0].slice(3))).map(([, v]) => v);
  }

  /**
   * The store's segments as they are on flash now (read from a copy; the camera keeps running).
   * A sealed segment's frames are read with `key` (the agency's evidence key): without it, only its manifest.
   */
  segments(key?: ExaminerKey): StoredSegment[] {
    const copy = this.flash.clone();
    const store = SegmentStore.mount({ flash: new (copy.portClass())({ path: 'x' }), checksum: nodeChecksum });
    const out: StoredSegment[] = [];
    for (const s of store.segments()) {
      if (s.state === 'released' || s.state === 'open') continue;
      const manifestBytes = s.trailer ?? this.keys().get(`rm.${s.sequence}`);
      if (!manifestBytes) continue;
      const manifest = peekManifest(manifestBytes).manifest;
      const frames = manifest.sealed
        ? key ? parseSegmentMedia(openSealedSegment(store.readMedia(s.id, 0, s.mediaLength), manifest, key).media).frames.map((f) => f.header) : []
        : [...store.records(s.id)].filter((r) => !isAudioRecord(r.header)).map((r) => decodeFrameHeader(r.header));
      out.push({ seq: s.sequence, state: s.state, manifest, frameNumbers: frames.map((f) => f.frameNumber), flags: frames.map((f) => f.flags), monotonic: frames.map((f) => f.monotonicMs), droppedBefore: frames.map((f) => f.droppedBefore) });
    }
    return out;
  }

  /** Every manifest the camera holds (sealed trailers and recovered ones in the key store), by sequence. */
  manifests(): Map<number, Uint8Array> {
    const copy = this.flash.clone();
    const store = SegmentStore.mount({ flash: new (copy.portClass())({ path: 'x' }), checksum: nodeChecksum });
    const out = new Map<number, Uint8Array>();
    for (const s of store.segments()) {
      const m = s.trailer ?? this.keys().get(`rm.${s.sequence}`);
      if (m) out.set(s.sequence, m);
    }
    return out;
  }

  /** Media of one segment (frame records), for parseMedia. */
  media(seq: number): Uint8Array {
    const copy = this.flash.clone();
    const store = SegmentStore.mount({ flash: new (copy.portClass())({ path: 'x' }), checksum: nodeChecksum });
    const s = store.segments().find((x) => x.sequence === seq)!;
    return store.readMedia(s.id, 0, s.mediaLength);
  }

  close(): Promise<void> {
    return this.engine.close();
  }
}

export { parseMedia };
