// Dock security: who may list, pull and free; what the station refuses. The camera side is driven
// in-process by a test dock that speaks the protocol with the firmware's own codec, so it can
// misbehave in exactly the ways a rogue or broken dock would.

import test from 'ava';
import { randomBytes } from 'node:crypto';
import { encode, type CborValue } from '../firmware/codec/cbor.js';
import type { CameraSession } from '../firmware/dock/camera-session.js';
import { FrameReader, frameMessage } from '../firmware/dock/frame.js';
import { bin, decodeMessage, encodeMessage, SCHEMAS, str, type Message, type MessageType } from '../firmware/dock/messages.js';
import { authPayload, transcriptHash } from '../firmware/dock/transcript.js';
import { deriveSessionKeys, ephemeralKey, SessionChannel } from '../firmware/dock/session-keys.js';
import { isBodycamError } from '../firmware/errors.js';
import { issueRevocationList } from '../firmware/signing/certificate.js';
import { manifestDigest } from '../firmware/signing/manifest.js';
import { signReceipt } from '../firmware/signing/receipt.js';
import { KeyPairSigner } from '../firmware/signing/signer.js';
import { hostEd25519 } from '../host/ed25519-node.js';
import { nodeCipher } from '../host/ports.js';
import { cameraSession, dockEntries } from '../host-sim/guest/dock.js';
import type { GuestEnv } from '../host-sim/guest/env.js';
import { nodeChecksum, nodeDigest } from '../host-sim/node/hardware.js';
import { certificate, dock, dockIdentity, inProcessCamera, root, seed, startCamera, startStation } from './helpers/dock.js';

/** A camera in this process: real store on simulated flash, real identity. */
function localCamera(segments = 2): { env: GuestEnv } {
  return { env: inProcessCamera({ segments, frames: 2, bodyBytes: 500 }) };
}

function pending(env: GuestEnv): number[] {
  return ((dockEntries['dock.camera.status'](env) as { pending: number[] }).pending).slice();
}

/** A dock in the test: sends frames into a CameraSession, reads its answers (sealed once authenticated). */
class TestDock {
  reader = new FrameReader(nodeChecksum);
  cameraHello: Uint8Array | undefined;
  cameraNonce: Uint8Array | undefined;
  cameraKx: Uint8Array | undefined;
  mac: SessionChannel | undefined;
  constructor(readonly session: CameraSession, readonly identity = dockIdentity()) {}
  #answers(frames: Uint8Array[]): Message[] {
    const out: Message[] = [];
    for (const f of frames)
      for (const ev of this.reader.push(f)) {
        if (ev.kind !== 'message') throw new Error(`camera sent a bad frame: ${ev.error.message}`);
        out.push(decodeMessage(this.mac ? this.mac.open(ev) : ev.payload));
        if (out[out.length - 1].t === 'hello') {
          this.cameraHello = ev.payload;
          this.cameraNonce = bin(out[out.length - 1], 'nonce');
          this.cameraKx = bin(out[out.length - 1], 'kx');
        }
      }
    return out;
  }
  start(): Message[] {
    return this.#answers(this.session.start());
  }
  /** A payload framed as this dock would: sealed once the session has keys. */
  frame(payload: Uint8Array): Uint8Array {
    return this.mac ? this.mac.sealPayload(payload) : frameMessage(payload, nodeChecksum);
  }
  send(t: MessageType, fields: Record<string, CborValue> = {}): Message[] {
    return this.raw(this.frame(encodeMessage(t, fields)));
  }
  raw(bytes: Uint8Array): Message[] {
    return this.#answers(this.session.receive(bytes));
  }
  /** hello + auth as this dock, with an optional wrong signer for the auth. */
  handshake(authSigner = this.identity.signer): Message[] {
    this.start();
    const kx = ephemeralKey(new Uint8Array(randomBytes(32)));
    const hello = encodeMessage('hello', { role: 'dock', id: this.identity.id, cert: this.identity.certificate, nonce: new Uint8Array(randomBytes(32)), kx: kx.publicKey, fw: 'test', versions: [2] });
    const a = this.#answers(this.session.receive(frameMessage(hello, nodeChecksum)));
    if (!this.cameraKx) return a;
    const h = transcriptHash(nodeDigest, this.cameraHello!, hello);
    const keys = deriveSessionKeys(nodeDigest, kx.secret, this.cameraKx, h);
    const b = this.send('auth', { sig: authSigner.sign(authPayload(h, 'dock')) });
    if (this.session.state === 'authenticated') this.mac = new SessionChannel({ cipher: nodeCipher, checksum: nodeChecksum, keys, role: 'dock' });
    return [...a, ...b];
  }
}

