// Provisioning a camera end to end: the armoury tool against the camera-side handler running as
// firmware (on Node and inside XS, its key store in files), over TCP, and then a docking at a
// dock station with the certificates the armoury issued; the firmware key it installs is the one
// the camera's update session then trusts.

import test, { type ExecutionContext } from 'ava';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { isBytes, toHex, type CborValue } from '../firmware/codec/cbor.js';
import { CameraSession, type DockEvent } from '../firmware/dock/camera-session.js';
import { BodycamError } from '../firmware/errors.js';
import { KEY_CONFIG, readProvisioned } from '../firmware/provision/camera.js';
import { signFirmwareKeys } from '../firmware/provision/firmware-keys.js';
import { softDigest } from '../firmware/platform/soft-digest.js';
import { verifyImage } from '../firmware/update/session.js';
import { KeyStoreTrust } from '../firmware/update/trust.js';
import { firmwareSigner, payloadOf, signedImage } from '../host-sim/update/fixture.js';
import { checkNewerConfig, DEFAULT_SETTINGS, verifyConfig } from '../firmware/provision/config.js';
import { verifyCertificate } from '../firmware/signing/certificate.js';
import { DeviceIdentity } from '../firmware/signing/identity.js';
import { signCheckpoint } from '../firmware/signing/receipt.js';
import { hostEd25519 } from '../host/ed25519-node.js';
import { loadDockIdentity } from '../dock-station/identity.js';
import { DockStation } from '../dock-station/station.js';
import {
  createRoot, HandlerTransport, issueConfig, issueDock, provisionCamera, ProvisioningClient, readRegister, simulatedCamera, TcpTransport, type AgencyRoot,
} from '../cli/provision.js';
import { ENGINES, startEngine, type EngineName } from '../host-sim/engine.js';
import { FileKeyStores } from '../host-sim/node/file-keystore.js';
import { nodeChecksum, nodeDigest, SeededRandom, SimHardware, VirtualClock } from '../host-sim/node/hardware.js';
import { nodeCipher } from '../host/ports.js';
import { PROVISION_KEYSTORE, SIM_FIRMWARE_VERSION } from '../host-sim/guest/provision.js';
import { tempDir } from './helpers/tmp.js';

const ed25519 = hostEd25519();
const PASS = 'correct horse battery staple';

function tmp(label: string): string {
  return tempDir(`bodycam-${label}-`);
}

function agency(name = 'Metro Police'): AgencyRoot {
  return createRoot({ dir: join(tmp('root'), 'agency'), agency: name, passphrase: PASS, operator: 'sgt.armourer', scryptN: 1 << 12, ed25519 });
}

/** A simulated camera on an engine, its KeyStore partitions in files under `dir`. */
async function engineCamera(name: EngineName, dir: string, seed: string, recording?: [number, number, number]) {
  const hw = new SimHardware({ seed });
  const platform = { ...hw.platform(), KeyStore: new FileKeyStores(dir, { nvsNames: true }).port() };
  const engine = await startEngine(name, platform);
  const opened = (await engine.call('provision.open', ...(recording ? [PROVISION_KEYSTORE, SIM_FIRMWARE_VERSION, recording] : []))).value as Map<string, CborValue>;
  const transport = new HandlerTransport(async (b) => (await engine.call('provision.receive', b)).value as Uint8Array[], () => engine.close());
  const state = async () => (await engine.call('provision.state')).value as Map<string, Uint8Array>;
  return { engine, transport, key: opened.get('key') as Uint8Array, provisioned: opened.get('provisioned') as boolean, state };
}

async function refused(t: ExecutionContext, p: Promise<unknown>, code: string): Promise<BodycamError> {
  const e = await t.throwsAsync(p, { instanceOf: BodycamError });
  t.is(e.code, code, e.message);
  return e;
}

