// A segment a power cut left open, from the store to the dock: the store brings it back
// `recovered`, the recorder's EvidenceKeeper signs its manifest at the next boot and attaches it
// as the segment's trailer (SegmentStore.attachTrailer) instead of keeping it in the KeyStore;
// a manifest an earlier firmware left in the KeyStore ("rm.<seq>") is moved into the store; a
// store with no block for it keeps it in the KeyStore and the chain stays whole; and a
// recovered segment with its trailer uploads to a real dock station like a sealed one.

import test, { type ExecutionContext } from 'ava';
import { decode, encode } from '../firmware/codec/cbor.js';
import { FrameFlags, FrameHeaderEncoder, MEDIA_FORMAT } from '../firmware/encoder/frame-record.js';
import { EvidenceKeeper, encodeMeta, KEY_CHAIN_HEAD, recoveredKey, type SegmentMeta } from '../firmware/recorder/evidence.js';
import { FLAG_CLEAN_CLOSE, FLAG_RECOVERED, manifestDigest, verifyManifest } from '../firmware/signing/manifest.js';
import { KeyPairSigner } from '../firmware/signing/signer.js';
import { sha256Of } from '../firmware/platform/soft-digest.js';
import { SegmentStore } from '../firmware/storage/index.js';
import { ENGINES } from '../host-sim/engine.js';
import { SimFlash } from '../host-sim/flash/sim-flash.js';
import { MemoryKeyStores, nodeChecksum, nodeDigest, VirtualClock } from '../host-sim/node/hardware.js';
import { dock, startCamera, startStation } from './helpers/dock.js';
import { eq } from './helpers/storage-check.js';

const META: SegmentMeta = { recording: 3, boot: 1, flags: 0, format: MEDIA_FORMAT, width: 320, height: 240, frameRate: 15 };

/** A camera's evidence side on Node: flash, KeyStore, signer; boot() mounts and makes a keeper as the recorder does. */
function camera(blocks = 64) {
  const flash = new SimFlash({ blockLength: 4096, blocks });
  const Port = flash.portClass();
  const keyStores = new MemoryKeyStores();
  const keys = keyStores.open({ path: 'bodycam' });
  const clock = new VirtualClock();
  const signer = new KeyPairSigner({ seed: new Uint8Array(32).fill(9), digest: nodeDigest });
  const header = new FrameHeaderEncoder();
  let frameNo = 0;
  let boot = 1;
  const opts = () => ({ flash: new Port({ path: 'bodycam-store' }), checksum: nodeChecksum, clock });
  let store = SegmentStore.format({ ...opts(), firstSequence: 0 });
  const keeper = () => new EvidenceKeeper({ store, keyStore: keys, signer, digest: nodeDigest, clock, device: 'CAM-0001', firmware: '0.1.0', boot });
  let k = keeper();
  return {
    flash,
    keys,
    signer,
    get store() {
      return store;
    },
    get keeper() {
      return k;
    },
    /** Frames into a new segment; sealed through the keeper unless `open` (the power goes). */
    record(frames: number, open = false): number {
      const w = store.openSegment(encodeMeta(META));
      const b = k.builder(w.sequence, META);
      for (let f = 0; f < frames; f++) {
        clock.advanceTo(clock.monotonic() + 66);
        const body = new Uint8Array(3000 + f).fill(frameNo & 255);
        const h = header.encode({
          flags: FrameFlags.KEYFRAME | (f === 0 ? FrameFlags.FIRST : 0), width: 320, height: 240, frameRate: 15, clockSource: 'rtc',
          frameNumber: frameNo++, monotonicMs: clock.monotonic(), utcMs: clock.utc(), droppedBefore: 0, gapMs: 66, droppedTotal: 0, jpegLength: body.length,
        });
        b.addFrame(h, body, { mono: clock.monotonic(), utc: clock.utc() });
        w.append(h, body);
      }
      if (!open) {
        const signed = b.finish({ signer, clock: clock.source(), flags: FLAG_CLEAN_CLOSE });
        w.seal(signed.bytes);
        k.sealed(signed);
      }
      return w.id;
    },
    /** Power cycle: mount the same flash (an open segment comes back recovered) and a new keeper. */
    reboot(): void {
      boot++;
      store = SegmentStore.mount(opts());
      k = keeper();
    },
  };
}

