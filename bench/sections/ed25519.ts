// Ed25519 figures (issue 9): XS compute units for sign and verify, the fast signer against
// tweetnacl (the firmware's reference port) in the same run, as ratios; where the fast signer's
// cost goes; the heap and bytes of its fixed-base table; and Node wall time for the dock.

import nacl from 'tweetnacl';
import { FastEd25519 } from '../../firmware/signing/fast/ed25519-fast.js';
import { softDigest } from '../../firmware/platform/soft-digest.js';
import { startEngine } from '../../host-sim/engine.js';
import { SimHardware } from '../../host-sim/node/hardware.js';
import { bestOf, type Report } from '../report.js';

export default async function ed25519(report: Report): Promise<void> {
  report.section('ed25519: the fast signer against tweetnacl');
  const engine = await startEngine('xs', new SimHardware().platform());
  try {
    const seed = new Uint8Array(32).map((_, i) => i * 7 + 1);
    const message = new Uint8Array(300).map((_, i) => i & 255); // about a segment manifest
    const [pk, sk] = (await engine.call('ed25519.keyPair', 'fast', seed)).value as Uint8Array[];
    const sig = nacl.sign.detached(message, sk);
    const m: Record<string, { compute: number; firmware: number }> = {};
    for (const which of ['tweetnacl', 'fast', 'fast-soft']) {
      const s = await engine.call('ed25519.sign', which, message, sk);
      const v = await engine.call('ed25519.verify', which, message, sig, pk);
      const k = await engine.call('ed25519.keyPair', which, seed);
      if (!v.value) throw new Error(`${which} rejected a good signature`);
      m[`${which} sign`] = s.meter!;
      m[`${which} verify`] = v.meter!;
      m[`${which} keyPair`] = k.meter!;
    }
    for (const op of ['sign', 'verify', 'keyPair']) {
      const baseline = { name: 'tweetnacl', value: m[`tweetnacl ${op}`].firmware };
      report.add({ name: `XS: ${op}, tweetnacl (firmware port, SHA-512 in JS)`, value: baseline.value, unit: 'compute units' });
      report.add({ name: `XS: ${op}, fast, SHA-512 through the Digest port (bridge excluded: native on a device)`, value: m[`fast ${op}`].firmware, unit: 'compute units', baseline });
      report.add({ name: `XS: ${op}, fast, SHA-512 in JS (@noble/hashes)`, value: m[`fast-soft ${op}`].firmware, unit: 'compute units', baseline });
    }
    report.note('targets (issue 9): sign <= 5 M, verify <= 12 M compute units');

    report.section('ed25519: where the fast signer\'s cost goes (XS compute units per operation)');
    const loop = (await engine.call('ed25519.cost', 'loop', 0)).meter!.compute;
    const per = async (op: string, count: number) => ((await engine.call('ed25519.cost', op, count)).meter!.compute - loop) / count;
    const probes: [string, string, number][] = [
      ['fe.mul', 'field multiply (15 x 17-bit limbs, unrolled)', 200],
      ['fe.sqr', 'field square', 200],
      ['fe.add', 'field add', 200],
      ['fe.alloc', 'allocating a field element (avoided in the hot path)', 200],
      ['fe.invert', 'field inversion (254 squarings, 11 multiplies)', 2],
      ['point.madd', 'point + table entry (7 multiplies)', 50],
      ['point.dbl', 'point doubling (4 squarings, 4 multiplies)', 50],
      ['point.encode', 'point encoding (inversion + 2 multiplies)', 2],
      ['scalarMultBase', 'r * B: 64 constant-time table scans + 64 additions + 4 doublings', 2],
      ['scalar.reduce', 'a 64-byte hash mod L (constant time)', 10],
      ['sha512.soft', 'SHA-512 of 64 bytes in JS (the Digest port makes it native)', 10],
    ];
    for (const [op, name, count] of probes) report.add({ name, value: await per(op, count), unit: 'compute units' });

    report.section('ed25519: the fixed-base table');
    const before = (await engine.call('noop')).meter!;
    const table = await engine.call('ed25519.table');
    report.add({ name: 'table size (256 points x 3 field elements x 15 int32 limbs)', value: table.value as number, unit: 'bytes' });
    report.add({ name: 'XS: heap allocated building one copy (meter allocate delta, incl. the literal array)', value: table.meter!.allocate - before.allocate, unit: 'bytes' });
    report.add({ name: 'XS: heap slots in use after building one copy (currentHeapCount delta)', value: table.meter!.currentHeapCount - before.currentHeapCount, unit: 'slots' });
    report.add({ name: 'XS: building it (once, at module load / preload on a device)', value: table.meter!.firmware, unit: 'compute units' });
    report.note('allocate is the machine\'s chunk heap, grown in large blocks: a 46 KB buffer fits the slack, so its delta reads 0;');
    report.note('the slots are the transient array literal (garbage once the Int32Array is built).');
  } finally {
    await engine.close();
  }

  report.section('ed25519: Node wall time (the dock station verifies with the same code)');
  const fast = new FastEd25519({ digest: softDigest });
  const kp = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(5));
  const msg = new Uint8Array(300);
  const sig = nacl.sign.detached(msg, kp.secretKey);
  const many = (fn: () => unknown) => () => { for (let i = 0; i < 50; i++) fn(); };
  const naclSign = await bestOf(3, many(() => nacl.sign.detached(msg, kp.secretKey)));
  const naclVerify = await bestOf(3, many(() => nacl.sign.detached.verify(msg, sig, kp.publicKey)));
  report.add({ name: 'Node: 50 signatures, fast', value: await bestOf(3, many(() => fast.sign(msg, kp.secretKey))), unit: 'ms', baseline: { name: 'tweetnacl npm', value: naclSign } });
  report.add({ name: 'Node: 50 verifications, fast (strict)', value: await bestOf(3, many(() => fast.verify(msg, sig, kp.publicKey))), unit: 'ms', baseline: { name: 'tweetnacl npm (lenient)', value: naclVerify } });
}
