// A camera fresh out of the box: it holds no certificate of its own, so it runs no recorder. It
// blinks AWAITING_PROVISIONING (recorder/indicators.ts), opens the Link to the armoury — a TCP
// client, like the dock link: the camera can't listen — and answers the armoury tool
// (`bodycam provision camera --listen`) with CameraProvisioning over it. firmware/main.ts starts
// the recorder once the certificate is installed.
//
// Promises:
// - heldProvisioning() counts a camera as provisioned only when its key store holds an agency
//   root and a device certificate for the camera's OWN key: a certificate copied into another
//   camera's key store does not make that camera record (E_CERT_KEY).
// - One connection at a time. The first attempt is at once; after a refused, cut or silent
//   (idleMs) connection the next waits firstMs, doubling up to maxMs, for at most `attempts`
//   connections; then it stops trying. A press of the button retries at once and starts a fresh
//   round. Every failure is counted and its code kept for status().
// - Each connection gets a fresh handler (a cut leaves no half frame behind).
// - onInstalled fires once, after the certificate is stored and the 'installed' reply written,
//   with the LED, the button and every timer released (the recorder takes the same pins); the
//   link itself stays open until the armoury closes it or lingerMs passes, so the reply is not
//   cut off by the camera's own close.
//
// May import: firmware/platform (types), firmware/signing, firmware/provision, and the LED
// vocabulary (firmware/recorder/indicators.ts).

import { toHex } from '../codec/cbor.js';
import { BodycamError, errorCode, errorMessage } from '../errors.js';
import type { Platform } from '../platform/platform.js';
import type { Button, Led } from '../platform/io.js';
import type { KeyStore } from '../platform/keystore.js';
import type { Link } from '../platform/link.js';
import type { TimerId } from '../platform/clock.js';
import { peekCertificate } from '../signing/certificate.js';
import type { Ed25519 } from '../signing/ed25519.js';
import { sameBytes } from '../signing/signer.js';
import { AWAITING_PROVISIONING } from '../recorder/indicators.js';
import { CameraProvisioning, readProvisioned, type ProvisionEvent } from './camera.js';

/** Where the armoury tool listens for cameras (boards/*.json `config.bodycam.provision`). */
export interface ArmouryAddress {
  address?: string;
  port: number;
}

export type Held = { ok: true; id: string } | { ok: false; code: string; message: string };

/** Whether the key store holds what a recorder needs: the agency root and a certificate for `publicKey`. */
export function heldProvisioning(keyStore: KeyStore, publicKey: Uint8Array): Held {
  const s = readProvisioned(keyStore);
  if (!s.certificate) return { ok: false, code: 'E_NOT_PROVISIONED', message: 'this camera has no certificate yet: provision it at the armoury' };
  if (!s.rootKey) return { ok: false, code: 'E_NOT_PROVISIONED', message: 'this camera holds a certificate but no agency root: provision it again' };
  try {
    const cert = peekCertificate(s.certificate);
    if (cert.kind !== 'device') return { ok: false, code: 'E_CERT_KIND', message: `the certificate held is a ${cert.kind} certificate, not a camera's` };
    if (!sameBytes(cert.publicKey, publicKey)) {
      return { ok: false, code: 'E_CERT_KEY', message: `the certificate held (${cert.id}) is for another camera's key: a certificate can't be copied; provision this camera with --force` };
    }
    return { ok: true, id: cert.id };
  } catch (e) {
    return { ok: false, code: errorCode(e), message: `the certificate held can't be read (${errorMessage(e)}); provision this camera with --force` };
  }
}

/** Reads a board's `config.bodycam.provision` (null or absent: the firmware has no armoury address). */
export function readArmouryAddress(value: unknown, board: string): ArmouryAddress | undefined {
  if (value === undefined || value === null) return undefined;
  const fail = (what: string): never => {
    throw new BodycamError('E_BOARD_INVALID', `board "${board}": provision.${what}; fix boards/${board}.json`);
  };
  if (typeof value !== 'object' || Array.isArray(value)) fail('must be an object {"address", "port"} or null');
  const o = value as Record<string, unknown>;
  const port = o.port;
  if (typeof port !== 'number' || !Number.isSafeInteger(port) || port < 1 || port > 65535) fail('port must be a TCP port (1 to 65535)');
  if (o.address !== undefined && (typeof o.address !== 'string' || o.address.length === 0)) fail('address must be a host name or IP address');
  return o.address === undefined ? { port: port as number } : { address: o.address as string, port: port as number };
}

export interface RetryPolicy {
  /** Wait after the first failure; doubles after each one. */
  firstMs: number;
  maxMs: number;
  /** Connections per round; then the camera waits for a button press. */
  attempts: number;
  /** A connection that brings no bytes for this long is a failure. */
  idleMs: number;
  /** After install, how long the link may stay open for the reply to leave. */
  lingerMs: number;
}

