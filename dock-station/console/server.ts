// The dock station's web console (`bodycam dock --http HOST:PORT`), served by Hono on Node's
// HTTP server from the station's own process: the dock board for operators, the evidence view,
// player, export and custody log for examiners. No front-end build: the pages are rendered here
// (pages.ts) and one small hand-written script (assets/console.js) moves the board and the
// player — a bundler would add a toolchain for about 150 lines.
//
// Access: every route but the sign-in page and the static files needs a signed-in account
// (accounts.ts); examiners alone see evidence. The session cookie is HttpOnly and SameSite=Strict;
// every POST must come from this origin (Hono's csrf(): Origin / Sec-Fetch-Site) and, once signed
// in, carry the session's CSRF token. Every view and export is a custody-log entry (who, when,
// what): if it can't be written, the page is refused. Listens on loopback unless told otherwise.
//
// Export (issue 19): the MP4 `bodycam export` makes (evidence/mp4-export.ts), with C2PA content
// credentials when the station was given an export signer (`--signer DIR`), else UNSIGNED and
// the page says so; or, chosen on the form, the AVI with its timing sidecars. Both with the
// integrity report.
//
// Sealed evidence (issue 22): given the agency's evidence key (`--evidence-key FILE`), the console
// opens sealed segments in memory for an examiner's player and export — an export of sealed
// evidence (MP4 or AVI) is made and held in memory for its download, never written to the
// station's disk — and logs each decrypting view, frame fetch that opened a segment, and export
// with the account and key id. Without the key a sealed segment shows its verdict and "sealed:
// this console holds no evidence key".

import { serve, type ServerType } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { csrf } from 'hono/csrf';
import { HTTPException } from 'hono/http-exception';
import { streamSSE } from 'hono/streaming';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { partPath, writeAviExport, type StoreExport } from '../../evidence/export.js';
import type { ExportSignerIdentity } from '../../evidence/c2pa-certs.js';
import { mp4Bytes, mp4ExportReport, mp4Size, storeMp4, UNSIGNED_MP4, writeMp4, type ExportGenerator } from '../../evidence/mp4-export.js';
import type { StoreReport } from '../../evidence/verify-store.js';
import type { ExaminerKey } from '../../evidence/sealed.js';
import type { Trust } from '../../evidence/trust.js';
import { aviSidecar, planAviExport } from '../../firmware/encoder/avi.js';
import { BodycamError, errorCode, errorMessage } from '../../firmware/errors.js';
import type { Ed25519 } from '../../firmware/signing/ed25519.js';
import type { EvidenceStore } from '../store.js';
import { Accounts, csrfMatches, SESSION_MS, type SignedIn } from './accounts.js';
import type { DockBoard } from './board.js';
import { EvidenceView, type SegmentFrames } from './evidence-view.js';
import { boardPage, custodyPage, devicesPage, errorPage, exportPage, playerPage, signInPage, timelinePage } from './pages.js';

export interface ConsoleOptions {
  /** The station's store (the console logs to its custody log and keeps accounts in its database). */
  store: EvidenceStore;
  dock: string;
  /** The agency root the evidence is verified against (the dock identity's, from outside the store). */
  trust: () => Trust;
  ed25519: Ed25519;
  board: DockBoard;
  /** Who a camera is assigned to (the armoury register), when known. */
  officerOf?: (device: string) => string | undefined;
  /** Unexpected errors (E_INTERNAL) are told here. */
  onError?: (e: unknown) => void;
  /** The agency's evidence key (opened): examiners see and export sealed segments, decrypted in memory. Zeroed at close(). */
  evidenceKey?: ExaminerKey;
  /** The export signer (`bodycam dock --signer DIR`, checked against the agency root): MP4 exports carry C2PA credentials it signs. Without it they are UNSIGNED. */
  exportSigner?: { identity: ExportSignerIdentity; generator: ExportGenerator };
}

