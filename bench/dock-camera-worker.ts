// A camera in its own thread for the dock bench, as a real camera is its own machine: records
// `segments`, reports ready, docks to `port` when told, reports the camera's status.

import { parentPort, workerData } from 'node:worker_threads';
import { dock, startCamera } from '../test/helpers/dock.js';

const { id, segments, frames, bodyBytes } = workerData as { id: string; segments: number; frames: number; bodyBytes: number };
const camera = await startCamera('node', { id, flashBlocks: 16384 });
await camera.engine.call('dock.camera.record', { segments, frames, bodyBytes });
parentPort!.postMessage({ ready: true });
parentPort!.once('message', async (m: { port: number }) => {
  const s = await dock(camera, m.port);
  await camera.close();
  parentPort!.postMessage({ done: true, pending: s.pending.length });
});
