// Firmware entries for the dock area: a camera with an identity, a segment store holding sealed,
// signed segments, and a dock session over the Link port — the same code on Node and in XS.
// `dock.camera.record` makes segments the way the recorder does (META record, frame header +
// body per record, manifest built while appending through the recorder's EvidenceKeeper, sealed
// with the signed manifest, the chain head persisted), with deterministic bodies instead of a
// sensor: the dock tests are about moving evidence, not capturing it. The session uploads from
// the same EvidenceKeeper the recorder hands its sessions.

import type { CborValue } from '../../firmware/codec/cbor.js';
import { CameraSession, type CameraSessionOptions, type DockEvent } from '../../firmware/dock/camera-session.js';
import { FrameFlags, FrameHeaderEncoder, MEDIA_FORMAT } from '../../firmware/encoder/frame-record.js';
import { BodycamError } from '../../firmware/errors.js';
import type { Flash } from '../../firmware/platform/flash.js';
import type { KeyStore } from '../../firmware/platform/keystore.js';
import type { Link } from '../../firmware/platform/link.js';
import { DeviceIdentity } from '../../firmware/signing/identity.js';
import { KeyPairSigner } from '../../firmware/signing/signer.js';
import type { Ed25519 } from '../../firmware/signing/ed25519-interface.js';
import { cameraEd25519 } from './ed25519.js';
import { FLAG_CLEAN_CLOSE } from '../../firmware/signing/manifest.js';
import { EvidenceKeeper, encodeMeta, KEY_CHAIN_HEAD, type SegmentMeta } from '../../firmware/recorder/evidence.js';
import { SegmentStore } from '../../firmware/storage/index.js';
import { KeyStoreTrust, provisionFirmwareKeys, UpdateSession } from '../../firmware/update/index.js';
import { heldRevocations, keepRevocations, KEY_REVOCATIONS } from '../../firmware/provision/camera.js';
import { AbSlots } from '../update/ab-slots.js';
import { FrameReader, frameEncoded, frameMessage, HEADER_BYTES, TRAILER_BYTES } from '../../firmware/dock/frame.js';
import { decodeMessage, encodeMessage, encodeMessageWithRoom, num } from '../../firmware/dock/messages.js';
import { deriveSessionKeys, ephemeralKey, SEALED_PREFIX, SEALED_SUFFIX, SessionChannel } from '../../firmware/dock/session-keys.js';
import { deriveMacKeys, MAC_PREFIX, MAC_SUFFIX, SessionMac } from '../candidates/session-mac/session-mac.js';
import type { Entry, GuestEnv } from './env.js';

export const CAMERA_STORE_PATH = 'bodycam-store';
export const CAMERA_KEYS_PATH = 'bodycam-keys';
export const CAMERA_FIRMWARE = '0.1.0';
export const CAMERA_BOARD = 'xiao_esp32s3_sense';
export const CAMERA_OTA_PATH = 'bodycam-ota';
export const CAMERA_TRUST_PATH = 'bodycam';

interface CameraState {
  keys?: KeyStore;
  identity?: DeviceIdentity;
  flash?: Flash;
  store?: SegmentStore;
  link?: Link;
  session?: CameraSession;
  /** Evidence bookkeeping over the store (chain head, manifests, the upload source); remade at each mount. */
  keeper?: EvidenceKeeper;
  events: string[];
  boot: number;
  ota?: AbSlots;
  trustKeys?: KeyStore;
  ed25519?: Ed25519;
  /** Monotonic time of the last frame `dock.camera.record` made. */
  lastMono?: number;
}

function cam(env: GuestEnv): CameraState {
  return ((env.state.dockCamera as CameraState | undefined) ??= { events: [], boot: 1 });
}

/** The camera signs and verifies with its Ed25519 (noble's, SHA-512 through the Digest port), as on a device. */
function ed25519(env: GuestEnv): Ed25519 {
  const c = cam(env);
  c.ed25519 ??= cameraEd25519(env);
  return c.ed25519;
}

