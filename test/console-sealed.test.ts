// The web console and sealed evidence (issue 22), in real headless Chromium (Debian's, driven by
// puppeteer-core) against a real dock process on loopback. The agency has an evidence key, so the
// practice camera it provisions seals its evidence at capture. A dock WITHOUT the key takes the
// shift: its console shows each sealed segment with its verdict and "sealed: this console holds no
// evidence key", and refuses to export it. The same store served by an examiner's console WITH the
// key (`bodycam dock --http … --evidence-key FILE`) and an export signer (`--signer DIR`): the
// examiner plays a sealed segment (frames decode in the page), exports it as an MP4 that the real
// `bodycam verify` checks down to the camera's signatures and as the AVI `bodycam export
// --evidence-key` makes, nothing decrypted is written to the station's disk, and the custody log
// holds each decrypting view and export with the account and key id; an operator still sees no
// evidence. Without a signer the console's MP4 says UNSIGNED and is the one `bodycam export` makes
// without --signer; a sealed segment altered in the store shows FAILED and the key does not open it.
// Screenshots of the last run: out/console-test/sealed-*.png (gitignored).

import test from 'ava';
import puppeteer, { type Browser, type BrowserContext, type Page } from 'puppeteer-core';
import { type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeCustodyLeaf, readLogLeaves } from '../evidence/custody-log.js';
import { SafeReader } from '../evidence/layout.js';
import { bodycamAsync, dockProcess } from './helpers/cli.js';
import { CHROMIUM, SHOTS } from './helpers/console.js';

const ENV = { BODYCAM_PASSPHRASE: 'correct horse battery staple', BODYCAM_EVIDENCE_PASSPHRASE: 'evidence office passphrase 3' };
const EXAMINER = { name: 'dana.examiner', password: 'examiner passphrase 7' };
const OPERATOR = { name: 'eve.operator', password: 'operator passphrase 9' };

interface Dock {
  url: string;
  dockPort: number;
  child: ChildProcess;
  exit: Promise<number | null>;
  events: Record<string, unknown>[];
  tmp: string;
}
let base: string;
let store: string;
let keyFile: string;
let keyId: string;
let browser: Browser;
let docks: Dock[] = [];

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function signIn(context: BrowserContext, url: string, who: { name: string; password: string }): Promise<Page> {
  const page = await context.newPage();
  await page.setViewport({ width: 1400, height: 900 });
  await page.goto(`${url}/login`);
  await page.type('input[name=name]', who.name);
  await page.type('input[name=password]', who.password);
  await Promise.all([page.waitForNavigation(), page.click('form[data-testid=sign-in] button')]);
  return page;
}

