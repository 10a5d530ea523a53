// The foundation: the same table of cases on Node and in XS, byte-identical results.

import test from 'ava';
import { decode as cborxDecode } from 'cbor-x';
import { decode, encode, Simple, Tag, type CborValue } from '../firmware/codec/cbor.js';
import { isBodycamError } from '../firmware/errors.js';
import { bothEngines, withBoth } from './helpers/engines.js';
import { bytesToHex, hexToBytes } from './helpers/vectors.js';
import { APPENDIX_A, ascii, CRC32_CASES, MALFORMED_CBOR as MALFORMED, SHA256_CASES } from './helpers/tables.js';

bothEngines('SHA-256 NIST vectors, software digest in the engine and through the Digest port', async (t, { engine }) => {
  for (const c of SHA256_CASES) {
    // One million bytes through @noble/hashes in XS costs ~500 M units: the port covers it there.
    if (!(engine.name === 'xs' && c.data.length > 100_000)) {
      const soft = await engine.call('sha256.soft', c.data);
      t.is(bytesToHex(soft.value as Uint8Array), c.hex, `soft ${c.name}`);
    }
    const port = await engine.call('sha256.port', c.data);
    t.is(bytesToHex(port.value as Uint8Array), c.hex, `port ${c.name}`);
  }
  if (engine.name === 'xs') {
    const r = await engine.call('sha256.soft', new Uint8Array(1024));
    t.true((r.meter?.compute ?? 0) > 100_000, 'software SHA-256 in XS is metered');
  }
});

bothEngines('CRC-32 (zlib polynomial) in the engine and through the Checksum port', async (t, { engine }) => {
  for (const [data, crc] of CRC32_CASES) {
    t.is((await engine.call('crc32.soft', data)).value, crc);
    t.is((await engine.call('crc32.port', data)).value, crc);
  }
});

function sameValue(a: CborValue, b: CborValue): boolean {
  return bytesToHex(encode(a)) === bytesToHex(encode(b));
}

/** JSON "decoded" of a vector, as our decoder returns it (objects become Maps). */
function fromJson(v: unknown): CborValue {
  if (Array.isArray(v)) return v.map(fromJson);
  if (v && typeof v === 'object') return new Map(Object.entries(v).map(([k, x]) => [k, fromJson(x)]));
  if (typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v)) return BigInt(v);
  return v as CborValue;
}

bothEngines('RFC 8949 Appendix A: decode, and deterministic re-encoding where the vector round-trips', async (t, { engine }) => {
  let roundtrips = 0;
  for (const v of APPENDIX_A) {
    const bytes = hexToBytes(v.hex);
    if (v.hex === 'f818') {
      // simple(24) in two bytes: well-formed in RFC 7049, not in RFC 8949 (§3.3, Appendix F).
      await t.throwsAsync(engine.call('cbor.reencode', bytes), { message: /E_CBOR_MALFORMED/ });
      continue;
    }
    const r = await engine.call('cbor.reencode', bytes);
    const out = r.value as Uint8Array;
    const original = decode(bytes);
    if (v.roundtrip && /^f[9ab]/.test(v.hex) && typeof original === 'number' && Number.isInteger(original) && !Object.is(original, -0)) {
      // An integral float (1.0, 100000.0, 1e300 below 2^64...): a JS number can't say "float",
      // so it comes back in its integer form; its value must not change.
      t.true(sameValue(decode(out), original) && !/^f[9ab]/.test(bytesToHex(out)) === original <= 18446744073709551615, `integral float ${v.hex}`);
      roundtrips++;
      continue;
    }
    if (v.roundtrip) {
      t.is(bytesToHex(out), v.hex, `round trip of ${v.hex}`);
      roundtrips++;
    }
    // Whatever the form, the value survives re-encoding.
    t.true(sameValue(decode(out), original), `value of ${v.hex}`);
    if ('decoded' in v && (typeof v.decoded !== 'number' || Number.isSafeInteger(v.decoded))) {
      t.true(sameValue(original, fromJson(v.decoded)), `decoded ${v.hex}`);
    }
  }
  t.is(roundtrips, APPENDIX_A.filter((v) => v.roundtrip && v.hex !== 'f818').length);
});

test('Appendix A diagnostics that JSON cannot hold decode to the right values', (t) => {
  const byHex = (h: string) => decode(hexToBytes(h));
  t.is(byHex('1bffffffffffffffff'), 18446744073709551615n);
  t.is(byHex('3bffffffffffffffff'), -18446744073709551616n);
  t.true(Number.isNaN(byHex('f97e00') as number));
  t.is(byHex('f97c00'), Infinity);
  t.is(byHex('f9fc00'), -Infinity);
  t.is(byHex('f7'), undefined);
  t.deepEqual(byHex('f0'), new Simple(16));
  t.deepEqual(byHex('f8ff'), new Simple(255));
  t.deepEqual(byHex('c11a514b67b0'), new Tag(1, 1363896240));
  t.deepEqual(byHex('d74401020304'), new Tag(23, new Uint8Array([1, 2, 3, 4])));
  t.deepEqual(byHex('5f42010243030405ff'), new Uint8Array([1, 2, 3, 4, 5]));
  t.is(byHex('7f657374726561646d696e67ff'), 'streaming');
});

