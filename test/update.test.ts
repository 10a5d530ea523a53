// The camera side of a firmware update, on Node and inside XS: a camera provisioned with the
// firmware key, running a factory image in slot A, is offered images. A good one is installed
// into slot B and boots; each bad one is refused with its code, and the old firmware still
// boots, byte for byte. The evidence partition on the same chip is never touched.

import type { ExecutionContext } from 'ava';
import { isMap, type CborValue } from '../firmware/codec/cbor.js';
import test from 'ava';
import { ENGINES, startEngine } from '../host-sim/engine.js';
import { SimHardware } from '../host-sim/node/hardware.js';
import type { EngineFixture } from './helpers/engines.js';
import { BOARD, cameraChip, firmwareSigner, keyStorePort, payloadOf, signedImage } from '../host-sim/update/fixture.js';

const signer = firmwareSigner();
const factory = payloadOf(9000, 0);
const next = payloadOf(12000, 1);

type Rec = Record<string, CborValue>;
const rec = (v: CborValue | undefined): Rec => {
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), isMap(x) ? rec(x) : x]));
  if (v && typeof v === 'object' && !(v instanceof Uint8Array) && !Array.isArray(v)) return v as Rec;
  throw new Error(`not a record: ${String(v)}`);
};

async function call(f: EngineFixture, name: string, ...args: CborValue[]): Promise<CborValue> {
  return (await f.engine.call(name, ...args)).value as CborValue;
}

async function camera(f: EngineFixture): Promise<void> {
  await call(f, 'update.provision', [signer.publicKey]);
  await call(f, 'update.factory', factory);
}

async function booted(t: ExecutionContext, f: EngineFixture, payload: Uint8Array, why: string): Promise<void> {
  const slot = (await call(f, 'update.slot')) as Uint8Array;
  t.deepEqual(slot, payload, why);
}

interface Camera extends EngineFixture {
  chip: ReturnType<typeof cameraChip>;
}

/** One test per engine on a fresh camera: its own chip (evidence + OTA partitions) and KeyStore. */
function cameraTest(title: string, body: (t: ExecutionContext, f: Camera) => Promise<void>): void {
  for (const name of ENGINES) {
    test(`[${name}] ${title}`, async (t) => {
      const hw = new SimHardware();
      const chip = cameraChip();
      chip.attach(hw);
      const engine = await startEngine(name, { ...hw.platform(), KeyStore: keyStorePort() });
      try {
        await body(t, { engine, hw, chip });
      } finally {
        await engine.close();
      }
    });
  }
}

const untouched = (f: Camera) => Buffer.from(f.chip.chip.peek(0, f.chip.storeBytes)).equals(Buffer.from(f.chip.evidence));

cameraTest('a signed newer image installs into the other slot, boots, and raises the security counter', async (t, f) => {
  await camera(f);
  t.like(rec(await call(f, 'update.boot')), { slot: 0, seq: 1, length: factory.length });
  const image = signedImage(next, { version: '1.2.0' });
  const r = rec(await call(f, 'update.install', image, 1000, BOARD));
  t.is(r.code, 'OK', String(r.message));
  t.like(rec(r.image), { version: '1.2.0', board: BOARD, payloadLength: next.length });
  t.like(rec(await call(f, 'update.boot')), { slot: 1, seq: 2, length: next.length });
  await booted(t, f, next, 'the new payload boots');
  t.is(await call(f, 'update.counter'), (1 << 24) + (2 << 16));
  // and the one after that goes back into slot A
  const third = payloadOf(7000, 2);
  t.is(rec(await call(f, 'update.install', signedImage(third, { version: '1.3.0' }), 4096, BOARD)).code, 'OK');
  t.like(rec(await call(f, 'update.boot')), { slot: 0, seq: 3 });
  await booted(t, f, third, 'the third payload boots from slot A');
  t.true(untouched(f), 'the evidence partition is untouched');
});

const image = signedImage(next, { version: '1.2.0' });
const prot = 32 + next.length;
const flipped = (at: number) => {
  const b = image.slice();
  b[at] ^= 0x20;
  return b;
};

