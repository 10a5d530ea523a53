// Typings for the Moddable modules the device adapters use that @moddable/typings 5.6.0 (older
// than the SDK) lacks. Written from each module's JS surface in the Moddable SDK:
// modules/io/flash, modules/io/storage, modules/io/files, modules/crypt/digest, mc/config.

declare module 'embedded:storage/flash' {
  export interface FlashPartition {
    read(byteLength: number, byteOffset: number): ArrayBuffer;
    read(buffer: ArrayBuffer | ArrayBufferView, byteOffset: number): number;
    write(buffer: ArrayBuffer | ArrayBufferView, byteOffset: number): void;
    /** Erase blocks [start, end) (end defaults to start + 1). */
    eraseBlock(start: number, end?: number): void;
    /** On ESP32: size, blockLength and blocks only. */
    status(): { size: number; blockLength: number; blocks: number };
    close(): void;
    format: 'buffer';
  }
  const flash: {
    open(options: { path: string; mode?: 'r' | 'r+'; format?: 'buffer' }): FlashPartition;
    [Symbol.iterator](): Iterator<string>;
  };
  export default flash;
}

declare module 'embedded:storage/key-value' {
  export interface Storage {
    read(key: string): ArrayBuffer | undefined;
    read(key: string, buffer: ArrayBuffer | ArrayBufferView): number | undefined;
    write(key: string, value: ArrayBuffer | ArrayBufferView): void;
    delete(key: string): void;
    close(): void;
    [Symbol.iterator](): Iterator<string>;
    format: 'buffer';
  }
  const keyValue: {
    open(options: { path: string; mode?: 'r' | 'r+'; format?: 'buffer' }): Storage;
  };
  export default keyValue;
}

declare module 'embedded:storage/files' {
  export interface File {
    read(byteLength: number, position: number): ArrayBuffer;
    write(buffer: ArrayBuffer | ArrayBufferView, position: number): void;
    flush(): void;
    close(): void;
  }
  export interface Directory {
    openFile(options: { path: string; mode: 'r' | 'r+' | 'w' | 'w+' }): File;
    status(path: string): { size: number };
  }
  const files: Directory;
  export default files;
}

declare module 'crypt' {
  export class Digest {
    constructor(type: 'MD5' | 'SHA1' | 'SHA224' | 'SHA256' | 'SHA384' | 'SHA512');
    write(data: ArrayBuffer | ArrayBufferView): void;
    close(): ArrayBuffer;
    reset(): void;
    readonly blockSize: number;
    readonly outputSize: number;
  }
}

declare module 'mc/config' {
  const config: { readonly bodycam: unknown; readonly [key: string]: unknown };
  export default config;
}
