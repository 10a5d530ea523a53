// The one interface every Ed25519 implementation in the firmware offers (tweetnacl-backed
// reference, and the faster one for the camera). Keys and signatures are raw bytes (RFC 8032):
// a 32-byte seed, a 32-byte public key, a 64-byte secret key (seed || public key, as
// tweetnacl), a 64-byte signature.

export interface Ed25519KeyPair {
  publicKey: Uint8Array;
  /** seed (32) || public key (32). Never leaves the KeyStore on a camera. */
  secretKey: Uint8Array;
}

/**
 * A signature made a slice at a time: step() until it returns true, then signature(). The bytes
 * are sign()'s. Lets the recorder sign between camera frames instead of inside one callback.
 */
export interface SignSteps {
  step(): boolean;
  signature(): Uint8Array;
}

export interface Ed25519 {
  readonly name: string;
  keyPairFromSeed(seed: Uint8Array): Ed25519KeyPair;
  sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array;
  /** sign() in slices (implementations that can; the others sign in one step). */
  signSteps?(message: Uint8Array, secretKey: Uint8Array): SignSteps;
  /**
   * Strict verification, accepting exactly what libsodium accepts (shared vectors,
   * ed25519-speccheck): canonical S < L, no small-order public key or R, canonical encodings.
   */
  verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean;
}
