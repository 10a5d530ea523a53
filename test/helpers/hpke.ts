// HPKE cross-checks against an independent implementation (@hpke/core with @hpke/dhkem-x25519):
// our firmware/crypto/hpke.ts seals and theirs opens, theirs seals and ours opens, for any AEAD
// both have. Shared by the AES-256-GCM (crypto-hpke) and ChaCha20-Poly1305 (crypto-chacha) tests.

import type { ExecutionContext } from 'ava';
import { CipherSuite, HkdfSha256, type AeadInterface } from '@hpke/core';
import { DhkemX25519HkdfSha256 } from '@hpke/dhkem-x25519';
import { randomBytes } from 'node:crypto';
import { isBodycamError } from '../../firmware/errors.js';
import { hpkeDeriveKeyPair, openBase, setupBaseR, setupBaseS, type HpkeEnv, type HpkeSuite } from '../../firmware/crypto/hpke.js';
import { nodeCipher, nodeDigest } from '../../host/ports.js';
import { ascii } from './tables.js';

/** The firmware's HPKE over node's Digest and Cipher ports. */
export const env: HpkeEnv = { digest: nodeDigest, cipher: nodeCipher };
export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
export const toHex = (b: Uint8Array | ArrayBuffer): string => Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b).toString('hex');
const ab = (b: Uint8Array): ArrayBuffer => b.slice().buffer;
const LABEL = ascii('bodycam test');

/** @hpke/core's DHKEM(X25519, HKDF-SHA256), HKDF-SHA256 and `aead`. */
export function hpkeCore(aead: AeadInterface): CipherSuite {
  return new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead });
}

/**
 * Two messages of `size` and `size + 3` bytes sealed by our setupBaseS to a key pair @hpke/core
 * derived (our DeriveKeyPair of the same seed must give its public key); @hpke/core opens them
 * and exports the same secret.
 */
export async function weSealTheyOpen(t: ExecutionContext, ours: HpkeSuite, theirs: CipherSuite, size: number): Promise<void> {
  const ikm = randomBytes(32);
  const recipient = await theirs.kem.deriveKeyPair(ab(ikm));
  const pkR = new Uint8Array(await theirs.kem.serializePublicKey(recipient.publicKey));
  t.is(toHex(pkR), toHex(hpkeDeriveKeyPair(env, ours, ikm).publicKey), 'DeriveKeyPair agrees');
  const info = randomBytes(24);
  const aad = randomBytes(size % 17);
  const pts = [randomBytes(size), randomBytes(size + 3)];
  const { enc, context } = setupBaseS(env, ours, pkR, info, randomBytes(32));
  const cts = pts.map((p) => context.seal(aad, p));
  const exported = context.exportSecret(LABEL, 48);
  context.close();
  const r = await theirs.createRecipientContext({ recipientKey: recipient, enc: ab(enc), info: ab(info) });
  for (let i = 0; i < pts.length; i++) t.is(toHex(new Uint8Array(await r.open(ab(cts[i]), ab(aad)))), toHex(pts[i]), `message ${i} of ${size} bytes`);
  t.is(toHex(new Uint8Array(await r.export(ab(LABEL), 48))), toHex(exported));
}

/**
 * A message of `size` bytes sealed by @hpke/core, opened by our openBase (and our receiving
 * context exports what theirs does); the same with one bit flipped is refused (E_HPKE_OPEN).
 */
export async function theySealWeOpen(t: ExecutionContext, ours: HpkeSuite, theirs: CipherSuite, size: number): Promise<void> {
  const ikmR = randomBytes(32);
  const pair = hpkeDeriveKeyPair(env, ours, ikmR);
  const recipient = await theirs.kem.deriveKeyPair(ab(ikmR));
  const info = randomBytes(10);
  const aad = randomBytes(7);
  const pt = randomBytes(size);
  const s = await theirs.createSenderContext({ recipientPublicKey: recipient.publicKey, info: ab(info) });
  const ct = new Uint8Array(await s.seal(ab(pt), ab(aad)));
  const enc = new Uint8Array(s.enc);
  t.is(toHex(openBase(env, ours, enc, pair.secret, info, aad, ct)), toHex(pt));
  const context = setupBaseR(env, ours, enc, pair.secret, info);
  t.is(toHex(context.exportSecret(new Uint8Array(0), 32)), toHex(new Uint8Array(await s.export(new ArrayBuffer(0), 32))));
  context.close();
  const bad = ct.slice();
  bad[size >> 1] ^= 0x80;
  const e = t.throws(() => openBase(env, ours, enc, pair.secret, info, aad, bad));
  t.true(isBodycamError(e, 'E_HPKE_OPEN'), String(e));
}
