// Ed25519 figures (issue 18 part 2): the camera's signer, @noble/curves (NobleEd25519), against
// tweetnacl (the reference) and the candidate it replaced (our float-limb signer,
// host-sim/candidates/ed25519-fast), all with SHA-512 through the Digest port, in one run: XS
// compute units (xs engine) and MCU instructions and heap (mcu engine, XS on a Cortex-M7 under
// QEMU) for sign, verify and key pair; what noble's fixed-base table costs to build (its first
// multiplication) and in RAM on the device (moddable engine: the board's own machine, noble not
// preloaded); and Node wall time for the dock.

import nacl from 'tweetnacl';
import { NobleEd25519 } from '../../firmware/signing/ed25519-noble.js';
import { FastEd25519 } from '../../host-sim/candidates/ed25519-fast/ed25519-fast.js';
import { softDigest } from '../../firmware/platform/soft-digest.js';
import { startEngine, type Engine } from '../../host-sim/engine.js';
import { startMcuEngine, type McuEngine } from '../../host-sim/mcu/engine.js';
import { startModdableEngine } from '../../host-sim/moddable/engine.js';
import { SimHardware } from '../../host-sim/node/hardware.js';
import { bestOf, type Report } from '../report.js';

const SIGNERS = ['noble', 'fast', 'tweetnacl'] as const;
const NAMES: Record<string, string> = {
  noble: '@noble/curves 2.4.0 (the camera\'s)',
  fast: 'our float-limb signer (replaced)',
  tweetnacl: 'tweetnacl (reference)',
};

interface Costs {
  /** The first key pair: noble builds its table here. */
  firstKeyPair: number;
  keyPair: number;
  sign: number;
  verify: number;
  heapPeak?: number;
}

/** Each signer's costs on one engine (firmware only: the Digest port is native on a device). */
async function measure(engine: Engine | McuEngine): Promise<Record<string, Costs>> {
  const seed = new Uint8Array(32).map((_, i) => i * 7 + 1);
  const message = new Uint8Array(420).map((_, i) => i & 255); // about a segment manifest's Sig_structure
  const out: Record<string, Costs> = {};
  let reference: Uint8Array | undefined;
  for (const which of SIGNERS) {
    const first = await engine.call('ed25519.keyPair', which, seed);
    const again = await engine.call('ed25519.keyPair', which, seed);
    const [pk, sk] = again.value as Uint8Array[];
    const sign = await engine.call('ed25519.sign', which, message, sk);
    const signature = sign.value as Uint8Array;
    reference ??= signature;
    if (Buffer.compare(Buffer.from(signature), Buffer.from(reference)) !== 0) throw new Error(`${which} signs differently from ${SIGNERS[0]}`);
    const verify = await engine.call('ed25519.verify', which, message, signature, pk);
    if (verify.value !== true) throw new Error(`${which} rejected a good signature`);
    const peak = (m: unknown) => (m as { heapPeak?: number }).heapPeak;
    const peaks = [first.meter, again.meter, sign.meter, verify.meter].map(peak).filter((p): p is number => p !== undefined);
    out[which] = {
      firstKeyPair: first.meter!.firmware,
      keyPair: again.meter!.firmware,
      sign: sign.meter!.firmware,
      verify: verify.meter!.firmware,
      heapPeak: peaks.length ? Math.max(...peaks) : undefined,
    };
  }
  return out;
}

function addRows(report: Report, unit: string, where: string, m: Record<string, Costs>): void {
  for (const op of ['sign', 'verify', 'keyPair'] as const) {
    const baseline = { name: NAMES.tweetnacl, value: m.tweetnacl[op] };
    for (const which of SIGNERS) report.add({ name: `${where}: ${op}, ${NAMES[which]}`, value: m[which][op], unit, baseline: which === 'tweetnacl' ? undefined : baseline });
    report.add({ name: `${where}: ${op}, noble against the replaced signer`, value: m.noble[op], unit, baseline: { name: NAMES.fast, value: m.fast[op] } });
  }
  report.add({ name: `${where}: noble's fixed-base table, built at its first multiplication (first key pair less a later one)`, value: m.noble.firstKeyPair - m.noble.keyPair, unit, baseline: { name: 'one noble signature', value: m.noble.sign } });
}

