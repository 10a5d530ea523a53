// `bodycam dock` as an operator runs it: a real process, JSON events on stdout, SIGTERM to stop.

import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { writeDockIdentity } from '../dock-station/identity.js';
import { repoRoot } from '../host-sim/xs/bundle.js';
import { dock, root, seed, certificate, startCamera } from './helpers/dock.js';
import { KeyPairSigner } from '../firmware/signing/signer.js';
import { nodeDigest } from '../host-sim/node/hardware.js';

test('[node] bodycam dock serves a camera, reports progress and the session as JSON, stops on SIGTERM', async (t) => {
  const identityDir = mkdtempSync(join(tmpdir(), 'bodycam-dockid-'));
  const storeDir = mkdtempSync(join(tmpdir(), 'bodycam-store-'));
  const dockSigner = new KeyPairSigner({ seed: seed(2), digest: nodeDigest });
  writeDockIdentity(identityDir, { seed: seed(2), certificate: certificate({ id: 'DOCK-7', kind: 'dock', publicKey: dockSigner.publicKey }), rootKey: root.publicKey });
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'bodycam.js'), 'dock', '--listen', '127.0.0.1:0', '--store', storeDir, '--identity', identityDir, '--json'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const events: Record<string, unknown>[] = [];
  let onEvent: (() => void) | undefined;
  createInterface({ input: child.stdout! }).on('line', (line) => {
    events.push(JSON.parse(line) as Record<string, unknown>);
    onEvent?.();
  });
  const waitFor = (pred: (e: Record<string, unknown>) => boolean) =>
    new Promise<Record<string, unknown>>((resolve) => {
      const check = () => {
        const e = events.find(pred);
        if (e) resolve(e);
      };
      onEvent = check;
      check();
    });
  const listening = await waitFor((e) => e.event === 'listening');
  t.is(listening.dock, 'DOCK-7');
  const camera = await startCamera('node');
  try {
    await camera.engine.call('dock.camera.record', { segments: 3 });
    const s = await dock(camera, listening.port as number);
    const session = await waitFor((e) => e.event === 'session');
    t.true(session.ok as boolean);
    t.deepEqual(session.stored, [0, 1, 2]);
    t.deepEqual(s.pending, []);
    t.true(events.some((e) => e.event === 'progress' && e.device === 'CAM-0001' && (e.segmentsDone as number) > 0));
  } finally {
    await camera.close();
  }
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  t.is(await exit, 0);
  // It says which custody checkpoint to copy out of the store: the one taken at its stop.
  const cp = events.find((e) => e.event === 'custody-checkpoint');
  t.truthy(cp, JSON.stringify(events.map((e) => e.event)));
  t.regex(String(cp!.file), /log\/checkpoints\/\d{10}\.cose$/);
  t.true((cp!.entries as number) > 5);
});