for (const name of ENGINES) {
  test(`[${name}] a camera is provisioned end to end; it keeps its identity across boots and refuses a second provisioning unless forced`, async (t) => {
    const root = agency();
    const dir = tmp('cam');
    const cam = await engineCamera(name, dir, 'cam-a');
    t.false(cam.provisioned);
    const r = await provisionCamera({ root, device: 'CAM-0042', officer: 'PC 1234 Smith', transport: cam.transport, operator: 'sgt.armourer', ed25519 });
    t.is(r.keyId, toHex((await new ProvisioningClient(cam.transport).request('identify')).f.get('keyId') as Uint8Array));
    const state = await cam.state();
    const cert = verifyCertificate(state.get('certificate')!, root.publicKey, { digest: nodeDigest, ed25519, kind: 'device' });
    t.is(cert.id, 'CAM-0042');
    t.deepEqual(cert.publicKey, cam.key, 'the certificate is for the key the camera made');
    t.deepEqual(state.get('rootKey'), root.publicKey);
    t.deepEqual(verifyConfig(state.get('config')!, root.publicKey, { ed25519, device: 'CAM-0042' }), { ...DEFAULT_SETTINGS, agency: 'Metro Police', device: 'CAM-0042', version: r.configVersion, issued: verifyConfig(r.config, root.publicKey).issued });
    const reg = readRegister(root.dir);
    t.like(reg.cameras['CAM-0042'], { officer: 'PC 1234 Smith', keyId: r.keyId, by: 'sgt.armourer' });
    await cam.transport.close();

    // Next boot, same key store files: same key, provisioned, and the camera itself refuses a
    // second install without force (the tool is bypassed here, so the refusal is the camera's).
    const again = await engineCamera(name, dir, 'cam-a-reboot');
    t.deepEqual(again.key, cam.key);
    t.true(again.provisioned);
    const client = new ProvisioningClient(again.transport);
    const id = await client.request('identify');
    t.is(id.f.get('id'), 'CAM-0042');
    const install = { cert: state.get('certificate')!, root: root.publicKey, config: state.get('config')!, revocations: null, force: false };
    const e = await refused(t, client.request('install', install), 'E_PROVISIONED');
    t.regex(e.message, /already provisioned as CAM-0042.*forced/);
    await refused(t, provisionCamera({ root, device: 'CAM-0042', officer: 'PC 7 Jones', transport: again.transport, ed25519 }), 'E_PROVISIONED');
    const forced = await provisionCamera({ root, device: 'CAM-0042', officer: 'PC 7 Jones', transport: again.transport, force: true, ed25519 });
    t.true(forced.forced);
    t.is(forced.keyId, r.keyId, 'the camera keeps its key; only the certificate is new');
    t.true(forced.serial > r.serial);
    t.deepEqual((await again.state()).get('certificate'), forced.certificate);
    t.is(readRegister(root.dir).cameras['CAM-0042'].officer, 'PC 7 Jones');
    await again.transport.close();
  });

  test(`[${name}] a camera refuses a certificate copied from another camera, and one its root didn't sign`, async (t) => {
    const root = agency();
    const a = await engineCamera(name, tmp('cam-a'), 'cam-a');
    const b = await engineCamera(name, tmp('cam-b'), 'cam-b');
    try {
      const ra = await provisionCamera({ root, device: 'CAM-A', officer: 'PC 1', transport: a.transport, ed25519 });
      const client = new ProvisioningClient(b.transport);
      const copied = { cert: ra.certificate, root: root.publicKey, config: ra.config, revocations: null, force: false };
      const e = await refused(t, client.request('install', copied), 'E_CERT_KEY');
      t.regex(e.message, /can't be copied from another camera/);
      const other = agency('Other Force');
      await refused(t, client.request('install', { ...copied, root: other.publicKey }), 'E_COSE_SIGNATURE');
      t.is((await b.state()).size, 0, 'nothing was stored');
      // A configuration for another device is refused too, even with a good certificate.
      const foreign = issueConfig({ root, device: 'CAM-A', settings: DEFAULT_SETTINGS });
      t.is(t.throws(() => verifyConfig(foreign.config, root.publicKey, { device: 'CAM-B' }), { instanceOf: BodycamError }).code, 'E_CONFIG_DEVICE');
      t.false(isBytes((await b.state()).get('certificate') ?? null));
    } finally {
      await a.transport.close();
      await b.transport.close();
    }
  });
}

for (const name of ENGINES) {
  test(`[${name}] provisioning installs the firmware key: the camera then installs images signed by it and refuses others`, async (t) => {
    const root = agency();
    const dir = tmp('cam-fw');
    const agencyKey = firmwareSigner(0x51);
    const otherKey = firmwareSigner(0x52);
    const cam = await engineCamera(name, dir, 'cam-fw');
    const r = await provisionCamera({ root, device: 'CAM-0042', officer: 'PC 1', transport: cam.transport, firmwareKeys: [agencyKey.publicKey], ed25519 });
    t.is(r.firmwareKeyIds.length, 1);
    t.deepEqual((await cam.state()).get('firmwareKeys'), agencyKey.publicKey);
    await cam.transport.close();

    // The camera's own KeyStore (same files, next boot), read by firmware/update's trust.
    const keyStore = new FileKeyStores(dir, { nvsNames: true }).open({ path: PROVISION_KEYSTORE });
    const trust = new KeyStoreTrust({ keyStore });
    const payload = payloadOf(20000, 3);
    const ours = verifyImage(signedImage(payload, { signer: agencyKey, version: '1.2.0' }), { trust, digest: softDigest, board: 'xiao_esp32s3_sense' });
    t.is(ours.code, 'OK', ours.message);
    t.is(ours.image!.keyId, r.firmwareKeyIds[0], 'provision names the key by the id the camera reports');
    const theirs = verifyImage(signedImage(payload, { signer: otherKey, version: '1.2.0' }), { trust, digest: softDigest, board: 'xiao_esp32s3_sense' });
    t.is(theirs.code, 'E_FW_KEY');
    keyStore.close();

    // Re-provisioned (forced) without a firmware key: the old key goes, updates are refused.
    const again = await engineCamera(name, dir, 'cam-fw-2');
    await provisionCamera({ root, device: 'CAM-0042', officer: 'PC 2', transport: again.transport, force: true, ed25519 });
    t.false((await again.state()).has('firmwareKeys'));
    await again.transport.close();
    const ks2 = new FileKeyStores(dir, { nvsNames: true }).open({ path: PROVISION_KEYSTORE });
    t.is(verifyImage(signedImage(payload, { signer: agencyKey, version: '1.2.0' }), { trust: new KeyStoreTrust({ keyStore: ks2 }), digest: softDigest, board: 'xiao_esp32s3_sense' }).code, 'E_FW_NO_KEY');
    ks2.close();
  });

  test(`[${name}] a firmware key set the camera's root didn't sign, or signed for another camera, is refused and nothing is stored`, async (t) => {
    const root = agency();
    const other = agency('Other Force');
    const a = await engineCamera(name, tmp('cam-fwa'), 'cam-fwa');
    const b = await engineCamera(name, tmp('cam-fwb'), 'cam-fwb');
    try {
      // Someone on A's provisioning link replays A's certificate and configuration (public) with
      // force and a firmware key of their own, in a key set another root signed, or our root signed
      // for another camera: both refused.
      const ra = await provisionCamera({ root, device: 'CAM-A', officer: 'PC 1', transport: a.transport, firmwareKeys: [firmwareSigner(1).publicKey], ed25519 });
      const client = new ProvisioningClient(a.transport);
      const attacker = firmwareSigner(0x66).publicKey;
      const install = { cert: ra.certificate, root: root.publicKey, config: ra.config, revocations: null, force: true };
      const foreign = signFirmwareKeys({ agency: 'Metro Police', device: 'CAM-A', issued: 1, keys: [attacker] }, other.signer);
      await refused(t, client.request('install', { ...install, firmwareKeys: foreign }), 'E_COSE_SIGNATURE');
      const forB = signFirmwareKeys({ agency: 'Metro Police', device: 'CAM-B', issued: 1, keys: [attacker] }, root.signer);
      await refused(t, client.request('install', { ...install, firmwareKeys: forB }), 'E_FWKEYS_DEVICE');
      t.deepEqual((await a.state()).get('firmwareKeys'), firmwareSigner(1).publicKey, 'the key from provisioning is still the only one');
      t.deepEqual((await a.state()).get('certificate'), ra.certificate, 'and the camera is still provisioned');
      // An install from an older armoury tool (no firmwareKeys field) is still understood.
      const rb = await provisionCamera({ root, device: 'CAM-B', officer: 'PC 2', transport: b.transport, ed25519 });
      t.deepEqual(rb.firmwareKeyIds, []);
      t.false((await b.state()).has('firmwareKeys'));
    } finally {
      await a.transport.close();
      await b.transport.close();
    }
  });
}

for (const name of ENGINES) {
  test(`[${name}] the configuration records what the camera says its board records best, unless the agency asks otherwise; a camera that says nothing, or a mode the configuration can't hold, gets the armoury's default`, async (t) => {
    const root = agency();
    let n = 0;
    const mode = async (recording: [number, number, number] | undefined, settings?: Parameters<typeof provisionCamera>[0]['settings']) => {
      const cam = await engineCamera(name, tmp('mode'), `mode-${String(recording)}`, recording);
      try {
        const r = await provisionCamera({ root, device: `CAM-${++n}`, officer: 'PC 1 Adams', transport: cam.transport, settings, ed25519 });
        const c = verifyConfig(r.config, root.publicKey, { ed25519 });
        return [c.width, c.height, c.frameRate, c.quality];
      } finally {
        await cam.transport.close();
      }
    };
    t.deepEqual(await mode([640, 480, 5]), [640, 480, 5, DEFAULT_SETTINGS.quality], 'a GC0308 board: VGA at 5 fps');
    t.deepEqual(await mode([800, 600, 25]), [800, 600, 25, DEFAULT_SETTINGS.quality], 'an OV2640 board: SVGA at 25 fps');
    t.deepEqual(await mode([640, 480, 5], { frameRate: 10, quality: 20 }), [640, 480, 10, 20], "the agency's settings file wins where it speaks");
    t.deepEqual(await mode(undefined), [DEFAULT_SETTINGS.width, DEFAULT_SETTINGS.height, DEFAULT_SETTINGS.frameRate, DEFAULT_SETTINGS.quality], 'firmware that reports no mode');
    t.deepEqual(await mode([1000, 1000, 25]), [DEFAULT_SETTINGS.width, DEFAULT_SETTINGS.height, DEFAULT_SETTINGS.frameRate, DEFAULT_SETTINGS.quality], 'a size no configuration holds');
    t.deepEqual([DEFAULT_SETTINGS.width, DEFAULT_SETTINGS.height, DEFAULT_SETTINGS.frameRate], [800, 600, 25], "the armoury's own default is the OV2640's SVGA at 25 fps");
  });
}

test('[node] provisioning a camera over TCP (the camera-side handler behind a socket)', async (t) => {
  const root = agency();
  const { camera, transport: local } = simulatedCamera(tmp('cam-tcp'), { ed25519 });
  const server = createServer((socket) => {
    socket.on('data', (d: Buffer) => {
      for (const f of camera.receive(new Uint8Array(d))) socket.write(f);
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  try {
    const transport = await TcpTransport.open(`127.0.0.1:${port}`);
    const r = await provisionCamera({ root, device: 'CAM-7', officer: 'PC 7', transport, ed25519 });
    await transport.close();
    t.is(r.device, 'CAM-7');
    t.true(camera.provisioned);
    await refused(t, TcpTransport.open('127.0.0.1:1'), 'E_CONNECT');
  } finally {
    await local.close();
    await new Promise((done) => server.close(done));
  }
});

/** An empty camera docks: the handshake, status, time, head, an empty inventory, a config push. */
async function dock(o: { camDir: string; dockDir: string; storeDir: string; config?: Uint8Array }) {
  const dockIdentity = loadDockIdentity(o.dockDir, ed25519);
  const station = new DockStation({ identity: dockIdentity, storeDir: o.storeDir, ed25519, timeoutMs: 5000, configFor: () => o.config });
  const { port } = await station.listen();
  const keyStore = new FileKeyStores(o.camDir, { nvsNames: true }).open({ path: PROVISION_KEYSTORE });
  const random = new SeededRandom('dock-session');
  const identity = new DeviceIdentity({ keyStore, random, digest: nodeDigest, ed25519 });
  const p = readProvisioned(keyStore);
  const device = verifyCertificate(p.certificate!, p.rootKey!, { digest: nodeDigest, ed25519 }).id;
  const clock = new VirtualClock({ utcStart: Date.now() });
  const events: DockEvent[] = [];
  const session = new CameraSession({
    deviceId: device,
    identity,
    certificate: p.certificate!,
    rootKey: p.rootKey!,
    firmwareVersion: 'bodycam-sim/0.1.0',
    source: {
      pending: () => [],
      read: () => {
        throw new BodycamError('E_NO_SEGMENT', 'this camera holds no segments');
      },
      checkpoint: (nonce) => signCheckpoint({ device, seq: null, head: null, boot: 1, mono: clock.monotonic(), utc: clock.utc(), nonce }, identity, nodeDigest).bytes,
      acceptReceipt: () => {
        throw new BodycamError('E_RECEIPT', 'nothing was sent, so no receipt is due');
      },
    },
    clock,
    random,
    digest: nodeDigest,
    checksum: nodeChecksum,
    cipher: nodeCipher,
    ed25519,
    status: () => ({ batteryPercent: 80, charging: true, storageTotal: 1 << 20, storageFree: 1 << 20, pendingSegments: 0, pendingBytes: 0, bootCounter: 1, configVersion: 0 }), // reports none held: the station offers what it has, so the camera's own checks are what these tests watch
    applyConfig: (cose) => {
      const held = p.config ? verifyConfig(p.config, p.rootKey!, { ed25519 }) : undefined;
      const incoming = verifyConfig(cose, p.rootKey!, { ed25519, device });
      checkNewerConfig(incoming, held);
      keyStore.set(KEY_CONFIG, cose);
      return incoming.version;
    },
    onEvent: (e) => void events.push(e),
  });
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((done) => {
    socket.on('connect', () => {
      for (const f of session.start()) socket.write(f);
    });
    socket.on('data', (d: Buffer) => {
      for (const f of session.receive(new Uint8Array(d))) socket.write(f);
    });
    socket.on('error', () => {});
    socket.on('close', () => done());
  });
  await station.idle();
  const devices = (station.store.db.prepare('SELECT device FROM devices').all() as { device: string }[]).map((d) => d.device);
  await station.close();
  const config = readProvisioned(keyStore).config;
  keyStore.close();
  return { result: station.results[0], events, session, config, devices };
}

test('[node] a camera provisioned by the armoury docks at a dock the armoury issued, and takes a pushed configuration', async (t) => {
  const root = agency();
  const base = tmp('docking');
  const dockDir = join(base, 'dock');
  issueDock({ root, id: 'DOCK-1', out: dockDir, ed25519 });
  const camDir = join(base, 'cam');
  const { transport } = simulatedCamera(camDir, { ed25519 });
  const cam = await provisionCamera({ root, device: 'CAM-0042', officer: 'PC 1234 Smith', transport, ed25519 });
  await transport.close();
  const pushed = issueConfig({ root, device: 'CAM-0042', settings: { ...DEFAULT_SETTINGS, preEventSeconds: 60 } });

  const r = await dock({ camDir, dockDir, storeDir: join(base, 'store'), config: pushed.config });
  t.true(r.result.ok, `${r.result.code}: ${r.result.message}`);
  t.deepEqual(r.devices, ['CAM-0042'], 'the dock authenticated the camera by its certificate');
  t.deepEqual(r.events.find((e) => e.kind === 'authenticated'), { kind: 'authenticated', dock: 'DOCK-1' });
  t.deepEqual(r.events.find((e) => e.kind === 'config'), { kind: 'config', version: pushed.version, dock: 'DOCK-1' });
  t.true(pushed.version > cam.configVersion);
  t.is(verifyConfig(r.config!, root.publicKey).preEventSeconds, 60, 'the camera stored the pushed configuration');

  // The same configuration pushed again is stale: the camera refuses it and the dock reports it.
  const stale = await dock({ camDir, dockDir, storeDir: join(base, 'store2'), config: pushed.config });
  t.false(stale.result.ok);
  t.is(stale.result.code, 'E_CONFIG_STALE');
});

test('[node] a dock of another agency refuses the camera, and the camera never accepts that dock', async (t) => {
  const ours = agency();
  const theirs = agency('Other Force');
  const base = tmp('foreign');
  issueDock({ root: theirs, id: 'DOCK-X', out: join(base, 'their-dock'), ed25519 });
  const camDir = join(base, 'cam');
  const { transport } = simulatedCamera(camDir, { ed25519 });
  await provisionCamera({ root: ours, device: 'CAM-1', officer: 'PC 1', transport, ed25519 });
  await transport.close();
  const r = await dock({ camDir, dockDir: join(base, 'their-dock'), storeDir: join(base, 'store') });
  t.false(r.result.ok);
  t.is(r.session.dock, undefined, 'the camera never accepted the dock');
  t.deepEqual(r.devices, []);
  t.regex(r.result.code ?? '', /^E_(COSE_SIGNATURE|CERT_|AUTH_)/);
});
