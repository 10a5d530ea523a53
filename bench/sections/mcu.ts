// MCU figures: the firmware bundle in XS on an emulated Cortex-M7 (QEMU mps2-an500), in exact
// instructions, against the same work in XS compute units on the host (xsnap); and the device's
// heap against an ESP32-S3's 512 KiB of internal SRAM. The recording figures come from the real
// firmware (firmware/main.ts through the recorder.* entries, test/helpers/recorder.ts) recording
// 15 fps QVGA on both engines over identical simulated hardware, timer by timer: instructions per
// recorded frame, per sealed segment (the manifest finished and signed with the camera's
// Ed25519, the trailer written, the next segment opened), and for mounting that camera's flash
// after a power cut; the peak heap of the recording session.

import type { CborValue } from '../../firmware/codec/cbor.js';
import { startEngine, type Engine } from '../../host-sim/engine.js';
import { McuEngine, startMcuEngine } from '../../host-sim/mcu/engine.js';
import type { SimFlash } from '../../host-sim/flash/sim-flash.js';
import { SimHardware } from '../../host-sim/node/hardware.js';
import { TestCamera } from '../../test/helpers/recorder.js';
import type { Report } from '../report.js';

const KiB = 1024;
const SRAM = { name: 'ESP32-S3 internal SRAM (512 KiB)', value: 512 * KiB };

function portCallCount(calls: Map<string, number>): number {
  let n = 0;
  for (const c of calls.values()) n += c;
  return n;
}

const FPS = 15;
const SEGMENT_S = 5;

interface Session {
  /** Firmware cost (bridge excluded) of each timer step while recording, in order. */
  steps: number[];
  frames: number;
  sealed: number;
  /** The flash after a power cut at the end of the session. */
  flash: SimFlash;
  /** mcu only: the device's heap over the recording, and once the firmware was loaded. */
  heap?: { peak: number; loaded: number; bytecode: number; ceiling: number };
}

/**
 * The real firmware on `engine`: provisioned, booted, 6 s of standby (the pre-event buffer
 * fills), a press, then `seconds` of recording stepped one timer at a time; then the power is
 * cut in the middle of a frame's flash writes.
 */
async function recordingSession(engine: 'mcu' | 'xs', seconds: number): Promise<Session> {
  const c = await TestCamera.start({ engine, frameRate: FPS, segmentSeconds: SEGMENT_S, preEventSeconds: 5, blocks: 4096 });
  try {
    await c.run(6000);
    await c.press();
    await c.run(500);
    const before = await c.status();
    const device = c.engine instanceof McuEngine ? c.engine : undefined;
    device?.takeTotals();
    c.engine.takeCallbackCompute();
    const steps: number[] = [];
    const until = c.hw.clock.monotonic() + seconds * 1000;
    for (let next = c.hw.timer.nextAt(); next !== undefined && next <= until; next = c.hw.timer.nextAt()) {
      c.hw.timer.runUntil(next);
      await c.engine.pump();
      steps.push(c.engine.takeCallbackCompute());
    }
    const totals = device?.takeTotals();
    const after = await c.status();
    c.flash.cutAfter(1);
    for (let i = 0; i < 100 && c.flash.powered; i++) await c.run(10);
    c.flash.reboot();
    const heap = device && totals ? { peak: totals.heapPeak, loaded: device.boot.loaded.heapInUse, bytecode: device.boot.loaded.code, ceiling: device.heapCeiling } : undefined;
    return { steps, frames: after.evidenceFrames - before.evidenceFrames, sealed: after.segmentsSealed - before.segmentsSealed, flash: c.flash.clone(), heap };
  } finally {
    await c.close();
  }
}

/** Per recorded frame and per sealed segment: the `sealed` costliest steps are the rollovers. */
function split(s: Session): { perFrame: number; perSeal: number } {
  const sorted = [...s.steps].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  const seals = sorted.slice(sorted.length - s.sealed);
  const sealExcess = seals.reduce((n, x) => n + (x - median), 0);
  const total = s.steps.reduce((n, x) => n + x, 0);
  return { perFrame: (total - sealExcess) / s.frames, perSeal: sealExcess / Math.max(1, s.sealed) };
}

