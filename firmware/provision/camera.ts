// The camera's side of provisioning: a synchronous handler fed with bytes from the link (USB
// serial or TCP, with the dock link's framing), answering with frames to write back. The armoury
// tool asks "identify" and the camera answers with its public key — made on first boot from the
// Random port and kept in the KeyStore (signing/identity.ts) — then "install" hands it the
// certificate the agency root signed for that key, the root public key and the configuration.
//
// Promises:
// - The secret key never leaves the camera; identify reports only the public key.
// - install stores nothing unless the certificate is a device certificate signed by the root it
//   came with AND is for this camera's own key (a certificate copied from another camera is
//   refused), the configuration is signed by the same root for this device, and the revocation
//   list (if any) is signed by it and does not revoke this camera.
// - A provisioned camera refuses install unless the request says force: re-provisioning replaces
//   the agency the camera trusts, so it must be a deliberate act at the armoury.
// - Writes are ordered so a power cut mid-install leaves the camera unprovisioned (the
//   certificate is written last, and removed first when forced), never half-provisioned.
// - The firmware keys (firmware/update's trust) come only in a key set the same root signed for
//   this camera; install replaces them with that set, or removes them when the install carries
//   none (a camera re-provisioned for another agency must not keep the old agency's firmware
//   key; with no key, firmware updates are refused, E_FW_NO_KEY). The security counter is kept.
// - Key names are at most 15 characters (ESP-IDF NVS).
//
// May import: firmware/codec, firmware/platform (types), firmware/signing, firmware/dock/frame,
// firmware/update/trust (where the firmware keys are kept).

import { BodycamError, errorCode } from '../errors.js';
import type { Checksum } from '../platform/checksum.js';
import type { Digest } from '../platform/digest.js';
import type { KeyStore } from '../platform/keystore.js';
import type { Random } from '../platform/random.js';
import { FrameReader, frameMessage } from '../dock/frame.js';
import { isRevoked, peekCertificate, verifyCertificate, verifyRevocationList, type RevocationList } from '../signing/certificate.js';
import type { Ed25519 } from '../signing/ed25519.js';
import { DeviceIdentity, KEY_CERTIFICATE, KEY_ROOT } from '../signing/identity.js';
import { sameBytes } from '../signing/signer.js';
import { toHex, type CborValue } from '../codec/cbor.js';
import { verifyConfig, type CameraConfig } from './config.js';
import { verifyFirmwareKeys, type FirmwareKeySet } from './firmware-keys.js';
import { KEY_FIRMWARE_KEYS, provisionFirmwareKeys } from '../update/trust.js';
import { decodeProvisionMessage, encodeProvisionMessage, type ProvisionMessage, type ProvisionMessageType } from './messages.js';

/**
 * KeyStore names written at provisioning (NVS allows 15 characters): the device certificate and
 * the agency root under signing/identity.ts's names, so DeviceIdentity reads what was installed.
 */
export const KEY_DEVICE_CERT = KEY_CERTIFICATE;
export const KEY_REVOCATIONS = 'trust.revoked';
export const KEY_CONFIG = 'camera.config';
export { KEY_ROOT, KEY_FIRMWARE_KEYS };

/** What provisioning left in a camera's key store (bytes as stored; verify before use). */
export interface ProvisionedState {
  certificate?: Uint8Array;
  rootKey?: Uint8Array;
  config?: Uint8Array;
  revocations?: Uint8Array;
  /** Concatenated 32-byte firmware public keys (firmware/update/trust.ts's layout). */
  firmwareKeys?: Uint8Array;
}

export function readProvisioned(keyStore: KeyStore): ProvisionedState {
  const get = (k: string) => {
    const v = keyStore.get(k);
    return v ? new Uint8Array(v) : undefined;
  };
  return { certificate: get(KEY_DEVICE_CERT), rootKey: get(KEY_ROOT), config: get(KEY_CONFIG), revocations: get(KEY_REVOCATIONS), firmwareKeys: get(KEY_FIRMWARE_KEYS) };
}

