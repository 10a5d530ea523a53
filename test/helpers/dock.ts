// A dock station on real loopback TCP with real SQLite, an agency root, and a camera (on either
// engine) provisioned by that root, holding a formatted store on simulated flash.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CborValue } from '../../firmware/codec/cbor.js';
import { issueCertificate, type Certificate } from '../../firmware/signing/certificate.js';
import { KeyPairSigner } from '../../firmware/signing/signer.js';
import { hostEd25519 } from '../../host/ed25519-node.js';
import { DockStation, type StationOptions } from '../../dock-station/station.js';
import { startEngine, type Engine, type EngineName } from '../../host-sim/engine.js';
import { SimFlash, attachFlash } from '../../host-sim/flash/sim-flash.js';
import { partitionedFlash } from '../../host-sim/update/partitions.js';
import { TcpLink, type LinkFaults } from '../../host-sim/link/tcp-link.js';
import { SimHardware, nodeDigest } from '../../host-sim/node/hardware.js';
import type { LinkOptions } from '../../firmware/platform/link.js';
import { connect } from 'node:net';
import type { CameraSessionOptions } from '../../firmware/dock/camera-session.js';
import { cameraSession, dockEntries } from '../../host-sim/guest/dock.js';
import { NobleEd25519 } from '../../firmware/signing/ed25519-noble.js';
import type { GuestEnv } from '../../host-sim/guest/env.js';
import { tempDir } from './tmp.js';

export const AGENCY = 'Test Constabulary';
export const YEAR = 365 * 24 * 3600 * 1000;

export function seed(n: number): Uint8Array {
  return new Uint8Array(32).fill(n);
}

export const root = new KeyPairSigner({ seed: seed(1), digest: nodeDigest, ed25519: hostEd25519() });

/** The agency root key in a file outside any store: what `--root` pins verify and export to. */
export function rootFile(): string {
  const path = join(tempDir('bodycam-root-'), 'root.pub');
  writeFileSync(path, root.publicKey);
  return path;
}

export function certificate(c: Partial<Certificate> & Pick<Certificate, 'id' | 'kind' | 'publicKey'>, signer = root): Uint8Array {
  return issueCertificate({ agency: AGENCY, serial: 1, notBefore: Date.UTC(2026, 0, 1), notAfter: Date.UTC(2030, 0, 1), ...c }, signer);
}

export function dockIdentity(id = 'DOCK-1', seedByte = 2, cert?: Partial<Certificate>) {
  const signer = new KeyPairSigner({ seed: seed(seedByte), digest: nodeDigest, ed25519: hostEd25519() });
  return { id, signer, certificate: certificate({ id, kind: 'dock', publicKey: signer.publicKey, ...cert }), rootKey: root.publicKey };
}

export async function startStation(o: Partial<StationOptions> & { storeDir?: string } = {}): Promise<{ station: DockStation; port: number; storeDir: string }> {
  const storeDir = o.storeDir ?? tempDir('bodycam-dock-');
  const station = new DockStation({ identity: dockIdentity(), storeDir, ed25519: hostEd25519(), timeoutMs: 5000, ...o });
  const addr = await station.listen(0);
  return { station, port: addr.port, storeDir };
}

/** Wakes the host loop when the link has news for the firmware. */
export class Activity {
  #wake: (() => void) | undefined;
  #pending = false;
  onActivity(): void {
    if (this.#wake) this.#wake();
    else this.#pending = true;
  }
  /** Resolves on the next activity (or at once if some arrived since the last wait), or after `ms`. */
  wait(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(t);
        this.#wake = undefined;
        resolve();
      };
    });
  }
}

export interface Camera {
  engine: Engine;
  hw: SimHardware;
  flash: SimFlash;
  activity: Activity;
  /** Faults for the next connection (set the fields; the object is shared with the link). */
  faults: LinkFaults;
  status(): Promise<CameraStatus>;
  close(): Promise<void>;
}

export interface CameraStatus {
  state: string;
  closeReason: string;
  events: string[];
  pending: number[];
  released: number[];
  awaitingUpload: number;
  receipts: number;
}

