// A camera fresh out of the box, end to end on both engines: firmware/main.ts start() (the
// boot.start entry, exactly what a device runs) finds no certificate, runs no recorder, blinks
// AWAITING_PROVISIONING and dials the armoury; the armoury tool listens on loopback
// (`provision camera --listen`: ListenTransport + provisionCamera), provisions the first camera
// that connects, and the camera starts recording at once. A second camera holding a certificate
// copied from the first neither records nor accepts that certificate when offered; it is
// provisioned properly with --force. The tool's --listen CLI path: a clear wait message and timeout.

import test, { type ExecutionContext } from 'ava';
import { join } from 'node:path';
import type { CborValue } from '../firmware/codec/cbor.js';
import { BodycamError } from '../firmware/errors.js';
import type { LinkOptions } from '../firmware/platform/link.js';
import { heldProvisioning, readArmouryAddress } from '../firmware/provision/boot.js';
import { KEY_CONFIG, KEY_DEVICE_CERT, KEY_ROOT } from '../firmware/provision/camera.js';
import { DEFAULT_SETTINGS } from '../firmware/provision/config.js';
import { AWAITING_PROVISIONING, LED_COLOURS } from '../firmware/recorder/indicators.js';
import { hostEd25519 } from '../host/ed25519-node.js';
import { createRoot, ListenTransport, provisionCamera, provisionCommand, ProvisioningClient, readRegister, type AgencyRoot } from '../cli/provision.js';
import { startEngine, type Engine, type EngineName } from '../host-sim/engine.js';
import { SimFlash, attachFlash } from '../host-sim/flash/sim-flash.js';
import { RECORDER_KEYS_PATH } from '../host-sim/guest/recorder.js';
import { TcpLink } from '../host-sim/link/tcp-link.js';
import { MemoryKeyStores, runVirtualTime, SimHardware } from '../host-sim/node/hardware.js';
import { plain } from '../host-sim/scenario/runner.js';
import { attachCamera, synthetic } from '../host-sim/sensor/sim-camera.js';
import { Activity, certificate, root as testRoot } from './helpers/dock.js';
import { tempDir } from './helpers/tmp.js';

const ed25519 = hostEd25519();
const PASS = 'correct horse battery staple';
const LONG_MS = 2000;
const SETTINGS = { ...DEFAULT_SETTINGS, width: 320, height: 240, frameRate: 5, preEventSeconds: 5, segmentSeconds: 10 };

type Status = Record<string, unknown> & { state: string };

function agency(): AgencyRoot {
  const dir = join(tempDir('bodycam-boot-root-'), 'agency');
  return createRoot({ dir, agency: 'Metro Police', passphrase: PASS, operator: 'sgt.armourer', scryptN: 1 << 12, ed25519 });
}

/** A simulated camera powered on through start(), dialling the armoury at 127.0.0.1:`port`. */
class BootCamera {
  readonly hw: SimHardware;
  readonly activity = new Activity();
  engine!: Engine;

  private constructor(seed: string) {
    this.hw = new SimHardware({ seed });
    attachFlash(this.hw, new SimFlash({ blockLength: 4096, blocks: 512 }));
    attachCamera(this.hw, { source: synthetic() });
    const activity = this.activity;
    this.hw.devices.Link = function ArmouryLink(options: LinkOptions) {
      return new TcpLink(options, {}, activity);
    } as unknown as NonNullable<SimHardware['devices']['Link']>;
    this.hw.battery.curve = [{ at: 0, millivolts: 4100, charging: false }];
  }

  static async boot(engine: EngineName, seed: string, port: number, keys?: Map<string, Uint8Array>): Promise<BootCamera> {
    const c = new BootCamera(seed);
    if (keys) c.hw.keyStores.partitions.set(RECORDER_KEYS_PATH, keys);
    c.engine = await startEngine(engine, c.hw.platform());
    await c.engine.call('boot.start', { camera: { width: 320, height: 240, frameRate: 5 }, provision: { port }, settings: { longPressMs: LONG_MS } } as CborValue);
    await c.engine.pump();
    return c;
  }

  async status(): Promise<Status> {
    return plain<Status>((await this.engine.call('boot.status')).value);
  }

  keys(): Map<string, Uint8Array> {
    return this.hw.keyStores.partitions.get(RECORDER_KEYS_PATH)!;
  }

