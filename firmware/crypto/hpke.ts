// HPKE (RFC 9180), base mode only, with DHKEM(X25519, HKDF-SHA256) and HKDF-SHA256, the AEAD
// being AES-128-GCM, AES-256-GCM or ChaCha20-Poly1305 through the Cipher port. X25519 is the signer's field
// arithmetic (firmware/signing/x25519.ts), SHA-256 the Digest port: what runs in JavaScript is
// the two ladders of an encapsulation and a few dozen HMACs, never a loop over a payload.
//
// Each step is RFC 9180's, named as there (section numbers in the comments), so a reader checks
// it against the RFC line by line; test/crypto-hpke.test.ts checks Appendix A.1 byte for byte and
// the AES-256-GCM suite against @hpke/core in both directions, test/crypto-chacha.test.ts
// Appendix A.2 (ChaCha20Poly1305) byte for byte and against @hpke/chacha20poly1305.
//
// Errors: E_HPKE_KEY (a recipient or ephemeral key that is not 32 bytes, or a DH that gives the
// all-zero secret, RFC 9180 §7.1.4), E_HPKE_OPEN (a ciphertext that does not authenticate),
// E_HPKE_LIMIT (a context's sequence number is used up), E_HPKE_CLOSED (a closed context).

import { BodycamError } from '../errors.js';
import type { AeadAlgorithm, AeadContext, Cipher } from '../platform/cipher.js';
import { AEAD_NONCE_BYTES, AEAD_TAG_BYTES } from '../platform/cipher.js';
import type { Digest } from '../platform/digest.js';
import { x25519, x25519Public } from '../signing/x25519.js';
import { HASH_BYTES, hkdfExpand, hkdfExtract } from './hkdf.js';

export interface HpkeSuite {
  /** KEM identifier (RFC 9180 §7.1): 0x0020 DHKEM(X25519, HKDF-SHA256). */
  readonly kem: number;
  /** KDF identifier (§7.2): 0x0001 HKDF-SHA256. */
  readonly kdf: number;
  /** AEAD identifier (§7.3): 0x0001 AES-128-GCM, 0x0002 AES-256-GCM, 0x0003 ChaCha20Poly1305. */
  readonly aead: number;
  /** The Cipher port's name for the AEAD. */
  readonly algorithm: AeadAlgorithm;
  /** Nk: bytes of the AEAD key. */
  readonly keyBytes: number;
}

/** The suite the camera wraps segment keys with: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM. */
export const HPKE_X25519_SHA256_AES256GCM: HpkeSuite = Object.freeze({ kem: 0x0020, kdf: 0x0001, aead: 0x0002, algorithm: 'AES-256-GCM', keyBytes: 32 });
/** RFC 9180 Appendix A.1's suite (AES-128-GCM), for its test vectors. */
export const HPKE_X25519_SHA256_AES128GCM: HpkeSuite = Object.freeze({ kem: 0x0020, kdf: 0x0001, aead: 0x0001, algorithm: 'AES-128-GCM', keyBytes: 16 });
/** DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20Poly1305 (AEAD 0x0003; RFC 9180 Appendix A.2's suite). */
export const HPKE_X25519_SHA256_CHACHA20POLY1305: HpkeSuite = Object.freeze({ kem: 0x0020, kdf: 0x0001, aead: 0x0003, algorithm: 'CHACHA20-POLY1305', keyBytes: 32 });

/** The ports HPKE runs on. */
export interface HpkeEnv {
  digest: Digest;
  cipher: Cipher;
}

/** Bytes of an X25519 key, of `enc` (Nenc, Npk, Nsk) and of the KEM's shared secret (Nsecret). */
export const X25519_BYTES = 32;

