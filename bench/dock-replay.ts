// A replay camera for the dock ingest bench: it speaks the camera's side of the dock protocol
// (firmware/dock/: the same codec, transcript, session seal and signed structures) from segments
// prepared once, so that what the bench times is the station, not a simulated camera.
//
// prepareReplay() makes the segments (random media, signed chained manifests) and encodes every
// chunk message the station will pull, with room for the frame header, counter and tag; during
// the session each pull costs only the session seal, in place, and the frame CRC over a
// ready-made message (neither can be made ahead: the keys are the session's). After the session
// (outside the bench's timing) restoreReplay() puts the sealed messages back as they were, so the
// replay docks again. A pull at an offset that was not prepared (a resume) is encoded on the spot.
// plainSend() sends the same media bytes, raw, to a plain TCP receiver: the baseline. floorSend()
// sends them sealed, without the protocol: the floor any station that opens and hashes sits on.

import { createHash, randomBytes } from 'node:crypto';
import sodium from 'sodium-native';
import { connect } from 'node:net';
import type { CborValue } from '../firmware/codec/cbor.js';
import { FrameReader, frameMessage, PROTOCOL_VERSION } from '../firmware/dock/frame.js';
import { AEAD_TAG_BYTES } from '../firmware/platform/cipher.js';
import { bin, decodeMessage, encodeMessage, encodeMessageWithRoom, MAX_INVENTORY, num, str, type MessageType } from '../firmware/dock/messages.js';
import { deriveSessionKeys, ephemeralKey, SEALED_PREFIX, SEALED_SUFFIX, SessionChannel } from '../firmware/dock/session-keys.js';
import { authPayload, transcriptHash } from '../firmware/dock/transcript.js';
import { verifyCertificate } from '../firmware/signing/certificate.js';
import { signManifest } from '../firmware/signing/manifest.js';
import { checkReceipt, signCheckpoint } from '../firmware/signing/receipt.js';
import { KeyPairSigner } from '../firmware/signing/signer.js';
import { hostEd25519 } from '../host/ed25519-node.js';
import { nodeChecksum, nodeCipher, nodeDigest } from '../host/ports.js';
import { certificate, root, seed } from '../test/helpers/dock.js';

interface ReadyChunk {
  buffer: Uint8Array;
  length: number;
  /** The message as encoded, to put back after a session sealed `buffer` in place. */
  pristine: Uint8Array;
  sealed: boolean;
}

interface Segment {
  seq: number;
  media: Uint8Array;
  manifest: Uint8Array;
  digest: Uint8Array;
}

export interface Replay {
  id: string;
  signer: KeyPairSigner;
  certificate: Uint8Array;
  segments: Segment[];
  /** Ready-made chunk messages by "seq:offset:length"; `sealed` once a session sealed it in place. */
  chunks: Map<string, ReadyChunk>;
  bytes: number;
}

/** Segments of `segmentBytes` of random media (incompressible, distinct), and every chunk message of `chunk` bytes. */
export function prepareReplay(o: { id: string; segments: number; segmentBytes: number; chunk: number }): Replay {
  const ed25519 = hostEd25519();
  const signer = new KeyPairSigner({ seed: seed(9), digest: nodeDigest, ed25519 });
  const cert = certificate({ id: o.id, kind: 'device', publicKey: signer.publicKey });
  const segments: Segment[] = [];
  const chunks = new Map<string, ReadyChunk>();
  let prev: Uint8Array | null = null;
  const t0 = Date.UTC(2026, 5, 1);
  for (let seq = 0; seq < o.segments; seq++) {
    const media = new Uint8Array(randomBytes(o.segmentBytes));
    const sha = nodeDigest.create('SHA256');
    sha.write(media);
    const signed = signManifest(
      {
        device: o.id, keyId: signer.keyId, seq, boot: 1, recording: 1, firstMono: seq * 10_000, firstUtc: t0 + seq * 10_000, lastMono: seq * 10_000 + 9_933, lastUtc: t0 + seq * 10_000 + 9_933,
        clockSource: 'dock', lastSync: t0, frames: 150, dropped: 0, bytes: media.length, format: 'jpeg', width: 640, height: 480,
        media: new Uint8Array(sha.close()), prev, flags: 4, firmware: '0.1.0',
      },
      signer,
      nodeDigest,
    );
    prev = signed.digest;
    segments.push({ seq, media, manifest: signed.bytes, digest: signed.digest });
    for (let offset = 0; offset < media.length; offset += o.chunk) {
      const data = media.subarray(offset, Math.min(media.length, offset + o.chunk));
      const room = encodeMessageWithRoom('chunk', { seq, offset, data }, SEALED_PREFIX, SEALED_SUFFIX);
      chunks.set(`${seq}:${offset}:${data.length}`, { ...room, pristine: room.buffer.slice(), sealed: false });
    }
  }
  return { id: o.id, signer, certificate: cert, segments, chunks, bytes: segments.reduce((n, s) => n + s.media.length, 0) };
}

