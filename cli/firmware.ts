// `bodycam firmware keygen|sign|verify`: the armoury's side of signed firmware. The agency's
// firmware signing key is separate from the evidence root: it only signs firmware images
// (firmware/update/image.ts, MCUboot's layout), and cameras are provisioned with its public key.
//
// Keys are PEM files as imgtool and OpenSSL write them: the secret is an encrypted PKCS#8 key
// ("ENCRYPTED PRIVATE KEY": PBES2, PBKDF2-HMAC-SHA256 and AES-256-CBC, as OpenSSL writes with a
// passphrase), the public key SubjectPublicKeyInfo ("PUBLIC KEY"), so `imgtool sign --key` (it
// asks for the passphrase) and `imgtool verify --key` accept the same files. Like the agency root,
// the secret is never on disk in the clear: the passphrase comes from --passphrase-file FILE or
// BODYCAM_FIRMWARE_PASSPHRASE (there is no prompt). A key written in the clear by an older version
// or another tool is refused for signing (E_KEY_UNENCRYPTED), with the command that encrypts it.

import { createPrivateKey, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BodycamError } from '../firmware/errors.js';
import { softDigest } from '../firmware/platform/soft-digest.js';
import { KeyPairSigner } from '../firmware/signing/signer.js';
import { toHex } from '../firmware/codec/cbor.js';
import { buildImage, firmwareKeyId, parseHeader, parseVersion, versionText, ED25519_SPKI_PREFIX } from '../firmware/update/image.js';
import { verifyImage, type ImageInfo } from '../firmware/update/session.js';
import { MemoryTrust } from '../firmware/update/trust.js';
import { MIN_PASSPHRASE, parseArgs, secretOption, stringOption, type Parsed } from './args.js';
import { findBoard } from './build.js';

export const SECRET_FILE = 'firmware-signing.pem';
export const PUBLIC_FILE = 'firmware-signing.pub.pem';

const PKCS8_PREFIX = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

function pem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{1,64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}-----END ${label}-----\n`;
}

function unpem(text: string, file: string): { label: string; der: Uint8Array } {
  const m = /-----BEGIN ([A-Z ]+)-----([\s\S]*?)-----END \1-----/.exec(text);
  if (!m) throw new BodycamError('E_KEY', `${file} is not a PEM key file`);
  return { label: m[1], der: new Uint8Array(Buffer.from(m[2].replace(/\s+/g, ''), 'base64')) };
}

function withPrefix(der: Uint8Array, prefix: readonly number[]): Uint8Array | undefined {
  if (der.length !== prefix.length + 32 || prefix.some((b, i) => der[i] !== b)) return undefined;
  return der.slice(prefix.length);
}

export const FIRMWARE_PASSPHRASE_ENV = 'BODYCAM_FIRMWARE_PASSPHRASE';

/** The firmware key's passphrase: --passphrase-file FILE, else BODYCAM_FIRMWARE_PASSPHRASE. */
export function firmwarePassphrase(p: Parsed, env: NodeJS.ProcessEnv): string {
  const secret = secretOption(p, env, 'passphrase-file', FIRMWARE_PASSPHRASE_ENV);
  if (secret !== undefined) return secret;
  throw new BodycamError('E_PASSPHRASE_MISSING', `the firmware signing key's passphrase is needed: give --passphrase-file FILE or set ${FIRMWARE_PASSPHRASE_ENV} (there is no prompt)`);
}

/** The 32-byte seed of an encrypted Ed25519 PKCS#8 key file. */
export function readSecretKey(file: string, passphrase: string): Uint8Array {
  const text = readFileSync(file, 'utf8');
  const { label } = unpem(text, file);
  if (label === 'PRIVATE KEY') {
    throw new BodycamError('E_KEY_UNENCRYPTED', `${file} holds the signing key in the clear; encrypt it first (e.g. \`openssl pkcs8 -topk8 -v2 aes-256-cbc -v2prf hmacWithSHA256 -in ${file} -out encrypted.pem\`), keep the encrypted file and destroy this one`);
  }
  if (label !== 'ENCRYPTED PRIVATE KEY') throw new BodycamError('E_KEY', `${file} is not an encrypted private key (\`bodycam firmware keygen\` writes one)`);
  let der: Uint8Array;
  try {
    der = new Uint8Array(createPrivateKey({ key: text, format: 'pem', passphrase }).export({ format: 'der', type: 'pkcs8' }));
  } catch {
    throw new BodycamError('E_PASSPHRASE', `wrong passphrase for ${file} (or the file was altered)`);
  }
  const seed = withPrefix(der, PKCS8_PREFIX);
  if (!seed) throw new BodycamError('E_KEY', `${file} is not an Ed25519 private key`);
  return seed;
}

