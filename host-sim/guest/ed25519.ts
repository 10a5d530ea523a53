// Firmware entries for the camera's Ed25519 (@noble/curves, firmware/signing/ed25519-noble.ts),
// the tweetnacl reference (firmware/signing/ed25519.ts) and the candidate it replaced (our float-limb
// signer, host-sim/candidates/ed25519-fast: not firmware, kept for the bench), so tests compare
// them in every engine and the bench meters them. `ed25519.cost` runs one building block of the
// replaced candidate `count` times, for its cost breakdown.
// Pure ECMAScript (bundled into the XS guest).

import { isBytes, type CborValue } from '../../firmware/codec/cbor.js';
import { BodycamError } from '../../firmware/errors.js';
import { softDigest } from '../../firmware/platform/soft-digest.js';
import { tweetEd25519 } from '../../firmware/signing/ed25519.js';
import type { Ed25519 } from '../../firmware/signing/ed25519-interface.js';
import { FastEd25519 } from '../candidates/ed25519-fast/ed25519-fast.js';
import { buildBaseTable } from '../candidates/ed25519-fast/base-table.js';
import { fe, invert, mul, sqr, add, toBytes } from '../candidates/ed25519-fast/field.js';
import { dbl, madd, niels, p3, scalarMultBase, encode, work } from '../candidates/ed25519-fast/point.js';
import { reduce } from '../candidates/ed25519-fast/scalar.js';
import type { Entry, GuestEnv } from './env.js';

function bytes(v: CborValue, what: string): Uint8Array {
  if (!isBytes(v)) throw new BodycamError('E_ARGUMENT', `${what} must be bytes`);
  return v;
}

/** The camera's Ed25519, as firmware/main.ts makes it: noble's, SHA-512 through the Digest port (one per guest). */
export function cameraEd25519(env: GuestEnv): Ed25519 {
  return env.cameraEd25519;
}

/** The implementation an entry asks for: noble or the replaced fast one with SHA-512 through the Digest port (or in JS), or the reference. */
function impl(env: GuestEnv, which: CborValue): Ed25519 {
  const key = `ed25519.${String(which)}`;
  let found = env.state[key] as Ed25519 | undefined;
  if (!found) {
    if (which === 'fast') found = new FastEd25519({ digest: env.platform.digest });
    else if (which === 'fast-soft') found = new FastEd25519({ digest: softDigest });
    else if (which === 'noble') found = env.cameraEd25519;
    else if (which === 'tweetnacl') found = tweetEd25519;
    else throw new BodycamError('E_ARGUMENT', `unknown Ed25519 implementation ${String(which)} (noble, fast, fast-soft, tweetnacl)`);
    env.state[key] = found;
  }
  return found;
}

function cost(op: string, count: number): CborValue {
  const a = fe([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15].map((x) => x * 7001));
  const b = fe([9, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15].map((x) => x * 6007));
  const o = fe();
  const p = p3(), q = niels(), w = work();
  const s = new Uint8Array(32).fill(0x5a);
  const h = new Uint8Array(64).fill(0xa5);
  switch (op) {
    case 'loop': for (let i = 0; i < count; i++); break;
    case 'fe.mul': for (let i = 0; i < count; i++) mul(o, a, b); break;
    case 'fe.sqr': for (let i = 0; i < count; i++) sqr(o, a); break;
    case 'fe.add': for (let i = 0; i < count; i++) add(o, a, b); break;
    case 'fe.alloc': for (let i = 0; i < count; i++) fe(); break;
    case 'fe.invert': for (let i = 0; i < count; i++) invert(o, a); break;
    case 'fe.toBytes': for (let i = 0; i < count; i++) toBytes(s, a); break;
    case 'point.madd': for (let i = 0; i < count; i++) madd(p, p, q, w); break;
    case 'point.dbl': for (let i = 0; i < count; i++) dbl(p, p, true, w); break;
    case 'point.encode': for (let i = 0; i < count; i++) encode(s, p); break;
    case 'scalarMultBase': s[31] = 0x3a; for (let i = 0; i < count; i++) scalarMultBase(p, s); break;
    case 'scalar.reduce': for (let i = 0; i < count; i++) reduce(s, h); break;
    case 'sha512.soft': for (let i = 0; i < count; i++) { const c = softDigest.create('SHA512'); c.write(h); c.close(); } break;
    default: throw new BodycamError('E_ARGUMENT', `no cost probe ${op}`);
  }
  return null;
}

export const ed25519Entries: Record<string, Entry> = Object.freeze({
  /** [publicKey, secretKey] of a 32-byte seed. */
  'ed25519.keyPair': (e, which, seed) => {
    const kp = impl(e, which).keyPairFromSeed(bytes(seed, 'seed'));
    return [kp.publicKey, kp.secretKey];
  },
  'ed25519.sign': (e, which, message, secretKey) => impl(e, which).sign(bytes(message, 'message'), bytes(secretKey, 'secretKey')),
  'ed25519.verify': (e, which, message, signature, publicKey) => impl(e, which).verify(bytes(message, 'message'), bytes(signature, 'signature'), bytes(publicKey, 'publicKey')),
  /**
   * For each [seed, message]: [publicKey, signature, verifies] by `which`, in one call (hundreds
   * of keys per bridge round trip in XS).
   */
  'ed25519.batch': (e, which, cases) => {
    if (!Array.isArray(cases)) throw new BodycamError('E_ARGUMENT', 'cases must be an array of [seed, message]');
    const ed = impl(e, which);
    return cases.map((c) => {
      const [seed, message] = c as [CborValue, CborValue];
      const kp = ed.keyPairFromSeed(bytes(seed, 'seed'));
      const signature = ed.sign(bytes(message, 'message'), kp.secretKey);
      return [kp.publicKey, signature, ed.verify(message as Uint8Array, signature, kp.publicKey)];
    });
  },
  /** Build a fresh copy of the fixed-base table (the meter's allocate delta is its heap); its size in bytes. */
  'ed25519.table': () => buildBaseTable().byteLength,
  'ed25519.cost': (_e, op, count) => cost(String(op), Number(count)),
});
