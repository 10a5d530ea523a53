// A fleet of simulated cameras in a process of its own (so the station's RSS is the station's):
// starts `count` cameras on the node engine, records the same segments on each, reports ready;
// when sent {port} docks them all at once and reports how each session ended.
// Run by bench/sections/dock.ts through child_process.fork.

import { dock, startCamera, type Camera } from '../test/helpers/dock.js';

const [count, segments, frames, bodyBytes] = process.argv.slice(2).map(Number);
const cameras: Camera[] = [];
for (let i = 0; i < count; i++) {
  const c = await startCamera('node', { id: `CAM-${String(i + 1).padStart(4, '0')}`, flashBlocks: 4096 });
  await c.engine.call('dock.camera.record', { segments, frames, bodyBytes });
  cameras.push(c);
}
process.send!({ ready: true });
process.once('message', async (m: { port: number }) => {
  const statuses = await Promise.all(cameras.map((c) => dock(c, m.port, 30 * 60_000).catch((e: unknown) => ({ pending: [-1], closeReason: String(e) }))));
  await Promise.all(cameras.map((c) => c.close()));
  process.send!({ done: true, empty: statuses.filter((s) => s.pending.length === 0).length, reasons: statuses.filter((s) => s.pending.length > 0).map((s) => s.closeReason) });
  process.disconnect();
});
