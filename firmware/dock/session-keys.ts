// Session keys and the sealed channel of a dock session (protocol version 2), bound to its
// handshake: each hello carries a fresh X25519 key (`kx`), both signatures cover the transcript
// hash H of both hellos (transcript.ts), and
//
//   prk          = HKDF-Extract(salt = H, X25519(own ephemeral secret, peer's kx))
//   Kcd, Kdc     = HKDF-Expand(prk, "bodycam dock session v2 key camera>dock" / "… dock>camera", 32)
//
// Every frame after the handshake is sealed with ChaCha20-Poly1305 (RFC 8439, the Cipher port)
// under the sender's direction key: its payload is a 4-byte counter, the message encrypted in place, and a 16-byte
// tag; the nonce is the counter (eight zero bytes, then the counter, big-endian) and the
// additional data is everything before the ciphertext (the frame header and the counter).
// Counters start at 0 and rise by one per frame sent in each direction; a receiver takes exactly
// the next one: a frame it discarded for a bad CRC took one counter (its length was readable),
// anything else out of step ends the session — a replayed or re-sent old frame
// (E_SESSION_REPLAY), a frame missing before this one (E_SESSION_DROPPED), a frame whose tag does
// not verify (E_SESSION_AUTH: forged or altered), a frame not sealed at all or sealed the way
// version 1 did (E_PROTO_DOWNGRADE). The tag is checked before the counter, so a frame the peer
// really sent, out of place, is told apart from a forged one.
//
// Hashing goes through the Digest port and sealing through the Cipher port (SHA-256, ChaCha20 and
// Poly1305 in C on a device): no JavaScript loop over a chunk's bytes, and a chunk is sealed where
// it was encoded (encodeMessageWithRoom leaves SEALED_PREFIX before it and SEALED_SUFFIX after).

import { BodycamError } from '../errors.js';
import { hkdfExpand, hkdfExtract, hmacSha256 } from '../crypto/hkdf.js';
import type { Digest } from '../platform/digest.js';
import type { Checksum } from '../platform/checksum.js';
import { AEAD_NONCE_BYTES, AEAD_TAG_BYTES, type AeadAlgorithm, type AeadContext, type Cipher } from '../platform/cipher.js';
import { x25519, x25519Public } from '../signing/x25519.js';
import { FLAG_SEALED, HEADER_BYTES, TRAILER_BYTES, writeFrameCrc, writeFrameHeader } from './frame.js';
import { PROTOCOL_LABEL } from './transcript.js';

/** HMAC-SHA256 lives in firmware/crypto/hkdf.ts; re-exported for this module's importers. */
export { hmacSha256 };

export const COUNTER_BYTES = 4;
/**
 * The channel's AEAD: ChaCha20-Poly1305, the camera's cheapest native AEAD (about 38 Cortex-M7
 * instructions a byte against crypt's software AES-256-GCM's 313: docs/protocol.md, "What the
 * channel costs"). A change of it is a change of the protocol's version.
 */
export const CHANNEL_AEAD: AeadAlgorithm = 'CHACHA20-POLY1305';
/** Bytes of a direction key. */
export const KEY_BYTES = 32;
/** What a sealed frame's payload adds to the message: the counter before it, the tag after. */
export const SEAL_OVERHEAD = COUNTER_BYTES + AEAD_TAG_BYTES;
/** Room a message must be encoded with before it to be sealed in place: frame header and counter. */
export const SEALED_PREFIX = HEADER_BYTES + COUNTER_BYTES;
/** Room after it: the tag and the frame's CRC. */
export const SEALED_SUFFIX = AEAD_TAG_BYTES + TRAILER_BYTES;

function label(text: string): Uint8Array {
  const s = `${PROTOCOL_LABEL} ${text}`;
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0x7f;
  return out;
}

/** A fresh ephemeral X25519 key pair from 32 random bytes. */
export function ephemeralKey(secret: Uint8Array): { secret: Uint8Array; publicKey: Uint8Array } {
  if (secret.length !== 32) throw new BodycamError('E_ARGUMENT', 'an X25519 secret is 32 bytes');
  return { secret, publicKey: x25519Public(secret) };
}

export interface DirectionKeys {
  cameraToDock: Uint8Array;
  dockToCamera: Uint8Array;
}

/** Both directions' AEAD keys from the ephemeral exchange and the handshake hash H. */
export function deriveSessionKeys(digest: Digest, ownSecret: Uint8Array, peerPublic: Uint8Array, transcript: Uint8Array): DirectionKeys {
  const shared = x25519(ownSecret, peerPublic);
  let zero = 0;
  for (let i = 0; i < 32; i++) zero |= shared[i];
  // A low-order peer key gives an all-zero secret anyone could compute: refuse it (RFC 7748 §6.1).
  if (zero === 0) throw new BodycamError('E_AUTH_KEY', "the peer's session key is a low-order point");
  const prk = hkdfExtract(digest, transcript, shared);
  shared.fill(0);
  const keys = {
    cameraToDock: hkdfExpand(digest, prk, label('key camera>dock'), KEY_BYTES),
    dockToCamera: hkdfExpand(digest, prk, label('key dock>camera'), KEY_BYTES),
  };
  prk.fill(0);
  return keys;
}