function headOf(keys: { get(k: string): ArrayBuffer | undefined }): { seq: number; digest: Uint8Array } {
  const v = decode(new Uint8Array(keys.get(KEY_CHAIN_HEAD)!)) as [number, Uint8Array];
  return { seq: v[0], digest: v[1] };
}

function checkRecoveredManifest(t: ExecutionContext, c: ReturnType<typeof camera>, id: number, prev: Uint8Array): Uint8Array {
  const info = c.store.segment(id);
  t.is(info.state, 'recovered');
  t.truthy(info.trailer, 'the manifest is the trailer');
  const m = verifyManifest(info.trailer!, c.signer.publicKey);
  t.is(m.seq, info.sequence);
  t.true((m.flags & FLAG_RECOVERED) !== 0);
  t.true(eq(m.prev, prev), 'chained to the manifest before it');
  t.is(m.bytes, info.mediaLength);
  t.true(eq(m.media, sha256Of(nodeDigest, c.store.readMedia(id, 0, info.mediaLength))), 'the manifest covers the frames the store kept');
  return info.trailer!;
}

test('a recovered segment gets its manifest as its trailer, not a KeyStore key; the head follows; the next boot has nothing to do', (t) => {
  const c = camera();
  c.record(3);
  const sealedManifest = c.store.segments()[0].trailer!;
  const open = c.record(4, true);
  c.reboot();
  t.is(c.store.segment(open).state, 'recovered');
  t.is(c.store.segment(open).trailer, undefined);
  const recovered = c.keeper.sealRecovered();
  t.deepEqual(recovered.map((r) => [r.seq, r.frames, r.recording]), [[1, 4, 3]]);
  const manifest = checkRecoveredManifest(t, c, open, manifestDigest(sealedManifest, nodeDigest));
  t.is(c.keys.get(recoveredKey(1)), undefined, 'no rm.<seq> in the KeyStore');
  t.deepEqual(headOf(c.keys), { seq: 1, digest: manifestDigest(manifest, nodeDigest) });
  // It awaits upload like the sealed one, and reads back.
  t.deepEqual(c.keeper.pending().map((p) => [p.seq, p.length]), [[0, c.store.segments()[0].mediaLength], [1, c.store.segment(open).mediaLength]]);
  t.true(eq(c.keeper.pending()[1].manifest, manifest));
  t.true(eq(c.keeper.read(1, 10, 100), c.store.readMedia(open, 10, 100)));
  // Another boot: nothing to sign again, the head comes from the store, a new segment chains on.
  c.reboot();
  t.deepEqual(c.keeper.sealRecovered(), []);
  t.is(c.keeper.head()!.seq, 1);
  const next = c.record(2);
  t.true(eq(verifyManifest(c.store.segment(next).trailer!, c.signer.publicKey).prev, manifestDigest(manifest, nodeDigest)));
});

test('a power cut between the trailer and the chain head: the boot takes the head from the store', (t) => {
  const c = camera();
  c.record(2);
  const open = c.record(3, true);
  c.reboot();
  const before = c.keys.get(KEY_CHAIN_HEAD)!;
  c.keeper.sealRecovered();
  // As if the cut came right after attachTrailer: chain.head still names segment 0.
  c.keys.set(KEY_CHAIN_HEAD, before);
  c.reboot();
  t.deepEqual(c.keeper.sealRecovered(), []);
  t.deepEqual(c.keeper.head(), { seq: 1, digest: manifestDigest(c.store.segment(open).trailer!, nodeDigest) });
});

test('an rm.<seq> manifest an earlier firmware kept in the KeyStore uploads as it is, and a boot moves it into the store', (t) => {
  const c = camera();
  c.record(2);
  const open = c.record(3, true);
  c.reboot();
  // What the earlier firmware did at boot: sign, keep the manifest as rm.<seq>, persist the head.
  const b = c.keeper.builder(1, META);
  let mono = 0;
  for (const r of c.store.records(open)) b.addFrame(r.header, r.body, { mono: (mono += 66), utc: 1000 + mono });
  const signed = b.finish({ signer: c.signer, clock: { source: 'rtc', lastSync: 0 }, flags: FLAG_RECOVERED });
  c.keys.set(recoveredKey(1), signed.bytes);
  c.keys.set(KEY_CHAIN_HEAD, encode([1, signed.digest]));
  c.reboot();
  // Before the move: the keeper offers the KeyStore's manifest.
  t.true(eq(c.keeper.pending().find((p) => p.seq === 1)!.manifest, signed.bytes));
  t.deepEqual(c.keeper.sealRecovered(), [], 'nothing is signed again');
  t.true(eq(c.store.segment(open).trailer, signed.bytes), 'the same manifest, now the trailer');
  t.is(c.keys.get(recoveredKey(1)), undefined, 'the key is gone');
  t.true(eq(c.keeper.pending().find((p) => p.seq === 1)!.manifest, signed.bytes));
  t.deepEqual(c.keeper.head(), { seq: 1, digest: signed.digest });
});

