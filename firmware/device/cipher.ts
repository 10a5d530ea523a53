// Cipher port over Moddable's `crypt` (SDK 8.2.3, modules/crypt/digest): AES-GCM (NIST SP
// 800-38D) composed from the natives as crypt/etc/gcm.js composes it — BlockCipher("AES") for H
// and E(K, J0), Mode("CTR") for the key stream, GHASH for the tag — but in place with a detached
// tag, and with the counter block built byte by byte (gcm.js goes through BigInt and
// ArrayBuffer.fromBigInt, which drops the leading zero bytes of an IV such as STREAM's first
// nonce, 00…00 ‖ flag).
//
// What runs in JavaScript per seal or open is a fixed handful of native calls and a 16-byte XOR:
// the data is encrypted by Mode's C loop (xsmcGetBuffer: views work, so `data` is encrypted
// where it lies) and hashed by GHASH's (xsmcGetBufferReadable). Mode("CTR") increments the whole
// 128-bit counter where GCM increments its last 32 bits; the two differ only past 2^32 - 2
// blocks (64 GiB) in one message, far beyond any record (E_CIPHER_LENGTH refuses it).
//
// In 8.2.3 the AES is KCL's software AES (kcl/fips197.c: tables in C, no ESP32 hardware path)
// and GHASH a bitwise multiply in C (kcl/ghash.c); neither uses the ESP32-S3's AES accelerator.
// close() drops the natives; the key schedule they hold in their host chunks is freed by the
// garbage collector, not zeroed (crypt has no call for that).
//
// CHACHA20-POLY1305 (RFC 8439) is ChaCha20 from crypt's StreamCipher("ChaCha") (kcl/chacha.c, C)
// and Poly1305 from bodycam/poly1305 (firmware/device/native/poly1305.c), which crypt lacks: about
// 38 Cortex-M7 instructions a byte where this AES-GCM takes 313 (npm run bench -- cipher).

import { BodycamError } from '../errors.js';
import { toBytes, type BufferLike } from '../platform/buffers.js';
import { AEAD_TAG_BYTES, aeadKeyBytes, checkAeadArguments, sealTwoBySeal, type AeadAlgorithm, type AeadContext, type Cipher } from '../platform/cipher.js';
import type { CryptBlockCipher, CryptCipherModule, CryptMode, CryptStreamCipher, Poly1305Native } from './moddable.js';

/** GCM's limit on one message: 2^32 - 2 blocks of key stream. */
const MAX_DATA_BYTES = (2 ** 32 - 2) * 16;

/** A buffer's bytes as an ArrayBuffer of their own (crypt reads some arguments only as ArrayBuffers). */
function arrayBufferOf(b: BufferLike): ArrayBuffer {
  if (b instanceof ArrayBuffer) return b;
  const v = toBytes(b);
  return new Uint8Array(v).buffer as ArrayBuffer; // a copy (a Buffer's slice would share)
}

class CryptAeadContext implements AeadContext {
  #crypt: CryptCipherModule;
  #block: CryptBlockCipher | undefined;
  #ctr: CryptMode | undefined;
  #h: ArrayBuffer;

  constructor(crypt: CryptCipherModule, algorithm: AeadAlgorithm, key: BufferLike) {
    aeadKeyBytes(algorithm, key);
    this.#crypt = crypt;
    const k = new Uint8Array(toBytes(key)); // a copy, zeroed below (a Buffer's slice would share)
    this.#block = new crypt.BlockCipher('AES', k.buffer as ArrayBuffer);
    k.fill(0);
    this.#ctr = new crypt.Mode('CTR', this.#block);
    this.#h = this.#block.encrypt(new ArrayBuffer(16)); // H = E(K, 0^128)
  }

