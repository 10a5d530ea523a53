// The next segment's content key, prepared in timer slices while a segment is open
// (firmware/recorder/key-wrap.ts), so a rollover only takes a ready key (issue 22, ROLLOVER).
// What these tests watch: the sliced wrap is SealBase byte for byte (the same bytes RecordSealer's
// one-piece wrap gives for the same random draws) and opens with @hpke/core; no slice runs more
// than a few dozen ladder steps; every key and ephemeral secret is zeroed when closed or used; a
// recording takes the prepared key at each rollover (status keys.ahead) and wraps on the spot only
// when none is ready (the first stream after a boot); and a power cut while a next key is ready
// leaves none of its bytes on the flash or in the key store.

import test from 'ava';
import { createHash } from 'node:crypto';
import { CipherSuite, HkdfSha256 } from '@hpke/core';
import { Chacha20Poly1305 } from '@hpke/chacha20poly1305';
import { DhkemX25519HkdfSha256 } from '@hpke/dhkem-x25519';
import { ContentKeyWrap } from '../firmware/recorder/key-wrap.js';
import { contentKeyInfo, RecordSealer } from '../firmware/encoder/sealed-record.js';
import { X25519Ladder, X25519_LADDER_STEPS, x25519 } from '../firmware/signing/x25519.js';
import type { Random } from '../firmware/platform/random.js';
import { evidenceKeyPair } from '../evidence/evidence-keys.js';
import { nodeCipher } from '../host/ports.js';
import { nodeDigest, SeededRandom } from '../host-sim/node/hardware.js';
import { TestCamera } from './helpers/recorder.js';

function keyPair(seed: string): { secret: Uint8Array; publicKey: Uint8Array; keyId: Uint8Array } {
  const secret = new Uint8Array(createHash('sha256').update(seed).digest());
  return { secret, ...evidenceKeyPair(secret) };
}

/** A Random port that keeps every array it filled and a copy of what it put there. */
class KeptRandom implements Random {
  readonly inner: Random;
  readonly filled: { array: Uint8Array; value: Uint8Array }[] = [];
  constructor(seed: string) {
    this.inner = new SeededRandom(seed);
  }
  fill(bytes: Uint8Array): void {
    this.inner.fill(bytes);
    this.filled.push({ array: bytes, value: bytes.slice() });
  }
}

const zero = (b: Uint8Array) => b.every((x) => x === 0);

test('the X25519 ladder run in slices of any size gives x25519\'s output', (t) => {
  const k = keyPair('ladder').secret;
  const u = keyPair('ladder-u').publicKey;
  const whole = x25519(k, u);
  for (const n of [1, 7, 16, 64, 254, 255, 1000]) {
    const l = new X25519Ladder(k, u);
    let slices = 1;
    while (!l.step(n)) slices++;
    t.is(slices, Math.ceil(X25519_LADDER_STEPS / Math.min(n, X25519_LADDER_STEPS)));
    t.deepEqual(l.result(), whole);
  }
  const early = new X25519Ladder(k, u);
  early.step(10);
  t.throws(() => early.result(), { message: /E_ARGUMENT/ });
});

test('the wrap made in slices is the one-piece wrap byte for byte, and @hpke/core opens it', async (t) => {
  const a = keyPair('evidence-a');
  const b = keyPair('evidence-b');
  const recipients = [a.publicKey, b.publicKey];
  const w = new ContentKeyWrap({ cipher: nodeCipher, digest: nodeDigest, random: new SeededRandom('wrap'), recipients });
  let slices = 1;
  while (!w.step()) slices++;
  t.true(w.ready);
  // Two ladders a recipient, 16 steps a slice: 16 slices each, the last one of each also its key schedule.
  t.is(slices, recipients.length * 2 * Math.ceil(X25519_LADDER_STEPS / 16));
  const prepared = w.take();
  t.throws(() => w.take(), { message: /E_ARGUMENT/ }, 'handed over once');
  const inOnePiece = new RecordSealer({ cipher: nodeCipher, digest: nodeDigest, random: new SeededRandom('wrap'), recipients });
  t.deepEqual(prepared.recipients, [...inOnePiece.recipients], 'the same kid, enc and wrapped key for the same random draws');
  inOnePiece.close();

  const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Chacha20Poly1305() });
  for (const [i, k] of [a, b].entries()) {
    const r = prepared.recipients[i];
    t.deepEqual(r.kid, k.keyId);
    const recipientKey = await suite.kem.importKey('raw', k.secret.buffer.slice(k.secret.byteOffset, k.secret.byteOffset + 32) as ArrayBuffer, false);
    const opened = await suite.open({ recipientKey, enc: r.enc.slice().buffer, info: contentKeyInfo().slice().buffer }, r.key.slice().buffer);
    t.deepEqual(new Uint8Array(opened), prepared.key, `evidence key ${i} opens the content key`);
  }

  // The sealer owns the prepared key from here and zeroes it when its stream ends.
  const sealer = new RecordSealer({ cipher: nodeCipher, digest: nodeDigest, random: new SeededRandom('unused'), recipients, prepared });
  t.deepEqual([...sealer.recipients], prepared.recipients);
  sealer.close();
  t.true(zero(prepared.key), 'closing the stream zeroed the prepared key');
});