export const DEFAULT_RETRY: Readonly<RetryPolicy> = Object.freeze({ firstMs: 1000, maxMs: 30_000, attempts: 40, idleMs: 60_000, lingerMs: 2000 });

export type ProvisioningPhase = 'connecting' | 'connected' | 'retrying' | 'gave-up' | 'unconfigured' | 'installed' | 'closed';

export interface ProvisioningStatus {
  state: 'awaiting-provisioning';
  phase: ProvisioningPhase;
  /** "address:port" of the armoury, or "" when the firmware has none. */
  armoury: string;
  /** This camera's key id (hex), as the armoury's register will show it. */
  keyId: string;
  /** Why the camera is not provisioned (E_NOT_PROVISIONED, or why the held certificate was refused). */
  reason: string;
  /** Connections tried since boot, failed ones, and the current round's count. */
  attempts: number;
  failures: number;
  round: number;
  /** "E_CODE: message" of the last failure or refusal. */
  lastError: string;
  /** Install requests this camera refused (a copied certificate, another agency's config...). */
  refused: number;
  /** The device id installed, once installed. */
  device: string;
}

export interface ProvisioningBootOptions {
  platform: Platform;
  keyStorePath: string;
  firmwareVersion: string;
  /** Where the armoury tool listens; without it the camera only blinks (phase "unconfigured"). */
  armoury?: ArmouryAddress;
  ed25519: Ed25519;
  /** Why the camera counts as unprovisioned (heldProvisioning's answer). */
  reason: { code: string; message: string };
  keyId: Uint8Array;
  retry?: Partial<RetryPolicy>;
  pins?: { button?: string | number; led?: string | number };
  /** The board's best recording mode (CameraProvisioningOptions.recording), told to the armoury. */
  recording?: { width: number; height: number; frameRate: number };
  /** The certificate is installed: start the recorder. */
  onInstalled: (device: string) => void;
  onEvent?: (e: ProvisionEvent) => void;
}

export class ProvisioningBoot {
  readonly #o: ProvisioningBootOptions;
  readonly #p: Platform;
  readonly #retry: RetryPolicy;
  readonly #keys: KeyStore;
  readonly #led: Led;
  readonly #button: Button;
  #blink: TimerId | undefined;
  #lit = false;
  #wait: TimerId | undefined;
  #idle: TimerId | undefined;
  #linger: TimerId | undefined;
  #link: Link | undefined;
  #handler: CameraProvisioning | undefined;
  #phase: ProvisioningPhase = 'connecting';
  readonly #stats = { attempts: 0, failures: 0, round: 0, refused: 0, lastError: '', device: '' };

