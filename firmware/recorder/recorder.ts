// The Recorder: the camera as a whole. A state machine over the ports that wires capture,
// storage, signing and the dock session together.
//
//   off ─boot→ standby (pre-event buffer) ─press→ recording ─long press→ stopping → standby
//   recording ─segment length→ recording (rollover: the next frame opens the next segment)
//   any ─charging→ docked (upload, charge) ─unplugged→ standby
//   any ─E_STORE_FULL→ storage-full (everything kept; docking frees it) ─unplugged→ standby
//   any ─battery below critical→ battery-critical → off (segment sealed, clean shutdown)
//   any ─unexpected error→ fault
//
// Promises:
// - One press starts recording at once: the pre-event ring is promoted in place, so the frames
//   before the press and after it are one segment with no gap. Only a long press of a new press
//   stops it; a press while recording only reminds (haptic). Each change shows on the LED and
//   the haptic motor; red means recording and nothing else is red.
// - Segments roll over between two frames (the frame past the boundary opens the next segment).
//   The rollover only closes the full segment unsigned and opens the next one; its signature is
//   made a slice at a time on timers (about a tenth of a signature each), so the camera's buffers
//   are drained between slices, and the signed manifest becomes the closed segment's trailer
//   and the next one's `prev` (SegmentWriter.close, SegmentStore.attachTrailer). A sealed
//   segment's content key and its HPKE wrap are made ahead, in timer slices while the segment
//   before is open (key-wrap.ts), so the rollover only takes a ready key. On device timing, with
//   a driver that stamps capture times, no frame is lost at a rollover, sealed or in the clear
//   (test/capture-device-timing.test.ts). A stop, a
//   power-off or a dock finishes a signature still in slices first; a power cut before it ends
//   leaves the segment to the next boot, which signs it as it signs a recovered one. Segment
//   sequence numbers and the recording id go on across reboots; each manifest chains to the
//   previous one.
// - A reboot that finds the camera was recording (a power cut, a crash) signs the recovered
//   segment (FLAG_RECOVERED), records the power cut in the ledger and resumes recording with the
//   same recording id, noting the gap; the officer never asked it to stop.
// - Low battery seals and shuts down cleanly before the brown-out; a full store stops
//   recording, keeps everything and alerts.
// - Every state change is a signed, hash-chained ledger entry (ledger.ts), uploaded at docking.
// - No JavaScript loop touches frame bytes: frames go to the store and the Digest port as
//   they are; the per-frame cost is a few field reads from the 48-byte frame header.

import type { CborValue } from '../codec/cbor.js';
import { encode, decode, isUint } from '../codec/cbor.js';
import { BodycamError, errorCode, errorMessage, isBodycamError } from '../errors.js';
import type { Platform } from '../platform/platform.js';
import type { Battery } from '../platform/io.js';
import type { KeyStore } from '../platform/keystore.js';
import type { Link } from '../platform/link.js';
import type { TimerId } from '../platform/clock.js';
import { toBytes, type BufferLike } from '../platform/buffers.js';
import { FrameCapture } from '../sensor/capture.js';
import { AUDIO_BLOCK_MS, AudioCapture } from '../sensor/audio-capture.js';
import { MEDIA_FORMAT, MEDIA_FORMAT_AV, type FrameSink } from '../encoder/frame-record.js';
import { AUDIO_MAGIC_0 } from '../encoder/audio-record.js';
import { END_RECORD_LENGTH, NO_RECORD, RecordSealer } from '../encoder/sealed-record.js';
import { ContentKeyWrap } from './key-wrap.js';
import { SegmentStore, type PreEventRing, type SegmentInfo, type SegmentWriter } from '../storage/index.js';
import { DeviceIdentity } from '../signing/identity.js';
import type { Ed25519 } from '../signing/ed25519.js';
import { FLAG_CLEAN_CLOSE, FLAG_PRE_EVENT, type ManifestBuilder, type PreparedManifest } from '../signing/manifest.js';
import type { SignSteps } from '../signing/ed25519-interface.js';
import { signStructure } from '../signing/signed.js';
import { CameraSession, type DockEvent } from '../dock/camera-session.js';
import { checkNewerConfig, fitMode, verifyConfig, type CameraMode } from '../provision/config.js';
import { KEY_CONFIG, heldRevocations, keepRevocations } from '../provision/camera.js';
import { fromSignedConfig, heldConfig, recorderConfig, type RecorderConfig } from './config.js';
import { ButtonGestures } from './gestures.js';
import { HAPTIC, Indicators, type RecorderState } from './indicators.js';
import { AuditLedger, type LedgerEvent, type LedgerTime } from './ledger.js';
import { EvidenceKeeper, encodeMeta, type SegmentMeta } from './evidence.js';

export type { RecorderState } from './indicators.js';

/** KeyStore names (≤ 15 characters). */
/**
 * Records of a promoted pre-event ring hashed in one timer slice: each is read back from the store
 * and hashed (a 25 KiB SVGA frame is a few milliseconds of the core), so a slice stays well inside
 * the 120 ms three driver buffers hold at 25 fps, and the slices outpace the sensor.
 */
export const HASH_RECORDS_PER_SLICE = 2;

export const KEY_BOOT_COUNT = 'boot.count';
/** 1 while powered, 0 after a clean shutdown: a 1 found at boot means the power was cut. */
export const KEY_POWER = 'power.on';
/** The recording in progress (id, start UTC): present while recording, across reboots. */
export const KEY_RECORDING = 'rec.active';
export const KEY_NEXT_RECORDING = 'rec.next';
export const DRIFT_TYPE = 'bodycam/drift/1';

export interface RecorderOptions {
  platform: Platform;
  /** Flash partition of the segment store. */
  storagePath: string;
  /** KeyStore partition (identity, ledger, chain head, counters). */
  keyStorePath: string;
  firmware: string;
  /** The board's sensor name (a raw-only sensor is refused). */
  sensor?: string;
  /** Settings under the signed configuration (board defaults, recorder timings). */
  settings?: Partial<RecorderConfig>;
  /** The board's camera modes: a configuration asking for a size or rate beyond them records fitMode's instead, and says so in the ledger. */
  modes?: readonly CameraMode[];
  /** Where the dock station listens (the camera connects when it sees it is charging). */
  dock?: { address?: string; port: number };
  /**
   * Ed25519 for signing and verifying: the camera's is @noble/curves' (NobleEd25519, SHA-512
   * through the Digest port), made by firmware/main.ts. Handed in, not imported, so this module
   * stays preloaded (noble's modules can't be).
   */
  ed25519: Ed25519;
  pins?: { button?: string | number; led?: string | number; haptic?: string | number; battery?: string | number };
}