const refusals: [string, () => Uint8Array, string, string?][] = [
  ['a tampered payload byte', () => flipped(32 + 5000), 'E_FW_HASH'],
  ['a tampered header byte', () => flipped(22), 'E_FW_HASH'],
  ['a tampered protected TLV byte', () => flipped(prot + 9), 'E_FW_HASH'],
  ['a tampered signature TLV byte', () => flipped(image.length - 3), 'E_FW_SIGNATURE'],
  ['a wrong key', () => signedImage(next, { version: '1.2.0', signer: firmwareSigner(9) }), 'E_FW_KEY'],
  ['an older version (below the security counter)', () => signedImage(next, { version: '0.9.0' }), 'E_FW_ROLLBACK'],
  ['a truncated image', () => image.subarray(0, image.length - 40), 'E_FW_TRUNCATED'],
  ['an image for another board', () => signedImage(next, { version: '1.2.0', board: 'm5atom_s3r_cam' }), 'E_FW_BOARD'],
];

for (const [what, make, code] of refusals) {
  cameraTest(`${what} is refused with ${code} and the old firmware still boots`, async (t, f) => {
    await camera(f);
    // a counter above 0.9.0's: the camera has run 1.0.0 before
    t.is(rec(await call(f, 'update.install', signedImage(factory, { version: '1.0.0' }), 4096, BOARD)).code, 'OK');
    const before = rec(await call(f, 'update.boot'));
    const r = rec(await call(f, 'update.install', make(), 2048, BOARD));
    t.is(r.code, code, String(r.message));
    t.deepEqual(rec(await call(f, 'update.boot')), before, 'the boot record is unchanged');
    await booted(t, f, factory, 'the old payload still boots');
    t.is(await call(f, 'update.counter'), 1 << 24, 'the security counter is unchanged');
    t.true(untouched(f));
  });
}

cameraTest('chunks: a wrong offset is refused but not fatal (tus); finish before the end is E_FW_TRUNCATED', async (t, f) => {
  await camera(f);
  let r = rec(await call(f, 'update.begin', image.subarray(0, 32), image.length, BOARD));
  t.is(r.code, 'OK');
  t.is(r.offset, 32);
  r = rec(await call(f, 'update.write', 32, image.subarray(32, 5000)));
  t.like(r, { code: 'OK', offset: 5000 });
  r = rec(await call(f, 'update.write', 4000, image.subarray(4000, 6000)));
  t.like(r, { code: 'E_FW_OFFSET', offset: 5000 });
  r = rec(await call(f, 'update.write', 5000, image.subarray(5000, 9000)));
  t.like(r, { code: 'OK', offset: 9000 });
  r = rec(await call(f, 'update.finish'));
  t.is(r.code, 'E_FW_TRUNCATED');
  t.is(rec(await call(f, 'update.write', 9000, image.subarray(9000))).code, 'E_FW_TRUNCATED', 'a refused session stays refused');
  await booted(t, f, factory, 'still the factory image');
  // the whole image again, in odd chunks, installs
  r = rec(await call(f, 'update.begin', image.subarray(0, 32), image.length, BOARD));
  for (let at = 32; r.code === 'OK' && at < image.length; at += 999) r = rec(await call(f, 'update.write', at, image.subarray(at, Math.min(image.length, at + 999))));
  t.is(r.code, 'OK');
  t.is(rec(await call(f, 'update.finish')).code, 'OK');
  await booted(t, f, next, 'installed');
});

cameraTest('a camera with no firmware key refuses every image (E_FW_NO_KEY); an image too large for a slot is E_FW_TOO_LARGE', async (t, f) => {
  await call(f, 'update.factory', factory);
  t.is(rec(await call(f, 'update.install', image, 4096, BOARD)).code, 'E_FW_NO_KEY');
  await call(f, 'update.provision', [signer.publicKey]);
  const big = signedImage(payloadOf(8 * 4096 + 1, 5), { version: '2.0.0' });
  t.is(rec(await call(f, 'update.install', big, 4096, BOARD)).code, 'E_FW_TOO_LARGE');
  await booted(t, f, factory, 'still the factory image');
});