/** A context made by setupBaseS or setupBaseR (RFC 9180 §5.2). */
export interface HpkeContext {
  /** ct ‖ tag (a new array) for the next sequence number. */
  seal(aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** The plaintext (a new array) of ct ‖ tag under the next sequence number; E_HPKE_OPEN if it does not authenticate. */
  open(aad: Uint8Array, ciphertext: Uint8Array): Uint8Array;
  /** Secret export (§5.3): `length` bytes bound to `exporterContext`. */
  exportSecret(exporterContext: Uint8Array, length: number): Uint8Array;
  /** Forgets the key, base nonce and exporter secret. */
  close(): void;
}

// ---------------------------------------------------------------- encodings (§4, §5.1)

function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0x7f;
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** I2OSP(n, 2). */
function u16(n: number): Uint8Array {
  const out = new Uint8Array(2);
  out[0] = (n >>> 8) & 0xff;
  out[1] = n & 0xff;
  return out;
}

/** suite_id of the KEM: "KEM" ‖ I2OSP(kem_id, 2) (§4.1). */
function kemSuiteId(suite: HpkeSuite): Uint8Array {
  return concat(ascii('KEM'), u16(suite.kem));
}

/** suite_id of HPKE: "HPKE" ‖ I2OSP(kem_id, 2) ‖ I2OSP(kdf_id, 2) ‖ I2OSP(aead_id, 2) (§5.1). */
function hpkeSuiteId(suite: HpkeSuite): Uint8Array {
  return concat(ascii('HPKE'), u16(suite.kem), u16(suite.kdf), u16(suite.aead));
}

/** LabeledExtract(salt, label, ikm) = Extract(salt, "HPKE-v1" ‖ suite_id ‖ label ‖ ikm) (§4). */
function labeledExtract(digest: Digest, suiteId: Uint8Array, salt: Uint8Array, label: string, ikm: Uint8Array): Uint8Array {
  return hkdfExtract(digest, salt, concat(ascii('HPKE-v1'), suiteId, ascii(label), ikm));
}

/** LabeledExpand(prk, label, info, L) = Expand(prk, I2OSP(L, 2) ‖ "HPKE-v1" ‖ suite_id ‖ label ‖ info, L) (§4). */
function labeledExpand(digest: Digest, suiteId: Uint8Array, prk: Uint8Array, label: string, info: Uint8Array, length: number): Uint8Array {
  return hkdfExpand(digest, prk, concat(u16(length), ascii('HPKE-v1'), suiteId, ascii(label), info), length);
}

function checkSuite(suite: HpkeSuite): void {
  const aeadOk =
    (suite.aead === 0x0001 && suite.algorithm === 'AES-128-GCM' && suite.keyBytes === 16) ||
    (suite.aead === 0x0002 && suite.algorithm === 'AES-256-GCM' && suite.keyBytes === 32) ||
    (suite.aead === 0x0003 && suite.algorithm === 'CHACHA20-POLY1305' && suite.keyBytes === 32);
  if (suite.kem !== 0x0020 || suite.kdf !== 0x0001 || !aeadOk) {
    throw new BodycamError('E_HPKE_SUITE', `HPKE suite (kem ${suite.kem}, kdf ${suite.kdf}, aead ${suite.aead}) is not one this firmware implements`);
  }
}

function checkKey(name: string, key: Uint8Array): void {
  if (key.length !== X25519_BYTES) throw new BodycamError('E_HPKE_KEY', `an X25519 ${name} is ${X25519_BYTES} bytes, not ${key.length}`);
}

// ---------------------------------------------------------------- DHKEM(X25519, HKDF-SHA256) (§4.1, §7.1)

/**
 * The secret key of DeriveKeyPair(ikm) (§7.1.3) alone: its public key is X25519(sk, 9), which a
 * caller that can't afford the ladder in one piece runs in slices (firmware/recorder/key-wrap.ts).
 */
export function hpkeDeriveSecret(digest: Digest, suite: HpkeSuite, ikm: Uint8Array): Uint8Array {
  checkSuite(suite);
  if (ikm.length < X25519_BYTES) throw new BodycamError('E_HPKE_KEY', `DeriveKeyPair needs at least ${X25519_BYTES} bytes of seed, not ${ikm.length}`);
  const kid = kemSuiteId(suite);
  const dkpPrk = labeledExtract(digest, kid, new Uint8Array(0), 'dkp_prk', ikm);
  const secret = labeledExpand(digest, kid, dkpPrk, 'sk', new Uint8Array(0), X25519_BYTES);
  dkpPrk.fill(0);
  return secret;
}

/** DeriveKeyPair(ikm) (§7.1.3): the key pair a 32-byte (or longer) seed gives. */
export function hpkeDeriveKeyPair(env: HpkeEnv, suite: HpkeSuite, ikm: Uint8Array): { secret: Uint8Array; publicKey: Uint8Array } {
  const secret = hpkeDeriveSecret(env.digest, suite, ikm);
  return { secret, publicKey: x25519Public(secret) };
}

/** Refuses the all-zero DH output of a low-order point (§7.1.4). */
function refuseLowOrder(z: Uint8Array): Uint8Array {
  let any = 0;
  for (let i = 0; i < z.length; i++) any |= z[i];
  if (any === 0) throw new BodycamError('E_HPKE_KEY', 'the X25519 public key is a low-order point (the shared secret is all zeros)');
  return z;
}

/** DH(sk, pk), refusing the all-zero output of a low-order point (§7.1.4). */
function dh(secret: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return refuseLowOrder(x25519(secret, publicKey));
}

/** ExtractAndExpand(dh, kem_context) (§4.1). */
function extractAndExpand(digest: Digest, suite: HpkeSuite, z: Uint8Array, kemContext: Uint8Array): Uint8Array {
  const kid = kemSuiteId(suite);
  const eaePrk = labeledExtract(digest, kid, new Uint8Array(0), 'eae_prk', z);
  const shared = labeledExpand(digest, kid, eaePrk, 'shared_secret', kemContext, X25519_BYTES);
  eaePrk.fill(0);
  return shared;
}

/** Encap(pkR) (§4.1) with the ephemeral key derived from `ephemeralIkm`, as the RFC's test vectors do it. */
export function hpkeEncap(env: HpkeEnv, suite: HpkeSuite, recipientPublic: Uint8Array, ephemeralIkm: Uint8Array): { sharedSecret: Uint8Array; enc: Uint8Array } {
  checkKey('recipient public key', recipientPublic);
  const e = hpkeDeriveKeyPair(env, suite, ephemeralIkm);
  const z = x25519(e.secret, recipientPublic);
  e.secret.fill(0);
  try {
    return { sharedSecret: hpkeEncapSecret(env.digest, suite, z, e.publicKey, recipientPublic), enc: e.publicKey };
  } finally {
    z.fill(0);
  }
}

/**
 * Encap's shared secret (§4.1) from z = DH(skE, pkR), enc = pkE and pkR: ExtractAndExpand(z,
 * enc ‖ pkR), refusing an all-zero z (a low-order pkR).
 */
export function hpkeEncapSecret(digest: Digest, suite: HpkeSuite, z: Uint8Array, enc: Uint8Array, recipientPublic: Uint8Array): Uint8Array {
  return extractAndExpand(digest, suite, refuseLowOrder(z), concat(enc, recipientPublic));
}

/** Decap(enc, skR) (§4.1). */
export function hpkeDecap(env: HpkeEnv, suite: HpkeSuite, enc: Uint8Array, recipientSecret: Uint8Array): Uint8Array {
  checkSuite(suite);
  checkKey('encapsulated key', enc);
  checkKey('recipient secret', recipientSecret);
  const z = dh(recipientSecret, enc);
  const shared = extractAndExpand(env.digest, suite, z, concat(enc, x25519Public(recipientSecret)));
  z.fill(0);
  return shared;
}

// ---------------------------------------------------------------- key schedule and context (§5.1, §5.2)

/** What KeySchedule gives in base mode (§5.1): the AEAD key, base nonce and exporter secret. */
export interface HpkeSchedule {
  key: Uint8Array;
  baseNonce: Uint8Array;
  exporterSecret: Uint8Array;
}

/** KeySchedule(mode_base, shared_secret, info, default_psk, default_psk_id) (§5.1). */
export function hpkeKeySchedule(env: HpkeEnv, suite: HpkeSuite, sharedSecret: Uint8Array, info: Uint8Array): HpkeSchedule {
  checkSuite(suite);
  const d = env.digest;
  const sid = hpkeSuiteId(suite);
  const empty = new Uint8Array(0);
  const pskIdHash = labeledExtract(d, sid, empty, 'psk_id_hash', empty);
  const infoHash = labeledExtract(d, sid, empty, 'info_hash', info);
  const context = concat(Uint8Array.of(0x00), pskIdHash, infoHash); // mode_base = 0x00
  const secret = labeledExtract(d, sid, sharedSecret, 'secret', empty);
  const schedule = {
    key: labeledExpand(d, sid, secret, 'key', context, suite.keyBytes),
    baseNonce: labeledExpand(d, sid, secret, 'base_nonce', context, AEAD_NONCE_BYTES),
    exporterSecret: labeledExpand(d, sid, secret, 'exp', context, HASH_BYTES),
  };
  secret.fill(0);
  return schedule;
}

/** The largest sequence number a context uses: JavaScript's safe integers, far below 2^96 - 1. */
const MAX_SEQUENCE = Number.MAX_SAFE_INTEGER;

class BaseContext implements HpkeContext {
  #aead: AeadContext | undefined;
  #suiteId: Uint8Array;
  #digest: Digest;
  #baseNonce: Uint8Array;
  #exporterSecret: Uint8Array;
  #seq = 0;

