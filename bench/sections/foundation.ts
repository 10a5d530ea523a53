// Foundation figures: SHA-256 cost in XS (software vs the Digest port across the bridge), and
// our software SHA-256 against Node's native crypto in wall time.

import { createHash } from 'node:crypto';
import { softDigest, sha256Of } from '../../firmware/platform/soft-digest.js';
import { startEngine } from '../../host-sim/engine.js';
import { SimHardware } from '../../host-sim/node/hardware.js';
import { bestOf, type Report } from '../report.js';

export default async function foundation(report: Report): Promise<void> {
  report.section('foundation: SHA-256 and the bridge');
  const engine = await startEngine('xs', new SimHardware().platform());
  try {
    const chunk = new Uint8Array(64 * 1024).map((_, i) => i & 255);
    const noop = await engine.call('noop');
    const soft = await engine.call('sha256.soft.repeat', chunk, 16);
    const port = await engine.call('sha256.port', new Uint8Array(1024 * 1024));
    const baseline = { name: 'SHA-256 through the Digest port, bridge included', value: port.meter!.compute };
    report.add({ name: 'XS: empty firmware call (bridge floor)', value: noop.meter!.compute, unit: 'compute units' });
    report.add({ name: 'XS: SHA-256 of 1 MiB through the Digest port, bridge included', value: port.meter!.compute, unit: 'compute units' });
    report.add({ name: 'XS: the same, firmware only (bridge excluded: native on a device)', value: port.meter!.firmware, unit: 'compute units' });
    report.add({ name: 'XS: SHA-256 of 1 MiB in JavaScript (@noble/hashes)', value: soft.meter!.compute, unit: 'compute units', baseline });
  } finally {
    await engine.close();
  }
  const mib = new Uint8Array(1024 * 1024).map((_, i) => (i * 7) & 255);
  const nodeMs = await bestOf(5, () => createHash('sha256').update(mib).digest());
  const softMs = await bestOf(5, () => sha256Of(softDigest, mib));
  report.add({ name: 'Node: SHA-256 of 1 MiB, @noble/hashes', value: softMs, unit: 'ms', baseline: { name: "Node's native crypto", value: nodeMs } });
}