export interface RecorderStatus {
  state: RecorderState;
  device: string;
  boot: number;
  powerCutDetected: boolean;
  recording: number;
  /** Frames committed to evidence segments since boot (promoted pre-event frames included). */
  evidenceFrames: number;
  segmentsSealed: number;
  segmentsRecovered: number;
  recoveredFrames: number;
  /** Capture counters since boot: stored (ring and evidence), sensor misses, storage losses. */
  captured: number;
  missed: number;
  lost: number;
  /** Sound since boot: blocks stored (ring and evidence), samples lost (driver overruns, storage), whether a microphone is recording. */
  audio: { on: boolean; blocks: number; droppedSamples: number };
  lastError: string;
  /** Content keys since boot for sealed streams: taken ready (prepared in slices) or made on the spot (none ready: after a boot, a stop, a dock, new keys). */
  keys: { ahead: number; inline: number };
  ledgerEntries: number;
  ledgerErrors: number;
  headSeq: number;
  storage: { total: number; free: number; awaitingUpload: number; segmentsAwaitingUpload: number };
  battery: { millivolts: number; percent: number; charging: boolean };
  session: 'none' | 'active' | 'closed';
  sessions: { attempts: number; completed: number; failed: number; lastReason: string; released: number[] };
  config: { segmentSeconds: number; preEventSeconds: number; width: number; height: number; frameRate: number; audio: boolean; preEventAudio: boolean };
}

/** Read a u64 (as two u32) from a frame header. */
function u64(v: DataView, at: number): number {
  return v.getUint32(at) * 0x1_0000_0000 + v.getUint32(at + 4);
}

export class Recorder {
  readonly #o: RecorderOptions;
  readonly #p: Platform;
  readonly #keys: KeyStore;
  readonly #identity: DeviceIdentity;
  readonly #ed: Ed25519;
  readonly #ledger: AuditLedger;
  readonly #store: SegmentStore;
  readonly #keeper: EvidenceKeeper;
  readonly #indicators: Indicators;
  readonly #battery: Battery;
  readonly #gestures: ButtonGestures;
  readonly #device: string;
  readonly #boot: number;
  #config: RecorderConfig;
  readonly #modes: readonly CameraMode[] | undefined;
  #capture: FrameCapture | undefined;
  #audio: AudioCapture | undefined;
  /** The microphone failed to open (no microphone, a driver error): video only until reboot. */
  #audioFailed = false;
  #state: RecorderState = 'off';
  #ring: PreEventRing | undefined;
  #writer: SegmentWriter | undefined;
  /**
   * The open stream's sealer (the ring's, kept through its promotion, or the segment's) while the
   * camera holds evidence keys: the content key lives here, in RAM, until the stream ends.
   */
  #sealer: RecordSealer | undefined;
  /**
   * The next stream's content key, made and wrapped in timer slices while this one is open (so a
   * rollover only takes it): in RAM a stream early, zeroed when this stream ends without using it.
   */
  #nextKey: ContentKeyWrap | undefined;
  #nextKeyTimer: TimerId | undefined;
  /** Record indices of the open segment's first and last stored records (the END record names them). */
  #sealFirst = 0;
  #sealLast = NO_RECORD;
  /**
   * The promoted pre-event ring's records not yet hashed into the open segment's manifest: they
   * are read back from the store and hashed in timer slices (HASH_RECORDS_PER_SLICE a slice), in
   * order, with every record appended since, until none is left; until then frames are stored
   * but not hashed as they come. `next`: the store position of the next record to hash.
   */
  #backlog: { id: number; next: number | undefined; timer: TimerId | undefined } | undefined;
  /** A record was sealed and the store then failed to take it: the stream has a hole, so it ends at the next record. */
  #sealBroken = false;
  #builder: ManifestBuilder | undefined;
  /** Ledger entries made and not yet signed (#log), oldest first, and the timer turn that signs the next. */
  #logQueue: { event: LedgerEvent; detail: Record<string, CborValue>; at: LedgerTime }[] = [];
  #logTimer: TimerId | undefined;
  /** The segment a rollover closed unsigned, while its signature is made in timer slices. */
  #signing: { info: SegmentInfo; prepared: PreparedManifest; steps: SignSteps; done: boolean; timer: TimerId | undefined } | undefined;
  #meta: SegmentMeta | undefined;
  #segmentEnd = 0;
  #recording = 0;
  #pressStarted = false;
  #batteryTimer: TimerId | undefined;
  #retryTimer: TimerId | undefined;
  #warnedLow = false;
  #powerCut = false;
  /** Shut down (the state is 'off' before boot finishes too, so this tells them apart). */
  #down = false;
  #session: CameraSession | undefined;
  #link: Link | undefined;
  #failures = 0;
  readonly #stats = { keysAhead: 0, keysInline: 0, evidenceFrames: 0, segmentsSealed: 0, segmentsRecovered: 0, recoveredFrames: 0, ledgerErrors: 0, lastError: '' };
  readonly #sessions = { attempts: 0, completed: 0, failed: 0, lastReason: '', released: [] as number[] };
  readonly #sink: FrameSink = { append: (h, b) => this.#append(h, b) };
  readonly #view = { bytes: undefined as Uint8Array | undefined, view: undefined as DataView | undefined };
  readonly #audioView = { bytes: undefined as Uint8Array | undefined, view: undefined as DataView | undefined };

