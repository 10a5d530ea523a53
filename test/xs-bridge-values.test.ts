// The bridge's cheaper paths give what the plain ones gave: an entry's result sent as JSON
// (plainValue) decodes on the host to what its CBOR decoded to, and whatever plainValue refuses
// goes as CBOR; bytes copied eight at a time (copyInto) are the bytes set() copies; the guest's
// CRC-32 is zlib's; a message packs and reads back the same.

import test from 'ava';
import { decode, encode, Simple, Tag, type CborValue } from '../firmware/codec/cbor.js';
import { copyInto, crcCombine, crcMultiply, crcShift, Packer, packMessage, plainValue, readMessage, unpack, type Json } from '../host-sim/bridge/marshal.js';
import { HOST_TEXT } from '../host-sim/bridge/host.js';
import { crc32Bytes } from '../host-sim/xs/guest/crc32.js';
import { nodeChecksum } from '../host/ports.js';

/** What the host makes of a plain value: through JSON text and back, encoded and decoded. */
function viaJson(v: unknown): { cbor: Uint8Array; value: CborValue } | undefined {
  const packer = new Packer({}, true);
  const j = plainValue(v, packer);
  if (j === undefined) return undefined;
  const back = unpack(JSON.parse(JSON.stringify(j)) as Json, packer.blobs) as CborValue;
  const cbor = encode(back);
  return { cbor, value: decode(cbor) };
}

const plain: unknown[] = [
  null, true, false, undefined, 0, 1, -1, 23, 24, 255, 256, 65535, 65536, 2 ** 32, 2 ** 53 - 1, -(2 ** 53), 2 ** 64, 1e300, 1.5, -0.1, 5e-324, 65504, 1 / 3,
  '', 'a', 'héllo wörld', '日本語', '"quoted" \\ back\nline\u0000nul',
  new Uint8Array(0), new Uint8Array([1, 2, 3]), new Uint8Array(new ArrayBuffer(40), 8, 16).fill(9),
  [], [1, [2, [3, [4]]]], [undefined, null], new Array(3),
  {}, { a: 1, b: 'x', c: [1, 2], d: { e: undefined } }, { '@': 'u', i: 3 }, { '@': 'b', v: new Uint8Array([7]) }, Object.assign(Object.create(null), { z: 1, a: 2 }),
  { 10: 'ten', 2: 'two', b: 1, a: 2, aa: 3 },
  { state: 'recording', storage: { total: 1073332224, free: 1061187584 }, sessions: { released: [] }, audio: { on: true, blocks: 39 } },
];

test('[xs-bridge] a plain entry result crosses as JSON and decodes as its CBOR did', (t) => {
  for (const v of plain) {
    const got = viaJson(v);
    if (!got) {
      t.fail(`plainValue refused ${String(v)}`);
      continue;
    }
    t.deepEqual(Buffer.from(got.cbor), Buffer.from(encode(v as CborValue)), `CBOR of ${JSON.stringify(v)}`);
    t.deepEqual(got.value, decode(encode(v as CborValue)));
  }
});

class Thing {
  x = 1;
}
let deep: unknown = 1;
for (let i = 0; i < 40; i++) deep = [deep];

const refused: unknown[] = [
  NaN, Infinity, -Infinity, -0, 1n, 2n ** 70n, new Map([['a', 1]]), new Tag(1, 2), new Simple(16), new Thing(), () => 1, Symbol('s'),
  new Uint16Array(2), new ArrayBuffer(2), new Date(0), 'lone \ud800 surrogate', '😀 (a pair: any surrogate is left to CBOR)', { ['\udc00']: 1 }, deep,
  [1, 2, new Map()], { a: { b: -0 } }, { a: [NaN] }, JSON.parse('{"__proto__": 1}'),
];

test('[xs-bridge] anything else is left to the CBOR encoder (and its errors), with nothing left attached', (t) => {
  for (const v of refused) {
    const packer = new Packer({}, true);
    packer.attach(new Uint8Array(1));
    t.is(plainValue([new Uint8Array(3), v], packer), undefined, String(typeof v === 'symbol' ? 'symbol' : v));
    t.is(packer.blobs.length, 1);
  }
});