  leds(): number[] {
    return this.hw.indicators.writes.filter((w) => w.pin === 'status').map((w) => w.value);
  }

  /** Virtual time forward `ms`, timer by timer, delivering what each queued. */
  async run(ms: number): Promise<void> {
    await runVirtualTime(this.hw, this.engine, this.hw.clock.monotonic() + ms);
  }

  /** Deliver link callbacks (real time) until `work` settles; its result. */
  async serve<T>(work: Promise<T>, timeoutMs = 20_000): Promise<T> {
    let settled = false;
    const done = work.finally(() => {
      settled = true;
    });
    done.catch(() => {});
    const deadline = Date.now() + timeoutMs;
    while (!settled) {
      if (Date.now() > deadline) throw new Error(`the camera did not finish within ${timeoutMs} ms: ${JSON.stringify(await this.status())}`);
      await this.engine.pump();
      await this.activity.wait(20);
    }
    await this.engine.pump();
    return done;
  }

  /** Pump until the camera's status satisfies `ok` (real time). */
  async until(ok: (s: Status) => boolean, timeoutMs = 10_000): Promise<Status> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.engine.pump();
      const s = await this.status();
      if (ok(s)) return s;
      if (Date.now() > deadline) throw new Error(`camera status did not change as expected: ${JSON.stringify(s)}`);
      await this.activity.wait(20);
    }
  }

  async button(down: boolean): Promise<void> {
    this.hw.buttons.set('record', down);
    await this.engine.pump();
  }
}

function blinkOnly(t: ExecutionContext, leds: number[], what: string): void {
  t.true(leds.length >= 3, `${what}: the LED blinks (${leds.length} writes)`);
  t.true(leds.every((v) => v === AWAITING_PROVISIONING.colour || v === 0), `${what}: only the awaiting-provisioning colour and off (${leds.map((v) => v.toString(16))})`);
  t.false(leds.includes(LED_COLOURS.recording), `${what}: never red`);
  for (let i = 1; i < leds.length; i++) t.not(leds[i], leds[i - 1], `${what}: on, off, on...`);
}