/** Mount a copy of `flash` (after the cut) on a fresh engine: the firmware's cost of storage.mount. */
async function mountAfterCut(engine: 'mcu' | 'xs', flash: SimFlash): Promise<{ cost: number; segments: number; heapPeak?: number }> {
  const hw = new SimHardware();
  hw.devices.Flash = flash.clone().portClass();
  const segmentsOf = (v: CborValue) => ((v as Map<string, CborValue>).get('segments') as CborValue[]).length;
  if (engine === 'mcu') {
    const e = await startMcuEngine(hw.platform());
    try {
      const r = await e.call('storage.mount');
      return { cost: r.meter.firmware, segments: segmentsOf(r.value), heapPeak: r.meter.heapPeak };
    } finally {
      await e.close();
    }
  }
  const e = await startEngine('xs', hw.platform());
  try {
    const r = await e.call('storage.mount');
    return { cost: r.meter!.firmware, segments: segmentsOf(r.value) };
  } finally {
    await e.close();
  }
}

/** The camera's Ed25519 signature alone (the one in each seal), key pair made beforehand. */
async function cameraSignature(e: Engine | McuEngine): Promise<number> {
  const [, secret] = (await e.call('ed25519.keyPair', 'noble', new Uint8Array(32).fill(3))).value as Uint8Array[];
  return (await e.call('ed25519.sign', 'noble', new Uint8Array(420).fill(1), secret)).meter!.firmware;
}

