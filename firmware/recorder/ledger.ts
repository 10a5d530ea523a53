// The audit ledger: a hash-chained, signed log of every state change of the camera, with its
// time — the record that answers "when was the camera on, and why is there no footage".
//
// Each entry is a signed structure (signing/signed.ts) of type "bodycam/ledger/1": the device,
// the entry's index (0, 1, 2, … for the camera's life), `prev` (SHA-256 of the previous entry's
// COSE bytes; null for index 0), the boot counter, monotonic and UTC time with the clock's
// source, the event name and a small detail map. Entries are signed when the event happens,
// so an entry can't be written later to suit a story, and the chain shows a removed one.
//
// Persistence (KeyStore, names ≤ 15 characters for ESP-IDF NVS): "lg.<index>" holds an entry,
// "lg.head" the next index, the last entry's digest and the oldest index still held. The entry
// is written before the head, so a power cut between the two leaves an entry the next boot
// adopts (it chains to the head). Entries are dropped only after an authenticated dock asked
// for the entries after them (it stores each page durably before asking for the next), and
// never the newest: the chain always continues from something the camera holds.

import { decode, encode, isBytes, isUint, type CborValue } from '../codec/cbor.js';
import { BodycamError } from '../errors.js';
import type { Clock } from '../platform/clock.js';
import type { Digest } from '../platform/digest.js';
import type { KeyStore } from '../platform/keystore.js';
import { sha256Of } from '../platform/digest.js';
import { signStructure } from '../signing/signed.js';
import type { Signer } from '../signing/signer.js';

export const LEDGER_TYPE = 'bodycam/ledger/1';

/** The events a camera records. */
export const LEDGER_EVENTS = Object.freeze([
  'powered-on', // detail: boot, firmware, clean (false after a power cut)
  'power-cut-detected', // the previous boot ended without a clean shutdown; detail: recovered segments
  'segment-recovered', // an open segment sealed after a cut; detail: seq, frames, lastUtc
  'buffering', // standby: the pre-event buffer runs
  'recording', // detail: recording, preEventFrames, resumed (after a power cut: gapMs)
  'stopped', // detail: recording, reason (button, docked, storage-full, battery-critical), segments
  'docked',
  'undocked',
  'dock-session', // detail: dock, ok, reason
  'clock-set', // detail: before, after, drift, dock
  'released', // detail: seqs, bytes, dock (storage freed after a verified receipt)
  'config-changed', // detail: version, dock (or provisioning)
  'storage-full', // detail: awaiting, segments
  'battery-low',
  'battery-critical', // detail: millivolts
  'powered-off', // detail: reason
  'fault', // detail: code, message
  'audio-unavailable', // the microphone could not be opened (none on the board, a driver error): video only until reboot; detail: code, message
  'recording-mode-limited', // the configuration asks for a size or rate beyond the board's modes; detail: asked, recorded ("800x600 at 25 fps")
] as const);
export type LedgerEvent = (typeof LEDGER_EVENTS)[number];

export const KEY_LEDGER_HEAD = 'lg.head';
export const ledgerKey = (index: number): string => `lg.${index}`;

export interface AuditLedgerOptions {
  keyStore: KeyStore;
  signer: Signer;
  digest: Digest;
  clock: Clock;
  device: string;
  boot: number;
  /** Most entries held on the camera; the oldest go first when full (default 1024). */
  capacity?: number;
}

/** When an entry happened, by the camera's clock (monotonic ms, UTC ms, the clock's source). */
export interface LedgerTime {
  mono: number;
  utc: number;
  source: string;
}

export class AuditLedger {
  readonly #o: AuditLedgerOptions;
  #next = 0;
  #first = 0;
  #prev: Uint8Array | null = null;
  #dropped = 0;

  constructor(o: AuditLedgerOptions) {
    this.#o = o;
    const head = o.keyStore.get(KEY_LEDGER_HEAD);
    if (head) {
      const v = decode(new Uint8Array(head));
      if (!Array.isArray(v) || !isUint(v[0]) || !(v[1] === null || isBytes(v[1])) || !isUint(v[2])) {
        throw new BodycamError('E_LEDGER_CORRUPT', 'the ledger head in the key store is damaged; the ledger restarts at a new index after it');
      }
      this.#next = v[0];
      this.#prev = v[1];
      this.#first = v[2];
    }
    // An entry written just before a power cut, whose head update was lost.
    for (let e = o.keyStore.get(ledgerKey(this.#next)); e; e = o.keyStore.get(ledgerKey(this.#next))) {
      this.#prev = sha256Of(o.digest, e);
      this.#next++;
    }
  }

  /** Index the next entry gets. */
  get next(): number {
    return this.#next;
  }

  /** Entries held on the camera. */
  get held(): number {
    return this.#next - this.#first;
  }

  /** Entries dropped unacknowledged because the ledger was full (since boot). */
  get overflowed(): number {
    return this.#dropped;
  }

  /** The clock's reading for an entry made now and signed later (append's `at`). */
  now(): LedgerTime {
    const c = this.#o.clock;
    return { mono: Math.floor(c.monotonic()), utc: Math.max(0, Math.floor(c.utc())), source: c.source().source };
  }

  /** Sign and persist one entry, stamped `at` (default: now); returns its index. */
  append(event: LedgerEvent, detail: Record<string, CborValue> = {}, at: LedgerTime = this.now()): number {
    const o = this.#o;
    const index = this.#next;
    const bytes = signStructure(LEDGER_TYPE, {
      device: o.device,
      index,
      prev: this.#prev,
      boot: o.boot,
      mono: at.mono,
      utc: at.utc,
      clockSource: at.source,
      event,
      detail,
    }, o.signer);
    o.keyStore.set(ledgerKey(index), bytes);
    this.#prev = sha256Of(o.digest, bytes);
    this.#next = index + 1;
    const capacity = o.capacity ?? 1024;
    while (this.#next - this.#first > capacity) {
      o.keyStore.delete(ledgerKey(this.#first++));
      this.#dropped++;
    }
    this.#writeHead();
    return index;
  }

  /** Entries with index > after, at most `max`, oldest first (the dock session's ledger hook). */
  page(after: number, max: number): { entries: Uint8Array[]; more: boolean } {
    // The dock asks for what follows what it has stored durably: entries up to `after` may go.
    if (after >= this.#first) this.acknowledge(after);
    const entries: Uint8Array[] = [];
    let i = Math.max(this.#first, after + 1);
    for (; i < this.#next && entries.length < max; i++) {
      const e = this.#o.keyStore.get(ledgerKey(i));
      if (e) entries.push(new Uint8Array(e));
    }
    return { entries, more: i < this.#next };
  }

  /** Drop entries up to `index` (a dock holds them), keeping the newest. */
  acknowledge(index: number): void {
    const upTo = Math.min(index, this.#next - 2);
    if (upTo < this.#first) return;
    for (let i = this.#first; i <= upTo; i++) this.#o.keyStore.delete(ledgerKey(i));
    this.#first = upTo + 1;
    this.#writeHead();
  }

  #writeHead(): void {
    this.#o.keyStore.set(KEY_LEDGER_HEAD, encode([this.#next, this.#prev, this.#first]));
  }
}
