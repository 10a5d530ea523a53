// The 'mcu' engine: the firmware bundle in XS on an emulated Cortex-M7 (QEMU mps2-an500).
// The foundation tables give byte-identical results to the node engine; a heap ceiling stops
// the device with a clear out-of-memory report; instruction counts repeat exactly.
//
// Needs Debian's gcc-arm-none-eabi, libnewlib-arm-none-eabi and qemu-system-arm (.ci/run
// installs them). BODYCAM_MCU=skip skips this file on a machine without them.

import test, { type ExecutionContext } from 'ava';
import type { CborValue } from '../firmware/codec/cbor.js';
import { isBodycamError } from '../firmware/errors.js';
import { startEngine, type Engine } from '../host-sim/engine.js';
import { startMcuEngine, type McuEngine, type McuEngineOptions } from '../host-sim/mcu/engine.js';
import { McuDevice } from '../host-sim/mcu/device.js';
import { SimHardware } from '../host-sim/node/hardware.js';
import { bytesToHex, hexToBytes } from './helpers/vectors.js';
import { APPENDIX_A, CRC32_CASES, MALFORMED_CBOR, SHA256_CASES } from './helpers/tables.js';

const mcuTest = process.env.BODYCAM_MCU === 'skip' ? test.skip : test.serial;

async function withMcu<T>(fn: (mcu: McuEngine, node: Engine) => Promise<T>, options: McuEngineOptions = {}): Promise<T> {
  const mcu = await startMcuEngine(new SimHardware().platform(), options);
  const node = await startEngine('node', new SimHardware().platform());
  try {
    return await fn(mcu, node);
  } finally {
    await mcu.close();
    await node.close();
  }
}

/** The outcome of an entry as comparable text: the encoded value, or the error code. */
async function outcome(engine: Engine | McuEngine, entry: string, ...args: CborValue[]): Promise<string> {
  try {
    const r = await engine.call(entry, ...args);
    return `ok ${bytesToHex(new Uint8Array(Buffer.from(JSON.stringify(r.value, (_k, v: unknown) => (v instanceof Uint8Array ? bytesToHex(v) : typeof v === 'bigint' ? `${v}n` : v)))))}`;
  } catch (e) {
    return `error ${(e as { code?: string }).code ?? String(e)}`;
  }
}

async function same(t: ExecutionContext, mcu: McuEngine, node: Engine, entry: string, ...args: CborValue[]): Promise<string> {
  const [a, b] = [await outcome(mcu, entry, ...args), await outcome(node, entry, ...args)];
  t.is(a, b, `${entry} on mcu and node`);
  return a;
}

mcuTest('the instruction counter: a 2,000,000-instruction loop is 50,000 ticks of 40 instructions', async (t) => {
  const device = McuDevice.start({ onQuery: () => new Uint8Array(0) });
  try {
    await device.booted;
    const { loopInstructions, ticks } = await device.calibrate();
    t.is(loopInstructions, 2_000_000);
    // The loop plus reading the counter twice; where the loop starts within a tick adds one.
    t.true(ticks === 50_000 || ticks === 50_001, `${ticks} ticks`);
  } finally {
    await device.close();
  }
});

mcuTest('SHA-256 NIST vectors and CRC-32 on the MCU engine, identical to node', async (t) => {
  await withMcu(async (mcu, node) => {
    for (const c of SHA256_CASES) {
      // One million bytes in JS would be ~20 G instructions: the Digest port covers it.
      if (c.data.length <= 100_000) {
        const soft = await mcu.call('sha256.soft', c.data);
        t.is(bytesToHex(soft.value as Uint8Array), c.hex, `soft ${c.name}`);
        await same(t, mcu, node, 'sha256.soft', c.data);
      }
      // A 1 MB argument is held three times on the device (bridge buffer, ArrayBuffer, decoded
      // bytes): more than the default 4 MiB heap. Firmware streams media through ports instead.
      if (c.data.length <= 100_000) {
        const port = await mcu.call('sha256.port', c.data);
        t.is(bytesToHex(port.value as Uint8Array), c.hex, `port ${c.name}`);
      }
    }
    const big = await mcu.call('sha256.port', new Uint8Array(256 * 1024).fill(0x61));
    t.is(bytesToHex(big.value as Uint8Array), bytesToHex((await node.call('sha256.port', new Uint8Array(256 * 1024).fill(0x61))).value as Uint8Array));
    for (const [data, crc] of CRC32_CASES) {
      t.is((await mcu.call('crc32.soft', data)).value, crc);
      t.is((await mcu.call('crc32.port', data)).value, crc);
    }
    // Software SHA-256 is metered in instructions, and most of it is firmware, not bridge.
    const r = await mcu.call('sha256.soft', new Uint8Array(1024));
    t.true(r.meter.instructions > 1_000_000);
    t.true(r.meter.firmware > r.meter.bridge);
    t.is(r.meter.firmware + r.meter.bridge, r.meter.compute);
    t.is(r.meter.instructions % 40, 0);
  });
});