/** The 32-byte Ed25519 public key of a PUBLIC KEY file, or of a PRIVATE KEY file. */
export function readPublicKey(file: string): Uint8Array {
  const { label, der } = unpem(readFileSync(file, 'utf8'), file);
  if (label === 'PRIVATE KEY' || label === 'ENCRYPTED PRIVATE KEY') throw new BodycamError('E_KEY', `${file} is the secret signing key; give the public key (${PUBLIC_FILE})`);
  const key = label === 'PUBLIC KEY' ? withPrefix(der, ED25519_SPKI_PREFIX) : undefined;
  if (!key) throw new BodycamError('E_KEY', `${file} is not an Ed25519 public key (SubjectPublicKeyInfo PEM)`);
  return key;
}

function help(out: (line: string) => void): void {
  out('usage: bodycam firmware <keygen|sign|verify> ...');
  out('  keygen --out DIR [--json]        a new firmware signing key: DIR/' + SECRET_FILE + ' (secret, encrypted) and DIR/' + PUBLIC_FILE);
  out('  sign --key FILE --version X.Y.Z --board NAME [--security-counter N] [--json] IN OUT');
  out('                                   sign the application image IN (what mcconfig builds) into OUT');
  out('  verify FILE --key FILE [--key FILE] [--board NAME] [--security-counter N] [--json]');
  out('                                   check an image as a camera would (exit 0 only if it would install)');
  out('The firmware key is not the evidence root: keep it offline, on the armoury signing machine only.');
  out(`keygen and sign take the key's passphrase from --passphrase-file FILE or ${FIRMWARE_PASSPHRASE_ENV} (there is no prompt)`);
}

async function keygen(argv: string[], out: (line: string) => void, env: NodeJS.ProcessEnv): Promise<number> {
  const p = parseArgs(argv, { out: { value: true }, 'passphrase-file': { value: true }, json: {} });
  const dir = stringOption(p, 'out');
  if (!dir || p.positionals.length) throw new BodycamError('E_USAGE', 'usage: bodycam firmware keygen --out DIR');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const secret = join(dir, SECRET_FILE);
  const pub = join(dir, PUBLIC_FILE);
  for (const f of [secret, pub]) if (existsSync(f)) throw new BodycamError('E_EXISTS', `${f} exists; a firmware key is never overwritten (cameras trust it). Choose another --out`);
  const passphrase = firmwarePassphrase(p, env);
  if (passphrase.length < MIN_PASSPHRASE) throw new BodycamError('E_PASSPHRASE_WEAK', `the passphrase must have at least ${MIN_PASSPHRASE} characters`);
  const seed = new Uint8Array(randomBytes(32));
  const signer = new KeyPairSigner({ seed, digest: softDigest });
  const pkcs8 = new Uint8Array([...PKCS8_PREFIX, ...seed]);
  // Encrypted before it is written: the seed never reaches the disk in the clear.
  const sealed = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase });
  pkcs8.fill(0);
  writeFileSync(secret, sealed, { mode: 0o600, flag: 'wx' });
  writeFileSync(pub, pem('PUBLIC KEY', new Uint8Array([...ED25519_SPKI_PREFIX, ...signer.publicKey])), { mode: 0o644, flag: 'wx' });
  const keyId = toHex(firmwareKeyId(signer.publicKey, softDigest));
  if (p.options.json) {
    out(JSON.stringify({ ok: true, keyId, publicKey: resolve(pub), secret: resolve(secret), encrypted: true }));
    return 0;
  }
  out(`firmware public key: ${pub} (key id ${keyId}); provision cameras with it`);
  out(`WARNING: the firmware SIGNING key is in ${resolve(secret)} (encrypted with your passphrase, mode 0600).`);
  out('  Anyone who holds it can sign firmware that every camera of the agency installs.');
  out('  Move it to offline storage (an encrypted USB key in the armoury safe); keep a second copy; never put it on a dock.');
  return 0;
}

export interface SignFirmwareOptions {
  /** The firmware signing key (encrypted PKCS#8 PEM) and its passphrase. */
  keyFile: string;
  passphrase: string;
  /** "X.Y.Z[+B]". */
  version: string;
  /** A board name from boards/. */
  board: string;
  securityCounter?: number;
  payload: Uint8Array;
  /** Where warnings go (a key file others can read). */
  warn?: (line: string) => void;
}

export interface SignedFirmware {
  image: Uint8Array;
  info: ImageInfo;
  /** Key id of the signing key (hex). */
  keyId: string;
}

/**
 * Wrap an application image into a signed image and check it as a camera would before handing
 * it back: `bodycam firmware sign` and `bodycam build --sign-key` both come here.
 */
