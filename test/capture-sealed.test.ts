// Encryption at capture (issue 22, docs/FORMAT.md "Sealed segments"): the real firmware records
// with an agency evidence key installed in its signed configuration; nothing of a frame is on
// the simulated flash in the clear, the segments open with the key to the very JPEGs the sensor
// gave, an independent decryption written from docs/FORMAT.md alone (@hpke/core for the wrap,
// node:crypto ChaCha20-Poly1305 for the STREAM chunks) gives the same media, every tampering is refused
// with its code, no (key, nonce) pair is used twice, and a power cut leaves a segment the camera
// signs without reading (FLAG_UNREAD) that still opens with the key.

import test from 'ava';
import { createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { CipherSuite, HkdfSha256 } from '@hpke/core';
import { Chacha20Poly1305 } from '@hpke/chacha20poly1305';
import { DhkemX25519HkdfSha256 } from '@hpke/dhkem-x25519';
import { parseSegmentMedia } from '../firmware/encoder/frame-record.js';
import { walkSealedMedia, wrapContentKey, unwrapContentKey, SealedMediaOpener, RecordSealer, END_RECORD_LENGTH } from '../firmware/encoder/sealed-record.js';
import { FLAG_RECOVERED, FLAG_UNREAD, peekManifest, verifyManifest, type Manifest } from '../firmware/signing/manifest.js';
import { SegmentStore } from '../firmware/storage/index.js';
import { sealTwoBySeal, type AeadContext, type Cipher } from '../firmware/platform/cipher.js';
import type { BufferLike } from '../firmware/platform/buffers.js';
import { toBytes } from '../firmware/platform/buffers.js';
import { evidenceKeyPair } from '../evidence/evidence-keys.js';
import { openSealedSegment, type ExaminerKey } from '../evidence/sealed.js';
import { nodeCipher, nodeDigest } from '../host/ports.js';
import { nodeChecksum, SeededRandom } from '../host-sim/node/hardware.js';
import { synthetic } from '../host-sim/sensor/sim-camera.js';
import type { FrameSource } from '../host-sim/sensor/synthetic.js';
import { peekCertificate } from '../firmware/signing/certificate.js';
import { hostEd25519 } from '../host/ed25519-node.js';
import { openLedgerEntry } from '../firmware/recorder/ledger-verify.js';
import { TestCamera } from './helpers/recorder.js';
import type { EngineName } from '../host-sim/engine.js';

const ed = hostEd25519();

function examinerKey(seed: string): ExaminerKey {
  const secret = new Uint8Array(createHash('sha256').update(seed).digest());
  const { keyId, publicKey } = evidenceKeyPair(secret);
  return { secret, publicKey, keyId, file: `(test key ${seed})`, form: 'raw' };
}

/** A synthetic sensor that keeps a digest of every frame it hands out (before the camera seals it in place). */
function recordingSource(seen: Set<string>): (w: number, h: number) => FrameSource {
  const inner = synthetic();
  return (w, h) => {
    const s = inner(w, h);
    return {
      width: s.width,
      height: s.height,
      frame(i: number, utc: number): ArrayBuffer {
        const b = s.frame(i, utc);
        seen.add(createHash('sha256').update(new Uint8Array(b)).digest('hex'));
        return b;
      },
    };
  };
}

/** A Cipher port that records every (key, nonce) it seals under. */
function watchingCipher(inner: Cipher, pairs: string[]): Cipher {
  return {
    create(algorithm, key) {
      const k = Buffer.from(toBytes(key)).toString('hex');
      const ctx = inner.create(algorithm, key);
      const watched: AeadContext = {
        seal(nonce: BufferLike, aad: BufferLike, data: BufferLike) {
          pairs.push(`${k}:${Buffer.from(toBytes(nonce)).toString('hex')}`);
          return ctx.seal(nonce, aad, data);
        },
        sealTwo: (nonces, aad, a, b, tags) => sealTwoBySeal(watched, nonces, aad, a, b, tags),
        open: (n, a, d, t) => ctx.open(n, a, d, t),
        close: () => ctx.close(),
      };
      return watched;
    },
  };
}

interface FlashSegment {
  seq: number;
  state: string;
  manifest: Manifest;
  manifestBytes: Uint8Array;
  media: Uint8Array;
}

function flashSegments(c: TestCamera): FlashSegment[] {
  const copy = c.flash.clone();
  const store = SegmentStore.mount({ flash: new (copy.portClass())({ path: 'x' }), checksum: nodeChecksum });
  const out: FlashSegment[] = [];
  for (const s of store.segments()) {
    if (s.state === 'released' || s.state === 'open' || !s.trailer) continue;
    out.push({ seq: s.sequence, state: s.state, manifest: peekManifest(s.trailer).manifest, manifestBytes: s.trailer, media: store.readMedia(s.id, 0, s.mediaLength) });
  }
  return out;
}

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  return Buffer.from(hay.buffer, hay.byteOffset, hay.byteLength).indexOf(Buffer.from(needle));
}

