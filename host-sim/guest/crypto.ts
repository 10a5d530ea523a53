// Firmware entries for firmware/crypto (see entries.ts): the Cipher port, HPKE and STREAM,
// callable by name on every engine so tests compare them byte for byte (RFC 9180's vectors on
// node, xs and mcu) and the bench meters them. The AEAD always runs through env.platform.cipher:
// natively on Node, across the bridge in XS. Pure ECMAScript (bundled into the XS guest).

import { isBytes, type CborValue } from '../../firmware/codec/cbor.js';
import { BodycamError } from '../../firmware/errors.js';
import type { AeadAlgorithm } from '../../firmware/platform/cipher.js';
import {
  HPKE_X25519_SHA256_AES128GCM, HPKE_X25519_SHA256_AES256GCM, HPKE_X25519_SHA256_CHACHA20POLY1305, hpkeDeriveKeyPair, hpkeEncap, hpkeKeySchedule, openBase, sealBase, setupBaseR, setupBaseS,
  type HpkeEnv, type HpkeSuite,
} from '../../firmware/crypto/hpke.js';
import { StreamOpener, StreamSealer, type StreamAead } from '../../firmware/crypto/stream.js';
import type { Camera } from '../../firmware/platform/camera.js';
import { RecordSealer } from '../../firmware/encoder/sealed-record.js';
import { x25519 } from '../../firmware/signing/x25519.js';
import { naclScalarMult } from '../../firmware/signing/tweetnacl.js';
import { sha256Of } from '../../firmware/platform/digest.js';
import type { Entry, GuestEnv } from './env.js';

function bytes(v: CborValue, what: string): Uint8Array {
  if (!isBytes(v)) throw new BodycamError('E_ARGUMENT', `${what} must be bytes`);
  return v;
}

function list(v: CborValue, what: string): Uint8Array[] {
  if (!Array.isArray(v)) throw new BodycamError('E_ARGUMENT', `${what} must be an array of bytes`);
  return v.map((x, i) => bytes(x, `${what}[${i}]`));
}

/** A copy of `data` as a view `offset` bytes into a buffer with room after it too (0 or absent: a buffer of its own). */
function within(data: Uint8Array, offset: CborValue | undefined): Uint8Array {
  const at = typeof offset === 'number' ? offset : 0;
  const room = new Uint8Array(at + data.length + (at ? 7 : 0));
  room.set(data, at);
  return room.subarray(at, at + data.length);
}

function suiteOf(v: CborValue): HpkeSuite {
  if (v === 'AES-128-GCM') return HPKE_X25519_SHA256_AES128GCM;
  if (v === 'AES-256-GCM') return HPKE_X25519_SHA256_AES256GCM;
  if (v === 'CHACHA20-POLY1305') return HPKE_X25519_SHA256_CHACHA20POLY1305;
  throw new BodycamError('E_ARGUMENT', `no HPKE suite with AEAD ${String(v)}`);
}

/** A STREAM's AEAD: absent means the default (STREAM_AEAD). */
function streamAead(v: CborValue | undefined): StreamAead | undefined {
  return v === undefined || v === null ? undefined : (String(v) as StreamAead);
}

function hpkeEnv(e: GuestEnv): HpkeEnv {
  return { digest: e.platform.digest, cipher: e.platform.cipher };
}

