// Who signs: a Signer is a public key, its key id, and a sign() that never hands out the secret.
// A camera's Signer is its DeviceIdentity (identity.ts); a dock's or the agency root's is a
// KeyPairSigner on the host. Key ids are the first 8 bytes of SHA-256(public key), computed
// through the Digest port.

import type { Digest } from '../platform/digest.js';
import { sha256Of } from '../platform/digest.js';
import { BodycamError } from '../errors.js';
import { defaultEd25519, type Ed25519 } from './ed25519.js';
import type { SignSteps } from './ed25519-interface.js';

export const KEY_ID_LENGTH = 8;

export interface Signer {
  readonly publicKey: Uint8Array;
  readonly keyId: Uint8Array;
  /** An Ed25519 signature of `message`. */
  sign(message: Uint8Array): Uint8Array;
  /** The same signature a slice at a time (a Signer that can't slice signs in the first step). */
  signSteps?(message: Uint8Array): SignSteps;
}

/** The steps of `signer` signing `message`: its own slices, or one step that signs. */
export function stepsOf(signer: Signer, message: Uint8Array): SignSteps {
  if (signer.signSteps) return signer.signSteps(message);
  let signature: Uint8Array | undefined;
  return {
    step: () => {
      if (!signature) signature = signer.sign(message);
      return true;
    },
    signature: () => {
      if (!signature) throw new BodycamError('E_ED25519_STEPS', 'the signature is not finished: step() until it returns true');
      return signature;
    },
  };
}

/** The key id of an Ed25519 public key: SHA-256(publicKey)[0..8]. */
export function keyIdOf(publicKey: Uint8Array, digest: Digest): Uint8Array {
  if (publicKey.length !== 32) throw new BodycamError('E_KEY', `an Ed25519 public key is 32 bytes, not ${publicKey.length}`);
  return sha256Of(digest, publicKey).slice(0, KEY_ID_LENGTH);
}

export interface KeyPairSignerOptions {
  /** 32-byte seed (the secret); the key pair is derived from it. */
  seed: Uint8Array;
  digest: Digest;
  ed25519?: Ed25519;
}

/** A Signer over a seed held in memory: the agency root or a dock on the host, tests. */
export class KeyPairSigner implements Signer {
  readonly publicKey: Uint8Array;
  readonly keyId: Uint8Array;
  #secretKey: Uint8Array;
  #ed25519: Ed25519;
  constructor(o: KeyPairSignerOptions) {
    this.#ed25519 = o.ed25519 ?? defaultEd25519();
    const kp = this.#ed25519.keyPairFromSeed(o.seed);
    this.#secretKey = kp.secretKey;
    this.publicKey = kp.publicKey;
    this.keyId = keyIdOf(kp.publicKey, o.digest);
  }
  sign(message: Uint8Array): Uint8Array {
    return this.#ed25519.sign(message, this.#secretKey);
  }
}

export function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
