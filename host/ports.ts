// The host layer: Node.js adapters of firmware ports that host programs share — the simulator
// (host-sim/), the dock station (dock-station/), the evidence library (evidence/) and the CLI.
// It may import firmware/ (the port interfaces) and Node built-ins, nothing else of this repo;
// the station reaches these through here, never through the simulator.

import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import * as zlib from 'node:zlib';
import { toBytes, type BufferLike } from '../firmware/platform/buffers.js';
import { BodycamError } from '../firmware/errors.js';
import { aeadKeyBytes, checkAeadArguments, sealTwoBySeal, type AeadAlgorithm, type AeadContext, type Checksum, type Cipher, type Digest } from '../firmware/platform/index.js';
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

/** One key's AEAD context on a host: node:crypto's AES-GCM or ChaCha20-Poly1305, sealing the caller's bytes in place. */
class NodeAeadContext implements AeadContext {
  #name: 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
  #key: Uint8Array | undefined;
  constructor(algorithm: AeadAlgorithm, key: BufferLike) {
    aeadKeyBytes(algorithm, key);
    this.#name = algorithm === 'AES-128-GCM' ? 'aes-128-gcm' : algorithm === 'AES-256-GCM' ? 'aes-256-gcm' : 'chacha20-poly1305';
    this.#key = new Uint8Array(toBytes(key)); // a copy (a Buffer's slice would share), zeroed by close()
  }
  #open(): Uint8Array {
    if (!this.#key) throw new BodycamError('E_CIPHER_CLOSED', 'the AEAD context was closed');
    return this.#key;
  }
  seal(nonce: BufferLike, aad: BufferLike, data: BufferLike): ArrayBuffer {
    const key = this.#open();
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
  sealTwo(nonces: BufferLike, aad: BufferLike, a: BufferLike, b: BufferLike, tags: BufferLike): void {
    sealTwoBySeal(this, nonces, aad, a, b, tags);
  }
  open(nonce: BufferLike, aad: BufferLike, data: BufferLike, tag: BufferLike): boolean {
    const key = this.#open();
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
  close(): void {
    this.#key?.fill(0);
    this.#key = undefined;
  }
}

/** The Cipher port on a host: node:crypto's AES-128-GCM, AES-256-GCM and ChaCha20-Poly1305. */
export const nodeCipher: Cipher = Object.freeze({
  create(algorithm: AeadAlgorithm, key: BufferLike): AeadContext {
    return new NodeAeadContext(algorithm, key);
  },
});
