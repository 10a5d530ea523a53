// A stand-in for the parts of Moddable's `crypt` that firmware/device/cipher.ts composes AES-GCM
// from, following modCrypt.c as it is in SDK 8.2.3: BlockCipher("AES", key) encrypts one block
// (key, block and result read as ArrayBuffers only: xsmcToArrayBuffer throws on a view); Mode("CTR")
// XORs the key stream into any buffer or view (xsmcGetBuffer) and increments all 128 bits of its
// counter; GHASH(h, aad) hashes each write zero-padded to a block (kcl/ghash.c) and closes with
// len(A) ‖ len(C). AES is node:crypto's (aes-*-ecb), GHASH a textbook GF(2^128) multiply in BigInt.
// The real modules run in the moddable engine (test/crypto-device.test.ts); this lets the adapter
// be checked on Node against nodeCipher, and fails where crypt would on a view it can't take.

import { createCipheriv } from 'node:crypto';
import type { CryptBlockCipher, CryptCipherModule, CryptGhash, CryptMode, IOBuffer } from '../../firmware/device/moddable.js';

function needArrayBuffer(what: string, v: unknown): ArrayBuffer {
  if (!(v instanceof ArrayBuffer)) throw new TypeError(`crypt: ${what}: not an ArrayBuffer`);
  return v;
}

function bytesOf(b: IOBuffer): Uint8Array {
  return b instanceof ArrayBuffer ? new Uint8Array(b) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

class FakeBlockCipher implements CryptBlockCipher {
  readonly blockSize = 16;
  #key: Uint8Array;
  constructor(name: 'AES', key: ArrayBuffer) {
    if (name !== 'AES') throw new Error('unsupported cipher');
    this.#key = new Uint8Array(needArrayBuffer('key', key)).slice();
    if (![16, 24, 32].includes(this.#key.length)) throw new Error('bad key size');
  }
  encrypt(block: ArrayBuffer, result?: ArrayBuffer): ArrayBuffer {
    const data = new Uint8Array(needArrayBuffer('block', block));
    if (data.length < 16) throw new Error('bad size');
    const c = createCipheriv(`aes-${this.#key.length * 8}-ecb`, this.#key, null).setAutoPadding(false);
    const out = c.update(data.subarray(0, 16));
    const r = result === undefined ? new ArrayBuffer(16) : needArrayBuffer('result', result);
    new Uint8Array(r).set(out);
    return r;
  }
}

class FakeMode implements CryptMode {
  #cipher: FakeBlockCipher;
  #counter = new Uint8Array(16);
  #offset = 0;
  constructor(mode: 'CTR', cipher: CryptBlockCipher) {
    if (mode !== 'CTR') throw new Error('unsupported mode');
    this.#cipher = cipher as FakeBlockCipher;
  }
  setIV(iv: ArrayBuffer): void {
    const b = new Uint8Array(needArrayBuffer('iv', iv));
    this.#counter.fill(0);
    this.#counter.set(b.subarray(0, 16), 16 - Math.min(16, b.length));
    this.#offset = 0;
  }
  decrypt(data: IOBuffer, result: IOBuffer): IOBuffer {
    const src = bytesOf(data);
    const dst = bytesOf(result);
    if (dst.length < src.length) throw new Error('output too small');
    let stream = new Uint8Array(this.#cipher.encrypt(this.#counter.slice().buffer));
    for (let n = 0; n < src.length; n++) {
      dst[n] = src[n] ^ stream[this.#offset++];
      if (this.#offset === 16 && n + 1 < src.length) {
        for (let i = 15; i >= 0; i--) {
          this.#counter[i] = (this.#counter[i] + 1) & 0xff; // carry into the byte before on a wrap, as modCrypt.c does
          if (this.#counter[i] !== 0) break;
        }
        this.#offset = 0;
        stream = new Uint8Array(this.#cipher.encrypt(this.#counter.slice().buffer));
      }
    }
    return result;
  }
}

const R = 0xe1n << 120n;

function gfMultiply(x: bigint, y: bigint): bigint {
  let z = 0n;
  let v = y;
  for (let i = 127; i >= 0; i--) {
    if ((x >> BigInt(i)) & 1n) z ^= v;
    v = v & 1n ? (v >> 1n) ^ R : v >> 1n;
  }
  return z;
}

function toBig(b: Uint8Array): bigint {
  let n = 0n;
  for (const x of b) n = (n << 8n) | BigInt(x);
  return n;
}

class FakeGhash implements CryptGhash {
  #h: bigint;
  #y = 0n;
  #aadBytes = 0;
  #bytes = 0;
  #closed = false;
  constructor(h: ArrayBuffer, aad?: ArrayBuffer) {
    this.#h = toBig(new Uint8Array(needArrayBuffer('h', h)).subarray(0, 16));
    if (aad !== undefined) {
      const a = new Uint8Array(needArrayBuffer('aad', aad));
      this.#absorb(a);
      this.#aadBytes = a.length;
    }
  }
  #absorb(b: Uint8Array): void {
    for (let o = 0; o < b.length; o += 16) {
      const block = new Uint8Array(16);
      block.set(b.subarray(o, o + 16));
      this.#y = gfMultiply(this.#y ^ toBig(block), this.#h);
    }
  }
  write(data: IOBuffer): void {
    if (this.#closed) throw new Error("crypt: can't call digest write after close");
    const b = bytesOf(data);
    this.#absorb(b);
    this.#bytes += b.length;
  }
  close(): ArrayBuffer {
    this.#closed = true;
    const lengths = (BigInt(this.#aadBytes * 8) << 64n) | BigInt(this.#bytes * 8);
    let s = gfMultiply(this.#y ^ lengths, this.#h);
    const out = new Uint8Array(16);
    for (let i = 15; i >= 0; i--) {
      out[i] = Number(s & 255n);
      s >>= 8n;
    }
    return out.buffer;
  }
}

/** BlockCipher, Mode and GHASH as `crypt` exports them (the part device/cipher.ts uses). */
export const fakeCrypt: CryptCipherModule = Object.freeze({ BlockCipher: FakeBlockCipher, Mode: FakeMode, GHASH: FakeGhash });