const COOKIE = 'bodycam_session';
/** Failed sign-ins for one account before it must wait LOCK_MS. */
const MAX_FAILURES = 5;
const LOCK_MS = 60_000;
/** Account names whose failures are remembered at once (the oldest are forgotten first). */
const MAX_REMEMBERED = 10_000;
/** Exports kept for download this long. */
const EXPORT_MS = 3600_000;
/** Exports of sealed evidence are held in memory (never on disk): at most this many bytes at once. */
const MAX_SEALED_EXPORT_BYTES = 1 << 30;

const ASSETS = new URL('../../../dock-station/console/assets/', import.meta.url);

type Env = { Variables: { who: SignedIn | undefined; token: string | undefined } };

/** Loopback addresses: the console listens only there unless told otherwise. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export class DockConsole {
  readonly accounts: Accounts;
  readonly view: EvidenceView;
  readonly #o: ConsoleOptions;
  readonly #app = new Hono<Env>();
  #server: ServerType | undefined;
  #streams = new Set<() => void>();
  #failures = new Map<string, { n: number; until: number }>();
  #exportsDir = mkdtempSync(join(tmpdir(), 'bodycam-console-exports-'));
  /** A file is a path in the exports folder, or (an export of sealed evidence) its bytes in memory. */
  #exports = new Map<string, { owner: string; device: string; files: Map<string, string | Uint8Array<ArrayBuffer>>; made: number }>();
  #assets: Record<string, { type: string; body: string }>;

  constructor(o: ConsoleOptions) {
    this.#o = o;
    this.accounts = new Accounts(o.store.db);
    this.view = new EvidenceView({ storeDir: o.store.dir, trust: o.trust, ed25519: o.ed25519, evidenceKey: o.evidenceKey });
    this.#assets = {
      'console.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(new URL('console.js', ASSETS), 'utf8') },
      'console.css': { type: 'text/css; charset=utf-8', body: readFileSync(new URL('console.css', ASSETS), 'utf8') },
    };
    this.#routes();
  }

  /** Listen (loopback by default); the address it listens on. */
  listen(port: number, host = '127.0.0.1'): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const server = serve({ fetch: this.#app.fetch, port, hostname: host }, (info) => resolve(info as AddressInfo));
      this.#server = server;
      server.once('error', reject);
    });
  }

  async close(): Promise<void> {
    for (const end of this.#streams) end();
    this.#streams.clear();
    const s = this.#server;
    if (s) {
      await new Promise<void>((resolve) => {
        s.close(() => resolve());
        (s as { closeAllConnections?: () => void }).closeAllConnections?.();
      });
    }
    rmSync(this.#exportsDir, { recursive: true, force: true });
    this.#exports.clear();
    this.view.close();
  }

  /** Write a console event to the custody log: who (the account and role), when, what. */
  #audit(who: SignedIn, event: string, device: string | undefined, detail: Record<string, unknown>): void {
    this.#o.store.log(event, { dock: this.#o.dock, device, detail: { account: who.name, role: who.role, ...detail } });
  }

  #page(c: Context<Env>, html: string, status: 200 | 400 | 403 | 404 | 500 | 503 = 200) {
    return c.html(html, status);
  }

  #routes(): void {
    const app = this.#app;
    const dock = this.#o.dock;

    app.use('*', async (c, next) => {
      await next();
      c.header('Content-Security-Policy', "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
      c.header('X-Content-Type-Options', 'nosniff');
      c.header('Referrer-Policy', 'no-referrer');
      c.header('X-Frame-Options', 'DENY');
      if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-store');
    });
    // Every POST from this origin only (Origin, else Sec-Fetch-Site).
    app.use('*', csrf());

    app.get('/static/:file', (c) => {
      const a = this.#assets[c.req.param('file')];
      if (!a) return c.text('not found', 404);
      return c.body(a.body, 200, { 'Content-Type': a.type });
    });
    app.get('/favicon.ico', (c) => c.body(null, 204));
    app.get('/login', (c) => this.#page(c, signInPage(dock)));
    app.post('/login', async (c) => {
      const form = await c.req.parseBody();
      const name = typeof form.name === 'string' ? form.name.slice(0, 64) : '';
      const password = typeof form.password === 'string' ? form.password.slice(0, 1024) : '';
      const f = this.#failures.get(name);
      if (f && f.n >= MAX_FAILURES && f.until > Date.now()) return this.#page(c, signInPage(dock, `Too many failed sign-ins for ${name}: wait a minute and try again.`), 403);
      const signed = await this.accounts.signIn(name, password);
      if (!signed) {
        const n = (f && f.until > Date.now() ? f.n : 0) + 1;
        this.#failures.delete(name);
        this.#failures.set(name, { n, until: Date.now() + LOCK_MS });
        if (this.#failures.size > MAX_REMEMBERED) this.#failures.delete(this.#failures.keys().next().value!);
        return this.#page(c, signInPage(dock, 'That account and password do not match.'), 403);
      }
      this.#failures.delete(name);
      this.#audit(signed.session, 'console-sign-in', undefined, {});
      setCookie(c, COOKIE, signed.token, { httpOnly: true, sameSite: 'Strict', path: '/', maxAge: SESSION_MS / 1000 });
      return c.redirect(signed.session.role === 'examiner' ? '/evidence' : '/board', 303);
    });

    // Everything below needs a signed-in account: pages send the browser to the sign-in page, anything else gets 401.
    app.use('*', async (c, next) => {
      const token = getCookie(c, COOKIE);
      const who = this.accounts.session(token);
      if (!who) {
        const page = c.req.method === 'GET' && (c.req.header('Accept') ?? '').includes('text/html');
        return page ? c.redirect('/login', 303) : c.text('sign in first', 401);
      }
      if (c.req.method === 'POST') {
        const form = await c.req.parseBody();
        if (!csrfMatches(who.csrf, form._csrf)) return this.#page(c, errorPage(dock, who, 403, 'E_CSRF', 'the form is stale or did not come from this console: reload the page and try again'), 403);
      }
      c.set('who', who);
      c.set('token', token);
      await next();
    });
    const examiner = async (c: Context<Env>, next: () => Promise<void>) => {
      const who = c.get('who')!;
      if (who.role !== 'examiner') return this.#page(c, errorPage(dock, who, 403, 'E_ROLE', `evidence is for examiners; ${who.name} is an ${who.role}`), 403);
      await next();
    };
    app.use('/evidence/*', examiner);
    app.use('/evidence', examiner);
    app.use('/exports/*', examiner);

    app.onError((e, c) => {
      const who = c.get('who');
      // Hono's own refusals (csrf(): a POST from another origin) keep their status.
      if (e instanceof HTTPException) return this.#page(c, errorPage(dock, who, e.status, e.status === 403 ? 'E_CSRF' : 'E_HTTP', e.message || 'refused'), e.status === 403 ? 403 : 400);
      const code = errorCode(e);
      if (e instanceof BodycamError) {
        const status = /^E_NO_/.test(code) ? 404 : code === 'E_STATION_FULL' || code === 'E_STATION_IO' ? 503 : 400;
        return this.#page(c, errorPage(dock, who, status, code, errorMessage(e)), status);
      }
      this.#o.onError?.(e);
      return this.#page(c, errorPage(dock, who, 500, 'E_INTERNAL', 'the console failed; the station goes on'), 500);
    });

    app.post('/logout', (c) => {
      this.#audit(c.get('who')!, 'console-sign-out', undefined, {});
      this.accounts.signOut(c.get('token'));
      deleteCookie(c, COOKIE, { path: '/' });
      return c.redirect('/login', 303);
    });
    app.get('/', (c) => c.redirect(c.get('who')!.role === 'examiner' ? '/evidence' : '/board', 303));

    app.get('/board', (c) => {
      const who = c.get('who')!;
      this.#audit(who, 'console-view', undefined, { view: 'board' });
      return this.#page(c, boardPage(dock, who, this.#o.board.rows()));
    });
    app.get('/board/events', (c) =>
      streamSSE(c, async (stream) => {
        let id = 0;
        const send = (rows: unknown) => void stream.writeSSE({ event: 'rows', data: JSON.stringify(rows), id: String(id++) }).catch(() => {});
        const off = this.#o.board.subscribe(send);
        send(this.#o.board.rows());
        await new Promise<void>((resolve) => {
          const end = () => {
            off();
            clearInterval(ping);
            this.#streams.delete(end);
            resolve();
          };
          const ping = setInterval(() => void stream.writeSSE({ event: 'ping', data: String(Date.now()) }).catch(end), 15_000);
          this.#streams.add(end);
          stream.onAbort(end);
        });
      }),
    );

    app.get('/evidence', (c) => {
      const who = c.get('who')!;
      const report = this.view.verify();
      this.#audit(who, 'console-view', undefined, { view: 'devices' });
      return this.#page(c, devicesPage(dock, who, this.view.devices(report), report.trust));
    });
    app.get('/evidence/:device', (c) => {
      const who = c.get('who')!;
      const device = c.req.param('device');
      const t = this.view.timeline(device);
      this.#audit(who, 'console-view', device, { view: 'timeline', segments: t.items.filter((i) => i.kind === 'segment').length });
      return this.#page(c, timelinePage(dock, who, t, this.#o.officerOf?.(device), this.#o.exportSigner?.identity.checked.subject ?? null));
    });
    app.get('/evidence/:device/custody', (c) => {
      const who = c.get('who')!;
      const device = c.req.param('device');
      const report = this.view.verify();
      this.view.timeline(device, report);
      // The view is logged first, so it is the newest row the examiner sees.
      this.#audit(who, 'console-view', device, { view: 'custody' });
      return this.#page(c, custodyPage(dock, who, device, this.view.custody(device, report)));
    });
    app.get('/evidence/:device/segments/:seq', (c) => {
      const who = c.get('who')!;
      const device = c.req.param('device');
      const seq = seqParam(c.req.param('seq'));
      const f = this.view.segmentFrames(device, seq);
      this.#audit(who, 'console-view', device, { view: 'segment', seq, valid: f.valid, ...sealedDetail(f.sealed) });
      return this.#page(c, playerPage(dock, who, f));
    });
    app.get('/evidence/:device/segments/:seq/frames.json', (c) => {
      const device = c.req.param('device');
      const seq = seqParam(c.req.param('seq'));
      const f = this.view.segmentFrames(device, seq);
      if (f.sealed?.openedWith) this.#audit(c.get('who')!, 'console-view', device, { view: 'frames', seq, valid: f.valid, ...sealedDetail(f.sealed) });
      return c.json(f);
    });
    app.get('/evidence/:device/segments/:seq/frames/:n{[0-9]+\\.jpg}', (c) => {
      const device = c.req.param('device');
      const seq = seqParam(c.req.param('seq'));
      const { jpeg, opened } = this.view.frameJpeg(device, seq, Number.parseInt(c.req.param('n'), 10));
      // A fetch that had to open the sealed segment (it was not in memory) is a decrypting view of its own.
      if (opened) this.#audit(c.get('who')!, 'console-view', device, { view: 'frame', seq, sealed: true, decrypted: true, keyId: opened });
      return c.body(new Uint8Array(jpeg), 200, { 'Content-Type': 'image/jpeg', 'Cache-Control': 'private, no-store' });
    });

    app.post('/evidence/:device/export', async (c) => {
      const who = c.get('who')!;
      const device = c.req.param('device');
      const form = await c.req.parseBody();
      const from = seqParam(String(form.from ?? ''));
      const to = seqParam(String(form.to ?? ''));
      const format = form.format === undefined ? 'mp4' : String(form.format);
      if (format !== 'mp4' && format !== 'avi') throw new BodycamError('E_USAGE', `an export is an MP4 or an AVI, not "${format.slice(0, 20)}"`);
      const accepted = form.accept === '1';
      // The MP4's credentials carry the verification this export was planned from.
      const verified = this.view.verify();
      let plan: StoreExport;
      try {
        plan = this.view.plan(device, from, to, verified, who.name);
      } catch (e) {
        // Sealed segments and no key here: refused, and said so plainly.
        if (errorCode(e) !== 'E_EVIDENCE_KEY_REQUIRED') throw e;
        this.#audit(who, 'console-export-refused', device, { from, to, format, sealed: true, keyHeld: false });
        return this.#page(c, exportPage(dock, who, device, { blocked: [`sealed: this console holds no evidence key — ${errorMessage(e)}`], findings: [], accepted }));
      }
      const findings = plan.findings.map((f) => ({ code: f.code, message: `${f.scope}${f.seq !== undefined ? ` segment ${f.seq}` : ''}: ${f.message}` }));
      if (plan.blocked.length || (findings.length && !accepted)) {
        this.#audit(who, 'console-export-refused', device, { from, to, format, blocked: plan.blocked, findings: findings.length });
        return this.#page(c, exportPage(dock, who, device, { blocked: plan.blocked, findings, accepted }));
      }
      const id = randomBytes(12).toString('base64url');
      const stem = `${device}-${from}-${to}`;
      // Decrypted evidence (the report's `decryption`: who, key id, when) stays in memory: the export and its report are held for the download.
      const decryption = plan.report.decryption as { keyId: string } | undefined;
      this.#prune();
      const made = format === 'mp4' ? this.#makeMp4(plan, verified, device, stem, id, decryption !== undefined) : this.#makeAvi(plan, stem, id, decryption !== undefined);
      if ('tooLarge' in made) {
        this.#audit(who, 'console-export-refused', device, { from, to, format, sealed: true, bytes: made.tooLarge });
        return this.#page(c, exportPage(dock, who, device, { blocked: [`an export of sealed evidence is held in this console's memory until downloaded (never on the station's disk): ${made.tooLarge} bytes more than the ${MAX_SEALED_EXPORT_BYTES} it holds at once; export fewer segments, or use bodycam export --evidence-key on the evidence computer`], findings, accepted }));
      }
      const { files } = made;
      const report = { ...made.report, export: { ...made.report.export, ...(decryption ? { heldInMemory: 'decrypted evidence: made and kept in the console\'s memory for download, never written to the station\'s disk' } : {}) }, exportedBy: { account: who.name, role: who.role, console: dock } };
      const reportText = JSON.stringify(report, jsonBytes, 2) + '\n';
      const integrity = `${stem}.integrity.json`;
      if (decryption) files.set(integrity, new TextEncoder().encode(reportText));
      else {
        writeFileSync(join(this.#exportsDir, id, integrity), reportText, { flag: 'wx', mode: 0o600 });
        files.set(integrity, join(this.#exportsDir, id, integrity));
      }
      this.#exports.set(id, { owner: who.name, device, files, made: Date.now() });
      this.#audit(who, 'console-export', device, { from, to, format, seqs: plan.seqs, acceptedFindings: findings.length, ...made.detail, ...(decryption ? { sealed: true, decrypted: true, keyId: decryption.keyId } : {}), files: Object.fromEntries([...files].map(([n, f]) => [n, sha256Of(f)])) });
      return this.#page(c, exportPage(dock, who, device, { blocked: [], findings, accepted, summary: `${made.summary}, segments ${plan.seqs.join(', ')}${decryption ? `; sealed segments decrypted in memory with evidence key ${decryption.keyId}` : ''}`, credentials: made.credentials, files: [...files].map(([n, f]) => ({ name: n, href: `/exports/${id}/${encodeURIComponent(n)}`, bytes: typeof f === 'string' ? statSync(f).size : f.length })) }));
    });
    app.get('/exports/:id/:file', (c) => {
      const who = c.get('who')!;
      const e = this.#exports.get(c.req.param('id'));
      const name = c.req.param('file');
      const file = e?.owner === who.name ? e.files.get(name) : undefined;
      if (!e || file === undefined) throw new BodycamError('E_NO_EXPORT', 'no such export of yours (exports are kept for an hour)');
      this.#audit(who, 'console-download', e.device, { file: name, ...(typeof file === 'string' ? {} : { fromMemory: true }) });
      return c.body(typeof file === 'string' ? new Uint8Array(readFileSync(file)) : file, 200, { 'Content-Type': contentType(name), 'Content-Disposition': `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, '_')}"` });
    });
  }

  /**
   * The MP4 of a verified export, as `bodycam export` makes it (evidence/mp4-export.ts): with
   * C2PA content credentials when the station has an export signer, else UNSIGNED. Decrypted
   * evidence is made in memory, never on disk.
   */
  #makeMp4(plan: StoreExport, verified: StoreReport, device: string, stem: string, id: string, inMemory: boolean): MadeExport | { tooLarge: number } {
    const name = `${stem}.mp4`;
    const signer = this.#o.exportSigner;
    const notAfter = signer?.identity.checked.notAfter;
    if (notAfter !== undefined && Date.now() > notAfter) throw new BodycamError('E_CERT_EXPIRED', `this station's export signer certificate expired ${new Date(notAfter).toISOString()}: issue a new one with \`bodycam provision export-signer\` and restart the station with it (--signer), or export as AVI`);
    const made = storeMp4(verified, plan, device, { signer: signer?.identity, title: name, generator: signer?.generator ?? { name: 'bodycam', version: 'unknown' } });
    const files = new Map<string, string | Uint8Array<ArrayBuffer>>();
    let credentialsBytes: number;
    if (inMemory) {
      const held = mp4Size(made.mp4, { credentials: made.credentials });
      if (held + this.#heldBytes() > MAX_SEALED_EXPORT_BYTES) return { tooLarge: held };
      const m = mp4Bytes(made.mp4, { credentials: made.credentials });
      files.set(name, m.bytes);
      credentialsBytes = m.credentialsBytes;
    } else {
      mkdirSync(join(this.#exportsDir, id), { mode: 0o700 });
      const written = writeMp4(made.mp4, join(this.#exportsDir, id, name), { credentials: made.credentials, overwrite: false });
      files.set(name, written.file);
      credentialsBytes = written.credentialsBytes;
    }
    const { mp4 } = made;
    const holes = mp4.gaps.filter((g) => g.kind === 'reboot' || g.kind === 'restart').length;
    const checked = made.signer?.checked;
    return {
      files,
      report: mp4ExportReport(plan, made, { video: name, credentialsBytes }) as MadeExport['report'],
      summary: `MP4: ${mp4.width}x${mp4.height} MJPEG as captured, ${mp4.frames} frames in ${mp4.fragments.length} fragments, ${(mp4.durationMs / 1000).toFixed(3)} s, ${mp4.dropped} frames lost in capture${holes ? `, ${holes} hole${holes === 1 ? '' : 's'} in the timeline` : ''}`,
      credentials: checked
        ? { signed: true, text: `Signed: C2PA content credentials (${credentialsBytes} bytes) signed by ${checked.subject}, certificate ${checked.serial} from ${checked.issuer}: bodycam verify ${name} --root FILE re-checks them down to the camera's signatures.` }
        : { signed: false, text: `UNSIGNED: this station has no export signer (bodycam dock --signer DIR), so ${UNSIGNED_MP4}.` },
      detail: checked ? { signed: true, signer: checked.subject, serial: checked.serial } : { signed: false },
    };
  }

  /** The AVI of a verified export, its timing sidecars beside it; decrypted evidence in memory, never on disk. */
  #makeAvi(plan: StoreExport, stem: string, id: string, inMemory: boolean): MadeExport | { tooLarge: number } {
    const exp = planAviExport(plan.mediaBytes, { clockOffsetMs: plan.clockOffsetMs, segmentSeqs: plan.seqs });
    const frames = exp.parts.reduce((n, p) => n + p.frames.length, 0);
    const files = new Map<string, string | Uint8Array<ArrayBuffer>>();
    const videos: string[] = [];
    const sidecars: string[] = [];
    if (inMemory) {
      const held = exp.parts.reduce((n, p) => n + p.byteLength, 0);
      if (held + this.#heldBytes() > MAX_SEALED_EXPORT_BYTES) return { tooLarge: held };
      exp.parts.forEach((part, i) => {
        const video = partPath(`${stem}.avi`, i, exp.parts.length);
        const bytes = new Uint8Array(part.byteLength);
        let at = 0;
        for (const chunk of part.chunks()) {
          bytes.set(chunk, at);
          at += chunk.length;
        }
        if (at !== part.byteLength) throw new BodycamError('E_EXPORT_INTERNAL', `made ${at} bytes of ${video}, planned ${part.byteLength}`);
        files.set(video, bytes);
        files.set(`${video}.json`, new TextEncoder().encode(`${JSON.stringify(aviSidecar(exp, part, { video, part: i + 1 }), null, 1)}\n`));
        videos.push(video);
        sidecars.push(`${video}.json`);
      });
    } else {
      mkdirSync(join(this.#exportsDir, id), { mode: 0o700 });
      const written = writeAviExport(exp, join(this.#exportsDir, id, `${stem}.avi`), { overwrite: false });
      for (const p of [...written.videos, ...written.sidecars]) files.set(base(p), p);
      videos.push(...written.videos.map(base));
      sidecars.push(...written.sidecars.map(base));
    }
    return {
      files,
      report: { ...plan.report, acceptedFindings: plan.findings, export: { videos, sidecars, frames, stored: exp.stored, repeats: exp.duplicated, dropped: exp.dropped } },
      summary: `${videos.length} AVI part(s): ${exp.width}x${exp.height} at ${exp.frameRate} fps, ${frames} frames (${exp.stored} stored, ${exp.duplicated} repeats for ${exp.dropped} lost)`,
      detail: {},
    };
  }

  /** Bytes of exports held in memory. */
  #heldBytes(): number {
    let n = 0;
    for (const e of this.#exports.values()) for (const f of e.files.values()) if (typeof f !== 'string') n += f.length;
    return n;
  }

  #prune(): void {
    for (const [id, e] of this.#exports) {
      if (Date.now() - e.made < EXPORT_MS) continue;
      rmSync(join(this.#exportsDir, id), { recursive: true, force: true });
      this.#exports.delete(id);
    }
  }
}

/** An export made for download: its files (paths, or bytes held in memory), its integrity report so far, what the page and the custody log say of it. */
interface MadeExport {
  files: Map<string, string | Uint8Array<ArrayBuffer>>;
  report: Record<string, unknown> & { export: Record<string, unknown> };
  summary: string;
  /** MP4 only: signed with C2PA credentials, or UNSIGNED, said plainly. */
  credentials?: { signed: boolean; text: string };
  /** More for the custody entry (the MP4's signer). */
  detail: Record<string, unknown>;
}

function contentType(name: string): string {
  if (name.endsWith('.json')) return 'application/json';
  if (name.endsWith('.mp4')) return 'video/mp4';
  return 'video/x-msvideo';
}

function seqParam(v: string): number {
  const n = Number(v);
  if (!/^\d{1,10}$/.test(v) || !Number.isSafeInteger(n)) throw new BodycamError('E_USAGE', `segment ${v.slice(0, 20)} is not a sequence number`);
  return n;
}

const base = (p: string) => p.split('/').pop() ?? p;

function sha256Of(f: string | Uint8Array): string {
  return createHash('sha256').update(typeof f === 'string' ? readFileSync(f) : f).digest('hex');
}

/** What a segment view's custody entry says about sealing: that it was decrypted, with which key. */
function sealedDetail(s: SegmentFrames['sealed']): Record<string, unknown> {
  if (!s) return {};
  return s.openedWith ? { sealed: true, decrypted: true, keyId: s.openedWith } : { sealed: true, decrypted: false, keyHeld: s.keyHeld, ...(s.error ? { error: s.error.code } : {}) };
}

/** Bytes in a report as hex (as `bodycam export` writes them). */
function jsonBytes(_k: string, v: unknown): unknown {
  return v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v;
}

