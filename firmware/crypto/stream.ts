// STREAM (Hoang, Reyhanitabar, Rogaway, Vizár: "Online Authenticated-Encryption and its
// Nonce-Reuse Misuse-Resistance", 2015), as age uses it: one 32-byte key, an AEAD through the
// Cipher port (AES-256-GCM, what the sealed-segment format names, unless the caller names
// CHACHA20-POLY1305), and chunk i sealed under the nonce
//
//   nonce = I2OSP(i, 11) ‖ final      final: 0x01 on the last chunk, else 0x00
//
// Each chunk is sealed in place as it is written (the tag is detached), so a power cut loses at
// most the chunk in flight, and a reader that opens chunk i under index i, with the final flag on
// the last chunk it has and only there, refuses (E_STREAM_AUTH) a flipped bit, a dropped chunk,
// two chunks swapped, a truncated tail (the last chunk left was not sealed final) and a wrong key.
// The bytes go through the port: the JavaScript cost of a chunk does not grow with its size.
//
// Errors: E_STREAM_KEY (a key that is not 32 bytes), E_STREAM_FINISHED (a seal after the final
// chunk), E_STREAM_AUTH (a chunk that does not open where the reader put it), E_STREAM_LIMIT (the
// index is used up), E_STREAM_CLOSED (a closed sealer or opener).

import { BodycamError } from '../errors.js';
import type { AeadAlgorithm, AeadContext, Cipher } from '../platform/cipher.js';
import { AEAD_NONCE_BYTES, AEAD_TAG_BYTES } from '../platform/cipher.js';

/** Bytes of a STREAM key (AES-256-GCM or ChaCha20-Poly1305). */
export const STREAM_KEY_BYTES = 32;
/** The AEADs a STREAM can use (32-byte keys). */
export type StreamAead = Extract<AeadAlgorithm, 'AES-256-GCM' | 'CHACHA20-POLY1305'>;
/** The AEAD a STREAM uses unless told otherwise: the one the sealed-segment format names. */
export const STREAM_AEAD: StreamAead = 'AES-256-GCM';
/** Bytes of each chunk's detached tag. */
export const STREAM_TAG_BYTES = AEAD_TAG_BYTES;
/** The largest chunk index (JavaScript's safe integers, far below 2^88 - 1). */
const MAX_INDEX = Number.MAX_SAFE_INTEGER;

/** The nonce of chunk `index`: 11-byte big-endian index ‖ final flag. */
export function streamNonce(index: number, final: boolean): Uint8Array {
  if (!Number.isInteger(index) || index < 0 || index > MAX_INDEX) throw new BodycamError('E_STREAM_LIMIT', `a STREAM chunk index is an integer in [0, 2^53), not ${index}`);
  const nonce = new Uint8Array(AEAD_NONCE_BYTES);
  let n = index;
  for (let i = AEAD_NONCE_BYTES - 2; i >= 0 && n > 0; i--) {
    nonce[i] = n % 256;
    n = Math.floor(n / 256);
  }
  nonce[AEAD_NONCE_BYTES - 1] = final ? 1 : 0;
  return nonce;
}

function context(cipher: Cipher, key: Uint8Array, algorithm: StreamAead): AeadContext {
  if (key.length !== STREAM_KEY_BYTES) throw new BodycamError('E_STREAM_KEY', `a STREAM key is ${STREAM_KEY_BYTES} bytes, not ${key.length}`);
  if (algorithm !== 'AES-256-GCM' && algorithm !== 'CHACHA20-POLY1305') throw new BodycamError('E_CIPHER_ALGORITHM', `a STREAM is sealed with AES-256-GCM or CHACHA20-POLY1305, not ${String(algorithm)}`);
  return cipher.create(algorithm, key);
}

/** Seals a stream's chunks in order, in place. */
export class StreamSealer {
  #aead: AeadContext | undefined;
  #index = 0;
  #finished = false;

  constructor(cipher: Cipher, key: Uint8Array, algorithm: StreamAead = STREAM_AEAD) {
    this.#aead = context(cipher, key, algorithm);
  }

  /** The index the next chunk gets (the count of chunks sealed). */
  get index(): number {
    return this.#index;
  }

  /** Encrypts `data` in place as the next chunk (`final`: the last one); returns its 16-byte tag. */
  seal(data: Uint8Array, aad: Uint8Array, final: boolean): Uint8Array {
    const aead = this.#aead;
    if (!aead) throw new BodycamError('E_STREAM_CLOSED', 'the STREAM sealer was closed');
    if (this.#finished) throw new BodycamError('E_STREAM_FINISHED', `the stream was finished at chunk ${this.#index - 1}: nothing can follow its final chunk`);
    const tag = aead.seal(streamNonce(this.#index, final), aad, data);
    this.#index++;
    if (final) this.#finished = true;
    return new Uint8Array(tag);
  }

  /** Forgets the key. */
  close(): void {
    this.#aead?.close();
    this.#aead = undefined;
  }
}

/** Opens chunks where the reader says they belong: index and final flag are the reader's, never the chunk's. */
export class StreamOpener {
  #aead: AeadContext | undefined;

  constructor(cipher: Cipher, key: Uint8Array, algorithm: StreamAead = STREAM_AEAD) {
    this.#aead = context(cipher, key, algorithm);
  }

  /** Decrypts `data` in place as chunk `index` (`final`: the reader's last); E_STREAM_AUTH, bytes untouched, if it does not authenticate there. */
  open(index: number, final: boolean, aad: Uint8Array, data: Uint8Array, tag: Uint8Array): void {
    const aead = this.#aead;
    if (!aead) throw new BodycamError('E_STREAM_CLOSED', 'the STREAM opener was closed');
    if (tag.length !== STREAM_TAG_BYTES) throw new BodycamError('E_STREAM_AUTH', `chunk ${index}: a tag is ${STREAM_TAG_BYTES} bytes, not ${tag.length}`);
    if (!aead.open(streamNonce(index, final), aad, data, tag)) {
      throw new BodycamError(
        'E_STREAM_AUTH',
        final
          ? `chunk ${index} does not authenticate as the final chunk: altered, out of place, under another key, or the stream was cut short after it`
          : `chunk ${index} does not authenticate: altered, out of place (a chunk dropped or reordered), or under another key`,
        { index, final },
      );
    }
  }

  /** Forgets the key. */
  close(): void {
    this.#aead?.close();
    this.#aead = undefined;
  }
}