function identity(env: GuestEnv): DeviceIdentity {
  const c = cam(env);
  if (!c.identity) {
    c.keys ??= new env.platform.KeyStore({ path: CAMERA_KEYS_PATH });
    c.identity = new DeviceIdentity({ keyStore: c.keys, random: env.platform.random, digest: env.platform.digest, ed25519: ed25519(env) });
  }
  return c.identity;
}

function store(env: GuestEnv): SegmentStore {
  const c = cam(env);
  if (!c.store) {
    c.flash ??= new env.platform.Flash({ path: CAMERA_STORE_PATH });
    c.store = SegmentStore.mount({ flash: c.flash, checksum: env.platform.checksum, clock: env.platform.clock });
  }
  return c.store;
}

/** The camera's evidence keeper: what its dock sessions upload from (tests wrap it). */
export function keeper(env: GuestEnv): EvidenceKeeper {
  const c = cam(env);
  if (!c.keeper) {
    const id = identity(env);
    const device = id.deviceId();
    if (!device || !c.keys) throw new BodycamError('E_NOT_PROVISIONED', 'the camera has no certificate; provision it first');
    const p = env.platform;
    c.keeper = new EvidenceKeeper({ store: store(env), keyStore: c.keys, signer: id, digest: p.digest, clock: p.clock, device, firmware: CAMERA_FIRMWARE, boot: c.boot, ed25519: ed25519(env) });
  }
  return c.keeper;
}

function arg<T>(v: CborValue, key: string, fallback?: T): T {
  const m = v instanceof Map ? v : new Map<CborValue, CborValue>();
  const x = m.get(key);
  if (x === undefined) {
    if (fallback === undefined) throw new BodycamError('E_ARGUMENT', `missing ${key}`);
    return fallback;
  }
  return x as T;
}

function describe(e: DockEvent): string {
  switch (e.kind) {
    case 'released':
      return `released ${e.seqs.join(',')}`;
    case 'refused':
      return `refused ${e.code}`;
    case 'clock-set':
      return `clock-set drift ${e.drift}`;
    case 'authenticated':
      return `authenticated ${e.dock}`;
    case 'config':
      return `config ${e.version}`;
    case 'closed':
      return `closed ${e.reason}`;
    case 'update':
      return `update ${e.version} ${e.code}`;
  }
}

/** The camera's side of a dock session over its store and identity (the Link is the caller's). */
export function cameraSession(env: GuestEnv, extra: Partial<CameraSessionOptions> = {}): CameraSession {
  const c = cam(env);
  const id = identity(env);
  const p = env.platform;
  const device = id.deviceId();
  const certificate = id.certificate();
  const rootKey = id.rootKey();
  if (!device || !certificate || !rootKey) throw new BodycamError('E_NOT_PROVISIONED', 'the camera has no certificate; provision it first');
  const s = store(env);
  const source = keeper(env);
  c.events = [];
  return new CameraSession({
    deviceId: device,
    identity: id,
    certificate,
    rootKey,
    revocations: heldRevocations(c.keys!, rootKey, ed25519(env)),
    onRevocations: (cose) => keepRevocations(c.keys!, cose),
    firmwareVersion: CAMERA_FIRMWARE,
    source,
    clock: p.clock,
    random: p.random,
    digest: p.digest,
    checksum: p.checksum,
    cipher: p.cipher,
    ed25519: ed25519(env),
    status: () => {
      const u = s.usage();
      return { batteryPercent: 80, charging: true, storageTotal: u.total, storageFree: u.free, pendingSegments: u.segmentsAwaitingUpload, pendingBytes: u.awaitingUpload, bootCounter: c.boot, configVersion: 0 };
    },
    onEvent: (e) => c.events.push(describe(e)),
    board: CAMERA_BOARD,
    ...extra,
  });
}

/** Dock-delivered firmware: A/B slots on the OTA partition, trust from the KeyStore. */
function updates(env: GuestEnv): CameraSessionOptions['updates'] {
  const p = env.platform;
  const c = cam(env);
  return {
    open: () => {
      c.ota ??= new AbSlots({ flash: new p.Flash({ path: CAMERA_OTA_PATH }), digest: p.digest, checksum: p.checksum });
      c.trustKeys ??= new p.KeyStore({ path: CAMERA_TRUST_PATH });
      return new UpdateSession({ target: c.ota, trust: new KeyStoreTrust({ keyStore: c.trustKeys }), digest: p.digest, board: CAMERA_BOARD, maxPayload: c.ota.slotSize, ed25519: ed25519(env) });
    },
  };
}

