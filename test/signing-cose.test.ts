// COSE_Sign1 (RFC 9052) against the cose-wg examples: the Sig_structure bytes, EdDSA signatures
// verified and reproduced byte for byte, and every other algorithm, curve or structure refused
// with a stable code — never accepted, never a crash.

import test from 'ava';
import { readdirSync } from 'node:fs';
import { decode, encode, Tag, type CborValue } from '../firmware/codec/cbor.js';
import { decodeSign1, EDDSA_PROTECTED, kidOf, sigStructure, signSign1, verifySign1 } from '../firmware/signing/cose.js';
import { tweetEd25519 } from '../firmware/signing/ed25519.js';
import { errorCode } from '../firmware/errors.js';
import { bothEngines } from './helpers/engines.js';
import { bytesToHex, hexToBytes, readVector, vectorsDir } from './helpers/vectors.js';
import { join } from 'node:path';

interface CoseVector {
  title: string;
  input: {
    plaintext: string;
    sign0?: { key: { x_hex?: string; d_hex?: string; crv: string }; alg: string; external?: string; protected?: Record<string, unknown> };
    sign?: unknown;
    failures?: Record<string, unknown>;
  };
  intermediates?: { ToBeSign_hex?: string };
  output: { cbor: string };
}

const files = readdirSync(join(vectorsDir, 'cose')).filter((f) => f.endsWith('.json'));
const vector = (name: string) => readVector<CoseVector>(`cose/${name}`);
const ED25519_X = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';

function check(cose: Uint8Array, key: Uint8Array, externalAad?: Uint8Array): string {
  try {
    verifySign1(cose, key, externalAad ? { externalAad } : {});
    return 'ok';
  } catch (e) {
    return errorCode(e);
  }
}

test('EdDSA-sig-01: verifies, the Sig_structure matches ToBeSign, and re-signing reproduces the message byte for byte', (t) => {
  const v = vector('eddsa-examples_eddsa-sig-01.json');
  const cose = hexToBytes(v.output.cbor);
  const key = v.input.sign0!.key;
  t.is(check(cose, hexToBytes(key.x_hex!)), 'ok');
  const m = decodeSign1(cose);
  t.true(m.tagged);
  t.is(bytesToHex(sigStructure(m.protectedBytes, m.payload)).toUpperCase(), v.intermediates?.ToBeSign_hex ?? '');
  const secretKey = tweetEd25519.keyPairFromSeed(hexToBytes(key.d_hex!)).secretKey;
  const again = signSign1({
    payload: new TextEncoder().encode(v.input.plaintext),
    secretKey,
    protectedHeader: new Map<CborValue, CborValue>([[1, -8], [3, 0]]),
    kid: new TextEncoder().encode('11'),
  });
  t.is(bytesToHex(again).toUpperCase(), v.output.cbor);
});

test('every cose-wg vector gets the decision the README asks for', (t) => {
  const expected: Record<string, string> = {
    'eddsa-examples_eddsa-sig-01.json': 'ok',
    'eddsa-examples_eddsa-01.json': 'E_COSE_STRUCTURE', // COSE_Sign (tag 98), not COSE_Sign1
    'eddsa-examples_eddsa-02.json': 'E_COSE_STRUCTURE', // COSE_Sign with an Ed448 signer
    'eddsa-examples_eddsa-sig-02.json': 'E_COSE_UNSUPPORTED_ALG', // Ed448
    'sign1-tests_sign-fail-01.json': 'E_COSE_STRUCTURE', // tag 998
    'sign1-tests_sign-fail-02.json': 'E_COSE_UNSUPPORTED_ALG', // ES256
    'sign1-tests_sign-fail-03.json': 'E_COSE_UNSUPPORTED_ALG', // alg -999
    'sign1-tests_sign-fail-04.json': 'E_COSE_UNSUPPORTED_ALG', // alg "unknown"
    'sign1-tests_sign-fail-06.json': 'E_COSE_UNSUPPORTED_ALG',
    'sign1-tests_sign-fail-07.json': 'E_COSE_UNSUPPORTED_ALG',
    'sign1-tests_sign-pass-01.json': 'E_COSE_UNSUPPORTED_ALG', // ES256, alg unprotected
    'sign1-tests_sign-pass-02.json': 'E_COSE_UNSUPPORTED_ALG',
    'sign1-tests_sign-pass-03.json': 'E_COSE_UNSUPPORTED_ALG', // untagged, still parsed
  };
  t.deepEqual(files.slice().sort(), Object.keys(expected).sort());
  for (const f of files) {
    const v = vector(f);
    const x = v.input.sign0?.key.x_hex ?? ED25519_X;
    const aad = v.input.sign0?.external ? hexToBytes(v.input.sign0.external) : undefined;
    t.is(check(hexToBytes(v.output.cbor), hexToBytes(x), aad), expected[f], f);
  }
});

