// Encryption at capture, the crypto core (issue 22): what the camera's JavaScript pays, measured
// in one run against baselines measured in the same run.
// - Per segment: wrapping a fresh content key with HPKE (SealBase, DHKEM(X25519, HKDF-SHA256),
//   AES-256-GCM: an ephemeral key pair, one DH, the key schedule, one seal), in XS compute units
//   (xs engine) and MCU instructions (mcu engine), against tweetnacl's scalarMult (its ladder
//   ported as firmware/signing/tweetnacl.ts naclScalarMult, checked against the npm package) and
//   the camera's own X25519. Goal: at most 3 M XS units.
// - Per record: the XS units a STREAM seal of a camera frame adds through the Cipher port, for a
//   25 KiB and a 100 KiB frame (the same frames read, checksummed, hashed and closed without the
//   seal are the baseline). Firmware units only: the bridge's work (the host's node:crypto, the
//   bytes crossing) is a native call on a device. Goal: the same for both sizes.

import { startEngine, type Engine } from '../../host-sim/engine.js';
import { startMcuEngine, type McuEngine } from '../../host-sim/mcu/engine.js';
import { runVirtualTime, SimHardware } from '../../host-sim/node/hardware.js';
import { attachCamera } from '../../host-sim/sensor/sim-camera.js';
import type { FrameSource } from '../../host-sim/sensor/synthetic.js';
import type { Report } from '../report.js';

const seed = (k: number) => new Uint8Array(32).map((_, i) => (i * 13 + k) & 255);

interface WrapCosts {
  wrap: number;
  ours: number;
  tweetnacl: number;
}

/** Per-segment costs on one engine (firmware only), each the least of three runs. */
async function segmentCosts(engine: Engine | McuEngine): Promise<WrapCosts> {
  const recipient = (await engine.call('crypto.hpke.setup', 'AES-256-GCM', seed(1), seed(2), new Uint8Array(0))).value as Uint8Array[];
  const pkR = recipient[1];
  const least = async (entry: string, ...args: Parameters<Engine['call']>[1][]) => {
    let best = Infinity;
    for (let i = 0; i < 3; i++) best = Math.min(best, (await engine.call(entry, ...args)).meter!.firmware);
    return best;
  };
  return {
    wrap: await least('crypto.hpke.wrap', pkR, seed(3), seed(4)),
    ours: await least('crypto.x25519', 'ours', seed(5), pkR),
    tweetnacl: await least('crypto.x25519', 'tweetnacl', seed(5), pkR),
  };
}

/** Frames of exactly `size` bytes (a JPEG's first two bytes, then a pattern). */
function fixedFrames(size: number): (width: number, height: number) => FrameSource {
  return (width, height) => ({
    width,
    height,
    frame(index: number): ArrayBuffer {
      const b = new Uint8Array(size);
      for (let i = 0; i < size; i += 97) b[i] = (index + i) & 255;
      b[0] = 0xff;
      b[1] = 0xd8;
      return b.buffer;
    },
  });
}

/** XS firmware units per frame for reading, checksumming, hashing and closing frames: [without seal, with seal]. */
async function recordCosts(size: number): Promise<[number, number]> {
  const hw = new SimHardware();
  attachCamera(hw, { source: fixedFrames(size) });
  const engine = await startEngine('xs', hw.platform());
  try {
    await engine.call('crypto.camera.open', 640, 480, 10);
    const key = seed(9);
    const round = async (seal: boolean) => {
      await runVirtualTime(hw, engine, hw.clock.monotonic() + 350);
      const r = await engine.call('crypto.camera.frames', key, seal, false);
      const frames = ((r.value as unknown[][])[1] as number[]).length;
      if (frames === 0) throw new Error('no frame was ready');
      return r.meter!.firmware / frames;
    };
    await round(true); // the sealer's AEAD context is made here, once per segment
    let plain = Infinity;
    let sealed = Infinity;
    for (let i = 0; i < 4; i++) {
      plain = Math.min(plain, await round(false));
      sealed = Math.min(sealed, await round(true));
    }
    return [plain, sealed];
  } finally {
    await engine.close();
  }
}

export default async function cipher(report: Report): Promise<void> {
  report.section('cipher: per segment, wrapping the content key with HPKE (X25519 keygen + DH + key schedule + one AES-256-GCM seal), firmware only');
  const xs = await startEngine('xs', new SimHardware().platform());
  let x: WrapCosts;
  try {
    x = await segmentCosts(xs);
  } finally {
    await xs.close();
  }
  report.add({ name: 'XS: HPKE wrap of one content key', value: x.wrap, unit: 'compute units', baseline: { name: "tweetnacl's scalarMult", value: x.tweetnacl } });
  report.add({ name: 'XS: HPKE wrap against the 3 M goal', value: x.wrap, unit: 'compute units', baseline: { name: 'the goal', value: 3e6 } });
  report.add({ name: "XS: one X25519, the camera's (BigInt field)", value: x.ours, unit: 'compute units', baseline: { name: "tweetnacl's scalarMult", value: x.tweetnacl } });
  const mcu = await startMcuEngine(new SimHardware().platform());
  let m: WrapCosts;
  try {
    m = await segmentCosts(mcu);
  } finally {
    await mcu.close();
  }
  report.add({ name: 'MCU: HPKE wrap of one content key', value: m.wrap, unit: 'instructions', baseline: { name: "tweetnacl's scalarMult", value: m.tweetnacl } });
  report.add({ name: "MCU: one X25519, the camera's (BigInt field)", value: m.ours, unit: 'instructions', baseline: { name: "tweetnacl's scalarMult", value: m.tweetnacl } });
  report.note(`at 240 MHz the wrap takes ${(m.wrap / 240e3).toFixed(0)} ms of the core once per segment; tweetnacl's one scalarMult ${(m.tweetnacl / 240e3).toFixed(0)} ms`);

  report.section('cipher: per record, the XS units a STREAM seal of a camera frame adds through the Cipher port (firmware only; the bytes go through the port)');
  const small = await recordCosts(25 * 1024);
  const large = await recordCosts(100 * 1024);
  report.add({ name: 'XS: a 25 KiB frame read, checksummed, hashed and closed, sealed', value: small[1], unit: 'compute units', baseline: { name: 'the same without the seal', value: small[0] } });
  report.add({ name: 'XS: a 100 KiB frame read, checksummed, hashed and closed, sealed', value: large[1], unit: 'compute units', baseline: { name: 'the same without the seal', value: large[0] } });
  report.add({ name: 'XS: the seal alone, 100 KiB frame', value: large[1] - large[0], unit: 'compute units', baseline: { name: 'the seal alone, 25 KiB frame', value: small[1] - small[0] } });
}