export async function startCamera(engineName: EngineName, o: { id?: string; cert?: Partial<Certificate>; flashBlocks?: number; otaBlocks?: number } = {}): Promise<Camera> {
  const hw = new SimHardware({ seed: o.id ?? 'CAM-0001' });
  const storeBlocks = o.flashBlocks ?? 512;
  const flash = new SimFlash({ blockLength: 4096, blocks: storeBlocks + (o.otaBlocks ?? 0) });
  if (o.otaBlocks) {
    // One chip, two partitions: the evidence store and the firmware update slots.
    hw.devices.Flash = partitionedFlash(flash, [
      { path: 'bodycam-store', firstBlock: 0, blocks: storeBlocks },
      { path: 'bodycam-ota', firstBlock: storeBlocks, blocks: o.otaBlocks },
    ]);
  } else attachFlash(hw, flash);
  const activity = new Activity();
  const faults: LinkFaults = {};
  hw.devices.Link = function FaultyTcpLink(options: LinkOptions) {
    return new TcpLink(options, faults, activity);
  } as unknown as typeof hw.devices.Link;
  const engine = await startEngine(engineName, hw.platform());
  const id = o.id ?? 'CAM-0001';
  const publicKey = (await engine.call('dock.camera.identity')).value as Uint8Array;
  await engine.call('dock.camera.install', root.publicKey, certificate({ id, kind: 'device', publicKey, ...o.cert }));
  await engine.call('dock.camera.format');
  return {
    engine,
    hw,
    flash,
    activity,
    faults,
    status: async () => mapStatus((await engine.call('dock.camera.status')).value),
    close: () => engine.close(),
  };
}

function mapStatus(v: CborValue): CameraStatus {
  const m = v as Map<string, CborValue>;
  return Object.fromEntries(m) as unknown as CameraStatus;
}

/** Connect the camera to a station and run the session until the camera side has closed. */
export async function dock(camera: Camera, port: number, timeoutMs = 60000, options: { updates?: boolean } = {}): Promise<CameraStatus> {
  await camera.engine.call('dock.camera.connect', { port, ...options });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await camera.engine.pump();
    const s = await camera.status();
    if (s.state === 'closed') return s;
    if (Date.now() > deadline) throw new Error(`docking did not finish in ${timeoutMs} ms: ${JSON.stringify(s)}`);
    await camera.activity.wait(200);
  }
}

/** Dock an in-process camera session (with any options) to a station over TCP. */
export async function dockLocal(env: GuestEnv, port: number, extra: Partial<CameraSessionOptions>): Promise<void> {
  const session = cameraSession(env, extra);
  const sock = connect(port, '127.0.0.1');
  await new Promise<void>((resolve) => {
    sock.on('connect', () => {
      for (const f of session.start()) sock.write(f);
    });
    sock.on('data', (b: Buffer) => {
      for (const f of session.receive(b)) sock.write(f);
      if (session.state === 'closed') sock.end();
    });
    sock.on('close', () => resolve());
  });
}

/**
 * A camera in this process (node engine, no link): a store on simulated flash, its identity,
 * provisioned by the test root as CAM-0001, holding `segments` sealed segments.
 */
export function inProcessCamera(o: { seed?: string; segments: number; frames?: number; bodyBytes?: number }): GuestEnv {
  const hw = new SimHardware({ seed: o.seed ?? 'local' });
  attachFlash(hw, new SimFlash({ blockLength: 4096, blocks: 256 }));
  const platform = hw.platform();
  const env: GuestEnv = { platform, state: {}, cameraEd25519: new NobleEd25519({ digest: platform.digest }) };
  const publicKey = dockEntries['dock.camera.identity'](env) as Uint8Array;
  dockEntries['dock.camera.install'](env, root.publicKey, certificate({ id: 'CAM-0001', kind: 'device', publicKey }), null);
  dockEntries['dock.camera.format'](env);
  const record = new Map<CborValue, CborValue>([['segments', o.segments]]);
  if (o.frames !== undefined) record.set('frames', o.frames);
  if (o.bodyBytes !== undefined) record.set('bodyBytes', o.bodyBytes);
  dockEntries['dock.camera.record'](env, record);
  return env;
}
