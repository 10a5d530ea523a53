// The agency firmware key set a camera is given at provisioning: the public key(s) it accepts
// firmware images from (firmware/update), signed by the agency root like the configuration, so
// that whoever can talk to a camera's provisioning link can't slip in a key of their own by
// replaying a (public) certificate with another key set: the root must have signed the set.
//
// Promises: verifyFirmwareKeys returns the keys only if the root signed the set, it is of the
// certificate's agency, for this device (or "*"), and holds 1..MAX_FIRMWARE_KEYS distinct
// 32-byte keys; E_FWKEYS_FORMAT / E_FWKEYS_VALUE / E_FWKEYS_DEVICE / E_COSE_* otherwise.
//
// May import: firmware/codec, firmware/signing, firmware/update/trust (the bound on keys).

import { isBytes, type CborValue } from '../codec/cbor.js';
import { BodycamError } from '../errors.js';
import type { Ed25519 } from '../signing/ed25519.js';
import { openStructure, peekStructure, signStructure, text, uint, type Fields } from '../signing/signed.js';
import { sameBytes, type Signer } from '../signing/signer.js';
import { MAX_FIRMWARE_KEYS } from '../update/trust.js';
import { ANY_DEVICE } from './config.js';

export const FIRMWARE_KEYS_TYPE = 'bodycam/firmware-keys/1';

export interface FirmwareKeySet {
  agency: string;
  /** The device id it is for, or "*" for every camera of the agency. */
  device: string;
  /** When the armoury signed it (UTC ms). */
  issued: number;
  /** Ed25519 public keys (32 bytes each) the camera accepts firmware images from. */
  keys: Uint8Array[];
}

const CODE = 'E_FWKEYS_FORMAT';
const T = 'firmware key set';

function checkKeys(keys: readonly CborValue[]): Uint8Array[] {
  if (keys.length === 0 || keys.length > MAX_FIRMWARE_KEYS) throw new BodycamError('E_FWKEYS_VALUE', `a firmware key set holds 1 to ${MAX_FIRMWARE_KEYS} keys, not ${keys.length}`);
  const out: Uint8Array[] = [];
  for (const k of keys) {
    if (!isBytes(k) || k.length !== 32) throw new BodycamError('E_FWKEYS_VALUE', 'a firmware key is a 32-byte Ed25519 public key');
    if (out.some((o) => sameBytes(o, k))) throw new BodycamError('E_FWKEYS_VALUE', 'the firmware key set names the same key twice');
    out.push(k);
  }
  return out;
}

export function signFirmwareKeys(set: FirmwareKeySet, root: Signer): Uint8Array {
  checkKeys(set.keys);
  if (set.device.length === 0) throw new BodycamError('E_FWKEYS_VALUE', 'device must be a device id or "*"');
  return signStructure(FIRMWARE_KEYS_TYPE, { agency: set.agency, device: set.device, issued: set.issued, keys: set.keys }, root);
}

function fields(f: Fields): FirmwareKeySet {
  const keys = f.get('keys');
  if (!Array.isArray(keys)) throw new BodycamError(CODE, `${T}: "keys" must be an array of keys`);
  return { agency: text(f, 'agency', CODE, T), device: text(f, 'device', CODE, T), issued: uint(f, 'issued', CODE, T), keys: checkKeys(keys) };
}

/** Read a key set without checking its signature (to show it). */
export function peekFirmwareKeys(bytes: Uint8Array): FirmwareKeySet {
  return fields(peekStructure(bytes, FIRMWARE_KEYS_TYPE, CODE).fields);
}

export interface VerifyFirmwareKeysOptions {
  ed25519?: Ed25519;
  /** The device that will keep it: the set must name it or "*". */
  device?: string;
  /** The agency of the device's certificate: the set must be of the same agency. */
  agency?: string;
}

/** Verify a key set against the agency root public key. */
export function verifyFirmwareKeys(bytes: Uint8Array, rootPublicKey: Uint8Array, o: VerifyFirmwareKeysOptions = {}): FirmwareKeySet {
  const s = fields(openStructure(bytes, FIRMWARE_KEYS_TYPE, CODE, rootPublicKey, o.ed25519).fields);
  if (o.device !== undefined && s.device !== ANY_DEVICE && s.device !== o.device) throw new BodycamError('E_FWKEYS_DEVICE', `the firmware key set is for ${s.device}, not ${o.device}`);
  if (o.agency !== undefined && s.agency !== o.agency) throw new BodycamError('E_FWKEYS_DEVICE', `the firmware key set is from ${s.agency}, the certificate from ${o.agency}`);
  return s;
}
