// KeyStore port over `embedded:storage/key-value` (ESP-IDF NVS on an ESP32: a namespace per
// path, keys of at most 15 characters, every write committed before it returns). Values are
// blobs. Enable NVS encryption in production so the device key can't be read off the chip.

import { BodycamError } from '../errors.js';
import { toBytes } from '../platform/buffers.js';
import type { KeyStore, KeyStoreConstructor, KeyStoreOptions } from '../platform/keystore.js';
import type { KeyValueModule, KeyValueStorage } from './moddable.js';

/** NVS limits: 15-character keys; blobs beyond this are refused before they reach flash. */
export const MAX_KEY_LENGTH = 15;
export const MAX_VALUE_BYTES = 4000;

function checkKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH || !/^[\x21-\x7e]+$/.test(key)) {
    throw new BodycamError('E_KEYSTORE_KEY', `key "${String(key)}" must be 1 to ${MAX_KEY_LENGTH} printable ASCII characters`);
  }
}

export function keyValueStore(kv: KeyValueModule): KeyStoreConstructor {
  return class NvsKeyStore implements KeyStore {
    #storage: KeyValueStorage | undefined;
    #path: string;
    constructor({ path }: KeyStoreOptions) {
      if (path.length === 0 || path.length > MAX_KEY_LENGTH) throw new BodycamError('E_KEYSTORE_PATH', `key store "${path}" must be 1 to ${MAX_KEY_LENGTH} characters`);
      this.#path = path;
      this.#storage = kv.open({ path, format: 'buffer', mode: 'r+' });
    }
    #open(): KeyValueStorage {
      if (!this.#storage) throw new BodycamError('E_KEYSTORE_CLOSED', `key store "${this.#path}" is closed`);
      return this.#storage;
    }
    get(key: string): ArrayBuffer | undefined {
      checkKey(key);
      const value = this.#open().read(key);
      if (value === undefined || value instanceof ArrayBuffer) return value;
      throw new BodycamError('E_KEYSTORE_FORMAT', `key store "${this.#path}" holds "${key}" as ${typeof value}, not bytes`);
    }
    set(key: string, value: ArrayBuffer | Uint8Array): void {
      checkKey(key);
      if (value.byteLength > MAX_VALUE_BYTES) throw new BodycamError('E_KEYSTORE_VALUE', `value for "${key}" is ${value.byteLength} bytes; the key store holds at most ${MAX_VALUE_BYTES}`);
      this.#open().write(key, toBytes(value));
    }
    delete(key: string): void {
      checkKey(key);
      this.#open().delete(key);
    }
    close(): void {
      this.#storage?.close();
      this.#storage = undefined;
    }
  };
}
