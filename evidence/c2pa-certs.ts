// X.509 for C2PA content credentials: the agency root as a self-signed X.509 CA certificate (the
// trust anchor a C2PA validator is given), and export-signer certificates it issues. The agency
// root key is the same Ed25519 key that signs every camera and dock certificate (COSE); C2PA
// allows Ed25519 (COSE alg -8). Certificates follow the C2PA certificate profile: v3, the leaf
// with keyUsage digitalSignature (critical), extendedKeyUsage documentSigning, not a CA, with
// subject and authority key identifiers; the root a CA with keyCertSign.
//
// Built with @peculiar/x509. Its signing goes through a WebCrypto `subtle.sign`, which is given
// here as the bodycam Signer's sign(): the root's seed never leaves the Signer.

import { webcrypto, X509Certificate as NodeX509, createPublicKey } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { BodycamError } from '../firmware/errors.js';
import type { Ed25519 } from '../firmware/signing/ed25519.js';
import { KeyPairSigner, type Signer } from '../firmware/signing/signer.js';
import { nodeDigest } from '../host/ports.js';

/** id-kp-documentSigning (RFC 9336). */
export const EKU_DOCUMENT_SIGNING = '1.3.6.1.5.5.7.3.36';
const SPKI_ED25519_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);

/** The SubjectPublicKeyInfo (DER) of a raw Ed25519 public key. */
export function ed25519Spki(publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== 32) throw new BodycamError('E_KEY_FORMAT', 'an Ed25519 public key is 32 bytes');
  const out = new Uint8Array(44);
  out.set(SPKI_ED25519_PREFIX);
  out.set(publicKey, 12);
  return out;
}

/** A WebCrypto whose sign() is the Signer's (digest and the rest are Node's). */
function cryptoFor(signer: Signer): webcrypto.Crypto {
  const subtle = webcrypto.subtle;
  const proxy = {
    sign: async (_alg: unknown, _key: unknown, data: ArrayBuffer | ArrayBufferView) => {
      const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      return signer.sign(bytes).slice().buffer;
    },
    digest: subtle.digest.bind(subtle),
    exportKey: subtle.exportKey.bind(subtle),
    importKey: subtle.importKey.bind(subtle),
    verify: subtle.verify.bind(subtle),
  };
  return { subtle: proxy, getRandomValues: webcrypto.getRandomValues.bind(webcrypto) } as unknown as webcrypto.Crypto;
}

const FAKE_KEY = { algorithm: { name: 'Ed25519' }, type: 'private', extractable: false, usages: ['sign'] } as unknown as webcrypto.CryptoKey;

function serialOf(n: number): string {
  const h = n.toString(16);
  return (h.length % 2 ? '0' : '') + h;
}

const dn = (cn: string, agency: string) => `CN=${cn.replace(/[,+="\\<>;#]/g, ' ')}, O=${agency.replace(/[,+="\\<>;#]/g, ' ')}`;

export interface RootCertificateOptions {
  root: Signer;
  agency: string;
  serial: number;
  notBefore: number;
  notAfter: number;
}

/** One certificate signed by the agency root's Signer: the fields both kinds share. */
async function generate(root: Signer, o: { serial: number; subject: string; issuer: string; publicKey: Uint8Array; notBefore: number; notAfter: number; extensions: (crypto: webcrypto.Crypto, pub: x509.PublicKey) => Promise<x509.Extension[]> }): Promise<Uint8Array> {
  const crypto = cryptoFor(root);
  const pub = new x509.PublicKey(ed25519Spki(o.publicKey));
  const cert = await x509.X509CertificateGenerator.create(
    { serialNumber: serialOf(o.serial), subject: o.subject, issuer: o.issuer, notBefore: new Date(o.notBefore), notAfter: new Date(o.notAfter), publicKey: pub, signingKey: FAKE_KEY, signingAlgorithm: { name: 'Ed25519' }, extensions: await o.extensions(crypto, pub) },
    crypto,
  );
  return new Uint8Array(cert.rawData);
}

/** The agency root as a self-signed X.509 CA certificate (DER). */
export async function issueRootX509(o: RootCertificateOptions): Promise<Uint8Array> {
  const name = dn(`${o.agency} evidence root`, o.agency);
  return generate(o.root, {
    serial: o.serial,
    subject: name,
    issuer: name,
    publicKey: o.root.publicKey,
    notBefore: o.notBefore,
    notAfter: o.notAfter,
    extensions: async (crypto, pub) => [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true), await x509.SubjectKeyIdentifierExtension.create(pub, false, crypto)],
  });
}

export interface SignerCertificateOptions {
  root: Signer;
  agency: string;
  /** Who signs exports with it (a dock station, an evidence office). */
  name: string;
  publicKey: Uint8Array;
  serial: number;
  notBefore: number;
  notAfter: number;
}

/** An export-signer certificate (DER) issued by the agency root. */
export async function issueSignerX509(o: SignerCertificateOptions): Promise<Uint8Array> {
  const rootPub = new x509.PublicKey(ed25519Spki(o.root.publicKey));
  return generate(o.root, {
    serial: o.serial,
    subject: dn(o.name, o.agency),
    issuer: dn(`${o.agency} evidence root`, o.agency),
    publicKey: o.publicKey,
    notBefore: o.notBefore,
    notAfter: o.notAfter,
    extensions: async (crypto, pub) => [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([EKU_DOCUMENT_SIGNING], false),
      await x509.SubjectKeyIdentifierExtension.create(pub, false, crypto),
      await x509.AuthorityKeyIdentifierExtension.create(rootPub, false, crypto),
    ],
  });
}

