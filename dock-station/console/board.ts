// The dock board: one row per camera connected now or seen recently, built from the station's
// progress and result callbacks (dock-station/session.ts SessionProgress / SessionResult): the
// officer (from the armoury register, when the dock was given it), the session's state, segments
// and bytes done, the rate and time left, and the last error with its code. Subscribers (the
// console's server-sent events) get the rows at most every UPDATE_MS, and at once on a result.

import type { SessionProgress, SessionResult } from '../session.js';

export interface BoardRow {
  session: string;
  device: string | null;
  officer: string | null;
  /** connecting, uploading, done, failed, or the session's phase (status, inventory, ledger, ...). */
  state: string;
  phase: string;
  segmentsDone: number;
  segmentsTotal: number;
  bytesDone: number;
  bytesTotal: number;
  /** Bytes a second since the session began. */
  rate: number;
  /** Seconds to go at that rate, or null when not known. */
  secondsLeft: number | null;
  error: { code: string; message: string } | null;
  rejected: { seq: number; code: string }[];
  startedAt: number;
  updatedAt: number;
  ended: boolean;
}

/** Rows kept after their session ended. */
export const RECENT_ROWS = 64;
/** Coalesce progress into one update per this many ms. */
export const UPDATE_MS = 100;

export class DockBoard {
  #rows = new Map<string, BoardRow>();
  #listeners = new Set<(rows: BoardRow[]) => void>();
  #timer: NodeJS.Timeout | undefined;
  #officerOf: (device: string) => string | undefined;
  #now: () => number;

  constructor(o: { officerOf?: (device: string) => string | undefined; now?: () => number } = {}) {
    this.#officerOf = o.officerOf ?? (() => undefined);
    this.#now = o.now ?? Date.now;
  }

  rows(): BoardRow[] {
    // Connected cameras first (oldest session first: the bay order), then the recent ones, newest first.
    const all = [...this.#rows.values()];
    return [...all.filter((r) => !r.ended).sort((a, b) => a.startedAt - b.startedAt), ...all.filter((r) => r.ended).sort((a, b) => b.updatedAt - a.updatedAt)];
  }

  progress(p: SessionProgress): void {
    const now = this.#now();
    const row = this.#rows.get(p.session) ?? this.#blank(p.session, p.startedAt);
    const secs = Math.max(0.001, (now - p.startedAt) / 1000);
    const rate = p.bytesDone / secs;
    Object.assign(row, {
      device: p.device ?? row.device,
      officer: p.device ? (this.#officerOf(p.device) ?? null) : row.officer,
      phase: p.phase,
      state: p.phase === 'handshake' ? 'connecting' : p.phase.startsWith('segment ') ? 'uploading' : p.phase,
      segmentsDone: p.segmentsDone,
      segmentsTotal: p.segmentsTotal,
      bytesDone: p.bytesDone,
      bytesTotal: p.bytesTotal,
      rate,
      secondsLeft: rate > 0 && p.bytesTotal >= p.bytesDone ? Math.ceil((p.bytesTotal - p.bytesDone) / rate) : null,
      updatedAt: now,
    });
    this.#rows.set(p.session, row);
    this.#schedule();
  }

  result(r: SessionResult): void {
    const now = this.#now();
    const row = this.#rows.get(r.session) ?? this.#blank(r.session, now);
    row.device = r.device ?? row.device;
    if (row.device) row.officer = this.#officerOf(row.device) ?? null;
    row.ended = true;
    row.state = r.ok ? 'done' : 'failed';
    row.secondsLeft = r.ok ? 0 : null;
    row.rejected = r.rejected;
    if (r.ok) row.segmentsDone = Math.max(row.segmentsDone, r.stored.length);
    // The last error: the session's own, else the last segment the station refused.
    const lastRejected = r.rejected.at(-1);
    if (!r.ok) row.error = { code: r.code ?? 'E_UNKNOWN', message: r.message ?? '' };
    else if (lastRejected) row.error = { code: lastRejected.code, message: `segment ${lastRejected.seq} was refused` };
    row.updatedAt = now;
    this.#rows.set(r.session, row);
    const ended = [...this.#rows.values()].filter((x) => x.ended).sort((a, b) => b.updatedAt - a.updatedAt);
    for (const old of ended.slice(RECENT_ROWS)) this.#rows.delete(old.session);
    this.#emit();
  }

  /** Be told the rows when they change; returns the unsubscribe. */
  subscribe(fn: (rows: BoardRow[]) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#listeners.clear();
  }

  #blank(session: string, startedAt: number): BoardRow {
    return { session, device: null, officer: null, state: 'connecting', phase: 'handshake', segmentsDone: 0, segmentsTotal: 0, bytesDone: 0, bytesTotal: 0, rate: 0, secondsLeft: null, error: null, rejected: [], startedAt, updatedAt: startedAt, ended: false };
  }

  #schedule(): void {
    this.#timer ??= setTimeout(() => this.#emit(), UPDATE_MS);
  }

  #emit(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const rows = this.rows();
    for (const fn of this.#listeners) fn(rows);
  }
}
