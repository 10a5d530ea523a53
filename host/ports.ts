// The host layer: Node.js adapters of firmware ports that host programs share — the simulator
// (host-sim/), the dock station (dock-station/), the evidence library (evidence/) and the CLI.
// It may import firmware/ (the port interfaces) and Node built-ins, nothing else of this repo;
// the station reaches these through here, never through the simulator.

import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import * as zlib from 'node:zlib';
import sodium from 'sodium-native';
import { toBytes, type BufferLike } from '../firmware/platform/buffers.js';
import { BodycamError } from '../firmware/errors.js';
import { AEAD_TAG_BYTES, aeadKeyBytes, checkAeadArguments, sealTwoBySeal, type AeadAlgorithm, type AeadContext, type Checksum, type Cipher, type Digest } from '../firmware/platform/index.js';
import { hasherDigest } from '../firmware/platform/soft-digest.js';
import { softChecksum } from '../firmware/platform/soft-checksum.js';

/** The Digest port on a host: Node's native crypto (the simulator's "hardware SHA engine"). */
export const nodeDigest: Digest = hasherDigest((algorithm) => createHash(algorithm === 'SHA256' ? 'sha256' : 'sha512'));

const zlibCrc32 = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** The Checksum port on a host: zlib's crc32 where Node has it (the simulator's "native CRC"). */
export const nodeChecksum: Checksum = Object.freeze({
  crc32(data: BufferLike, previous = 0): number {
    return zlibCrc32 ? zlibCrc32(toBytes(data), previous) >>> 0 : softChecksum.crc32(data, previous);
  },
});

/** What a host's AEAD contexts share: the key (a copy, zeroed by close()) and sealTwo as two seals. */
abstract class HostAeadContext implements AeadContext {
  #key: Uint8Array | undefined;
  constructor(key: BufferLike) {
    this.#key = new Uint8Array(toBytes(key)); // a copy (a Buffer's slice would share), zeroed by close()
  }
  /** The key, or E_CIPHER_CLOSED once close() has run. */
  protected key(): Uint8Array {
    if (!this.#key) throw new BodycamError('E_CIPHER_CLOSED', 'the AEAD context was closed');
    return this.#key;
  }
  abstract seal(nonce: BufferLike, aad: BufferLike, data: BufferLike): ArrayBuffer;
  abstract open(nonce: BufferLike, aad: BufferLike, data: BufferLike, tag: BufferLike): boolean;
  sealTwo(nonces: BufferLike, aad: BufferLike, a: BufferLike, b: BufferLike, tags: BufferLike): void {
    sealTwoBySeal(this, nonces, aad, a, b, tags);
  }
  close(): void {
    this.#key?.fill(0);
    this.#key = undefined;
  }
}

/** One key's AES-GCM context on a host: node:crypto, sealing the caller's bytes in place. */
class NodeAeadContext extends HostAeadContext {
  #name: 'aes-128-gcm' | 'aes-256-gcm';
  constructor(algorithm: 'AES-128-GCM' | 'AES-256-GCM', key: BufferLike) {
    super(key);
    this.#name = algorithm === 'AES-128-GCM' ? 'aes-128-gcm' : 'aes-256-gcm';
  }
  seal(nonce: BufferLike, aad: BufferLike, data: BufferLike): ArrayBuffer {
    const key = this.key();
    checkAeadArguments(nonce);
    const c = createCipheriv(this.#name as 'aes-256-gcm', key, toBytes(nonce), { authTagLength: 16 });
    c.setAAD(toBytes(aad));
    const bytes = toBytes(data);
    const out = c.update(bytes);
    c.final();
    bytes.set(out);
    const tag = c.getAuthTag();
    return tag.buffer.slice(tag.byteOffset, tag.byteOffset + tag.byteLength) as ArrayBuffer;
  }
  open(nonce: BufferLike, aad: BufferLike, data: BufferLike, tag: BufferLike): boolean {
    const key = this.key();
    checkAeadArguments(nonce, tag);
    const d = createDecipheriv(this.#name as 'aes-256-gcm', key, toBytes(nonce), { authTagLength: 16 });
    d.setAAD(toBytes(aad));
    d.setAuthTag(toBytes(tag));
    const bytes = toBytes(data);
    const out = d.update(bytes);
    try {
      d.final();
    } catch {
      out.fill(0);
      return false; // the tag does not hold: the caller's bytes are left as they were
    }
    bytes.set(out);
    out.fill(0);
    return true;
  }
}

/**
 * One key's ChaCha20-Poly1305 context on a host: libsodium (sodium-native), which seals in the
 * caller's bytes. node:crypto's AEAD writes into a new buffer each call, which then had to be
 * copied back: at the dock, a new 256 KiB buffer a chunk on both sides, and the garbage it made
 * (docs/protocol.md, "What ingest costs", has the figures). Opening decrypts into a scratch
 * buffer this context reuses (libsodium zeroes its output when the tag fails, and the port leaves
 * the caller's bytes as they were), copied back and zeroed only when the tag holds.
 */
class SodiumChaChaContext extends HostAeadContext {
  #scratch = new Uint8Array(0);
  seal(nonce: BufferLike, aad: BufferLike, data: BufferLike): ArrayBuffer {
    const key = this.key();
    checkAeadArguments(nonce);
    const bytes = toBytes(data);
    const tag = new Uint8Array(AEAD_TAG_BYTES);
    sodium.crypto_aead_chacha20poly1305_ietf_encrypt_detached(bytes, tag, bytes, toBytes(aad), null, toBytes(nonce), key);
    return tag.buffer;
  }
  open(nonce: BufferLike, aad: BufferLike, data: BufferLike, tag: BufferLike): boolean {
    const key = this.key();
    checkAeadArguments(nonce, tag);
    const bytes = toBytes(data);
    if (this.#scratch.length < bytes.length) this.#scratch = new Uint8Array(bytes.length);
    const out = this.#scratch.subarray(0, bytes.length);
    try {
      sodium.crypto_aead_chacha20poly1305_ietf_decrypt_detached(out, null, bytes, toBytes(tag), toBytes(aad), toBytes(nonce), key);
    } catch {
      return false; // the tag does not hold: the caller's bytes are left as they were
    }
    bytes.set(out);
    out.fill(0);
    return true;
  }
  override close(): void {
    super.close();
    this.#scratch = new Uint8Array(0);
  }
}

/** The Cipher port on a host: node:crypto's AES-128-GCM and AES-256-GCM, libsodium's ChaCha20-Poly1305. */
export const nodeCipher: Cipher = Object.freeze({
  create(algorithm: AeadAlgorithm, key: BufferLike): AeadContext {
    aeadKeyBytes(algorithm, key);
    return algorithm === 'CHACHA20-POLY1305' ? new SodiumChaChaContext(key) : new NodeAeadContext(algorithm, key);
  },
});
