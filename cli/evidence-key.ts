// `bodycam provision evidence-key create|list|rotate|retire`: the agency's evidence keys, kept in
// the agency root folder (issue 22). Cameras seal what they record to the agency's CURRENT key;
// its public half goes into every signed camera configuration the armoury issues afterwards
// (provision camera, provision config, and the "*" configuration a rotation issues), so the
// agency root signs it and a camera takes it at provisioning or at its next docking.
//
//   create   the first key (refused when the agency has a current one: rotate instead)
//   rotate   a new current key; the old one becomes "previous" (kept: it opens what was sealed to it)
//   retire   a previous key is never given to a camera again (export still opens what was sealed to it)
//            (the current key can't be retired: rotate first)
//   list     every key, its status, its file (no passphrase needed)
//
// Files: ROOT/evidence-keys/ (0700), one <key id>.secret per key (0600 from its first byte),
// sealed under the evidence passphrase (evidence/evidence-keys.ts). The register keeps the
// keys' public halves and status, and an event for every act (who, when).

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fromHex } from '../firmware/codec/cbor.js';
import { BodycamError } from '../firmware/errors.js';
import type { EvidenceRecipient } from '../firmware/provision/evidence-keys.js';
import { writeDurable } from '../dock-station/store.js';
import {
  EVIDENCE_PASSPHRASE_ENV, EVIDENCE_PASSPHRASE_OPTION, readEvidenceKeyFile, sealEvidenceKey, type EvidenceKeyRecord, type EvidenceSecretFile,
} from '../evidence/evidence-keys.js';
import { MIN_PASSPHRASE, secretOption, type Parsed } from './args.js';
import type { AgencyRoot } from './provision.js';
import { event, operatorName, readRegister, ROOT_FILES, saveRegister, type Register } from './register.js';

/** The evidence passphrase from --evidence-passphrase-file FILE or BODYCAM_EVIDENCE_PASSPHRASE (for export too). */
export function evidencePassphrase(p: Parsed, env: NodeJS.ProcessEnv): string {
  const v = secretOption(p, env, EVIDENCE_PASSPHRASE_OPTION, EVIDENCE_PASSPHRASE_ENV);
  if (v !== undefined) return v;
  throw new BodycamError('E_EVIDENCE_PASSPHRASE_MISSING', `the evidence key's passphrase is needed: give --${EVIDENCE_PASSPHRASE_OPTION} FILE or set ${EVIDENCE_PASSPHRASE_ENV} (there is no prompt)`);
}

/** Where an evidence key's sealed secret lives in the agency folder. */
export function evidenceKeyPath(rootDir: string, keyId: string): string {
  return join(rootDir, ROOT_FILES.evidenceKeys, `${keyId}.secret`);
}

/**
 * What cameras are given: the agency's current evidence key, or none (an agency that has not made
 * one yet). E_EVIDENCE_KEY_RETIRED if the register names a retired key as current (edited by hand).
 */
export function currentEvidenceRecipients(register: Register): EvidenceRecipient[] {
  const current = Object.values(register.evidenceKeys ?? {}).filter((k) => k.status === 'current');
  if (current.length > 1) throw new BodycamError('E_REGISTER_FORMAT', `the register names ${current.length} current evidence keys (${current.map((k) => k.keyId).join(', ')}); restore it from the agency folder's backup copy`);
  const k = current[0];
  if (!k) return [];
  if (k.retired) throw new BodycamError('E_EVIDENCE_KEY_RETIRED', `evidence key ${k.keyId} is retired and is never given to a camera; the register was edited by hand: restore it from the agency folder's backup copy`);
  return [{ keyId: fromHex(k.keyId), publicKey: fromHex(k.publicKey) }];
}

export interface NewEvidenceKeyOptions {
  root: AgencyRoot;
  /** The evidence passphrase (not the root's). */
  passphrase: string;
  operator?: string;
  now?: number;
  /** scrypt cost; the default (2^17) is for real use, tests may lower it. */
  scryptN?: number;
}

export interface NewEvidenceKey {
  keyId: string;
  publicKey: string;
  file: string;
  /** The key it replaced as current (rotate), or null. */
  replaces: string | null;
}

