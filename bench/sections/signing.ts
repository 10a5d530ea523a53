// Signing figures: what evidence integrity costs the camera (XS compute units, firmware only:
// the Digest port is native on a device) with the recorder's own Ed25519 (NobleEd25519, as
// firmware/main.ts makes it) against tweetnacl measured in the same run, and how fast the dock
// verifies segments with Node's native Ed25519 against TweetNaCl.

import type { CborValue } from '../../firmware/codec/cbor.js';
import { tweetEd25519 } from '../../firmware/signing/ed25519.js';
import { verifyEvidence } from '../../firmware/signing/verifier.js';
import { hostEd25519 } from '../../host/ed25519-node.js';
import { startEngine } from '../../host-sim/engine.js';
import { nodeDigest, SimHardware } from '../../host-sim/node/hardware.js';
import { frame, scenario, seedOf, T0 } from '../../test/helpers/signing.js';
import { bestOf, type Report } from '../report.js';

export default async function signing(report: Report): Promise<void> {
  report.section('signing: manifests on the camera (XS), verification on the dock (Node)');
  const engine = await startEngine('xs', new SimHardware().platform());
  try {
    const seed = seedOf('bench');
    // The signer the recorder uses: NobleEd25519 with SHA-512 through the Digest port.
    await engine.call('signing.signer', seed, 'camera');
    const kp = (await engine.call('signing.ed25519.keypair', seed)).value as Map<string, Uint8Array>;
    const naclSign = await engine.call('signing.ed25519.sign', new Uint8Array(400), kp.get('secretKey')!);
    const cameraSign = await engine.call('ed25519.sign', 'noble', new Uint8Array(400), kp.get('secretKey')!);
    const baseline = { name: 'tweetnacl sign.detached (400 B)', value: naclSign.meter!.firmware };
    report.add({ name: 'XS: tweetnacl sign.detached of 400 bytes', value: naclSign.meter!.firmware, unit: 'compute units' });
    report.add({ name: "XS: the recorder's Ed25519 (noble) signing 400 bytes", value: cameraSign.meter!.firmware, unit: 'compute units', baseline });

    // One segment of 250 frames (10 s at 25 fps), recorded through the ManifestBuilder.
    const open = await engine.call('signing.segment.open', { device: 'CAM-0001', seq: 0, boot: 1, recording: 1, prev: null, format: { format: 'jpeg', width: 800, height: 600 }, firmware: '0.1.0' });
    let frameUnits = 0;
    const frames = 250;
    for (let batch = 0; batch < frames / 25; batch++) {
      const list: CborValue[] = [];
      for (let i = 0; i < 25; i++) {
        const n = batch * 25 + i;
        const f = frame('CAM-0001', 0, n, 1024);
        list.push([f.header, f.body, n * 40, T0 + n * 40]);
      }
      frameUnits += (await engine.call('signing.segment.frames', list)).meter!.firmware;
    }
    const finish = await engine.call('signing.segment.finish', 4, true);
    const signed = (finish.value as Map<string, Uint8Array>).get('bytes')!;
    const endToEnd = open.meter!.firmware + frameUnits + finish.meter!.firmware;
    report.add({ name: 'XS: per frame, ManifestBuilder.addFrame (bytes to the Digest port)', value: frameUnits / frames, unit: 'compute units' });
    report.add({ name: "XS: sign one manifest at segment close (encode + COSE + sign; the recorder's signer, NobleEd25519)", value: finish.meter!.firmware, unit: 'compute units', baseline });
    report.add({ name: 'XS: one 250-frame segment end to end (open, 250 frames, sign)', value: endToEnd, unit: 'compute units', baseline });
    const manifest = (await engine.call('signing.manifest.verify', signed, kp.get('publicKey')!)).value;
    const sign = await engine.call('signing.manifest.sign', manifest);
    report.add({ name: "XS: signManifest of a decoded manifest (the recorder's signer)", value: sign.meter!.firmware, unit: 'compute units', baseline });
    const naclVerify = await engine.call('signing.manifest.verify', signed, kp.get('publicKey')!);
    const verify = await engine.call('signing.manifest.verify', signed, kp.get('publicKey')!, 'camera');
    report.add({ name: "XS: verify one manifest (strict; the camera's Ed25519, noble)", value: verify.meter!.firmware, unit: 'compute units', baseline: { name: 'the same with tweetnacl (the verifier default on hosts)', value: naclVerify.meter!.firmware } });
    report.note(`manifest size: ${signed.length} bytes`);
  } finally {
    await engine.close();
  }

  // Dock side: verify a camera's day of segments (digests given, as the dock computes them on ingest).
  const { evidence } = scenario({ cameras: 1, segments: 200 });
  const segments = evidence.devices[0].segments.length;
  const native = hostEd25519();
  const nativeMs = await bestOf(3, () => verifyEvidence(evidence, { digest: nodeDigest, ed25519: native }));
  const naclMs = await bestOf(3, () => verifyEvidence(evidence, { digest: nodeDigest, ed25519: tweetEd25519 }));
  if (!verifyEvidence(evidence, { digest: nodeDigest, ed25519: native }).valid) throw new Error('bench evidence does not verify');
  const perSecond = (ms: number) => (segments / ms) * 1000;
  report.add({ name: `Node: dock verification with ${native.name} (${segments} segments, checkpoint, receipt)`, value: perSecond(nativeMs), unit: 'segments/s', baseline: { name: 'TweetNaCl on Node', value: perSecond(naclMs) } });
}
