// The part of sodium-native (libsodium's bindings; it ships no types) that host/ports.ts uses.
declare module 'sodium-native' {
  type Bytes = Uint8Array;
  const sodium: {
    /** Seals `m` into `c` (the same bytes may be both) with a detached 16-byte tag written to `mac`. */
    crypto_aead_chacha20poly1305_ietf_encrypt_detached(c: Bytes, mac: Bytes, m: Bytes, ad: Bytes | null, nsec: null, npub: Bytes, k: Bytes): number;
    /** Checks `mac`, then decrypts `c` into `m`; throws if the tag does not hold (and zeroes `m`). */
    crypto_aead_chacha20poly1305_ietf_decrypt_detached(m: Bytes, nsec: null, c: Bytes, mac: Bytes, ad: Bytes | null, npub: Bytes, k: Bytes): void;
  };
  export default sodium;
}