/** Dock the replay camera to a station on `port`; resolves with what the station released. */
export function replaySession(r: Replay, port: number): Promise<{ released: number[]; closeReason: string }> {
  const ed25519 = hostEd25519();
  const sock = connect(port, '127.0.0.1');
  sock.setNoDelay(true);
  const reader = new FrameReader(nodeChecksum);
  const nonce = new Uint8Array(randomBytes(32));
  const kx = ephemeralKey(new Uint8Array(randomBytes(32)));
  const hello = encodeMessage('hello', { role: 'camera', id: r.id, cert: r.certificate, nonce, kx: kx.publicKey, fw: '0.1.0', versions: [PROTOCOL_VERSION] });
  let mac: SessionChannel | undefined;
  let handshake: { transcript: Uint8Array; mac: SessionChannel } | undefined;
  let dockKey: Uint8Array | undefined;
  let checkpointDigest: Uint8Array = new Uint8Array(0);
  const released: number[] = [];
  const bySeq = new Map(r.segments.map((s) => [s.seq, s]));
  const send = (t: MessageType, fields: Record<string, CborValue> = {}) => {
    sock.write(mac ? mac.seal(encodeMessageWithRoom(t, fields, SEALED_PREFIX, SEALED_SUFFIX)) : frameMessage(encodeMessage(t, fields), nodeChecksum));
  };
  return new Promise((resolve, reject) => {
    let closeReason = 'the station closed the connection';
    sock.on('connect', () => sock.write(frameMessage(hello, nodeChecksum)));
    sock.on('error', reject);
    sock.on('close', () => resolve({ released, closeReason }));
    sock.on('data', (b: Buffer) => {
      for (const ev of reader.push(b)) {
        if (ev.kind !== 'message') {
          closeReason = ev.error.code;
          sock.destroy();
          return;
        }
        const m = decodeMessage(mac ? mac.open(ev) : ev.payload);
        switch (m.t) {
          case 'hello': {
            const dock = verifyCertificate(bin(m, 'cert'), root.publicKey, { digest: nodeDigest, ed25519, kind: 'dock', at: Date.now() });
            dockKey = dock.publicKey;
            const transcript = transcriptHash(nodeDigest, hello, ev.payload);
            const keys = deriveSessionKeys(nodeDigest, kx.secret, bin(m, 'kx'), transcript);
            // The dock's auth arrives unsealed, then the camera's goes; every frame after is sealed.
            handshake = { transcript, mac: new SessionChannel({ cipher: nodeCipher, checksum: nodeChecksum, keys, role: 'camera' }) };
            break;
          }
          case 'auth':
            send('auth', { sig: r.signer.sign(authPayload(handshake!.transcript, 'camera')) });
            mac = handshake!.mac;
            break;
          case 'status?': {
            const pendingBytes = r.bytes;
            send('status', { batteryPercent: 90, charging: true, storageTotal: 2 * pendingBytes, storageFree: pendingBytes, pendingSegments: r.segments.length, pendingBytes, fw: '0.1.0', board: 'xiao_esp32s3_sense', bootCounter: 1, configVersion: 0, utc: Date.now(), monotonic: 1000, clockSource: 'dock', lastSync: Date.now() });
            break;
          }
          case 'time':
            break;
          case 'head?': {
            const last = r.segments[r.segments.length - 1];
            const cp = signCheckpoint({ device: r.id, seq: last ? last.seq : null, head: last ? last.digest : null, boot: 1, mono: 1000, utc: Date.now(), nonce }, r.signer, nodeDigest);
            checkpointDigest = cp.digest;
            send('checkpoint', { cose: cp.bytes });
            break;
          }
          case 'inventory?': {
            const after = num(m, 'after');
            const rest = r.segments.filter((s) => s.seq > after && !released.includes(s.seq));
            const page = rest.slice(0, MAX_INVENTORY);
            send('inventory', { segments: page.map((s) => ({ seq: s.seq, length: s.media.length, manifest: s.manifest })), more: rest.length > page.length });
            break;
          }
          case 'pull': {
            const seq = num(m, 'seq');
            const offset = num(m, 'offset');
            const length = num(m, 'length');
            const key = `${seq}:${offset}:${length}`;
            const ready = r.chunks.get(key);
            // A ready-made message is sealed in place once a session; anything else (a resume, a
            // resend) is encoded now.
            if (ready && !ready.sealed) {
              ready.sealed = true;
              sock.write(mac!.seal(ready));
            } else {
              const data = bySeq.get(seq)!.media.subarray(offset, offset + length);
              send('chunk', { seq, offset, data });
            }
            break;
          }
          case 'receipt': {
            const { seqs } = checkReceipt(bin(m, 'cose'), { dockPublicKey: dockKey!, device: r.id, nonce, checkpoint: checkpointDigest, manifestDigest: (seq) => bySeq.get(seq)?.digest, ed25519 });
            released.push(...seqs);
            send('released', { seqs, bytes: seqs.reduce((n, s) => n + bySeq.get(s)!.media.length, 0) });
            break;
          }
          case 'ledger?':
            send('ledger', { entries: [], more: false });
            break;
          case 'bye':
            closeReason = `bye: ${str(m, 'reason')}`;
            sock.end();
            break;
          case 'error':
            closeReason = `${str(m, 'code')}: ${str(m, 'message')}`;
            sock.destroy();
            break;
          default:
            send('error', { code: 'E_PROTO_UNEXPECTED', message: `the replay camera does not answer ${m.t}`, fatal: false });
        }
      }
    });
  });
}