const errorOf = (ms: Message[]) => ms.find((m) => m.t === 'error');

test('a dock with a certificate from another agency can list nothing, pull nothing, free nothing', (t) => {
  const { env } = localCamera();
  const otherRoot = new KeyPairSigner({ seed: seed(9), digest: nodeDigest });
  const identity = dockIdentity();
  const rogue = { ...identity, certificate: certificate({ id: 'DOCK-1', kind: 'dock', publicKey: identity.signer.publicKey }, otherRoot) };
  const d = new TestDock(cameraSession(env), rogue);
  const answers = d.handshake();
  const e = errorOf(answers)!;
  t.truthy(e);
  t.is(str(e, 'code'), 'E_COSE_SIGNATURE');
  t.is(e.f.get('fatal'), true);
  t.is(d.session.state, 'closed');
  t.deepEqual(d.send('inventory?', { after: -1 }), [], 'a closed session answers nothing');
  t.deepEqual(pending(env), [0, 1]);
});

test("a dock that can't sign this session's transcript is refused", (t) => {
  const { env } = localCamera();
  const d = new TestDock(cameraSession(env));
  const answers = d.handshake(new KeyPairSigner({ seed: seed(8), digest: nodeDigest }));
  t.is(str(errorOf(answers)!, 'code'), 'E_AUTH_SIGNATURE');
  t.is(d.session.state, 'closed');
});

test('before authenticating, requests are refused and the session closes', (t) => {
  const { env } = localCamera();
  const d = new TestDock(cameraSession(env));
  d.start();
  const answers = d.send('inventory?', { after: -1 });
  t.is(str(errorOf(answers)!, 'code'), 'E_AUTH_REQUIRED');
  t.false(answers.some((m) => m.t === 'inventory'));
  t.is(d.session.state, 'closed');
});

test('a revoked dock is refused', (t) => {
  const { env } = localCamera();
  const identity = dockIdentity();
  const revocations = { agency: 'Test Constabulary', number: 1, issued: Date.UTC(2026, 5, 1), revoked: [{ keyId: new KeyPairSigner({ seed: seed(2), digest: nodeDigest }).keyId, reason: 'stolen' }] };
  issueRevocationList(revocations, root); // the list a camera would have been given
  const d = new TestDock(cameraSession(env, { revocations }), identity);
  t.is(str(errorOf(d.handshake())!, 'code'), 'E_CERT_REVOKED');
});

function liveSession(env: GuestEnv): { d: TestDock; checkpoint: Uint8Array; manifests: Map<number, Uint8Array> } {
  const d = new TestDock(cameraSession(env));
  t0(d.handshake().every((m) => m.t !== 'error'));
  const cp = d.send('head?')[0];
  const inv = d.send('inventory?', { after: -1 })[0];
  const manifests = new Map<number, Uint8Array>();
  for (const s of inv.f.get('segments') as Map<string, CborValue>[]) manifests.set(s.get('seq') as number, s.get('manifest') as Uint8Array);
  return { d, checkpoint: bin(cp, 'cose'), manifests };
}
function t0(ok: boolean): void {
  if (!ok) throw new Error('handshake failed');
}

function receiptFor(d: TestDock, checkpoint: Uint8Array, entries: { seq: number; manifest: Uint8Array }[]): Uint8Array {
  return signReceipt({ dock: 'DOCK-1', nonce: d.cameraNonce!, checkpoint: sha(checkpoint), utc: Date.now(), entries: entries.map((e) => ({ device: 'CAM-0001', ...e })) }, d.identity.signer);
}
function sha(b: Uint8Array): Uint8Array {
  const c = nodeDigest.create('SHA256');
  c.write(b);
  return new Uint8Array(c.close());
}

