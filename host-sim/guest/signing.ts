// Firmware entries for the signing area (see entries.ts): Ed25519, COSE_Sign1, the device
// identity in the KeyStore port, the per-frame manifest builder, checkpoints, receipts and the
// verifier — callable by name on Node and in XS, so tests compare the two byte for byte and the
// bench meters them. Pure ECMAScript (bundled into the XS guest).

import { isBytes, isMap, type CborValue } from '../../firmware/codec/cbor.js';
import { BodycamError, errorCode } from '../../firmware/errors.js';
import type { ClockSource } from '../../firmware/platform/clock.js';
import { tweetEd25519 } from '../../firmware/signing/ed25519.js';
import { verifySign1 } from '../../firmware/signing/cose.js';
import { DeviceIdentity } from '../../firmware/signing/identity.js';
import { ManifestBuilder, signManifest, verifyManifest, type Manifest } from '../../firmware/signing/manifest.js';
import { checkReceipt, signCheckpoint } from '../../firmware/signing/receipt.js';
import { KeyPairSigner } from '../../firmware/signing/signer.js';
import { cameraEd25519 } from './ed25519.js';
import { verifyEvidence, type DeviceInput, type EvidenceInput, type SegmentInput } from '../../firmware/signing/verifier.js';
import type { Entry, GuestEnv } from './env.js';

export const KEYSTORE_PATH = 'bodycam-keys';

function bytes(v: CborValue, what: string): Uint8Array {
  if (!isBytes(v)) throw new BodycamError('E_ARGUMENT', `${what} must be bytes`);
  return v;
}

function num(v: CborValue, what: string): number {
  if (typeof v !== 'number') throw new BodycamError('E_ARGUMENT', `${what} must be a number`);
  return v;
}

/** A CBOR map with text keys as a plain record (arguments arrive decoded as Maps). */
function record(v: CborValue, what: string): Record<string, CborValue> {
  if (!isMap(v)) throw new BodycamError('E_ARGUMENT', `${what} must be a map`);
  const out: Record<string, CborValue> = {};
  for (const [k, x] of v) out[String(k)] = x;
  return out;
}

function identity(env: GuestEnv): DeviceIdentity {
  let id = env.state.signingIdentity as DeviceIdentity | undefined;
  if (!id) {
    const keyStore = new env.platform.KeyStore({ path: KEYSTORE_PATH });
    id = new DeviceIdentity({ keyStore, random: env.platform.random, digest: env.platform.digest });
    env.state.signingIdentity = id;
  }
  return id;
}

function builder(env: GuestEnv): ManifestBuilder {
  const b = env.state.signingBuilder as ManifestBuilder | undefined;
  if (!b) throw new BodycamError('E_ARGUMENT', 'no open segment: call signing.segment.open first');
  return b;
}

function manifestArg(v: CborValue): Manifest {
  const r = record(v, 'manifest');
  return {
    device: String(r.device),
    keyId: bytes(r.keyId ?? new Uint8Array(8), 'keyId'),
    seq: num(r.seq, 'seq'),
    boot: num(r.boot, 'boot'),
    recording: num(r.recording, 'recording'),
    firstMono: num(r.firstMono, 'firstMono'),
    firstUtc: num(r.firstUtc, 'firstUtc'),
    lastMono: num(r.lastMono, 'lastMono'),
    lastUtc: num(r.lastUtc, 'lastUtc'),
    clockSource: String(r.clockSource) as ClockSource,
    lastSync: num(r.lastSync, 'lastSync'),
    frames: num(r.frames, 'frames'),
    dropped: num(r.dropped, 'dropped'),
    bytes: num(r.bytes, 'bytes'),
    format: String(r.format),
    width: num(r.width, 'width'),
    height: num(r.height, 'height'),
    media: bytes(r.media, 'media'),
    prev: r.prev === null ? null : bytes(r.prev, 'prev'),
    flags: num(r.flags, 'flags'),
    firmware: String(r.firmware),
  };
}

