// The dock session's sealed channel (protocol version 2): X25519 ephemeral keys in the hellos,
// ChaCha20-Poly1305 keys from the exchange and the transcript hash (HKDF-SHA256), every frame after the
// handshake sealed with the counter as its nonce and the frame header as its additional data.
// Checked against node:crypto's HKDF and ChaCha20-Poly1305 (not our code); then a relay on loopback between
// a camera and a real station forges, replays, drops, reorders and strips frames, and tries to
// talk either side down to the old MAC-only protocol; and a passive relay records every byte of a
// docking both ways and finds no JPEG, no known frame bytes and no message field or id outside
// the hellos (docs/protocol.md, "What a relay sees"). Inside the session, the station keeps
// camera-signed statements (drift, ledger) only once their signatures verify.

import test from 'ava';
import { createDecipheriv, createHmac, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CborValue } from '../firmware/codec/cbor.js';
import { FLAG_SEALED, frameCrcHolds, FrameReader, frameMessage, HEADER_BYTES, TRAILER_BYTES } from '../firmware/dock/frame.js';
import { decodeMessage, encodeMessage, encodeMessageWithRoom, SCHEMAS } from '../firmware/dock/messages.js';
import { deriveSessionKeys, ephemeralKey, hmacSha256, SEALED_PREFIX, SEALED_SUFFIX, SessionChannel, type DirectionKeys } from '../firmware/dock/session-keys.js';
import { x25519, x25519Public } from '../firmware/signing/x25519.js';
import { isBodycamError } from '../firmware/errors.js';
import { sealTwoBySeal, type AeadContext, type Cipher } from '../firmware/platform/cipher.js';
import { toBytes } from '../firmware/platform/buffers.js';
import { nodeCipher } from '../host/ports.js';
import { ENGINES, type EngineName } from '../host-sim/engine.js';
import { SyntheticFrames } from '../host-sim/sensor/synthetic.js';
import { nodeChecksum, nodeDigest } from '../host-sim/node/hardware.js';
import { KeyPairSigner, type Signer } from '../firmware/signing/signer.js';
import { signStructure } from '../firmware/signing/signed.js';
import { DRIFT_TYPE } from '../firmware/recorder/recorder.js';
import { LEDGER_TYPE } from '../firmware/recorder/ledger.js';
import { dock, dockLocal, inProcessCamera, seed, startCamera, startStation, type Camera } from './helpers/dock.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