/** Independent decryption from docs/FORMAT.md alone: @hpke/core opens the wrapped key, node:crypto the STREAM chunks. */
async function independentOpen(media: Uint8Array, m: Manifest, key: ExaminerKey): Promise<Uint8Array> {
  const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Chacha20Poly1305() });
  const kid = createHash('sha256').update(key.publicKey).digest().subarray(0, 8);
  const r = m.sealed!.recipients.find((x) => Buffer.from(x.kid).equals(kid))!;
  const skR = await suite.kem.importKey('raw', key.secret.slice().buffer, false);
  const ctx = await suite.createRecipientContext({ recipientKey: skR, enc: r.enc.slice().buffer, info: new TextEncoder().encode('bodycam/content-key/1') });
  const contentKey = Buffer.from(await ctx.open(r.key.slice().buffer));
  const b = Buffer.from(media.buffer, media.byteOffset, media.byteLength);
  const parts: Buffer[] = [];
  const nonce = (i: number, final: boolean) => {
    const n = Buffer.alloc(12);
    n.writeUIntBE(i, 5, 6); // the 11-byte index's low 6 bytes
    n[11] = final ? 1 : 0;
    return n;
  };
  const open = (i: number, final: boolean, aad: Buffer, ct: Buffer, tag: Buffer) => {
    const d = createDecipheriv('chacha20-poly1305', contentKey, nonce(i, final), { authTagLength: 16 });
    d.setAAD(aad, { plaintextLength: ct.length });
    d.setAuthTag(tag);
    return Buffer.concat([d.update(ct), d.final()]);
  };
  for (let o = 0; o < b.length; ) {
    if (b.toString('latin1', o, o + 2) !== 'SR' || b[o + 2] !== 2) throw new Error(`no sealed record at ${o}`);
    const h = b[o + 3];
    const r = b.readUInt32BE(o + 4);
    const len = b.readUInt32BE(o + 8);
    const aad = b.subarray(o, o + 12);
    const hdr = open(2 * r, false, aad, b.subarray(o + 12, o + 12 + h), b.subarray(o + 12 + h, o + 28 + h));
    const end = h === 12;
    const body = open(2 * r + 1, end, aad, b.subarray(o + 44 + h, o + 44 + h + len), b.subarray(o + 28 + h, o + 44 + h));
    if (!end) parts.push(hdr, body);
    o += 44 + h + len;
  }
  return new Uint8Array(Buffer.concat(parts));
}