export default async function mcu(report: Report): Promise<void> {
  report.section('mcu: the firmware in XS on a Cortex-M7 (QEMU mps2-an500, -icount shift=0)');
  const device = await startMcuEngine(new SimHardware().platform());
  const xs = (await startEngine('xs', new SimHardware().platform())) as Engine & { portCalls: Map<string, number> };
  try {
    const { machine, bundle } = device.boot;
    report.add({ name: 'boot: an empty XS machine', value: machine.instructions, unit: 'instructions' });
    report.add({ name: 'boot: parsing and running the guest bundle on the device', value: bundle.instructions, unit: 'instructions' });
    report.add({ name: 'boot: heap peak while parsing the bundle', value: bundle.heapPeak, unit: 'bytes', baseline: SRAM });
    report.add({ name: 'after boot: heap held by XS', value: bundle.heapInUse, unit: 'bytes', baseline: SRAM });
    report.add({ name: 'after boot: of which bytecode (in flash on a device build)', value: bundle.code, unit: 'bytes' });
    report.add({ name: 'after boot: live chunks + slots (bytecode included)', value: bundle.chunks + bundle.slots * 16, unit: 'bytes', baseline: SRAM });

    const pair = async (entry: string, ...args: CborValue[]) => {
      const d = await device.call(entry, ...args);
      const x = await xs.call(entry, ...args);
      return { d: d.meter, x: x.meter! };
    };

    const noop = await pair('noop');
    report.add({ name: 'empty firmware call (bridge floor)', value: noop.d.instructions, unit: 'instructions', baseline: { name: 'XS compute units', value: noop.x.compute } });

    // Instructions per port call across the bridge: SHA-256 of 64 bytes through the Digest port.
    const before = { d: portCallCount(device.portCalls), x: portCallCount(xs.portCalls) };
    const small = await pair('sha256.port', new Uint8Array(64));
    const calls = { d: portCallCount(device.portCalls) - before.d, x: portCallCount(xs.portCalls) - before.x };
    report.add({
      name: `bridge: instructions per port call (${calls.d} calls for a 64-byte digest)`,
      value: small.d.bridge / calls.d,
      unit: 'instructions',
      baseline: { name: 'XS bridge units per call', value: small.x.bridge / calls.x },
    });

    const chunk = new Uint8Array(64 * KiB).map((_, i) => i & 255);
    const soft = await pair('sha256.soft', chunk);
    report.add({ name: 'SHA-256 of 64 KiB in JavaScript (@noble/hashes)', value: soft.d.instructions, unit: 'instructions', baseline: { name: 'XS compute units for the same', value: soft.x.compute } });
    const port = await pair('sha256.port', chunk);
    report.add({ name: 'SHA-256 of 64 KiB through the Digest port, bridge included', value: port.d.instructions, unit: 'instructions', baseline: { name: 'XS compute units', value: port.x.compute } });
    report.add({ name: 'the same, firmware only (bridge excluded)', value: port.d.firmware, unit: 'instructions', baseline: { name: 'XS firmware units', value: port.x.firmware } });
    const cbor = await pair('cbor.encode', { frame: 1, bytes: chunk, at: [1, 2, 3] });
    report.add({ name: 'CBOR encode of a 64 KiB frame record', value: cbor.d.instructions, unit: 'instructions', baseline: { name: 'XS compute units', value: cbor.x.compute } });

    const peak = Math.max(noop.d.heapPeak, small.d.heapPeak, soft.d.heapPeak, port.d.heapPeak, cbor.d.heapPeak);
    report.add({ name: 'session: heap peak over these calls', value: peak, unit: 'bytes', baseline: SRAM });
    report.add({ name: 'session: heap peak less bytecode', value: peak - bundle.code, unit: 'bytes', baseline: SRAM });
    report.add({ name: "the camera's Ed25519 (noble) signature of a 420-byte manifest (firmware only)", value: await cameraSignature(device), unit: 'instructions', baseline: { name: 'XS firmware units', value: await cameraSignature(xs) } });
    report.note('instructions are exact to 40 (one tick of the board counter) and repeat run to run');
  } finally {
    await device.close();
    await xs.close();
  }

  // The recorder: the same session on both engines (identical hardware, identical firmware work).
  const seconds = 12;
  const d = await recordingSession('mcu', seconds);
  const x = await recordingSession('xs', seconds);
  if (d.frames !== x.frames || d.sealed !== x.sealed || d.steps.length !== x.steps.length) {
    throw new Error(`the two sessions differ: mcu ${d.frames} frames / ${d.sealed} seals / ${d.steps.length} steps, xs ${x.frames} / ${x.sealed} / ${x.steps.length}`);
  }
  const ds = split(d);
  const xsSplit = split(x);
  report.section(`mcu: recording ${seconds} s at ${FPS} fps QVGA in ${SEGMENT_S}-s segments (${d.frames} frames, ${d.sealed} segments sealed), firmware only`);
  report.add({ name: 'per recorded frame (camera callback, frame header, storage append, frame into the manifest digest)', value: ds.perFrame, unit: 'instructions', baseline: { name: 'XS firmware units', value: xsSplit.perFrame } });
  report.add({ name: "per sealed segment (manifest finished and signed with the camera's Ed25519, trailer written, next segment opened)", value: ds.perSeal, unit: 'instructions', baseline: { name: 'XS firmware units', value: xsSplit.perSeal } });
  const dTotal = d.steps.reduce((n, v) => n + v, 0);
  const xTotal = x.steps.reduce((n, v) => n + v, 0);
  report.add({ name: 'per second of recording', value: dTotal / seconds, unit: 'instructions', baseline: { name: 'XS firmware units', value: xTotal / seconds } });
  report.note(`at 240 MHz and one instruction a cycle, recording takes ${((dTotal / seconds / 240e6) * 100).toFixed(0)} % of the core; sealing a segment ${(ds.perSeal / 240e6 * 1000).toFixed(0)} ms`);

  const dm = await mountAfterCut('mcu', d.flash);
  const xm = await mountAfterCut('xs', x.flash);
  report.add({ name: `mount after a power cut mid-frame (${dm.segments} segments, the open one recovered)`, value: dm.cost, unit: 'instructions', baseline: { name: 'XS firmware units', value: xm.cost } });

  const h = d.heap!;
  report.add({ name: 'recording session: device heap peak (bundle parsed on the device: bytecode in RAM)', value: h.peak, unit: 'bytes', baseline: SRAM });
  report.add({ name: 'recording session: heap peak less bytecode (in flash on a device build)', value: h.peak - h.bytecode, unit: 'bytes', baseline: SRAM });
  report.add({ name: 'recording session: heap above the loaded firmware (what recording needs at run time)', value: h.peak - h.loaded, unit: 'bytes', baseline: SRAM });
  if (dm.heapPeak !== undefined) report.add({ name: 'mount after a cut: heap above the loaded firmware', value: dm.heapPeak - h.loaded, unit: 'bytes', baseline: SRAM });
  report.note(`the loaded firmware holds ${h.loaded.toLocaleString('en')} bytes (${h.bytecode.toLocaleString('en')} of bytecode; a preloaded device build keeps its code and modules in flash); the session ran under a ${h.ceiling.toLocaleString('en')}-byte ceiling`);
  report.note('the heap above the loaded firmware understates what recording allocates: XS first fills the free room left in the heap blocks the parser grew');
}

export type { McuEngine };
