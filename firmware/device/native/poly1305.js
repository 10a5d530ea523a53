// bodycam/poly1305: ChaCha20-Poly1305's tag (RFC 8439 §2.8) in C (poly1305.c), which Moddable's
// crypt lacks. aeadTag(key, aad, data) — Poly1305 under the 32-byte one-time key over
// aad ‖ pad16 ‖ data ‖ pad16 ‖ le64(aad length) ‖ le64(data length); returns a 16-byte ArrayBuffer.

function aeadTag(key, aad, data) @ "xs_bodycam_poly1305_aead";

export default Object.freeze({ aeadTag });