function evidenceArg(v: CborValue): EvidenceInput {
  const r = record(v, 'evidence');
  const list = (x: CborValue | undefined): Uint8Array[] | undefined => (Array.isArray(x) ? x.map((b) => bytes(b, 'item')) : undefined);
  const devices = (Array.isArray(r.devices) ? r.devices : []).map((dv): DeviceInput => {
    const d = record(dv, 'device');
    const segments = (Array.isArray(d.segments) ? d.segments : []).map((sv): SegmentInput => {
      const s = record(sv, 'segment');
      return {
        manifest: bytes(s.manifest, 'manifest'),
        ...(typeof s.seq === 'number' ? { seq: s.seq } : {}),
        ...(isBytes(s.mediaDigest) ? { mediaDigest: s.mediaDigest } : {}),
        ...(typeof s.mediaLength === 'number' ? { mediaLength: s.mediaLength } : {}),
        ...(isBytes(s.media) ? { media: s.media } : {}),
      };
    });
    return { id: String(d.id), segments, ...(isBytes(d.certificate) ? { certificate: d.certificate } : {}), checkpoints: list(d.checkpoints), receipts: list(d.receipts) };
  });
  return { root: bytes(r.root, 'root'), devices, ...(isBytes(r.revocations) ? { revocations: r.revocations } : {}), docks: list(r.docks) };
}