mcuTest('RFC 8949 Appendix A and malformed CBOR: the MCU engine answers exactly as node', async (t) => {
  await withMcu(async (mcu, node) => {
    for (const v of APPENDIX_A) await same(t, mcu, node, 'cbor.reencode', hexToBytes(v.hex));
    // Each malformed input gets the same stable error code on the device as the table says.
    for (const [hex, code] of MALFORMED_CBOR) t.is(await same(t, mcu, node, 'cbor.reencode', hexToBytes(hex)), `error ${code}`, hex);
    const values: CborValue[] = [0, -1, 1.5, 1e300, -0, 'ü水', new Uint8Array([1, 2]), [1, [2, 3]], { b: 1, a: [2] }, 18446744073709551615n, null, true];
    for (const v of values) await same(t, mcu, node, 'cbor.encode', v);
  });
});

mcuTest('a script that passes the heap ceiling stops the device with a clear out-of-memory report', async (t) => {
  // The bundle is parsed on the device, so its bytecode is in the heap: the ceiling is set
  // 256 KiB above what the loaded firmware holds, whatever its size today.
  await withMcu(async (mcu) => {
    const ceiling = mcu.heapCeiling;
    t.is(ceiling, mcu.boot.loaded.heapInUse + 256 * 1024);
    t.true(mcu.boot.loaded.heapInUse < mcu.boot.bundle.heapInUse, 'the bundle source is released once loaded');
    const before = await mcu.call('noop');
    t.true(before.meter.heapPeak <= ceiling);
    t.is(before.meter.heapCeiling, ceiling);
    const e = await t.throwsAsync(mcu.evaluate('const hoard = []; for (;;) hoard.push(new ArrayBuffer(4096));'));
    t.true(isBodycamError(e, 'E_MCU_OUT_OF_MEMORY'), String(e));
    t.true(e!.message.includes(`heap ceiling of ${ceiling} bytes`), e!.message);
    // The device has stopped: later calls say so instead of hanging.
    const after = await t.throwsAsync(mcu.call('noop'));
    t.true(isBodycamError(after, 'E_MCU_OUT_OF_MEMORY'));
  }, { heapCeiling: { aboveLoaded: 256 * 1024 } });
});

mcuTest('the same calls on two fresh devices take identical instruction counts and heap', async (t) => {
  const run = async () => {
    const mcu = await startMcuEngine(new SimHardware().platform());
    try {
      const figures: number[] = [mcu.boot.machine.instructions, mcu.boot.bundle.instructions, mcu.boot.bundle.heapPeak];
      for (const [entry, arg] of [
        ['noop', null],
        ['sha256.soft', new Uint8Array(4096).map((_, i) => i & 255)],
        ['sha256.port', new Uint8Array(4096)],
        ['sha256.port', new Uint8Array(200 * 1024).fill(7)],
        ['cbor.reencode', hexToBytes('a26161016162820203')],
      ] as [string, CborValue][]) {
        const r = await mcu.call(entry, arg);
        figures.push(r.meter.instructions, r.meter.bridge, r.meter.heapInUse, r.meter.heapPeak);
      }
      return figures;
    } finally {
      await mcu.close();
    }
  };
  const [a, b] = [await run(), await run()];
  t.deepEqual(a, b);
  t.true(a.every((x) => x > 0));
});
