// Storage figures: write amplification for 10 s segments of 30 KiB frames at 15 fps (goal ≤
// 1.03), XS firmware compute units per appended frame (checksums and flash writes are native
// on a device, so the bridge is excluded), and mount after a cut on a 16 MiB and a 1 GiB
// partition (mount cost must not grow with the flash).

import { SegmentStore, type FormatOptions } from '../../firmware/storage/index.js';
import { startEngine } from '../../host-sim/engine.js';
import { SimFlash } from '../../host-sim/flash/sim-flash.js';
import { nodeChecksum, SimHardware } from '../../host-sim/node/hardware.js';
import { bestOf, type Report } from '../report.js';

const FPS = 15;
const SECONDS = 10;
const FRAME = 30 * 1024;
const HEADER = 32;

function frame(i: number): { header: Uint8Array; body: Uint8Array } {
  const header = new Uint8Array(HEADER).fill(i & 255);
  const body = new Uint8Array(FRAME);
  for (let k = 0; k < FRAME; k += 64) body[k] = (i * 31 + k) & 255;
  return { header, body };
}

/** A store image after `sealed` sealed segments and a cut while the next one had `open` frames. */
function imageAfterCut(blocks: number, format: Partial<FormatOptions>, sealed: number, open: number): SimFlash {
  const flash = new SimFlash({ blockLength: 4096, blocks });
  const opts = () => ({ flash: new (flash.portClass())({ path: 'bodycam-store' }), checksum: nodeChecksum });
  const store = SegmentStore.format({ ...opts(), ...format });
  for (let s = 0; s <= sealed; s++) {
    const w = store.openSegment(new Uint8Array([s]));
    const n = s < sealed ? 40 : open;
    for (let i = 0; i < n; i++) {
      const f = frame(i);
      if (s === sealed && i === n - 1) flash.cutAfter(3); // the last frame is in flight when the power goes
      try {
        w.append(f.header, f.body);
      } catch {
        break;
      }
    }
    if (s < sealed) w.seal(new Uint8Array(300).fill(s));
  }
  flash.reboot();
  return flash;
}

export default async function storage(report: Report): Promise<void> {
  report.section('storage: segment store on NOR flash');

  // Write amplification over a shift's worth of segments on a 16 MiB part, docking (releasing) as it goes.
  {
    const flash = new SimFlash({ blockLength: 4096, blocks: 4096 });
    const store = SegmentStore.format({ flash: new (flash.portClass())({ path: 'bodycam-store' }), checksum: nodeChecksum });
    const p0 = flash.counters.bytesProgrammed;
    let payload = 0;
    const segments = 24;
    const sealed: number[] = [];
    for (let s = 0; s < segments; s++) {
      const w = store.openSegment(new Uint8Array(64).fill(s));
      for (let i = 0; i < FPS * SECONDS; i++) {
        const f = frame(i);
        w.append(f.header, f.body);
        payload += f.header.length + f.body.length;
      }
      sealed.push(w.seal(new Uint8Array(400).fill(s)).id);
      if (sealed.length > 2) store.release(sealed.splice(0, 1), new Uint8Array(200));
    }
    const programmed = flash.counters.bytesProgrammed - p0;
    report.add({ name: `write amplification: ${segments} segments of ${SECONDS} s × ${FPS} fps × 30 KiB frames (16 MiB NOR), bytes programmed`, value: programmed, unit: 'bytes', baseline: { name: 'payload bytes (goal: ratio ≤ 1.03)', value: payload } });
    report.note(`write amplification ${(programmed / payload).toFixed(4)}; metadata slot revisions (compactions): ${store.revision}; block erases: ${flash.counters.erases}`);
  }

  // XS compute units per appended frame.
  {
    const hw = new SimHardware();
    const flash = new SimFlash({ blockLength: 4096, blocks: 4096 });
    hw.devices.Flash = flash.portClass();
    const engine = await startEngine('xs', hw.platform());
    try {
      await engine.call('storage.format', {});
      await engine.call('storage.open', new Uint8Array([1]));
      const f = frame(1);
      await engine.call('storage.append', f.header, f.body); // the META record and the first extent
      const n = FPS * SECONDS - 1;
      const many = await engine.call('storage.appendRepeat', f.header, f.body, n);
      const one = await engine.call('storage.append', f.header, f.body);
      const crc = await engine.call('crc32.soft', f.body);
      const perFrame = many.meter!.firmware / n;
      report.add({ name: `XS: firmware compute units per appended 30 KiB frame (mean of ${n}, erase-ahead and metadata included)`, value: perFrame, unit: 'units', baseline: { name: 'CRC-32 of the frame in JavaScript (what the Checksum port saves)', value: crc.meter!.compute } });
      report.add({ name: 'XS: one storage.append call, firmware only (entry dispatch included)', value: one.meter!.firmware, unit: 'units', baseline: { name: 'the same call with the bridge', value: one.meter!.compute } });
      const seal = await engine.call('storage.seal', new Uint8Array(400));
      report.add({ name: 'XS: seal (trailer + metadata), firmware only', value: seal.meter!.firmware, unit: 'units' });
    } finally {
      await engine.close();
    }
  }

  // Mount after a cut: 16 MiB vs 1 GiB, the same table of segments and the same format options.
  {
    const format = { maxSegments: 256, slotBlocks: 20, extentBlocks: 32 };
    const figures: { size: string; units: number; bytes: number; ms: number; image: SimFlash }[] = [];
    for (const [size, blocks] of [['16 MiB', 4096], ['1 GiB', 262144]] as const) {
      const image = imageAfterCut(blocks, format, 3, 25);
      const hw = new SimHardware();
      const dev = image.clone();
      hw.devices.Flash = dev.portClass();
      const engine = await startEngine('xs', hw.platform());
      try {
        const b0 = dev.counters.bytesRead;
        const r = await engine.call('storage.mount');
        figures.push({ size, units: r.meter!.firmware, bytes: dev.counters.bytesRead - b0, ms: 0, image });
      } finally {
        await engine.close();
      }
    }
    // Wall time on Node, both warmed up, best of 20 (each mount on a fresh copy of the image, cloned outside the timing).
    for (let round = 0; round < 2; round++) {
      for (const f of figures) {
        const copies = Array.from({ length: 20 }, () => f.image.clone());
        let i = 0;
        f.ms = await bestOf(20, () => SegmentStore.mount({ flash: new (copies[i++].portClass())({ path: 'p' }), checksum: nodeChecksum }));
      }
    }
    const [small, big] = figures;
    report.add({ name: `XS: mount after a cut, 16 MiB partition (3 sealed segments, the open one recovered), firmware only`, value: small.units, unit: 'units' });
    report.add({ name: `XS: mount after a cut, 1 GiB partition (same segments)`, value: big.units, unit: 'units', baseline: { name: 'the 16 MiB mount', value: small.units } });
    report.add({ name: 'flash bytes read by that mount, 1 GiB', value: big.bytes, unit: 'bytes', baseline: { name: '16 MiB', value: small.bytes } });
    report.add({ name: 'Node: mount after a cut, 1 GiB', value: big.ms, unit: 'ms', baseline: { name: '16 MiB', value: small.ms } });
  }
}
