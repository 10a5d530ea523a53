// Bounds at the dock station, before and after authentication: a handshake deadline that bytes
// alone don't extend, garbage before authentication is fatal, a connection cap with a clear
// refusal, a page limit on the inventory, rate-limited security events by peer address (never a
// claimed id), and a shutdown that ends on time. Real TCP, real SQLite.

import test from 'ava';
import { connect, type Socket } from 'node:net';
import { encode } from '../firmware/codec/cbor.js';
import { FrameReader, frameMessage } from '../firmware/dock/frame.js';
import { decodeMessage, encodeMessage, str } from '../firmware/dock/messages.js';
import type { UploadSource } from '../firmware/dock/camera-session.js';
import { nodeChecksum } from '../host-sim/node/hardware.js';
import { dock, dockLocal, inProcessCamera, startCamera, startStation } from './helpers/dock.js';

/** Open a raw connection; resolves with it once connected, and records what the station answers. */
function raw(port: number): Promise<{ sock: Socket; answers: { code: string; fatal: boolean }[]; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    const answers: { code: string; fatal: boolean }[] = [];
    const reader = new FrameReader(nodeChecksum);
    sock.on('data', (b: Buffer) => {
      for (const ev of reader.push(b)) {
        if (ev.kind !== 'message') continue;
        const m = decodeMessage(ev.payload);
        if (m.t === 'error') answers.push({ code: str(m, 'code'), fatal: m.f.get('fatal') === true });
      }
    });
    const closed = new Promise<void>((r) => {
      sock.on('close', () => r());
      sock.on('error', () => r());
    });
    sock.once('error', reject);
    sock.on('connect', () => resolve({ sock, answers, closed }));
  });
}

const hello = () => frameMessage(encodeMessage('hello', { role: 'camera', id: 'CAM-0001', cert: new Uint8Array(120), nonce: new Uint8Array(32), kx: new Uint8Array(32), fw: '0.1.0', versions: [2] }), nodeChecksum);

test('[node] a peer that trickles bytes is cut at the handshake deadline; the bytes never extend it', async (t) => {
  const { station, port } = await startStation({ handshakeMs: 600, timeoutMs: 60_000 });
  const c = await raw(port);
  const frame = hello();
  // One byte every 50 ms: the whole hello would take many seconds; any byte used to reset the wait.
  let sent = 0;
  const drip = setInterval(() => {
    if (sent < frame.length && !c.sock.destroyed) c.sock.write(frame.subarray(sent, ++sent));
  }, 50);
  await c.closed;
  clearInterval(drip);
  await station.idle();
  t.true(sent < frame.length, `the station waited for all ${frame.length} bytes`);
  t.is(station.results[0].code, 'E_TIMEOUT');
  await station.close();
});

for (const [what, bytes, code] of [
  ['a frame whose CRC fails', () => {
    const f = hello();
    f[20] ^= 1;
    return f;
  }, 'E_PROTO_CHECKSUM'],
  ['a frame that is not CBOR', () => frameMessage(new Uint8Array([0xff, 0xff, 0x00]), nodeChecksum), 'E_PROTO_CBOR'],
  ['a message of an unknown type', () => frameMessage(encode(new Map([['t', 'x-unknown']])), nodeChecksum), 'E_PROTO_UNKNOWN'],
] as const) {
  test(`[node] before authentication, ${what} ends the connection (${code}) even when a good hello follows`, async (t) => {
    const { station, port } = await startStation();
    const c = await raw(port);
    c.sock.write(Buffer.concat([bytes(), hello()]));
    await c.closed;
    await station.idle();
    t.is(station.results[0].code, code);
    t.deepEqual(c.answers, [{ code, fatal: true }]);
    await station.close();
  });
}

test('[node] over the connection cap a camera gets E_STATION_BUSY at once; once a place is free it docks', async (t) => {
  const { station, port } = await startStation({ maxSessions: 2, handshakeMs: 60_000 });
  const idle = [await raw(port), await raw(port)];
  const third = await raw(port);
  await third.closed;
  t.deepEqual(third.answers, [{ code: 'E_STATION_BUSY', fatal: true }]);
  t.is(station.refused, 1);
  // A camera turned away keeps everything and says why.
  const camera = await startCamera('node');
  try {
    await camera.engine.call('dock.camera.record', { segments: 1 });
    const refused = await dock(camera, port);
    t.deepEqual(refused.pending, [0]);
    t.true(refused.closeReason.includes('E_STATION_BUSY'), refused.closeReason);
    for (const c of idle) c.sock.destroy();
    await station.idle();
    const s = await dock(camera, port);
    await station.idle();
    t.deepEqual(s.pending, []);
  } finally {
    await camera.close();
    await station.close();
  }
});

test('[node] garbage from one address leaves at most a few rate-limited security events, none under a camera id', async (t) => {
  const { station, port } = await startStation();
  for (let i = 0; i < 25; i++) {
    const c = await raw(port);
    c.sock.write(Buffer.from(`GET /${i} HTTP/1.1\r\n\r\n`));
    await c.closed;
  }
  await station.idle();
  const rows = station.store.custody();
  const events = rows.filter((e) => e.event === 'peer-refused');
  // 5 a minute from one address (10 if the minute turned during the test); never 25.
  t.true(events.length >= 1 && events.length <= 10, `${events.length} security events`);
  t.true(events.every((e) => e.device === null && JSON.parse(e.detail!).peer === '127.0.0.1'));
  t.deepEqual(rows.filter((e) => e.device !== null), []);
  t.deepEqual(station.store.db.prepare('SELECT * FROM sessions').all(), []);
  await station.close();
});

test('[node] an authenticated camera that lists without end is asked for a bounded number of inventory pages', async (t) => {
  const env = inProcessCamera({ seed: 'endless', segments: 1 });
  // Ten thousand segments that don't exist (their manifests are not signed): the station refuses each.
  const fake = Array.from({ length: 10_000 }, (_, seq) => ({ seq, length: 10, manifest: new Uint8Array(40).fill(seq & 255) }));
  let inventoryCalls = 0;
  const source: UploadSource = {
    pending: () => {
      inventoryCalls++;
      return fake;
    },
    read: () => new Uint8Array(10),
    checkpoint: (nonce) => (env.state.dockCamera as { keeper: UploadSource }).keeper.checkpoint(nonce),
    acceptReceipt: () => ({ seqs: [], bytes: 0 }),
  };
  const { station, port } = await startStation({ maxInventoryPages: 3 });
  await dockLocal(env, port, { source });
  await station.idle();
  const r = station.results[0];
  t.is(r.rejected.length, 3 * 64, 'three pages of 64, no more');
  t.true(inventoryCalls >= 3);
  t.truthy(station.store.custody('CAM-0001').find((e) => e.event === 'inventory-truncated'));
  await station.close();
});

test('[node] shutdown ends on its deadline with sessions still open, and refuses new connections meanwhile', async (t) => {
  const { station, port } = await startStation({ handshakeMs: 120_000, timeoutMs: 120_000 });
  const slow = await raw(port);
  slow.sock.write(hello().subarray(0, 5));
  const closing = station.close({ deadlineMs: 300 });
  const late = await raw(port).catch(() => undefined);
  const outcome = await Promise.race([closing.then(() => 'closed'), new Promise((r) => setTimeout(() => r('still waiting'), 30_000))]);
  t.is(outcome, 'closed');
  await slow.closed;
  t.true(slow.sock.destroyed);
  if (late) {
    await late.closed;
    t.true(late.answers.every((a) => a.code === 'E_STATION_BUSY'));
  }
});