test('[xs-bridge] copyInto copies what set() copies, at any offset and length', (t) => {
  const src = new Uint8Array(300).map((_, i) => (i * 37 + 11) & 0xff);
  for (const at of [0, 1, 3, 7, 8, 9, 15]) {
    for (const n of [0, 1, 7, 8, 31, 32, 33, 40, 64, 65, 100, 257]) {
      for (const from of [0, 1, 5]) {
        const a = new Uint8Array(400).fill(0xee);
        const b = new Uint8Array(400).fill(0xee);
        const s = src.subarray(from, from + n);
        a.subarray(at, at + n + 5).set(s);
        copyInto(b.subarray(at, at + n + 5), s);
        t.deepEqual(b, a, `at ${at}, ${n} bytes from ${from}`);
      }
    }
  }
});

test('[xs-bridge] the guest CRC-32 is zlib\'s, for any length, offset and seed', (t) => {
  const data = new Uint8Array(1100).map((_, i) => (i * 7919 + 13) & 0xff);
  for (const n of [0, 1, 7, 8, 15, 16, 17, 23, 24, 91, 255, 512, 1024]) {
    for (const at of [0, 1, 3]) {
      for (const seed of [0, 1, 0x12345678, 0xffffffff]) {
        const b = data.subarray(at, at + n);
        t.is(crc32Bytes(b, seed), nodeChecksum.crc32(b, seed), `${n} bytes at ${at}, seed ${seed}`);
      }
    }
  }
});

test('[xs-bridge] a message packs and reads back: tree, attachments (own buffers) and prefix', (t) => {
  const packer = new Packer({}, false);
  const lentBytes = new Uint8Array([9, 8, 7, 6]);
  packer.prefix = lentBytes;
  const tree = [1, 'x', packer.pack([new Uint8Array([1, 2, 3]), new Uint8Array(new ArrayBuffer(10), 2, 5).fill(4), undefined, -0, 2n]), null];
  for (const lead of [undefined, 1]) {
    const m = packMessage(tree, packer, HOST_TEXT, lead);
    const r = readMessage(m, HOST_TEXT, lead === undefined ? 0 : 1);
    t.deepEqual(r.tree, JSON.parse(JSON.stringify(tree)));
    t.deepEqual([...m.subarray(r.prefixAt, r.prefixAt + r.prefixLength)], [...lentBytes]);
    t.deepEqual(r.blobs.map((b) => [...b]), [[1, 2, 3], [4, 4, 4, 4, 4]]);
    for (const b of r.blobs) t.is(b.byteLength, b.buffer.byteLength);
    t.deepEqual(unpack((r.tree as Json[])[2], r.blobs), [new Uint8Array([1, 2, 3]), new Uint8Array([4, 4, 4, 4, 4]), undefined, -0, 2n]);
  }
});

/** multmodp as zlib writes it: a bit at a time. */
function multiplyBitwise(a: number, b: number): number {
  let m = 0x80000000;
  let p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ 0xedb88320 : b >>> 1;
  }
  return p >>> 0;
}

test('[xs-bridge] crcMultiply is zlib\'s multmodp, and a lent buffer\'s CRC with a seed is zlib\'s', (t) => {
  let x = 0x9e3779b9;
  const next = (): number => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0);
  const edges = [0, 1, 0x80000000, 0xffffffff, 0x40000000, 0xedb88320];
  for (const a of edges) for (const b of edges) if (a) t.is(crcMultiply(a, b), multiplyBitwise(a, b), `${a} · ${b}`);
  for (let i = 0; i < 2000; i++) {
    const a = next() | 1;
    const b = next();
    t.is(crcMultiply(a, b), multiplyBitwise(a, b));
  }
  const data = new Uint8Array(5000).map((_, i) => (i * 31 + 7) & 0xff);
  for (const n of [1, 12, 91, 4096, 5000]) {
    const b = data.subarray(0, n);
    for (const seed of [0, 1, 0xdeadbeef]) t.is(crcCombine(seed, nodeChecksum.crc32(b), crcShift(n)), nodeChecksum.crc32(b, seed));
  }
});