/** One side's sealed channel: seals what it sends, opens what it receives, each direction under its own key and counter. */
export class SessionChannel {
  #checksum: Checksum;
  #send: AeadContext;
  #receive: AeadContext;
  #sent = 0;
  #expected = 0;
  // Per channel, not per module: a preloaded module's buffers are read-only on the device.
  #nonce = new Uint8Array(AEAD_NONCE_BYTES);

  /** The direction keys are handed over: they are wiped once the Cipher port holds them. */
  constructor(o: { cipher: Cipher; checksum: Checksum; keys: DirectionKeys; role: 'camera' | 'dock' }) {
    this.#checksum = o.checksum;
    const own = o.role === 'camera' ? o.keys.cameraToDock : o.keys.dockToCamera;
    const peer = o.role === 'camera' ? o.keys.dockToCamera : o.keys.cameraToDock;
    this.#send = o.cipher.create(CHANNEL_AEAD, own);
    this.#receive = o.cipher.create(CHANNEL_AEAD, peer);
    own.fill(0);
    peer.fill(0);
  }

  #nonceFor(counter: number): Uint8Array {
    new DataView(this.#nonce.buffer).setUint32(AEAD_NONCE_BYTES - COUNTER_BYTES, counter);
    return this.#nonce;
  }

  /**
   * Seal a message encoded with room (SEALED_PREFIX before it, SEALED_SUFFIX after:
   * encodeMessageWithRoom) into a whole frame, in place: the message's bytes are encrypted where they are.
   */
  seal(room: { buffer: Uint8Array; length: number }): Uint8Array {
    const { buffer, length } = room;
    if (this.#sent > 0xffffffff) throw new BodycamError('E_SESSION_COUNTER', 'the session sent 2^32 frames; start a new one');
    const total = COUNTER_BYTES + length + AEAD_TAG_BYTES;
    writeFrameHeader(buffer, FLAG_SEALED, total);
    const counter = this.#sent++;
    new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength).setUint32(HEADER_BYTES, counter);
    const tag = this.#send.seal(this.#nonceFor(counter), buffer.subarray(0, SEALED_PREFIX), buffer.subarray(SEALED_PREFIX, SEALED_PREFIX + length));
    buffer.set(new Uint8Array(tag), SEALED_PREFIX + length);
    return writeFrameCrc(buffer, total, this.#checksum);
  }

  /** Seal a payload that was encoded without room (copies it once; the payload is left as it was). */
  sealPayload(payload: Uint8Array): Uint8Array {
    const buffer = new Uint8Array(SEALED_PREFIX + payload.length + SEALED_SUFFIX);
    buffer.set(payload, SEALED_PREFIX);
    return this.seal({ buffer, length: payload.length });
  }

  /**
   * The message inside a sealed frame from the peer, decrypted in place (a view into the frame).
   * Throws E_PROTO_DOWNGRADE, E_SESSION_AUTH, E_SESSION_REPLAY or E_SESSION_DROPPED (see the header).
   */
  open(ev: { payload: Uint8Array; flags: number; framed: Uint8Array }): Uint8Array {
    if (ev.flags !== FLAG_SEALED) {
      throw new BodycamError('E_PROTO_DOWNGRADE', ev.flags === 0 ? 'a plaintext frame after the handshake: every frame of the session is sealed' : `a frame with flags ${ev.flags} after the handshake, not sealed as version 2 seals it`);
    }
    if (ev.payload.length < SEAL_OVERHEAD) throw new BodycamError('E_SESSION_AUTH', 'a frame too short to be sealed');
    const f = ev.framed;
    const end = f.length;
    const counter = new DataView(f.buffer, f.byteOffset, f.byteLength).getUint32(HEADER_BYTES);
    const ok = this.#receive.open(this.#nonceFor(counter), f.subarray(0, SEALED_PREFIX), f.subarray(SEALED_PREFIX, end - AEAD_TAG_BYTES), f.subarray(end - AEAD_TAG_BYTES, end));
    if (!ok) throw new BodycamError('E_SESSION_AUTH', 'a frame whose seal does not verify: not from the authenticated peer, or altered');
    if (counter < this.#expected) throw new BodycamError('E_SESSION_REPLAY', `frame ${counter} when ${this.#expected} was due: a replayed or reordered frame`);
    if (counter > this.#expected) throw new BodycamError('E_SESSION_DROPPED', `frame ${counter} when ${this.#expected} was due: ${counter - this.#expected} frame(s) went missing`);
    this.#expected++;
    return f.subarray(SEALED_PREFIX, end - AEAD_TAG_BYTES);
  }

  /** A frame from the peer was discarded for its CRC: it took one counter, and its resend comes with the next. */
  lost(): void {
    this.#expected++;
  }

  /** Forget both keys. */
  close(): void {
    this.#send.close();
    this.#receive.close();
  }
}
