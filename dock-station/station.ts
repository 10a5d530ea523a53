// The dock station: a TCP service for many cameras at once (one connection each), over one
// evidence store. Writes the agency root key into the store's trust/ folder so the store is a
// self-contained evidence directory for `bodycam verify`.

import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { issueRevocationList, verifyCertificate, verifyRevocationList } from '../firmware/signing/certificate.js';
import { BodycamError } from '../firmware/errors.js';
import { sameBytes } from '../firmware/signing/signer.js';
import { nodeDigest } from '../host/ports.js';
import { checkOwnIdentity } from './identity.js';
import type { Ed25519 } from '../firmware/signing/ed25519.js';
import { DockSession, type DockIdentity, type SessionProgress, type SessionResult } from './session.js';
import { EvidenceStore, writeDurable } from './store.js';
import type { FirmwareShelf } from './firmware-shelf.js';

export interface StationOptions {
  identity: DockIdentity;
  storeDir: string;
  ed25519: Ed25519;
  chunkSize?: number;
  batch?: number;
  timeoutMs?: number;
  now?: () => number;
  /** Signed revocation list bytes to keep beside the evidence. */
  revocationsCose?: Uint8Array;
  configFor?: (device: string) => Uint8Array | undefined;
  firmware?: FirmwareShelf;
  onProgress?: (p: SessionProgress) => void;
  onResult?: (r: SessionResult) => void;
}

export class DockStation {
  readonly store: EvidenceStore;
  #o: StationOptions;
  #server: Server | undefined;
  #sockets = new Set<Socket>();
  #sessions = new Set<Promise<SessionResult>>();
  readonly results: SessionResult[] = [];

  constructor(o: StationOptions) {
    this.#o = o;
    // A station never serves under an expired or revoked identity (E_CERT_EXPIRED, E_CERT_REVOKED).
    const own = verifyCertificate(o.identity.certificate, o.identity.rootKey, { digest: nodeDigest, ed25519: o.ed25519, kind: 'dock', at: (o.now ?? Date.now)() });
    if (!sameBytes(own.publicKey, o.identity.signer.publicKey)) throw new BodycamError('E_DOCK_IDENTITY', 'the dock certificate is for another key than the dock signs with');
    if (!o.identity.revocations && o.revocationsCose) o.identity.revocations = verifyRevocationList(o.revocationsCose, o.identity.rootKey, { ed25519: o.ed25519 });
    checkOwnIdentity(own, o.identity.revocations);
    this.store = new EvidenceStore(o.storeDir);
    this.store.custodySigner = { dock: o.identity.id, signer: o.identity.signer, now: o.now };
    const rootPath = join(o.storeDir, 'trust', 'root.pub');
    if (!existsSync(rootPath)) writeDurable(rootPath, o.identity.rootKey);
    if (o.revocationsCose) writeDurable(join(o.storeDir, 'trust', 'revocations.cose'), o.revocationsCose);
    // Receipts in this store are checked against the certificates of the docks that signed them.
    this.store.putObject(o.identity.certificate, 'dock-certificate');
    this.store.link(createHash('sha256').update(o.identity.certificate).digest('hex'), 'docks', o.identity.id, 'certificate.cose');
    this.store.log('station-start', { dock: o.identity.id });
  }

  listen(port = 0, host = '127.0.0.1'): Promise<AddressInfo> {
    this.#server = createServer((socket) => this.#accept(socket));
    return new Promise((resolve, reject) => {
      this.#server!.once('error', reject);
      this.#server!.listen(port, host, () => resolve(this.#server!.address() as AddressInfo));
    });
  }

  #accept(socket: Socket): void {
    this.#sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('close', () => this.#sockets.delete(socket));
    const session = new DockSession(socket, {
      identity: this.#o.identity,
      store: this.store,
      ed25519: this.#o.ed25519,
      chunkSize: this.#o.chunkSize,
      batch: this.#o.batch,
      timeoutMs: this.#o.timeoutMs,
      now: this.#o.now,
      configFor: this.#o.configFor,
      revocationsCose: this.#o.revocationsCose,
      firmware: this.#o.firmware,
      onProgress: this.#o.onProgress,
    });
    const p = session.run().then((r) => {
      this.results.push(r);
      this.#o.onResult?.(r);
      return r;
    });
    this.#sessions.add(p);
    void p.finally(() => this.#sessions.delete(p));
  }

  /** Wait for every session in progress to end. */
  async idle(): Promise<void> {
    while (this.#sessions.size) await Promise.allSettled([...this.#sessions]);
  }

  /** Stop listening and end every session; the store stays consistent (what was acked is durable). */
  async close(options: { abrupt?: boolean } = {}): Promise<void> {
    if (options.abrupt) for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
    if (!options.abrupt) await this.idle();
    else await Promise.allSettled([...this.#sessions]);
    this.store.log('station-stop', { dock: this.#o.identity.id });
    this.store.close();
  }
}

export { issueRevocationList };
