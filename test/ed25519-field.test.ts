// The fast Ed25519's field arithmetic (15 signed limbs of 17 bits) against BigInt, at the limb
// bounds the point formulas rely on (|limb| up to 2^20), and the generated sources
// (field-mul.ts, base-table.ts) equal to what their generators produce now.

import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../host-sim/xs/bundle.js';
import { fe, fromBytes, invert, isNegative, mul, sqr, toBytes, type Fe } from '../firmware/signing/fast/field.js';

const P = 2n ** 255n - 19n;

/** Deterministic bytes (xorshift32), as in ed25519-fast.test.ts. */
function randomBytesFrom(seed: number): (n: number) => Uint8Array {
  let s = seed >>> 0 || 1;
  return (n) => Uint8Array.from({ length: n }, () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s & 255;
  });
}
const mod = (a: bigint) => ((a % P) + P) % P;
const value = (f: Fe) => mod(Array.from(f).reduceRight((acc, l) => acc * 131072n + BigInt(l), 0n));
const bytesValue = (b: Uint8Array) => b.reduceRight((acc, x) => acc * 256n + BigInt(x), 0n);

/** A field element with limbs uniformly in (-bound, bound). */
function randomFe(rnd: (n: number) => Uint8Array, bound: number): Fe {
  const b = rnd(60);
  return fe(Array.from({ length: 15 }, (_, i) => ((b[4 * i] | (b[4 * i + 1] << 8) | (b[4 * i + 2] << 16)) % (2 * bound)) - bound));
}

test('multiply, square, invert and encode agree with BigInt for limbs up to 2^20', (t) => {
  const rnd = randomBytesFrom(0xf1e1d);
  const o = fe(), out = new Uint8Array(32);
  const edges = [fe(Array(15).fill(2 ** 20 - 1)), fe(Array(15).fill(-(2 ** 20 - 1))), fe([-19]), fe([-1]), fe()];
  const cases = [...edges, ...Array.from({ length: 500 }, (_, i) => randomFe(rnd, i % 2 ? 2 ** 20 : 2 ** 17))];
  let failures = 0;
  for (let i = 0; i < cases.length; i++) {
    const a = cases[i], b = cases[(i * 7 + 3) % cases.length];
    mul(o, a, b);
    if (value(o) !== mod(value(a) * value(b))) failures++;
    sqr(o, a);
    if (value(o) !== mod(value(a) * value(a))) failures++;
    toBytes(out, a);
    if (bytesValue(out) !== value(a)) failures++; // canonical: < p
    if (isNegative(a) !== Number(value(a) & 1n)) failures++;
    if (i % 50 === 0 && value(a) !== 0n) {
      invert(o, a);
      if (mod(value(o) * value(a)) !== 1n) failures++;
    }
  }
  t.is(failures, 0);
});

test('decoding ignores bit 255 and keeps y >= p unreduced until encoded', (t) => {
  const o = fe(), out = new Uint8Array(32);
  for (const v of [P - 1n, P, P + 1n, 2n ** 255n - 1n]) {
    const b = Uint8Array.from({ length: 32 }, (_, i) => Number((v >> BigInt(8 * i)) & 255n));
    b[31] |= 0x80;
    fromBytes(o, b);
    toBytes(out, o);
    t.is(bytesValue(out), mod(v));
  }
});

test('the generated field code and base table are what the generators produce', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bodycam-ed25519-'));
  for (const [tool, file] of [['gen-field.mjs', 'field-mul.ts'], ['gen-base-table.mjs', 'base-table.ts']]) {
    execFileSync(process.execPath, [join(repoRoot, 'firmware/signing/fast/tools', tool), join(dir, file)]);
    t.is(readFileSync(join(dir, file), 'utf8'), readFileSync(join(repoRoot, 'firmware/signing/fast', file), 'utf8'), `${file} is stale: run tools/${tool}`);
  }
});