test('our encoding is read back identically by an independent decoder (cbor-x)', (t) => {
  const values: CborValue[] = [0, 23, 24, 255, 65535, 65536, 2 ** 32, -1, -25, 1.5, 100000.0, 3.4028234663852886e38, 1e300, 'ü水', new Uint8Array([1, 2]), [1, [2, 3]], { a: 1, b: [2] }];
  for (const v of values) {
    const ours = cborxDecode(Buffer.from(encode(v)));
    t.is(bytesToHex(encode(ours as CborValue)), bytesToHex(encode(v)));
  }
});

test('text is encoded as its UTF-8, read back by an independent decoder (cbor-x), wherever its first non-ASCII character falls', (t) => {
  // The encoder writes ASCII straight into its buffer and starts again at the first other
  // character: these put that character where the string's head grows (23 units, 24 bytes), at
  // the end of a long string (past the writer's first buffer) and first, and a lone surrogate.
  const strings = ['', 'pull', 'a'.repeat(22) + 'é', 'a'.repeat(23) + 'é', 'x'.repeat(255) + '水', 'y'.repeat(5000) + '𝄞', 'ü' + 'z'.repeat(30), 'q'.repeat(40) + '\ud800'];
  for (const s of strings) {
    const ours = encode(s);
    const utf8 = Buffer.from(s, 'utf8');
    t.is(bytesToHex(ours.subarray(ours.length - utf8.length)), utf8.toString('hex'), JSON.stringify(s.slice(-4)));
    t.is(cborxDecode(Buffer.from(ours)), s.endsWith('\ud800') ? s.slice(0, -1) + '\ufffd' : s);
    t.is(bytesToHex(encode({ [s]: s })), bytesToHex(encode(new Map([[s, s]]))));
  }
});

test('deterministic encoding: map keys sorted by encoded bytes, shortest forms', (t) => {
  const m = new Map<CborValue, CborValue>([
    ['aa', 1],
    [100, 2],
    [-1, 3],
    ['z', 4],
    [10, 5],
    [false, 6],
  ]);
  // 10 (0a), 100 (1864), -1 (20), "z" (617a), "aa" (626161), false (f4)
  t.is(bytesToHex(encode(m)), 'a60a051864022003617a0462616101f406');
  t.is(bytesToHex(encode({ b: 1, a: 2 })), 'a2616102616201');
  t.is(bytesToHex(encode(0.5)), 'f93800');
  t.is(bytesToHex(encode(-0)), 'f98000');
  t.is(bytesToHex(encode(65504)), '19ffe0');
  t.is(bytesToHex(encode(65504.5)), 'fa477fe080');
  t.is(bytesToHex(encode(5.960464477539063e-8)), 'f90001');
  t.throws(() => encode(new Map<CborValue, CborValue>([[1, 1], [1n, 2]])), { message: /E_CBOR_DUPLICATE_KEY/ });
});

bothEngines('map keys whose encodings differ are not duplicates, though their values may look alike: "1" and 1, 2^53-1 and 2^53, 1 and 1.5', async (t, { engine }) => {
  for (const [hex, canonical] of [
    ['a201 01 f93e00 02', 'a201 01 f93e00 02'],
    ['a26131010102', 'a201026131 01'],
    ['a21b001fffffffffffff011b002000000000000002', 'a21b001fffffffffffff011b002000000000000002'],
  ]) {
    const r = await engine.call('cbor.reencode', hexToBytes(hex.replace(/ /g, '')));
    t.is(bytesToHex(r.value as Uint8Array), canonical.replace(/ /g, ''), hex);
  }
});

bothEngines('malformed CBOR gets a stable error code, never a crash', async (t, { engine }) => {
  for (const [hex, code] of MALFORMED) {
    const e = await t.throwsAsync(engine.call('cbor.reencode', hexToBytes(hex)), undefined, hex);
    t.true(isBodycamError(e, code), `${hex}: expected ${code}, got ${e?.message}`);
  }
  // The engine is still alive and well after all of that.
  t.is((await engine.call('crc32.soft', ascii('123456789'))).value, 0xcbf43926);
});

test('one shared table gives byte-identical results on node and xs', async (t) => {
  await withBoth(async ({ node, xs }) => {
    const cases: [string, CborValue[]][] = [
      ...SHA256_CASES.filter((c) => c.data.length < 1000).map((c): [string, CborValue[]] => ['sha256.soft', [c.data]]),
      ...APPENDIX_A.filter((v) => v.hex !== 'f818').map((v): [string, CborValue[]] => ['cbor.reencode', [hexToBytes(v.hex)]]),
      ['cbor.encode', [{ device: 'cam-1', seq: 7, media: new Uint8Array([1, 2, 3]), t: [1.5, -2, 2 ** 40] }]],
    ];
    for (const [entry, args] of cases) {
      const a = await node.engine.call(entry, ...args);
      const b = await xs.engine.call(entry, ...args);
      t.is(bytesToHex(encode(a.value)), bytesToHex(encode(b.value)), entry);
      t.truthy(b.meter, 'xs reports its meter');
    }
  });
});
