// Every message after the handshake is authenticated: X25519 ephemeral keys in the hellos, MAC
// keys derived from the exchange and the transcript hash, HMAC-SHA256 over each frame with a
// rising counter. A relay on the cable with no key can neither alter, inject nor replay a frame;
// the station keeps camera-signed statements (drift, ledger) only once their signatures verify.

import test from 'ava';
import { createHmac, diffieHellman, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { CborValue } from '../firmware/codec/cbor.js';
import { FrameReader, frameMessage, HEADER_BYTES } from '../firmware/dock/frame.js';
import { decodeMessage, encodeMessage, type Message } from '../firmware/dock/messages.js';
import { hmacSha256, MAC_TRAILER } from '../firmware/dock/session-keys.js';
import { encode } from '../firmware/codec/cbor.js';
import { x25519, x25519Public } from '../firmware/signing/x25519.js';
import { KeyPairSigner, type Signer } from '../firmware/signing/signer.js';
import { signStructure } from '../firmware/signing/signed.js';
import { DRIFT_TYPE } from '../firmware/recorder/recorder.js';
import { LEDGER_TYPE } from '../firmware/recorder/ledger.js';
import { SimFlash, attachFlash } from '../host-sim/flash/sim-flash.js';
import { cameraSession, dockEntries } from '../host-sim/guest/dock.js';
import type { GuestEnv } from '../host-sim/guest/env.js';
import { NobleEd25519 } from '../firmware/signing/ed25519-noble.js';
import { SimHardware, nodeChecksum, nodeDigest } from '../host-sim/node/hardware.js';
import { certificate, dock, dockLocal, root, seed, startCamera, startStation } from './helpers/dock.js';

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

/** A TCP relay between camera and station that may rewrite whole frames from the camera. */
async function relay(stationPort: number, rewrite: (payload: Uint8Array, flags: number) => Uint8Array | undefined): Promise<{ server: Server; port: number }> {
  const server = createServer((down: Socket) => {
    const up = connect(stationPort, '127.0.0.1');
    const reader = new FrameReader(nodeChecksum);
    down.on('data', (b: Buffer) => {
      for (const ev of reader.push(b)) {
        if (ev.kind !== 'message') continue;
        const changed = rewrite(ev.payload, ev.flags);
        const payload = changed ?? ev.payload;
        // Re-framed with a correct length and CRC (anyone can), the flags kept: only the MAC can't be redone.
        const frame = frameMessage(payload, nodeChecksum);
        frame[3] = ev.flags;
        new DataView(frame.buffer).setUint32(HEADER_BYTES + payload.length, nodeChecksum.crc32(frame.subarray(0, HEADER_BYTES + payload.length)));
        up.write(frame);
      }
    });
    up.on('data', (b: Buffer) => down.write(b));
    const end = () => {
      up.destroy();
      down.destroy();
    };
    up.on('close', end);
    down.on('close', end);
    up.on('error', end);
    down.on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as { port: number }).port };
}

/** The message inside a sealed payload, and a function putting a changed message back with the old counter and tag. */
function inner(payload: Uint8Array, flags: number): Message | undefined {
  try {
    return decodeMessage(flags ? payload.subarray(0, payload.length - MAC_TRAILER) : payload);
  } catch {
    return undefined;
  }
}
function withMessage(payload: Uint8Array, flags: number, m: Map<CborValue, CborValue>): Uint8Array {
  const body = new Uint8Array(encode(m));
  if (!flags) return body;
  const out = new Uint8Array(body.length + MAC_TRAILER);
  out.set(body);
  out.set(payload.subarray(payload.length - MAC_TRAILER), body.length);
  return out;
}

test("[node] a relay that shifts the camera's clock in its status is cut off (E_SESSION_MAC): no clock row, nothing stored, the camera keeps everything", async (t) => {
  const { station, port } = await startStation();
  let rewritten = 0;
  const r = await relay(port, (payload, flags) => {
    const m = inner(payload, flags);
    if (m?.t !== 'status') return undefined;
    rewritten++;
    const f = new Map(m.f);
    f.set('utc', (f.get('utc') as number) + 3600_000);
    return withMessage(payload, flags, f);
  });
  const camera = await startCamera('node');
  try {
    await camera.engine.call('dock.camera.record', { segments: 2 });
    const s = await dock(camera, r.port);
    await station.idle();
    t.is(rewritten, 1);
    t.is(station.results[0].code, 'E_SESSION_MAC');
    t.deepEqual(s.pending, [0, 1]);
    t.deepEqual(station.store.segments('CAM-0001'), []);
    const events = station.store.custody('CAM-0001').map((e) => e.event);
    t.false(events.includes('clock-set'), events.join(','));
    t.false(events.includes('camera-status'), events.join(','));
  } finally {
    await camera.close();
    r.server.close();
    await station.close();
  }
});

test('[node] a relay that rewrites what the camera says it released, or replays a frame, is cut off; the custody log keeps only authenticated statements', async (t) => {
  for (const attack of ['released', 'replay'] as const) {
    const { station, port } = await startStation();
    let previous: Uint8Array | undefined;
    const r = await relay(port, (payload, flags) => {
      const m = inner(payload, flags);
      if (attack === 'released' && m?.t === 'released') {
        const f = new Map(m.f);
        f.set('seqs', []);
        return withMessage(payload, flags, f);
      }
      // Replay: the camera's first sealed frame (its status) instead of its checkpoint.
      if (attack === 'replay' && flags && m?.t === 'status') previous = payload.slice();
      if (attack === 'replay' && m?.t === 'checkpoint' && previous) return previous;
      return undefined;
    });
    const camera = await startCamera('node');
    try {
      await camera.engine.call('dock.camera.record', { segments: 1 });
      await dock(camera, r.port);
      await station.idle();
      t.is(station.results[0].code, 'E_SESSION_MAC', attack);
      const events = station.store.custody('CAM-0001').map((e) => e.event);
      t.false(events.includes('camera-released'), `${attack}: ${events.join(',')}`);
    } finally {
      await camera.close();
      r.server.close();
      await station.close();
    }
  }
});

test('the camera refuses a frame the dock did not seal after the handshake (E_SESSION_MAC) and frees nothing', async (t) => {
  // The camera in this process, the real station over TCP: once the session has keys, an
  // unsealed request is put in front of the dock's first sealed frame, as a relay would.
  const { env } = localCamera(1);
  const session = cameraSession(env);
  const { station, port } = await startStation();
  const sock = connect(port, '127.0.0.1');
  let injected = false;
  const reader = new FrameReader(nodeChecksum);
  await new Promise<void>((resolve) => {
    sock.on('connect', () => {
      for (const f of session.start()) sock.write(f);
    });
    sock.on('data', (b: Buffer) => {
      for (const ev of reader.push(b)) {
        if (ev.kind !== 'message') continue;
        // The first sealed frame from the dock: inject an unsealed request in front of it.
        if (ev.flags && !injected) {
          injected = true;
          for (const f of session.receive(frameMessage(encodeMessage('inventory?', { after: -1 }), nodeChecksum))) sock.write(f);
        }
      }
      if (session.state !== 'closed') for (const f of session.receive(b)) sock.write(f);
      if (session.state === 'closed') sock.end();
    });
    sock.on('close', () => resolve());
  });
  await station.idle();
  t.true(injected);
  t.true(session.closeReason.startsWith('E_SESSION_MAC'), session.closeReason);
  t.deepEqual((dockEntries['dock.camera.status'](env) as { pending: number[] }).pending, [0]);
  await station.close();
});

/** A camera in this process: real store on simulated flash, real identity. */
function localCamera(segments: number): { env: GuestEnv } {
  const hw = new SimHardware({ seed: 'local' });
  attachFlash(hw, new SimFlash({ blockLength: 4096, blocks: 256 }));
  const platform = hw.platform();
  const env: GuestEnv = { platform, state: {}, cameraEd25519: new NobleEd25519({ digest: platform.digest }) };
  const publicKey = dockEntries['dock.camera.identity'](env) as Uint8Array;
  dockEntries['dock.camera.install'](env, root.publicKey, certificate({ id: 'CAM-0001', kind: 'device', publicKey }), null);
  dockEntries['dock.camera.format'](env);
  dockEntries['dock.camera.record'](env, new Map<CborValue, CborValue>([['segments', segments], ['frames', 2], ['bodyBytes', 500]]));
  return { env };
}


function ledgerEntry(signer: Signer, index: number): Uint8Array {
  return signStructure(LEDGER_TYPE, { device: 'CAM-0001', index, prev: null, boot: 1, mono: 0, utc: 0, clockSource: 'rtc', event: 'buffering', detail: new Map() }, signer);
}

test('[node] the station keeps a drift statement or ledger entry only if the camera signed it, for this session', async (t) => {
  const { env } = localCamera(1);
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