test('the Sig_structure of each Sign1 vector matches its ToBeSign unless the vector altered the signed content', (t) => {
  const matched: string[] = [];
  for (const f of files) {
    const v = vector(f);
    let m;
    try {
      m = decodeSign1(hexToBytes(v.output.cbor));
    } catch {
      continue;
    }
    const aad = v.input.sign0?.external ? hexToBytes(v.input.sign0.external) : undefined;
    if (bytesToHex(sigStructure(m.protectedBytes, m.payload, aad)).toUpperCase() === v.intermediates?.ToBeSign_hex) matched.push(f);
  }
  // fail-02 changed the payload, fail-03/04/06/07 the protected header; pass-01 carries h'A0'
  // (an empty map) where its ToBeSign has h'' — the signature covers the bytes as sent.
  t.deepEqual(matched.sort(), ['eddsa-examples_eddsa-sig-01.json', 'eddsa-examples_eddsa-sig-02.json', 'sign1-tests_sign-pass-02.json', 'sign1-tests_sign-pass-03.json']);
});

test('our envelope: tagged, protected {1: -8} as h\'A10127\', kid unprotected; tampering is refused', (t) => {
  const kp = tweetEd25519.keyPairFromSeed(new Uint8Array(32).fill(3));
  const kid = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
  const cose = signSign1({ payload: encode({ hello: 'court' }), secretKey: kp.secretKey, kid });
  t.is(bytesToHex(EDDSA_PROTECTED), 'a10127');
  const top = decode(cose) as Tag;
  t.is(top.tag, 18);
  const [p, u, payload, sig] = top.value as [Uint8Array, Map<number, Uint8Array>, Uint8Array, Uint8Array];
  t.is(bytesToHex(p), 'a10127');
  t.deepEqual(u.get(4), kid);
  t.is(sig.length, 64);
  t.true(tweetEd25519.verify(sigStructure(p, payload), sig, kp.publicKey));
  t.is(check(cose, kp.publicKey), 'ok');
  t.is(check(cose, tweetEd25519.keyPairFromSeed(new Uint8Array(32).fill(4)).publicKey), 'E_COSE_SIGNATURE');
  t.is(check(cose, kp.publicKey, new Uint8Array([1])), 'E_COSE_SIGNATURE');
  // Each byte of the message, flipped, is refused (structure or signature), never accepted —
  // in the unprotected header (the kid): it is not signed (RFC 9052), which is why bodycam
  // structures repeat the key id inside the signed payload.
  const uAt = 2 + 1 + p.length;
  const uEnd = uAt + encode(u).length;
  for (let i = 0; i < cose.length; i++) {
    const bad = cose.slice();
    bad[i] ^= 0x01;
    const code = check(bad, kp.publicKey);
    if (i >= uAt && i < uEnd) {
      if (code === 'ok') t.notDeepEqual(kidOf(decodeSign1(bad)), kid);
      continue;
    }
    t.not(code, 'ok', `byte ${i}`);
    t.regex(code, /^E_COSE_/, `byte ${i}`);
  }
  // Unprotected alg, crit and labels in both buckets are refused.
  const withU = encode(new Tag(18, [p, new Map<CborValue, CborValue>([[1, -8], [4, kid]]), payload, sig]));
  t.is(check(withU, kp.publicKey), 'E_COSE_HEADER');
  t.is(check(encode(new Tag(18, [p, u, null, sig])), kp.publicKey), 'E_COSE_STRUCTURE');
  t.is(check(new Uint8Array([0xd2, 0x84]), kp.publicKey), 'E_COSE_STRUCTURE');
});

bothEngines('COSE vectors in the engine: EdDSA-sig-01 verifies, Ed448 and ES256 are unsupported', async (t, { engine }) => {
  const ok = vector('eddsa-examples_eddsa-sig-01.json');
  t.is((await engine.call('signing.cose.check', hexToBytes(ok.output.cbor), hexToBytes(ED25519_X))).value, 'ok');
  const ed448 = vector('eddsa-examples_eddsa-sig-02.json');
  t.is((await engine.call('signing.cose.check', hexToBytes(ed448.output.cbor), hexToBytes(ed448.input.sign0!.key.x_hex!))).value, 'E_COSE_UNSUPPORTED_ALG');
  const es = vector('sign1-tests_sign-pass-01.json');
  t.is((await engine.call('signing.cose.check', hexToBytes(es.output.cbor), hexToBytes(ED25519_X))).value, 'E_COSE_UNSUPPORTED_ALG');
});