test('no free block for the trailer: the manifest waits in the KeyStore, uploads from there, and the chain stays whole', (t) => {
  const c = camera();
  c.record(2);
  const open = c.record(3, true);
  c.reboot();
  // Every free block is worn out: erasing one for the trailer fails, the store retires them all.
  const data = 2 * c.store.geometry.slotBlocks;
  for (let b = data; b < c.store.geometry.blocks; b++) c.flash.weakBlocks.set(b, 0);
  const recovered = c.keeper.sealRecovered();
  t.deepEqual(recovered.map((r) => r.seq), [1]);
  t.is(c.store.segment(open).trailer, undefined);
  const kept = new Uint8Array(c.keys.get(recoveredKey(1))!);
  t.is(verifyManifest(kept, c.signer.publicKey).seq, 1);
  t.deepEqual(c.keeper.head(), { seq: 1, digest: manifestDigest(kept, nodeDigest) });
  t.deepEqual(c.keeper.pending().map((p) => p.seq), [0, 1]);
  t.true(eq(c.keeper.pending()[1].manifest, kept));
  // The next boot tries again (still no room), keeps the key and signs nothing new.
  c.reboot();
  t.deepEqual(c.keeper.sealRecovered(), []);
  t.true(eq(new Uint8Array(c.keys.get(recoveredKey(1))!), kept));
});

test('a session lists the store once: reads by chunk use the list; a seal, a recovered manifest or a new checkpoint lists again', (t) => {
  const c = camera();
  c.record(3);
  c.record(2, true);
  c.reboot();
  let listed = 0;
  const store = c.store;
  const segments = store.segments.bind(store);
  store.segments = () => {
    listed++;
    return segments();
  };
  const k = c.keeper;
  k.checkpoint(new Uint8Array(32));
  for (let i = 0; i < 5; i++) {
    k.pending();
    k.read(0, i * 100, 100);
  }
  t.is(listed, 1, 'one listing for the whole session');
  k.sealRecovered(); // lists what is recovered, attaches its trailer
  t.deepEqual(k.pending().map((p) => p.seq), [0, 1], 'the attached manifest is listed');
  const afterRecovered = listed;
  c.record(2);
  t.deepEqual(k.pending().map((p) => p.seq), [0, 1, 2], 'a seal is listed');
  t.is(listed, afterRecovered + 1);
  k.checkpoint(new Uint8Array(32));
  k.pending();
  t.is(listed, afterRecovered + 2, 'the next session lists afresh');
});

for (const engine of ENGINES) {
  test(`[${engine}] a segment recovered after a power cut uploads with its attached manifest; the dock verifies it and the camera frees it`, async (t) => {
    const { station, port } = await startStation();
    const camera = await startCamera(engine);
    try {
      const made = (await camera.engine.call('dock.camera.record', { segments: 2, frames: 3, bodyBytes: 2000, cutAfter: 4 })).value as number[];
      t.deepEqual(made, [0, 1]);
      await camera.engine.call('dock.camera.reboot');
      const before = await camera.status();
      t.deepEqual(before.pending, [0, 1, 2], 'the recovered segment awaits upload with its trailer');
      const s = await dock(camera, port);
      await station.idle();
      const r = station.results[0];
      t.true(r.ok, `${r.code} ${r.message}`);
      t.deepEqual(r.stored, [0, 1, 2]);
      t.deepEqual(s.pending, []);
      t.deepEqual(s.released.sort((a, b) => a - b), [0, 1, 2]);
      t.is(s.awaitingUpload, 0);
      t.is(station.store.segment('CAM-0001', 2)!.state, 'stored');
    } finally {
      await camera.close();
      await station.close();
    }
  });
}
