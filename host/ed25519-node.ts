// Ed25519 for the host (dock station, verify CLI): Node's native crypto (OpenSSL), behind the
// firmware's Ed25519 interface and with the same strict checks libsodium makes (S < L, no
// small-order A or R, canonical A), so the dock accepts exactly what the camera's verifier does.

import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { BodycamError } from '../firmware/errors.js';
import { strictPrecheck, tweetEd25519, type Ed25519, type Ed25519KeyPair } from '../firmware/signing/ed25519.js';

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function privateKey(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

const publicKeys = new Map<string, KeyObject>();
function publicKey(raw: Uint8Array): KeyObject {
  const id = Buffer.from(raw).toString('hex');
  let k = publicKeys.get(id);
  if (!k) {
    k = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
    if (publicKeys.size > 10000) publicKeys.clear();
    publicKeys.set(id, k);
  }
  return k;
}

export class NodeEd25519 implements Ed25519 {
  readonly name = 'node-crypto';
  keyPairFromSeed(seed: Uint8Array): Ed25519KeyPair {
    if (seed.length !== 32) throw new BodycamError('E_ED25519_LENGTH', 'an Ed25519 seed must be 32 bytes');
    const pub = createPublicKey(privateKey(seed)).export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
    const publicKeyBytes = new Uint8Array(pub);
    const secretKey = new Uint8Array(64);
    secretKey.set(seed);
    secretKey.set(publicKeyBytes, 32);
    return { publicKey: publicKeyBytes, secretKey };
  }
  sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
    if (secretKey.length !== 64) throw new BodycamError('E_ED25519_LENGTH', 'an Ed25519 secret key is 64 bytes');
    return new Uint8Array(nodeSign(null, message, privateKey(secretKey.subarray(0, 32))));
  }
  verify(message: Uint8Array, signature: Uint8Array, pub: Uint8Array): boolean {
    if (!(signature instanceof Uint8Array) || !(pub instanceof Uint8Array) || !strictPrecheck(signature, pub)) return false;
    try {
      return nodeVerify(null, message, publicKey(pub), signature);
    } catch {
      return false;
    }
  }
}

/** The host's Ed25519: Node's native one where it works, tweetnacl otherwise. */
export function hostEd25519(): Ed25519 {
  try {
    const n = new NodeEd25519();
    const kp = n.keyPairFromSeed(new Uint8Array(32).fill(7));
    if (n.verify(new Uint8Array([1]), n.sign(new Uint8Array([1]), kp.secretKey), kp.publicKey)) return n;
  } catch {
    // fall through
  }
  return tweetEd25519;
}
