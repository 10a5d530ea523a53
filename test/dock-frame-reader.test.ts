// The frame reader against an independent parse of the same stream (node:zlib's CRC-32), however
// the stream is cut: pieces it copies, pieces it keeps (adopt), and reads straight into the
// arrays it names (readInto/wrote, as the station's socket does). And the station's socket: an
// accepted connection moved to one that reads into those arrays (readDirect), over real TCP.

import test from 'ava';
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Socket } from 'node:net';
import { crc32 } from 'node:zlib';
import { FLAG_SEALED, FrameReader, frameMessage, HEADER_BYTES, TRAILER_BYTES, type FrameEvent } from '../firmware/dock/frame.js';
import { readDirect } from '../dock-station/session.js';
import { nodeChecksum } from '../host/ports.js';

/** A seeded generator (xorshift32): the same cuts on every run. */
function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

const SIZES = [0, 1, 7, 100, 4096, 30 * 1024, 32 * 1024 + 3, 64 * 1024, 200_000, 256 * 1024 + 512];

/** Frames of every size above, some sealed, some with a broken CRC, in one stream. */
function stream(): { bytes: Uint8Array; frames: Uint8Array[] } {
  const frames: Uint8Array[] = [];
  SIZES.forEach((n, i) => {
    const f = frameMessage(new Uint8Array(randomBytes(n)), nodeChecksum);
    if (i % 3 === 1) {
      f[3] = FLAG_SEALED;
      new DataView(f.buffer).setUint32(f.length - TRAILER_BYTES, crc32(f.subarray(0, f.length - TRAILER_BYTES)));
    }
    if (i % 4 === 2) f[f.length - 1] ^= 0x40;
    frames.push(f);
  });
  const bytes = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let o = 0;
  for (const f of frames) {
    bytes.set(f, o);
    o += f.length;
  }
  return { bytes, frames };
}

/** What a reader must make of each frame, parsed on its own with node:zlib's CRC-32. */
function expected(frames: Uint8Array[], sealedFirst: boolean): string[] {
  return frames.map((f) => {
    const n = new DataView(f.buffer, f.byteOffset).getUint32(4);
    const crc = new DataView(f.buffer, f.byteOffset).getUint32(HEADER_BYTES + n);
    const holds = crc32(f.subarray(0, HEADER_BYTES + n)) === crc;
    if (sealedFirst && f[3] === FLAG_SEALED) return `message ${n} ${f[3]} unchecked ${Buffer.from(f.subarray(HEADER_BYTES, HEADER_BYTES + n)).toString('base64')}`;
    return holds ? `message ${n} ${f[3]} checked ${Buffer.from(f.subarray(HEADER_BYTES, HEADER_BYTES + n)).toString('base64')}` : 'corrupt E_PROTO_CHECKSUM';
  });
}

function described(events: FrameEvent[]): string[] {
  return events.map((e) => (e.kind === 'message' ? `message ${e.payload.length} ${e.flags} ${e.checked ? 'checked' : 'unchecked'} ${Buffer.from(e.payload).toString('base64')}` : `${e.kind} ${e.error.code}`));
}

for (const sealedFirst of [false, true]) {
  test(`FrameReader${sealedFirst ? ' (sealedFirst)' : ''}: the same frames as an independent parse, cut anywhere, whether it copies the pieces, keeps them, or is read into`, (t) => {
    const { bytes, frames } = stream();
    const want = expected(frames, sealedFirst);
    for (let seed = 1; seed <= 12; seed++) {
      const r = rng(seed);
      // Cuts from 1 byte (headers split everywhere) to 300 KiB (several frames in one piece).
      const cap = [1, 9, 5000, 70_000, 300_000][seed % 5];
      for (const mode of ['copy', 'adopt', 'read'] as const) {
        const pieces: Uint8Array[] = [];
        const reader = new FrameReader(nodeChecksum, { adopt: mode === 'adopt', sealedFirst });
        const events: FrameEvent[] = [];
        for (let at = 0; at < bytes.length; ) {
          const n = Math.min(bytes.length - at, 1 + r(cap));
          if (mode === 'read') {
            // A socket read: at most what the array named holds.
            const into = reader.readInto();
            const got = Math.min(n, into.length);
            into.set(bytes.subarray(at, at + got));
            events.push(...reader.wrote(into, got));
            at += got;
          } else {
            const piece = bytes.slice(at, at + n);
            pieces.push(piece);
            events.push(...reader.push(piece));
            // A piece handed over for keeping is the caller's no more; one copied is reused at once.
            if (mode === 'copy') piece.fill(0xee);
            at += n;
          }
        }
        t.deepEqual(described(events), want, `seed ${seed}, ${mode}`);
      }
    }
  });
}

