// Session keys for a dock session, bound to its handshake: each hello carries a fresh X25519 key
// (`kx`), both signatures cover the transcript hash H of both hellos (transcript.ts), and
//
//   prk          = HMAC-SHA256(salt = H, X25519(own ephemeral secret, peer's kx))   (HKDF-Extract)
//   mac c→d, d→c = HMAC-SHA256(prk, label ‖ 0x01)                                   (HKDF-Expand, one block)
//
// Every frame after the handshake carries FLAG_MAC and ends with a 4-byte counter and a 32-byte
// HMAC-SHA256 tag, under the sender's direction key, over the frame header, the message and the
// counter. Counters rise by one per frame sent; a receiver accepts only a counter above the last
// one it accepted (a frame lost to a CRC error leaves a gap; a replayed or reordered frame is
// refused). A frame without the flag, with a bad tag or an old counter ends the session
// (E_SESSION_MAC): only the two parties of the handshake can speak in it.
//
// The confidentiality issue adds encryption keys from the same prk under other labels (and an
// AEAD in place of the tag, the counter as its nonce): nothing else here changes.
//
// Hashing goes through the Digest port (native SHA-256 on a device); no loop over the bytes.

import { BodycamError } from '../errors.js';
import { hmacSha256 } from '../crypto/hkdf.js';
import type { Digest } from '../platform/digest.js';
import type { Checksum } from '../platform/checksum.js';
import { x25519, x25519Public } from '../signing/x25519.js';
import { FLAG_MAC, HEADER_BYTES, TRAILER_BYTES, writeFrameCrc, writeFrameHeader } from './frame.js';
import { PROTOCOL_LABEL } from './transcript.js';

export const MAC_BYTES = 32;
export const COUNTER_BYTES = 4;
/** Bytes a MAC'd frame's payload carries after the message. */
export const MAC_TRAILER = COUNTER_BYTES + MAC_BYTES;

/** HMAC-SHA256 lives in firmware/crypto/hkdf.ts; re-exported for this module's importers. */
export { hmacSha256 };

function label(text: string): Uint8Array {
  const s = `${PROTOCOL_LABEL} ${text}`;
  const out = new Uint8Array(s.length + 1);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0x7f;
  out[s.length] = 1;
  return out;
}

const LABEL_C2D = label('mac camera>dock');
const LABEL_D2C = label('mac dock>camera');

/** A fresh ephemeral X25519 key pair from 32 random bytes. */
export function ephemeralKey(secret: Uint8Array): { secret: Uint8Array; publicKey: Uint8Array } {
  if (secret.length !== 32) throw new BodycamError('E_ARGUMENT', 'an X25519 secret is 32 bytes');
  return { secret, publicKey: x25519Public(secret) };
}

export interface DirectionKeys {
  cameraToDock: Uint8Array;
  dockToCamera: Uint8Array;
}

/** Both directions' MAC keys from the ephemeral exchange and the handshake hash H. */
export function deriveSessionKeys(digest: Digest, ownSecret: Uint8Array, peerPublic: Uint8Array, transcript: Uint8Array): DirectionKeys {
  const shared = x25519(ownSecret, peerPublic);
  let zero = 0;
  for (let i = 0; i < 32; i++) zero |= shared[i];
  // A low-order peer key gives an all-zero secret anyone could compute: refuse it (RFC 7748 §6.1).
  if (zero === 0) throw new BodycamError('E_AUTH_KEY', "the peer's session key is a low-order point");
  const prk = hmacSha256(digest, transcript, shared);
  shared.fill(0);
  return { cameraToDock: hmacSha256(digest, prk, LABEL_C2D), dockToCamera: hmacSha256(digest, prk, LABEL_D2C) };
}

/** One side's MAC state: seals what it sends, opens what it receives. */
export class SessionMac {
  #digest: Digest;
  #checksum: Checksum;
  #send: Uint8Array;
  #receive: Uint8Array;
  #sent = 0;
  #received = -1;

  constructor(o: { digest: Digest; checksum: Checksum; keys: DirectionKeys; role: 'camera' | 'dock' }) {
    this.#digest = o.digest;
    this.#checksum = o.checksum;
    this.#send = o.role === 'camera' ? o.keys.cameraToDock : o.keys.dockToCamera;
    this.#receive = o.role === 'camera' ? o.keys.dockToCamera : o.keys.cameraToDock;
  }

  /**
   * Frame a message encoded with room (HEADER_BYTES before it, TRAILER_BYTES + MAC_TRAILER after:
   * encodeMessageWithRoom) as an authenticated frame, in place.
   */
  seal(room: { buffer: Uint8Array; length: number }): Uint8Array {
    const { buffer, length } = room;
    if (this.#sent > 0xffffffff) throw new BodycamError('E_SESSION_MAC', 'the session sent 2^32 frames; start a new one');
    const total = length + MAC_TRAILER;
    writeFrameHeader(buffer, FLAG_MAC, total);
    new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength).setUint32(HEADER_BYTES + length, this.#sent++);
    const tag = hmacSha256(this.#digest, this.#send, buffer.subarray(0, HEADER_BYTES + length + COUNTER_BYTES));
    buffer.set(tag, HEADER_BYTES + length + COUNTER_BYTES);
    return writeFrameCrc(buffer, total, this.#checksum);
  }

  /** Seal a payload that was encoded without room (copies it once). */
  sealPayload(payload: Uint8Array): Uint8Array {
    const buffer = new Uint8Array(HEADER_BYTES + payload.length + MAC_TRAILER + TRAILER_BYTES);
    buffer.set(payload, HEADER_BYTES);
    return this.seal({ buffer, length: payload.length });
  }

  /** The message inside an authenticated frame; E_SESSION_MAC unless it is one, from the peer, in order. */
  open(ev: { payload: Uint8Array; flags: number; framed: Uint8Array }): Uint8Array {
    if (ev.flags !== FLAG_MAC) throw new BodycamError('E_SESSION_MAC', 'a frame without the session MAC after the handshake');
    if (ev.payload.length < MAC_TRAILER) throw new BodycamError('E_SESSION_MAC', 'a frame too short to carry the session MAC');
    const end = ev.framed.length;
    const tag = ev.framed.subarray(end - MAC_BYTES, end);
    const want = hmacSha256(this.#digest, this.#receive, ev.framed.subarray(0, end - MAC_BYTES));
    let diff = 0;
    for (let i = 0; i < MAC_BYTES; i++) diff |= tag[i] ^ want[i];
    if (diff !== 0) throw new BodycamError('E_SESSION_MAC', 'a frame whose session MAC does not verify: not from the authenticated peer, or altered');
    const counter = new DataView(ev.framed.buffer, ev.framed.byteOffset, ev.framed.byteLength).getUint32(end - MAC_TRAILER);
    if (counter <= this.#received) throw new BodycamError('E_SESSION_MAC', `frame counter ${counter} after ${this.#received}: a replayed or reordered frame`);
    this.#received = counter;
    return ev.payload.subarray(0, ev.payload.length - MAC_TRAILER);
  }
}