/**
 * The revocation list this camera holds (from provisioning, or newer from a docking), verified
 * against its agency root; undefined when it holds none or the stored one no longer verifies
 * (a newer list comes with the next docking).
 */
export function heldRevocations(keyStore: KeyStore, rootKey: Uint8Array | undefined, ed25519?: Ed25519): RevocationList | undefined {
  const v = keyStore.get(KEY_REVOCATIONS);
  if (!v || !rootKey) return undefined;
  try {
    return verifyRevocationList(new Uint8Array(v), rootKey, { ed25519 });
  } catch {
    return undefined;
  }
}

/** Keep a newer revocation list a dock brought (CameraSession's onRevocations). */
export function keepRevocations(keyStore: KeyStore, cose: Uint8Array): void {
  keyStore.set(KEY_REVOCATIONS, cose);
}

export type ProvisionEvent =
  | { kind: 'identified'; provisioned: boolean }
  | { kind: 'installed'; id: string; configVersion: number; forced: boolean; firmwareKeys: number }
  | { kind: 'refused'; code: string; message: string };

export interface CameraProvisioningOptions {
  keyStore: KeyStore;
  random: Random;
  digest: Digest;
  checksum: Checksum;
  /** The camera's Ed25519 (firmware/main.ts: NobleEd25519), for its key pair and every check of an install. */
  ed25519: Ed25519;
  firmwareVersion: string;
  /**
   * The picture size and rate this camera's board records best (boards/*.json `camera`: its
   * sensor's fastest mode this firmware sustains), told to the armoury at identify: the
   * configuration it issues records that unless the agency asks for another.
   */
  recording?: { width: number; height: number; frameRate: number };
  onEvent?: (e: ProvisionEvent) => void;
}

export class CameraProvisioning {
  #o: CameraProvisioningOptions;
  #ed: Ed25519;
  #identity: DeviceIdentity;
  #reader: FrameReader;
  #out: Uint8Array[] = [];
  #closed = false;

  /** Opens (on first boot: makes) the camera's key pair. */
  constructor(o: CameraProvisioningOptions) {
    this.#o = o;
    this.#ed = o.ed25519;
    this.#identity = new DeviceIdentity({ keyStore: o.keyStore, random: o.random, digest: o.digest, ed25519: this.#ed });
    this.#reader = new FrameReader(o.checksum);
  }

  get identity(): DeviceIdentity {
    return this.#identity;
  }

  get provisioned(): boolean {
    return this.#o.keyStore.get(KEY_DEVICE_CERT) !== undefined;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Feed bytes from the link; returns frames to write back. */
  receive(bytes: Uint8Array): Uint8Array[] {
    if (this.#closed) return [];
    for (const ev of this.#reader.push(bytes)) {
      if (ev.kind === 'fatal') {
        this.#error(ev.error.code, ev.error.message, true);
        break;
      }
      if (ev.kind === 'corrupt') {
        this.#error(ev.error.code, ev.error.message, false);
        continue;
      }
      try {
        this.#handle(decodeProvisionMessage(ev.payload));
      } catch (e) {
        const code = errorCode(e);
        const message = e instanceof Error ? e.message : String(e);
        this.#o.onEvent?.({ kind: 'refused', code, message });
        this.#error(code, message, false);
      }
    }
    const out = this.#out;
    this.#out = [];
    return out;
  }

  #send(t: ProvisionMessageType, fields: Record<string, CborValue>): void {
    this.#out.push(frameMessage(encodeProvisionMessage(t, fields), this.#o.checksum));
  }

  #error(code: string, message: string, fatal: boolean): void {
    this.#send('error', { code: code.slice(0, 256), message: message.slice(0, 256), fatal });
    if (fatal) this.#closed = true;
  }