for (const engine of ['node', 'xs'] as EngineName[]) {
  test(`[${engine}] with an evidence key installed nothing plaintext reaches the flash; each segment opens to the very JPEGs the sensor gave; no (key, nonce) twice`, async (t) => {
    const k = examinerKey('capture-sealed');
    const seen = new Set<string>();
    const pairs: string[] = [];
    const c = await TestCamera.start({
      engine, preEventSeconds: 5, segmentSeconds: 10,
      evidenceKeys: [{ keyId: k.keyId, publicKey: k.publicKey }],
      camera: { source: recordingSource(seen) },
      platform: (p) => ({ ...p, cipher: watchingCipher(p.cipher, pairs) }),
    });
    try {
      await c.run(8_000);
      await c.press();
      await c.run(25_000); // two rollovers
      await c.longPress();
      await c.run(3_000); // standby again: a new ring under a new key
      const segs = flashSegments(c);
      t.true(segs.length >= 3, `${segs.length} segments`);
      let frames = 0;
      for (const s of segs) {
        t.truthy(s.manifest.sealed, `segment ${s.seq} is sealed`);
        t.is(s.manifest.sealed!.recipients[0].kid.length, 8);
        t.deepEqual([...s.manifest.sealed!.recipients[0].kid], [...k.keyId]);
        t.is(walkSealedMedia(s.media).length, s.manifest.sealed!.records, 'the manifest counts the sealed records');
        t.is(createHash('sha256').update(s.media).digest('hex'), Buffer.from(s.manifest.media).toString('hex'), 'the signed digest is the sealed media\'s');
        const opened = openSealedSegment(s.media, s.manifest, k);
        t.true(opened.final);
        const parsed = parseSegmentMedia(opened.media);
        t.is(parsed.frames.length, s.manifest.frames);
        t.is(parsed.frames[0].header.monotonicMs, s.manifest.firstMono);
        for (const f of parsed.frames) t.true(seen.has(createHash('sha256').update(f.jpeg).digest('hex')), 'a decrypted JPEG is byte for byte one the sensor produced');
        frames += parsed.frames.length;
        // The independent decryption (not our code) gives the same media.
        t.deepEqual(Buffer.from(await independentOpen(s.media, s.manifest, k)), Buffer.from(opened.media), `segment ${s.seq}: @hpke/core + node:crypto agree`);
      }
      t.is(frames, (await c.status()).evidenceFrames);
      // Nothing of a frame on the flash: no frame or audio header, no JPEG's known bytes.
      const image = c.flash.peek(0, c.flash.size);
      const sample = new Uint8Array(synthetic()(320, 240).frame(3, Date.UTC(2026, 10, 25)));
      const needles: [string, Uint8Array][] = [
        ['frame header magic', Uint8Array.of(0x46, 0x52, 0x01, 0x30)],
        ['JPEG SOI and the bytes after it', sample.subarray(0, 8)],
        ['JPEG tables', sample.subarray(20, 52)],
        ['JPEG tail and EOI', sample.subarray(sample.length - 24)],
      ];
      t.is(sample[0], 0xff);
      t.is(sample[sample.length - 1], 0xd9);
      for (const [what, n] of needles) t.is(indexOf(image, n), -1, `${what} is not on the flash`);
      // Never the same (key, nonce) twice.
      t.true(pairs.length > 100);
      t.is(new Set(pairs).size, pairs.length, 'every (key, nonce) pair sealed under is new');
    } finally {
      await c.close();
    }
  });
}

test('a power cut while recording: the segment is recovered and signed unread (FLAG_UNREAD), and still opens with the key; the next segment has a new key', async (t) => {
  const k = examinerKey('capture-sealed-cut');
  const pairs: string[] = [];
  const c = await TestCamera.start({ engine: 'node', preEventSeconds: 5, segmentSeconds: 30, evidenceKeys: [{ keyId: k.keyId, publicKey: k.publicKey }], platform: (p) => ({ ...p, cipher: watchingCipher(p.cipher, pairs) }) });
  try {
    await c.press();
    await c.run(6_000);
    await c.powerCut();
    await c.run(3_000);
    await c.longPress();
    const segs = flashSegments(c);
    const cut = segs.find((s) => s.manifest.flags & FLAG_RECOVERED)!;
    t.truthy(cut);
    t.is(cut.manifest.flags & FLAG_UNREAD, FLAG_UNREAD);
    t.is(cut.manifest.frames, 0, 'the camera could not read it');
    const publicKey = peekCertificate(c.keys().get('identity.cert')!).publicKey;
    verifyManifest(cut.manifestBytes, publicKey, ed);
    const opened = openSealedSegment(cut.media, cut.manifest, k);
    t.false(opened.final, 'a cut ended the stream: no final chunk');
    t.true(parseSegmentMedia(opened.media).frames.length >= 25);
    // The same segment without FLAG_RECOVERED would be a truncated stream.
    t.throws(() => openSealedSegment(cut.media, { ...cut.manifest, flags: 0 }, k), { code: 'E_STREAM_TRUNCATED' } as never);
    // The recovery says so in the camera's signed ledger: sealed, signed unread.
    const recovered = c.ledgerEntries().map((e) => openLedgerEntry(e, publicKey, ed)).find((e) => e.event === 'segment-recovered')!;
    t.is(recovered.detail.get('sealed'), true);
    t.is(recovered.detail.get('frames'), 0);
    t.is(recovered.detail.get('lastUtc'), null);
    // Across the reboot too: the next segment's content key is new, so no (key, nonce) pair repeats.
    t.is(new Set(pairs).size, pairs.length);
    const after = segs.filter((s) => s.seq > cut.seq);
    t.true(after.length >= 1);
    t.notDeepEqual(after[0].manifest.sealed!.recipients[0].enc, cut.manifest.sealed!.recipients[0].enc);
  } finally {
    await c.close();
  }
});