  constructor(env: HpkeEnv, suite: HpkeSuite, schedule: HpkeSchedule) {
    this.#aead = env.cipher.create(suite.algorithm, schedule.key);
    schedule.key.fill(0);
    this.#digest = env.digest;
    this.#suiteId = hpkeSuiteId(suite);
    this.#baseNonce = schedule.baseNonce;
    this.#exporterSecret = schedule.exporterSecret;
  }

  #live(): AeadContext {
    if (!this.#aead) throw new BodycamError('E_HPKE_CLOSED', 'the HPKE context was closed');
    if (this.#seq >= MAX_SEQUENCE) throw new BodycamError('E_HPKE_LIMIT', 'the HPKE context has used every sequence number');
    return this.#aead;
  }

  /** ComputeNonce(seq) = base_nonce XOR I2OSP(seq, Nn) (§5.2). */
  #nonce(): Uint8Array {
    const nonce = this.#baseNonce.slice();
    let seq = this.#seq;
    for (let i = AEAD_NONCE_BYTES - 1; i >= 0 && seq > 0; i--) {
      nonce[i] ^= seq % 256;
      seq = Math.floor(seq / 256);
    }
    return nonce;
  }

  seal(aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    const aead = this.#live();
    const out = new Uint8Array(plaintext.length + AEAD_TAG_BYTES);
    out.set(plaintext);
    const tag = aead.seal(this.#nonce(), aad, out.subarray(0, plaintext.length));
    out.set(new Uint8Array(tag), plaintext.length);
    this.#seq++;
    return out;
  }

  open(aad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    const aead = this.#live();
    if (ciphertext.length < AEAD_TAG_BYTES) throw new BodycamError('E_HPKE_OPEN', `an HPKE ciphertext is at least ${AEAD_TAG_BYTES} bytes (its tag), not ${ciphertext.length}`);
    const n = ciphertext.length - AEAD_TAG_BYTES;
    const out = new Uint8Array(ciphertext.subarray(0, n)); // a copy (a Buffer's slice would share)
    if (!aead.open(this.#nonce(), aad, out, ciphertext.subarray(n))) {
      throw new BodycamError('E_HPKE_OPEN', 'the HPKE ciphertext does not authenticate: another recipient key, another encapsulation or info, or altered bytes');
    }
    this.#seq++;
    return out;
  }

  exportSecret(exporterContext: Uint8Array, length: number): Uint8Array {
    if (!this.#aead) throw new BodycamError('E_HPKE_CLOSED', 'the HPKE context was closed');
    return labeledExpand(this.#digest, this.#suiteId, this.#exporterSecret, 'sec', exporterContext, length);
  }

  close(): void {
    this.#aead?.close();
    this.#aead = undefined;
    this.#baseNonce.fill(0);
    this.#exporterSecret.fill(0);
  }
}

/** SetupBaseS(pkR, info) (§5.1.1), the ephemeral key derived from `ephemeralIkm` (32 random bytes). */
export function setupBaseS(env: HpkeEnv, suite: HpkeSuite, recipientPublic: Uint8Array, info: Uint8Array, ephemeralIkm: Uint8Array): { enc: Uint8Array; context: HpkeContext } {
  const { sharedSecret, enc } = hpkeEncap(env, suite, recipientPublic, ephemeralIkm);
  const schedule = hpkeKeySchedule(env, suite, sharedSecret, info);
  sharedSecret.fill(0);
  return { enc, context: new BaseContext(env, suite, schedule) };
}

/** SetupBaseR(enc, skR, info) (§5.1.1). */
export function setupBaseR(env: HpkeEnv, suite: HpkeSuite, enc: Uint8Array, recipientSecret: Uint8Array, info: Uint8Array): HpkeContext {
  const sharedSecret = hpkeDecap(env, suite, enc, recipientSecret);
  const schedule = hpkeKeySchedule(env, suite, sharedSecret, info);
  sharedSecret.fill(0);
  return new BaseContext(env, suite, schedule);
}

/** Single-shot Seal in base mode (§6.1): `ciphertext` is ct ‖ tag. */
export function sealBase(env: HpkeEnv, suite: HpkeSuite, recipientPublic: Uint8Array, info: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, ephemeralIkm: Uint8Array): { enc: Uint8Array; ciphertext: Uint8Array } {
  const { enc, context } = setupBaseS(env, suite, recipientPublic, info, ephemeralIkm);
  try {
    return { enc, ciphertext: context.seal(aad, plaintext) };
  } finally {
    context.close();
  }
}

/** Single-shot Open in base mode (§6.1); E_HPKE_OPEN if it does not authenticate. */
export function openBase(env: HpkeEnv, suite: HpkeSuite, enc: Uint8Array, recipientSecret: Uint8Array, info: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  const context = setupBaseR(env, suite, enc, recipientSecret, info);
  try {
    return context.open(aad, ciphertext);
  } finally {
    context.close();
  }
}
