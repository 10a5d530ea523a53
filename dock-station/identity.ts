// A dock's identity on disk, as the armoury issues it (`bodycam provision dock`):
//   DIR/dock.seed         32-byte Ed25519 seed (the secret; mode 0600)
//   DIR/dock.cert.cose    the dock certificate, signed by the agency root
//   DIR/root.pub          the agency root public key (32 bytes)
//   DIR/revocations.cose  optional: the agency's signed revocation list

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BodycamError } from '../firmware/errors.js';
import { isRevoked, verifyCertificate, verifyRevocationList, type RevocationList } from '../firmware/signing/certificate.js';
import type { Ed25519 } from '../firmware/signing/ed25519.js';
import { KeyPairSigner } from '../firmware/signing/signer.js';
import { nodeDigest } from '../host/ports.js';
import type { DockIdentity } from './session.js';
import { writeDurable } from './store.js';

export interface DockIdentityFiles {
  seed: Uint8Array;
  certificate: Uint8Array;
  rootKey: Uint8Array;
  revocations?: Uint8Array;
}

export function writeDockIdentity(dir: string, files: DockIdentityFiles): void {
  // The secret is 0600 from its first byte (the temp file is created with the mode).
  writeDurable(join(dir, 'dock.seed'), files.seed, { mode: 0o600 });
  writeDurable(join(dir, 'dock.cert.cose'), files.certificate);
  writeDurable(join(dir, 'root.pub'), files.rootKey);
  if (files.revocations) writeDurable(join(dir, 'revocations.cose'), files.revocations);
}

function read(dir: string, name: string): Uint8Array {
  const p = join(dir, name);
  if (!existsSync(p)) throw new BodycamError('E_DOCK_IDENTITY', `${p} is missing: issue this dock an identity with \`bodycam provision dock\``);
  return new Uint8Array(readFileSync(p));
}

export function loadDockIdentity(dir: string, ed25519: Ed25519, now = Date.now()): DockIdentity & { revocationsCose?: Uint8Array } {
  const seed = read(dir, 'dock.seed');
  if (seed.length !== 32) throw new BodycamError('E_DOCK_IDENTITY', `${join(dir, 'dock.seed')} must hold 32 bytes`);
  const certificate = read(dir, 'dock.cert.cose');
  const rootKey = read(dir, 'root.pub');
  const signer = new KeyPairSigner({ seed, digest: nodeDigest, ed25519 });
  const cert = verifyCertificate(certificate, rootKey, { digest: nodeDigest, ed25519, kind: 'dock', at: now });
  if (!Buffer.from(cert.publicKey).equals(Buffer.from(signer.publicKey))) throw new BodycamError('E_DOCK_IDENTITY', 'the dock certificate is for another key than dock.seed');
  const revPath = join(dir, 'revocations.cose');
  const revocationsCose = existsSync(revPath) ? new Uint8Array(readFileSync(revPath)) : undefined;
  const revocations = revocationsCose ? verifyRevocationList(revocationsCose, rootKey, { ed25519 }) : undefined;
  checkOwnIdentity(cert, revocations);
  return { id: cert.id, signer, certificate, rootKey, revocations, revocationsCose };
}

/**
 * A station refuses to serve under an identity its own agency revoked (the certificate's
 * expiry is checked where it is verified, against the station's clock).
 */
export function checkOwnIdentity(cert: { id: string; keyId: Uint8Array }, revocations: RevocationList | undefined): void {
  const r = isRevoked(revocations, cert.keyId);
  if (r) throw new BodycamError('E_CERT_REVOKED', `this dock's identity ${cert.id} is on the agency's revocation list (${r.reason}): it may not serve cameras; issue it a new identity with \`bodycam provision dock\``);
}