test('storage full while sealing: the frame the store refused spends its index, END follows the hole, and every segment opens whole', async (t) => {
  const k = examinerKey('capture-sealed-full');
  const c = await TestCamera.start({ engine: 'node', blocks: 512, segmentSeconds: 10, frameRate: 15, preEventSeconds: 0, evidenceKeys: [{ keyId: k.keyId, publicKey: k.publicKey }] });
  try {
    await c.press();
    for (let i = 0; i < 40 && (await c.status()).state === 'recording'; i++) await c.run(10_000);
    const s = await c.status();
    t.is(s.state, 'storage-full');
    const segs = flashSegments(c);
    t.is(segs.length, s.segmentsSealed, 'every sealed segment is still there');
    let frames = 0;
    for (const seg of segs) {
      const opened = openSealedSegment(seg.media, seg.manifest, k);
      t.true(opened.final, `segment ${seg.seq} ends with its final chunk`);
      frames += parseSegmentMedia(opened.media).frames.length;
    }
    t.is(frames, s.evidenceFrames, 'every committed frame is kept and opens');
    // The last segment ended on the full store: its END comes after the index the refused frame spent.
    const last = walkSealedMedia(segs[segs.length - 1].media);
    t.true(last[last.length - 1].index > last[last.length - 2].index + 1, 'END follows a spent index');
  } finally {
    await c.close();
  }
});

/** A small sealed segment made directly (three records and END), for the tampering tests. */
function sealedSample(k: ExaminerKey): { media: Uint8Array; manifest: Manifest; offsets: number[] } {
  const random = new SeededRandom('tamper');
  const s = new RecordSealer({ cipher: nodeCipher, digest: nodeDigest, random, recipients: [k.publicKey] });
  const parts: Uint8Array[] = [];
  for (let i = 0; i < 3; i++) {
    const header = new Uint8Array(48).fill(i + 1);
    const body = new Uint8Array(100 + i).fill(0xa0 + i);
    const stored = s.seal(header, body).slice();
    parts.push(stored, body);
  }
  const end = s.end(0, 2);
  t0(end.length === END_RECORD_LENGTH);
  parts.push(end);
  s.close();
  const media = new Uint8Array(Buffer.concat(parts));
  const offsets = walkSealedMedia(media).map((r) => r.offset);
  const manifest = { seq: 5, flags: 0, sealed: { recipients: [...s.recipients], records: 4 } } as unknown as Manifest;
  return { media, manifest, offsets };
}
function t0(ok: boolean): void {
  if (!ok) throw new Error('sample');
}

