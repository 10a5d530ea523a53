// What a camera trusts for firmware, kept in the KeyStore port (the protected partition): the
// firmware public keys set at provisioning (the agency's firmware key, separate from the
// evidence root) and the monotonic security counter that refuses rollback. The counter only
// ever goes up; a value the KeyStore can't parse is refused, never read as zero.

import { BodycamError } from '../errors.js';
import type { KeyStore } from '../platform/keystore.js';

// Key names fit ESP-IDF NVS (at most 15 characters), like the provisioning keys beside them.
/** Concatenated 32-byte Ed25519 public keys (1..MAX_FIRMWARE_KEYS). */
export const KEY_FIRMWARE_KEYS = 'trust.firmware';
/** u32 little-endian: the lowest security counter an image may carry. */
export const KEY_SECURITY_COUNTER = 'fw.counter';
export const MAX_FIRMWARE_KEYS = 4;

export interface FirmwareTrust {
  /** The firmware public keys this camera accepts. */
  keys(): Uint8Array[];
  /** The lowest security counter an image may carry. */
  counter(): number;
  /** Raise the counter to `value` (never lowers it). */
  raise(value: number): void;
}

/** The trust of a camera: its KeyStore. */
export class KeyStoreTrust implements FirmwareTrust {
  #keyStore: KeyStore;
  constructor(o: { keyStore: KeyStore }) {
    this.#keyStore = o.keyStore;
  }
  keys(): Uint8Array[] {
    const b = this.#keyStore.get(KEY_FIRMWARE_KEYS);
    if (!b) return [];
    const all = new Uint8Array(b);
    if (all.length === 0 || all.length % 32 !== 0 || all.length > 32 * MAX_FIRMWARE_KEYS) {
      throw new BodycamError('E_FW_NO_KEY', `the firmware key set in the KeyStore is ${all.length} bytes, not 1..${MAX_FIRMWARE_KEYS} keys of 32; provision the camera again`);
    }
    const out: Uint8Array[] = [];
    for (let i = 0; i < all.length; i += 32) out.push(all.slice(i, i + 32));
    return out;
  }
  counter(): number {
    const b = this.#keyStore.get(KEY_SECURITY_COUNTER);
    if (!b) return 0;
    if (b.byteLength !== 4) throw new BodycamError('E_FW_COUNTER', `the security counter in the KeyStore is ${b.byteLength} bytes, not 4; refusing updates until the camera is provisioned again`);
    return new DataView(b).getUint32(0, true);
  }
  raise(value: number): void {
    if (value <= this.counter()) return;
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, value, true);
    this.#keyStore.set(KEY_SECURITY_COUNTER, b);
  }
}

/** Provisioning: set the firmware keys (replaces the set; the counter is kept). */
export function provisionFirmwareKeys(keyStore: KeyStore, keys: Uint8Array[]): void {
  if (keys.length === 0 || keys.length > MAX_FIRMWARE_KEYS) throw new BodycamError('E_USAGE', `give 1..${MAX_FIRMWARE_KEYS} firmware keys, not ${keys.length}`);
  const all = new Uint8Array(keys.length * 32);
  keys.forEach((k, i) => {
    if (k.length !== 32) throw new BodycamError('E_KEY', `a firmware key is a 32-byte Ed25519 public key, not ${k.length} bytes`);
    all.set(k, i * 32);
  });
  keyStore.set(KEY_FIRMWARE_KEYS, all);
}

/** Trust held in memory: the armoury's `bodycam firmware verify`, tests. */
export class MemoryTrust implements FirmwareTrust {
  #keys: Uint8Array[];
  #counter: number;
  constructor(o: { keys: Uint8Array[]; counter?: number }) {
    this.#keys = o.keys;
    this.#counter = o.counter ?? 0;
  }
  keys(): Uint8Array[] {
    return this.#keys;
  }
  counter(): number {
    return this.#counter;
  }
  raise(value: number): void {
    this.#counter = Math.max(this.#counter, value);
  }
}
