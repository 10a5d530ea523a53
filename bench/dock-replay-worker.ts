// The replay camera in a process of its own (a camera is its own machine, and its CPU is not the
// station's): prepares its segments once, reports ready, then for each {port, mode} docks to a
// station ('replay') or sends the same bytes raw ('copy') and reports its own CPU time.
// Run by bench/sections/ingest.ts through child_process.fork.

import { plainSend, prepareReplay, replaySession, restoreReplay } from './dock-replay.js';

const [segments, segmentBytes, chunk] = process.argv.slice(2).map(Number);
const replay = prepareReplay({ id: 'CAM-R001', segments, segmentBytes, chunk });
process.send!({ ready: true, bytes: replay.bytes });
process.on('message', async (m: { port?: number; mode?: 'replay' | 'copy'; bytes?: number; exit?: boolean }) => {
  if (m.exit || m.port === undefined) {
    process.disconnect();
    return;
  }
  const cpu0 = process.cpuUsage();
  let released = 0;
  let closeReason = '';
  if (m.mode === 'copy') await plainSend(replay, m.port, m.bytes ?? replay.bytes);
  else {
    const r = await replaySession(replay, m.port);
    released = r.released.length;
    closeReason = r.closeReason;
  }
  const cpu = process.cpuUsage(cpu0);
  process.send!({ done: true, cpuMs: (cpu.user + cpu.system) / 1000, released, closeReason });
  // After reporting: what the bench times ends with the session.
  restoreReplay(replay);
});
