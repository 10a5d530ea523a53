// `bodycam demo`: runs firmware modules in the real XS engine and on Node, prints results and
// their cost in XS compute units. (The full simulated shift replaces this as `npm start`.)

import { encode } from '../firmware/codec/cbor.js';
import { startEngine } from '../host-sim/engine.js';
import { SimHardware } from '../host-sim/node/hardware.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export async function demo(out: (line: string) => void): Promise<number> {
  const data = new Uint8Array(Buffer.from('bodycam: nothing is lost'));
  const manifest = { device: 'cam-0001', seq: 1, frames: 150, media: data };
  for (const name of ['node', 'xs'] as const) {
    const hw = new SimHardware();
    const engine = await startEngine(name, hw.platform());
    try {
      const soft = await engine.call('sha256.soft', data);
      const port = await engine.call('sha256.port', data);
      const cbor = await engine.call('cbor.encode', manifest);
      const cost = (m?: { compute: number }) => (m ? `  (${m.compute.toLocaleString('en')} XS compute units)` : '');
      out(`[${name}] SHA-256 in firmware:         ${hex(soft.value as Uint8Array)}${cost(soft.meter)}`);
      out(`[${name}] SHA-256 via the Digest port: ${hex(port.value as Uint8Array)}${cost(port.meter)}`);
      out(`[${name}] deterministic CBOR manifest: ${hex(cbor.value as Uint8Array)}${cost(cbor.meter)}`);
    } finally {
      await engine.close();
    }
  }
  out(`the same bytes on both engines: ${hex(encode(manifest))}`);
  return 0;
}
