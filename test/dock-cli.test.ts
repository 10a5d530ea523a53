// `bodycam dock` as an operator runs it: a real process, JSON events on stdout, SIGTERM to stop.

import test from 'ava';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { writeDockIdentity } from '../dock-station/identity.js';
import { repoRoot } from '../host-sim/xs/bundle.js';
import { dock, root, seed, certificate, startCamera } from './helpers/dock.js';
import { KeyPairSigner } from '../firmware/signing/signer.js';
import { nodeDigest } from '../host-sim/node/hardware.js';
import { firmwareSigner, payloadOf, signedImage } from '../host-sim/update/fixture.js';
import { tempDir } from './helpers/tmp.js';

test('[node] bodycam dock serves a camera, reports progress and the session as JSON, stops on SIGTERM', async (t) => {
  const identityDir = tempDir('bodycam-dockid-');
  const storeDir = tempDir('bodycam-store-');
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

/** A dock process with its JSON lines; resolves once it listens or exits. */
function startDock(args: string[]): Promise<{ child: ReturnType<typeof spawn>; events: Record<string, unknown>[]; exit: Promise<number | null>; stderr: () => string }> {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'bodycam.js'), 'dock', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const events: Record<string, unknown>[] = [];
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      events.push(JSON.parse(line) as Record<string, unknown>);
      if (events.at(-1)!.event === 'listening') resolve({ child, events, exit, stderr: () => err });
    });
    void exit.then(() => resolve({ child, events, exit, stderr: () => err }));
  });
}

function dockIdentityDir(): string {
  const identityDir = tempDir('bodycam-dockid-');
  const dockSigner = new KeyPairSigner({ seed: seed(2), digest: nodeDigest });
  writeDockIdentity(identityDir, { seed: seed(2), certificate: certificate({ id: 'DOCK-7', kind: 'dock', publicKey: dockSigner.publicKey }), rootKey: root.publicKey });
  return identityDir;
}

test('[node] bodycam dock refuses bad settings before writing anything: a missing firmware folder, a store whose parent does not exist', async (t) => {
  const identity = dockIdentityDir();
  const base = tempDir('bodycam-dockset-');
  const fw = await startDock(['--listen', '127.0.0.1:0', '--store', join(base, 'store'), '--identity', identity, '--firmware', join(base, 'nosuchdir')]);
  t.is(await fw.exit, 2, fw.stderr());
  t.like(fw.events.at(-1), { ok: false, error: { code: 'E_FIRMWARE_DIR' } });
  t.false(existsSync(join(base, 'store')), 'no store was made');
  const deep = await startDock(['--listen', '127.0.0.1:0', '--store', join(base, 'nonexistent', 'deep', 'store'), '--identity', identity]);
  t.is(await deep.exit, 2);
  t.like(deep.events.at(-1), { ok: false, error: { code: 'E_STORE_PATH' } });
  t.false(existsSync(join(base, 'nonexistent')), 'no folders were made');
});

test('[node] bodycam dock lists the signed images it found; one station per store (a lock); a busy port is E_PORT_BUSY, as JSON', async (t) => {
  const identity = dockIdentityDir();
  const base = tempDir('bodycam-dockset-');
  mkdirSync(join(base, 'fw'));
  writeFileSync(join(base, 'fw', 'bodycam-1.1.0.img'), signedImage(payloadOf(10_000, 1), { version: '1.1.0', signer: firmwareSigner(0x42) }));
  writeFileSync(join(base, 'fw', 'README.txt'), 'not an image');
  const store = join(base, 'store');
  const first = await startDock(['--listen', '127.0.0.1:0', '--store', store, '--identity', identity, '--firmware', join(base, 'fw')]);
  try {
    const listening = first.events.find((e) => e.event === 'listening');
    t.truthy(listening, first.stderr());
    t.like(first.events.find((e) => e.event === 'firmware-shelf'), { images: [{ file: join(base, 'fw', 'bodycam-1.1.0.img'), version: '1.1.0', board: 'xiao_esp32s3_sense' }] });
    const second = await startDock(['--listen', '127.0.0.1:0', '--store', store, '--identity', identity]);
    t.is(await second.exit, 3, second.stderr());
    t.like(second.events.at(-1), { ok: false, error: { code: 'E_STORE_LOCKED' }, exit: 3 });
    const otherStore = join(base, 'store2');
    const busy = await startDock(['--listen', `127.0.0.1:${listening!.port as number}`, '--store', otherStore, '--identity', identity]);
    t.is(await busy.exit, 3, busy.stderr());
    t.like(busy.events.at(-1), { ok: false, error: { code: 'E_PORT_BUSY' }, exit: 3 });
    t.regex((busy.events.at(-1)!.error as { message: string }).message, /another port/);
    t.false(existsSync(join(otherStore, 'station.lock')), 'the refused dock let go of its store');
  } finally {
    first.child.kill('SIGTERM');
    t.is(await first.exit, 0);
  }
  t.false(existsSync(join(store, 'station.lock')), 'a stopped dock lets go of its store');
  // A dock that died without letting go (killed): its lock is stale, and the next one starts.
  writeFileSync(join(store, 'station.lock'), JSON.stringify({ pid: 2 ** 22 + 1, host: hostname(), since: 'then' }));
  const after = await startDock(['--listen', '127.0.0.1:0', '--store', store, '--identity', identity]);
  t.truthy(after.events.find((e) => e.event === 'listening'), after.stderr());
  after.child.kill('SIGTERM');
  t.is(await after.exit, 0);
});

