// The shapes of the Moddable modules the device adapters wrap, as the adapters use them.
// Adapters receive these by injection (main.ts passes the real modules; tests pass fakes that
// follow each module's documented behaviour), so every adapter here is plain ECMAScript that
// compiles and runs anywhere. main.ts is where the real modules are checked against these
// shapes, by mcconfig's own type check against the SDK's typings/ (host-sim/moddable/build.ts
// runs it for every board). Where a shape is narrower than the module accepts, it follows the
// SDK's typings, not the C: a parameter the typings type as ByteBuffer (a view, never a bare
// ArrayBuffer) is a Uint8Array here.

/** A buffer as the adapters hand it in (ArrayBuffer, or a view such as a Uint8Array). */
export type IOBuffer = ArrayBuffer | ArrayBufferView;

/** `embedded:storage/flash` default export. */
export interface FlashStorageModule {
  open(options: { path: string; mode?: 'r' | 'r+' }): FlashPartition;
}
/** One opened partition. status() on ESP32 reports only size, blockLength, blocks. */
export interface FlashPartition {
  read(byteLength: number, byteOffset: number): ArrayBuffer;
  /** The SDK types the buffer as ByteBuffer (typed array, DataView or HostBuffer). */
  write(buffer: Uint8Array, byteOffset: number): void;
  eraseBlock(start: number, end?: number): void;
  status(): { size: number; blockLength: number; blocks: number };
  close(): void;
}

/** `embedded:storage/files` default export (a Directory) — the part a block file needs. */
export interface FilesDirectory {
  openFile(options: { path: string; mode: 'r' | 'r+' | 'w' | 'w+' }): FilesFile;
  status(path: string): { size: number };
}
export interface FilesFile {
  read(byteLength: number, position: number): ArrayBuffer;
  write(buffer: IOBuffer, position: number): void;
  flush(): void;
  close(): void;
}

/** A frame lent by `embedded:io/image/in/camera` with format "buffer/disposable". */
export interface DisposableFrame {
  readonly byteLength: number;
  close(): void;
}
export interface ModdableCameraOptions {
  width: number;
  height: number;
  imageType: string;
  format: 'buffer/disposable';
  /** Called from the camera task when a frame is ready (the ESP32 driver passes 0). */
  onReadable?: (count: number) => void;
}
export interface ModdableCamera {
  readonly width: number;
  readonly height: number;
  start(): void;
  stop(): void;
  /** The oldest ready frame, or undefined. */
  read(): DisposableFrame | undefined;
  close(): void;
}
export type ModdableCameraConstructor = new (options: ModdableCameraOptions) => ModdableCamera;

/**
 * `crypt`'s Digest class. The SDK's typings say write(string | ArrayBuffer), but the native
 * write (modules/crypt/digest/modCrypt.c, xs_crypt_Digest_write) reads any buffer through
 * xsmcGetBufferReadable — ArrayBuffer, typed array, DataView or HostBuffer — so a frame is
 * hashed where it lies, with no copy. main.ts states that one widening where it hands Digest in.
 */
export interface CryptDigest {
  write(data: IOBuffer): void;
  close(): ArrayBuffer;
  reset(): void;
}
export type CryptDigestConstructor = new (type: 'SHA256' | 'SHA512') => CryptDigest;

/** `bodycam/native` (firmware/device/native): CRC-32 and the hardware RNG, in C. */
export interface BodycamNative {
  crc32(data: IOBuffer, previous: number): number;
  fillRandom(bytes: Uint8Array): void;
  /** The open camera sensor's JPEG quality (esp32-camera set_quality: 4 best .. 63 smallest); throws if the sensor refuses. */
  cameraQuality?(quality: number): void;
}

/** `embedded:io/digital`. Mode constants are opaque values of the class. */
export interface DigitalPin {
  read(): number;
  write(value: 0 | 1): void;
  close(): void;
}
/** As the SDK types it: a pin that calls onReadable must name its edge. */
export type DigitalOptions = { pin: number; mode: number } & ({ onReadable: () => void; edge: number } | { edge?: number });
export interface DigitalClass {
  readonly Input: number;
  readonly InputPullUp: number;
  readonly Output: number;
  readonly Rising: number;
  readonly Falling: number;
  new (options: DigitalOptions): DigitalPin;
}