export function signFirmware(o: SignFirmwareOptions): SignedFirmware {
  const board = findBoard(o.board).name;
  if (o.securityCounter !== undefined && (!Number.isInteger(o.securityCounter) || o.securityCounter < 0 || o.securityCounter > 0xffffffff)) throw new BodycamError('E_USAGE', '--security-counter must be an integer 0..4294967295');
  if (statSync(o.keyFile).mode & 0o077) o.warn?.(`warning: ${o.keyFile} is readable by other users; chmod 600 it`);
  const signer = new KeyPairSigner({ seed: readSecretKey(o.keyFile, o.passphrase), digest: softDigest });
  const image = buildImage({ payload: o.payload, version: parseVersion(o.version), securityCounter: o.securityCounter, board, signer, digest: softDigest });
  const check = verifyImage(image, { trust: new MemoryTrust({ keys: [signer.publicKey] }), digest: softDigest, board });
  if (check.code !== 'OK') throw new BodycamError(check.code, `the image just signed does not verify: ${check.message}`);
  return { image, info: check.image!, keyId: toHex(firmwareKeyId(signer.publicKey, softDigest)) };
}

/** One line about a signed image, as the armoury sees it. */
export function describeSigned(file: string, s: SignedFirmware): string {
  return `${file}: firmware ${s.info.version} for ${s.info.board}, security counter ${s.info.securityCounter}, ${s.info.payloadLength} payload bytes, signed by key ${s.keyId}`;
}

async function sign(argv: string[], out: (line: string) => void, env: NodeJS.ProcessEnv): Promise<number> {
  const p = parseArgs(argv, { key: { value: true }, version: { value: true }, board: { value: true }, 'security-counter': { value: true }, 'passphrase-file': { value: true }, json: {} });
  const keyFile = stringOption(p, 'key');
  const version = stringOption(p, 'version');
  if (!keyFile || !version || p.positionals.length !== 2) throw new BodycamError('E_USAGE', 'usage: bodycam firmware sign --key FILE --version X.Y.Z --board NAME IN OUT');
  const board = findBoard(stringOption(p, 'board')).name;
  const counterText = stringOption(p, 'security-counter');
  const securityCounter = counterText === undefined ? undefined : Number(counterText);
  const [input, output] = p.positionals;
  const signed = signFirmware({ keyFile, passphrase: firmwarePassphrase(p, env), version, board, securityCounter, payload: new Uint8Array(readFileSync(input)), warn: out });
  writeFileSync(output, signed.image);
  if (p.options.json) out(JSON.stringify({ ok: true, file: resolve(output), ...signed.info, keyId: signed.keyId }));
  else out(describeSigned(output, signed));
  return 0;
}

async function verify(argv: string[], out: (line: string) => void): Promise<number> {
  const p = parseArgs(argv, { key: { value: true, many: true }, board: { value: true }, 'security-counter': { value: true }, json: {} });
  const keyFiles = (p.options.key as string[] | undefined) ?? [];
  if (p.positionals.length !== 1 || keyFiles.length === 0) throw new BodycamError('E_USAGE', 'usage: bodycam firmware verify FILE --key PUBLIC-KEY-FILE [--board NAME] [--json]');
  const file = p.positionals[0];
  const image = new Uint8Array(readFileSync(file));
  const counter = Number(stringOption(p, 'security-counter') ?? 0);
  if (!Number.isInteger(counter) || counter < 0) throw new BodycamError('E_USAGE', '--security-counter must be a non-negative integer (the camera\'s counter)');
  const trust = new MemoryTrust({ keys: keyFiles.map(readPublicKey), counter });
  const board = stringOption(p, 'board');
  const r = verifyImage(image, { trust, digest: softDigest, board });
  let version: string | undefined;
  try {
    version = versionText(parseHeader(image).version);
  } catch {
    version = undefined;
  }
  if (p.options.json) {
    out(JSON.stringify({ file, ok: r.code === 'OK', code: r.code, message: r.message, ...(r.image ?? (version ? { version } : {})) }));
  } else if (r.code === 'OK') {
    const i = r.image!;
    out(`${file}: OK — firmware ${i.version} for ${i.board}, security counter ${i.securityCounter}, ${i.payloadLength} payload bytes, key ${i.keyId}, SHA-256 ${i.digest}`);
  } else {
    out(`${file}: REFUSED ${r.message}`);
  }
  return r.code === 'OK' ? 0 : 1;
}

export async function firmwareCommand(argv: string[], out: (line: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === 'help' || sub === '--help') {
    help(out);
    return sub ? 0 : 2;
  }
  if (sub === 'keygen') return keygen(rest, out, env);
  if (sub === 'sign') return sign(rest, out, env);
  if (sub === 'verify') return verify(rest, out);
  throw new BodycamError('E_USAGE', `unknown firmware command "${sub}": keygen, sign or verify`);
}
