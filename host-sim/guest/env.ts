// What a firmware entry receives: the Platform, and a state object private to this engine
// instance (one per XS machine, one per Node engine) where an entry keeps what must live across
// calls — a mounted store, an open segment — without module-level globals that two engines in
// one Node process would share.

import type { CborValue } from '../../firmware/codec/cbor.js';
import type { Platform } from '../../firmware/platform/index.js';

export interface GuestEnv {
  platform: Platform;
  state: Record<string, unknown>;
}

/** A firmware entry: CBOR-able arguments in, a CBOR-able value out; synchronous, like a device callback. */
export type Entry = (env: GuestEnv, ...args: CborValue[]) => CborValue;
