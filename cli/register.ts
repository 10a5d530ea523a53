// The armoury register (register.json in the agency root folder): every certificate issued, every
// camera ↔ officer assignment, every revocation and evidence key — who did it and when, as
// append-only events, with the current state beside them. Read and written only by the armoury
// tool (cli/provision.ts, cli/evidence-key.ts); `bodycam dock --register` reads its cameras.

import { existsSync, readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { BodycamError } from '../firmware/errors.js';
import { writeDurable } from '../dock-station/store.js';
import type { EvidenceKeyRecord } from '../evidence/evidence-keys.js';

export const REGISTER_FORMAT = 'bodycam-armoury-register/1';

/** The files of an agency root folder (`bodycam provision root --out DIR`). */
export const ROOT_FILES = Object.freeze({ secret: 'root.secret', pub: 'root.pub', register: 'register.json', revocations: 'revocations.cose', issued: 'issued', evidenceKeys: 'evidence-keys' });

export interface RegisterEvent {
  /** ISO time. */
  at: string;
  /** The armoury operator (--operator, or the computer's user name). */
  by: string;
  action: 'root-created' | 'dock-issued' | 'export-signer-issued' | 'camera-certificate-issued' | 'camera-provisioned' | 'camera-assigned' | 'config-issued' | 'revoked'
    | 'evidence-key-created' | 'evidence-key-retired';
  [detail: string]: string | number | boolean | null;
}

export interface CameraRecord {
  keyId: string;
  officer: string;
  serial: number;
  since: string;
  by: string;
}

export interface DockRecord {
  keyId: string;
  serial: number;
  notAfter: string;
}

export interface Register {
  format: typeof REGISTER_FORMAT;
  agency: string;
  rootKeyId: string;
  nextSerial: number;
  nextConfigVersion: number;
  revocationNumber: number;
  /** Current assignment per device id (the history is in `events`). */
  cameras: Record<string, CameraRecord>;
  docks: Record<string, DockRecord>;
  /**
   * The agency's evidence keys by key id (hex), absent before the first one: at most one is
   * "current" (cameras seal to it), older ones are "previous" (kept to open what was sealed to
   * them), "retired" ones are never given to a camera again.
   */
  evidenceKeys?: Record<string, EvidenceKeyRecord>;
  events: RegisterEvent[];
}

export function readRegister(rootDir: string): Register {
  const p = join(rootDir, ROOT_FILES.register);
  if (!existsSync(p)) throw new BodycamError('E_ROOT_MISSING', `${p} is missing: is ${rootDir} an agency root folder (made by \`bodycam provision root\`)?`);
  let r: Register;
  try {
    r = JSON.parse(readFileSync(p, 'utf8')) as Register;
  } catch (e) {
    throw new BodycamError('E_REGISTER_FORMAT', `${p} is damaged (${(e as Error).message}); nothing was changed. Restore it from the agency folder's backup copy`);
  }
  if (!r || typeof r !== 'object' || r.format !== REGISTER_FORMAT) throw new BodycamError('E_REGISTER_FORMAT', `${p} is not an armoury register (${REGISTER_FORMAT}); nothing was changed. Restore it from the agency folder's backup copy`);
  return r;
}

export function saveRegister(rootDir: string, r: Register): void {
  writeDurable(join(rootDir, ROOT_FILES.register), new TextEncoder().encode(JSON.stringify(r, null, 2) + '\n'));
}

export function event(r: Register, by: string, now: number, action: RegisterEvent['action'], detail: Record<string, string | number | boolean | null>): void {
  r.events.push({ at: new Date(now).toISOString(), by, action, ...detail });
}

/** The armoury operator by default: the computer's user name. */
export function operatorName(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
