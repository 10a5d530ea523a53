// Byte buffers as the ports exchange them: ArrayBuffer or any view over one (as Moddable's IO).

export type BufferLike = ArrayBuffer | ArrayBufferView;

/** A Uint8Array over the same bytes (no copy). */
export function toBytes(b: BufferLike): Uint8Array {
  if (b instanceof Uint8Array) return b;
  if (ArrayBuffer.isView(b)) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return new Uint8Array(b);
}
