// Firmware entries for provisioning (see entries.ts): the camera-side provisioning handler
// (firmware/provision/camera.ts) over the Platform's KeyStore and Random ports, callable by
// name on Node and in XS, so the armoury tool can provision a simulated camera on either
// engine. Pure ECMAScript (bundled into the XS guest).

import { isBytes, type CborValue } from '../../firmware/codec/cbor.js';
import { BodycamError } from '../../firmware/errors.js';
import { CameraProvisioning, readProvisioned } from '../../firmware/provision/camera.js';
import type { KeyStore } from '../../firmware/platform/keystore.js';
import { cameraEd25519 } from './ed25519.js';
import type { Entry, GuestEnv } from './env.js';

/** The key store partition a camera keeps its identity in (boards/*.json "keystore.path"). */
export const PROVISION_KEYSTORE = 'bodycam';
export const SIM_FIRMWARE_VERSION = 'bodycam-sim/0.1.0';

function handler(env: GuestEnv): CameraProvisioning {
  const h = env.state.provisioning as CameraProvisioning | undefined;
  if (!h) throw new BodycamError('E_ARGUMENT', 'provisioning is not open: call provision.open first');
  return h;
}

export const provisionEntries: Record<string, Entry> = Object.freeze({
  /**
   * Boot the camera's provisioning service (makes the key pair on first boot); returns its key.
   * `recording`: [width, height, frameRate], the board's best mode it reports at identify (absent:
   * it reports none, as firmware before it did).
   */
  'provision.open': (env, path = PROVISION_KEYSTORE, fw = SIM_FIRMWARE_VERSION, recording = null) => {
    const keyStore = new env.platform.KeyStore({ path: String(path) });
    const p = env.platform;
    const mode = Array.isArray(recording) ? { width: Number(recording[0]), height: Number(recording[1]), frameRate: Number(recording[2]) } : undefined;
    const h = new CameraProvisioning({ keyStore, random: p.random, digest: p.digest, checksum: p.checksum, ed25519: cameraEd25519(env), firmwareVersion: String(fw), ...(mode ? { recording: mode } : {}) });
    env.state.provisioning = h;
    env.state.provisioningKeyStore = keyStore;
    return { key: h.identity.publicKey, keyId: h.identity.keyId, provisioned: h.provisioned };
  },
  /** Bytes from the link in, frames to write back out. */
  'provision.receive': (env, bytes) => {
    if (!isBytes(bytes)) throw new BodycamError('E_ARGUMENT', 'provision.receive takes bytes');
    return handler(env).receive(bytes);
  },
  /** What provisioning stored (certificate, root key, configuration, revocations). */
  'provision.state': (env) => {
    handler(env);
    const ks = env.state.provisioningKeyStore as KeyStore;
    const s = readProvisioned(ks);
    const out: Record<string, CborValue> = {};
    for (const [k, v] of Object.entries(s)) if (v) out[k] = v;
    return out;
  },
  'provision.close': (env) => {
    (env.state.provisioningKeyStore as KeyStore | undefined)?.close();
    delete env.state.provisioning;
    delete env.state.provisioningKeyStore;
    return null;
  },
});