function makeKey(o: NewEvidenceKeyOptions, register: Register, replaces: EvidenceKeyRecord | undefined): NewEvidenceKey {
  const now = o.now ?? Date.now();
  const by = o.operator ?? operatorName();
  if (o.passphrase.length < MIN_PASSPHRASE) throw new BodycamError('E_PASSPHRASE_WEAK', `the evidence passphrase must have at least ${MIN_PASSPHRASE} characters`);
  const secret = new Uint8Array(randomBytes(32));
  let file: EvidenceSecretFile;
  try {
    file = sealEvidenceKey({ secret, passphrase: o.passphrase, agency: o.root.agency, created: new Date(now).toISOString(), scryptN: o.scryptN });
  } finally {
    secret.fill(0);
  }
  const dir = join(o.root.dir, ROOT_FILES.evidenceKeys);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = evidenceKeyPath(o.root.dir, file.keyId);
  writeDurable(path, JSON.stringify(file, null, 2) + '\n', { mode: 0o600, exclusive: true });
  const keys = (register.evidenceKeys ??= {});
  if (replaces) keys[replaces.keyId] = { ...replaces, status: 'previous', superseded: file.created };
  keys[file.keyId] = { keyId: file.keyId, publicKey: file.publicKey, status: 'current', created: file.created, by };
  event(register, by, now, 'evidence-key-created', { keyId: file.keyId, publicKey: file.publicKey, replaces: replaces?.keyId ?? null });
  saveRegister(o.root.dir, register);
  return { keyId: file.keyId, publicKey: file.publicKey, file: path, replaces: replaces?.keyId ?? null };
}

function currentRecord(register: Register): EvidenceKeyRecord | undefined {
  return Object.values(register.evidenceKeys ?? {}).find((k) => k.status === 'current');
}

/** The agency's first evidence key; refused when it has a current one (E_EVIDENCE_KEY_EXISTS). */
export function createEvidenceKey(o: NewEvidenceKeyOptions): NewEvidenceKey {
  const register = readRegister(o.root.dir);
  const current = currentRecord(register);
  if (current) throw new BodycamError('E_EVIDENCE_KEY_EXISTS', `the agency already has a current evidence key (${current.keyId}, made ${current.created}): \`bodycam provision evidence-key rotate\` makes a new one`);
  return makeKey(o, register, undefined);
}

/** A new current key; the old current one is kept as "previous" (E_EVIDENCE_KEY_NONE if there is none). */
export function rotateEvidenceKey(o: NewEvidenceKeyOptions): NewEvidenceKey {
  const register = readRegister(o.root.dir);
  const current = currentRecord(register);
  if (!current) throw new BodycamError('E_EVIDENCE_KEY_NONE', 'the agency has no current evidence key to rotate: `bodycam provision evidence-key create` makes the first');
  return makeKey(o, register, current);
}

export interface RetireEvidenceKeyOptions {
  root: AgencyRoot;
  keyId: string;
  reason: string;
  operator?: string;
  now?: number;
}

/**
 * Retire a previous key: the register and the key's file in the agency folder say so, no camera is
 * given it again, and loadEvidenceKey refuses it unless its caller allows retired keys
 * (E_EVIDENCE_KEY_RETIRED; export does: what was sealed to it still opens). Copies of
 * the file made before (at the evidence office) are not reached: retire those copies by copying
 * the agency folder's file over them.
 */