test('a wrap closed before it is taken, half way or ready, zeroes its key and its ephemeral seeds', (t) => {
  const recipients = [keyPair('evidence-a').publicKey];
  for (const slices of [0, 5, 40, Infinity]) {
    const random = new KeptRandom(`close-${slices}`);
    const w = new ContentKeyWrap({ cipher: nodeCipher, digest: nodeDigest, random, recipients });
    for (let i = 0; i < slices && !w.ready; i++) w.step();
    t.is(random.filled.length, 2, 'the content key, then one ephemeral seed');
    t.false(zero(random.filled[0].value));
    w.close();
    t.true(random.filled.every((f) => zero(f.array)), `after ${slices} slices: every random byte it drew is zeroed`);
    t.throws(() => w.take(), { message: /E_ARGUMENT/ });
  }
});

test('a recording takes the prepared key at each rollover, wraps on the spot only when none is ready, and a power cut leaves no byte of a prepared key behind', async (t) => {
  const k = keyPair('rollover-key');
  let random: KeptRandom | undefined;
  let boots = 0;
  const c = await TestCamera.start({
    engine: 'node', frameRate: 10, segmentSeconds: 5, preEventSeconds: 0,
    evidenceKeys: [{ keyId: k.keyId, publicKey: k.publicKey }],
    platform: (p) => ({ ...p, random: (random = new KeptRandom(`boot-${boots++}`)) }),
  });
  // What the camera draws from here on: every key prepared in slices (the identity and the ring's first key came before).
  const first = random!.filled.length;
  const kept = random!;
  try {
    await c.run(1000);
    t.deepEqual((await c.status()).keys, { ahead: 0, inline: 1 }, 'the ring opened after the boot: nothing was ready, wrapped on the spot');
    await c.press();
    await c.run(11_000); // two rollovers
    t.deepEqual((await c.status()).keys, { ahead: 2, inline: 1 }, 'both rollovers took a key prepared in slices');
    const segs = c.segments(undefined).sort((x, y) => x.seq - y.seq);
    t.is(segs.length, 2, 'two segments closed by the rollovers');
    const sealed = segs.map((s) => s.manifest.sealed!.recipients[0].enc);
    t.notDeepEqual(sealed[0], sealed[1], 'each segment its own encapsulation');

    // By now the third segment is open and the fourth's key is ready in RAM. Cut the power.
    const drawn = kept.filled.slice(first).filter((f) => f.value.length === 32).map((f) => Buffer.from(f.value));
    t.is(drawn.length, 2 * 3, 'three keys prepared (the two rollovers\' and the next one), each a content key and an ephemeral seed');
    const status = await c.powerCutNow();
    t.true(status.powerCutDetected);
    const image = Buffer.from(c.flash.peek(0, c.flash.size));
    const stored = [...c.keys().values()].map((v) => Buffer.from(v));
    t.deepEqual(drawn.filter((d) => image.includes(d) || stored.some((s) => s.includes(d))).length, 0, 'no content key or ephemeral seed is on the flash or in the key store');
    t.deepEqual(status.keys, { ahead: 0, inline: 1 }, 'after the boot nothing is ready: the ring\'s key is wrapped on the spot');
  } finally {
    await c.close();
  }
});

test('a stop zeroes the closed segment\'s key; the one prepared behind it becomes the pre-event ring\'s (not wrapped again), zeroed when the ring ends', async (t) => {
  const k = keyPair('stop-key');
  let random: KeptRandom | undefined;
  const c = await TestCamera.start({
    engine: 'node', frameRate: 10, segmentSeconds: 5, preEventSeconds: 0,
    evidenceKeys: [{ keyId: k.keyId, publicKey: k.publicKey }],
    platform: (p) => ({ ...p, random: (random = new KeptRandom('stop')) }),
  });
  const first = random!.filled.length;
  try {
    await c.press();
    await c.run(7_000); // one rollover: the second segment open, the third's key ready
    const s = await c.status();
    t.is(s.state, 'recording');
    t.deepEqual(s.keys, { ahead: 1, inline: 1 });
    const upToStop = random!.filled.length;
    t.is(upToStop - first, 2 * 2, 'two keys prepared (the rollover\'s and the next one), each a content key and an ephemeral seed');
    await c.longPress();
    const after = await c.status();
    t.is(after.state, 'standby');
    t.deepEqual(after.keys, { ahead: 2, inline: 1 }, 'the ring took the key prepared while recording');
    const [segmentKey, segmentSeed, ringKey, ringSeed] = random!.filled.slice(first, upToStop);
    t.true(zero(segmentKey.array) && zero(segmentSeed.array), "the closed segment's key and its ephemeral seed are zeroed");
    t.true(zero(ringSeed.array), "the ring's ephemeral seed is zeroed once its key is wrapped");
    t.false(zero(ringKey.array), "the ring's content key is in RAM while the ring is open");
    await c.engine.call('recorder.off'); // switched off: the ring ends
    t.true(zero(ringKey.array), 'and zeroed when the ring ends');
  } finally {
    await c.close();
  }
});
