// MCU figures: the firmware bundle in XS on an emulated Cortex-M7 (QEMU mps2-an500), in exact
// instructions, against the same work in XS compute units on the host (xsnap); and the device's
// heap against an ESP32-S3's 512 KiB of internal SRAM.

import type { CborValue } from '../../firmware/codec/cbor.js';
import { startEngine, type Engine } from '../../host-sim/engine.js';
import { startMcuEngine, type McuEngine } from '../../host-sim/mcu/engine.js';
import { SimHardware } from '../../host-sim/node/hardware.js';
import type { Report } from '../report.js';

const KiB = 1024;
const SRAM = { name: 'ESP32-S3 internal SRAM (512 KiB)', value: 512 * KiB };

function portCallCount(calls: Map<string, number>): number {
  let n = 0;
  for (const c of calls.values()) n += c;
  return n;
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
    report.note('instructions are exact to 40 (one tick of the board counter) and repeat run to run');
    report.note('frame, sealed-segment and mount-after-power-cut figures need the recorder and storage entries');
  } finally {
    await device.close();
    await xs.close();
  }
}

export type { McuEngine };
