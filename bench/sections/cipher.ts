// Encryption at capture, the crypto core (issue 22): what the camera's JavaScript pays, measured
// in one run against baselines measured in the same run.
// - Per segment: wrapping a fresh content key with HPKE (SealBase, DHKEM(X25519, HKDF-SHA256),
//   ChaCha20Poly1305, the sealed segments' suite: an ephemeral key pair, one DH, the key schedule, one seal), in XS compute units
//   (xs engine) and MCU instructions (mcu engine), against tweetnacl's scalarMult (its ladder
//   ported as firmware/signing/tweetnacl.ts naclScalarMult, checked against the npm package) and
//   the camera's own X25519. Goal: at most 3 M XS units.
// - Per record: the XS units a STREAM seal of a camera frame adds through the Cipher port, for a
//   25 KiB and a 100 KiB frame (the same frames read, checksummed, hashed and closed without the
//   seal are the baseline). Firmware units only: the bridge's work (the host's node:crypto or libsodium, the
//   bytes crossing) is a native call on a device. Goal: the same for both sizes.
// - Per record, natively: what crypt's C (KCL's software AES in modCrypt.c's CTR loop, and GHASH)
//   costs for that seal on the mcu engine's Cortex-M7 (host-sim/mcu/crypt-gcm.c, the SDK's own
//   kcl sources, compiled as the mcu image is; its tag is checked against node:crypto here).
// - Per record, natively, the alternative: ChaCha20-Poly1305 from crypt's kcl/chacha.c and the
//   firmware's Poly1305 in C (host-sim/mcu/chacha-poly.c; its tag checked against node:crypto).

import { spawnSync } from 'node:child_process';
import { createCipheriv } from 'node:crypto';
import { join } from 'node:path';
import { startEngine, type Engine } from '../../host-sim/engine.js';
import { startMcuEngine, type McuEngine } from '../../host-sim/mcu/engine.js';
import { runVirtualTime, SimHardware } from '../../host-sim/node/hardware.js';
import { attachCamera } from '../../host-sim/sensor/sim-camera.js';
import type { FrameSource } from '../../host-sim/sensor/synthetic.js';
import { repoRoot } from '../../toolchain/root.js';
import { ensureSdk } from '../../toolchain/sdk.js';
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

/** A native harness of host-sim/mcu run on the Cortex-M7: instructions by "name bytes", and the tag of its last seal. */
function runHarness(target: 'crypt-gcm' | 'chacha-poly'): { costs: Map<string, number>; tag: string } {
  const sdk = ensureSdk();
  const mcu = join(repoRoot, 'host-sim', 'mcu');
  const make = spawnSync('make', ['-C', mcu, target, `KCL_DIR=${join(sdk.root, 'modules', 'crypt', 'digest', 'kcl')}`], { encoding: 'utf8' });
  if (make.status !== 0) throw new Error(`make ${target} failed:\n${make.stdout}${make.stderr}`);
  const q = spawnSync('qemu-system-arm', [
    '-M', 'mps2-an500', '-nodefaults', '-display', 'none', '-serial', 'none', '-monitor', 'none', '-nic', 'none',
    '-semihosting-config', 'enable=on,target=native', '-icount', 'shift=0,sleep=off', '-kernel', join(repoRoot, 'dist', 'mcu', `${target}.elf`),
  ], { encoding: 'utf8', timeout: 120_000 });
  if (q.status !== 0) throw new Error(`${target}.elf failed (${q.status}): ${q.stdout}${q.stderr}`);
  const costs = new Map<string, number>();
  let tag = '';
  for (const line of `${q.stdout}${q.stderr}`.split('\n')) { // SYS_WRITE0 goes to the debug console: QEMU's stderr
    const [name, a, b] = line.trim().split(' ');
    if (name === 'tag') tag = a;
    else if (name && b !== undefined) costs.set(`${name} ${a}`, Number(b));
  }
  return { costs, tag };
}

/**
 * A harness's costs, after checking its last seal is node:crypto's: key 1..32, nonce 0, the
 * 12-byte aad, 100 KiB of i*7 (otherwise it did not compute the AEAD it is named for).
 */