/** `embedded:io/analog`. */
export interface AnalogPin {
  readonly resolution: number;
  read(): number;
  /** The SDK's Analog has close() (modules/io/analog/esp32/_analog.js); its typings omit it. */
  close?(): void;
}
export type AnalogClass = new (options: { pin: number }) => AnalogPin;

/** `embedded:io/socket/tcp` with format "buffer". */
export interface TCPSocket {
  read(byteLength?: number): ArrayBuffer | number | undefined;
  write(buffer: Uint8Array): void;
  close(): void;
}
export type TCPClass = new (options: {
  address: string;
  port: number;
  nodelay?: boolean;
  format?: 'buffer';
  onReadable?: (count: number) => void;
  onWritable?: (count: number) => void;
  onError?: () => void;
}) => TCPSocket;

/** `embedded:storage/key-value` default export. */
export interface KeyValueModule {
  open(options: { path: string; format?: 'buffer'; mode?: 'r' | 'r+' }): KeyValueStorage;
}
export interface KeyValueStorage {
  /** The SDK types every format's value; with format "buffer" it is an ArrayBuffer, or undefined when the key is missing. */
  read(key: string): ArrayBuffer | string | number | bigint | undefined;
  write(key: string, value: Uint8Array): void;
  delete(key: string): void;
  close(): void;
}

/** `timer`. A timer is an opaque handle (H) that only the module interprets. */
export interface TimerModule<H = unknown> {
  set(callback: () => void, interval?: number, repeat?: number): H;
  clear(timer: H): void;
}

/** `time` (ticks since boot, and the RTC setter in seconds). */
export interface TimeModule {
  readonly ticks: number;
  set(seconds: number): void;
}

/**
 * The parts of `crypt` (modules/crypt/digest/crypt.js, natives in modCrypt.c) that AES-GCM is
 * composed of, as crypt/etc/gcm.js composes it. The SDK's typings/crypt.d.ts declares only
 * Digest: main.ts states this widening where it hands the module's namespace in. Each shape
 * follows the C: a BlockCipher's key, a block to encrypt and its result, a Mode's IV and
 * GHASH's H and AAD are read with xsmcToArrayBuffer (an ArrayBuffer, never a view); Mode's
 * decrypt reads its data and result with xsmcGetBuffer (any buffer or view: in place works).
 */
export interface CryptBlockCipher {
  encrypt(block: ArrayBuffer, result?: ArrayBuffer): ArrayBuffer;
  readonly blockSize: number;
}
export interface CryptMode {
  setIV(iv: ArrayBuffer): void;
  /** In CTR mode, decrypt is encrypt (the key stream XORed in); the result may be the data itself. */
  decrypt(data: IOBuffer, result: IOBuffer): IOBuffer;
}
/** GHASH is a crypt Digest: write() reads any buffer (xsmcGetBufferReadable). */
export interface CryptGhash {
  write(data: IOBuffer): void;
  close(): ArrayBuffer;
}
/**
 * crypt's StreamCipher("ChaCha", key, iv, counter) (kcl/chacha.c): with a 12-byte IV and a 32-bit
 * block counter, RFC 8439's ChaCha20. key and iv are read with xsmcToArrayBuffer (ArrayBuffers);
 * encrypt reads its data and result with xsmcGetBuffer (views work, in place works). setIV's C
 * reads the IV only when its third argument is truthy (modCrypt.c tests xsArg(2), not xsArg(0)),
 * so the adapter passes three.
 */
export interface CryptStreamCipher {
  encrypt(data: IOBuffer, result: IOBuffer): IOBuffer;
  setIV(iv: ArrayBuffer, counter: number, readIv: true): void;
}
export interface CryptCipherModule {
  BlockCipher: new (name: 'AES', key: ArrayBuffer) => CryptBlockCipher;
  Mode: new (mode: 'CTR', cipher: CryptBlockCipher) => CryptMode;
  GHASH: new (h: ArrayBuffer, aad?: ArrayBuffer) => CryptGhash;
  /** ChaCha20 for CHACHA20-POLY1305 (with Poly1305Native's tag). */
  StreamCipher?: new (name: 'ChaCha', key: ArrayBuffer, iv: ArrayBuffer, counter: number) => CryptStreamCipher;
}
/** bodycam/poly1305 (firmware/device/native/poly1305.c): RFC 8439 §2.8's tag, which crypt lacks. */
export interface Poly1305Native {
  aeadTag(key: IOBuffer, aad: IOBuffer, data: IOBuffer): ArrayBuffer;
}
