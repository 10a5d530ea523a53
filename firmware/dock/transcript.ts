// What each side signs in a dock session. Borrowed from SIGMA (Krawczyk, "SIGMA: the
// 'SIGn-and-MAc' approach", as used by IKEv2) and Noise's handshake hash: each side signs a hash
// of the whole handshake so far — both hellos with both fresh nonces, both identities and
// certificates — plus its own role, so a signature can't be replayed into another session,
// reflected back at its sender, or moved between a camera and a dock. The hellos carry ephemeral
// X25519 keys, so the hash also binds the session keys (session-keys.ts) that seal every later
// frame. The label names the protocol version: a signature from a version-1 session is no use here.

import { encode } from '../codec/cbor.js';
import type { Digest } from '../platform/digest.js';
import { sha256Of } from '../platform/digest.js';

export const PROTOCOL_LABEL = 'bodycam dock session v2';

/** The handshake hash: SHA-256 over the label and both hello messages exactly as sent. */
export function transcriptHash(digest: Digest, cameraHello: Uint8Array, dockHello: Uint8Array): Uint8Array {
  return sha256Of(digest, encode([PROTOCOL_LABEL, cameraHello, dockHello]));
}

/** The bytes a side signs to prove itself in this session. */
export function authPayload(transcript: Uint8Array, role: 'camera' | 'dock'): Uint8Array {
  return encode([PROTOCOL_LABEL, 'auth', role, transcript]);
}

/** The bytes the dock signs to set the camera's clock (bound to the camera's session nonce). */
export function timePayload(cameraNonce: Uint8Array, utc: number): Uint8Array {
  return encode([PROTOCOL_LABEL, 'time', cameraNonce, utc]);
}