function nativeSeal(target: 'crypt-gcm' | 'chacha-poly'): Map<string, number> {
  const { costs, tag } = runHarness(target);
  const algorithm = target === 'crypt-gcm' ? 'aes-256-gcm' : 'chacha20-poly1305';
  const key = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
  const data = Uint8Array.from({ length: 100 * 1024 }, (_, i) => (i * 7) & 255);
  const c = createCipheriv(algorithm as 'aes-256-gcm', key, new Uint8Array(12), { authTagLength: 16 }); // (node's typings want a plaintext length for chacha's setAAD; it needs none)
  c.setAAD(Uint8Array.of(0x53, 0x52, 1, 48, 0, 0, 0, 0, 0, 0, 0, 0));
  c.update(data);
  c.final();
  if (c.getAuthTag().toString('hex') !== tag) throw new Error(`${target}.elf's tag ${tag} is not node:crypto's: it did not compute ${algorithm}`);
  return costs;
}

export default async function cipher(report: Report): Promise<void> {
  report.section('cipher: per segment, wrapping the content key with HPKE (X25519 keygen + DH + key schedule + one ChaCha20-Poly1305 seal), firmware only');
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

  report.section("cipher: per record, crypt's AES-256-GCM natives on the device (KCL's C: software AES and a bitwise GHASH; not the ESP32-S3's AES accelerator), Cortex-M7 instructions");
  const n = nativeSeal('crypt-gcm');
  const frameBudget = { name: 'a 240 MHz core per frame at 25 fps', value: 240e6 / 25 };
  for (const kib of [25, 100]) {
    const bytes = kib * 1024;
    report.add({ name: `MCU: the seal of a ${kib} KiB record (CTR + GHASH + the tag)`, value: n.get(`seal ${bytes}`)!, unit: 'instructions', baseline: frameBudget });
    report.add({ name: `MCU: of which GHASH, ${kib} KiB`, value: n.get(`ghash ${bytes}`)!, unit: 'instructions', baseline: { name: 'AES-CTR', value: n.get(`aes-ctr ${bytes}`)! } });
  }
  report.add({ name: 'MCU: instructions per byte sealed', value: n.get(`seal ${100 * 1024}`)! / (100 * 1024), unit: 'instructions', baseline: { name: 'per byte, 25 KiB', value: n.get(`seal ${25 * 1024}`)! / (25 * 1024) } });
  report.note(`SVGA at 25 fps with 25 KiB frames: ${((25 * n.get(`seal ${25 * 1024}`)!) / 240e6 * 100).toFixed(0)} % of a 240 MHz core if an ESP32-S3 instruction were a Cortex-M7 one; a native module over the hardware AES (and a table GHASH) would take most of that away`);

  report.section("cipher: per record, ChaCha20-Poly1305 natively (crypt's kcl/chacha.c and the firmware's Poly1305, firmware/device/native/poly1305.c), Cortex-M7 instructions, against crypt's AES-256-GCM");
  const p = nativeSeal('chacha-poly');
  for (const kib of [25, 100]) {
    const bytes = kib * 1024;
    report.add({ name: `MCU: ChaCha20-Poly1305 seal of a ${kib} KiB record`, value: p.get(`seal ${bytes}`)!, unit: 'instructions', baseline: { name: `AES-256-GCM, ${kib} KiB`, value: n.get(`seal ${bytes}`)! } });
    report.add({ name: `MCU: of which Poly1305, ${kib} KiB`, value: p.get(`poly1305 ${bytes}`)!, unit: 'instructions', baseline: { name: 'ChaCha20', value: p.get(`chacha20 ${bytes}`)! } });
  }
  report.add({ name: 'MCU: ChaCha20-Poly1305 instructions per byte sealed (100 KiB)', value: p.get(`seal ${100 * 1024}`)! / (100 * 1024), unit: 'instructions', baseline: { name: 'AES-256-GCM per byte', value: n.get(`seal ${100 * 1024}`)! / (100 * 1024) } });
  report.add({ name: 'MCU: ChaCha20-Poly1305 seal of a 25 KiB record', value: p.get(`seal ${25 * 1024}`)!, unit: 'instructions', baseline: frameBudget });
  report.note(`SVGA at 25 fps with 25 KiB frames: ChaCha20-Poly1305 ${((25 * p.get(`seal ${25 * 1024}`)!) / 240e6 * 100).toFixed(1)} % of a 240 MHz core, AES-256-GCM ${((25 * n.get(`seal ${25 * 1024}`)!) / 240e6 * 100).toFixed(0)} % (if an ESP32-S3 instruction were a Cortex-M7 one)`);
}
