// The next segment's content key, made and wrapped ahead of its rollover, a slice at a time.
//
// A sealed segment's content key is wrapped with HPKE to each evidence key (SealBase: DeriveKeyPair
// of 32 random bytes, Encap's two X25519 ladders, the key schedule, one AEAD seal): about 1.5 M XS
// units, some 290 ms of a 240 MHz core. Done inside the camera callback at a rollover, that lost
// frames on device timing (the driver's 3 buffers hold 200 ms at 15 fps, 120 ms at 25). So the
// recorder makes the next segment's key right after a segment opens, here, in timer slices of a
// few dozen ladder steps between frames, and the rollover only takes the ready key.
//
// The steps are RFC 9180's SealBase exactly (the same bytes wrapContentKey gives for the same
// seeds: test/capture-device-timing.test.ts checks it), cut at the ladders:
//   skE = DeriveKeyPair(ikm).sk (§7.1.3)   → pkE = X25519(skE, 9)   → dh = X25519(skE, pkR)
//   shared = ExtractAndExpand(dh, pkE ‖ pkR) (§4.1) → KeySchedule(base, shared, info) (§5.1)
//   → ct ‖ tag = Seal(key, base_nonce, "", contentKey) (§5.2, sequence 0).
// The KEM's labeled HKDF steps are hpke.ts's (hpkeDeriveSecret, hpkeEncapSecret); only the ladders are cut here.
//
// The prepared key is in RAM a segment early (FORMAT says so); close() zeroes it and every
// intermediate secret, and nothing of it is ever written to flash or the key store.

import { BodycamError } from '../errors.js';
import type { Cipher } from '../platform/cipher.js';
import type { Digest } from '../platform/digest.js';
import type { Random } from '../platform/random.js';
import { hpkeDeriveSecret, hpkeEncapSecret, hpkeKeySchedule, type HpkeSuite } from '../crypto/hpke.js';
import { X25519Ladder, X25519_LADDER_STEPS } from '../signing/x25519.js';
import { CONTENT_KEY_BYTES, contentKeyInfo, sealedSuite, SEALED_SCHEME, type SealedRecipient } from '../encoder/sealed-record.js';
import { evidenceKeyId } from '../provision/evidence-keys.js';

/** Ladder steps a slice runs: about 25 k XS units each step, so a slice stays near a frame's own cost. */
export const WRAP_STEPS_PER_SLICE = 16;

/** A content key and its wrap to every evidence key: what a RecordSealer starts from. */
export interface PreparedContentKey {
  key: Uint8Array;
  recipients: SealedRecipient[];
}

/** One recipient's encapsulation in progress. */
interface Encap {
  publicKey: Uint8Array;
  secret: Uint8Array;
  ladder: X25519Ladder;
  enc: Uint8Array | undefined;
}

/**
 * A fresh content key wrapped to each evidence key, made by step() a slice at a time. `take()`
 * hands the finished key over (the caller then owns and zeroes it); close() forgets it at any point.
 */
export class ContentKeyWrap {
  readonly #cipher: Cipher;
  readonly #digest: Digest;
  readonly #suite: HpkeSuite;
  /** The evidence keys' public keys it wraps to (the configuration may change before it is used). */
  readonly publicKeys: readonly Uint8Array[];
  #key: Uint8Array | undefined;
  #todo: Encap[] = [];
  #done: SealedRecipient[] = [];

  constructor(o: { cipher: Cipher; digest: Digest; random: Random; recipients: readonly Uint8Array[]; scheme?: string }) {
    this.#cipher = o.cipher;
    this.#digest = o.digest;
    this.#suite = sealedSuite(o.scheme ?? SEALED_SCHEME).hpke;
    this.publicKeys = o.recipients.slice();
    const key = (this.#key = new Uint8Array(CONTENT_KEY_BYTES));
    o.random.fill(key);
    const ikm = new Uint8Array(32);
    try {
      for (const publicKey of o.recipients) {
        if (publicKey.length !== 32) throw new BodycamError('E_HPKE_KEY', `an X25519 recipient public key is 32 bytes, not ${publicKey.length}`);
        o.random.fill(ikm);
        const secret = hpkeDeriveSecret(o.digest, this.#suite, ikm); // skE of DeriveKeyPair(ikm) (§7.1.3)
        const base = new Uint8Array(32);
        base[0] = 9;
        this.#todo.push({ publicKey, secret, ladder: new X25519Ladder(secret, base), enc: undefined });
      }
    } finally {
      ikm.fill(0);
    }
  }

  /** Everything is wrapped: take() gives the key. */
  get ready(): boolean {
    return this.#key !== undefined && this.#todo.length === 0;
  }

  /** One slice: up to `steps` ladder steps, or finishing one recipient's wrap. True when ready. */
  step(steps = WRAP_STEPS_PER_SLICE): boolean {
    const e = this.#todo[0];
    if (!e || !this.#key) return this.ready;
    if (!e.ladder.step(steps)) return false;
    const out = e.ladder.result();
    if (!e.enc) {
      e.enc = out; // pkE = X25519(skE, 9); now DH(skE, pkR)
      e.ladder = new X25519Ladder(e.secret, e.publicKey);
      return false;
    }
    e.secret.fill(0);
    this.#todo.shift();
    try {
      this.#done.push(this.#seal(e.publicKey, e.enc, out));
    } finally {
      out.fill(0);
    }
    return this.ready;
  }

  /** Run the remaining steps now. */
  finish(): void {
    while (!this.step(X25519_LADDER_STEPS)) { /* the rest in one go */ }
  }

  /** Encap's shared secret from dh, the key schedule, and the content key sealed under it (sequence 0). */
  #seal(publicKey: Uint8Array, enc: Uint8Array, dh: Uint8Array): SealedRecipient {
    const shared = hpkeEncapSecret(this.#digest, this.#suite, dh, enc, publicKey);
    const schedule = hpkeKeySchedule({ digest: this.#digest, cipher: this.#cipher }, this.#suite, shared, contentKeyInfo());
    shared.fill(0);
    const aead = this.#cipher.create(this.#suite.algorithm, schedule.key);
    schedule.key.fill(0);
    schedule.exporterSecret.fill(0);
    const sealed = new Uint8Array(CONTENT_KEY_BYTES + 16);
    try {
      sealed.set(this.#key!);
      sealed.set(new Uint8Array(aead.seal(schedule.baseNonce, new Uint8Array(0), sealed.subarray(0, CONTENT_KEY_BYTES))), CONTENT_KEY_BYTES);
    } finally {
      aead.close();
      schedule.baseNonce.fill(0);
    }
    return { kid: evidenceKeyId(publicKey, this.#digest), enc, key: sealed };
  }

  /** The finished key and its recipients, handed over once (E_ARGUMENT if not ready). */
  take(): PreparedContentKey {
    const key = this.#key;
    if (!key || !this.ready) throw new BodycamError('E_ARGUMENT', 'the next content key is not wrapped yet');
    this.#key = undefined;
    const recipients = this.#done;
    this.#done = [];
    return { key, recipients };
  }

  /** Forget everything not handed over: the key, the ephemeral secrets, the ladders. */
  close(): void {
    this.#key?.fill(0);
    this.#key = undefined;
    for (const e of this.#todo) {
      e.secret.fill(0);
      e.ladder.close();
    }
    this.#todo = [];
    this.#done = [];
  }
}
