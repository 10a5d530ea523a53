// The replay camera in a process of its own (a camera is its own machine, and its CPU is not the
// station's): prepares its segments once, reports ready, then for each {port, mode} docks to a
// station ('replay'), sends the same bytes raw ('copy') or sealed without the protocol ('floor',
// under the key it is given) and reports its own CPU time.
// Run by bench/sections/ingest.ts through child_process.fork.

import { floorSend, plainSend, prepareReplay, replaySession, restoreReplay } from './dock-replay.js';

const [segments, segmentBytes, chunk] = process.argv.slice(2).map(Number);
const replay = prepareReplay({ id: 'CAM-R001', segments, segmentBytes, chunk });
process.send!({ ready: true, bytes: replay.bytes });
process.on('message', async (m: { port?: number; mode?: 'replay' | 'copy' | 'floor'; bytes?: number; key?: string; exit?: boolean }) => {
  if (m.exit || m.port === undefined) {
    process.disconnect();
    return;
  }
  const cpu0 = process.cpuUsage();
  let released = 0;
  let closeReason = '';
  let digest: string | undefined;
  if (m.mode === 'copy') await plainSend(replay, m.port, m.bytes ?? replay.bytes);
  else if (m.mode === 'floor') digest = await floorSend(replay, m.port, chunk, Buffer.from(m.key!, 'hex'));
  else {
    const r = await replaySession(replay, m.port);
    released = r.released.length;
    closeReason = r.closeReason;
  }
  const cpu = process.cpuUsage(cpu0);
  process.send!({ done: true, cpuMs: (cpu.user + cpu.system) / 1000, released, closeReason, digest });
  // After reporting: what the bench times ends with the session.
  restoreReplay(replay);
});
