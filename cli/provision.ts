// `bodycam provision`: the armoury's tool for the agency's keys.
//
//   root    create the agency root key, once (the secret in a passphrase-protected file)
//   dock    issue a dock station its identity folder (dock-station/identity.ts reads it)
//   camera  give a camera its certificate, the agency root key and its configuration, and record
//           which officer it is assigned to (the camera makes its own key; only the public half
//           ever leaves it)
//   config  sign a newer configuration for the docks to push
//   revoke  add a key to the agency's signed revocation list
//   assign  record that a camera now goes to another officer (the register only; the camera is
//           not touched and the root passphrase is not needed)
//   evidence-key create|rotate|retire|list   the agency's evidence keys (cli/evidence-key.ts): the
//           current one's public half goes into every configuration signed here
//
// The root folder (--root DIR, made by `provision root`):
//   root.secret      the root key's 32-byte seed, encrypted: scrypt (N=2^17, r=8, p=1) derives an
//                    AES-256-GCM key from the passphrase; JSON; mode 0600. KEEP OFFLINE.
//   root.pub         the root public key, 32 raw bytes (docks and cameras trust it)
//   register.json    the armoury register: every certificate issued, every camera ↔ officer
//                    assignment, every revocation — who did it and when (append-only events)
//   revocations.cose the newest signed revocation list, if any
//   evidence-keys/   the evidence keys' secrets, <key id>.secret, sealed under the evidence passphrase
//   issued/          a copy of every certificate issued
//
// The camera side of `provision camera` is firmware/provision/camera.ts, reached over the
// link with the dock framing: a simulated camera (--sim DIR, its key store kept in files), a real
// one that connects to the tool (--listen HOST:PORT: an unprovisioned camera's firmware dials the
// armoury address it was built with, firmware/provision/boot.ts), or one that answers at a
// reachable socket (--connect HOST:PORT). USB serial is not available yet.