  constructor(o: RecorderOptions) {
    this.#o = o;
    const p = (this.#p = o.platform);
    this.#ed = o.ed25519;
    const keys = (this.#keys = new p.KeyStore({ path: o.keyStorePath }));
    const bootBytes = keys.get(KEY_BOOT_COUNT);
    const bootValue = bootBytes ? decode(new Uint8Array(bootBytes)) : 0;
    this.#boot = (isUint(bootValue) ? bootValue : 0) + 1;
    keys.set(KEY_BOOT_COUNT, encode(this.#boot));
    const power = keys.get(KEY_POWER);
    this.#powerCut = power !== undefined && new Uint8Array(power)[0] === 1;
    keys.set(KEY_POWER, Uint8Array.of(1));

    this.#identity = new DeviceIdentity({ keyStore: keys, random: p.random, digest: p.digest, ed25519: this.#ed });
    this.#device = this.#identity.deviceId() ?? 'unprovisioned';
    this.#ledger = new AuditLedger({ keyStore: keys, signer: this.#identity, digest: p.digest, clock: p.clock, device: this.#device, boot: this.#boot });

    const flash = new p.Flash({ path: o.storagePath });
    let store: SegmentStore;
    try {
      store = SegmentStore.mount({ flash, checksum: p.checksum, clock: p.clock });
    } catch (e) {
      // Only a blank partition is formatted; a damaged one keeps its evidence for a raw reader.
      if (!isBodycamError(e, 'E_STORE_UNFORMATTED')) throw e;
      store = SegmentStore.format({ flash, checksum: p.checksum, clock: p.clock, firstSequence: 0 });
    }
    this.#store = store;
    this.#keeper = new EvidenceKeeper({ store, keyStore: keys, signer: this.#identity, digest: p.digest, clock: p.clock, device: this.#device, firmware: o.firmware, boot: this.#boot, ed25519: this.#ed });

    this.#modes = o.modes;
    this.#config = recorderConfig(o.settings);
    const held = heldConfig(keys, this.#identity.rootKey(), this.#identity.deviceId(), this.#ed);
    if (held) this.#config = fromSignedConfig(this.#config, held);

    const pins = o.pins ?? {};
    this.#indicators = new Indicators({ led: new p.Led({ pin: pins.led ?? 'status' }), haptic: new p.Haptic({ pin: pins.haptic ?? 'haptic' }) });
    this.#battery = new p.Battery({ pin: pins.battery ?? 'battery' });
    this.#gestures = new ButtonGestures({
      Button: p.Button, pin: pins.button ?? 'record', timer: p.timer, clock: p.clock, longPressMs: this.#config.longPressMs,
      onPress: () => this.#guard(() => this.press()),
      onLongPress: () => this.#guard(() => this.longPress()),
    });

    this.#log('powered-on', { boot: this.#boot, firmware: o.firmware, clean: !this.#powerCut });
    this.#fitMode();
    const recovered = this.#keeper.sealRecovered();
    if (this.#powerCut) this.#log('power-cut-detected', { recovered: recovered.length, recording: this.#activeRecording()?.id ?? null });
    for (const r of recovered) {
      this.#stats.segmentsRecovered++;
      this.#stats.recoveredFrames += r.frames;
      this.#log('segment-recovered', { seq: r.seq, recording: r.recording, frames: r.frames, dropped: r.dropped, lostAtCut: r.lostAtCut, lastUtc: r.lastUtc, ...(r.sealed ? { sealed: true } : {}) });
    }

    this.#batteryTimer = p.timer.set(() => this.#guard(() => this.#checkBattery()), this.#config.batteryPollMs, this.#config.batteryPollMs);
    this.#guard(() => {
      const b = this.#battery.read();
      if (b.charging) this.#enterDocked();
      else if (b.millivolts < this.#config.criticalMillivolts) this.#powerOff('battery-critical', b.millivolts);
      else {
        const active = this.#activeRecording();
        if (active) this.#resume(active.id, recovered.filter((r) => r.recording === active.id).pop()?.lastUtc ?? undefined);
        else this.#enterStandby();
      }
    });
  }

  get state(): RecorderState {
    return this.#state;
  }

  get config(): Readonly<RecorderConfig> {
    return this.#config;
  }

  get ledger(): AuditLedger {
    return this.#ledger;
  }

  // ---------------------------------------------------------------- gestures

  /** The record button went down. */
  press(): void {
    const s = this.#state;
    this.#pressStarted = false;
    if (s === 'standby') {
      this.#startRecording();
      this.#pressStarted = true;
    } else if (s === 'recording') this.#indicators.pulse(HAPTIC.reminder);
    else if (s === 'storage-full' || s === 'battery-critical' || s === 'fault') this.#indicators.pulse(HAPTIC.alert);
  }

  /** The record button was held for the long-press time. */
  longPress(): void {
    if (this.#state !== 'recording' || this.#pressStarted) return;
    this.#stopRecording('button', true);
    this.#indicators.pulse(HAPTIC.stop);
    this.#enterStandby();
  }

  // ---------------------------------------------------------------- states

  #set(state: RecorderState): void {
    this.#state = state;
    this.#indicators.show(state);
  }

  #captureFor(preEvent: boolean): FrameCapture {
    const c = this.#config;
    let cap = this.#capture;
    if (cap && (cap.width !== c.width || cap.height !== c.height || cap.frameRate !== c.frameRate || cap.quality !== c.quality)) {
      cap.close();
      cap = undefined;
    }
    if (!cap) {
      cap = new FrameCapture({
        Camera: this.#p.Camera, clock: this.#p.clock, width: c.width, height: c.height, frameRate: c.frameRate, quality: c.quality, sensor: this.#o.sensor,
        sink: this.#sink, preEvent, onError: (e) => this.#guard(() => this.#captureError(e)),
      });
      this.#capture = cap;
    }
    cap.route(this.#sink, { preEvent });
    return cap;
  }

  /**
   * The microphone for what comes next: on while recording when sound is on, and in standby too
   * when pre-event sound is; off otherwise. A microphone that can't be opened leaves video alone.
   */
  #audioFor(preEvent: boolean): void {
    const c = this.#config;
    const want = c.audio && (!preEvent || c.preEventAudio);
    if (!want) {
      this.#audio?.stop();
      return;
    }
    if (!this.#audio && !this.#audioFailed) {
      try {
        this.#audio = new AudioCapture({ AudioIn: this.#p.AudioIn, clock: this.#p.clock, codec: c.audioCodec, sink: this.#sink, preEvent, onError: (e) => this.#guard(() => this.#captureError(e)) });
      } catch (e) {
        this.#audioFailed = true;
        this.#log('audio-unavailable', { code: errorCode(e), message: errorMessage(e).slice(0, 120) });
        return;
      }
    }
    const a = this.#audio;
    if (!a) return;
    a.route(this.#sink, { preEvent });
    a.start();
  }

  /** Media format of a segment opened now: with audio records when the microphone records. */
  #format(): string {
    return this.#audio?.running ? MEDIA_FORMAT_AV : MEDIA_FORMAT;
  }

  /** Open the pre-event ring (sealed under a new content key when the camera holds evidence keys). */
  #openRing(): void {
    const c = this.#config;
    // The ring's index holds every record of the window: frames, and 5 audio blocks a second with pre-event sound.
    const perSecond = c.frameRate + (c.audio && c.preEventAudio ? 1000 / AUDIO_BLOCK_MS : 0);
    const sealer = this.#newSealer();
    try {
      this.#ring = this.#store.openPreEvent({ seconds: c.preEventSeconds, ringRecords: Math.max(2048, Math.ceil(c.preEventSeconds * perSecond) + 64), endReserve: sealer ? END_RECORD_LENGTH : 0 });
    } catch (e) {
      sealer?.close();
      throw e;
    }
    this.#useSealer(sealer);
  }

  #enterStandby(): void {
    try {
      this.#openRing();
    } catch (e) {
      if (isBodycamError(e, 'E_STORE_FULL')) return this.#storageFull(e);
      throw e;
    }
    this.#captureFor(true).start();
    this.#audioFor(true);
    this.#set('standby');
    this.#log('buffering', { preEventSeconds: this.#config.preEventSeconds });
  }