/** PEM of a DER certificate. */
export function certificatePem(der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`;
}

export interface CheckedSignerCertificate {
  subject: string;
  issuer: string;
  serial: string;
  notBefore: number;
  notAfter: number;
  /** The raw Ed25519 public key it certifies. */
  publicKey: Uint8Array;
}

/**
 * Check an export-signer certificate against the agency root key given from outside: signed by
 * it, Ed25519, the C2PA leaf profile (not a CA, digitalSignature, documentSigning).
 */
export function checkSignerX509(der: Uint8Array, rootPublicKey: Uint8Array): CheckedSignerCertificate {
  let c: NodeX509;
  try {
    c = new NodeX509(der);
  } catch (e) {
    throw new BodycamError('E_C2PA_CERTIFICATE', `the signer certificate is not X.509 (${(e as Error).message})`);
  }
  const root = createPublicKey({ key: Buffer.from(ed25519Spki(rootPublicKey)), format: 'der', type: 'spki' });
  if (!c.verify(root)) throw new BodycamError('E_C2PA_UNTRUSTED', `the signer certificate (${c.subject.replace(/\n/g, ', ')}) is not signed by the pinned agency root`);
  if (c.ca) throw new BodycamError('E_C2PA_CERTIFICATE', 'the signer certificate is a CA certificate');
  if (c.publicKey.asymmetricKeyType !== 'ed25519') throw new BodycamError('E_C2PA_CERTIFICATE', `the signer key is ${c.publicKey.asymmetricKeyType}, not Ed25519`);
  if (!(c.keyUsage ?? []).includes(EKU_DOCUMENT_SIGNING)) throw new BodycamError('E_C2PA_CERTIFICATE', 'the signer certificate is not for document signing');
  const spki = new Uint8Array(c.publicKey.export({ format: 'der', type: 'spki' }));
  return { subject: c.subject.replace(/\n/g, ', '), issuer: c.issuer.replace(/\n/g, ', '), serial: c.serialNumber, notBefore: Date.parse(c.validFrom), notAfter: Date.parse(c.validTo), publicKey: spki.subarray(12) };
}

// ------------------------------------------------------------------ signer identity

/** The files of an export signer's identity folder (`bodycam provision export-signer`). */
export const SIGNER_FILES = Object.freeze({ seed: 'export.seed', certificate: 'export.cert.der', root: 'root.cert.der', rootPem: 'root.cert.pem', rootKey: 'root.pub' });

export interface ExportSignerIdentity {
  signer: Signer;
  /** The signer's certificate (DER), issued by the agency root. */
  certificate: Uint8Array;
  /** The agency root as an X.509 certificate (DER): what a C2PA validator is given as its trust anchor. */
  rootCertificate: Uint8Array;
  checked: CheckedSignerCertificate;
}

/** Write an export signer's identity folder; the seed is 0600 from its first byte. */
export function writeSignerIdentity(dir: string, files: { seed: Uint8Array; certificate: Uint8Array; rootCertificate: Uint8Array; rootKey: Uint8Array }): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, SIGNER_FILES.seed), files.seed, { mode: 0o600, flag: 'wx' });
  writeFileSync(join(dir, SIGNER_FILES.certificate), files.certificate);
  writeFileSync(join(dir, SIGNER_FILES.root), files.rootCertificate);
  writeFileSync(join(dir, SIGNER_FILES.rootPem), certificatePem(files.rootCertificate));
  writeFileSync(join(dir, SIGNER_FILES.rootKey), files.rootKey);
}

/**
 * Load an export signer's identity and check it: its certificate is signed by the agency root
 * key pinned for the export (never only by the folder's own root.pub), is for the seed's key,
 * and is valid now.
 */
export function loadSignerIdentity(dir: string, rootPublicKey: Uint8Array, ed25519: Ed25519, now = Date.now()): ExportSignerIdentity {
  const read = (name: string) => {
    const p = join(dir, name);
    if (!existsSync(p)) throw new BodycamError('E_SIGNER_IDENTITY', `${p} is missing: issue an export signer with \`bodycam provision export-signer\``);
    return new Uint8Array(readFileSync(p));
  };
  const seed = read(SIGNER_FILES.seed);
  if (seed.length !== 32) throw new BodycamError('E_SIGNER_IDENTITY', `${join(dir, SIGNER_FILES.seed)} must hold 32 bytes`);
  const certificate = read(SIGNER_FILES.certificate);
  const rootCertificate = read(SIGNER_FILES.root);
  const signer = new KeyPairSigner({ seed, digest: nodeDigest, ed25519 });
  seed.fill(0);
  const checked = checkSignerX509(certificate, rootPublicKey);
  if (!Buffer.from(checked.publicKey).equals(Buffer.from(signer.publicKey))) throw new BodycamError('E_SIGNER_IDENTITY', `${join(dir, SIGNER_FILES.certificate)} certifies another key than ${SIGNER_FILES.seed}`);
  if (now < checked.notBefore) throw new BodycamError('E_CERT_NOT_YET_VALID', `the export signer's certificate is valid from ${new Date(checked.notBefore).toISOString()}: is this computer's clock behind?`);
  if (now > checked.notAfter) throw new BodycamError('E_CERT_EXPIRED', `the export signer's certificate expired ${new Date(checked.notAfter).toISOString()}: issue a new one with \`bodycam provision export-signer\``);
  const root = new NodeX509(rootCertificate);
  const rootSpki = new Uint8Array(root.publicKey.export({ format: 'der', type: 'spki' }));
  if (!Buffer.from(rootSpki.subarray(12)).equals(Buffer.from(rootPublicKey)) || !root.verify(root.publicKey)) throw new BodycamError('E_SIGNER_IDENTITY', `${join(dir, SIGNER_FILES.root)} is not the pinned agency root's self-signed certificate`);
  return { signer, certificate, rootCertificate, checked };
}
