// The dock channel this project had before it encrypted (protocol version 1): every frame after
// the handshake carried a 4-byte counter and an HMAC-SHA256 tag over header, message and counter,
// under MAC keys from the same X25519 exchange. Not firmware any more; kept, unchanged in what it
// computes, so `npm run bench -- channel` can weigh the sealed channel (firmware/dock/
// session-keys.ts) against it in the same run. Pure ECMAScript, bundled into the XS guest.

import { BodycamError } from '../../../firmware/errors.js';
import { hkdfExtract, hmacSha256 } from '../../../firmware/crypto/hkdf.js';
import type { Checksum } from '../../../firmware/platform/checksum.js';
import type { Digest } from '../../../firmware/platform/digest.js';
import { x25519 } from '../../../firmware/signing/x25519.js';
import { HEADER_BYTES, TRAILER_BYTES, writeFrameCrc, writeFrameHeader } from '../../../firmware/dock/frame.js';
import type { DirectionKeys } from '../../../firmware/dock/session-keys.js';

const MAC_BYTES = 32;
const COUNTER_BYTES = 4;
/** Version 1's frame flag: message ‖ counter ‖ HMAC tag. */
export const FLAG_MAC = 0x01;
/** Bytes a MAC'd frame's payload carries after the message. */
export const MAC_TRAILER = COUNTER_BYTES + MAC_BYTES;
/** Room a message is encoded with to be MAC'd in place: the header before it, counter, tag and CRC after. */
export const MAC_PREFIX = HEADER_BYTES;
export const MAC_SUFFIX = TRAILER_BYTES + MAC_TRAILER;

function label(text: string): Uint8Array {
  const s = `bodycam dock session v1 ${text}`;
  const out = new Uint8Array(s.length + 1);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0x7f;
  out[s.length] = 1;
  return out;
}

/** Version 1's MAC keys: HKDF-Extract(H, X25519), then one HMAC block per direction. */
export function deriveMacKeys(digest: Digest, ownSecret: Uint8Array, peerPublic: Uint8Array, transcript: Uint8Array): DirectionKeys {
  const prk = hkdfExtract(digest, transcript, x25519(ownSecret, peerPublic));
  return { cameraToDock: hmacSha256(digest, prk, label('mac camera>dock')), dockToCamera: hmacSha256(digest, prk, label('mac dock>camera')) };
}

/** One side's MAC state, as version 1 had it. */
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

  seal(room: { buffer: Uint8Array; length: number }): Uint8Array {
    const { buffer, length } = room;
    const total = length + MAC_TRAILER;
    writeFrameHeader(buffer, FLAG_MAC, total);
    new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength).setUint32(HEADER_BYTES + length, this.#sent++);
    const tag = hmacSha256(this.#digest, this.#send, buffer.subarray(0, HEADER_BYTES + length + COUNTER_BYTES));
    buffer.set(tag, HEADER_BYTES + length + COUNTER_BYTES);
    return writeFrameCrc(buffer, total, this.#checksum);
  }

  sealPayload(payload: Uint8Array): Uint8Array {
    const buffer = new Uint8Array(HEADER_BYTES + payload.length + MAC_TRAILER + TRAILER_BYTES);
    buffer.set(payload, HEADER_BYTES);
    return this.seal({ buffer, length: payload.length });
  }

  open(ev: { payload: Uint8Array; flags: number; framed: Uint8Array }): Uint8Array {
    if (ev.flags !== FLAG_MAC || ev.payload.length < MAC_TRAILER) throw new BodycamError('E_SESSION_MAC', 'a frame without the session MAC');
    const end = ev.framed.length;
    const tag = ev.framed.subarray(end - MAC_BYTES, end);
    const want = hmacSha256(this.#digest, this.#receive, ev.framed.subarray(0, end - MAC_BYTES));
    let diff = 0;
    for (let i = 0; i < MAC_BYTES; i++) diff |= tag[i] ^ want[i];
    if (diff !== 0) throw new BodycamError('E_SESSION_MAC', 'a frame whose session MAC does not verify');
    const counter = new DataView(ev.framed.buffer, ev.framed.byteOffset, ev.framed.byteLength).getUint32(end - MAC_TRAILER);
    if (counter <= this.#received) throw new BodycamError('E_SESSION_MAC', `frame counter ${counter} after ${this.#received}`);
    this.#received = counter;
    return ev.payload.subarray(0, ev.payload.length - MAC_TRAILER);
  }
}