export const cryptoEntries: Record<string, Entry> = Object.freeze({
  /** One AEAD seal through the Cipher port (`offset`: the data placed that far into a larger buffer, sealed as a view): [ciphertext, tag]. */
  'crypto.aead.seal': (e, algorithm, key, nonce, aad, data, offset) => {
    const d = within(bytes(data, 'data'), offset);
    const c = e.platform.cipher.create(String(algorithm) as AeadAlgorithm, bytes(key, 'key'));
    try {
      const tag = c.seal(bytes(nonce, 'nonce'), bytes(aad, 'aad'), d);
      return [d.slice(), new Uint8Array(tag)];
    } finally {
      c.close();
    }
  },
  /** One AEAD open through the Cipher port: the plaintext, or false (and the bytes as they were). */
  'crypto.aead.open': (e, algorithm, key, nonce, aad, data, tag, offset) => {
    const d = within(bytes(data, 'data'), offset);
    const c = e.platform.cipher.create(String(algorithm) as AeadAlgorithm, bytes(key, 'key'));
    try {
      const ok = c.open(bytes(nonce, 'nonce'), bytes(aad, 'aad'), d, bytes(tag, 'tag'));
      return [ok, d.slice()];
    } finally {
      c.close();
    }
  },
  /** RFC 9180 setup from seeds: [skR, pkR, skE, pkE (enc), shared_secret, key, base_nonce, exporter_secret]. */
  'crypto.hpke.setup': (e, suite, ikmR, ikmE, info) => {
    const env = hpkeEnv(e);
    const s = suiteOf(suite);
    const r = hpkeDeriveKeyPair(env, s, bytes(ikmR, 'ikmR'));
    const eph = hpkeDeriveKeyPair(env, s, bytes(ikmE, 'ikmE'));
    const { sharedSecret, enc } = hpkeEncap(env, s, r.publicKey, bytes(ikmE, 'ikmE'));
    const k = hpkeKeySchedule(env, s, sharedSecret, bytes(info, 'info'));
    return [r.secret, r.publicKey, eph.secret, enc, sharedSecret, k.key, k.baseNonce, k.exporterSecret];
  },
  /**
   * A sender context (SetupBaseS) sealing plaintext `pts[i]` with `aads[i]` at sequence number
   * `seqs[i]` (numbers in between are used on a throwaway message), then exporting: [enc, cts, exports].
   */
  'crypto.hpke.seal': (e, suite, pkR, ikmE, info, seqs, aads, pts, exporterContexts, exportLength) => {
    const env = hpkeEnv(e);
    const { enc, context } = setupBaseS(env, suiteOf(suite), bytes(pkR, 'pkR'), bytes(info, 'info'), bytes(ikmE, 'ikmE'));
    const a = list(aads, 'aads');
    const p = list(pts, 'pts');
    const cts: Uint8Array[] = [];
    let seq = 0;
    (seqs as number[]).forEach((want, i) => {
      for (; seq < want; seq++) context.seal(new Uint8Array(0), new Uint8Array(0));
      cts.push(context.seal(a[i], p[i]));
      seq++;
    });
    const exports = list(exporterContexts, 'exporterContexts').map((c) => context.exportSecret(c, exportLength as number));
    context.close();
    return [enc, cts, exports];
  },
  /** A receiver context (SetupBaseR) opening `cts[i]` at sequence numbers 0, 1, 2, …: the plaintexts and the exports. */
  'crypto.hpke.open': (e, suite, enc, skR, info, seqs, aads, cts, exporterContexts, exportLength) => {
    const env = hpkeEnv(e);
    const context = setupBaseR(env, suiteOf(suite), bytes(enc, 'enc'), bytes(skR, 'skR'), bytes(info, 'info'));
    const a = list(aads, 'aads');
    const c = list(cts, 'cts');
    const pts: Uint8Array[] = [];
    let seq = 0;
    try {
      (seqs as number[]).forEach((want, i) => {
        // A receiver's sequence number moves only with a message it opened: give them from 0, in order.
        if (want !== seq) throw new BodycamError('E_ARGUMENT', 'crypto.hpke.open takes consecutive sequence numbers from 0');
        pts.push(context.open(a[i], c[i]));
        seq++;
      });
      const exports = list(exporterContexts, 'exporterContexts').map((x) => context.exportSecret(x, exportLength as number));
      return [pts, exports];
    } finally {
      context.close();
    }
  },
  /** X25519(k, u): the camera's (BigInt field, firmware/signing/x25519.ts) or tweetnacl's scalarMult (the bench's baseline). */
  'crypto.x25519': (_e, which, k, u) => (which === 'tweetnacl' ? naclScalarMult : x25519)(bytes(k, 'k'), bytes(u, 'u')),
  /**
   * What the camera does per segment: wrap a fresh content key to an evidence key with HPKE
   * (SealBase, ChaCha20Poly1305: an ephemeral key pair from 32 random bytes, one DH, the key schedule,
   * one seal). [enc, wrapped key].
   */
  'crypto.hpke.wrap': (e, pkR, ikmE, contentKey) => {
    const r = sealBase(hpkeEnv(e), HPKE_X25519_SHA256_CHACHA20POLY1305, bytes(pkR, 'pkR'), new Uint8Array(0), new Uint8Array(0), bytes(contentKey, 'contentKey'), bytes(ikmE, 'ikmE'));
    return [r.enc, r.ciphertext];
  },
  /** Single-shot SealBase: [enc, ciphertext]. */
  'crypto.hpke.sealBase': (e, suite, pkR, info, aad, pt, ikmE) => {
    const r = sealBase(hpkeEnv(e), suiteOf(suite), bytes(pkR, 'pkR'), bytes(info, 'info'), bytes(aad, 'aad'), bytes(pt, 'pt'), bytes(ikmE, 'ikmE'));
    return [r.enc, r.ciphertext];
  },
  /** Single-shot OpenBase: the plaintext (E_HPKE_OPEN if it does not authenticate). */
  'crypto.hpke.openBase': (e, suite, enc, skR, info, aad, ct) =>
    openBase(hpkeEnv(e), suiteOf(suite), bytes(enc, 'enc'), bytes(skR, 'skR'), bytes(info, 'info'), bytes(aad, 'aad'), bytes(ct, 'ct')),
  /** Seal `chunks` as one STREAM (the last one final; `algorithm`: its AEAD, default AES-256-GCM): [ciphertexts, tags]. */
  'crypto.stream.seal': (e, key, chunks, aads, algorithm) => {
    const s = new StreamSealer(e.platform.cipher, bytes(key, 'key'), streamAead(algorithm));
    const c = list(chunks, 'chunks').map((x) => new Uint8Array(x));
    const a = list(aads, 'aads');
    const tags = c.map((x, i) => s.seal(x, a[i], i === c.length - 1));
    s.close();
    return [c, tags];
  },
  /**
   * Open chunks as a reader does: chunk i under index i, final only on the last one given. The
   * plaintexts, or the error (E_STREAM_AUTH) with the bytes of every chunk still as they came.
   */
  'crypto.stream.open': (e, key, chunks, tags, aads, algorithm) => {
    const o = new StreamOpener(e.platform.cipher, bytes(key, 'key'), streamAead(algorithm));
    const c = list(chunks, 'chunks').map((x) => new Uint8Array(x));
    const t = list(tags, 'tags');
    const a = list(aads, 'aads');
    try {
      c.forEach((x, i) => o.open(i, i === c.length - 1, a[i], x, t[i]));
      return c;
    } finally {
      o.close();
    }
  },

  /**
   * The recorder's sealer alone: seal `count` records of a 48-byte header (byte 0 = the record's
   * number) and `body` (one buffer, sealed in place again and again) under the content key `key`
   * (prepared, so no wrap). Returns the last record's first part and the body as sealed. The bench
   * meters it against `count` = 0 for the firmware's cost of a record, bridge excluded.
   */
  'crypto.sealed.records': (e, key, count, body) => {
    const s = new RecordSealer({
      cipher: e.platform.cipher, digest: e.platform.digest, random: e.platform.random, recipients: [new Uint8Array(32)],
      prepared: { key: bytes(key, 'key').slice(), recipients: [{ kid: new Uint8Array(8), enc: new Uint8Array(32), key: new Uint8Array(48) }] },
    });
    const header = new Uint8Array(48);
    const b = bytes(body, 'body').slice();
    let last: Uint8Array = new Uint8Array(0);
    for (let i = 0; i < (count as number); i++) {
      header[0] = i;
      last = s.seal(header, b);
    }
    s.close();
    return [last.slice(), b];
  },
  /** Open the Camera port and start it (frames become ready as the host runs virtual time). */
  'crypto.camera.open': (e, width, height, frameRate) => {
    const old = e.state.cryptoCamera as Camera | undefined;
    old?.close();
    const camera = new e.platform.Camera({ width: width as number, height: height as number, imageType: 'jpeg', format: 'buffer/disposable', frameRate: frameRate as number, onReadable: () => {} });
    camera.start();
    e.state.cryptoCamera = camera;
    e.state.cryptoSealer = undefined;
    return null;
  },
  /**
   * Read every ready frame and, when `seal`, seal its body in place (the camera's own buffer, lent
   * across the bridge in XS) as the next chunk of one STREAM under `key`; then take its CRC-32
   * through the Checksum port and its SHA-256 through the Digest port, as a record write would,
   * and close it. `copy`: also return the body as the firmware's own bytes hold it. Returns
   * [tags, crcs, digests, bodies]: the bench runs it with and without `seal` for the cost of a seal.
   */
  'crypto.camera.frames': (e, key, seal, copy) => {
    const camera = e.state.cryptoCamera as Camera | undefined;
    if (!camera) throw new BodycamError('E_ARGUMENT', 'call crypto.camera.open first');
    let sealer = e.state.cryptoSealer as StreamSealer | undefined;
    if (seal === true && !sealer) e.state.cryptoSealer = sealer = new StreamSealer(e.platform.cipher, bytes(key, 'key'));
    const aad = new Uint8Array(0);
    const tags: Uint8Array[] = [];
    const crcs: number[] = [];
    const digests: Uint8Array[] = [];
    const bodies: Uint8Array[] = [];
    for (let f = camera.read(); f; f = camera.read()) {
      const body = new Uint8Array(f.buffer);
      if (seal === true && sealer) tags.push(sealer.seal(body, aad, false));
      crcs.push(e.platform.checksum.crc32(f.buffer));
      digests.push(sha256Of(e.platform.digest, body));
      if (copy === true) bodies.push(body.slice());
      f.close();
    }
    return [tags, crcs, digests, bodies];
  },
});
