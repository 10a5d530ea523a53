// The camera's identity: an Ed25519 key pair made on the camera from the Random port and kept
// in the KeyStore port, plus the certificate the agency root issued for it at provisioning and
// the root public key the camera trusts.
//
// Promises: the seed is drawn once (32 bytes from the Random port), stored under KEY_SEED,
// and never returned by any method; the identity only signs. Reopening on the same KeyStore
// gives the same key. Key names fit ESP-IDF NVS (at most 15 characters). provision() refuses a
// certificate for another key or of another kind, so a copied certificate can't be installed.

import type { Digest } from '../platform/digest.js';
import type { KeyStore } from '../platform/keystore.js';
import type { Random } from '../platform/random.js';
import { BodycamError } from '../errors.js';
import { defaultEd25519, type Ed25519 } from './ed25519.js';
import { keyIdOf, sameBytes, type Signer } from './signer.js';
import type { SignSteps } from './ed25519-interface.js';
import { peekCertificate, verifyCertificate, type Certificate } from './certificate.js';

export const KEY_SEED = 'identity.seed';
export const KEY_CERTIFICATE = 'identity.cert';
export const KEY_ROOT = 'trust.root';

export interface DeviceIdentityOptions {
  keyStore: KeyStore;
  random: Random;
  digest: Digest;
  ed25519?: Ed25519;
}

export class DeviceIdentity implements Signer {
  readonly publicKey: Uint8Array;
  readonly keyId: Uint8Array;
  #secretKey: Uint8Array;
  #ed25519: Ed25519;
  #keyStore: KeyStore;
  #digest: Digest;

  /** Open the identity in the key store, generating the key pair on first use. */
  constructor(o: DeviceIdentityOptions) {
    this.#ed25519 = o.ed25519 ?? defaultEd25519();
    this.#keyStore = o.keyStore;
    this.#digest = o.digest;
    const stored = o.keyStore.get(KEY_SEED);
    let seed: Uint8Array;
    if (stored) {
      seed = new Uint8Array(stored);
      if (seed.length !== 32) throw new BodycamError('E_IDENTITY_CORRUPT', `the key store holds a ${seed.length}-byte device seed, not 32; re-provision the camera`);
    } else {
      seed = new Uint8Array(32);
      o.random.fill(seed);
      if (seed.every((b) => b === 0)) throw new BodycamError('E_RANDOM', 'the Random port returned zeros; refusing to make a key');
      o.keyStore.set(KEY_SEED, seed);
    }
    const kp = this.#ed25519.keyPairFromSeed(seed);
    seed.fill(0);
    this.#secretKey = kp.secretKey;
    this.publicKey = kp.publicKey;
    this.keyId = keyIdOf(kp.publicKey, o.digest);
  }

  /** Whether a key pair already exists in this key store. */
  static exists(keyStore: KeyStore): boolean {
    return keyStore.get(KEY_SEED) !== undefined;
  }

  sign(message: Uint8Array): Uint8Array {
    return this.#ed25519.sign(message, this.#secretKey);
  }

  /** sign() a slice at a time when the Ed25519 can (the fast one), else in one step. */
  signSteps(message: Uint8Array): SignSteps {
    const ed = this.#ed25519;
    if (ed.signSteps) return ed.signSteps(message, this.#secretKey);
    const signature = ed.sign(message, this.#secretKey);
    return { step: () => true, signature: () => signature };
  }

  /** The agency root public key set at provisioning, if any. */
  rootKey(): Uint8Array | undefined {
    const r = this.#keyStore.get(KEY_ROOT);
    return r ? new Uint8Array(r) : undefined;
  }

  /** The device certificate (COSE bytes), if provisioned. */
  certificate(): Uint8Array | undefined {
    const c = this.#keyStore.get(KEY_CERTIFICATE);
    return c ? new Uint8Array(c) : undefined;
  }

  /** The device id from the certificate, if provisioned. */
  deviceId(): string | undefined {
    const c = this.certificate();
    return c ? peekCertificate(c).id : undefined;
  }

  /**
   * Provisioning: store the agency root key and this camera's certificate, after checking the
   * root signed it, it is a device certificate, and it is for this camera's key.
   */
  provision(rootPublicKey: Uint8Array, certificate: Uint8Array): Certificate {
    const cert = verifyCertificate(certificate, rootPublicKey, { digest: this.#digest, ed25519: this.#ed25519, kind: 'device' });
    if (!sameBytes(cert.publicKey, this.publicKey)) throw new BodycamError('E_CERT_KEY', `certificate ${cert.id} is for another key than this camera's`);
    this.#keyStore.set(KEY_ROOT, rootPublicKey);
    this.#keyStore.set(KEY_CERTIFICATE, certificate);
    return cert;
  }
}