export const dockEntries: Record<string, Entry> = Object.freeze({
  /** The camera's public key (made on first use from the Random port, kept in the KeyStore). */
  'dock.camera.identity': (env) => identity(env).publicKey,

  /** Provisioning: the agency root key, this camera's certificate and (optional) the agency's signed revocation list. */
  'dock.camera.install': (env, root, certificate, revocations) => {
    identity(env).provision(root as Uint8Array, certificate as Uint8Array);
    const keys = cam(env).keys!;
    if (revocations instanceof Uint8Array) keys.set(KEY_REVOCATIONS, revocations);
    else keys.delete(KEY_REVOCATIONS);
    return null;
  },

  /** The signed revocation list the camera holds now (provisioning's, or a newer one from a dock). */
  'dock.camera.revocations': (env) => {
    identity(env);
    const v = cam(env).keys!.get(KEY_REVOCATIONS);
    return v ? new Uint8Array(v) : null;
  },

  /** Provisioning: the agency's firmware-signing public key (for dock-delivered updates). */
  'dock.camera.trustFirmware': (env, publicKey) => {
    const c = cam(env);
    c.trustKeys ??= new env.platform.KeyStore({ path: CAMERA_TRUST_PATH });
    provisionFirmwareKeys(c.trustKeys, [publicKey as Uint8Array]);
    return null;
  },

  /** The firmware the camera would boot now (the simulated A/B slots), if an update was installed. */
  'dock.camera.booted': (env) => {
    const c = cam(env);
    c.ota ??= new AbSlots({ flash: new env.platform.Flash({ path: CAMERA_OTA_PATH }), digest: env.platform.digest, checksum: env.platform.checksum });
    const b = c.ota.boot();
    return b ? { slot: b.slot, length: b.length, sha256: b.sha256 } : null;
  },

  /** Format the segment store on the camera's flash. */
  'dock.camera.format': (env) => {
    const c = cam(env);
    c.flash ??= new env.platform.Flash({ path: CAMERA_STORE_PATH });
    // A camera's first segment is sequence 0: its manifest is the one with no previous (signing).
    c.store = SegmentStore.format({ flash: c.flash, checksum: env.platform.checksum, clock: env.platform.clock, firstSequence: 0 });
    // A factory-fresh camera: no chain head from an earlier life of these keys.
    c.keys ??= new env.platform.KeyStore({ path: CAMERA_KEYS_PATH });
    c.keys.delete(KEY_CHAIN_HEAD);
    c.keeper = undefined;
    return null;
  },

  /**
   * Record `segments` sealed segments of `frames` frames with `bodyBytes`-byte bodies; with
   * `cutAfter` n, one more segment gets n frames and is never sealed (the power goes while it
   * records: `dock.camera.reboot` brings it back recovered, with its manifest as its trailer).
   */
  'dock.camera.record': (env, options) => {
    const id = identity(env);
    const s = store(env);
    const k = keeper(env);
    const p = env.platform;
    const segments = arg<number>(options, 'segments');
    const frames = arg<number>(options, 'frames', 4);
    const bodyBytes = arg<number>(options, 'bodyBytes', 2048);
    const header = new FrameHeaderEncoder();
    const made: number[] = [];
    const meta: SegmentMeta = { recording: 1, boot: cam(env).boot, flags: 0, format: MEDIA_FORMAT, width: 320, height: 240, frameRate: 15 };
    const cutAfter = arg<number>(options, 'cutAfter', 0);
    for (let n = 0; n < segments + (cutAfter > 0 ? 1 : 0); n++) {
      const cut = n === segments;
      const writer = s.openSegment(encodeMeta(meta));
      const builder = k.builder(writer.sequence, meta);
      const forged = arg<number>(options, 'forgeWithSeed', 0);
      // A real JPEG to use as every frame's body (exports must play), else filler bytes.
      const jpeg = arg<Uint8Array | null>(options, 'jpeg', null);
      const tamper = arg<boolean>(options, 'tamperMedia', false);
      for (let f = 0; f < (cut ? cutAfter : frames); f++) {
        // Frames 66 ms apart (15 fps) on from the last recorded one: time never goes back.
        const c = cam(env);
        const mono = Math.max(p.clock.monotonic(), c.lastMono === undefined ? 0 : c.lastMono + 66);
        const utc = p.clock.utc() + (mono - p.clock.monotonic());
        c.lastMono = mono;
        let body: Uint8Array;
        if (jpeg) body = jpeg.slice();
        else {
          body = new Uint8Array(bodyBytes).fill((writer.sequence * 31 + f) & 255);
          body[0] = 0xff;
          body[1] = 0xd8;
        }
        const h = header.encode({
          flags: FrameFlags.KEYFRAME | (f === 0 ? FrameFlags.FIRST : 0),
          width: 320, height: 240, frameRate: 15, clockSource: 'rtc',
          frameNumber: f, monotonicMs: mono, utcMs: utc, droppedBefore: 0, gapMs: f === 0 ? 0 : 66, droppedTotal: 0, jpegLength: jpeg ? jpeg.length : bodyBytes,
        });
        builder.addFrame(h, body, { mono, utc });
        // Test evidence only: media that differs from what the manifest covers (same length).
        if (tamper && f === frames - 1) body[bodyBytes - 1] ^= 1;
        writer.append(h, body);
      }
      if (cut) break;
      // Test evidence only: a manifest signed by another key.
      const signer = forged ? new KeyPairSigner({ seed: new Uint8Array(32).fill(forged), digest: p.digest }) : id;
      const signed = builder.finish({ signer, clock: p.clock.source(), flags: FLAG_CLEAN_CLOSE });
      writer.seal(signed.bytes);
      k.sealed(signed);
      made.push(signed.manifest.seq);
    }
    return made;
  },

  /** Dock: open the Link to a dock station and start the session. */
  'dock.camera.connect': (env, options) => {
    const c = cam(env);
    const session = cameraSession(env, arg<boolean>(options, 'updates', false) ? { updates: updates(env) } : {});
    c.session = session;
    // This connection's link: callbacks still queued when it closes must not touch it (or the next one).
    let link: Link | undefined;
    const write = (frames: Uint8Array[]) => {
      try {
        for (const f of frames) link?.write(f);
      } catch (e) {
        // The cable went while we answered: the session ends; nothing was freed that wasn't receipted.
        session.disconnected(`link: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (session.state === 'closed' && link) {
        link.close();
        link = undefined;
      }
    };
    link = new env.platform.Link({
      address: arg<string>(options, 'address', '127.0.0.1'),
      port: arg<number>(options, 'port'),
      onReadable: () => {
        const b = link?.read();
        if (b) write(session.receive(new Uint8Array(b)));
      },
      onError: (message) => {
        session.disconnected(`link: ${message}`);
        if (link) {
          link.close();
          link = undefined;
        }
      },
    });
    c.link = link;
    write(session.start());
    return null;
  },

  'dock.camera.status': (env) => {
    const c = cam(env);
    const u = c.store ? c.store.usage() : undefined;
    return {
      state: c.session ? c.session.state : 'none',
      closeReason: c.session ? c.session.closeReason : '',
      events: c.events,
      pending: c.store ? c.store.segments().filter((x) => x.state === 'sealed' || (x.state === 'recovered' && x.trailer)).map((x) => x.sequence) : [],
      released: c.store ? c.store.segments().filter((x) => x.state === 'released').map((x) => x.sequence) : [],
      awaitingUpload: u ? u.awaitingUpload : 0,
      receipts: c.store ? c.store.receipts().length : 0,
    };
  },

  /** Power cycle: drop the session and the link, remount the store from flash. */
  'dock.camera.reboot': (env) => {
    const c = cam(env);
    try {
      c.link?.close();
    } catch {
      // already closed
    }
    c.link = undefined;
    c.session = undefined;
    c.store = undefined;
    c.keeper = undefined;
    c.boot++;
    store(env);
    // As the recorder at boot: a segment a cut left open gets its manifest as its trailer.
    if (identity(env).deviceId()) keeper(env).sealRecovered();
    return null;
  },

  /**
   * The bench's upload path (`npm run bench -- channel`): `count` pulls of `chunk` bytes, sealed
   * by a dock under the channel `kind` ('aead': the sealed channel of protocol version 2; 'mac':
   * version 1's HMAC channel, host-sim/candidates/session-mac; 'plain': frames with no channel at
   * all, the floor both are measured from), kept for dock.channel.answer.
   */
  'dock.channel.prepare': (env, kind, chunk, count) => {
    const p = env.platform;
    const aead = kind === 'aead';
    const size = chunk as number;
    // Fixed ephemeral keys and transcript: what a frame costs does not depend on them.
    const c = ephemeralKey(new Uint8Array(32).fill(7));
    const d = ephemeralKey(new Uint8Array(32).fill(9));
    const h = new Uint8Array(32).fill(1);
    const make = (own: { secret: Uint8Array }, peer: { publicKey: Uint8Array }, role: 'camera' | 'dock'): BenchChannel =>
      aead
        ? new SessionChannel({ cipher: p.cipher, checksum: p.checksum, keys: deriveSessionKeys(p.digest, own.secret, peer.publicKey, h), role })
        : kind === 'mac'
          ? new SessionMac({ digest: p.digest, checksum: p.checksum, keys: deriveMacKeys(p.digest, own.secret, peer.publicKey, h), role })
          : {
              seal: (room) => frameEncoded(room, p.checksum),
              sealPayload: (payload) => frameMessage(payload, p.checksum),
              open: (ev) => ev.payload,
            };
    const dockSide = make(d, c, 'dock');
    const pulls: Uint8Array[] = [];
    for (let i = 0; i < (count as number); i++) pulls.push(dockSide.sealPayload(encodeMessage('pull', { seq: 0, offset: i * size, length: size })));
    const media = new Uint8Array(size);
    for (let i = 0; i < size; i++) media[i] = (i * 31) & 255;
    env.state.channelBench = { kind: kind as string, camera: make(c, d, 'camera'), reader: new FrameReader(p.checksum), pulls, media } satisfies ChannelBench;
    return null;
  },

  /**
   * The camera's side of those pulls, as CameraSession answers one: the frame read and opened,
   * the pull decoded, the chunk encoded with room and sealed
   * in place. The media is one buffer in RAM (reading flash costs both channels the same).
   * Returns the bytes of the chunk frames made.
   */
  'dock.channel.answer': (env) => {
    const b = env.state.channelBench as ChannelBench;
    const p = env.platform;
    const prefix = b.kind === 'aead' ? SEALED_PREFIX : b.kind === 'mac' ? MAC_PREFIX : HEADER_BYTES;
    const suffix = b.kind === 'aead' ? SEALED_SUFFIX : b.kind === 'mac' ? MAC_SUFFIX : TRAILER_BYTES;
    let bytes = 0;
    for (const pull of b.pulls) {
      for (const ev of b.reader.push(pull)) {
        if (ev.kind !== 'message') throw ev.error;
        const m = decodeMessage(b.camera.open(ev));
        const data = b.media.subarray(0, num(m, 'length'));
        bytes += b.camera.seal(encodeMessageWithRoom('chunk', { seq: num(m, 'seq'), offset: num(m, 'offset'), data }, prefix, suffix)).length;
      }
    }
    return bytes;
  },
});

interface BenchChannel {
  seal(room: { buffer: Uint8Array; length: number }): Uint8Array;
  sealPayload(payload: Uint8Array): Uint8Array;
  open(ev: { payload: Uint8Array; flags: number; framed: Uint8Array }): Uint8Array;
}

interface ChannelBench {
  kind: string;
  camera: BenchChannel;
  reader: FrameReader;
  pulls: Uint8Array[];
  media: Uint8Array;
}
