// The netstring reader of the xsnap-worker and MCU pipes: messages come out whole and in order
// however the stream is cut into chunks; a big message split into many chunks is joined once
// (each chunk is looked at a bounded number of times); a stream that is not netstrings fails
// with the reader's code.

import test from 'ava';
import { NetstringReader } from '../host-sim/xs/netstring.js';

const frame = (body: Buffer): Buffer => Buffer.concat([Buffer.from(`${body.length}:`), body, Buffer.from(',')]);

function bodies(n: number): Buffer[] {
  return Array.from({ length: n }, (_, i) => Buffer.from(`message ${i} `.repeat(i % 7)));
}

test('messages come out whole and in order, whatever the chunks', (t) => {
  const messages = [...bodies(20), Buffer.alloc(0), Buffer.alloc(70_000, 7)];
  const stream = Buffer.concat(messages.map(frame));
  for (const size of [1, 2, 3, 7, 19, 64, 1000, 65_536, stream.length]) {
    const r = new NetstringReader('test', 'E_TEST');
    const got: Buffer[] = [];
    for (let o = 0; o < stream.length; o += size) got.push(...r.push(stream.subarray(o, o + size)));
    t.is(got.length, messages.length, `chunks of ${size}`);
    got.forEach((g, i) => t.true(g.equals(messages[i]), `chunks of ${size}, message ${i}`));
  }
});

test('a big message in many chunks is joined once, not once per chunk', (t) => {
  const body = Buffer.alloc(4 * 1024 * 1024, 1);
  const stream = frame(body);
  const r = new NetstringReader('test', 'E_TEST');
  const concat = Buffer.concat;
  let joined = 0;
  (Buffer as { concat: typeof Buffer.concat }).concat = (list, length) => {
    joined += length ?? list.reduce((n, b) => n + b.length, 0);
    return concat(list, length);
  };
  try {
    const got: Buffer[] = [];
    for (let o = 0; o < stream.length; o += 65_536) got.push(...r.push(stream.subarray(o, o + 65_536)));
    t.is(got.length, 1);
    t.true(got[0].equals(body));
  } finally {
    (Buffer as { concat: typeof Buffer.concat }).concat = concat;
  }
  // The one join of the message (the old reader joined what was pending on every chunk: 64 chunks → ~130 MB).
  t.true(joined <= stream.length + 64 * 20, `${joined} bytes joined for a ${stream.length}-byte message`);
});

test('a stream that is not netstrings fails with the reader’s code', (t) => {
  t.throws(() => new NetstringReader('peer', 'E_TEST').push(Buffer.from('12x:abc')), { code: 'E_TEST', message: /bad netstring length from peer/ } as never);
  t.throws(() => new NetstringReader('peer', 'E_TEST').push(Buffer.from('3:abcd')), { code: 'E_TEST', message: /lacks its comma/ } as never);
  t.throws(() => new NetstringReader('peer', 'E_TEST').push(Buffer.from('no colon in a long header at all')), { code: 'E_TEST', message: /bad netstring length/ } as never);
  // A header still arriving is not an error.
  t.deepEqual(new NetstringReader('peer', 'E_TEST').push(Buffer.from('12')), []);
});
