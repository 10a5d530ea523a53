// Firmware update figures: XS compute units the camera spends to verify a signed 1.5 MiB image
// (meter.firmware: the SHA-256 runs in the Digest port — native on a device, across the bridge
// here — and is excluded), against a 4 KiB image (the cost should not grow with the size),
// with the camera's Ed25519 (@noble/curves), the one it replaced and TweetNaCl; and a full install into the simulated A/B slots.

import type { CborValue } from '../../firmware/codec/cbor.js';
import { startEngine } from '../../host-sim/engine.js';
import { SimHardware } from '../../host-sim/node/hardware.js';
import { BOARD, cameraChip, firmwareSigner, keyStorePort, payloadOf, signedImage } from '../../host-sim/update/fixture.js';
import type { Report } from '../report.js';

const MIB = 1024 * 1024;

export default async function update(report: Report): Promise<void> {
  report.section('update: verifying and installing a signed firmware image (XS)');
  const hw = new SimHardware();
  const chip = cameraChip({ otaBlocks: 2 + 2 * 400 });
  chip.attach(hw);
  const engine = await startEngine('xs', { ...hw.platform(), KeyStore: keyStorePort() });
  try {
    await engine.call('update.provision', [firmwareSigner().publicKey]);
    const big = signedImage(payloadOf(1.5 * MIB, 1), { version: '1.1.0' });
    const small = signedImage(payloadOf(4096, 2), { version: '1.1.0' });
    const verify = async (image: Uint8Array, impl: string) => {
      const r = await engine.call('update.verify', image, 64 * 1024, BOARD, impl);
      const code = (r.value as Map<string, CborValue>).get('code');
      if (code !== 'OK') throw new Error(`bench image refused: ${String(code)}`);
      return r.meter!;
    };
    await verify(small, 'noble'); // noble's first multiplication builds its table (once, at boot on a camera)
    const smallFast = await verify(small, 'noble');
    const bigFast = await verify(big, 'noble');
    const bigOld = await verify(big, 'fast');
    const bigTweet = await verify(big, 'tweetnacl');
    report.add({ name: "verify a 1.5 MiB image, the camera's Ed25519 (noble), firmware only (digest excluded)", value: bigFast.firmware, unit: 'compute units', baseline: { name: 'the same for a 4 KiB image', value: smallFast.firmware } });
    report.add({ name: 'verify a 1.5 MiB image, TweetNaCl Ed25519, firmware only', value: bigTweet.firmware, unit: 'compute units', baseline: { name: 'noble', value: bigFast.firmware } });
    report.add({ name: 'verify a 1.5 MiB image, the replaced float-limb Ed25519, firmware only', value: bigOld.firmware, unit: 'compute units', baseline: { name: 'noble', value: bigFast.firmware } });
    report.add({ name: 'verify a 1.5 MiB image, bridge included (digest and bytes across the bridge)', value: bigFast.compute, unit: 'compute units' });
    await engine.call('update.factory', payloadOf(4096, 0));
    const install = await engine.call('update.install', big, 64 * 1024, BOARD, 'noble');
    const code = (install.value as Map<string, CborValue>).get('code');
    if (code !== 'OK') throw new Error(`bench install refused: ${String(code)}`);
    report.add({ name: 'install a 1.5 MiB image into the A/B slots (verify, flash writes, read-back, commit), firmware only', value: install.meter!.firmware, unit: 'compute units', baseline: { name: 'verify only', value: bigFast.firmware } });
  } finally {
    await engine.close();
  }
}