/** Put back every ready-made message a session sealed in place (after the session: not timed). */
export function restoreReplay(r: Replay): void {
  for (const c of r.chunks.values()) {
    if (!c.sealed) continue;
    c.buffer.set(c.pristine);
    c.sealed = false;
  }
}

/** The baseline's sender: the first `bytes` of the replay's media, raw, over one TCP connection. */
export function plainSend(r: Replay, port: number, bytes = r.bytes): Promise<void> {
  const sock = connect(port, '127.0.0.1');
  return new Promise((resolve, reject) => {
    sock.on('error', reject);
    sock.on('connect', async () => {
      let left = bytes;
      for (const s of r.segments) {
        if (left <= 0) break;
        const part = s.media.subarray(0, Math.min(left, s.media.length));
        left -= part.length;
        if (!sock.write(part)) await new Promise((w) => sock.once('drain', w));
      }
      if (left > 0) throw new Error(`the replay holds ${r.bytes} bytes, ${bytes} were asked for`);
      sock.end(() => resolve());
    });
  });
}

/**
 * The floor's sender: the same media as records of `chunk` bytes (a segment's last one shorter),
 * each sealed with ChaCha20-Poly1305 under `key` (nonce: the record's number) into a record of its
 * own followed by its tag, and written as a stream: what any sender of sealed chunks must do,
 * without the protocol (no pulls, messages, frames or CRCs). The records and the media's SHA-256
 * are made on first use (the bench's uncounted round); the records are sealed again each time.
 * Resolves with that SHA-256 (hex), which the receiver must arrive at.
 */
export function floorSend(r: Replay, port: number, chunk: number, key: Uint8Array): Promise<string> {
  const f = ((r as Replay & { floor?: { records: Uint8Array[]; sha256: string } }).floor ??= {
    records: r.segments.flatMap((s) => Array.from({ length: Math.ceil(s.media.length / chunk) }, (_, i) => new Uint8Array(Math.min(chunk, s.media.length - i * chunk) + AEAD_TAG_BYTES))),
    sha256: r.segments.reduce((h, s) => h.update(s.media), createHash('sha256')).digest('hex'),
  });
  const sock = connect(port, '127.0.0.1');
  const nonce = new Uint8Array(12);
  return new Promise((resolve, reject) => {
    sock.on('error', reject);
    sock.on('connect', async () => {
      let k = 0;
      for (const s of r.segments) {
        for (let offset = 0; offset < s.media.length; offset += chunk, k++) {
          const rec = f.records[k];
          const n = rec.length - AEAD_TAG_BYTES;
          new DataView(nonce.buffer).setUint32(0, k, true);
          sodium.crypto_aead_chacha20poly1305_ietf_encrypt_detached(rec.subarray(0, n), rec.subarray(n), s.media.subarray(offset, offset + n), null, null, nonce, key);
          if (!sock.write(rec)) await new Promise((w) => sock.once('drain', w));
        }
      }
      sock.end(() => resolve(f.sha256));
    });
  });
}
