// Typings for bodycam/poly1305 (poly1305.js + poly1305.c).
declare module 'bodycam/poly1305' {
  const poly1305: {
    aeadTag(key: ArrayBuffer | ArrayBufferView, aad: ArrayBuffer | ArrayBufferView, data: ArrayBuffer | ArrayBufferView): ArrayBuffer;
  };
  export default poly1305;
}