  #newMeta(flags: number): SegmentMeta {
    const c = this.#config;
    const meta: SegmentMeta = { recording: this.#recording, boot: this.#boot, flags, format: this.#format(), width: c.width, height: c.height, frameRate: c.frameRate };
    const s = this.#sealer;
    if (s) {
      meta.sealed = s.recipients;
      meta.opened = { mono: Math.floor(this.#p.clock.monotonic()), utc: Math.max(0, Math.floor(this.#p.clock.utc())) };
    }
    return meta;
  }

  /**
   * A sealer for a new stream when the camera holds evidence keys (a fresh content key, wrapped to
   * each): the key prepared in slices while the last stream was open when there is one for these
   * keys, finished now if its slices have not all run; else (the first stream after a boot, a stop
   * or a dock, or new keys) made and wrapped here, in one piece. Status `keys` counts both.
   */
  #newSealer(): RecordSealer | undefined {
    const keys = this.#config.evidenceKeys;
    const next = this.#nextKey;
    this.#nextKey = undefined;
    this.#cancelNextKey();
    try {
      if (!keys || keys.length === 0) return undefined;
      const recipients = keys.map((k) => k.publicKey);
      const o = { cipher: this.#p.cipher, digest: this.#p.digest, random: this.#p.random, recipients };
      if (next && next.publicKeys.length === recipients.length && next.publicKeys.every((pk, i) => sameBytes(pk, recipients[i]))) {
        if (next.ready) this.#stats.keysAhead++;
        else {
          next.finish();
          this.#stats.keysInline++;
        }
        return new RecordSealer({ ...o, prepared: next.take() });
      }
      this.#stats.keysInline++;
      return new RecordSealer(o);
    } finally {
      next?.close();
    }
  }

  /** Prepare the next stream's content key in timer slices (the open stream is sealed). */
  #prepareNextKey(): void {
    this.#cancelNextKey();
    this.#nextKeyTimer = this.#p.timer.set(() => this.#guard(() => this.#nextKeySlice()), 0);
  }

  /** One slice: the key and ephemeral seeds first, then a few ladder steps each. */
  #nextKeySlice(): void {
    this.#nextKeyTimer = undefined;
    const keys = this.#config.evidenceKeys;
    if (!this.#sealer || !keys || keys.length === 0) return;
    let w = this.#nextKey;
    if (!w) w = this.#nextKey = new ContentKeyWrap({ cipher: this.#p.cipher, digest: this.#p.digest, random: this.#p.random, recipients: keys.map((k) => k.publicKey) });
    else if (!w.ready) w.step();
    if (!w.ready) this.#nextKeyTimer = this.#p.timer.set(() => this.#guard(() => this.#nextKeySlice()), 0);
  }

  #cancelNextKey(): void {
    if (this.#nextKeyTimer !== undefined) this.#p.timer.clear(this.#nextKeyTimer);
    this.#nextKeyTimer = undefined;
  }

  #useSealer(sealer: RecordSealer | undefined): void {
    this.#endSealer();
    this.#sealer = sealer;
    this.#sealFirst = sealer ? sealer.records : 0;
    this.#sealLast = NO_RECORD;
    this.#sealBroken = false;
    if (sealer) this.#prepareNextKey();
  }

