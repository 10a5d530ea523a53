// `bodycam dock --json` as a real process, for the tests that kill it: its JSON events as they
// arrive, a wait for one, and its exit; and a store and dock identity to run it on.

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { writeDockIdentity } from '../../dock-station/identity.js';
import { repoRoot } from '../../host-sim/xs/bundle.js';
import { KeyPairSigner } from '../../firmware/signing/signer.js';
import { nodeDigest } from '../../host-sim/node/hardware.js';
import { certificate, root, seed } from './dock.js';
import { tempDir } from './tmp.js';

/** A fresh store folder and dock identity (DOCK-1 of the test agency), as `bodycam dock` arguments. */
export function dockProcessArgs(): { args: string[]; storeDir: string } {
  const identityDir = tempDir('bodycam-dockid-');
  const storeDir = tempDir('bodycam-store-');
  const dockSigner = new KeyPairSigner({ seed: seed(2), digest: nodeDigest });
  writeDockIdentity(identityDir, { seed: seed(2), certificate: certificate({ id: 'DOCK-1', kind: 'dock', publicKey: dockSigner.publicKey }), rootKey: root.publicKey });
  return { args: ['--store', storeDir, '--identity', identityDir], storeDir };
}

export interface Station {
  child: ChildProcess;
  events: Record<string, unknown>[];
  stderr: string[];
  waitFor(pred: (e: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  exit: Promise<number | string | null>;
}

export function bodycamDock(args: string[]): Station {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'bodycam.js'), 'dock', '--listen', '127.0.0.1:0', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const events: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      events.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // not JSON
    }
    for (const w of waiters) w();
  });
  child.stderr!.on('data', (b: Buffer) => stderr.push(b.toString()));
  const exit = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  return {
    child,
    events,
    stderr,
    exit,
    waitFor: (pred) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const e = events.find(pred);
          if (e) resolve(e);
        };
        waiters.push(check);
        void exit.then((code) => reject(new Error(`bodycam dock exited (${code}): ${stderr.join('')}`)));
        check();
      }),
  };
}
