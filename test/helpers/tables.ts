// The shared engine test tables: one copy of the cases that every engine (node, xs, mcu) must
// answer identically — SHA-256 (FIPS 180-2 / NIST CSRC examples), CRC-32 (zlib polynomial),
// RFC 8949 Appendix A and malformed CBOR with the error code each must get.

import { readVector } from './vectors.js';

export const ascii = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));

export interface Sha256Case {
  name: string;
  data: Uint8Array;
  hex: string;
}

/** FIPS 180-2 / NIST CSRC example vectors for SHA-256. */
export const SHA256_CASES: readonly Sha256Case[] = [
  { name: 'empty', data: new Uint8Array(0), hex: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' },
  { name: 'abc', data: ascii('abc'), hex: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' },
  { name: '448 bits', data: ascii('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq'), hex: '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1' },
  {
    name: '896 bits',
    data: ascii('abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu'),
    hex: 'cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1',
  },
  { name: 'one million a', data: new Uint8Array(1_000_000).fill(0x61), hex: 'cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0' },
];

/** CRC-32 (zlib polynomial): input and checksum. */
export const CRC32_CASES: readonly (readonly [Uint8Array, number])[] = [
  [ascii('123456789'), 0xcbf43926],
  [new Uint8Array(0), 0],
  [ascii('The quick brown fox jumps over the lazy dog'), 0x414fa339],
];

export interface AppendixA {
  hex: string;
  roundtrip: boolean;
  decoded?: unknown;
  diagnostic?: string;
}

/** RFC 8949 Appendix A (test/vectors/cbor-appendix-a.json). */
export const APPENDIX_A: readonly AppendixA[] = readVector<AppendixA[]>('cbor-appendix-a.json');

/** Malformed CBOR (hex) and the stable error code the decoder must give it. */
export const MALFORMED_CBOR: readonly (readonly [string, string])[] = [
  ['', 'E_CBOR_TRUNCATED'],
  ['18', 'E_CBOR_TRUNCATED'],
  ['1c', 'E_CBOR_MALFORMED'],
  ['ff', 'E_CBOR_MALFORMED'],
  ['5f01ff', 'E_CBOR_MALFORMED'],
  ['62c328', 'E_CBOR_UTF8'],
  ['0000', 'E_CBOR_TRAILING'],
  ['5affffffff00', 'E_CBOR_TRUNCATED'],
  ['9bffffffffffffffff', 'E_CBOR_LIMIT'],
  ['a201010102', 'E_CBOR_DUPLICATE_KEY'],
  // Keys are equal when their deterministic encodings are: text, 1 and 1.0, 2^53 as a float and as
  // an integer, byte strings, and in a map of indefinite length; and 0 and -0.0, which a JS Map
  // holds as one key (decoded, the second used to replace the first without a word).
  ['a2616101616102', 'E_CBOR_DUPLICATE_KEY'],
  ['a20101f93c0002', 'E_CBOR_DUPLICATE_KEY'],
  ['a20001f9800002', 'E_CBOR_DUPLICATE_KEY'],
  ['a2fa5a000000011b002000000000000002', 'E_CBOR_DUPLICATE_KEY'],
  ['a2410101410102', 'E_CBOR_DUPLICATE_KEY'],
  ['bf616101616102ff', 'E_CBOR_DUPLICATE_KEY'],
  ['f818', 'E_CBOR_MALFORMED'],
  ['81'.repeat(40) + '00', 'E_CBOR_DEPTH'],
  ['9f01', 'E_CBOR_TRUNCATED'],
  ['a101ff', 'E_CBOR_MALFORMED'],
];