  /**
   * The stream ended: forget its content key (contexts closed, key zeroed), and the next one
   * prepared behind it (a rollover takes that one before it ends the stream).
   */
  #endSealer(): void {
    this.#sealer?.close();
    this.#sealer = undefined;
    this.#cancelNextKey();
    this.#nextKey?.close();
    this.#nextKey = undefined;
  }

  /** A new evidence segment (sealed when the camera holds evidence keys). */
  #openNew(flags: number): void {
    this.#useSealer(this.#newSealer());
    const meta = this.#newMeta(flags);
    try {
      this.#open(this.#store.openSegment(encodeMeta(meta), { endReserve: this.#sealer ? END_RECORD_LENGTH : 0 }), meta);
    } catch (e) {
      this.#endSealer();
      throw e;
    }
  }

  #startRecording(): void {
    this.#recording = this.#nextRecordingId();
    // Sound from the press on (it may already run, for pre-event sound): the segment says so.
    this.#audioFor(false);
    const ring = this.#ring;
    this.#ring = undefined;
    const now = Math.floor(this.#p.clock.monotonic());
    let preEventFrames = 0;
    try {
      if (ring) {
        preEventFrames = ring.records;
        const meta = this.#newMeta(preEventFrames > 0 ? FLAG_PRE_EVENT : 0);
        const writer = ring.promote(encodeMeta(meta), now);
        this.#open(writer, meta);
        // The kept pre-event frames are the start of this segment: they are hashed into its
        // manifest in timer slices from here (#hashBacklog), not in this callback — read back and
        // hashed, a 30-s ring is seconds of the core's time, and the sensor does not wait.
        if (writer.records > 0) this.#startBacklog(writer.id);
        else if (this.#sealer) this.#sealFirst = this.#sealer.records;
      } else this.#openNew(0);
    } catch (e) {
      if (ring && !this.#writer) this.#ring = ring; // promote failed: it is still a ring
      if (isBodycamError(e, 'E_STORE_FULL')) return this.#storageFull(e);
      throw e;
    }
    this.#segmentEnd = now + this.#config.segmentSeconds * 1000;
    this.#keys.set(KEY_RECORDING, encode([this.#recording, Math.max(0, Math.floor(this.#p.clock.utc()))]));
    this.#captureFor(false).start();
    this.#audioFor(false);
    this.#set('recording');
    this.#indicators.pulse(HAPTIC.start);
    this.#log('recording', { recording: this.#recording, preEventFrames, seq: this.#writer?.sequence ?? null });
  }

  /** After a reboot that interrupted a recording: record on, and say how long the gap was. */
  #resume(recording: number, lastUtc: number | undefined): void {
    this.#recording = recording;
    this.#audioFor(false);
    try {
      this.#openNew(0);
    } catch (e) {
      if (isBodycamError(e, 'E_STORE_FULL')) return this.#storageFull(e);
      throw e;
    }
    this.#segmentEnd = Math.floor(this.#p.clock.monotonic()) + this.#config.segmentSeconds * 1000;
    this.#captureFor(false).start();
    this.#audioFor(false);
    this.#set('recording');
    this.#indicators.pulse(HAPTIC.start);
    const utc = Math.max(0, Math.floor(this.#p.clock.utc()));
    this.#log('recording', { recording, resumed: true, gapMs: lastUtc !== undefined ? Math.max(0, utc - lastUtc) : null, seq: this.#writer?.sequence ?? null });
  }

  #open(writer: SegmentWriter, meta: SegmentMeta): void {
    this.#writer = writer;
    this.#meta = meta;
    // Opened while the segment before it is being signed: chained when that signature is done.
    this.#builder = this.#keeper.builder(writer.sequence, meta, this.#signing !== undefined);
  }

  /**
   * Finish any signature in progress, then take the open segment's writer and manifest builder;
   * a segment without a frame is abandoned (undefined).
   */
  #takeOpen(): { writer: SegmentWriter; builder: ManifestBuilder } | undefined {
    this.#finishSigning();
    this.#finishBacklog();
    const writer = this.#writer;
    const builder = this.#builder;
    this.#writer = undefined;
    this.#builder = undefined;
    const sealer = this.#sealer;
    if (!writer || !builder) {
      this.#endSealer();
      return undefined;
    }
    if (writer.records === 0) {
      this.#endSealer();
      writer.abandon();
      return undefined;
    }
    if (sealer) {
      // The stream's final chunk, then the key is forgotten: nothing can be sealed under it again.
      try {
        const end = sealer.end(this.#sealFirst, this.#sealLast);
        writer.appendEnd(end);
        builder.addEnd(end);
      } finally {
        this.#endSealer();
      }
    }
    return { writer, builder };
  }

  /** Seal the open segment (or abandon it if it has no frame). */
  #seal(flags: number): void {
    const open = this.#takeOpen();
    if (!open) return;
    const { writer, builder } = open;
    const signed = builder.finish({ signer: this.#identity, clock: this.#p.clock.source(), flags });
    writer.seal(signed.bytes);
    this.#keeper.sealed(signed);
    this.#stats.segmentsSealed++;
  }

  /**
   * End the recording. `inSlices` (the officer's stop, the camera recording on in standby): the
   * last segment closes unsigned, is signed in timer slices as at a rollover, and the key
   * prepared for the next stream goes to the pre-event ring, so the stop costs the sensor no
   * frame. Otherwise (docking, a full store, a dying battery) it is signed here and now.
   */
  #stopRecording(reason: string, inSlices = false): void {
    if (this.#state !== 'recording' && !this.#writer) return;
    this.#set('stopping');
    const recording = this.#recording;
    const sealed = this.#stats.segmentsSealed;
    const closing = this.#writer && this.#writer.records > 0 ? this.#writer.sequence : undefined;
    try {
      if (inSlices) this.#keepingNextKey(() => this.#closeUnsigned(FLAG_CLEAN_CLOSE));
      else this.#seal(FLAG_CLEAN_CLOSE);
    } finally {
      this.#keys.delete(KEY_RECORDING);
      this.#log('stopped', { recording, reason, seq: closing ?? this.#keeper.head()?.seq ?? null, sealedNow: this.#stats.segmentsSealed - sealed });
    }
  }

  /** Stop buffering and recording (the camera won't write until it leaves the state it enters). */
  #quiesce(reason: string): void {
    if (this.#state === 'recording') this.#stopRecording(reason);
    this.#capture?.stop();
    this.#audio?.stop();
    if (this.#ring) {
      this.#ring.discard();
      this.#ring = undefined;
    }
    this.#endSealer();
  }

  #storageFull(e: BodycamError): void {
    if (this.#state === 'storage-full') return;
    this.#quiesce('storage-full');
    this.#set('storage-full');
    this.#indicators.pulse(HAPTIC.alert);
    const u = this.#store.usage();
    this.#log('storage-full', { awaiting: u.awaitingUpload, segments: u.segmentsAwaitingUpload, message: errorMessage(e).slice(0, 120) });
  }

  #enterDocked(): void {
    this.#quiesce('docked');
    this.#set('docked');
    this.#log('docked', {});
    this.#connect();
  }

  #leaveDock(): void {
    this.#endSession('undocked');
    this.#log('undocked', {});
    this.#enterStandby();
  }

  #powerOff(reason: string, millivolts?: number): void {
    if (reason === 'battery-critical') {
      this.#log('battery-critical', { millivolts: millivolts ?? 0 });
      this.#quiesce(reason);
      this.#set('battery-critical');
      this.#indicators.pulse(HAPTIC.alert);
    } else this.#quiesce(reason);
    this.#endSession(reason);
    this.#keys.delete(KEY_RECORDING);
    this.#shutdown(reason);
  }

  #shutdown(reason: string): void {
    this.#log('powered-off', { reason });
    this.#flushLog();
    this.#capture?.close();
    this.#capture = undefined;
    this.#audio?.close();
    this.#audio = undefined;
    if (this.#batteryTimer !== undefined) this.#p.timer.clear(this.#batteryTimer);
    if (this.#retryTimer !== undefined) this.#p.timer.clear(this.#retryTimer);
    this.#batteryTimer = this.#retryTimer = undefined;
    this.#keys.set(KEY_POWER, Uint8Array.of(0));
    this.#down = true;
    this.#set('off');
  }

  #fault(e: unknown): void {
    this.#stats.lastError = `${errorCode(e)}: ${errorMessage(e)}`.slice(0, 200);
    if (this.#state === 'fault' || this.#down) return;
    try {
      this.#quiesce('fault');
    } catch {
      // the fault may be the store itself
    }
    this.#set('fault');
    this.#indicators.pulse(HAPTIC.alert);
    this.#log('fault', { code: errorCode(e), message: errorMessage(e).slice(0, 120) });
    this.#flushLog(); // nothing is recording now: the fault is in the ledger before anything else can go wrong
  }

  /** Run a hardware callback: an error is a fault state, never an uncaught exception. */
  #guard(f: () => void): void {
    try {
      f();
    } catch (e) {
      this.#fault(e);
    }
  }

  // ---------------------------------------------------------------- frames

  #append(header: Uint8Array, body: BufferLike): void {
    const ring = this.#ring;
    if (ring) {
      const mono = this.#monoOf(header);
      if (this.#sealBroken) {
        // A sealed record the store did not take left a hole in the ring's stream: a new ring, under a new key.
        ring.discard();
        this.#ring = undefined;
        this.#endSealer();
        this.#openRing();
      }
      const s = this.#sealer;
      if (s) {
        try {
          this.#ring!.append(s.seal(header, toBytes(body)), body, mono);
        } catch (e) {
          this.#sealBroken = true;
          throw e;
        }
      } else this.#ring!.append(header, body, mono);
      this.#failures = 0;
      return;
    }
    if (!this.#writer) throw new BodycamError('E_RECORDER_IDLE', 'a frame arrived with no segment or ring open');
    if (this.#monoOf(header) >= this.#segmentEnd || this.#sealBroken) this.#rollover();
    const s = this.#sealer;
    const b = toBytes(body);
    let stored = header;
    if (s) {
      // Sealed in place, then stored. A store that refuses it (E_STORE_FULL) spends its index: the
      // segment ends at the next record, and END, naming the last record stored, follows the hole.
      try {
        stored = s.seal(header, b);
        this.#writer!.append(stored, b);
      } catch (e) {
        this.#sealBroken = true;
        throw e;
      }
      this.#sealLast = s.lastSealed;
    } else this.#writer!.append(header, b);
    // While the promoted ring is being hashed, this record waits its turn in the store.
    if (!this.#backlog && this.#addToManifest(header, stored, b)) this.#stats.evidenceFrames++;
    this.#failures = 0;
  }

  /** A view over a frame header (the capture reuses one header buffer, so is the view). */
  #viewOf(header: Uint8Array): DataView {
    // One cached view per kind: the frame and the audio capture each reuse one header buffer.
    const c = header[0] === AUDIO_MAGIC_0 ? this.#audioView : this.#view;
    if (c.bytes !== header || !c.view) {
      c.view = new DataView(header.buffer, header.byteOffset, header.byteLength);
      c.bytes = header;
    }
    return c.view;
  }

  #monoOf(header: Uint8Array): number {
    return u64(this.#viewOf(header), 16);
  }

  /**
   * Hash a stored record into the open manifest; true for a frame, false for an audio block. Its
   * counts and times come from the plaintext `header`; what is hashed is what was stored
   * (`stored` and `body`: the sealed record when the segment is sealed).
   */
  #addToManifest(header: Uint8Array, stored: Uint8Array, body: Uint8Array): boolean {
    const v = this.#viewOf(header);
    if (header[0] === AUDIO_MAGIC_0) {
      // An audio record: hashed like a frame, counted as sound (samples at 36, lost samples at 32).
      this.#builder!.addAudio(stored, body, v.getUint32(36), v.getUint32(32));
      return false;
    }
    this.#builder!.addFrame(stored, body, { mono: u64(v, 16), utc: u64(v, 24) });
    const dropped = v.getUint32(32);
    if (dropped) this.#builder!.addDropped(dropped);
    return true;
  }

  /**
   * The frame about to be stored is past the segment's end: close the segment unsigned, open the
   * next one at once, and sign the closed one in timer slices (the camera callback stays short).
   */
  #rollover(): void {
    // The key prepared in slices outlives the closing stream: the next segment takes it.
    this.#keepingNextKey(() => this.#closeUnsigned(FLAG_CLEAN_CLOSE));
    this.#openNew(0);
    this.#segmentEnd += this.#config.segmentSeconds * 1000;
  }

  /**
   * Run `close`, which ends the open stream, keeping the content key prepared in slices for the
   * stream that follows at once (the next segment at a rollover, the pre-event ring at a stop).
   */
  #keepingNextKey(close: () => void): void {
    const next = this.#nextKey;
    this.#nextKey = undefined;
    try {
      close();
    } catch (e) {
      next?.close();
      throw e;
    }
    this.#nextKey = next;
  }

  #closeUnsigned(flags: number): void {
    // #takeOpen finishes the signature before (a rollover every 5 s and more; a signature takes under one).
    const open = this.#takeOpen();
    if (!open) return;
    const { writer, builder } = open;
    const prepared = builder.prepare({ keyId: this.#identity.keyId, clock: this.#p.clock.source(), flags });
    const info = writer.close();
    this.#signing = { info, prepared, steps: this.#identity.signSteps(prepared.toBeSigned), done: false, timer: undefined };
    this.#nextSlice();
  }

  #nextSlice(): void {
    const s = this.#signing;
    if (s) s.timer = this.#p.timer.set(() => this.#guard(() => this.#signSlice()), 0);
  }

  /** One slice of the signature in progress; the last one attaches it. */
  #signSlice(): void {
    const s = this.#signing;
    if (!s) return;
    s.timer = undefined;
    // The signature's last step, then attaching it, each a slice of its own.
    if (s.done) this.#signed();
    else {
      s.done = s.steps.step();
      this.#nextSlice();
    }
  }

  /** Finish a signature still in slices now (before a seal, a stop, a dock). */
  #startBacklog(id: number): void {
    this.#backlog = { id, next: undefined, timer: undefined };
    this.#backlog.timer = this.#p.timer.set(() => this.#guard(() => this.#backlogSlice()), 0);
  }

  /** One slice: up to HASH_RECORDS_PER_SLICE records of the backlog hashed; the last one ends it. */
  #backlogSlice(): void {
    const b = this.#backlog;
    if (!b) return;
    b.timer = undefined;
    if (this.#hashBacklog(HASH_RECORDS_PER_SLICE)) b.timer = this.#p.timer.set(() => this.#guard(() => this.#backlogSlice()), 0);
  }

  /** Before the segment closes: whatever is left of the backlog, hashed now. */
  #finishBacklog(): void {
    const b = this.#backlog;
    if (!b) return;
    if (b.timer !== undefined) this.#p.timer.clear(b.timer);
    b.timer = undefined;
    this.#hashBacklog(Infinity);
  }

  /**
   * Hash up to `max` records of the backlog into the open manifest, in store order (sealed ones
   * as stored, their times from their headers opened with the stream's key); true while some are
   * left. With none left the backlog ends, and frames are hashed as they come again.
   */
  #hashBacklog(max: number): boolean {
    const b = this.#backlog!;
    const s = this.#sealer;
    for (let n = 0; n < max; n++) {
      const r = this.#store.frameFrom(b.id, b.next);
      if (!r) {
        this.#backlog = undefined;
        return false;
      }
      const first = b.next === undefined; // the segment's first record
      b.next = r.next;
      let header = r.header;
      if (s) {
        const index = new DataView(r.header.buffer, r.header.byteOffset, r.header.byteLength).getUint32(4);
        if (first) this.#sealFirst = index;
        if (this.#sealLast === NO_RECORD || index > this.#sealLast) this.#sealLast = index;
        header = s.openHeader(r.header);
      }
      if (this.#addToManifest(header, r.header, r.body)) this.#stats.evidenceFrames++;
    }
    return true;
  }

  #finishSigning(): void {
    const s = this.#signing;
    if (!s) return;
    if (s.timer !== undefined) this.#p.timer.clear(s.timer);
    s.timer = undefined;
    while (!s.done) s.done = s.steps.step();
    this.#signed();
  }

  #signed(): void {
    const s = this.#signing!;
    this.#signing = undefined;
    const signed = s.prepared.complete(s.steps.signature());
    this.#keeper.attach(s.info, signed);
    if (this.#builder && this.#builder.seq === signed.manifest.seq + 1) this.#builder.chain(signed.digest);
    this.#stats.segmentsSealed++;
  }

  #captureError(e: BodycamError): void {
    if (e.code === 'E_STORE_FULL') return this.#storageFull(e);
    this.#stats.lastError = `${e.code}: ${errorMessage(e)}`.slice(0, 200);
    // A store that fails every frame for a second and more is broken, not busy.
    if (e.code.startsWith('E_STORE') || e.code.startsWith('E_FLASH') || e.code.startsWith('E_SEGMENT')) {
      if (++this.#failures >= 2 * this.#config.frameRate) this.#fault(e);
    }
  }

  // ---------------------------------------------------------------- battery and docking

  #checkBattery(): void {
    const b = this.#battery.read();
    const s = this.#state;
    if (s === 'off') return;
    if (b.charging) {
      if (s !== 'docked') this.#enterDocked();
      return;
    }
    if (s === 'docked') this.#leaveDock();
    if (b.millivolts < this.#config.criticalMillivolts) return this.#powerOff('battery-critical', b.millivolts);
    if (b.millivolts < this.#config.lowMillivolts && !this.#warnedLow) {
      this.#warnedLow = true;
      this.#indicators.pulse(HAPTIC.alert);
      this.#log('battery-low', { millivolts: b.millivolts, percent: b.percent });
    }
  }

  #connect(): void {
    const dock = this.#o.dock;
    const cert = this.#identity.certificate();
    const root = this.#identity.rootKey();
    if (!dock || !cert || !root || this.#session) return;
    this.#sessions.attempts++;
    const p = this.#p;
    const session = new CameraSession({
      deviceId: this.#device,
      identity: this.#identity,
      certificate: cert,
      rootKey: root,
      revocations: heldRevocations(this.#keys, root, this.#ed),
      onRevocations: (cose) => keepRevocations(this.#keys, cose),
      firmwareVersion: this.#o.firmware,
      source: this.#keeper,
      clock: p.clock,
      random: p.random,
      digest: p.digest,
      checksum: p.checksum,
      cipher: p.cipher,
      ed25519: this.#ed,
      status: () => {
        const u = this.#store.usage();
        const b = this.#battery.read();
        return { batteryPercent: b.percent, charging: b.charging, storageTotal: u.total, storageFree: u.free, pendingSegments: u.segmentsAwaitingUpload, pendingBytes: u.awaitingUpload, bootCounter: this.#boot, configVersion: this.#config.configVersion };
      },
      driftStatement: (dockUtc, cameraUtc, nonce) =>
        signStructure(DRIFT_TYPE, { device: this.#device, boot: this.#boot, mono: Math.floor(p.clock.monotonic()), dockUtc, cameraUtc, drift: cameraUtc - dockUtc, nonce }, this.#identity),
      applyConfig: (cose) => this.#applyConfig(cose),
      ledger: (after, max) => {
        this.#flushLog();
        return this.#ledger.page(after, max);
      },
      onEvent: (e) => this.#dockEvent(e),
    });
    this.#session = session;
    const write = (frames: Uint8Array[]) => {
      try {
        for (const f of frames) this.#link?.write(f);
      } catch (e) {
        session.disconnected(`link: ${errorMessage(e)}`);
      }
      if (session.state === 'closed') this.#endSession(session.closeReason);
    };
    try {
      this.#link = new p.Link({
        address: dock.address ?? '127.0.0.1',
        port: dock.port,
        onReadable: () =>
          this.#guard(() => {
            for (let b = this.#link?.read(); b && this.#session === session; b = this.#link?.read()) write(session.receive(new Uint8Array(b)));
          }),
        onError: (message) => this.#guard(() => {
          session.disconnected(`link: ${message}`);
          this.#endSession(session.closeReason);
        }),
      });
    } catch (e) {
      session.disconnected(`link: ${errorMessage(e)}`);
      this.#endSession(session.closeReason);
      return;
    }
    write(session.start());
  }

  #dockEvent(e: DockEvent): void {
    switch (e.kind) {
      case 'clock-set':
        this.#log('clock-set', { before: e.before, after: e.after, drift: e.drift, dock: e.dock });
        return;
      case 'released':
        this.#sessions.released.push(...e.seqs);
        this.#log('released', { seqs: e.seqs, bytes: e.bytes, dock: e.dock });
        return;
      case 'config':
        this.#log('config-changed', { version: e.version, dock: e.dock });
        return;
      default:
    }
  }

  /** The session ended (or the camera left the dock): close the link, log, retry if still docked. */
  #endSession(reason: string): void {
    const session = this.#session;
    if (!session) return;
    this.#session = undefined;
    if (session.state !== 'closed') session.disconnected(reason);
    const link = this.#link;
    this.#link = undefined;
    try {
      link?.close();
    } catch {
      // already closed
    }
    const ok = session.closeReason.startsWith('dock said bye');
    if (ok) this.#sessions.completed++;
    else this.#sessions.failed++;
    this.#sessions.lastReason = session.closeReason || reason;
    this.#log('dock-session', { ok, dock: session.dock?.id ?? null, reason: (session.closeReason || reason).slice(0, 120) });
    if (!ok && this.#state === 'docked') {
      this.#retryTimer = this.#p.timer.set(() => this.#guard(() => {
        this.#retryTimer = undefined;
        if (this.#state === 'docked') this.#connect();
      }), this.#config.dockRetryMs);
    }
  }

  #applyConfig(cose: Uint8Array): number {
    const root = this.#identity.rootKey();
    if (!root) throw new BodycamError('E_NOT_PROVISIONED', 'this camera has no agency root; it takes no configuration');
    const incoming = verifyConfig(cose, root, { device: this.#device, ed25519: this.#ed });
    checkNewerConfig(incoming, heldConfig(this.#keys, root, this.#device, this.#ed));
    this.#keys.set(KEY_CONFIG, cose);
    // Applied now while docked (the camera is not capturing); a new picture size reopens the camera.
    this.#config = fromSignedConfig(this.#config, incoming);
    this.#fitMode();
    return incoming.version;
  }

  /**
   * Bring the configured picture size and rate within the board's modes (fitMode); when they
   * differ, the ledger says what was asked and what will be recorded.
   */
  #fitMode(): void {
    const c = this.#config;
    const fit = fitMode(c, this.#modes);
    if (fit.width === c.width && fit.height === c.height && fit.frameRate === c.frameRate) return;
    this.#config = { ...c, ...fit };
    this.#log('recording-mode-limited', { asked: `${c.width}x${c.height} at ${c.frameRate} fps`, recorded: `${fit.width}x${fit.height} at ${fit.frameRate} fps` });
  }

  // ---------------------------------------------------------------- persistence helpers

  #activeRecording(): { id: number; since: number } | undefined {
    const v = this.#keys.get(KEY_RECORDING);
    if (!v) return undefined;
    const a = decode(new Uint8Array(v));
    return Array.isArray(a) && isUint(a[0]) && isUint(a[1]) ? { id: a[0], since: a[1] } : undefined;
  }

  #nextRecordingId(): number {
    const v = this.#keys.get(KEY_NEXT_RECORDING);
    const n = v ? decode(new Uint8Array(v)) : 1;
    const id = isUint(n) && n > 0 ? n : 1;
    this.#keys.set(KEY_NEXT_RECORDING, encode(id + 1));
    return id;
  }

  /**
   * One ledger entry, stamped now. A signature is a few hundred milliseconds of the core on a
   * camera, so a callback signs at most one: an entry made while another was signed since the
   * last timer turn waits in order for a timer callback of its own (a stop is 'stopped' then
   * 'buffering', two signatures the sensor's three buffers would not outlast). Whatever waits is
   * signed at once before the ledger is read, the camera docks or powers off (#flushLog).
   */
  #log(event: LedgerEvent, detail: Record<string, CborValue>): void {
    const at = this.#ledger.now();
    if (this.#logTimer !== undefined) {
      this.#logQueue.push({ event, detail, at });
      return;
    }
    this.#appendLog(event, detail, at);
    this.#logTimer = this.#p.timer.set(() => this.#guard(() => this.#nextLog()), 0);
  }

  #appendLog(event: LedgerEvent, detail: Record<string, CborValue>, at: LedgerTime): void {
    try {
      this.#ledger.append(event, detail, at);
    } catch {
      // A ledger that can't be written must not stop the camera from recording.
      this.#stats.ledgerErrors++;
    }
  }

  /** A timer turn: the next waiting entry signed (and another turn for the one after), or none waits. */
  #nextLog(): void {
    this.#logTimer = undefined;
    const e = this.#logQueue.shift();
    if (!e) return;
    this.#appendLog(e.event, e.detail, e.at);
    this.#logTimer = this.#p.timer.set(() => this.#guard(() => this.#nextLog()), 0);
  }

  /** Every waiting entry signed now. */
  #flushLog(): void {
    if (this.#logTimer !== undefined) this.#p.timer.clear(this.#logTimer);
    this.#logTimer = undefined;
    for (let e = this.#logQueue.shift(); e; e = this.#logQueue.shift()) this.#appendLog(e.event, e.detail, e.at);
  }

  // ---------------------------------------------------------------- outside

  status(): RecorderStatus {
    const u = this.#store.usage();
    const b = this.#battery.read();
    const cap = this.#capture?.stats;
    const c = this.#config;
    return {
      state: this.#state,
      device: this.#device,
      boot: this.#boot,
      powerCutDetected: this.#powerCut,
      recording: this.#recording,
      evidenceFrames: this.#stats.evidenceFrames,
      segmentsSealed: this.#stats.segmentsSealed,
      segmentsRecovered: this.#stats.segmentsRecovered,
      recoveredFrames: this.#stats.recoveredFrames,
      captured: cap?.stored ?? 0,
      missed: cap?.missed ?? 0,
      lost: cap?.lost ?? 0,
      audio: { on: this.#audio?.running ?? false, blocks: this.#audio?.stats.stored ?? 0, droppedSamples: this.#audio?.stats.dropped ?? 0 },
      lastError: this.#stats.lastError,
      keys: { ahead: this.#stats.keysAhead, inline: this.#stats.keysInline },
      ledgerEntries: this.#ledger.next,
      ledgerErrors: this.#stats.ledgerErrors,
      headSeq: this.#keeper.head()?.seq ?? -1,
      storage: { total: u.total, free: u.free, awaitingUpload: u.awaitingUpload, segmentsAwaitingUpload: u.segmentsAwaitingUpload },
      battery: { millivolts: b.millivolts, percent: b.percent, charging: b.charging },
      session: this.#session ? 'active' : this.#sessions.attempts ? 'closed' : 'none',
      sessions: { ...this.#sessions, released: this.#sessions.released.slice() },
      config: { segmentSeconds: c.segmentSeconds, preEventSeconds: c.preEventSeconds, width: c.width, height: c.height, frameRate: c.frameRate, audio: c.audio, preEventAudio: c.preEventAudio },
    };
  }

  /** Power off cleanly (the power switch): seal, log, mark the shutdown clean. */
  close(reason = 'switched off'): void {
    if (this.#state === 'off') return;
    this.#powerOff(reason);
    this.#gestures.close();
    this.#indicators.close();
    this.#battery.close();
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