export const signingEntries: Record<string, Entry> = Object.freeze({
  'signing.ed25519.keypair': (_e, seed) => {
    const kp = tweetEd25519.keyPairFromSeed(bytes(seed, 'seed'));
    return { publicKey: kp.publicKey, secretKey: kp.secretKey };
  },
  'signing.ed25519.sign': (_e, message, secretKey) => tweetEd25519.sign(bytes(message, 'message'), bytes(secretKey, 'secretKey')),
  'signing.ed25519.verify': (_e, message, signature, publicKey) => tweetEd25519.verify(bytes(message, 'message'), bytes(signature, 'signature'), bytes(publicKey, 'publicKey')),
  /** Verify a COSE_Sign1; answers "ok" or the error code, never throws (for the vectors). `which` 'camera': with the camera's Ed25519 (noble), else tweetnacl. */
  'signing.cose.check': (env, cose, publicKey, externalAad, which) => {
    try {
      const ed25519 = which === 'camera' ? cameraEd25519(env) : undefined;
      verifySign1(bytes(cose, 'cose'), bytes(publicKey, 'publicKey'), { ...(isBytes(externalAad) ? { externalAad } : {}), ed25519 });
      return 'ok';
    } catch (e) {
      return errorCode(e);
    }
  },
  /** Open (first time: generate) the device identity in the KeyStore port. */
  'signing.identity.open': (env) => {
    const id = identity(env);
    return { publicKey: id.publicKey, keyId: id.keyId, provisioned: id.certificate() !== undefined };
  },
  'signing.identity.provision': (env, root, certificate) => identity(env).provision(bytes(root, 'root'), bytes(certificate, 'certificate')).id,
  /** Start a segment: options as ManifestBuilderOptions without the digest port. */
  'signing.segment.open': (env, options) => {
    const o = record(options, 'options');
    const format = record(o.format, 'format');
    env.state.signingBuilder = new ManifestBuilder({
      digest: env.platform.digest,
      device: String(o.device),
      seq: num(o.seq, 'seq'),
      boot: num(o.boot, 'boot'),
      recording: num(o.recording, 'recording'),
      prev: o.prev === null || o.prev === undefined ? null : bytes(o.prev, 'prev'),
      format: { format: String(format.format), width: num(format.width, 'width'), height: num(format.height, 'height') },
      firmware: String(o.firmware),
      flags: typeof o.flags === 'number' ? o.flags : 0,
    });
    return null;
  },
  /** Append frames: an array of [header, body, mono, utc]. */
  'signing.segment.frames': (env, frames) => {
    const b = builder(env);
    if (!Array.isArray(frames)) throw new BodycamError('E_ARGUMENT', 'frames must be an array');
    for (const f of frames) {
      if (!Array.isArray(f)) throw new BodycamError('E_ARGUMENT', 'a frame is [header, body, mono, utc]');
      b.addFrame(bytes(f[0], 'header'), bytes(f[1], 'body'), { mono: num(f[2], 'mono'), utc: num(f[3], 'utc') });
    }
    return b.frames;
  },
  'signing.segment.dropped': (env, count) => {
    builder(env).addDropped(num(count, 'count'));
    return null;
  },
  /** Sign the open segment's manifest with the device identity (given a seed: a key made from it; true: signing.signer's). */
  'signing.segment.finish': (env, flags, seed) => {
    const b = builder(env);
    env.state.signingBuilder = undefined;
    const cached = env.state.signingSigner as KeyPairSigner | undefined;
    const signer = isBytes(seed) ? new KeyPairSigner({ seed, digest: env.platform.digest }) : seed === true && cached ? cached : identity(env);
    const s = b.finish({ signer, clock: env.platform.clock.source(), flags: typeof flags === 'number' ? flags : 0 });
    return { bytes: s.bytes, digest: s.digest };
  },
  /**
   * Make (and keep) a signer from `seed`, so signing can be measured apart from key derivation;
   * `which` 'camera': the recorder's Ed25519 (NobleEd25519, SHA-512 through the Digest port), else tweetnacl.
   */
  'signing.signer': (env, seed, which) => {
    const ed25519 = which === 'camera' ? cameraEd25519(env) : undefined;
    const signer = new KeyPairSigner({ seed: bytes(seed, 'seed'), digest: env.platform.digest, ed25519 });
    env.state.signingSigner = signer;
    return signer.publicKey;
  },
  /** Sign a given manifest with the signer made by signing.signer (the bench's "sign one manifest"). */
  'signing.manifest.sign': (env, manifest) => {
    const signer = env.state.signingSigner as KeyPairSigner | undefined;
    if (!signer) throw new BodycamError('E_ARGUMENT', 'call signing.signer first');
    return signManifest(manifestArg(manifest), signer, env.platform.digest).bytes;
  },
  /** Verify a manifest; `which` 'camera': with the camera's Ed25519 (noble), else the reference (tweetnacl). */
  'signing.manifest.verify': (env, cose, publicKey, which) => {
    const m = verifyManifest(bytes(cose, 'cose'), bytes(publicKey, 'publicKey'), which === 'camera' ? cameraEd25519(env) : undefined);
    return { ...m } as unknown as CborValue;
  },
  /** The camera's checkpoint of its head, signed by the device identity. */
  'signing.checkpoint.sign': (env, fields) => {
    const f = record(fields, 'checkpoint');
    const clock = env.platform.clock;
    const c = signCheckpoint({
      device: String(f.device),
      seq: f.seq === null ? null : num(f.seq, 'seq'),
      head: f.head === null ? null : bytes(f.head, 'head'),
      boot: num(f.boot, 'boot'),
      mono: clock.monotonic(),
      utc: clock.utc(),
      nonce: bytes(f.nonce, 'nonce'),
    }, identity(env), env.platform.digest);
    return { bytes: c.bytes, digest: c.digest };
  },
  /** The camera's check of a receipt: returns the sequence numbers it may free. */
  'signing.receipt.check': (_e, cose, options) => {
    const o = record(options, 'options');
    const held = isMap(o.manifests) ? o.manifests : new Map<CborValue, CborValue>();
    return checkReceipt(bytes(cose, 'receipt'), {
      dockPublicKey: bytes(o.dockPublicKey, 'dockPublicKey'),
      device: String(o.device),
      nonce: bytes(o.nonce, 'nonce'),
      checkpoint: bytes(o.checkpoint, 'checkpoint'),
      manifestDigest: (seq) => {
        const d = held.get(seq);
        return isBytes(d) ? d : undefined;
      },
    }).seqs;
  },
  'signing.evidence.verify': (env, input) => verifyEvidence(evidenceArg(input), { digest: env.platform.digest }) as unknown as CborValue,
});
