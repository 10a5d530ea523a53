// Typings for bodycam/native (bodycam-native.js + bodycam-native.c).
declare module 'bodycam/native' {
  const native: {
    crc32(buffer: ArrayBuffer | ArrayBufferView, previous: number): number;
    fillRandom(bytes: Uint8Array): void;
    sdOpen(cs: number, sck: number, miso: number, mosi: number): number;
    sdRead(bytes: Uint8Array, sector: number): void;
    sdWrite(bytes: Uint8Array, sector: number): void;
    sdClose(): void;
    cameraQuality(quality: number): void;
  };
  export default native;
}