/** A bodycam process run to its end without blocking the event loop (a dock's output keeps flowing). */
function bodycamAsync(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'bodycam.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

test('[node] practice docking, as the README walks through it: a simulated camera provisioned with --sim records a shift and docks at a running bodycam dock over TCP, twice; the store verifies', async (t) => {
  const base = tempDir('bodycam-practice-');
  const env = { BODYCAM_PASSPHRASE: 'correct horse battery staple' };
  const step = async (...args: string[]) => {
    const r = await bodycamAsync(args, env);
    t.is(r.status, 0, `bodycam ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  await step('provision', 'root', '--agency', 'Metro Police', '--out', join(base, 'agency'));
  await step('provision', 'dock', '--root', join(base, 'agency'), '--id', 'DOCK-1', '--out', join(base, 'dock-1'));
  await step('provision', 'camera', '--root', join(base, 'agency'), '--device', 'CAM-0042', '--officer', 'PC 1234 Smith', '--sim', join(base, 'practice-camera'));
  const station = await startDock(['--listen', '127.0.0.1:0', '--store', join(base, 'store'), '--identity', join(base, 'dock-1')]);
  const listening = station.events.find((e) => e.event === 'listening');
  t.truthy(listening, station.stderr());
  try {
    for (const run of [1, 2]) {
      const r = await step('sim', '--dock', `127.0.0.1:${listening!.port as number}`, '--camera', join(base, 'practice-camera'), '--scale', '0.05', '--out', join(base, 'practice'));
      t.regex(r.stdout, /^OK: camera CAM-0042 recorded/m, `run ${run}`);
      t.regex(r.stdout, /everything receipted/);
      const report = JSON.parse(readFileSync(join(base, 'practice', 'report.json'), 'utf8')) as { ok: boolean; notUploaded: number; sessions: { completed: number } };
      t.like(report, { ok: true, notUploaded: 0 });
      t.true(report.sessions.completed > 0);
    }
    const sessions = station.events.filter((e) => e.event === 'session');
    t.is(sessions.length, 2, JSON.stringify(sessions));
    t.true(sessions.every((s) => s.ok === true && s.device === 'CAM-0042' && (s.stored as number[]).length > 0));
    // Not a provisioned camera: refused as an input error.
    const empty = await bodycamAsync(['sim', '--dock', `127.0.0.1:${listening!.port as number}`, '--camera', join(base, 'nobody'), '--scale', '0.05', '--out', join(base, 'practice-2')]);
    t.is(empty.status, 2);
    t.regex(empty.stderr, /^E_NOT_PROVISIONED: .*bodycam provision camera/m);
  } finally {
    station.child.kill('SIGTERM');
    t.is(await station.exit, 0);
  }
  const verified = await bodycamAsync(['verify', join(base, 'store'), '--root', join(base, 'agency', 'root.pub')]);
  t.is(verified.status, 0, verified.stdout);
  t.regex(verified.stdout, /VALID {4}CAM-0042: \d+ segments/);
});
