// STREAM (firmware/crypto/stream.ts): chunks sealed in place under one key with AES-256-GCM and
// age's nonce (11-byte big-endian index ‖ final flag). Checked against node:crypto sealing each
// chunk under the nonce built here by hand (so the nonce layout is the one documented), and each
// attack on a stream — a flipped bit, a dropped chunk, a truncated tail, two chunks swapped, a
// wrong key — refused with E_STREAM_AUTH, the chunk's bytes left as they were; on node and xs.

import test from 'ava';
import { createCipheriv, randomBytes } from 'node:crypto';
import { isBodycamError } from '../firmware/errors.js';
import { StreamOpener, StreamSealer, streamNonce } from '../firmware/crypto/stream.js';
import { nodeCipher } from '../host/ports.js';
import { bothEngines } from './helpers/engines.js';

const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function code(e: unknown): string | undefined {
  return isBodycamError(e) ? e.code : undefined;
}

/** A stream of `n` chunks of assorted sizes, each with its own additional data. */
function stream(n: number): { key: Uint8Array; chunks: Uint8Array[]; aads: Uint8Array[] } {
  const sizes = [0, 1, 15, 16, 17, 4096, 25 * 1024, 33];
  return {
    key: Uint8Array.from(randomBytes(32)),
    // Plain Uint8Arrays: a Buffer's slice() would share its bytes.
    chunks: Array.from({ length: n }, (_, i) => Uint8Array.from(randomBytes(sizes[i % sizes.length]))),
    aads: Array.from({ length: n }, (_, i) => Uint8Array.of(0x46, 0x52, i & 0xff, i >> 8)),
  };
}

test('the nonce is the 11-byte big-endian chunk index, then 0x01 on the final chunk and 0x00 before it', (t) => {
  t.is(toHex(streamNonce(0, false)), '000000000000000000000000');
  t.is(toHex(streamNonce(0, true)), '000000000000000000000001');
  t.is(toHex(streamNonce(1, false)), '000000000000000000000100');
  t.is(toHex(streamNonce(0x0102, true)), '000000000000000000010201');
  t.is(toHex(streamNonce(Number.MAX_SAFE_INTEGER, false)), '000000001fffffffffffff00');
  t.is(code(t.throws(() => streamNonce(-1, false))), 'E_STREAM_LIMIT');
  t.is(code(t.throws(() => streamNonce(2 ** 53, false))), 'E_STREAM_LIMIT');
});

test('each chunk is AES-256-GCM under its STREAM nonce, sealed in place: node:crypto gives the same bytes and tag', (t) => {
  const { key, chunks, aads } = stream(8);
  const sealer = new StreamSealer(nodeCipher, key);
  chunks.forEach((plain, i) => {
    const final = i === chunks.length - 1;
    const data = plain.slice();
    const tag = sealer.seal(data, aads[i], final);
    const nonce = Buffer.alloc(12);
    nonce.writeUIntBE(i, 5, 6);
    nonce[11] = final ? 1 : 0;
    const c = createCipheriv('aes-256-gcm', key, nonce);
    c.setAAD(aads[i]);
    const want = Buffer.concat([c.update(plain), c.final()]);
    t.is(toHex(data), toHex(want), `chunk ${i} in place`);
    t.is(toHex(tag), c.getAuthTag().toString('hex'));
  });
  t.is(sealer.index, 8);
  t.is(code(t.throws(() => sealer.seal(new Uint8Array(1), new Uint8Array(0), false))), 'E_STREAM_FINISHED', 'nothing after the final chunk');
  sealer.close();
  t.is(code(t.throws(() => new StreamSealer(nodeCipher, new Uint8Array(16)))), 'E_STREAM_KEY');
});

bothEngines('a STREAM opens where it was sealed; a flipped bit, a dropped chunk, a truncated tail, two chunks swapped and a wrong key are each refused (E_STREAM_AUTH)', async (t, { engine }) => {
  const { key, chunks, aads } = stream(6);
  const [cts, tags] = (await engine.call('crypto.stream.seal', key, chunks, aads)).value as [Uint8Array[], Uint8Array[]];
  t.notDeepEqual(cts.map(toHex), chunks.map(toHex));
  const opened = (await engine.call('crypto.stream.open', key, cts, tags, aads)).value as Uint8Array[];
  t.deepEqual(opened.map(toHex), chunks.map(toHex), 'the whole stream opens');

  const refused = async (what: string, k: Uint8Array, c: Uint8Array[], g: Uint8Array[], a: Uint8Array[]) => {
    const e = await t.throwsAsync(engine.call('crypto.stream.open', k, c, g, a));
    t.is(code(e), 'E_STREAM_AUTH', what);
  };
  const flipped = cts.map((c) => c.slice());
  flipped[3][1000 % flipped[3].length] ^= 0x04;
  await refused('a flipped bit', key, flipped, tags, aads);
  const flippedTag = tags.map((g) => g.slice());
  flippedTag[2][0] ^= 1;
  await refused('a flipped bit in a tag', key, cts, flippedTag, aads);
  const drop = (xs: Uint8Array[], i: number) => xs.filter((_, j) => j !== i);
  await refused('a dropped chunk', key, drop(cts, 2), drop(tags, 2), drop(aads, 2));
  await refused('a truncated tail (the final chunk missing)', key, cts.slice(0, 5), tags.slice(0, 5), aads.slice(0, 5));
  const swap = <T>(xs: T[]) => [xs[0], xs[2], xs[1], ...xs.slice(3)];
  await refused('two chunks swapped', key, swap(cts), swap(tags), swap(aads));
  await refused('a wrong key', randomBytes(32), cts, tags, aads);
  await refused('other additional data', key, cts, tags, swap(aads));
  // The tail cut exactly after the final chunk is the whole stream; one chunk more after it is not.
  await refused('a chunk appended after the final one', key, [...cts, cts[5]], [...tags, tags[5]], [...aads, aads[5]]);
});

test('a refused chunk keeps its bytes: open checks the tag before it decrypts', (t) => {
  const { key, chunks, aads } = stream(2);
  const s = new StreamSealer(nodeCipher, key);
  const c0 = chunks[0].slice();
  const c1 = chunks[1].slice();
  const tag0 = s.seal(c0, aads[0], false);
  const tag1 = s.seal(c1, aads[1], true);
  const o = new StreamOpener(nodeCipher, key);
  const before = toHex(c1);
  t.is(code(t.throws(() => o.open(1, false, aads[1], c1, tag1))), 'E_STREAM_AUTH', 'the final chunk read as if more followed');
  t.is(toHex(c1), before);
  t.is(code(t.throws(() => o.open(0, false, aads[0], c0, tag0.subarray(0, 12)))), 'E_STREAM_AUTH', 'a short tag');
  o.open(0, false, aads[0], c0, tag0);
  o.open(1, true, aads[1], c1, tag1);
  t.is(toHex(c0), toHex(chunks[0]));
  t.is(toHex(c1), toHex(chunks[1]));
  o.close();
  t.is(code(t.throws(() => o.open(0, false, aads[0], c0, tag0))), 'E_STREAM_CLOSED');
});
