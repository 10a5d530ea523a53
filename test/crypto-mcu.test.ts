// firmware/crypto on the mcu engine (XS cross-compiled for a Cortex-M7 under QEMU, the AEAD across
// the same bridge): RFC 9180 A.1 and a STREAM give the bytes node gives, and the instructions of
// one HPKE wrap are what the bench reports (npm run bench -- cipher), here only checked to be counted.

import test from 'ava';
import type { CborValue } from '../firmware/codec/cbor.js';
import { startEngine } from '../host-sim/engine.js';
import { startMcuEngine } from '../host-sim/mcu/engine.js';
import { SimHardware } from '../host-sim/node/hardware.js';

const mcuTest = process.env.BODYCAM_MCU === 'skip' ? test.skip : test.serial;
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const text = (v: CborValue): string => JSON.stringify(v, (_k, x: unknown) => (x instanceof Uint8Array ? Buffer.from(x).toString('hex') : x));

mcuTest('RFC 9180 A.1 and a STREAM on the mcu engine: the bytes node gives', async (t) => {
  const mcu = await startMcuEngine(new SimHardware().platform());
  const node = await startEngine('node', new SimHardware().platform());
  try {
    const calls: [string, ...CborValue[]][] = [
      ['crypto.hpke.setup', 'AES-128-GCM', hex('6db9df30aa07dd42ee5e8181afdb977e538f5e1fec8a06223f33f7013e525037'), hex('7268600d403fce431561aef583ee1613527cff655c1343f29812e66706df3234'), hex('4f6465206f6e2061204772656369616e2055726e')],
      ['crypto.stream.seal', hex('11'.repeat(32)), [hex('00'.repeat(100)), hex('ff'.repeat(4097))], [hex('01'), hex('02')]],
    ];
    for (const [entry, ...args] of calls) {
      const a = await mcu.call(entry, ...args);
      const b = await node.call(entry, ...args);
      t.is(text(a.value), text(b.value), entry);
      t.true((a.meter?.compute ?? 0) > 0, `${entry}: instructions counted`);
    }
    const setup = (await mcu.call(...calls[0])).value as Uint8Array[];
    t.is(Buffer.from(setup[4]).toString('hex'), 'fe0e18c9f024ce43799ae393c7e8fe8fce9d218875e8227b0187c04e7d2ea1fc', 'the shared secret of A.1');
  } finally {
    await mcu.close();
    await node.close();
  }
});