export default async function ed25519(report: Report): Promise<void> {
  report.section('ed25519: the camera\'s signer (@noble/curves) against tweetnacl and the replaced candidate, SHA-512 through the Digest port');
  const xs = await startEngine('xs', new SimHardware().platform());
  let xsCosts: Record<string, Costs>;
  try {
    xsCosts = await measure(xs);
  } finally {
    await xs.close();
  }
  addRows(report, 'compute units', 'XS', xsCosts);

  const mcu = await startMcuEngine(new SimHardware().platform());
  let mcuCosts: Record<string, Costs>;
  try {
    mcuCosts = await measure(mcu);
  } finally {
    await mcu.close();
  }
  addRows(report, 'instructions', 'MCU', mcuCosts);
  for (const which of SIGNERS) {
    const peak = mcuCosts[which].heapPeak;
    if (peak !== undefined) report.add({ name: `MCU: device heap peak over ${NAMES[which]}'s calls (bundle parsed on the device: bytecode included)`, value: peak, unit: 'bytes' });
  }
  report.note(`at 240 MHz: noble signs in ${(mcuCosts.noble.sign / 240e3).toFixed(0)} ms and verifies in ${(mcuCosts.noble.verify / 240e3).toFixed(0)} ms; its table takes ${((mcuCosts.noble.firstKeyPair - mcuCosts.noble.keyPair) / 240e6).toFixed(2)} s once, at boot (the device key pair)`);

  // RAM on the device: noble is not preloaded, so its table and closures live in the chunk heap
  // and slots of the board's own machine (the moddable engine builds exactly that machine).
  report.section('ed25519: what noble costs in RAM on the camera (moddable engine, the board\'s machine, noble not preloaded)');
  const moddable = await startModdableEngine(new SimHardware().platform());
  try {
    const before = (await moddable.call('noop')).meter;
    const seed = new Uint8Array(32).fill(9);
    const first = await moddable.call('ed25519.keyPair', 'noble', seed);
    const [pk, sk] = first.value as Uint8Array[];
    const message = new Uint8Array(420).fill(1);
    const sign = await moddable.call('ed25519.sign', 'noble', message, sk);
    const verify = await moddable.call('ed25519.verify', 'noble', message, sign.value as Uint8Array, pk);
    if (verify.value !== true) throw new Error('noble rejected a good signature on the moddable engine');
    const board = moddable.board;
    const chunks = { name: `${board.name}'s chunk heap`, value: board.creation.chunk.initial };
    const slots = { name: `${board.name}'s slots`, value: board.creation.heap.initial };
    report.add({ name: 'chunk heap live once the firmware is loaded (before any signature)', value: before.allocate, unit: 'bytes', baseline: chunks });
    report.add({ name: 'chunk heap noble\'s table and state keep, live after the first key pair', value: first.meter.allocate - before.allocate, unit: 'bytes', baseline: chunks });
    report.add({ name: 'slots noble\'s table and state keep, live after the first key pair', value: first.meter.currentHeapCount - before.currentHeapCount, unit: 'slots', baseline: slots });
    report.add({ name: 'chunk heap at most during one noble signature (live and garbage)', value: sign.meter.chunksPeak, unit: 'bytes', baseline: chunks });
    report.add({ name: 'chunk heap at most during one noble verification (live and garbage)', value: verify.meter.chunksPeak, unit: 'bytes', baseline: chunks });
    report.add({ name: 'slots at most during one noble verification', value: verify.meter.slotsPeak, unit: 'slots', baseline: slots });
    report.note('preloaded, the table would be in flash; noble cannot be preloaded (toolchain/module-graph.ts NOT_PRELOADED says why)');
  } finally {
    await moddable.close();
  }

  report.section('ed25519: Node wall time (the dock station verifies with Node\'s native Ed25519; these are the firmware codes on Node)');
  const noble = new NobleEd25519({ digest: softDigest });
  const fast = new FastEd25519({ digest: softDigest });
  const kp = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(5));
  const msg = new Uint8Array(300);
  const sig = nacl.sign.detached(msg, kp.secretKey);
  const many = (fn: () => unknown) => () => { for (let i = 0; i < 50; i++) fn(); };
  const naclSign = await bestOf(3, many(() => nacl.sign.detached(msg, kp.secretKey)));
  const naclVerify = await bestOf(3, many(() => nacl.sign.detached.verify(msg, sig, kp.publicKey)));
  report.add({ name: 'Node: 50 signatures, noble', value: await bestOf(3, many(() => noble.sign(msg, kp.secretKey))), unit: 'ms', baseline: { name: 'tweetnacl npm', value: naclSign } });
  report.add({ name: 'Node: 50 signatures, the replaced signer', value: await bestOf(3, many(() => fast.sign(msg, kp.secretKey))), unit: 'ms', baseline: { name: 'tweetnacl npm', value: naclSign } });
  report.add({ name: 'Node: 50 verifications, noble (strict)', value: await bestOf(3, many(() => noble.verify(msg, sig, kp.publicKey))), unit: 'ms', baseline: { name: 'tweetnacl npm (lenient)', value: naclVerify } });
}
