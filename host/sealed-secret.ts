// A secret sealed under a passphrase, the one way the armoury keeps one on disk: the agency root
// (cli/provision.ts, root.secret) and the agency evidence keys (evidence-keys/<key id>.secret,
// opened for export by evidence/evidence-keys.ts). scrypt (N = 2^17, r = 8, p = 1 by default)
// derives an AES-256-GCM key from the passphrase (NFC-normalised) and a fresh 16-byte salt; a fresh
// 12-byte IV; the additional data binds the ciphertext to the file's format, agency and public
// key, so fields can't be swapped between files. Everything is hex in the file's JSON.
//
// Promises: openSealed returns the secret only if the passphrase is right and neither the
// ciphertext nor the bound text changed; undefined otherwise (the caller names the error). The
// caller writes the file with mode 0600 from its first byte (writeDurable's mode).

import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/** The sealed part of a secret file (its "kdf", "cipher" and "ciphertext" fields). */
export interface Sealed {
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  cipher: { name: 'aes-256-gcm'; iv: string; tag: string };
  ciphertext: string;
}

export const SCRYPT: Readonly<ScryptParams> = Object.freeze({ N: 1 << 17, r: 8, p: 1 });

function deriveKey(passphrase: string, salt: Uint8Array, kdf: ScryptParams): Buffer {
  return scryptSync(passphrase.normalize('NFC'), salt, 32, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 256 * kdf.N * kdf.r + 1024 * 1024 });
}

/** Seal `secret` under `passphrase`, bound to `boundText`; scryptN lowers the cost (tests only). */
export function seal(secret: Uint8Array, passphrase: string, boundText: string, scryptN?: number): Sealed {
  const kdf = { ...SCRYPT, N: scryptN ?? SCRYPT.N };
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', deriveKey(passphrase, salt, kdf), iv);
  cipher.setAAD(Buffer.from(boundText, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(secret), cipher.final()]);
  return {
    kdf: { name: 'scrypt', ...kdf, salt: salt.toString('hex') },
    cipher: { name: 'aes-256-gcm', iv: iv.toString('hex'), tag: cipher.getAuthTag().toString('hex') },
    ciphertext: ciphertext.toString('hex'),
  };
}

/** Whether `v` has the shape of a Sealed (before any passphrase is tried). */
export function isSealed(v: unknown): v is Sealed {
  const s = v as Sealed | null;
  const hex = (x: unknown) => typeof x === 'string' && /^([0-9a-f]{2})*$/.test(x);
  const int = (x: unknown) => typeof x === 'number' && Number.isSafeInteger(x) && x > 0;
  return !!s && typeof s === 'object' && !!s.kdf && !!s.cipher && int(s.kdf.N) && int(s.kdf.r) && int(s.kdf.p) && s.kdf.N <= 1 << 20 && s.kdf.r <= 32 && s.kdf.p <= 16
    && hex(s.kdf.salt) && hex(s.cipher.iv) && s.cipher.iv.length === 24 && hex(s.cipher.tag) && s.cipher.tag.length === 32 && hex(s.ciphertext);
}

/** The secret, or undefined for a wrong passphrase or an altered file. */
export function openSealed(s: Sealed, passphrase: string, boundText: string): Uint8Array | undefined {
  try {
    const d = createDecipheriv('aes-256-gcm', deriveKey(passphrase, Buffer.from(s.kdf.salt, 'hex'), s.kdf), Buffer.from(s.cipher.iv, 'hex'));
    d.setAAD(Buffer.from(boundText, 'utf8'));
    d.setAuthTag(Buffer.from(s.cipher.tag, 'hex'));
    return new Uint8Array(Buffer.concat([d.update(Buffer.from(s.ciphertext, 'hex')), d.final()]));
  } catch {
    return undefined;
  }
}