test('a receipt from an earlier session is refused (replay); it frees nothing', (t) => {
  const { env } = localCamera(3);
  const s1 = liveSession(env);
  const r1 = receiptFor(s1.d, s1.checkpoint, [{ seq: 0, manifest: manifestDigest(s1.manifests.get(0)!, nodeDigest) }]);
  t.deepEqual(s1.d.send('receipt', { cose: r1 })[0].f.get('seqs'), [0]);
  t.deepEqual(pending(env), [1, 2]);
  // Same dock, new session: the old receipt (listing 0 only) and a forged copy listing 1 are both refused.
  const s2 = liveSession(env);
  const replay = errorOf(s2.d.send('receipt', { cose: r1 }))!;
  t.is(str(replay, 'code'), 'E_RECEIPT_SESSION');
  t.is(replay.f.get('fatal'), false);
  t.deepEqual(pending(env), [1, 2]);
  t.is(s2.d.session.state, 'authenticated', 'the session goes on');
});

test('a receipt for segments never sent, or with another digest, frees nothing', (t) => {
  const { env } = localCamera(2);
  const s = liveSession(env);
  const unknown = errorOf(s.d.send('receipt', { cose: receiptFor(s.d, s.checkpoint, [{ seq: 7, manifest: new Uint8Array(32) }]) }))!;
  t.is(str(unknown, 'code'), 'E_RECEIPT_UNKNOWN');
  const wrong = errorOf(s.d.send('receipt', { cose: receiptFor(s.d, s.checkpoint, [{ seq: 0, manifest: new Uint8Array(32).fill(1) }, { seq: 1, manifest: manifestDigest(s.manifests.get(1)!, nodeDigest) }]) }))!;
  t.is(str(wrong, 'code'), 'E_RECEIPT_MISMATCH');
  const otherDock = dockIdentity('DOCK-9', 5);
  const forged = signReceipt({ dock: 'DOCK-1', nonce: s.d.cameraNonce!, checkpoint: sha(s.checkpoint), utc: 1, entries: [{ device: 'CAM-0001', seq: 0, manifest: manifestDigest(s.manifests.get(0)!, nodeDigest) }] }, otherDock.signer);
  t.is(str(errorOf(s.d.send('receipt', { cose: forged }))!, 'code'), 'E_COSE_SIGNATURE');
  t.deepEqual(pending(env), [0, 1]);
});

test('garbage to an authenticated camera: an error reply for each, no crash, no change', (t) => {
  const { env } = localCamera(2);
  const s = liveSession(env);
  let replies = 0;
  const rnd = (n: number) => new Uint8Array(randomBytes(n));
  const types = Object.keys(SCHEMAS) as MessageType[];
  for (let i = 0; i < 2000; i++) {
    let frame: Uint8Array;
    const kind = i % 4;
    // (sealed by the authenticated dock: an unsealed frame ends the session, tested below)
    if (kind === 0) {
      // a well-framed payload of random bytes
      frame = s.d.frame(rnd(1 + (i % 200)));
    } else if (kind === 1) {
      // a real message with one field of the wrong type
      const t = types[i % types.length];
      const m = new Map<CborValue, CborValue>([['t', t], ['seq', 'x'], ['offset', -1], ['cose', 5]]);
      frame = s.d.frame(new Uint8Array(encode(m)));
    } else if (kind === 2) {
      // a valid frame with one byte flipped (CRC catches it)
      // (damage to the 8-byte header desynchronises the stream and ends it: tested below)
      frame = s.d.frame(encodeMessage('status?'));
      frame[8 + (i % (frame.length - 8))] ^= 1 << (i % 8);
    } else {
      // unknown message types
      frame = s.d.frame(new Uint8Array(encode(new Map([['t', `x${i}`]]))));
    }
    const answers = s.d.raw(frame);
    replies += answers.length;
    t.true(answers.every((a) => a.t === 'error' || a.t === 'status'), `input ${i}`);
    if (s.d.session.state !== 'authenticated') break;
  }
  t.is(s.d.session.state, 'authenticated');
  t.true(replies > 1000);
  t.deepEqual(pending(env), [0, 1]);
  // A broken stream header is the one thing that ends a session: cleanly, with a fatal error.
  const fatal = errorOf(s.d.raw(new Uint8Array([0x42, 0x44, 9, 0, 0, 0, 0, 0])))!;
  t.is(str(fatal, 'code'), 'E_PROTO_VERSION');
  t.is(s.d.session.state, 'closed');
  t.deepEqual(pending(env), [0, 1]);
});


