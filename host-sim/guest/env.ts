// What a firmware entry receives: the Platform, and a state object private to this engine
// instance (one per XS machine, one per Node engine) where an entry keeps what must live across
// calls — a mounted store, an open segment — without module-level globals that two engines in
// one Node process would share.

import type { CborValue } from '../../firmware/codec/cbor.js';
import type { Platform } from '../../firmware/platform/index.js';
import type { Ed25519 } from '../../firmware/signing/ed25519-interface.js';

export interface GuestEnv {
  platform: Platform;
  state: Record<string, unknown>;
  /**
   * The camera's Ed25519, as a camera's entry makes it: NobleEd25519 over this platform's Digest.
   * Made by whoever makes the env (the engine's entry), never imported by a guest module: noble
   * can't be preloaded, and the moddable engine preloads the guest so that its machine's figures
   * are the firmware's.
   */
  cameraEd25519: Ed25519;
}

/** A firmware entry: CBOR-able arguments in, a CBOR-able value out; synchronous, like a device callback. */
export type Entry = (env: GuestEnv, ...args: CborValue[]) => CborValue;