test('X25519: RFC 7748 vectors, and agreement with Node for random keys', (t) => {
  // RFC 7748 §5.2
  t.is(hex(x25519(unhex('a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4'), unhex('e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c'))), 'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552');
  t.is(hex(x25519(unhex('4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d'), unhex('e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493'))), '95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957');
  // RFC 7748 §6.1
  const alice = unhex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
  const bob = unhex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
  t.is(hex(x25519Public(alice)), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
  t.is(hex(x25519(alice, x25519Public(bob))), '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742');
  // RFC 7748 §5.2, iterated: k = u = 9, then k, u = X25519(k, u), k; after 1 and 1,000 rounds.
  let k: Uint8Array = unhex('0900000000000000000000000000000000000000000000000000000000000000');
  let u: Uint8Array = k;
  for (let i = 1; i <= 1000; i++) {
    [k, u] = [x25519(k, u), k];
    if (i === 1) t.is(hex(k), '422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079');
  }
  t.is(hex(k), '684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51');
  for (let i = 0; i < 20; i++) {
    const a = generateKeyPairSync('x25519');
    const b = generateKeyPairSync('x25519');
    const aSecret = unhex(Buffer.from(a.privateKey.export({ format: 'jwk' }).d!, 'base64url').toString('hex'));
    const bPublic = new Uint8Array(Buffer.from(b.publicKey.export({ format: 'jwk' }).x!, 'base64url'));
    t.is(hex(x25519Public(aSecret)), Buffer.from(a.publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('hex'));
    t.is(hex(x25519(aSecret, bPublic)), diffieHellman({ privateKey: a.privateKey, publicKey: b.publicKey }).toString('hex'));
  }
});

test('HMAC-SHA256 through the Digest port agrees with Node for short, block-sized and long keys', (t) => {
  for (const keyLength of [0, 16, 32, 64, 65, 200]) {
    const key = new Uint8Array(randomBytes(keyLength));
    const a = new Uint8Array(randomBytes(100));
    const b = new Uint8Array(randomBytes(70000));
    t.is(hex(hmacSha256(nodeDigest, key, a, b)), createHmac('sha256', key).update(a).update(b).digest('hex'));
  }
});

/** Both sides' keys for one made-up handshake, and what node:crypto's HKDF makes of the same inputs. */
function handshakeKeys(): { camera: DirectionKeys; dock: DirectionKeys; node: DirectionKeys } {
  const c = ephemeralKey(new Uint8Array(randomBytes(32)));
  const d = ephemeralKey(new Uint8Array(randomBytes(32)));
  const h = new Uint8Array(randomBytes(32));
  const shared = x25519(c.secret, d.publicKey);
  const expand = (label: string) => new Uint8Array(hkdfSync('sha256', shared, h, `bodycam dock session v2 key ${label}`, 32));
  const node = { cameraToDock: expand('camera>dock'), dockToCamera: expand('dock>camera') };
  return { camera: deriveSessionKeys(nodeDigest, c.secret, d.publicKey, h), dock: deriveSessionKeys(nodeDigest, d.secret, c.publicKey, h), node };
}

test('session keys: HKDF-SHA256 (salt = the transcript hash, the X25519 result, one label per direction) as node:crypto computes it; both sides agree; the directions differ', (t) => {
  const { camera, dock, node } = handshakeKeys();
  t.is(hex(camera.cameraToDock), hex(node.cameraToDock));
  t.is(hex(camera.dockToCamera), hex(node.dockToCamera));
  t.is(hex(dock.cameraToDock), hex(node.cameraToDock));
  t.is(hex(dock.dockToCamera), hex(node.dockToCamera));
  t.not(hex(node.cameraToDock), hex(node.dockToCamera));
  // A low-order peer key (the all-zero point) gives a secret anyone knows: refused.
  const e = t.throws(() => deriveSessionKeys(nodeDigest, new Uint8Array(randomBytes(32)), new Uint8Array(32), new Uint8Array(32)));
  t.true(isBodycamError(e, 'E_AUTH_KEY'));
});

/** A Cipher port that records what it was handed, over node's. */
function recordingCipher(calls: { data: Uint8Array }[]): Cipher {
  return {
    create(algorithm, key) {
      const inner = nodeCipher.create(algorithm, key);
      const ctx: AeadContext = {
        seal(nonce, aad, data) {
          calls.push({ data: toBytes(data) });
          return inner.seal(nonce, aad, data);
        },
        sealTwo(nonces, aad, a, b, tags) {
          sealTwoBySeal(ctx, nonces, aad, a, b, tags);
        },
        open: (nonce, aad, data, tag) => inner.open(nonce, aad, data, tag),
        close: () => inner.close(),
      };
      return ctx;
    },
  };
}

test('a sealed frame, byte by byte: header ‖ counter ‖ ChaCha20-Poly1305 ciphertext ‖ tag ‖ CRC, nonce = the counter, AAD = header and counter; sealed where it was encoded (node:crypto opens it)', (t) => {
  const { camera, node } = handshakeKeys();
  const calls: { data: Uint8Array }[] = [];
  const channel = new SessionChannel({ cipher: recordingCipher(calls), checksum: nodeChecksum, keys: camera, role: 'camera' });
  t.deepEqual([...camera.cameraToDock], new Array(32).fill(0), "the channel wipes the key bytes it was handed once the port holds them");
  const data = new Uint8Array(randomBytes(64 * 1024));
  for (let counter = 0; counter < 3; counter++) {
    const room = encodeMessageWithRoom('chunk', { seq: 7, offset: counter * data.length, data }, SEALED_PREFIX, SEALED_SUFFIX);
    const plain = room.buffer.slice(SEALED_PREFIX, SEALED_PREFIX + room.length);
    const frame = channel.seal(room);
    // In place: the frame is the buffer the message was encoded into, and the port sealed the message where it lay.
    t.is(frame.buffer, room.buffer.buffer);
    const last = calls[calls.length - 1].data;
    t.is(last.buffer, room.buffer.buffer);
    t.is(last.byteOffset, room.buffer.byteOffset + SEALED_PREFIX);
    t.is(last.length, room.length);
    const n = 4 + room.length + 16;
    t.is(frame.length, HEADER_BYTES + n + TRAILER_BYTES);
    t.deepEqual([...frame.subarray(0, 4)], [0x42, 0x44, 2, FLAG_SEALED]);
    const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
    t.is(v.getUint32(4), n);
    t.is(v.getUint32(8), counter);
    t.is(v.getUint32(HEADER_BYTES + n), nodeChecksum.crc32(frame.subarray(0, HEADER_BYTES + n)));
    const nonce = new Uint8Array(12);
    new DataView(nonce.buffer).setUint32(8, counter);
    const d = createDecipheriv('chacha20-poly1305', node.cameraToDock, nonce, { authTagLength: 16 });
    d.setAAD(frame.subarray(0, 12), { plaintextLength: room.length });
    d.setAuthTag(frame.subarray(12 + room.length, 12 + room.length + 16));
    const opened = Buffer.concat([d.update(frame.subarray(12, 12 + room.length)), d.final()]);
    t.true(opened.equals(plain), `frame ${counter} opens with node:crypto to the message`);
    t.false(Buffer.from(frame).includes(Buffer.from(data.subarray(0, 32))), 'no plaintext left in the frame');
  }
  channel.close();
});

/** One frame event as FrameReader gives it, for the channel's open(). */
function event(frame: Uint8Array) {
  const [ev] = new FrameReader(nodeChecksum).push(frame);
  if (ev.kind !== 'message') throw new Error(ev.error.message);
  return ev;
}
/** `frame` with a change made and its CRC made right again (anyone on the cable can do that). */
function recrc(frame: Uint8Array, change: (f: Uint8Array) => void): Uint8Array {
  const f = frame.slice();
  change(f);
  const n = f.length - TRAILER_BYTES;
  new DataView(f.buffer).setUint32(n, nodeChecksum.crc32(f.subarray(0, n)));
  return f;
}

test('the receiving side takes exactly the next frame: forged, replayed, dropped, reordered and unsealed frames each end with their code; a frame lost to its CRC takes one counter', (t) => {
  const fresh = () => {
    const { camera, dock } = handshakeKeys();
    return { cam: new SessionChannel({ cipher: nodeCipher, checksum: nodeChecksum, keys: camera, role: 'camera' }), dock: new SessionChannel({ cipher: nodeCipher, checksum: nodeChecksum, keys: dock, role: 'dock' }) };
  };
  const msg = (i: number) => encodeMessage('pull', { seq: i, offset: 0, length: 1 });
  const code = (f: () => unknown) => {
    try {
      f();
      return 'OK';
    } catch (e) {
      return isBodycamError(e) ? e.code : String(e);
    }
  };
  const opened = (ch: SessionChannel, frame: Uint8Array) => decodeMessage(ch.open(event(frame.slice()))).f.get('seq');
  // In order: each opens to its message.
  let s = fresh();
  const frames = [0, 1, 2, 3].map((i) => s.dock.sealPayload(msg(i)));
  t.deepEqual(frames.map((f) => opened(s.cam, f)), [0, 1, 2, 3]);
  // Replayed: the same frame again.
  s = fresh();
  let f = [0, 1].map((i) => s.dock.sealPayload(msg(i)));
  t.is(code(() => opened(s.cam, f[0])), 'OK');
  t.is(code(() => opened(s.cam, f[0])), 'E_SESSION_REPLAY');
  // Dropped: frame 1 never arrives.
  s = fresh();
  f = [0, 1, 2].map((i) => s.dock.sealPayload(msg(i)));
  t.is(code(() => opened(s.cam, f[0])), 'OK');
  t.is(code(() => opened(s.cam, f[2])), 'E_SESSION_DROPPED');
  // Reordered: 1 after 2.
  s = fresh();
  f = [0, 1, 2].map((i) => s.dock.sealPayload(msg(i)));
  t.is(code(() => opened(s.cam, f[0])), 'OK');
  t.is(code(() => opened(s.cam, f[2])), 'E_SESSION_DROPPED');
  // Forged: any bit of the counter, ciphertext or tag changed (the CRC made right again).
  // (A changed length or version breaks the framing before the seal is looked at.)
  for (const at of [8, 11, 12, 20, -5]) {
    s = fresh();
    const frame = s.dock.sealPayload(msg(0));
    const pos = at < 0 ? frame.length - TRAILER_BYTES + at : at;
    t.is(code(() => opened(s.cam, recrc(frame, (x) => (x[pos] ^= 0x10)))), 'E_SESSION_AUTH', `bit flipped at byte ${pos}`);
  }
  // A frame sealed under the other direction's key (reflected back at its sender).
  s = fresh();
  t.is(code(() => opened(s.cam, s.cam.sealPayload(msg(0)))), 'E_SESSION_AUTH');
  // Unsealed, or flagged as version 1's MAC-only frame: a downgrade.
  s = fresh();
  t.is(code(() => opened(s.cam, frameMessage(msg(0), nodeChecksum))), 'E_PROTO_DOWNGRADE');
  t.is(code(() => opened(s.cam, recrc(s.dock.sealPayload(msg(0)), (x) => (x[3] = 0x01)))), 'E_PROTO_DOWNGRADE');
  t.is(code(() => opened(s.cam, recrc(s.dock.sealPayload(msg(0)), (x) => (x[3] = 0)))), 'E_PROTO_DOWNGRADE');
  // Lost to a CRC error: the receiver counts it, and the next frame opens.
  s = fresh();
  f = [0, 1, 2].map((i) => s.dock.sealPayload(msg(i)));
  t.is(code(() => opened(s.cam, f[0])), 'OK');
  s.cam.lost();
  t.is(opened(s.cam, f[2]), 2);
});

// ---- A relay on loopback between the camera and a real station ----

type Direction = 'up' | 'down';
/** What the relay does with the n-th whole frame of a direction: the frames to send in its place. */
type Rewrite = (dir: Direction, index: number, frame: Uint8Array) => Uint8Array[] | undefined;

interface Relay {
  server: Server;
  port: number;
  /** Every byte forwarded, each way, as sent on. */
  seen: Record<Direction, Buffer[]>;
}

async function relay(stationPort: number, rewrite: Rewrite = () => undefined): Promise<Relay> {
  const seen: Record<Direction, Buffer[]> = { up: [], down: [] };
  const server = createServer((down: Socket) => {
    const up = connect(stationPort, '127.0.0.1');
    const pipe = (dir: Direction, from: Socket, to: Socket) => {
      // Whole frames are cut from the stream by their length (what a relay can read of any frame).
      let buffered = Buffer.alloc(0);
      let index = 0;
      from.on('data', (b: Buffer) => {
        buffered = Buffer.concat([buffered, b]);
        while (buffered.length >= HEADER_BYTES) {
          const total = HEADER_BYTES + buffered.readUInt32BE(4) + TRAILER_BYTES;
          if (buffered.length < total) break;
          const frame = new Uint8Array(buffered.subarray(0, total));
          buffered = buffered.subarray(total);
          for (const out of rewrite(dir, index++, frame) ?? [frame]) {
            seen[dir].push(Buffer.from(out));
            to.write(out);
          }
        }
      });
    };
    pipe('up', down, up);
    pipe('down', up, down);
    const end = () => {
      up.destroy();
      down.destroy();
    };
    for (const s of [up, down]) {
      s.on('close', end);
      s.on('error', end);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as { port: number }).port, seen };
}

/**
 * The frames of a docking, each way (no driftStatement, no revocation list here):
 *   up:   0 hello, 1 auth, then sealed: 2 status, 3 checkpoint, 4 inventory, 5… chunks, …
 *   down: 0 hello, 1 auth, then sealed: 2 status?, 3 time, 4 head?, 5 inventory?, 6… pulls, …
 */
const UP_FIRST_CHUNK = 5;
const DOWN_TIME = 3;

/** A docking through a relay: the station's result, the camera's state after, what the relay saw. */
async function dockThrough(rewrite: Rewrite, o: { engine?: EngineName; record?: Record<string, CborValue>; chunkSize?: number } = {}) {
  const { station, port, storeDir } = await startStation({ chunkSize: o.chunkSize ?? 1024 });
  const r = await relay(port, rewrite);
  const camera: Camera = await startCamera(o.engine ?? 'node');
  try {
    await camera.engine.call('dock.camera.record', o.record ?? { segments: 2, frames: 3, bodyBytes: 2000 });
    const s = await dock(camera, r.port);
    await station.idle();
    return { result: station.results[0], camera: s, stored: station.store.segments('CAM-0001').filter((x) => x.state === 'stored').map((x) => x.seq), custody: station.store.custody(), seen: r.seen, storeDir };
  } finally {
    await camera.close();
    r.server.close();
    await station.close();
  }
}

const flip = (frame: Uint8Array, at: number) => recrc(frame, (f) => (f[at] ^= 0x01));

test('[node] the station ends the session on a forged, replayed, dropped, reordered or unsealed frame from the relay, with its code; nothing is stored from it and the camera keeps everything', async (t) => {
  let held: Uint8Array | undefined;
  const attacks: [string, string, Rewrite][] = [
    ['forged (a ciphertext bit flipped, CRC made right)', 'E_SESSION_AUTH', (d, i, f) => (d === 'up' && i === 2 ? [flip(f, 20)] : undefined)],
    ['replayed (the status frame twice)', 'E_SESSION_REPLAY', (d, i, f) => (d === 'up' && i === 2 ? [f, f] : undefined)],
    ['dropped (the first chunk)', 'E_SESSION_DROPPED', (d, i) => (d === 'up' && i === UP_FIRST_CHUNK ? [] : undefined)],
    ['reordered (two chunks swapped)', 'E_SESSION_DROPPED', (d, i, f) => {
      if (d !== 'up') return undefined;
      if (i === UP_FIRST_CHUNK) {
        held = f;
        return [];
      }
      return i === UP_FIRST_CHUNK + 1 ? [f, held!] : undefined;
    }],
    ['unsealed (the seal flag stripped)', 'E_PROTO_DOWNGRADE', (d, i, f) => (d === 'up' && i === 2 ? [recrc(f, (x) => (x[3] = 0))] : undefined)],
    ['flagged as a version-1 MAC-only frame', 'E_PROTO_DOWNGRADE', (d, i, f) => (d === 'up' && i === 3 ? [recrc(f, (x) => (x[3] = 0x01))] : undefined)],
  ];
  for (const [name, code, rewrite] of attacks) {
    const r = await dockThrough(rewrite);
    t.is(r.result.code, code, name);
    t.false(r.result.ok, name);
    t.deepEqual(r.stored, [], `${name}: nothing stored`);
    t.deepEqual(r.camera.pending, [0, 1], `${name}: the camera keeps everything`);
    t.deepEqual(r.camera.released, [], name);
    const events = r.custody.map((e) => e.event);
    // The forged and replayed frames are the status: nothing of what they say was recorded.
    if (name.startsWith('forged') || name.startsWith('unsealed')) t.false(events.includes('camera-status'), `${name}: ${events.join(',')}`);
    t.false(events.includes('camera-released'), name);
  }
});

for (const engine of ENGINES) {
  test(`[${engine}] the camera ends the session on a forged, replayed, dropped or unsealed frame from the relay, with its code, and frees nothing`, async (t) => {
    const attacks: [string, string, Rewrite][] = [
      ['forged', 'E_SESSION_AUTH', (d, i, f) => (d === 'down' && i === 2 ? [flip(f, 14)] : undefined)],
      ['replayed', 'E_SESSION_REPLAY', (d, i, f) => (d === 'down' && i === 2 ? [f, f] : undefined)],
      ['dropped (the time, then head? arrives)', 'E_SESSION_DROPPED', (d, i) => (d === 'down' && i === DOWN_TIME ? [] : undefined)],
      ['unsealed', 'E_PROTO_DOWNGRADE', (d, i, f) => (d === 'down' && i === 2 ? [recrc(f, (x) => (x[3] = 0))] : undefined)],
    ];
    for (const [name, code, rewrite] of attacks) {
      const r = await dockThrough(rewrite, { engine });
      t.true(r.camera.closeReason.startsWith(code), `${name}: ${r.camera.closeReason}`);
      t.is(r.result.code, code, `${name}: the camera's fatal error reaches the station`);
      t.deepEqual(r.camera.pending, [0, 1], name);
      t.deepEqual(r.stored, [], name);
    }
  });
}

test('[node] a frame the relay damages without mending its CRC is line noise: discarded, counted, asked for again; the docking completes', async (t) => {
  const r = await dockThrough((d, i, f) => {
    if ((d === 'up' && i === UP_FIRST_CHUNK + 1) || (d === 'down' && i === 4)) {
      const g = f.slice();
      g[20] ^= 0x01;
      return [g];
    }
    return undefined;
  });
  t.true(r.result.ok, `${r.result.code} ${r.result.message}`);
  t.true(r.result.chunksResent >= 2, `${r.result.chunksResent}`);
  t.deepEqual(r.stored, [0, 1]);
  t.deepEqual(r.camera.pending, []);
});

test('[node] the station opens a sealed frame before it checks its CRC: a chunk whose CRC alone the relay damages is kept, not asked for again (its seal proves more); the camera, which checks the CRC first, discards a pull damaged the same way', async (t) => {
  const trailer = (f: Uint8Array) => {
    const g = f.slice();
    g[g.length - 1] ^= 0x01;
    return [g];
  };
  const up = await dockThrough((d, i, f) => (d === 'up' && i === UP_FIRST_CHUNK + 1 ? trailer(f) : undefined));
  t.true(up.result.ok, `${up.result.code} ${up.result.message}`);
  t.is(up.result.chunksResent, 0, 'the chunk was kept as it came');
  t.deepEqual(up.stored, [0, 1]);
  const down = await dockThrough((d, i, f) => (d === 'down' && i === 6 ? trailer(f) : undefined));
  t.true(down.result.ok, `${down.result.code} ${down.result.message}`);
  t.true(down.result.chunksResent >= 1, 'the camera discarded the pull and the station asked again');
  t.deepEqual(down.stored, [0, 1]);
});

test('FrameReader with sealedFirst hands a sealed frame over with its CRC unchecked (frameCrcHolds tells), and still checks every other frame', (t) => {
  const sealed = frameMessage(new Uint8Array([1, 2, 3]), nodeChecksum);
  sealed[3] = FLAG_SEALED;
  const good = recrc(sealed, () => {});
  const bad = good.slice();
  bad[bad.length - 2] ^= 0x10;
  const plainBad = frameMessage(new Uint8Array([4, 5]), nodeChecksum);
  plainBad[plainBad.length - 1] ^= 0x01;
  const [a, b, c] = new FrameReader(nodeChecksum, { sealedFirst: true }).push(new Uint8Array([...good, ...bad, ...plainBad]));
  if (a.kind !== 'message' || b.kind !== 'message') return t.fail('sealed frames are handed over');
  t.false(a.checked);
  t.true(frameCrcHolds(nodeChecksum, a.framed, a.crc));
  t.false(b.checked);
  t.false(frameCrcHolds(nodeChecksum, b.framed, b.crc), 'the damaged CRC is still told apart');
  t.is(c.kind, 'corrupt', 'an unsealed frame is checked as it is read');
  const [d] = new FrameReader(nodeChecksum).push(bad);
  t.is(d.kind, 'corrupt', 'without sealedFirst a sealed frame is checked too');
});

/** `frame` (a plaintext handshake frame) with its message replaced, framed again at frame version `version`. */
function rehello(frame: Uint8Array, change: (m: Map<CborValue, CborValue>) => void, version = 2): Uint8Array {
  const m = decodeMessage(frame.subarray(HEADER_BYTES, frame.length - TRAILER_BYTES));
  const f = new Map(m.f);
  change(f);
  const fields = Object.fromEntries([...f].filter(([k]) => k !== 't')) as Record<string, CborValue>;
  const out = frameMessage(encodeMessage(m.t, fields), nodeChecksum);
  return recrc(out, (x) => (x[2] = version));
}

test('[node] downgrade: a relay that makes either side look like a version-1 (MAC-only, unencrypted) peer is refused by the other (E_PROTO_DOWNGRADE); one that adds version 1 to an offer breaks the transcript signature', async (t) => {
  const cases: [string, Rewrite, (r: Awaited<ReturnType<typeof dockThrough>>) => void][] = [
    ['the camera\'s hello as version 1 (frame and offer)', (d, i, f) => (d === 'up' && i === 0 ? [rehello(f, (m) => m.set('versions', [1]), 1)] : undefined), (r) => {
      t.is(r.result.code, 'E_PROTO_DOWNGRADE');
      t.true(r.camera.closeReason.includes('E_PROTO_DOWNGRADE'), r.camera.closeReason);
      // An unauthenticated peer leaves one security event, by address.
      t.true(r.custody.some((e) => e.event === 'peer-refused' && (e.detail ?? '').includes('E_PROTO_DOWNGRADE')));
    }],
    ['the camera offering only version 1 in a version-2 frame', (d, i, f) => (d === 'up' && i === 0 ? [rehello(f, (m) => m.set('versions', [1]))] : undefined), (r) => {
      t.is(r.result.code, 'E_PROTO_DOWNGRADE');
    }],
    ['the dock offering only version 1', (d, i, f) => (d === 'down' && i === 0 ? [rehello(f, (m) => m.set('versions', [1]))] : undefined), (r) => {
      t.true(r.camera.closeReason.startsWith('E_PROTO_DOWNGRADE'), r.camera.closeReason);
    }],
    ["the dock's hello as a version-1 frame", (d, i, f) => (d === 'down' && i === 0 ? [rehello(f, () => {}, 1)] : undefined), (r) => {
      t.true(r.camera.closeReason.startsWith('E_PROTO_DOWNGRADE'), r.camera.closeReason);
    }],
    ['version 1 added to the camera\'s offer', (d, i, f) => (d === 'up' && i === 0 ? [rehello(f, (m) => m.set('versions', [2, 1]))] : undefined), (r) => {
      // The dock signs the hello it received; the camera checks the hello it sent.
      t.true(r.camera.closeReason.startsWith('E_AUTH_SIGNATURE'), r.camera.closeReason);
    }],
  ];
  for (const [name, rewrite, check] of cases) {
    const r = await dockThrough(rewrite);
    t.false(r.result.ok, name);
    check(r);
    t.deepEqual(r.stored, [], name);
    t.deepEqual(r.camera.pending, [0, 1], name);
  }
});

// ---- What a passive relay sees ----

function count(hay: Buffer, needle: Buffer): number {
  let n = 0;
  for (let at = hay.indexOf(needle); at >= 0; at = hay.indexOf(needle, at + 1)) n++;
  return n;
}

/** Byte ranges of the frames of a stream, with their flags. */
function frames(stream: Buffer): { start: number; end: number; flags: number; payload: Buffer }[] {
  const out = [];
  for (let at = 0; at < stream.length; ) {
    const n = stream.readUInt32BE(at + 4);
    const end = at + HEADER_BYTES + n + TRAILER_BYTES;
    out.push({ start: at, end, flags: stream[at + 3], payload: stream.subarray(at + HEADER_BYTES, at + HEADER_BYTES + n) });
    at = end;
  }
  return out;
}

/** Every message type and field name as CBOR encodes the text (a head byte, then the characters). */
function cborNames(): string[] {
  const names = new Set<string>(['segments', 'seq', 'length', 'manifest']);
  for (const [t, fields] of Object.entries(SCHEMAS)) {
    names.add(t);
    for (const f of Object.keys(fields)) names.add(f);
  }
  // A name of n characters is n + 1 bytes of CBOR: below four characters, chance alone would put
  // some in the ciphertext of a docking now and then (a 3-character name once in 4 GiB per name).
  return [...names].filter((n) => n.length >= 4);
}
/** A short text (< 24 characters) as CBOR: major type 3 with the length in the head byte. */
const cborText = (s: string) => Buffer.concat([Buffer.from([0x60 + s.length]), Buffer.from(s)]);

for (const engine of ENGINES) {
  test(`[${engine}] a relay recording every byte of a docking, both ways, sees no JPEG, no frame bytes, and no message, field or id outside the four handshake frames`, async (t) => {
    const jpeg = new Uint8Array(new SyntheticFrames({ width: 320, height: 240 }).frame(7, Date.UTC(2026, 10, 25, 6)));
    const r = await dockThrough(() => undefined, { engine, record: { segments: 3, frames: 4, jpeg }, chunkSize: 16 * 1024 });
    t.true(r.result.ok, `${r.result.code} ${r.result.message}`);
    t.deepEqual(r.stored, [0, 1, 2]);
    const up = Buffer.concat(r.seen.up);
    const down = Buffer.concat(r.seen.down);
    const soi = Buffer.from([0xff, 0xd8, 0xff]);
    // The test can see what it looks for: the media the station stored has every frame's SOI and bytes.
    const media = readFileSync(join(r.storeDir, 'devices', 'CAM-0001', 'segments', '0000000000.media'));
    t.true(count(media, soi) >= 4 && media.includes(Buffer.from(jpeg.subarray(100, 132))), 'the stored media holds the JPEGs in clear');
    for (const [dir, stream] of [['up', up], ['down', down]] as const) {
      // No SOI with the marker after it that these JPEGs have (4 bytes: by chance once in 4 GiB), and
      // FF D8 FF alone no more often than chance allows (about once in 16 MiB; this is < 1 MiB).
      t.is(count(stream, Buffer.from(jpeg.subarray(0, 4))), 0, `${dir}: an SOI and its marker`);
      t.true(count(stream, soi) <= 1, `${dir}: ${count(stream, soi)} FF D8 FF`);
      for (let at = 0; at + 32 <= jpeg.length; at += 997) t.false(stream.includes(Buffer.from(jpeg.subarray(at, at + 32))), `${dir}: frame bytes at ${at}`);
      const fs = frames(stream);
      // The handshake in clear (hello, auth), every later frame sealed.
      t.deepEqual(fs.slice(0, 2).map((f) => decodeMessage(new Uint8Array(f.payload)).t), ['hello', 'auth'], dir);
      t.true(fs.length > 10, `${dir}: ${fs.length} frames`);
      t.true(fs.slice(2).every((f) => f.flags === FLAG_SEALED), `${dir}: every frame after the handshake is sealed`);
      const handshakeEnd = fs[1].end;
      const sealed = stream.subarray(handshakeEnd);
      for (const name of cborNames()) t.is(count(sealed, cborText(name)), 0, `${dir}: "${name}" in a sealed frame`);
      // The ids are in the hellos (docs/protocol.md says so) and nowhere after.
      for (const id of ['CAM-0001', 'DOCK-1']) t.false(sealed.includes(Buffer.from(id)), `${dir}: ${id} after the handshake`);
      // What the hellos show is exactly the fields the protocol doc lists as visible.
      t.deepEqual([...decodeMessage(new Uint8Array(fs[0].payload)).f.keys()].sort(), ['cert', 'fw', 'id', 'kx', 'nonce', 'role', 't', 'versions']);
      t.deepEqual([...decodeMessage(new Uint8Array(fs[1].payload)).f.keys()].sort(), ['sig', 't']);
    }
  });
}

// ---- Camera-signed statements inside the session ----

function ledgerEntry(signer: Signer, index: number): Uint8Array {
  return signStructure(LEDGER_TYPE, { device: 'CAM-0001', index, prev: null, boot: 1, mono: 0, utc: 0, clockSource: 'rtc', event: 'buffering', detail: new Map() }, signer);
}

test('[node] the station keeps a drift statement or ledger entry only if the camera signed it, for this session', async (t) => {
  const env = inProcessCamera({ segments: 1, frames: 2, bodyBytes: 500 });
  const camera = (env.state.dockCamera as { identity: Signer }).identity;
  const other = new KeyPairSigner({ seed: seed(42), digest: nodeDigest });
  const drift = (signer: Signer, nonce: (n: Uint8Array) => Uint8Array) => (dockUtc: number, cameraUtc: number, n: Uint8Array) =>
    signStructure(DRIFT_TYPE, { device: 'CAM-0001', boot: 1, mono: 0, dockUtc, cameraUtc, drift: cameraUtc - dockUtc, nonce: nonce(n) }, signer);
  const cases = [
    { name: 'signed by another key', driftStatement: drift(other, (n) => n), ledger: () => ({ entries: [ledgerEntry(other, 0)], more: false }), kept: false },
    { name: 'from another session', driftStatement: drift(camera, () => new Uint8Array(32)), ledger: () => ({ entries: [], more: false }), kept: false },
    { name: 'genuine', driftStatement: drift(camera, (n) => n), ledger: () => ({ entries: [ledgerEntry(camera, 0)], more: false }), kept: true },
  ];
  for (const c of cases) {
    const { station, port } = await startStation();
    await dockLocal(env, port, { driftStatement: c.driftStatement, ledger: c.ledger });
    await station.idle();
    t.true(station.results[0].ok, `${c.name}: ${JSON.stringify(station.results[0])}`);
    const kinds = (station.store.db.prepare('SELECT kind FROM objects').all() as { kind: string }[]).map((r) => r.kind);
    t.is(kinds.includes('drift'), c.kept, c.name);
    t.is(kinds.includes('ledger'), c.kept, c.name);
    const refused = station.store.custody('CAM-0001').filter((e) => e.event === 'drift-refused' || e.event === 'ledger-refused').length;
    t.is(refused, c.kept ? 0 : c.name === 'signed by another key' ? 2 : 1, c.name);
    await station.close();
  }
});
