// Firmware entries for the update area (see entries.ts): the camera side of a firmware update —
// an UpdateSession over the simulated A/B slot pair (host-sim/update/ab-slots.ts) on the Flash
// port's "bodycam-ota" partition, trust in the KeyStore — callable by name on Node and in XS.
// Pure ECMAScript (bundled into the XS guest).

import { isArray, isBytes, type CborValue } from '../../firmware/codec/cbor.js';
import { BodycamError } from '../../firmware/errors.js';
import type { Ed25519 } from '../../firmware/signing/ed25519-interface.js';
import { tweetEd25519 } from '../../firmware/signing/ed25519.js';
import { FastEd25519 } from '../candidates/ed25519-fast/ed25519-fast.js';
import { cameraEd25519 } from './ed25519.js';
import { discardTarget } from '../../firmware/update/target.js';
import { feedImage, UpdateSession, type UpdateResult } from '../../firmware/update/session.js';
import { KeyStoreTrust, provisionFirmwareKeys } from '../../firmware/update/trust.js';
import { AbSlots, OTA_PARTITION, type SlotRecord } from '../update/ab-slots.js';
import type { Entry, GuestEnv } from './env.js';

/** The KeyStore partition provisioning writes (host-sim/guest/provision.ts); firmware trust lives there too. */
export const UPDATE_KEYSTORE_PATH = 'bodycam';

function bytes(v: CborValue, what: string): Uint8Array {
  if (!isBytes(v)) throw new BodycamError('E_ARGUMENT', `${what} must be bytes`);
  return v;
}

function text(v: CborValue, what: string): string {
  if (typeof v !== 'string') throw new BodycamError('E_ARGUMENT', `${what} must be text`);
  return v;
}

function trust(env: GuestEnv): KeyStoreTrust {
  return new KeyStoreTrust({ keyStore: new env.platform.KeyStore({ path: UPDATE_KEYSTORE_PATH }) });
}

function slots(env: GuestEnv): AbSlots {
  let s = env.state.updateSlots as AbSlots | undefined;
  if (!s) {
    s = new AbSlots({ flash: new env.platform.Flash({ path: OTA_PARTITION }), digest: env.platform.digest, checksum: env.platform.checksum });
    env.state.updateSlots = s;
  }
  return s;
}

/** 'tweetnacl' (the reference), 'fast' (the replaced candidate, for the bench), else the camera's (noble). */
function ed25519(env: GuestEnv, which: CborValue): Ed25519 {
  if (which === 'tweetnacl') return tweetEd25519;
  if (which === 'fast') return new FastEd25519({ digest: env.platform.digest });
  return cameraEd25519(env);
}

function result(r: UpdateResult): CborValue {
  return { code: r.code, message: r.message, offset: r.offset, ...(r.image ? { image: { ...r.image } } : {}) };
}

function record(r: SlotRecord | undefined): CborValue {
  return r ? { seq: r.seq, slot: r.slot, length: r.length, sha256: r.sha256 } : null;
}

function session(env: GuestEnv): UpdateSession {
  const s = env.state.updateSession as UpdateSession | undefined;
  if (!s) throw new BodycamError('E_ARGUMENT', 'no update in progress: call update.begin first');
  return s;
}

function newSession(env: GuestEnv, board: CborValue, impl: CborValue, install = true): UpdateSession {
  const target = install ? slots(env) : discardTarget;
  const maxPayload = install ? slots(env).slotSize : undefined;
  return new UpdateSession({ target, trust: trust(env), digest: env.platform.digest, board: text(board, 'board'), maxPayload, ed25519: ed25519(env, impl) });
}

export const updateEntries: Record<string, Entry> = Object.freeze({
  /** Provisioning: the firmware public keys (array of 32-byte keys). */
  'update.provision': (env, keys) => {
    if (!isArray(keys)) throw new BodycamError('E_ARGUMENT', 'keys must be an array of bytes');
    const ks = new env.platform.KeyStore({ path: UPDATE_KEYSTORE_PATH });
    provisionFirmwareKeys(ks, keys.map((k, i) => bytes(k, `key ${i}`)));
    return keys.length;
  },
  'update.counter': (env) => trust(env).counter(),
  /** The factory image, as `bodycam flash` leaves it: slot A, committed. */
  'update.factory': (env, payload) => record(slots(env).installFactory(bytes(payload, 'payload'))),
  'update.begin': (env, header, length, board, impl) => {
    const s = newSession(env, board, impl ?? 'fast');
    env.state.updateSession = s;
    if (typeof length !== 'number') throw new BodycamError('E_ARGUMENT', 'length must be a number');
    return result(s.begin(bytes(header, 'header'), length));
  },
  'update.write': (env, offset, chunk) => {
    if (typeof offset !== 'number') throw new BodycamError('E_ARGUMENT', 'offset must be a number');
    return result(session(env).write(offset, bytes(chunk, 'chunk')));
  },
  'update.finish': (env) => result(session(env).finish()),
  'update.abort': (env) => {
    session(env).abort();
    return null;
  },
  /** A whole image in one call, in chunks of `chunk` bytes. */
  'update.install': (env, image, chunk, board, impl) => result(feedImage(newSession(env, board, impl ?? 'fast'), bytes(image, 'image'), typeof chunk === 'number' ? chunk : 4096)),
  /** Verify only (nothing written): what the bench meters. */
  'update.verify': (env, image, chunk, board, impl) => result(feedImage(newSession(env, board, impl ?? 'fast', false), bytes(image, 'image'), typeof chunk === 'number' ? chunk : 65536)),
  /** What the bootloader runs now (it reads the flash afresh; nothing is cached). */
  'update.boot': (env) => {
    return record(slots(env).boot());
  },
  'update.slot': (env) => {
    const s = slots(env);
    const r = s.boot();
    return r ? s.readSlot(r) : null;
  },
});