test('FrameReader: a frame that lies whole in a piece it keeps is a view of that piece; read into, a large frame lands in place but for what the scratch array took', (t) => {
  const frame = frameMessage(new Uint8Array(randomBytes(200_000)), nodeChecksum);
  const piece = frame.slice();
  const [kept] = new FrameReader(nodeChecksum, { adopt: true }).push(piece);
  if (kept.kind !== 'message') return t.fail();
  t.is(kept.framed.buffer, piece.buffer, 'not copied');
  const [copied] = new FrameReader(nodeChecksum).push(piece);
  if (copied.kind !== 'message') return t.fail();
  t.not(copied.framed.buffer, piece.buffer, 'copied when the piece is not handed over');

  // Reads of up to 64 KiB, as a socket gives them: the first (header and the start of the
  // payload) goes to the scratch array and is copied; after it, reads land in the frame's array.
  const lent: Uint8Array[] = [];
  const reader = new FrameReader(nodeChecksum, { alloc: (n) => (lent[lent.length] = new Uint8Array(n)) });
  let scratch = 0;
  let direct = 0;
  const events: FrameEvent[] = [];
  for (let at = 0; at < frame.length; ) {
    const into = reader.readInto();
    const n = Math.min(64 * 1024, into.length, frame.length - at);
    if (lent.length && into.buffer === lent[0].buffer) direct += n;
    else scratch += n;
    into.set(frame.subarray(at, at + n));
    events.push(...reader.wrote(into, n));
    at += n;
  }
  t.is(events.length, 1);
  const [ev] = events;
  if (ev.kind !== 'message') return t.fail();
  t.is(ev.framed.buffer, lent[0].buffer, 'handed over in the array alloc gave');
  t.deepEqual(Buffer.from(ev.payload), Buffer.from(frame.subarray(HEADER_BYTES, frame.length - TRAILER_BYTES)));
  // Copied: the first read, and the last, whose 3,404 bytes are under readInto's 16 KiB (a read
  // that small is not worth a syscall of its own).
  const tail = (frame.length - 64 * 1024) % (64 * 1024);
  t.true(tail > 0 && tail < 16 * 1024);
  t.is(scratch, 64 * 1024 + tail);
  t.is(direct, frame.length - scratch);
});

test('FrameReader: a bad magic, version or length ends the stream as soon as its byte arrives, one byte at a time; nothing is read after', (t) => {
  const good = frameMessage(new Uint8Array([1, 2, 3]), nodeChecksum);
  const cases: [Uint8Array, number, string][] = [
    [new Uint8Array([0x00]), 1, 'E_PROTO_MAGIC'],
    [new Uint8Array([0x42, 0x45]), 2, 'E_PROTO_MAGIC'],
    [new Uint8Array([0x42, 0x44, 1]), 3, 'E_PROTO_DOWNGRADE'],
    [new Uint8Array([0x42, 0x44, 9]), 3, 'E_PROTO_VERSION'],
    [new Uint8Array([0x42, 0x44, 2, 0, 0x7f, 0, 0, 0]), 8, 'E_PROTO_TOO_LARGE'],
  ];
  for (const [bytes, at, code] of cases) {
    for (const mode of ['push', 'read'] as const) {
      const reader = new FrameReader(nodeChecksum);
      const all = new Uint8Array([...good, ...bytes, ...good]);
      const seen: string[] = [];
      for (let i = 0; i < all.length; i++) {
        let evs: FrameEvent[];
        if (mode === 'push') evs = reader.push(all.subarray(i, i + 1));
        else {
          const into = reader.readInto();
          into[0] = all[i];
          evs = reader.wrote(into, 1);
        }
        for (const e of evs) seen.push(`${i}:${e.kind}${e.kind === 'message' ? '' : ` ${e.error.code}`}`);
      }
      t.deepEqual(seen, [`${good.length - 1}:message`, `${good.length + at - 1}:fatal ${code}`], `${code} (${mode})`);
      t.is(reader.dead?.code, code);
    }
  }
});

/** A server whose connections are moved to direct-read sockets; resolves with its port and what it saw. */
async function directServer(into: () => Uint8Array, took: (n: number, into: Uint8Array, socket: Socket) => boolean) {
  const moved: (Socket | undefined)[] = [];
  const server = createServer({ pauseOnConnect: true }, (accepted) => {
    let socket: Socket | undefined = undefined;
    socket = readDirect(accepted, into, (n, b) => took(n, b, socket!));
    moved.push(socket);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { server, port: (server.address() as { port: number }).port, moved };
}

test('[node] readDirect: an accepted connection reads into the arrays named, every byte in order; a false answer pauses it and resume() goes on; the server still closes', async (t) => {
  const sent = new Uint8Array(randomBytes(3 << 20));
  const got = new Uint8Array(sent.length);
  let filled = 0;
  let pauses = 0;
  const named = new Set<ArrayBufferLike>();
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  // Read straight into `got`, at most 100 KiB at a time: the bytes land where the callback is told.
  const { server, port, moved } = await directServer(
    () => {
      const view = got.subarray(filled, Math.min(got.length, filled + 100 * 1024));
      if (!view.length) return new Uint8Array(16);
      named.add(view.buffer);
      return view;
    },
    (n, into, socket) => {
      t.is(into.buffer, got.buffer, 'read into the array named');
      t.is(into.byteOffset, filled);
      filled += n;
      if (filled === sent.length) done();
      // Every 1 MiB, a pause of 20 ms: the socket reads nothing meanwhile.
      if (filled % (1 << 20) < n && filled < sent.length) {
        pauses++;
        const at = filled;
        setTimeout(() => {
          t.is(filled, at, 'nothing read while paused');
          socket.resume();
        }, 20);
        return false;
      }
      return true;
    },
  );
  const client = connect(port, '127.0.0.1');
  for (let o = 0; o < sent.length; o += 7777) client.write(sent.subarray(o, o + 7777));
  await finished;
  t.true(moved[0] !== undefined, 'this Node moves an accepted connection to a direct-read socket');
  t.deepEqual(Buffer.from(got), Buffer.from(sent));
  t.true(pauses >= 2);
  t.deepEqual([...named], [got.buffer]);
  client.end();
  await new Promise<void>((r) => moved[0]!.on('close', () => r()));
  await new Promise<void>((r) => server.close(() => r()));
});

test('[node] readDirect leaves a connection that is already reading as it is (undefined): the caller reads it as a stream', async (t) => {
  let result = 'unset' as Socket | undefined | 'unset';
  const server = createServer((accepted) => {
    result = readDirect(accepted, () => new Uint8Array(16), () => true);
    accepted.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  client.on('error', () => {});
  await new Promise<void>((r) => client.on('close', () => r()));
  t.is(result, undefined);
  await new Promise<void>((r) => server.close(() => r()));
});