test('tampering is refused with its code: a flipped bit, a dropped record, a truncated tail, two records swapped, another key', (t) => {
  const k = examinerKey('tamper');
  const { media, manifest, offsets } = sealedSample(k);
  t.is(parseSegmentMediaLength(openSealedSegment(media, manifest, k).media), 3 * 48 + 303);
  const rec = (i: number) => media.subarray(offsets[i], i + 1 < offsets.length ? offsets[i + 1] : media.length);
  const join = (...p: Uint8Array[]) => new Uint8Array(Buffer.concat(p));
  // A flipped bit anywhere in a chunk, a tag or the prefix.
  for (const at of [offsets[1] + 20, offsets[1] + 12 + 48 + 3, offsets[2] + 44 + 48 + 7, offsets[3] + 14]) {
    const m = media.slice();
    m[at] ^= 0x10;
    t.throws(() => openSealedSegment(m, manifest, k), { code: 'E_STREAM_AUTH' } as never, `bit flipped at ${at}`);
  }
  const lenFlip = media.slice();
  lenFlip[offsets[1] + 11] ^= 1; // the body length: the walk falls out of step
  t.throws(() => openSealedSegment(lenFlip, manifest, k), { instanceOf: Error, message: /./ } as never);
  t.regex(String((() => { try { openSealedSegment(lenFlip, manifest, k); } catch (e) { return (e as { code: string }).code; } return ''; })()), /^E_(SEALED_FORMAT|STREAM_AUTH)$/);
  // A dropped record (both its chunks).
  t.throws(() => openSealedSegment(join(rec(0), rec(2), rec(3)), manifest, k), { code: 'E_STREAM_ORDER' } as never);
  // Dropped and the index rewritten to close the hole: the chunk is then out of place.
  const moved = rec(2).slice();
  new DataView(moved.buffer).setUint32(4, 1);
  t.throws(() => openSealedSegment(join(rec(0), moved, rec(3)), manifest, k), { code: 'E_STREAM_AUTH' } as never);
  // A truncated tail: END gone, or the last records and END gone, or cut inside a record.
  t.throws(() => openSealedSegment(join(rec(0), rec(1), rec(2)), manifest, k), { code: 'E_STREAM_TRUNCATED' } as never);
  t.throws(() => openSealedSegment(join(rec(0), rec(1), rec(3)), manifest, k), { code: 'E_STREAM_TRUNCATED' } as never);
  t.throws(() => openSealedSegment(media.subarray(0, media.length - 5), manifest, k), { code: 'E_SEALED_FORMAT' } as never);
  // The head cut off: END names where the segment starts.
  t.throws(() => openSealedSegment(join(rec(1), rec(2), rec(3)), manifest, k), { code: 'E_STREAM_TRUNCATED' } as never);
  // Two records swapped.
  t.throws(() => openSealedSegment(join(rec(0), rec(2), rec(1), rec(3)), manifest, k), { code: 'E_STREAM_ORDER' } as never);
  // Bytes after the final chunk.
  t.throws(() => openSealedSegment(join(media, rec(3)), manifest, k), { code: 'E_STREAM_TRUNCATED' } as never);
  // Another evidence key: not a recipient; a key that claims a recipient's id but is not its key.
  t.throws(() => openSealedSegment(media, manifest, examinerKey('another')), { code: 'E_EVIDENCE_KEY_UNKNOWN' } as never);
  const impostor = { ...k, secret: examinerKey('impostor').secret };
  t.throws(() => openSealedSegment(media, manifest, impostor), { code: 'E_HPKE_OPEN' } as never);
  // Re-wrapped to another key: whoever holds the content key wraps it to a key of their own.
  const other = examinerKey('rewrap');
  const env = { digest: nodeDigest, cipher: nodeCipher };
  const { key: contentKey } = unwrapContentKey(env, manifest.sealed!.recipients, k.secret, k.publicKey);
  const rewrapped = wrapContentKey(env, other.publicKey, contentKey, new Uint8Array(randomBytes(32)));
  const forged = { ...manifest, sealed: { recipients: [rewrapped], records: 4 } } as Manifest;
  t.is(parseSegmentMediaLength(openSealedSegment(media, forged, other).media), 3 * 48 + 303, 'the re-wrap opens for its maker…');
  t.throws(() => openSealedSegment(media, manifest, other), { code: 'E_EVIDENCE_KEY_UNKNOWN' } as never, '…but not under the camera\'s signed recipients');
  const opener = new SealedMediaOpener(nodeCipher, contentKey);
  t.is(opener.open(media).records, 3);
  opener.close();
});

function parseSegmentMediaLength(m: Uint8Array): number {
  return m.length;
}
