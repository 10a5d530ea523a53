// KeyStore port, shaped on `embedded:storage/key-value`: a protected partition holding the
// device secret key, certificates, counters and provisioning data. Values are bytes.

export interface KeyStoreOptions {
  path: string;
}

export interface KeyStore {
  get(key: string): ArrayBuffer | undefined;
  set(key: string, value: ArrayBuffer | Uint8Array): void;
  delete(key: string): void;
  close(): void;
}

export type KeyStoreConstructor = new (options: KeyStoreOptions) => KeyStore;