test('the message decoder: thousands of mutated messages are a message or an E_PROTO_* error, never anything else', (t) => {
  const samples: Uint8Array[] = [
    encodeMessage('hello', { role: 'camera', id: 'CAM-1', cert: new Uint8Array(100), nonce: new Uint8Array(32), kx: new Uint8Array(32), fw: '1', versions: [2] }),
    encodeMessage('chunk', { seq: 3, offset: 4096, data: new Uint8Array(300) }),
    encodeMessage('inventory', { segments: [{ seq: 1, length: 5, manifest: new Uint8Array(40) }], more: false }),
    encodeMessage('receipt', { cose: new Uint8Array(90) }),
    encodeMessage('error', { code: 'E_X', message: 'm', fatal: false }),
  ];
  let n = 0;
  let seedN = 12345;
  const next = () => (seedN = (seedN * 1103515245 + 12345) >>> 0);
  for (const base of samples) {
    for (let i = 0; i < 800; i++) {
      const b = base.slice(0, next() % 4 === 0 ? next() % base.length : base.length);
      const flips = 1 + (next() % 3);
      for (let k = 0; k < flips && b.length; k++) b[next() % b.length] ^= 1 << next() % 8;
      try {
        const m = decodeMessage(b);
        t.true(m.t in SCHEMAS);
      } catch (e) {
        if (!isBodycamError(e) || !e.code.startsWith('E_PROTO_')) t.fail(`unexpected ${String(e)}`);
      }
      n++;
    }
  }
  t.is(n, 4000);
});

// ---------------------------------------------------------------- the station's refusals (TCP)

for (const [title, cert, code] of [
  ['an expired camera certificate', { notAfter: Date.UTC(2026, 0, 2) }, 'E_CERT_EXPIRED'],
  ['a camera certificate from another agency root', { otherRoot: true }, 'E_COSE_SIGNATURE'],
] as const) {
  test(`[node] the station refuses ${title}, logs a security event by peer address, and writes nothing under the claimed id`, async (t) => {
    const { station, port } = await startStation();
    const camera = await startCamera('node', { cert: 'otherRoot' in cert ? {} : cert });
    try {
      if ('otherRoot' in cert) {
        const publicKey = (await camera.engine.call('dock.camera.identity')).value as Uint8Array;
        const other = new KeyPairSigner({ seed: seed(9), digest: nodeDigest, ed25519: hostEd25519() });
        // The camera trusts the other root too (a camera from another agency): the station still refuses it.
        await camera.engine.call('dock.camera.install', other.publicKey, certificate({ id: 'CAM-0001', kind: 'device', publicKey }, other));
      }
      await camera.engine.call('dock.camera.record', { segments: 1 });
      const s = await dock(camera, port);
      await station.idle();
      t.deepEqual(s.pending, [0]);
      t.is(station.results[0].code, code);
      t.deepEqual(station.store.segments('CAM-0001'), []);
      const refused = station.store.custody().find((e) => e.event === 'peer-refused');
      t.truthy(refused);
      t.deepEqual(JSON.parse(refused!.detail!), { peer: '127.0.0.1', code, suppressed: 0 });
      t.is(refused!.device, null);
      // Nothing in the custody record of the camera it claimed to be (its export report stays clean).
      t.deepEqual(station.store.custody('CAM-0001'), []);
      t.deepEqual(station.store.db.prepare('SELECT * FROM sessions').all(), []);
    } finally {
      await camera.close();
      await station.close();
    }
  });
}

