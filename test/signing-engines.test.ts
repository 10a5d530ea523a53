// The signing code runs unchanged in XS: the same frames and the same key give byte-identical
// manifests, signatures and chain digests on Node and in XS, and the verifier in XS reaches the
// same verdicts as on Node.

import test from 'ava';
import type { CborValue } from '../firmware/codec/cbor.js';
import { verifyManifest } from '../firmware/signing/manifest.js';
import { verifyEvidence, type EvidenceReport } from '../firmware/signing/verifier.js';
import type { Engine } from '../host-sim/engine.js';
import { withBoth } from './helpers/engines.js';
import { Agency, Camera, concat, digest, frame, scenario, seedOf, sha256, T0 } from './helpers/signing.js';

const get = (v: CborValue, k: string) => (v as Map<string, CborValue>).get(k);

async function recordOn(engine: Engine, device: string, seed: Uint8Array, segments: number) {
  const out: { manifest: Uint8Array; digest: Uint8Array; media: Uint8Array }[] = [];
  let prev: Uint8Array | null = null;
  for (let seq = 0; seq < segments; seq++) {
    await engine.call('signing.segment.open', { device, seq, boot: 2, recording: 7, prev, format: { format: 'jpeg', width: 640, height: 480 }, firmware: '0.1.0', flags: seq === 0 ? 1 : 0 });
    const frames: CborValue[] = [];
    const parts: Uint8Array[] = [];
    for (let i = 0; i < 6; i++) {
      const f = frame(device, seq, i, 2000 + 37 * i);
      frames.push([f.header, f.body, 1000 + seq * 1000 + i * 40, T0 + seq * 1000 + i * 40]);
      parts.push(f.header, f.body);
    }
    await engine.call('signing.segment.frames', frames.slice(0, 3));
    await engine.call('signing.segment.dropped', 1);
    await engine.call('signing.segment.frames', frames.slice(3));
    const r = (await engine.call('signing.segment.finish', 4, seed)).value;
    const manifest = get(r, 'bytes') as Uint8Array;
    const d = get(r, 'digest') as Uint8Array;
    out.push({ manifest, digest: d, media: concat(parts) });
    prev = d;
  }
  return out;
}

test('the same frames and key give byte-identical manifests, signatures and chain on Node and in XS', async (t) => {
  const seed = seedOf('camera:engines');
  const results = await withBoth(async ({ node, xs }) => ({
    node: await recordOn(node.engine, 'CAM-0500', seed, 3),
    xs: await recordOn(xs.engine, 'CAM-0500', seed, 3),
  }));
  t.is(results.node.length, 3);
  for (let i = 0; i < 3; i++) {
    t.deepEqual(results.xs[i].manifest, results.node[i].manifest, `manifest ${i}`);
    t.deepEqual(results.xs[i].digest, results.node[i].digest);
    t.deepEqual(results.node[i].digest, sha256(results.node[i].manifest));
  }
  // And what they signed is right: verified on the host with the key from that seed.
  const agency = new Agency();
  const cam = new Camera('CAM-0500', agency, 'engines');
  for (const [i, r] of results.node.entries()) {
    const m = verifyManifest(r.manifest, cam.key.publicKey);
    t.is(m.seq, i);
    t.deepEqual(m.media, sha256(r.media));
    t.is(m.frames, 6);
    t.is(m.dropped, 1);
    t.deepEqual(m.prev, i === 0 ? null : results.node[i - 1].digest);
  }
  const report = verifyEvidence({
    root: agency.root.publicKey,
    devices: [{ id: 'CAM-0500', certificate: cam.certificate, segments: results.xs.map((r, seq) => ({ seq, manifest: r.manifest, media: r.media })) }],
  }, { digest });
  t.true(report.valid);
});

test('the verifier in XS gives the verdicts it gives on Node, for a clean set and a tampered one', async (t) => {
  const { evidence } = scenario({ cameras: 1, segments: 2 });
  const tampered = scenario({ cameras: 1, segments: 3 }).evidence;
  tampered.devices[0].segments.splice(1, 1);
  const strip = (r: EvidenceReport) => ({ valid: r.valid, devices: r.devices.map((d) => ({ valid: d.valid, reasons: d.reasons.map((f) => f.code), segments: d.segments.map((s) => [s.seq, s.valid, s.reasons.map((f) => f.code)]) })) });
  const onHost = [verifyEvidence(evidence, { digest }), verifyEvidence(tampered, { digest })].map(strip);
  const inXs = await withBoth(async ({ xs }) => {
    const out = [];
    for (const e of [evidence, tampered]) {
      const r = (await xs.engine.call('signing.evidence.verify', e as unknown as CborValue)).value;
      out.push(plain(r));
    }
    return out;
  });
  t.deepEqual(inXs.map((r) => strip(r as unknown as EvidenceReport)), onHost);
  t.true(onHost[0].valid);
  t.deepEqual(onHost[1].devices[0].reasons, ['gap']);
});

/** Reports come back from the engine as CBOR maps; make them plain objects again. */
function plain(v: CborValue): CborValue {
  if (v instanceof Map) {
    const o: Record<string, CborValue> = {};
    for (const [k, x] of v) o[String(k)] = plain(x);
    return o;
  }
  if (Array.isArray(v)) return v.map(plain);
  return v;
}
