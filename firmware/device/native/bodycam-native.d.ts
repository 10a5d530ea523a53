// Typings for bodycam/native (bodycam-native.js + bodycam-native.c).
declare module 'bodycam/native' {
  const native: {
    crc32(buffer: ArrayBuffer | ArrayBufferView, previous: number): number;
    fillRandom(bytes: Uint8Array): void;
  };
  export default native;
}