  #live(): { block: CryptBlockCipher; ctr: CryptMode } {
    const block = this.#block;
    const ctr = this.#ctr;
    if (!block || !ctr) throw new BodycamError('E_CIPHER_CLOSED', 'the AEAD context was closed');
    return { block, ctr };
  }

  /** J0 = nonce ‖ 0x00000001 with the last byte set to `last` (1 for J0, 2 for the first data block). */
  #counter(nonce: BufferLike, last: number): ArrayBuffer {
    const j = new Uint8Array(16);
    j.set(toBytes(nonce));
    j[15] = last;
    return j.buffer as ArrayBuffer;
  }

  /** The tag over `aad` and the ciphertext `data`: GHASH_H(A, C) XOR E(K, J0). */
  #tag(block: CryptBlockCipher, nonce: BufferLike, aad: BufferLike, data: Uint8Array): Uint8Array {
    const ghash = new this.#crypt.GHASH(this.#h, arrayBufferOf(aad));
    // kcl/ghash.c reads its input as 64-bit words: on the ESP32-S3's Xtensa core a word load from
    // an address not a multiple of 4 can fault (untested here: no device), so data that starts there is hashed from a copy (a
    // native copy; a frame's buffer and the arrays the firmware makes start aligned).
    if (data.byteLength) ghash.write((data.byteOffset & 3) === 0 ? data : new Uint8Array(data));
    const s = new Uint8Array(ghash.close());
    const e = new Uint8Array(block.encrypt(this.#counter(nonce, 1)));
    for (let i = 0; i < AEAD_TAG_BYTES; i++) s[i] ^= e[i];
    return s;
  }

  #check(nonce: BufferLike, data: BufferLike, tag?: BufferLike): void {
    checkAeadArguments(nonce, tag);
    if (data.byteLength > MAX_DATA_BYTES) throw new BodycamError('E_CIPHER_LENGTH', `AES-GCM seals at most ${MAX_DATA_BYTES} bytes at once, not ${data.byteLength}`);
  }

  seal(nonce: BufferLike, aad: BufferLike, data: BufferLike): ArrayBuffer {
    const { block, ctr } = this.#live();
    this.#check(nonce, data);
    const bytes = toBytes(data);
    if (bytes.byteLength) {
      ctr.setIV(this.#counter(nonce, 2));
      ctr.decrypt(bytes, bytes);
    }
    return this.#tag(block, nonce, aad, bytes).buffer as ArrayBuffer;
  }

  sealTwo(nonces: BufferLike, aad: BufferLike, a: BufferLike, b: BufferLike, tags: BufferLike): void {
    sealTwoBySeal(this, nonces, aad, a, b, tags);
  }

  open(nonce: BufferLike, aad: BufferLike, data: BufferLike, tag: BufferLike): boolean {
    const { block, ctr } = this.#live();
    this.#check(nonce, data, tag);
    const bytes = toBytes(data);
    const want = this.#tag(block, nonce, aad, bytes);
    const got = toBytes(tag);
    let diff = 0;
    for (let i = 0; i < AEAD_TAG_BYTES; i++) diff |= want[i] ^ got[i];
    if (diff !== 0) return false;
    if (bytes.byteLength) {
      ctr.setIV(this.#counter(nonce, 2));
      ctr.decrypt(bytes, bytes);
    }
    return true;
  }

  close(): void {
    this.#block = undefined;
    this.#ctr = undefined;
    new Uint8Array(this.#h).fill(0);
  }
}

/** ChaCha20's limit on one message with a 32-bit block counter, block 0 being Poly1305's key. */
const MAX_CHACHA_BYTES = (2 ** 32 - 1) * 64;

/**
 * ChaCha20-Poly1305 (RFC 8439 §2.8) from crypt's StreamCipher("ChaCha") and the firmware's
 * Poly1305 in C (bodycam/poly1305): ChaCha20's block 0 under the nonce gives the one-time key,
 * the data is encrypted in place from block 1 on, and the tag is Poly1305 over aad ‖ pad ‖
 * ciphertext ‖ pad ‖ lengths. Per seal or open: a setIV, two encrypts and one tag call.
 */
class ChaChaPolyContext implements AeadContext {
  #chacha: CryptStreamCipher | undefined;
  #poly: Poly1305Native;
  #otk = new Uint8Array(64);

  constructor(crypt: CryptCipherModule, poly: Poly1305Native | undefined, algorithm: AeadAlgorithm, key: BufferLike) {
    aeadKeyBytes(algorithm, key);
    if (!crypt.StreamCipher || !poly) throw new BodycamError('E_CIPHER_ALGORITHM', 'this build has no ChaCha20-Poly1305 (crypt\'s StreamCipher and bodycam/poly1305)');
    this.#poly = poly;
    const k = new Uint8Array(toBytes(key)); // a copy, zeroed below (a Buffer's slice would share)
    this.#chacha = new crypt.StreamCipher('ChaCha', k.buffer as ArrayBuffer, new ArrayBuffer(12), 0);
    k.fill(0);
  }

  #live(): CryptStreamCipher {
    if (!this.#chacha) throw new BodycamError('E_CIPHER_CLOSED', 'the AEAD context was closed');
    return this.#chacha;
  }

  #check(nonce: BufferLike, data: BufferLike, tag?: BufferLike): void {
    checkAeadArguments(nonce, tag);
    if (data.byteLength > MAX_CHACHA_BYTES) throw new BodycamError('E_CIPHER_LENGTH', `ChaCha20-Poly1305 seals at most ${MAX_CHACHA_BYTES} bytes at once, not ${data.byteLength}`);
  }

  /** Sets the nonce and takes block 0: the one-time Poly1305 key (its first 32 bytes); the stream then stands at block 1. */
  #start(chacha: CryptStreamCipher, nonce: BufferLike): Uint8Array {
    chacha.setIV(arrayBufferOf(nonce), 0, true);
    const otk = this.#otk;
    otk.fill(0);
    chacha.encrypt(otk, otk);
    return otk.subarray(0, 32);
  }

  seal(nonce: BufferLike, aad: BufferLike, data: BufferLike): ArrayBuffer {
    const chacha = this.#live();
    this.#check(nonce, data);
    const otk = this.#start(chacha, nonce);
    const bytes = toBytes(data);
    if (bytes.byteLength) chacha.encrypt(bytes, bytes);
    const tag = this.#poly.aeadTag(otk, toBytes(aad), bytes);
    this.#otk.fill(0);
    return tag;
  }

  sealTwo(nonces: BufferLike, aad: BufferLike, a: BufferLike, b: BufferLike, tags: BufferLike): void {
    sealTwoBySeal(this, nonces, aad, a, b, tags);
  }

  open(nonce: BufferLike, aad: BufferLike, data: BufferLike, tag: BufferLike): boolean {
    const chacha = this.#live();
    this.#check(nonce, data, tag);
    const otk = this.#start(chacha, nonce);
    const bytes = toBytes(data);
    const want = new Uint8Array(this.#poly.aeadTag(otk, toBytes(aad), bytes));
    this.#otk.fill(0);
    const got = toBytes(tag);
    let diff = 0;
    for (let i = 0; i < AEAD_TAG_BYTES; i++) diff |= want[i] ^ got[i];
    if (diff !== 0) return false;
    if (bytes.byteLength) chacha.encrypt(bytes, bytes);
    return true;
  }

  close(): void {
    this.#chacha = undefined;
    this.#otk.fill(0);
  }
}

/**
 * The Cipher port over `crypt`'s BlockCipher, Mode and GHASH (AES-GCM) and its StreamCipher with
 * bodycam/poly1305 (ChaCha20-Poly1305); main.ts hands the modules in.
 */
export function cryptCipher(crypt: CryptCipherModule, poly1305?: Poly1305Native): Cipher {
  return Object.freeze({
    create(algorithm: AeadAlgorithm, key: BufferLike): AeadContext {
      if (algorithm === 'CHACHA20-POLY1305') return new ChaChaPolyContext(crypt, poly1305, algorithm, key);
      return new CryptAeadContext(crypt, algorithm, key);
    },
  });
}