  constructor(o: ProvisioningBootOptions) {
    this.#o = o;
    const p = (this.#p = o.platform);
    this.#retry = { ...DEFAULT_RETRY, ...o.retry };
    this.#keys = new p.KeyStore({ path: o.keyStorePath });
    this.#led = new p.Led({ pin: o.pins?.led ?? 'status' });
    this.#button = new p.Button({ pin: o.pins?.button ?? 'record', onReadable: () => this.#guard(() => this.#pressed()) });
    this.#toggle();
    this.#blink = p.timer.set(() => this.#guard(() => this.#toggle()), AWAITING_PROVISIONING.halfPeriodMs, AWAITING_PROVISIONING.halfPeriodMs);
    if (!o.armoury) {
      this.#phase = 'unconfigured';
      this.#stats.lastError = 'E_PROVISION_CONFIG: this firmware has no armoury address (boards/<board>.json config.bodycam.provision); rebuild it with one';
      return;
    }
    this.#connect();
  }

  get phase(): ProvisioningPhase {
    return this.#phase;
  }

  status(): ProvisioningStatus {
    const a = this.#o.armoury;
    return {
      state: 'awaiting-provisioning',
      phase: this.#phase,
      armoury: a ? `${a.address ?? ''}:${a.port}` : '',
      keyId: toHex(this.#o.keyId),
      reason: this.#o.reason.code,
      ...this.#stats,
    };
  }

  /** Power off (or the recorder took over): release everything still held. */
  close(): void {
    if (this.#phase === 'closed') return;
    if (this.#phase !== 'installed') this.#release();
    this.#phase = 'closed';
    this.#clear(this.#linger);
    this.#linger = undefined;
    this.#dropLink();
  }

  // ------------------------------------------------------------------------ the link

  #connect(): void {
    this.#wait = undefined;
    this.#stats.attempts++;
    this.#stats.round++;
    this.#phase = 'connecting';
    this.#handler = undefined;
    const a = this.#o.armoury!;
    let link: Link | undefined;
    try {
      link = new this.#p.Link({
        address: a.address,
        port: a.port,
        onWritable: () => this.#guard(() => {
          if (this.#link === link && this.#phase === 'connecting') this.#phase = 'connected';
        }),
        onReadable: () => this.#guard(() => {
          if (link && this.#link === link) this.#readable(link);
        }),
        onError: (message) => this.#guard(() => {
          if (this.#link !== link) return;
          if (this.#phase === 'installed') this.#dropLink();
          else this.#failed('E_LINK_CLOSED', `the armoury link closed: ${message}`);
        }),
      });
    } catch (e) {
      this.#failed(errorCode(e), errorMessage(e));
      return;
    }
    this.#link = link;
    this.#armIdle();
  }

  #readable(link: Link): void {
    this.#armIdle();
    if (this.#phase === 'connecting') this.#phase = 'connected';
    for (let b = link.read(); b && this.#link === link; b = link.read()) {
      this.#handler ??= this.#newHandler();
      const h = this.#handler;
      for (const frame of h.receive(new Uint8Array(b))) link.write(frame);
      if (this.#phase === 'installed') return this.#installed();
      if (h.closed) return this.#failed('E_PROTO_FRAMING', 'the armoury sent bytes that are not provisioning frames');
    }
  }

  #newHandler(): CameraProvisioning {
    return new CameraProvisioning({
      keyStore: this.#keys,
      random: this.#p.random,
      digest: this.#p.digest,
      checksum: this.#p.checksum,
      ed25519: this.#o.ed25519,
      firmwareVersion: this.#o.firmwareVersion,
      ...(this.#o.recording ? { recording: this.#o.recording } : {}),
      onEvent: (e) => {
        if (e.kind === 'installed') {
          this.#phase = 'installed';
          this.#stats.device = e.id;
        } else if (e.kind === 'refused') {
          this.#stats.refused++;
          this.#stats.lastError = `${e.code}: ${e.message}`;
        }
        this.#o.onEvent?.(e);
      },
    });
  }

  #installed(): void {
    this.#release();
    this.#linger = this.#p.timer.set(() => this.#guard(() => {
      this.#linger = undefined;
      this.#dropLink();
    }), this.#retry.lingerMs);
    this.#o.onInstalled(this.#stats.device);
  }

  #failed(code: string, message: string): void {
    this.#dropLink();
    this.#stats.failures++;
    this.#stats.lastError = `${code}: ${message}`;
    if (this.#stats.round >= this.#retry.attempts) {
      this.#phase = 'gave-up';
      return;
    }
    this.#phase = 'retrying';
    const delay = Math.min(this.#retry.maxMs, this.#retry.firstMs * 2 ** Math.min(30, this.#stats.round - 1));
    this.#wait = this.#p.timer.set(() => this.#guard(() => this.#connect()), delay);
  }

  #pressed(): void {
    if (this.#button.read() !== 1 || !this.#o.armoury) return;
    if (this.#phase !== 'retrying' && this.#phase !== 'gave-up') return;
    this.#clear(this.#wait);
    this.#stats.round = 0;
    this.#connect();
  }

  #armIdle(): void {
    this.#clear(this.#idle);
    const link = this.#link;
    this.#idle = this.#p.timer.set(() => this.#guard(() => {
      this.#idle = undefined;
      if (this.#link === link && this.#phase !== 'installed') this.#failed('E_TIMEOUT', `the armoury sent nothing for ${this.#retry.idleMs} ms`);
    }), this.#retry.idleMs);
  }

  #dropLink(): void {
    this.#clear(this.#idle);
    this.#idle = undefined;
    const link = this.#link;
    this.#link = undefined;
    this.#handler = undefined;
    try {
      link?.close();
    } catch {
      // already closed by the other side
    }
  }

  // -------------------------------------------------------------------- indicators

  #toggle(): void {
    this.#lit = !this.#lit;
    this.#led.write(this.#lit ? AWAITING_PROVISIONING.colour : 0);
  }

  /** Let go of the LED, the button, the key store and every timer but the linger. */
  #release(): void {
    this.#clear(this.#blink);
    this.#clear(this.#wait);
    this.#blink = this.#wait = undefined;
    this.#led.write(0);
    this.#led.close();
    this.#button.close();
    this.#keys.close();
  }

  #clear(id: TimerId | undefined): void {
    if (id !== undefined) this.#p.timer.clear(id);
  }

  #guard(f: () => void): void {
    if (this.#phase === 'closed') return;
    try {
      f();
    } catch (e) {
      this.#stats.lastError = `${errorCode(e)}: ${errorMessage(e)}`;
      if (this.#link && this.#phase !== 'installed') this.#failed(errorCode(e), errorMessage(e));
    }
  }
}