import { randomBytes, randomFillSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { toHex, fromHex, type CborValue } from '../firmware/codec/cbor.js';
import { FrameReader, frameMessage } from '../firmware/dock/frame.js';
import { BodycamError } from '../firmware/errors.js';
import { CameraProvisioning } from '../firmware/provision/camera.js';
import { ANY_DEVICE, DEFAULT_SETTINGS, checkSettings, parseResolution, signConfig, type CameraConfig, type RecordingSettings } from '../firmware/provision/config.js';
import { signFirmwareKeys } from '../firmware/provision/firmware-keys.js';
import { decodeProvisionMessage, encodeProvisionMessage, type ProvisionMessage, type ProvisionMessageType } from '../firmware/provision/messages.js';
import { issueCertificate, issueRevocationList, verifyRevocationList, type Revocation } from '../firmware/signing/certificate.js';
import type { Ed25519 } from '../firmware/signing/ed25519.js';
import { KeyPairSigner, keyIdOf } from '../firmware/signing/signer.js';
import { firmwareKeyId } from '../firmware/update/image.js';
import { hostEd25519 } from '../host/ed25519-node.js';
import { writeDockIdentity } from '../dock-station/identity.js';
import { certificatePem, issueRootX509, issueSignerX509, SIGNER_FILES, writeSignerIdentity } from '../evidence/c2pa-certs.js';
import { writeDurable } from '../dock-station/store.js';
import { FileKeyStores } from '../host-sim/node/file-keystore.js';
import { nodeChecksum, nodeDigest } from '../host/ports.js';
import { isSealed, openSealed, seal, type Sealed } from '../host/sealed-secret.js';
import { createEvidenceKey, currentEvidenceRecipients, describeKey, EVIDENCE_KEY_HELP, evidencePassphrase, listEvidenceKeys, retireEvidenceKey, rotateEvidenceKey } from './evidence-key.js';
import { event, operatorName, readRegister, REGISTER_FORMAT, ROOT_FILES, saveRegister, type Register } from './register.js';
import { PROVISION_KEYSTORE, SIM_FIRMWARE_VERSION } from '../host-sim/guest/provision.js';
import { MIN_PASSPHRASE, parseArgs, intOption, secretOption, stringOption, type Parsed } from './args.js';
import { readPublicKey } from './firmware.js';

export { ROOT_FILES, readRegister, type CameraRecord, type DockRecord, type Register, type RegisterEvent } from './register.js';

const DAY = 24 * 60 * 60 * 1000;
/** Certificates start a day early: a camera's clock may lag before its first dock. */
const CLOCK_MARGIN = DAY;
const SECRET_FORMAT = 'bodycam-root-secret/1';


// ------------------------------------------------------------------------------- root

export interface CreateRootOptions {
  dir: string;
  agency: string;
  passphrase: string;
  operator?: string;
  now?: number;
  /** scrypt cost; the default (2^17) is for real use, tests may lower it. */
  scryptN?: number;
  ed25519?: Ed25519;
}

export interface AgencyRoot {
  dir: string;
  agency: string;
  publicKey: Uint8Array;
  signer: KeyPairSigner;
}

function aad(agency: string, publicKey: Uint8Array): string {
  return `${SECRET_FORMAT}\n${agency}\n${toHex(publicKey)}`;
}

/** Create the agency root key in `dir`, once: refuses if a root is already there. */
export function createRoot(o: CreateRootOptions): AgencyRoot {
  const dir = resolve(o.dir);
  const now = o.now ?? Date.now();
  if (!o.agency.trim()) throw new BodycamError('E_USAGE', '--agency must name the agency');
  if (o.passphrase.length < MIN_PASSPHRASE) throw new BodycamError('E_PASSPHRASE_WEAK', `the passphrase must have at least ${MIN_PASSPHRASE} characters`);
  for (const f of [ROOT_FILES.secret, ROOT_FILES.pub, ROOT_FILES.register]) {
    if (existsSync(join(dir, f))) throw new BodycamError('E_ROOT_EXISTS', `${join(dir, f)} already exists: an agency root is made once and never overwritten (every camera and dock trusts it); use another folder only if you really mean a new agency`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ed25519 = o.ed25519 ?? hostEd25519();
  const seed = new Uint8Array(randomBytes(32));
  const signer = new KeyPairSigner({ seed, digest: nodeDigest, ed25519 });
  const sealed = seal(seed, o.passphrase, aad(o.agency, signer.publicKey), o.scryptN);
  seed.fill(0);
  const secret = {
    format: SECRET_FORMAT,
    warning: 'The agency root secret. With this file and its passphrase anyone can issue certificates your cameras and docks trust. Keep it offline.',
    agency: o.agency,
    publicKey: toHex(signer.publicKey),
    ...sealed,
  };
  writeDurable(join(dir, ROOT_FILES.secret), JSON.stringify(secret, null, 2) + '\n', { mode: 0o600 });
  writeDurable(join(dir, ROOT_FILES.pub), signer.publicKey);
  const register: Register = {
    format: REGISTER_FORMAT,
    agency: o.agency,
    rootKeyId: toHex(signer.keyId),
    nextSerial: 1,
    nextConfigVersion: 1,
    revocationNumber: 0,
    cameras: {},
    docks: {},
    events: [],
  };
  event(register, o.operator ?? operatorName(), now, 'root-created', { agency: o.agency, keyId: toHex(signer.keyId) });
  saveRegister(dir, register);
  return { dir, agency: o.agency, publicKey: signer.publicKey, signer };
}

/** Unlock the agency root with its passphrase. */
export function openRoot(dirIn: string, passphrase: string, ed25519: Ed25519 = hostEd25519()): AgencyRoot {
  const dir = resolve(dirIn);
  const path = join(dir, ROOT_FILES.secret);
  if (!existsSync(path)) throw new BodycamError('E_ROOT_MISSING', `${path} is missing: give the agency root folder made by \`bodycam provision root\` (--root DIR)`);
  let s: Sealed & { format?: string; agency: string; publicKey: string };
  try {
    s = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new BodycamError('E_ROOT_FORMAT', `${path} is not a root secret file (${(e as Error).message})`);
  }
  if (s?.format !== SECRET_FORMAT || !isSealed(s) || typeof s.agency !== 'string' || !/^[0-9a-f]{64}$/.test(s.publicKey)) throw new BodycamError('E_ROOT_FORMAT', `${path} is not a ${SECRET_FORMAT} file`);
  const publicKey = fromHex(s.publicKey);
  const seed = openSealed(s, passphrase, aad(s.agency, publicKey));
  if (!seed) throw new BodycamError('E_PASSPHRASE', `wrong passphrase for ${path} (or the file was altered)`);
  const signer = new KeyPairSigner({ seed, digest: nodeDigest, ed25519 });
  seed.fill(0);
  const pub = join(dir, ROOT_FILES.pub);
  if (!existsSync(pub) || toHex(new Uint8Array(readFileSync(pub))) !== toHex(signer.publicKey) || toHex(publicKey) !== toHex(signer.publicKey)) {
    throw new BodycamError('E_ROOT_MISMATCH', `${pub} does not hold the public key of ${path}; restore root.pub from a backup`);
  }
  return { dir, agency: s.agency, publicKey: signer.publicKey, signer };
}

function currentRevocations(root: AgencyRoot, ed25519: Ed25519): Uint8Array | undefined {
  const p = join(root.dir, ROOT_FILES.revocations);
  if (!existsSync(p)) return undefined;
  const bytes = new Uint8Array(readFileSync(p));
  verifyRevocationList(bytes, root.publicKey, { ed25519 });
  return bytes;
}

function keepIssued(root: AgencyRoot, name: string, bytes: Uint8Array): void {
  writeDurable(join(root.dir, ROOT_FILES.issued, name), bytes);
}

// ------------------------------------------------------------------------------- dock

export interface IssueDockOptions {
  root: AgencyRoot;
  id: string;
  out: string;
  days?: number;
  operator?: string;
  now?: number;
  ed25519?: Ed25519;
}

/** Issue a dock station its identity folder (dock.seed, dock.cert.cose, root.pub, revocations.cose). */
export function issueDock(o: IssueDockOptions): { keyId: string; serial: number; notAfter: number } {
  const now = o.now ?? Date.now();
  const ed25519 = o.ed25519 ?? hostEd25519();
  checkId(o.id, 'dock id');
  const days = issueDays(o.days);
  if (existsSync(join(o.out, 'dock.seed'))) throw new BodycamError('E_DOCK_EXISTS', `${join(o.out, 'dock.seed')} already exists: issue a new dock identity into an empty folder`);
  const register = readRegister(o.root.dir);
  const seed = new Uint8Array(randomBytes(32));
  const signer = new KeyPairSigner({ seed, digest: nodeDigest, ed25519 });
  const serial = register.nextSerial++;
  const notAfter = now + days * DAY;
  const certificate = issueCertificate({ id: o.id, kind: 'dock', publicKey: signer.publicKey, agency: o.root.agency, serial, notBefore: now - CLOCK_MARGIN, notAfter }, o.root.signer);
  mkdirSync(o.out, { recursive: true, mode: 0o700 });
  writeDockIdentity(o.out, { seed, certificate, rootKey: o.root.publicKey, revocations: currentRevocations(o.root, ed25519) });
  seed.fill(0);
  keepIssued(o.root, `dock-${o.id}-${serial}.cert.cose`, certificate);
  const keyId = toHex(signer.keyId);
  register.docks[o.id] = { keyId, serial, notAfter: new Date(notAfter).toISOString() };
  event(register, o.operator ?? operatorName(), now, 'dock-issued', { dock: o.id, keyId, serial, notAfter: new Date(notAfter).toISOString() });
  saveRegister(o.root.dir, register);
  return { keyId, serial, notAfter };
}

// ---------------------------------------------------------------------- export signer

/** An export signer is issued as a dock is: an id, a folder, days of validity. */
export type IssueExportSignerOptions = IssueDockOptions;

/**
 * Issue an export signer: an Ed25519 key and an X.509 certificate from the agency root for the
 * C2PA content credentials of MP4 exports (evidence/c2pa-certs.ts). The agency root's own X.509
 * certificate (self-signed, made once and kept in the root folder as root.cert.der and .pem) goes
 * with it: it is the trust anchor a C2PA validator is given.
 */
export async function issueExportSigner(o: IssueExportSignerOptions): Promise<{ keyId: string; serial: number; notAfter: number; rootCertificate: string }> {
  const now = o.now ?? Date.now();
  const ed25519 = o.ed25519 ?? hostEd25519();
  checkId(o.id, 'export signer id');
  const days = issueDays(o.days);
  if (existsSync(join(o.out, SIGNER_FILES.seed))) throw new BodycamError('E_SIGNER_EXISTS', `${join(o.out, SIGNER_FILES.seed)} already exists: issue a new export signer into an empty folder`);
  const register = readRegister(o.root.dir);
  const rootCertPath = join(o.root.dir, 'root.cert.der');
  let rootCertificate: Uint8Array;
  if (existsSync(rootCertPath)) rootCertificate = new Uint8Array(readFileSync(rootCertPath));
  else {
    rootCertificate = await issueRootX509({ root: o.root.signer, agency: o.root.agency, serial: register.nextSerial++, notBefore: now - CLOCK_MARGIN, notAfter: now + 20 * 365 * DAY });
    writeDurable(rootCertPath, rootCertificate);
    writeDurable(join(o.root.dir, 'root.cert.pem'), new TextEncoder().encode(certificatePem(rootCertificate)));
  }
  const seed = new Uint8Array(randomBytes(32));
  const signer = new KeyPairSigner({ seed, digest: nodeDigest, ed25519 });
  const serial = register.nextSerial++;
  const notAfter = now + days * DAY;
  const certificate = await issueSignerX509({ root: o.root.signer, agency: o.root.agency, name: `${o.id} evidence export`, publicKey: signer.publicKey, serial, notBefore: now - CLOCK_MARGIN, notAfter });
  writeSignerIdentity(o.out, { seed, certificate, rootCertificate, rootKey: o.root.publicKey });
  seed.fill(0);
  keepIssued(o.root, `export-${o.id}-${serial}.cert.der`, certificate);
  const keyId = toHex(signer.keyId);
  event(register, o.operator ?? operatorName(), now, 'export-signer-issued', { signer: o.id, keyId, serial, notAfter: new Date(notAfter).toISOString() });
  saveRegister(o.root.dir, register);
  return { keyId, serial, notAfter, rootCertificate: join(o.root.dir, 'root.cert.pem') };
}

/** --days for a dock or export signer: 365 by default, 1 to 3660. */
function issueDays(days = 365): number {
  if (!Number.isSafeInteger(days) || days < 1 || days > 3660) throw new BodycamError('E_USAGE', '--days must be a whole number of days from 1 to 3660');
  return days;
}

function checkId(id: string, what: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(id)) throw new BodycamError('E_USAGE', `${what} "${id}" must be 1 to 64 letters, digits, ".", "_" or "-"`);
}

// -------------------------------------------------------------------- camera transport

/** A byte link to a camera's provisioning service. */
export interface ProvisionTransport {
  write(frame: Uint8Array): Promise<void>;
  /** The next bytes from the camera (waits; throws E_NO_REPLY / E_TIMEOUT when none come). */
  read(): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** A camera whose handler answers synchronously (in this process, or an engine entry). */
export class HandlerTransport implements ProvisionTransport {
  #queue: Uint8Array[] = [];
  constructor(readonly receive: (bytes: Uint8Array) => Uint8Array[] | Promise<Uint8Array[]>, readonly onClose: () => Promise<void> | void = () => {}) {}
  async write(frame: Uint8Array): Promise<void> {
    this.#queue.push(...(await this.receive(frame)));
  }
  async read(): Promise<Uint8Array> {
    const next = this.#queue.shift();
    if (!next) throw new BodycamError('E_NO_REPLY', 'the camera did not answer');
    return next;
  }
  async close(): Promise<void> {
    await this.onClose();
  }
}

/** A camera's provisioning service over TCP. */
export class TcpTransport implements ProvisionTransport {
  #socket: Socket;
  #chunks: Uint8Array[] = [];
  #wake: (() => void) | undefined;
  #ended: string | undefined;
  constructor(socket: Socket, readonly timeoutMs = 15000) {
    this.#socket = socket;
    socket.on('data', (c: Buffer) => {
      this.#chunks.push(new Uint8Array(c));
      this.#wake?.();
    });
    socket.on('error', (e) => {
      this.#ended ??= e.message;
      this.#wake?.();
    });
    socket.on('close', () => {
      this.#ended ??= 'the camera closed the connection';
      this.#wake?.();
    });
  }
  static open(hostPort: string, timeoutMs = 15000): Promise<TcpTransport> {
    const { host, port } = parseHostPort(hostPort, '--connect');
    return new Promise((done, fail) => {
      const s = connect({ host, port });
      const timer = setTimeout(() => {
        s.destroy();
        fail(new BodycamError('E_TIMEOUT', `no camera answered at ${hostPort} within ${timeoutMs} ms`));
      }, timeoutMs);
      s.once('connect', () => {
        clearTimeout(timer);
        s.setNoDelay(true);
        done(new TcpTransport(s, timeoutMs));
      });
      s.once('error', (e) => {
        clearTimeout(timer);
        fail(new BodycamError('E_CONNECT', `can't reach the camera at ${hostPort}: ${e.message}`));
      });
    });
  }
  async write(frame: Uint8Array): Promise<void> {
    await new Promise<void>((done, fail) => this.#socket.write(frame, (e) => (e ? fail(new BodycamError('E_CONNECT', e.message)) : done())));
  }
  async read(): Promise<Uint8Array> {
    for (;;) {
      const c = this.#chunks.shift();
      if (c) return c;
      if (this.#ended) throw new BodycamError('E_LINK_CLOSED', this.#ended);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await new Promise<boolean>((done) => {
        this.#wake = () => done(false);
        timer = setTimeout(() => done(true), this.timeoutMs);
      });
      clearTimeout(timer);
      this.#wake = undefined;
      if (timedOut) throw new BodycamError('E_TIMEOUT', `the camera sent nothing for ${this.timeoutMs} ms`);
    }
  }
  async close(): Promise<void> {
    this.#socket.end();
    this.#socket.destroy();
  }
}

function parseHostPort(hostPort: string, option: string): { host: string; port: number } {
  const m = /^(.+):(\d{1,5})$/.exec(hostPort);
  if (!m || Number(m[2]) > 65535) throw new BodycamError('E_USAGE', `${option} takes HOST:PORT, not "${hostPort}"`);
  return { host: m[1].replace(/^\[(.*)\]$/, '$1'), port: Number(m[2]) };
}

export interface ListenOptions {
  /** How long to wait for a camera to connect. */
  acceptTimeoutMs?: number;
  /** How long a connected camera may stay silent. */
  replyTimeoutMs?: number;
  /** A camera connected (its address, for the operator). */
  onConnected?: (remote: string) => void;
}

/**
 * The armoury listens; an unprovisioned camera connects to it (firmware/provision/boot.ts: the
 * camera's Link is a TCP client). The first camera that connects is the one provisioned: the
 * server stops listening then, and any other connection is closed. The first write waits for
 * that camera (E_TIMEOUT after acceptTimeoutMs); then it is a TcpTransport over the socket.
 */
export class ListenTransport implements ProvisionTransport {
  #server: Server;
  #accepted: Promise<TcpTransport>;
  #transport: TcpTransport | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly host: string;
  readonly port: number;

  private constructor(server: Server, host: string, port: number, o: ListenOptions) {
    this.#server = server;
    this.host = host;
    this.port = port;
    const acceptTimeoutMs = o.acceptTimeoutMs ?? 5 * 60_000;
    this.#accepted = new Promise<TcpTransport>((done, fail) => {
      this.#timer = setTimeout(() => {
        server.close();
        fail(new BodycamError('E_TIMEOUT', `no camera connected to ${host}:${port} within ${Math.round(acceptTimeoutMs / 1000)} s: check that the camera is switched on and blinking cyan (not provisioned), on the armoury network, and built with this computer's address and port (its board's "provision" entry); pressing its button makes it try again at once`));
      }, acceptTimeoutMs);
      server.on('connection', (socket: Socket) => {
        if (this.#transport) {
          socket.destroy(); // one camera at a time
          return;
        }
        clearTimeout(this.#timer);
        server.close();
        socket.setNoDelay(true);
        this.#transport = new TcpTransport(socket, o.replyTimeoutMs ?? 15000);
        o.onConnected?.(`${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`);
        done(this.#transport);
      });
    });
    this.#accepted.catch(() => {}); // reported by write(); no unhandled rejection meanwhile
  }

  /** Listen on HOST:PORT (port 0: any free port, see .port). */
  static open(hostPort: string, o: ListenOptions = {}): Promise<ListenTransport> {
    const { host, port } = parseHostPort(hostPort, '--listen');
    return new Promise((done, fail) => {
      const server = createServer();
      server.once('error', (e: NodeJS.ErrnoException) => {
        const why = e.code === 'EADDRINUSE' ? 'the port is in use (another `provision camera --listen`, or a dock station?): choose another with the camera built for it' : e.code === 'EADDRNOTAVAIL' ? `${host} is not an address of this computer` : e.message;
        fail(new BodycamError('E_LISTEN', `can't listen on ${hostPort}: ${why}`));
      });
      server.listen({ host, port }, () => {
        const a = server.address() as AddressInfo;
        done(new ListenTransport(server, host, a.port, o));
      });
    });
  }

  /** Resolves once a camera has connected. */
  connected(): Promise<TcpTransport> {
    return this.#accepted;
  }
  async write(frame: Uint8Array): Promise<void> {
    await (await this.#accepted).write(frame);
  }
  async read(): Promise<Uint8Array> {
    return (await this.#accepted).read();
  }
  async close(): Promise<void> {
    clearTimeout(this.#timer);
    if (this.#server.listening) this.#server.close();
    await this.#transport?.close();
  }
}

/** The armoury's end of the provisioning exchange. */
export class ProvisioningClient {
  #t: ProvisionTransport;
  #reader = new FrameReader(nodeChecksum);
  #pending: ProvisionMessage[] = [];
  constructor(transport: ProvisionTransport) {
    this.#t = transport;
  }
  /** Send one request; the camera's answer (its error reply throws, with the camera's code). */
  async request(t: ProvisionMessageType, fields: Record<string, CborValue> = {}): Promise<ProvisionMessage> {
    await this.#t.write(frameMessage(encodeProvisionMessage(t, fields), nodeChecksum));
    for (;;) {
      const m = this.#pending.shift();
      if (m) {
        if (m.t === 'error') throw new BodycamError(String(m.f.get('code')), `the camera refused: ${String(m.f.get('message'))}`, { fromCamera: true });
        return m;
      }
      for (const ev of this.#reader.push(await this.#t.read())) {
        if (ev.kind === 'message') this.#pending.push(decodeProvisionMessage(ev.payload));
        else throw ev.error;
      }
    }
  }
  close(): Promise<void> {
    return this.#t.close();
  }
}

/**
 * What a practice camera tells the armoury it records best: VGA at 5 fps. Its store is the
 * practice scenario's NOR flash (64 MiB), which SVGA at 25 fps (about 0.6 MiB/s) fills in under
 * two minutes; at VGA 5 fps a practice shift fits, as on the GC0308 board.
 */
export const PRACTICE_RECORDING = Object.freeze({ width: 640, height: 480, frameRate: 5 });

/** A simulated camera whose key store lives in `stateDir` (host-sim/node/file-keystore.ts). */
export function simulatedCamera(stateDir: string, options: { ed25519?: Ed25519; firmwareVersion?: string } = {}): { camera: CameraProvisioning; transport: HandlerTransport } {
  const keyStore = new FileKeyStores(stateDir, { nvsNames: true }).open({ path: PROVISION_KEYSTORE });
  const camera = new CameraProvisioning({
    keyStore,
    random: { fill: (b) => void randomFillSync(b) },
    digest: nodeDigest,
    checksum: nodeChecksum,
    ed25519: options.ed25519 ?? hostEd25519(),
    firmwareVersion: options.firmwareVersion ?? SIM_FIRMWARE_VERSION,
    recording: PRACTICE_RECORDING,
  });
  return { camera, transport: new HandlerTransport((b) => camera.receive(b), () => keyStore.close()) };
}

// ----------------------------------------------------------------------------- camera

export interface ProvisionCameraOptions {
  root: AgencyRoot;
  device: string;
  officer: string;
  transport: ProvisionTransport;
  /**
   * What the agency asks for (`--config`); the rest is the armoury's default: the picture size
   * and rate the camera's board records best, as the camera reports it at identify (a camera that
   * reports none gets DEFAULT_SETTINGS'), and DEFAULT_SETTINGS for everything else.
   */
  settings?: Partial<RecordingSettings>;
  days?: number;
  force?: boolean;
  /** The agency firmware public keys (32 bytes each) the camera will accept images from. */
  firmwareKeys?: Uint8Array[];
  operator?: string;
  now?: number;
  ed25519?: Ed25519;
}

export interface ProvisionedCamera {
  device: string;
  officer: string;
  keyId: string;
  serial: number;
  configVersion: number;
  firmware: string;
  forced: boolean;
  certificate: Uint8Array;
  config: Uint8Array;
  /** Key ids (hex) of the firmware keys installed. */
  firmwareKeyIds: string[];
  /** Key ids (hex) of the evidence keys in its configuration: the agency's current one, or none. */
  evidenceKeyIds: string[];
}

/** Identify the camera, issue its certificate and configuration, install them, record the assignment. */
export async function provisionCamera(o: ProvisionCameraOptions): Promise<ProvisionedCamera> {
  const now = o.now ?? Date.now();
  const by = o.operator ?? operatorName();
  const ed25519 = o.ed25519 ?? hostEd25519();
  checkId(o.device, 'device id');
  if (!o.officer.trim()) throw new BodycamError('E_USAGE', '--officer must name the officer the camera is assigned to');
  if (o.settings) checkSettings({ ...DEFAULT_SETTINGS, ...o.settings });
  const days = o.days ?? 1826;
  if (!Number.isSafeInteger(days) || days < 1 || days > 3660) throw new BodycamError('E_USAGE', '--days must be a whole number of days from 1 to 3660');
  const client = new ProvisioningClient(o.transport);

  const id = await client.request('identify');
  const key = id.f.get('key') as Uint8Array;
  const keyId = toHex(keyIdOf(key, nodeDigest));
  const current = id.f.get('id') as string | null;
  const settings: RecordingSettings = { ...DEFAULT_SETTINGS, ...cameraRecording(id.f), ...o.settings };
  checkSettings(settings);
  if (id.f.get('provisioned') === true && !o.force) {
    throw new BodycamError('E_PROVISIONED', `this camera is already provisioned as ${current ?? '(unknown)'}; re-provisioning replaces the agency it trusts and its certificate, so it needs --force`);
  }
  const register = readRegister(o.root.dir);
  const known = register.cameras[o.device];
  if (known && known.keyId !== keyId && !o.force) {
    throw new BodycamError('E_DEVICE_ID_TAKEN', `${o.device} is registered to another camera (key ${known.keyId}, officer ${known.officer}); give this camera its own id, or use --force if it replaces that camera (then revoke the old key)`);
  }
  const serial = register.nextSerial++;
  const configVersion = register.nextConfigVersion++;
  const certificate = issueCertificate({ id: o.device, kind: 'device', publicKey: key, agency: o.root.agency, serial, notBefore: now - CLOCK_MARGIN, notAfter: now + days * DAY }, o.root.signer);
  const evidenceKeys = currentEvidenceRecipients(register);
  const config = signConfig({ ...settings, agency: o.root.agency, device: o.device, version: configVersion, issued: now, evidenceKeys }, o.root.signer);
  const firmwareKeys = o.firmwareKeys?.length ? signFirmwareKeys({ agency: o.root.agency, device: o.device, issued: now, keys: o.firmwareKeys }, o.root.signer) : undefined;
  const firmwareKeyIds = (o.firmwareKeys ?? []).map((k) => toHex(firmwareKeyId(k, nodeDigest)));
  const evidenceKeyIds = evidenceKeys.map((k) => toHex(k.keyId));
  keepIssued(o.root, `camera-${o.device}-${serial}.cert.cose`, certificate);
  event(register, by, now, 'camera-certificate-issued', { device: o.device, keyId, serial, officer: o.officer });
  saveRegister(o.root.dir, register);

  // firmwareKeys is left out when there are none, so a camera whose firmware predates it still answers.
  let installed: ProvisionMessage;
  try {
    installed = await client.request('install', {
      cert: certificate,
      root: o.root.publicKey,
      config,
      revocations: currentRevocations(o.root, ed25519) ?? null,
      force: o.force === true,
      ...(firmwareKeys ? { firmwareKeys } : {}),
    });
  } catch (e) {
    if (firmwareKeys && e instanceof BodycamError && e.code === 'E_PROTO_FIELD' && /firmwareKeys/.test(e.message)) {
      throw new BodycamError('E_CAMERA_FIRMWARE_OLD', `the camera's firmware (${String(id.f.get('fw'))}) predates firmware keys and can't store one: flash a newer signed firmware first, then provision it`);
    }
    throw e;
  }
  if (installed.f.get('id') !== o.device || toHex(installed.f.get('keyId') as Uint8Array) !== keyId) {
    throw new BodycamError('E_PROVISION_REPLY', 'the camera confirmed another identity than the one installed');
  }
  const previous = register.cameras[o.device];
  register.cameras[o.device] = { keyId, officer: o.officer, serial, since: new Date(now).toISOString(), by };
  event(register, by, now, 'camera-provisioned', {
    device: o.device, officer: o.officer, keyId, serial, configVersion, firmware: id.f.get('fw') as string, forced: id.f.get('provisioned') === true,
    previousOfficer: previous ? previous.officer : null, firmwareKeys: firmwareKeyIds.join(' ') || null, evidenceKey: evidenceKeyIds[0] ?? null,
  });
  saveRegister(o.root.dir, register);
  return { device: o.device, officer: o.officer, keyId, serial, configVersion, firmware: id.f.get('fw') as string, forced: id.f.get('provisioned') === true, certificate, config, firmwareKeyIds, evidenceKeyIds };
}

// ----------------------------------------------------------------------------- config

export interface IssueConfigOptions {
  root: AgencyRoot;
  /** A device id, or "*" for every camera of the agency. */
  device: string;
  settings: RecordingSettings;
  operator?: string;
  now?: number;
}

/** Sign a newer configuration for a dock to push (StationOptions.configFor), with the agency's current evidence key. */
export function issueConfig(o: IssueConfigOptions): { version: number; config: Uint8Array; evidenceKeyIds: string[] } {
  const now = o.now ?? Date.now();
  if (o.device !== ANY_DEVICE) checkId(o.device, 'device id');
  const register = readRegister(o.root.dir);
  const version = register.nextConfigVersion++;
  const evidenceKeys = currentEvidenceRecipients(register);
  const settings: RecordingSettings = { ...o.settings };
  delete (settings as Partial<CameraConfig>).evidenceKeys; // the register's current key, never the caller's
  const config = signConfig({ ...settings, agency: o.root.agency, device: o.device, version, issued: now, evidenceKeys }, o.root.signer);
  const evidenceKeyIds = evidenceKeys.map((k) => toHex(k.keyId));
  event(register, o.operator ?? operatorName(), now, 'config-issued', { device: o.device, version, ...settings, evidenceKey: evidenceKeyIds[0] ?? null });
  saveRegister(o.root.dir, register);
  return { version, config, evidenceKeyIds };
}

// ----------------------------------------------------------------------------- revoke

export interface RevokeOptions {
  root: AgencyRoot;
  keyId?: string;
  device?: string;
  reason: string;
  /**
   * UTC ms from which the key is revoked (default: now): evidence a dock receipted before it stays
   * valid. null: from the start — everything the key ever signed (a key compromised from issue).
   */
  effective?: number | null;
  operator?: string;
  now?: number;
  ed25519?: Ed25519;
}

/** Add a key to the signed revocation list (numbers increase); returns the new list. */
export function revoke(o: RevokeOptions): { number: number; keyId: string; list: Uint8Array } {
  const now = o.now ?? Date.now();
  const ed25519 = o.ed25519 ?? hostEd25519();
  if (!o.reason.trim()) throw new BodycamError('E_USAGE', '--reason is required (e.g. "lost", "key compromise", "retired")');
  const register = readRegister(o.root.dir);
  let keyHex: string;
  if (o.keyId) {
    if (!/^[0-9a-f]{16}$/i.test(o.keyId)) throw new BodycamError('E_USAGE', `--key-id takes the 16 hex digits of a key id, not "${o.keyId}"`);
    keyHex = o.keyId.toLowerCase();
  } else if (o.device) {
    const rec = register.cameras[o.device] ?? register.docks[o.device];
    if (!rec) throw new BodycamError('E_UNKNOWN_DEVICE', `${o.device} is not in the register; give --key-id instead`);
    keyHex = rec.keyId;
  } else {
    throw new BodycamError('E_USAGE', 'give --key-id HEX or --device ID');
  }
  const existing = currentRevocations(o.root, ed25519);
  const old = existing ? verifyRevocationList(existing, o.root.publicKey, { ed25519 }) : undefined;
  const revoked: Revocation[] = old ? [...old.revoked] : [];
  if (revoked.some((r) => toHex(r.keyId) === keyHex)) throw new BodycamError('E_ALREADY_REVOKED', `key ${keyHex} is already on the revocation list`);
  const effective = o.effective === undefined ? now : o.effective;
  revoked.push({ keyId: fromHex(keyHex), reason: o.reason, ...(effective === null ? {} : { effective }) });
  const number = Math.max(register.revocationNumber, old?.number ?? 0) + 1;
  const list = issueRevocationList({ agency: o.root.agency, number, issued: now, revoked }, o.root.signer);
  writeDurable(join(o.root.dir, ROOT_FILES.revocations), list);
  register.revocationNumber = number;
  event(register, o.operator ?? operatorName(), now, 'revoked', { keyId: keyHex, device: o.device ?? null, reason: o.reason, effective: effective === null ? 'from the start' : new Date(effective).toISOString(), list: number });
  saveRegister(o.root.dir, register);
  return { number, keyId: keyHex, list };
}

// ----------------------------------------------------------------------------- assign

export interface AssignOptions {
  /** The agency root folder (only its register is read and written). */
  rootDir: string;
  device: string;
  officer: string;
  operator?: string;
  now?: number;
}

/**
 * Record that a provisioned camera now goes to another officer. Only the register changes (an
 * event appended, the current assignment updated): the camera and its certificate are not
 * touched, so no passphrase is needed. Refuses an unknown or revoked camera, or no change.
 */
export function assignCamera(o: AssignOptions): { device: string; officer: string; previousOfficer: string } {
  const now = o.now ?? Date.now();
  const by = o.operator ?? operatorName();
  const officer = o.officer.trim();
  if (!officer) throw new BodycamError('E_USAGE', '--officer must name the officer the camera is assigned to');
  const register = readRegister(o.rootDir);
  const cam = register.cameras[o.device];
  if (!cam) throw new BodycamError('E_UNKNOWN_DEVICE', `${o.device} is not in the register of ${register.agency}: provision it first (bodycam provision camera)`);
  if (register.events.some((e) => e.action === 'revoked' && e.keyId === cam.keyId)) {
    throw new BodycamError('E_CERT_REVOKED', `${o.device}'s key ${cam.keyId} is revoked: a revoked camera is not issued to anyone`);
  }
  if (cam.officer === officer) throw new BodycamError('E_ALREADY_ASSIGNED', `${o.device} is already assigned to ${officer} (since ${cam.since})`);
  const previousOfficer = cam.officer;
  register.cameras[o.device] = { ...cam, officer, since: new Date(now).toISOString(), by };
  event(register, by, now, 'camera-assigned', { device: o.device, officer, previousOfficer, keyId: cam.keyId });
  saveRegister(o.rootDir, register);
  return { device: o.device, officer, previousOfficer };
}

// -------------------------------------------------------------------------------- CLI

const OPTIONS = {
  agency: { value: true }, out: { value: true }, root: { value: true }, id: { value: true }, days: { value: true },
  device: { value: true }, officer: { value: true }, config: { value: true }, sim: { value: true }, port: { value: true }, connect: { value: true }, listen: { value: true }, wait: { value: true },
  'key-id': { value: true }, reason: { value: true }, effective: { value: true }, 'passphrase-file': { value: true }, operator: { value: true }, force: {}, help: {}, json: {},
  'firmware-key': { value: true, many: true }, 'evidence-passphrase-file': { value: true },
};

const HELP: Record<string, string[]> = {
  root: [
    'usage: bodycam provision root --agency NAME --out DIR [--passphrase-file FILE]',
    '  creates the agency root key, ONCE. Every camera and dock of the agency trusts it.',
    '  DIR/root.secret holds the secret, encrypted with your passphrase; DIR/root.pub the public key.',
    '  Keep DIR offline (a computer that is never on a network, or a USB stick locked away) and keep a backup.',
  ],
  'export-signer': [
    'usage: bodycam provision export-signer --root DIR --id NAME --out DIR [--days N (365)]',
    '  writes an export signer folder (export.seed, export.cert.der, root.cert.der/.pem, root.pub) for',
    '  `bodycam export --signer DIR` and `bodycam dock --http … --signer DIR`: an X.509 certificate from the',
    '  agency root that signs the C2PA content credentials of MP4 exports. Give C2PA validators',
    '  DIR/root.cert.pem (also kept in the root folder) as their trust anchor.',
  ],
  dock: ['usage: bodycam provision dock --root DIR --id DOCK-ID --out DIR [--days N (365)]', '  writes a dock station identity folder (dock.seed, dock.cert.cose, root.pub, revocations.cose) for `bodycam dock`'],
  camera: [
    'usage: bodycam provision camera --root DIR --device CAM-ID --officer NAME --firmware-key PUBLIC.pem',
    '                                [--config FILE] [--days N (1826)] [--force]',
    '                                (--listen HOST:PORT [--wait SECONDS (300)] | --connect HOST:PORT | --sim STATE-DIR | --port SERIAL)',
    '  asks the camera for its public key, signs its certificate, installs it with the agency root key,',
    '  the configuration and the firmware key, and records the camera ↔ officer assignment in DIR/register.json.',
    '  --firmware-key PUBLIC.pem  the agency firmware public key (firmware-signing.pub.pem): the camera installs',
    '                 only firmware signed by it. Give it twice while moving to a new key. Without it the camera',
    '                 refuses every firmware update until it is provisioned again with one.',
    '  --config FILE  JSON: {"segmentSeconds": 30, "preEventSeconds": 30, "resolution": "SVGA", "frameRate": 25, "quality": 12,',
    '                 "audio": true, "preEventAudio": false} (these are the defaults, but for resolution and frameRate:',
    '                 those default to what the camera says its board records best, e.g. SVGA at 25 fps on the OV2640',
    '                 boards; a practice camera (--sim) says VGA at 5 fps)',
    '  --sim DIR      a simulated camera whose key store is kept in DIR (`bodycam sim --dock HOST:PORT --camera DIR` docks it)',
    '  --listen H:P   wait for a camera that is not provisioned yet (its LED blinks cyan) to connect to this computer',
    '                 at H:P (the address and port its firmware was built with: the board\'s "provision" entry,',
    '                 10.42.0.1:7421 by default) and provision the first one that does; --wait: how long to wait',
    '  --connect H:P  a camera on the network that answers at H:P; --port (USB serial) is not available yet',
    '  --force        re-provision a camera that is already provisioned (e.g. moved to another agency)',
  ],
  config: [
    'usage: bodycam provision config --root DIR --device CAM-ID|"*" --config FILE --out FILE',
    '  signs a newer configuration (same JSON as `provision camera --config`) for the docks to push to the camera, or to every camera ("*")',
  ],
  revoke: ['usage: bodycam provision revoke --root DIR (--key-id HEX | --device ID) --reason TEXT [--effective UTC|start]', '  adds the key to DIR/revocations.cose (signed, numbered); copy it to every dock station identity folder', '  --effective   from when the key is revoked (default now): what a dock receipted before stays valid;', '                "start" revokes everything the key ever signed (a key compromised from its issue)'],
  'evidence-key': EVIDENCE_KEY_HELP,
  assign: [
    'usage: bodycam provision assign --root DIR --device CAM-ID --officer NAME',
    '  records in DIR/register.json that the camera now goes to another officer (who did it, when, and the',
    '  previous officer are kept); the camera is not touched and the passphrase is not needed',
  ],
};

function help(out: (l: string) => void, which?: string): void {
  const parts = which && HELP[which] ? [which] : Object.keys(HELP);
  for (const p of parts) for (const l of HELP[p]) out(l);
  out('common: --operator NAME (who is doing this, for the register; default: your user name); --json prints one JSON object of what was done');
  out('the passphrase of the agency root comes from --passphrase-file FILE or the BODYCAM_PASSPHRASE environment variable (there is no prompt)');
  out('an evidence key\'s passphrase (evidence-key create and rotate) comes from --evidence-passphrase-file FILE or BODYCAM_EVIDENCE_PASSPHRASE');
}

export interface ProvisionDeps {
  env: NodeJS.ProcessEnv;
  now: () => number;
}

function passphrase(p: Parsed, env: NodeJS.ProcessEnv): string {
  const secret = secretOption(p, env, 'passphrase-file', 'BODYCAM_PASSPHRASE');
  if (secret !== undefined) return secret;
  throw new BodycamError('E_PASSPHRASE_MISSING', 'the agency root passphrase is needed: give --passphrase-file FILE or set BODYCAM_PASSPHRASE (there is no prompt)');
}

function required(p: Parsed, name: string): string {
  const v = stringOption(p, name);
  if (!v) throw new BodycamError('E_USAGE', `--${name} is required (bodycam provision --help)`);
  return v;
}

/** The recording mode a camera reported at identify (its board's best), if it reported one the configuration can hold. */
function cameraRecording(f: Map<unknown, unknown>): Partial<RecordingSettings> {
  const width = f.get('width');
  const height = f.get('height');
  const frameRate = f.get('frameRate');
  if (typeof width !== 'number' || typeof height !== 'number' || typeof frameRate !== 'number') return {};
  try {
    checkSettings({ ...DEFAULT_SETTINGS, width, height, frameRate });
  } catch {
    return {}; // a mode this armoury's configuration can't hold (a newer board): the armoury's default
  }
  return { width, height, frameRate };
}

/** A settings file's values as given (checked), without the defaults: what the agency asks for. */
export function readSettingsOverrides(path: string): Partial<RecordingSettings> {
  let j: unknown;
  try {
    j = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new BodycamError('E_CONFIG_FILE', `${path}: ${(e as Error).message}`);
  }
  if (!j || typeof j !== 'object' || Array.isArray(j)) throw new BodycamError('E_CONFIG_FILE', `${path} must hold a JSON object`);
  const o = j as Record<string, unknown>;
  const allowed = ['segmentSeconds', 'preEventSeconds', 'resolution', 'frameRate', 'quality', 'audio', 'preEventAudio'];
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new BodycamError('E_CONFIG_FILE', `${path}: unknown setting "${k}" (known: ${allowed.join(', ')})`);
  const s: Partial<RecordingSettings> = {};
  for (const k of ['segmentSeconds', 'preEventSeconds', 'frameRate', 'quality'] as const) {
    if (o[k] !== undefined) {
      if (typeof o[k] !== 'number') throw new BodycamError('E_CONFIG_VALUE', `${k} must be a number, not ${JSON.stringify(o[k])}`);
      s[k] = o[k];
    }
  }
  for (const k of ['audio', 'preEventAudio'] as const) {
    if (o[k] !== undefined) {
      if (typeof o[k] !== 'boolean') throw new BodycamError('E_CONFIG_VALUE', `${k} must be true or false, not ${JSON.stringify(o[k])}`);
      s[k] = o[k];
    }
  }
  if (o.resolution !== undefined) {
    if (typeof o.resolution !== 'string') throw new BodycamError('E_CONFIG_VALUE', `resolution must be text like "VGA" or "640x480"`);
    [s.width, s.height] = parseResolution(o.resolution);
  }
  checkSettings({ ...DEFAULT_SETTINGS, ...s });
  return s;
}

/** A settings file over the armoury's defaults (DEFAULT_SETTINGS): a whole configuration's settings. */
export function readSettingsFile(path: string): RecordingSettings {
  return { ...DEFAULT_SETTINGS, ...readSettingsOverrides(path) };
}

export async function provisionCommand(argv: string[], print: (line: string) => void, deps: Partial<ProvisionDeps> = {}): Promise<number> {
  const env = deps.env ?? process.env;
  const now = (deps.now ?? Date.now)();
  const p = parseArgs(argv, OPTIONS);
  const [sub, ...extra] = p.positionals;
  if (p.options.help || !sub) {
    help(print, sub);
    return sub || p.options.help ? 0 : 2;
  }
  // With --json the lines are kept for the object's `lines`, and one JSON object says what was done.
  const json = p.options.json === true;
  const lines: string[] = [];
  const out = json ? (l: string) => void lines.push(l) : print;
  const done = (fields: Record<string, unknown>): number => {
    if (json) print(JSON.stringify({ ok: true, step: sub, ...fields, lines }));
    return 0;
  };
  if (!HELP[sub]) throw new BodycamError('E_USAGE', `unknown provisioning step "${sub}" (root, dock, export-signer, camera, config, revoke, assign, evidence-key)`);
  const action = sub === 'evidence-key' ? extra.shift() : undefined;
  if (extra.length) throw new BodycamError('E_USAGE', `unexpected argument "${extra[0]}"`);
  const operator = stringOption(p, 'operator');
  const days = p.options.days === undefined ? undefined : intOption(p, 'days', 0);
  if (sub !== 'camera' && p.options['firmware-key'] !== undefined) throw new BodycamError('E_USAGE', '--firmware-key goes with `provision camera`');

  if (sub === 'assign') {
    const rootDir = resolve(required(p, 'root'));
    const r = assignCamera({ rootDir, device: required(p, 'device'), officer: required(p, 'officer'), operator, now });
    out(`camera ${r.device} assigned to ${r.officer} (was ${r.previousOfficer}); recorded in ${join(rootDir, ROOT_FILES.register)}`);
    return done({ device: r.device, officer: r.officer, previousOfficer: r.previousOfficer, register: join(rootDir, ROOT_FILES.register) });
  }

  if (sub === 'evidence-key') {
    if (!action || !['create', 'rotate', 'retire', 'list'].includes(action)) throw new BodycamError('E_USAGE', `evidence-key takes create, rotate, retire or list${action ? `, not "${action}"` : ''} (bodycam provision evidence-key --help)`);
    if (action === 'list') {
      const rootDir = resolve(required(p, 'root'));
      const keys = listEvidenceKeys(rootDir);
      if (!keys.length) out('no evidence key yet: `bodycam provision evidence-key create` makes the first');
      for (const k of keys) out(describeKey(k));
      return done({ action, keys });
    }
    const root = openRoot(required(p, 'root'), passphrase(p, env));
    if (action === 'retire') {
      const r = retireEvidenceKey({ root, keyId: required(p, 'key-id'), reason: required(p, 'reason'), operator, now });
      out(`evidence key ${r.keyId} retired: no camera is given it again (export still opens what was sealed to it)`);
      out(`  ${r.file} says so; copies of it elsewhere (the evidence office) don't: copy this one over them`);
      return done({ action, keyId: r.keyId, file: r.file });
    }
    const evidencePass = evidencePassphrase(p, env);
    if (action === 'create') {
      const r = createEvidenceKey({ root, passphrase: evidencePass, operator, now });
      out(`evidence key ${r.keyId} created: cameras provisioned or configured from now on seal their evidence to it`);
      out(`  SECRET: ${r.file} (sealed with the evidence passphrase; copy it to the computers that export evidence)`);
      out('  without it (and its passphrase) nobody can open what the cameras record: keep a backup copy offline');
      return done({ action, keyId: r.keyId, publicKey: r.publicKey, file: r.file });
    }
    const r = rotateEvidenceKey({ root, passphrase: evidencePass, operator, now });
    const settings = stringOption(p, 'config') ? readSettingsFile(stringOption(p, 'config')!) : { ...DEFAULT_SETTINGS };
    const c = issueConfig({ root, device: ANY_DEVICE, settings, operator, now });
    const outFile = resolve(stringOption(p, 'out') ?? join(root.dir, ROOT_FILES.issued, `config-all-${c.version}.cose`));
    writeDurable(outFile, c.config);
    out(`evidence key ${r.keyId} is now the agency's current key (it replaces ${r.replaces}, which is kept to open what was sealed to it)`);
    out(`  SECRET: ${r.file} (sealed with the evidence passphrase; copy it to the computers that export evidence)`);
    out(`  configuration version ${c.version} for every camera, with the new key: ${outFile}`);
    out('  (copy it to each dock station\'s configurations folder: `bodycam dock --configs DIR` pushes it to each camera at its next docking)');
    return done({ action, keyId: r.keyId, publicKey: r.publicKey, replaces: r.replaces, file: r.file, configVersion: c.version, config: outFile });
  }

  if (sub === 'root') {
    const dir = resolve(required(p, 'out'));
    const root = createRoot({ dir, agency: required(p, 'agency'), passphrase: passphrase(p, env), operator, now });
    out(`agency root for ${root.agency} created; key id ${toHex(root.signer.keyId)}`);
    out(`  public key:  ${join(dir, ROOT_FILES.pub)} (give this to docks; it is not secret)`);
    out(`  SECRET:      ${join(dir, ROOT_FILES.secret)} (encrypted with your passphrase)`);
    out(`  register:    ${join(dir, ROOT_FILES.register)}`);
    out(`WARNING: ${join(dir, ROOT_FILES.secret)} and its passphrase let anyone issue certificates your cameras and docks`);
    out('  will trust. Keep this folder OFFLINE (never on a networked or shared drive), keep a backup copy in a safe,');
    out('  and keep the passphrase apart from it. If it is lost, every camera and dock must be provisioned again.');
    return done({ agency: root.agency, keyId: toHex(root.signer.keyId), publicKey: join(dir, ROOT_FILES.pub), secret: join(dir, ROOT_FILES.secret), register: join(dir, ROOT_FILES.register) });
  }
  const root = openRoot(required(p, 'root'), passphrase(p, env));

  if (sub === 'dock') {
    const dir = resolve(required(p, 'out'));
    const id = required(p, 'id');
    const r = issueDock({ root, id, out: dir, days, operator, now });
    out(`dock ${id} issued: key id ${r.keyId}, certificate ${r.serial}, valid until ${new Date(r.notAfter).toISOString().slice(0, 10)}`);
    out(`  identity folder: ${dir} (dock.seed is the dock's secret: copy the folder only to that dock station)`);
    return done({ id, keyId: r.keyId, serial: r.serial, notAfter: new Date(r.notAfter).toISOString(), identity: dir });
  }

  if (sub === 'export-signer') {
    const dir = resolve(required(p, 'out'));
    const id = required(p, 'id');
    const r = await issueExportSigner({ root, id, out: dir, days, operator, now });
    out(`export signer ${id} issued: key id ${r.keyId}, X.509 certificate ${r.serial}, valid until ${new Date(r.notAfter).toISOString().slice(0, 10)}`);
    out(`  signer folder: ${dir} (export.seed is its secret: keep it on the computer that exports evidence)`);
    out(`  C2PA trust anchor: ${r.rootCertificate} (the agency root as an X.509 certificate; give it to validators)`);
    return done({ id, keyId: r.keyId, serial: r.serial, notAfter: new Date(r.notAfter).toISOString(), signer: dir, trustAnchor: r.rootCertificate });
  }

  if (sub === 'camera') {
    const device = required(p, 'device');
    const officer = required(p, 'officer');
    const settings = stringOption(p, 'config') ? readSettingsOverrides(stringOption(p, 'config')!) : undefined;
    const firmwareKeys = ((p.options['firmware-key'] as string[] | undefined) ?? []).map(readPublicKey);
    const targets = ['sim', 'listen', 'connect', 'port'].filter((k) => stringOption(p, k) !== undefined);
    if (targets.length !== 1) throw new BodycamError('E_USAGE', 'give exactly one of --listen HOST:PORT, --connect HOST:PORT, --sim STATE-DIR or --port SERIAL');
    if (p.options.wait !== undefined && targets[0] !== 'listen') throw new BodycamError('E_USAGE', '--wait goes with --listen');
    if (targets[0] === 'port') {
      throw new BodycamError('E_UNSUPPORTED', `provisioning over USB serial (${stringOption(p, 'port')}) is not available yet; connect the camera to the dock network and use --connect HOST:PORT`);
    }
    let transport: ProvisionTransport;
    if (targets[0] === 'sim') {
      const dir = resolve(stringOption(p, 'sim')!);
      mkdirSync(dir, { recursive: true });
      transport = simulatedCamera(dir).transport;
    } else if (targets[0] === 'listen') {
      const wait = intOption(p, 'wait', 300);
      if (wait < 1 || wait > 3600) throw new BodycamError('E_USAGE', '--wait takes seconds, from 1 to 3600');
      const listening = await ListenTransport.open(stringOption(p, 'listen')!, { acceptTimeoutMs: wait * 1000, onConnected: (from) => out(`camera connected from ${from}; provisioning…`) });
      out(`waiting up to ${wait} s for a camera to connect to ${listening.host}:${listening.port}`);
      out('  switch the camera on: a camera that is not provisioned yet blinks cyan and connects by itself (press its button to make it try at once)');
      transport = listening;
    } else {
      transport = await TcpTransport.open(stringOption(p, 'connect')!);
    }
    try {
      const r = await provisionCamera({ root, device, officer, transport, settings, days, force: p.options.force === true, firmwareKeys, operator, now });
      out(`camera ${r.device} provisioned${r.forced ? ' (again, forced)' : ''}: assigned to ${r.officer}`);
      out(`  key id ${r.keyId}, certificate ${r.serial}, configuration version ${r.configVersion}, firmware ${r.firmware}`);
      if (r.firmwareKeyIds.length) out(`  installs firmware signed by key ${r.firmwareKeyIds.join(' or ')}`);
      else out('  WARNING: no --firmware-key: this camera refuses every firmware update until it is provisioned again with one');
      if (r.evidenceKeyIds.length) out(`  seals its evidence to the agency's evidence key ${r.evidenceKeyIds[0]}`);
      else out('  WARNING: the agency has no evidence key (bodycam provision evidence-key create): this camera was given none');
      out(`  recorded in ${join(root.dir, ROOT_FILES.register)}`);
      return done({ device: r.device, officer: r.officer, forced: r.forced, keyId: r.keyId, serial: r.serial, configVersion: r.configVersion, firmware: r.firmware, firmwareKeyIds: r.firmwareKeyIds, evidenceKeyIds: r.evidenceKeyIds, register: join(root.dir, ROOT_FILES.register) });
    } finally {
      await transport.close();
    }
  }

  if (sub === 'config') {
    const outFile = resolve(required(p, 'out'));
    const r = issueConfig({ root, device: required(p, 'device'), settings: readSettingsFile(required(p, 'config')), operator, now });
    writeDurable(outFile, r.config);
    out(`configuration version ${r.version} for ${required(p, 'device')} written to ${outFile}`);
    out(r.evidenceKeyIds.length ? `  with the agency's evidence key ${r.evidenceKeyIds[0]}` : '  WARNING: the agency has no evidence key (bodycam provision evidence-key create): the configuration carries none');
    return done({ device: required(p, 'device'), version: r.version, file: outFile, evidenceKeyIds: r.evidenceKeyIds });
  }

  // revoke
  const keyId = stringOption(p, 'key-id');
  const device = stringOption(p, 'device');
  if (keyId && device) throw new BodycamError('E_USAGE', 'give --key-id or --device, not both');
  const eff = stringOption(p, 'effective');
  let effective: number | null | undefined;
  if (eff === 'start') effective = null;
  else if (eff !== undefined) {
    effective = Date.parse(eff);
    if (!Number.isFinite(effective) || effective < 0) throw new BodycamError('E_USAGE', `--effective takes a UTC time (2026-11-25T06:00:00Z) or "start", not "${eff}"`);
  }
  const r = revoke({ root, keyId, device, reason: required(p, 'reason'), effective, operator, now });
  out(`revoked key ${r.keyId}${device ? ` (${device})` : ''} ${effective === null ? 'from the start (everything it ever signed)' : `from ${new Date(effective ?? now).toISOString()} (what a dock receipted before stays valid)`}: revocation list number ${r.number} written to ${join(root.dir, ROOT_FILES.revocations)}`);
  out('  copy it into every dock station identity folder (revocations.cose) and restart the docks');
  return done({ keyId: r.keyId, device: device ?? null, effective: effective === null ? 'start' : new Date(effective ?? now).toISOString(), number: r.number, file: join(root.dir, ROOT_FILES.revocations) });
}