  #handle(m: ProvisionMessage): void {
    switch (m.t) {
      case 'identify': {
        const cert = this.#o.keyStore.get(KEY_DEVICE_CERT);
        this.#send('identity', {
          id: cert ? peekCertificate(new Uint8Array(cert)).id : null,
          key: this.#identity.publicKey,
          keyId: this.#identity.keyId,
          fw: this.#o.firmwareVersion,
          provisioned: cert !== undefined,
          ...(this.#o.recording ? { width: this.#o.recording.width, height: this.#o.recording.height, frameRate: this.#o.recording.frameRate } : {}),
        });
        this.#o.onEvent?.({ kind: 'identified', provisioned: cert !== undefined });
        return;
      }
      case 'install':
        return this.#install(m);
      case 'error':
        return; // the armoury reports a problem with what we sent; nothing to undo
      default:
        throw new BodycamError('E_PROTO_UNEXPECTED', `a camera being provisioned does not accept "${m.t}"`);
    }
  }

  #install(m: ProvisionMessage): void {
    const f = (k: string) => m.f.get(k);
    const certificate = f('cert') as Uint8Array;
    const root = f('root') as Uint8Array;
    const configBytes = f('config') as Uint8Array;
    const revocationBytes = f('revocations') as Uint8Array | null;
    const force = f('force') === true;
    const firmwareKeyBytes = (f('firmwareKeys') ?? null) as Uint8Array | null;
    const ks = this.#o.keyStore;

    const held = ks.get(KEY_DEVICE_CERT);
    if (held && !force) {
      const old = peekCertificate(new Uint8Array(held));
      throw new BodycamError('E_PROVISIONED', `this camera is already provisioned as ${old.id} (${old.agency}, certificate ${old.serial}); re-provisioning replaces the agency it trusts, so it is refused unless forced (bodycam provision camera --force)`);
    }
    const cert = verifyCertificate(certificate, root, { digest: this.#o.digest, ed25519: this.#ed, kind: 'device' });
    if (!sameBytes(cert.publicKey, this.#identity.publicKey)) {
      throw new BodycamError('E_CERT_KEY', `certificate ${cert.id} is for key ${toHex(cert.keyId)}, not this camera's key ${toHex(this.#identity.keyId)}: a certificate can't be copied from another camera`);
    }
    const config: CameraConfig = verifyConfig(configBytes, root, { ed25519: this.#ed, device: cert.id });
    if (config.agency !== cert.agency) throw new BodycamError('E_CONFIG_AGENCY', `the configuration is from ${config.agency}, the certificate from ${cert.agency}`);
    let revocations: RevocationList | undefined;
    if (revocationBytes) {
      revocations = verifyRevocationList(revocationBytes, root, { ed25519: this.#ed });
      const r = isRevoked(revocations, cert.keyId);
      if (r) throw new BodycamError('E_CERT_REVOKED', `this camera's key is on the agency's revocation list (${r.reason}); it can't be provisioned with it`);
    }

    let firmwareKeys: FirmwareKeySet | undefined;
    if (firmwareKeyBytes) firmwareKeys = verifyFirmwareKeys(firmwareKeyBytes, root, { ed25519: this.#ed, device: cert.id, agency: cert.agency });

    // Unprovisioned first, the certificate last: a cut in between leaves a camera to provision again.
    if (held) ks.delete(KEY_DEVICE_CERT);
    ks.set(KEY_ROOT, root);
    if (firmwareKeys) provisionFirmwareKeys(ks, firmwareKeys.keys);
    else ks.delete(KEY_FIRMWARE_KEYS);
    if (revocationBytes) ks.set(KEY_REVOCATIONS, revocationBytes);
    else ks.delete(KEY_REVOCATIONS);
    ks.set(KEY_CONFIG, configBytes);
    ks.set(KEY_DEVICE_CERT, certificate);

    this.#send('installed', { id: cert.id, keyId: cert.keyId, configVersion: config.version });
    this.#o.onEvent?.({ kind: 'installed', id: cert.id, configVersion: config.version, forced: held !== undefined, firmwareKeys: firmwareKeys?.keys.length ?? 0 });
  }
}