for (const engine of ['node', 'xs'] as EngineName[]) {
  test(`[${engine}] an unprovisioned camera awaits the armoury, is provisioned by the listening tool, then records; a certificate copied to another camera is refused by that camera`, async (t) => {
    const root = agency();
    const connected: string[] = [];
    const listening = await ListenTransport.open('127.0.0.1:0', { acceptTimeoutMs: 15_000, onConnected: (from) => connected.push(from) });
    const port = listening.port;
    const a = await BootCamera.boot(engine, `${engine}-cam-a`, port);
    try {
      let s = await a.status();
      t.is(s.state, 'awaiting-provisioning', 'no certificate: no recorder');
      t.is(s.reason, 'E_NOT_PROVISIONED');
      t.is(s.armoury, `127.0.0.1:${port}`);
      await a.run(2000);
      blinkOnly(t, a.leds(), 'awaiting provisioning');

      // The armoury tool: the first camera that connects to it is provisioned.
      const r = await a.serve(provisionCamera({ root, device: 'CAM-0042', officer: 'PC 1234 Smith', transport: listening, settings: SETTINGS, operator: 'sgt.armourer', ed25519 }));
      await listening.close();
      t.is(connected.length, 1);
      t.is(r.device, 'CAM-0042');
      t.is(r.keyId, String(s.keyId), 'the certificate is for the key the camera reported while waiting');
      t.like(readRegister(root.dir).cameras['CAM-0042'], { officer: 'PC 1234 Smith', keyId: r.keyId });

      // Installed: the recorder starts in place, in standby, as the provisioned camera.
      s = await a.until((x) => x.state !== 'awaiting-provisioning');
      t.is(s.state, 'standby');
      t.is(s.device, 'CAM-0042');
      t.like(s.config, { width: 320, height: 240, preEventSeconds: 5, segmentSeconds: 10 }, 'the configuration the armoury signed');
      t.is(a.leds().at(-1), LED_COLOURS.standby);

      // It records: a press, frames into evidence, a long press seals the segment.
      await a.run(3000);
      await a.button(true);
      await a.run(300);
      await a.button(false);
      t.is((await a.status()).state, 'recording');
      t.is(a.leds().at(-1), LED_COLOURS.recording);
      await a.run(4000);
      await a.button(true);
      await a.run(LONG_MS + 300);
      await a.button(false);
      await a.run(1000);
      s = await a.status();
      t.is(s.state, 'standby');
      t.true((s.evidenceFrames as number) >= 20, `frames stored as evidence (${String(s.evidenceFrames)})`);
      t.true((s.segmentsSealed as number) >= 1);

      // Camera B holds A's certificate, root and configuration (copied key store entries), not A's key.
      const copied = new MemoryKeyStores();
      const kb = copied.open({ path: RECORDER_KEYS_PATH });
      for (const k of [KEY_DEVICE_CERT, KEY_ROOT, KEY_CONFIG]) kb.set(k, a.keys().get(k)!);
      const armoury = await ListenTransport.open(`127.0.0.1:${port}`, { acceptTimeoutMs: 15_000 });
      const b = await BootCamera.boot(engine, `${engine}-cam-b`, port, copied.partitions.get(RECORDER_KEYS_PATH)!);
      try {
        let sb = await b.status();
        t.is(sb.state, 'awaiting-provisioning', 'a copied certificate does not make a camera record');
        t.is(sb.reason, 'E_CERT_KEY');
        t.not(sb.keyId, r.keyId);

        // Offered A's certificate over the wire (with force, as it holds one), B itself refuses it.
        const client = new ProvisioningClient(armoury);
        const id = await b.serve(client.request('identify'));
        t.true(id.f.get('provisioned'), 'it holds a certificate...');
        const e = await b.serve(client.request('install', { cert: r.certificate, root: root.publicKey, config: r.config, revocations: null, force: true }).then(() => undefined, (x: unknown) => x));
        t.true(e instanceof BodycamError && e.code === 'E_CERT_KEY', String(e));
        t.deepEqual((e as BodycamError).detail, { fromCamera: true }, 'the camera refused, not the tool');
        await armoury.close();
        sb = await b.until((x) => x.phase === 'retrying');
        t.is(sb.state, 'awaiting-provisioning');
        t.is(sb.refused, 1);
        t.regex(String(sb.lastError), /E_LINK_CLOSED/);
        t.deepEqual(b.keys().get(KEY_DEVICE_CERT), a.keys().get(KEY_DEVICE_CERT), 'a refused install changes nothing');
        t.false(b.leds().some((v) => v === LED_COLOURS.recording || v === LED_COLOURS.standby), 'B never looked like a working camera');

        // The armoury provisions B properly (its own certificate, --force); B reconnects after its backoff.
        const again = await ListenTransport.open(`127.0.0.1:${port}`, { acceptTimeoutMs: 15_000 });
        const provisioned = provisionCamera({ root, device: 'CAM-0043', officer: 'PC 5678 Jones', transport: again, settings: SETTINGS, force: true, operator: 'sgt.armourer', ed25519 });
        await b.run(1000);
        const rb = await b.serve(provisioned);
        await again.close();
        t.true(rb.forced);
        t.not(rb.keyId, r.keyId);
        sb = await b.until((x) => x.state !== 'awaiting-provisioning');
        t.is(sb.state, 'standby');
        t.is(sb.device, 'CAM-0043');
      } finally {
        await b.engine.close();
      }
    } finally {
      await listening.close();
      await a.engine.close();
    }
  });
}