/** A dock with the console on this store; its temporary folder (where the console keeps exports) is its own, to be searched. */
async function startDock(extra: string[]): Promise<Dock> {
  const tmp = mkdtempSync(join(base, 'dock-tmp-'));
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  let started;
  try {
    started = dockProcess(['--json', '--listen', '127.0.0.1:0', '--store', store, '--identity', join(base, 'dock-1'), '--http', '127.0.0.1:0', ...extra], (line) => line.includes('"event":"listening"'));
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
  const { child, lines, exit } = await started;
  const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const web = events.find((e) => e.event === 'console-listening')!;
  const d = { url: `http://127.0.0.1:${web.port as number}`, dockPort: events.find((e) => e.event === 'listening')!.port as number, child, exit, events, tmp };
  docks.push(d);
  return d;
}

async function stopDock(d: Dock): Promise<void> {
  if (d.child.exitCode === null) {
    d.child.kill('SIGTERM');
    await d.exit;
  }
  docks = docks.filter((x) => x !== d);
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

const segmentRows = (page: Page) => page.$$eval('tr[data-testid=segment]', (rows) => rows.map((r) => ({ seq: Number(r.getAttribute('data-seq')), text: r.textContent ?? '', valid: r.classList.contains('valid'), sealed: r.querySelector('[data-testid=sealed]')?.textContent ?? null })));

test.before(async () => {
  if (!CHROMIUM) throw new Error('Chromium is not installed: apt-get install chromium (.ci/run does), or set BODYCAM_CHROMIUM');
  base = mkdtempSync(join(tmpdir(), 'bodycam-console-sealed-'));
  store = join(base, 'store');
  const step = async (...args: string[]) => {
    const r = await bodycamAsync(args, ENV);
    if (r.status !== 0) throw new Error(`bodycam ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  await step('provision', 'root', '--agency', 'Metro Police', '--out', join(base, 'agency'));
  // The armoury makes the agency's evidence key: every camera provisioned from now on seals to it.
  await step('provision', 'evidence-key', 'create', '--root', join(base, 'agency'), '--operator', 'sgt.armourer');
  const keys = readdirSync(join(base, 'agency', 'evidence-keys')).filter((f) => f.endsWith('.secret'));
  if (keys.length !== 1) throw new Error(`expected one evidence key, found ${keys.join(', ')}`);
  keyFile = join(base, 'agency', 'evidence-keys', keys[0]);
  keyId = keys[0].replace(/\.secret$/, '');
  await step('provision', 'dock', '--root', join(base, 'agency'), '--id', 'DOCK-1', '--out', join(base, 'dock-1'));
  await step('provision', 'export-signer', '--root', join(base, 'agency'), '--id', 'EVIDENCE-OFFICE', '--out', join(base, 'signer'));
  writeFileSync(join(base, 'camera.json'), JSON.stringify({ resolution: 'QVGA', frameRate: 10, segmentSeconds: 30, preEventSeconds: 30 }));
  const camera = await step('provision', 'camera', '--root', join(base, 'agency'), '--device', 'CAM-0077', '--officer', 'PC 5678 Jones', '--sim', join(base, 'camera'), '--config', join(base, 'camera.json'), '--json');
  if (!camera.includes(keyId)) throw new Error(`the camera's configuration names no evidence key ${keyId}: ${camera}`);
  browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
});

test.after.always(async () => {
  await browser?.close();
  for (const d of [...docks]) await stopDock(d);
  if (base) rmSync(base, { recursive: true, force: true });
});

test.serial('[node] a dock without the evidence key takes a sealed shift: the console shows each segment sealed with its verdict, and exports nothing', async (t) => {
  const dock = await startDock([]);
  t.like(dock.events.find((e) => e.event === 'console-listening'), { evidenceKey: null });
  for (const [who, role] of [[EXAMINER, 'examiner'], [OPERATOR, 'operator']] as const) {
    const pw = join(base, `${who.name}.pw`);
    writeFileSync(pw, `${who.password}\n`, { mode: 0o600 });
    const r = await bodycamAsync(['console', 'add-account', '--store', store, '--name', who.name, '--role', role, '--password-file', pw]);
    t.is(r.status, 0, r.stderr);
  }
  const sim = await bodycamAsync(['sim', '--dock', `127.0.0.1:${dock.dockPort}`, '--camera', join(base, 'camera'), '--scale', '0.3', '--out', join(base, 'practice')]);
  t.is(sim.status, 0, sim.stderr);
  const context = await browser.createBrowserContext();
  try {
    const page = await signIn(context, dock.url, EXAMINER);
    await page.goto(`${dock.url}/evidence/CAM-0077`);
    const rows = await segmentRows(page);
    t.true(rows.length >= 2, JSON.stringify(rows));
    // Every segment is sealed, verified without the key, and says plainly that this console can't open it.
    for (const r of rows) {
      t.true(r.valid, r.text);
      t.regex(r.text, /VERIFIED/);
      t.is(r.sealed, `sealed: this console holds no evidence key (sealed to ${keyId})`);
    }
    t.is(await page.$('[data-testid=evidence-key]'), null);
    await shot(page, 'sealed-no-key-timeline');
    // The segment's page: its verdict and the words, no picture, no error page.
    const r = await page.goto(`${dock.url}/evidence/CAM-0077/segments/0`);
    t.is(r?.status(), 200);
    t.regex(await page.$eval('h1', (e) => e.textContent ?? ''), /VERIFIED/);
    t.regex(await page.$eval('[data-testid=sealed-view]', (e) => e.textContent ?? ''), /^sealed: this console holds no evidence key\./);
    t.is(await page.$('#frame'), null);
    t.false((await page.content()).includes('E_EVIDENCE_SEALED'));
    await shot(page, 'sealed-no-key-segment');
    // What a script would fetch: no picture.
    const jpg = await page.evaluate(async () => { const x = await fetch('/evidence/CAM-0077/segments/0/frames/0.jpg'); return { status: x.status, type: x.headers.get('content-type') }; });
    t.is(jpg.status, 400);
    t.notRegex(jpg.type ?? '', /image/);
    const info = (await page.evaluate(`fetch('/evidence/CAM-0077/segments/0/frames.json').then((r) => r.json())`)) as { frames: unknown[]; sealed: { keyHeld: boolean; openedWith: string | null; to: string[] } };
    t.deepEqual(info.frames, []);
    t.like(info.sealed, { keyHeld: false, openedWith: null, to: [keyId] });
    // Export: refused, said plainly.
    await page.goto(`${dock.url}/evidence/CAM-0077`);
    await Promise.all([page.waitForNavigation(), page.click('form[data-testid=export-form] button')]);
    t.regex(await page.$eval('[data-testid=export-refused]', (e) => e.textContent ?? ''), /sealed: this console holds no evidence key/);
    const leaves = readLogLeaves(store, new SafeReader()).leaves.map(decodeCustodyLeaf);
    t.true(leaves.some((e) => e.event === 'console-view' && e.detail !== null && (JSON.parse(e.detail) as Record<string, unknown>).seq === 0 && (JSON.parse(e.detail) as Record<string, unknown>).decrypted === false));
    t.true(leaves.some((e) => e.event === 'console-export-refused' && e.detail !== null && (JSON.parse(e.detail) as Record<string, unknown>).keyHeld === false));
  } finally {
    await context.close();
    await stopDock(dock);
  }
});

test.serial('[node] an examiner console with the evidence key plays and exports a sealed segment, decrypted in memory, each opening in the custody log with the key id', async (t) => {
  const pass = join(base, 'evidence.pass');
  writeFileSync(pass, `${ENV.BODYCAM_EVIDENCE_PASSPHRASE}\n`, { mode: 0o600 });
  // A wrong passphrase: refused before the dock starts.
  writeFileSync(join(base, 'wrong.pass'), 'not the passphrase\n', { mode: 0o600 });
  const wrong = await bodycamAsync(['dock', '--listen', '127.0.0.1:0', '--store', store, '--identity', join(base, 'dock-1'), '--http', '127.0.0.1:0', '--evidence-key', keyFile, '--evidence-passphrase-file', join(base, 'wrong.pass')]);
  t.not(wrong.status, 0);
  t.regex(wrong.stderr, /E_EVIDENCE_PASSPHRASE/);
  // The key is for the console alone.
  const bare = await bodycamAsync(['dock', '--listen', '127.0.0.1:0', '--store', store, '--identity', join(base, 'dock-1'), '--evidence-key', keyFile, '--evidence-passphrase-file', pass]);
  t.not(bare.status, 0);
  t.regex(bare.stderr, /E_USAGE.*--http/);
  // The export signer is for the console alone, and checked against the dock's agency root before the station starts.
  const signerBare = await bodycamAsync(['dock', '--listen', '127.0.0.1:0', '--store', store, '--identity', join(base, 'dock-1'), '--signer', join(base, 'signer')]);
  t.not(signerBare.status, 0);
  t.regex(signerBare.stderr, /E_USAGE.*--http/);
  const noSigner = await bodycamAsync(['dock', '--listen', '127.0.0.1:0', '--store', store, '--identity', join(base, 'dock-1'), '--http', '127.0.0.1:0', '--signer', join(base, 'no-such-signer')]);
  t.not(noSigner.status, 0);
  t.regex(noSigner.stderr, /E_SIGNER_IDENTITY/);
  const dock = await startDock(['--evidence-key', keyFile, '--evidence-passphrase-file', pass, '--signer', join(base, 'signer')]);
  t.like(dock.events.find((e) => e.event === 'console-listening'), { evidenceKey: keyId, loopback: true });
  const downloads = mkdtempSync(join(tmpdir(), 'bodycam-console-sealed-downloads-'));
  const context = await browser.createBrowserContext({ downloadBehavior: { policy: 'allow', downloadPath: downloads } });
  try {
    // Operators: still no evidence, sealed or not.
    const operator = await signIn(context, dock.url, OPERATOR);
    t.is((await operator.goto(`${dock.url}/evidence/CAM-0077/segments/0`))?.status(), 403);
    t.is(await operator.evaluate(async () => (await fetch('/evidence/CAM-0077/segments/0/frames/0.jpg')).status), 403);
    await operator.close();

    const page = await signIn(context, dock.url, EXAMINER);
    await page.goto(`${dock.url}/evidence/CAM-0077`);
    t.regex(await page.$eval('[data-testid=evidence-key]', (e) => e.textContent ?? ''), new RegExp(`evidence key ${keyId}`));
    const rows = await segmentRows(page);
    t.true(rows.every((r) => r.valid && r.sealed === `sealed to ${keyId}`), JSON.stringify(rows));
    await shot(page, 'sealed-key-timeline');

    // Play segment 0: opened in memory, frames decode in the page.
    await Promise.all([page.waitForNavigation(), page.click('tr[data-seq="0"] a[data-testid=play]')]);
    t.regex(await page.$eval('[data-testid=sealed-opened]', (e) => e.textContent ?? ''), new RegExp(`evidence key ${keyId}`));
    await page.waitForFunction(`(() => { const img = document.getElementById('frame'); return img.complete && img.naturalWidth > 0; })()`);
    const first = (await page.evaluate(`(() => {
      const img = document.getElementById('frame');
      const canvas = document.createElement('canvas');
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      const g = canvas.getContext('2d');
      g.drawImage(img, 0, 0);
      const px = g.getImageData(0, 0, canvas.width, canvas.height).data;
      const colours = new Set();
      for (let i = 0; i < px.length; i += 4 * 97) colours.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
      return { width: img.naturalWidth, height: img.naturalHeight, colours: colours.size, utc: document.getElementById('t-utc').textContent };
    })()`)) as { width: number; height: number; colours: number; utc: string };
    const info = (await page.evaluate(`fetch(location.pathname + '/frames.json').then((r) => r.json())`)) as { frames: { utcMs: number; frameNumber: number }[]; valid: boolean; width: number; height: number; sealed: { openedWith: string } };
    t.like(info, { width: 320, height: 240, valid: true, sealed: { openedWith: keyId } });
    t.true(info.frames.length > 10);
    t.like(first, { width: 320, height: 240 });
    t.true(first.colours > 20, `a decoded picture, not a blank: ${first.colours} colours`);
    await page.click('#play');
    await page.waitForFunction(`Number(document.getElementById('player').dataset.shown) >= 10`, { timeout: 30_000 });
    await page.click('#play');
    const shown = (await page.evaluate(`({ i: Number(document.getElementById('player').dataset.shown), utc: document.getElementById('t-utc').textContent, n: document.getElementById('t-number').textContent })`)) as { i: number; utc: string; n: string };
    t.is(shown.n, `#${info.frames[shown.i].frameNumber}`);
    t.not(shown.utc, first.utc, 'the player moved on');
    await shot(page, 'sealed-key-player');

    // Export the whole recording as an MP4 (the form's default): made in memory, downloaded, and the real CLI verifies it down to the camera's signatures.
    const download = async (names: string[]) => {
      for (const name of names) await page.click(`a[data-testid=download][href$="${encodeURIComponent(name)}"]`);
      const deadline = Date.now() + 30_000;
      while (!names.every((n) => existsSync(join(downloads, n))) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    };
    await page.goto(`${dock.url}/evidence/CAM-0077`);
    await Promise.all([page.waitForNavigation(), page.click('form[data-testid=export-form] button')]);
    const mp4Done = await page.$eval('[data-testid=export-done]', (e) => e.textContent ?? '').catch(async () => page.$eval('main', (e) => e.textContent ?? ''));
    t.regex(mp4Done, new RegExp(`^MP4: .*decrypted in memory with evidence key ${keyId}`));
    t.regex(await page.$eval('[data-testid=export-signed]', (e) => e.textContent ?? ''), /EVIDENCE-OFFICE/);
    const mp4Links = await page.$$eval('a[data-testid=download]', (as) => as.map((a) => a.textContent!));
    const mp4 = mp4Links.find((l) => l.endsWith('.mp4'))!;
    const mp4Report = mp4Links.find((l) => l.endsWith('.integrity.json'))!;
    t.truthy(mp4 && mp4Report, JSON.stringify(mp4Links));
    await shot(page, 'sealed-key-export-mp4');
    await download([mp4, mp4Report]);
    t.deepEqual(readdirSync(downloads).filter((f) => !f.endsWith('.crdownload')).sort(), [mp4, mp4Report].sort());
    const mp4Integrity = JSON.parse(readFileSync(join(downloads, mp4Report), 'utf8')) as { decryption: { by: string; keyId: string }; export: { format: string; video: string; heldInMemory: string; credentials: { signer: string } | null } };
    t.like(mp4Integrity.decryption, { by: EXAMINER.name, keyId });
    t.like(mp4Integrity.export, { format: 'mp4', video: mp4 });
    t.regex(mp4Integrity.export.heldInMemory, /never written to the station's disk/);
    t.regex(mp4Integrity.export.credentials?.signer ?? '', /EVIDENCE-OFFICE/);
    const checked = await bodycamAsync(['verify', join(downloads, mp4), '--root', join(base, 'agency', 'root.pub')]);
    t.is(checked.status, 0, checked.stdout + checked.stderr);
    t.regex(checked.stdout, new RegExp(`^OK: the C2PA credentials and ${rows.length} segments signed by the camera verify`, 'm'));
    t.is((checked.stdout.match(/^VALID +segment \d+/gm) ?? []).length, rows.length);
    const mp4Bytes = readFileSync(join(downloads, mp4));
    rmSync(join(downloads, mp4Report));

    // The AVI, chosen on the form: the one bodycam export --evidence-key makes.
    await page.goto(`${dock.url}/evidence/CAM-0077`);
    await page.select('select[name=format]', 'avi');
    await Promise.all([page.waitForNavigation(), page.click('form[data-testid=export-form] button')]);
    const done = await page.$eval('[data-testid=export-done]', (e) => e.textContent ?? '').catch(async () => page.$eval('main', (e) => e.textContent ?? ''));
    t.regex(done, new RegExp(`decrypted in memory with evidence key ${keyId}`));
    const links = await page.$$eval('a[data-testid=download]', (as) => as.map((a) => a.textContent!));
    const avi = links.find((l) => l.endsWith('.avi'))!;
    const integrity = links.find((l) => l.endsWith('.integrity.json'))!;
    t.truthy(avi && integrity, JSON.stringify(links));
    await shot(page, 'sealed-key-export');
    await download([avi, integrity]);
    t.deepEqual(readdirSync(downloads).filter((f) => !f.endsWith('.crdownload')).sort(), [avi, integrity, mp4].sort());
    const report = JSON.parse(readFileSync(join(downloads, integrity), 'utf8')) as { deviceVerdict: { valid: boolean }; segments: { seq: number; valid: boolean; mediaSha256: string }[]; decryption: { by: string; keyId: string; at: { utc: string }; segments: { keyId: string }[] }; exportedBy: { account: string } };
    t.true(report.deviceVerdict.valid);
    t.like(report.decryption, { by: EXAMINER.name, keyId });
    t.true(Math.abs(Date.parse(report.decryption.at.utc) - Date.now()) < 10 * 60_000);
    t.deepEqual(report.decryption.segments.map((s) => s.keyId), rows.map(() => keyId));
    t.deepEqual(report.segments.map((s) => s.seq), rows.map((r) => r.seq));
    for (const s of report.segments) t.is(createHash('sha256').update(readFileSync(join(store, 'devices', 'CAM-0077', 'segments', `${String(s.seq).padStart(10, '0')}.media`))).digest('hex'), s.mediaSha256);
    const cli = join(base, 'cli-export.avi');
    const exported = await bodycamAsync(['export', '--store', store, '--device', 'CAM-0077', '--root', join(base, 'agency', 'root.pub'), '--evidence-key', keyFile, '--evidence-passphrase-file', pass, '--out', cli]);
    t.is(exported.status, 0, exported.stdout + exported.stderr);
    const aviBytes = readFileSync(join(downloads, avi));
    t.true(aviBytes.equals(readFileSync(cli)), 'the console\'s AVI is byte for byte the one bodycam export --evidence-key makes');

    // Nothing decrypted reached the station's disk: no file in its temporary folder or its store holds the exported frames' JPEG bytes.
    const firstJpeg = aviBytes.indexOf(Buffer.from([0xff, 0xd8, 0xff]));
    t.true(firstJpeg > 0);
    const probe = aviBytes.subarray(firstJpeg, firstJpeg + 48);
    t.true(mp4Bytes.includes(probe), 'the MP4 holds the same decrypted frames');
    const onDisk = [...files(dock.tmp), ...files(store)].filter((f) => statSync(f).size > 0 && readFileSync(f).includes(probe));
    t.deepEqual(onDisk, []);

    // The custody log: each decrypting view and the export, with the account and the key id.
    await page.goto(`${dock.url}/evidence/CAM-0077/custody`);
    await shot(page, 'sealed-key-custody');
    const leaves = readLogLeaves(store, new SafeReader()).leaves.map(decodeCustodyLeaf).filter((e) => e.device === 'CAM-0077');
    const detail = (e: { detail: string | null }) => JSON.parse(e.detail ?? '{}') as Record<string, unknown>;
    const view = leaves.find((e) => e.event === 'console-view' && detail(e).view === 'segment' && detail(e).decrypted === true);
    t.like(view && detail(view), { account: EXAMINER.name, role: 'examiner', seq: 0, keyId });
    t.true(Math.abs(view!.at - Date.now()) < 10 * 60_000);
    const exps = leaves.filter((e) => e.event === 'console-export');
    t.is(exps.length, 2);
    t.like(detail(exps[0]), { account: EXAMINER.name, format: 'mp4', signed: true, decrypted: true, keyId });
    t.is((detail(exps[0]).files as Record<string, string>)[mp4], createHash('sha256').update(mp4Bytes).digest('hex'));
    t.like(detail(exps[1]), { account: EXAMINER.name, format: 'avi', decrypted: true, keyId });
    t.is((detail(exps[1]).files as Record<string, string>)[avi], createHash('sha256').update(aviBytes).digest('hex'));
    t.true(leaves.some((e) => e.event === 'console-download' && detail(e).file === mp4 && detail(e).fromMemory === true));
    // The page shows them too.
    const shownRows = await page.$$eval('table[data-testid=custody] tbody tr', (rs) => rs.map((r) => ({ event: r.getAttribute('data-event'), who: r.querySelector('.account')?.textContent, detail: r.querySelector('.detail')?.textContent ?? '' })));
    t.true(shownRows.some((r) => r.event === 'console-view' && r.who === EXAMINER.name && r.detail.includes(`"keyId":"${keyId}"`)));
    // The console's entries leave the store as verifiable as before, without the key.
    const verified = await bodycamAsync(['verify', store, '--root', join(base, 'agency', 'root.pub')]);
    t.is(verified.status, 0, verified.stdout);

  } finally {
    await context.close();
    rmSync(downloads, { recursive: true, force: true });
    await stopDock(dock);
  }
});

test.serial('[node] a console without an export signer exports an UNSIGNED MP4, said plainly, the one bodycam export makes without --signer; a sealed segment altered in the store shows FAILED', async (t) => {
  const pass = join(base, 'evidence.pass');
  const dock = await startDock(['--evidence-key', keyFile, '--evidence-passphrase-file', pass]);
  t.like(dock.events.find((e) => e.event === 'console-listening'), { evidenceKey: keyId, exportSigner: null });
  const downloads = mkdtempSync(join(tmpdir(), 'bodycam-console-sealed-downloads-'));
  const context = await browser.createBrowserContext({ downloadBehavior: { policy: 'allow', downloadPath: downloads } });
  try {
    const page = await signIn(context, dock.url, EXAMINER);
    await page.goto(`${dock.url}/evidence/CAM-0077`);
    t.regex(await page.$eval('[data-testid=export-signer]', (e) => e.textContent ?? ''), /UNSIGNED: the station has no export signer/);
    const rows = await segmentRows(page);
    await Promise.all([page.waitForNavigation(), page.click('form[data-testid=export-form] button')]);
    t.regex(await page.$eval('[data-testid=export-unsigned]', (e) => e.textContent ?? ''), /^UNSIGNED: this station has no export signer \(bodycam dock --signer DIR\), so the file carries no content credentials/);
    t.is(await page.$('[data-testid=export-signed]'), null);
    const links = await page.$$eval('a[data-testid=download]', (as) => as.map((a) => a.textContent!));
    const mp4 = links.find((l) => l.endsWith('.mp4'))!;
    t.truthy(mp4, JSON.stringify(links));
    await shot(page, 'sealed-key-export-unsigned');
    await page.click(`a[data-testid=download][href$="${encodeURIComponent(mp4)}"]`);
    const deadline = Date.now() + 30_000;
    while (!existsSync(join(downloads, mp4)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const cli = join(base, 'cli-export-unsigned.mp4');
    const exported = await bodycamAsync(['export', '--store', store, '--device', 'CAM-0077', '--root', join(base, 'agency', 'root.pub'), '--evidence-key', keyFile, '--evidence-passphrase-file', pass, '--out', cli]);
    t.is(exported.status, 0, exported.stdout + exported.stderr);
    t.regex(exported.stdout, /^UNSIGNED: no --signer/m);
    t.true(readFileSync(join(downloads, mp4)).equals(readFileSync(cli)), 'the console\'s unsigned MP4 is byte for byte the one bodycam export --evidence-key makes without --signer');
    // Nothing to check it by: verify says so.
    const checked = await bodycamAsync(['verify', join(downloads, mp4), '--root', join(base, 'agency', 'root.pub')]);
    t.is(checked.status, 1, checked.stdout);
    t.regex(checked.stdout, /c2pa-missing/);
    const leaves = readLogLeaves(store, new SafeReader()).leaves.map(decodeCustodyLeaf).filter((e) => e.event === 'console-export');
    t.like(JSON.parse(leaves[leaves.length - 1].detail ?? '{}'), { format: 'mp4', signed: false, decrypted: true, keyId });

    // A sealed segment altered in the store: FAILED, and the key does not open it (a chunk fails, with its code) — no picture, no error page.
    const last = rows[rows.length - 1].seq;
    const media = join(store, 'devices', 'CAM-0077', 'segments', `${String(last).padStart(10, '0')}.media`);
    chmodSync(media, 0o640);
    const bytes = readFileSync(media);
    bytes[Math.floor(bytes.length / 2)] ^= 0x01;
    writeFileSync(media, bytes);
    t.is((await page.goto(`${dock.url}/evidence/CAM-0077/segments/${last}`))?.status(), 200);
    t.regex(await page.$eval('h1', (e) => e.textContent ?? ''), /FAILED/);
    t.regex(await page.$eval('[data-testid=sealed-view]', (e) => e.textContent ?? ''), /could not open it \(E_(STREAM_AUTH|STREAM_ORDER|SEALED_FORMAT) [^E]/);
    t.is(await page.$('#frame'), null);
    await shot(page, 'sealed-key-tampered');
  } finally {
    await context.close();
    rmSync(downloads, { recursive: true, force: true });
    await stopDock(dock);
  }
});