test('[node] the station refuses a revoked camera', async (t) => {
  const camera = await startCamera('node');
  const publicKey = (await camera.engine.call('dock.camera.identity')).value as Uint8Array;
  const keyId = new Uint8Array(sha(publicKey).slice(0, 8));
  const revocations = { agency: 'Test Constabulary', number: 1, issued: Date.UTC(2026, 5, 1), revoked: [{ keyId, reason: 'lost' }] };
  const { station, port } = await startStation({ identity: { ...dockIdentity(), revocations } });
  try {
    await camera.engine.call('dock.camera.record', { segments: 1 });
    const s = await dock(camera, port);
    await station.idle();
    t.is(station.results[0].code, 'E_CERT_REVOKED');
    t.deepEqual(s.pending, [0]);
  } finally {
    await camera.close();
    await station.close();
  }
});

test('[node] a forged segment and tampered media are refused and kept on the camera; good ones still arrive', async (t) => {
  const { station, port } = await startStation();
  const camera = await startCamera('node');
  try {
    await camera.engine.call('dock.camera.record', { segments: 1 });
    await camera.engine.call('dock.camera.record', { segments: 1, forgeWithSeed: 77 });
    await camera.engine.call('dock.camera.record', { segments: 1, tamperMedia: true });
    const s = await dock(camera, port);
    await station.idle();
    const r = station.results[0];
    t.deepEqual(r.stored, [0]);
    t.deepEqual(r.rejected.map((x) => [x.seq, x.code]), [[1, 'E_COSE_SIGNATURE'], [2, 'E_MEDIA_DIGEST']]);
    t.deepEqual(s.pending, [1, 2], 'refused segments stay on the camera');
    t.deepEqual(s.released, [0]);
    t.deepEqual(station.store.segments('CAM-0001').map((x) => x.seq), [0]);
  } finally {
    await camera.close();
    await station.close();
  }
});

test('[node] garbage over TCP ends that connection cleanly; the station serves the next camera', async (t) => {
  const { station, port } = await startStation();
  const net = await import('node:net');
  await new Promise<void>((resolve) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(Buffer.from('GET / HTTP/1.1\r\n\r\n')));
    sock.on('data', () => {});
    sock.on('close', () => resolve());
  });
  const camera = await startCamera('node');
  try {
    await camera.engine.call('dock.camera.record', { segments: 1 });
    const s = await dock(camera, port);
    await station.idle();
    t.is(station.results[0].code, 'E_PROTO_MAGIC');
    t.true(station.results[1].ok);
    t.deepEqual(s.pending, []);
  } finally {
    await camera.close();
    await station.close();
  }
});

test('[node] the station under fuzz: hundreds of garbage and mutated sessions, no crash, nothing stored, then a real camera docks', async (t) => {
  const { station, port } = await startStation({ timeoutMs: 500 });
  const net = await import('node:net');
  const hello = frameMessage(encodeMessage('hello', { role: 'camera', id: 'CAM-0001', cert: new Uint8Array(120), nonce: new Uint8Array(32), kx: new Uint8Array(32), fw: '0.1.0', versions: [2] }), nodeChecksum);
  let seedN = 99;
  const next = () => (seedN = (seedN * 1103515245 + 12345) >>> 0);
  const sessions = 300;
  for (let i = 0; i < sessions; i++) {
    let bytes: Uint8Array;
    if (i % 3 === 0) bytes = new Uint8Array(randomBytes(1 + (next() % 300)));
    else {
      bytes = hello.slice();
      for (let k = 0; k < 1 + (i % 4); k++) bytes[next() % bytes.length] ^= 1 << next() % 8;
    }
    await new Promise<void>((resolve) => {
      const sock = net.connect(port, '127.0.0.1', () => sock.end(Buffer.from(bytes)));
      sock.on('data', () => {});
      sock.on('error', () => resolve());
      sock.on('close', () => resolve());
    });
  }
  await station.idle();
  t.is(station.results.length, sessions);
  t.true(station.results.every((r) => !r.ok && typeof r.code === 'string' && r.code.startsWith('E_')), 'every session ended with a stable code');
  t.deepEqual(station.store.segments('CAM-0001'), []);
  const camera = await startCamera('node');
  try {
    await camera.engine.call('dock.camera.record', { segments: 2 });
    const s = await dock(camera, port);
    await station.idle();
    t.deepEqual(s.pending, []);
    t.true(station.results[station.results.length - 1].ok);
  } finally {
    await camera.close();
    await station.close();
  }
});