test('[node] retries back off and are bounded; a button press tries again at once', async (t) => {
  // Nothing listens on this port: every attempt is refused.
  const unused = await ListenTransport.open('127.0.0.1:0');
  const port = unused.port;
  await unused.close();
  const c = new SimHardware({ seed: 'retry' });
  const attempts: number[] = [];
  c.devices.Link = function Refused(options: LinkOptions) {
    attempts.push(c.clock.monotonic());
    return new TcpLink(options);
  } as unknown as NonNullable<SimHardware['devices']['Link']>;
  const engine = await startEngine('node', c.platform());
  try {
    await engine.call('boot.start', { provision: { port }, retry: { firstMs: 1000, maxMs: 4000, attempts: 5 } } as CborValue);
    const status = async () => plain<Status>((await engine.call('boot.status')).value);
    /** Real time for a refused connection to come back (virtual time stands still meanwhile). */
    const settle = async () => {
      for (let i = 0; i < 400 && (await status()).phase === 'connecting'; i++) {
        await engine.pump();
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    // One timer at a time (blinks and retries), so each attempt happens when its retry is due.
    for (let i = 0; i < 200 && (await status()).phase !== 'gave-up'; i++) {
      await settle();
      const next = c.timer.nextAt();
      if (next === undefined) break;
      c.timer.runUntil(next);
      await engine.pump();
    }
    const s = await status();
    t.is(s.phase, 'gave-up');
    t.is(s.attempts, 5);
    t.is(s.failures, 5);
    t.deepEqual(attempts.slice(1).map((at, i) => at - attempts[i]), [1000, 2000, 4000, 4000], 'waits double up to the cap');
    c.buttons.set('record', true);
    await engine.pump();
    t.is(attempts.length, 6, 'a press tries again at once');
    t.is((await status()).round, 1, 'and starts a fresh round');
  } finally {
    await engine.close();
  }
});

test('heldProvisioning: no certificate, a certificate without root, another key\'s certificate; board provision entries', (t) => {
  const ks = new MemoryKeyStores().open({ path: 'k' });
  const mine = new Uint8Array(32).fill(7);
  t.like(heldProvisioning(ks, mine), { ok: false, code: 'E_NOT_PROVISIONED' });
  ks.set(KEY_DEVICE_CERT, certificate({ id: 'CAM-1', kind: 'device', publicKey: mine }));
  t.like(heldProvisioning(ks, mine), { ok: false, code: 'E_NOT_PROVISIONED' }, 'no agency root');
  ks.set(KEY_ROOT, testRoot.publicKey);
  t.deepEqual(heldProvisioning(ks, mine), { ok: true, id: 'CAM-1' });
  t.like(heldProvisioning(ks, new Uint8Array(32).fill(8)), { ok: false, code: 'E_CERT_KEY' }, 'a certificate for another key');
  ks.set(KEY_DEVICE_CERT, certificate({ id: 'DOCK-1', kind: 'dock', publicKey: mine }));
  t.like(heldProvisioning(ks, mine), { ok: false, code: 'E_CERT_KIND' });
  ks.set(KEY_DEVICE_CERT, Uint8Array.of(1, 2, 3));
  t.false(heldProvisioning(ks, mine).ok, 'unreadable');
  t.is(readArmouryAddress(null, 'b'), undefined);
  t.deepEqual(readArmouryAddress({ address: '10.42.0.1', port: 7421 }, 'b'), { address: '10.42.0.1', port: 7421 });
  t.deepEqual(readArmouryAddress({ port: 7421 }, 'b'), { port: 7421 });
  for (const bad of [{ port: 0 }, { port: 70000 }, { address: '', port: 1 }, [], 'x']) {
    const e = t.throws(() => readArmouryAddress(bad, 'xiao'), { instanceOf: BodycamError });
    t.is(e.code, 'E_BOARD_INVALID');
    t.regex(e.message, /boards\/xiao\.json/);
  }
});

test.serial('[cli] provision camera --listen says where it waits, and stops with a clear error when no camera comes', async (t) => {
  const root = agency();
  const lines: string[] = [];
  const e = await t.throwsAsync(
    provisionCommand(['camera', '--root', root.dir, '--device', 'CAM-9', '--officer', 'PC 1', '--listen', '127.0.0.1:0', '--wait', '1'], (l) => lines.push(l), { env: { BODYCAM_PASSPHRASE: PASS } }),
    { instanceOf: BodycamError },
  );
  t.is(e.code, 'E_TIMEOUT');
  t.regex(e.message, /no camera connected to 127\.0\.0\.1:\d+ within 1 s/);
  t.regex(lines.join('\n'), /waiting up to 1 s for a camera to connect to 127\.0\.0\.1:\d+/);
  t.regex(lines.join('\n'), /blinks cyan/);
  const u = await t.throwsAsync(provisionCommand(['camera', '--root', root.dir, '--device', 'CAM-9', '--officer', 'PC 1', '--connect', 'h:1', '--wait', '5'], () => {}, { env: { BODYCAM_PASSPHRASE: PASS } }), { instanceOf: BodycamError });
  t.is(u.code, 'E_USAGE');
});
