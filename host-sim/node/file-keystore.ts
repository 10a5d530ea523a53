// KeyStore partitions kept in files, so a simulated camera keeps its identity between runs:
// `bodycam provision camera --sim DIR` writes the camera's key, certificate and configuration
// here, and a later `bodycam sim` or docking over the same DIR is the same camera.
//
//   DIR/keystore/<partition>/<key>   one file per key, the value's bytes
//
// Behaves like MemoryKeyStores (hardware.ts): get returns a copy or undefined, set copies,
// delete of a missing key is no error, any call after close() throws E_CLOSED. Each set is
// durable before it returns (temporary file, fsync, rename), like NVS's commit. With
// `nvsNames: true` it also refuses what NVS would (keys and partitions of 1..15 printable
// characters, values of at most 4000 bytes), so the simulator catches names a camera refuses.

import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BodycamError } from '../../firmware/errors.js';
import type { KeyStore, KeyStoreConstructor, KeyStoreOptions } from '../../firmware/platform/keystore.js';
import { writeDurable } from '../../dock-station/store.js';

export const NVS_MAX_NAME = 15;
export const NVS_MAX_VALUE = 4000;

export interface FileKeyStoresOptions {
  /** Refuse what ESP-IDF NVS refuses (names over 15 characters, values over 4000 bytes). */
  nvsNames?: boolean;
}

// Keys are short printable ASCII; anything a file name can't hold is escaped, so any key works.
function fileName(key: string): string {
  return key.replace(/[^A-Za-z0-9._-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).replace(/^\./, '%2e');
}

function checkName(what: string, name: string, strict: boolean): void {
  if (typeof name !== 'string' || name.length === 0) throw new BodycamError('E_KEYSTORE_KEY', `${what} name must be a non-empty string`);
  if (strict && (name.length > NVS_MAX_NAME || !/^[\x21-\x7e]+$/.test(name))) {
    throw new BodycamError('E_KEYSTORE_KEY', `${what} "${name}" must be 1 to ${NVS_MAX_NAME} printable ASCII characters (ESP-IDF NVS)`);
  }
}


export class FileKeyStores {
  readonly dir: string;
  #strict: boolean;
  constructor(dir: string, options: FileKeyStoresOptions = {}) {
    this.dir = dir;
    this.#strict = options.nvsNames ?? false;
  }

  /** The folder a partition's keys live in. */
  partitionDir(path: string): string {
    return join(this.dir, 'keystore', fileName(path));
  }

  open(options: KeyStoreOptions): KeyStore {
    checkName('key store', options.path, this.#strict);
    const dir = this.partitionDir(options.path);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const strict = this.#strict;
    let open = true;
    const check = (key: string) => {
      if (!open) throw new BodycamError('E_CLOSED', 'key store closed');
      checkName('key', key, strict);
    };
    return {
      get(key: string) {
        check(key);
        const p = join(dir, fileName(key));
        if (!existsSync(p)) return undefined;
        const b = readFileSync(p);
        return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
      },
      set(key: string, value: ArrayBuffer | Uint8Array) {
        check(key);
        const bytes = value instanceof ArrayBuffer ? new Uint8Array(value.slice(0)) : value.slice();
        if (strict && bytes.length > NVS_MAX_VALUE) throw new BodycamError('E_KEYSTORE_VALUE', `value for "${key}" is ${bytes.length} bytes; NVS holds at most ${NVS_MAX_VALUE}`);
        writeDurable(join(dir, fileName(key)), bytes, { mode: 0o600 });
      },
      delete(key: string) {
        check(key);
        rmSync(join(dir, fileName(key)), { force: true });
      },
      close() {
        open = false;
      },
    };
  }

  /** A KeyStore port constructor over these files, for a Platform (`{...hw.platform(), KeyStore}`). */
  port(): KeyStoreConstructor {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const stores = this;
    return class FileKeyStore {
      constructor(o: KeyStoreOptions) {
        return stores.open(o);
      }
    } as unknown as KeyStoreConstructor;
  }
}