export function retireEvidenceKey(o: RetireEvidenceKeyOptions): { keyId: string; file: string } {
  const now = o.now ?? Date.now();
  const by = o.operator ?? operatorName();
  if (!o.reason.trim()) throw new BodycamError('E_USAGE', '--reason is required (e.g. "retention ended", "key compromise")');
  const keyId = o.keyId.toLowerCase();
  if (!/^[0-9a-f]{16}$/.test(keyId)) throw new BodycamError('E_USAGE', `--key-id takes the 16 hex digits of a key id, not "${o.keyId}"`);
  const register = readRegister(o.root.dir);
  const rec = register.evidenceKeys?.[keyId];
  if (!rec) throw new BodycamError('E_EVIDENCE_KEY_UNKNOWN', `evidence key ${keyId} is not in the register of ${register.agency} (bodycam provision evidence-key list)`);
  if (rec.status === 'retired') throw new BodycamError('E_EVIDENCE_KEY_RETIRED', `evidence key ${keyId} was already retired on ${rec.retired?.at ?? '?'}`);
  if (rec.status === 'current') throw new BodycamError('E_EVIDENCE_KEY_CURRENT', `evidence key ${keyId} is the agency's current key (cameras seal to it): rotate first (bodycam provision evidence-key rotate), then retire it`);
  const path = evidenceKeyPath(o.root.dir, keyId);
  const retired = { at: new Date(now).toISOString(), by, reason: o.reason };
  const file = readEvidenceKeyFile(path);
  if (file.keyId !== keyId) throw new BodycamError('E_EVIDENCE_KEY_MISMATCH', `${path} holds key ${file.keyId}, not ${keyId}`);
  writeDurable(path, JSON.stringify({ ...file, retired }, null, 2) + '\n', { mode: 0o600 });
  register.evidenceKeys![keyId] = { ...rec, status: 'retired', retired };
  event(register, by, now, 'evidence-key-retired', { keyId, reason: o.reason });
  saveRegister(o.root.dir, register);
  return { keyId, file: path };
}

export interface ListedEvidenceKey extends EvidenceKeyRecord {
  file: string;
  /** Whether the sealed file is in the agency folder (it may have been moved to the evidence office). */
  present: boolean;
}

/** Every evidence key of the agency, oldest first (no passphrase needed). */
export function listEvidenceKeys(rootDir: string): ListedEvidenceKey[] {
  const register = readRegister(rootDir);
  return Object.values(register.evidenceKeys ?? {})
    .sort((a, b) => a.created.localeCompare(b.created))
    .map((k) => ({ ...k, file: evidenceKeyPath(rootDir, k.keyId), present: existsSync(evidenceKeyPath(rootDir, k.keyId)) }));
}

export const EVIDENCE_KEY_HELP = [
  'usage: bodycam provision evidence-key create --root DIR [--evidence-passphrase-file FILE]',
  '       bodycam provision evidence-key rotate --root DIR [--evidence-passphrase-file FILE] [--config FILE] [--out FILE]',
  '       bodycam provision evidence-key retire --root DIR --key-id HEX --reason TEXT',
  '       bodycam provision evidence-key list --root DIR',
  '  the agency evidence key (X25519): cameras seal what they record to the current one, and only its',
  '  secret opens it (bodycam export --evidence-key FILE). Its public half goes into every camera',
  '  configuration issued after it, signed by the agency root.',
  '  create  the first key: DIR/evidence-keys/<key id>.secret (mode 0600), sealed with the EVIDENCE',
  '          passphrase (--evidence-passphrase-file FILE or BODYCAM_EVIDENCE_PASSPHRASE; not the root\'s).',
  '          Copy that file to the computers that export evidence.',
  '  rotate  a new current key; the old one is kept (it still opens what was sealed to it). Also signs',
  '          a configuration for every camera ("*", the settings of --config FILE or the defaults) that',
  '          carries the new key, written to --out FILE (default DIR/issued/config-all-<version>.cose): a dock',
  '          session carries it to a camera (`bodycam dock` can\'t load one yet: until then, provision cameras',
  '          again with --force to give them the new key).',
  '  retire  a previous key is never given to a camera again (export still opens what was sealed to it)',
  '  list    every key: id, status (current, previous, retired), when made, its file',
];

/** A line for `list`. */
export function describeKey(k: ListedEvidenceKey): string {
  const status = k.status === 'retired' ? `retired ${k.retired?.at.slice(0, 10) ?? ''} (${k.retired?.reason ?? ''})` : k.status;
  return `${k.keyId}  ${status.padEnd(9)}  made ${k.created.slice(0, 10)} by ${k.by}  ${k.present ? k.file : `${k.file} (not in the agency folder)`}`;
}

