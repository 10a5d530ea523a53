// The web console (`bodycam dock --http`) in real headless Chromium (Debian's, driven by
// puppeteer-core; no browser is downloaded) against a real dock process on loopback, with a
// practice camera's simulated shift (pre-event buffer, a power cut, a lost frame) docked while an
// operator watches the board. The station has an export signer (`--signer`): the examiner's MP4
// export is checked with the real `bodycam verify FILE.mp4`. Screenshots of the last run: out/console-test/ (gitignored);
// BODYCAM_CONSOLE_DOCS=1 also refreshes the two in docs/.

import test from 'ava';
import puppeteer, { type Browser, type BrowserContext, type Page } from 'puppeteer-core';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { connect, createServer, type Server } from 'node:net';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeCustodyLeaf, readLogLeaves } from '../evidence/custody-log.js';
import { SafeReader } from '../evidence/layout.js';
import { repoRoot } from '../host-sim/xs/bundle.js';
import { bodycamAsync, dockProcess } from './helpers/cli.js';
import { CHROMIUM, SHOTS } from './helpers/console.js';

const DOCS = process.env.BODYCAM_CONSOLE_DOCS === '1';
const PASSPHRASE = { BODYCAM_PASSPHRASE: 'correct horse battery staple' };
const EXAMINER = { name: 'alice.examiner', password: 'examiner passphrase 7' };
const OPERATOR = { name: 'bob.operator', password: 'operator passphrase 9' };
const GUESSED = { name: 'carol', password: 'carol passphrase 11' };

interface World {
  base: string;
  store: string;
  url: string;
  dockPort: number;
  dock: ChildProcess;
  dockExit: Promise<number | null>;
  events: Record<string, unknown>[];
  browser: Browser;
}
let w: World;

async function shot(page: Page, name: string, docsName?: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  if (DOCS && docsName) copyFileSync(path, join(repoRoot, 'docs', docsName));
}

async function signIn(context: BrowserContext, who: { name: string; password: string }): Promise<Page> {
  const page = await context.newPage();
  await page.setViewport({ width: 1400, height: 900 });
  await page.goto(`${w.url}/login`);
  await page.type('input[name=name]', who.name);
  await page.type('input[name=password]', who.password);
  await Promise.all([page.waitForNavigation(), page.click('form[data-testid=sign-in] button')]);
  return page;
}

test.before(async () => {
  if (!CHROMIUM) throw new Error('Chromium is not installed: apt-get install chromium (.ci/run does), or set BODYCAM_CHROMIUM');
  const base = mkdtempSync(join(tmpdir(), 'bodycam-console-'));
  const step = async (...args: string[]) => {
    const r = await bodycamAsync(args, PASSPHRASE);
    if (r.status !== 0) throw new Error(`bodycam ${args.join(' ')}: ${r.stderr}`);
  };
  await step('provision', 'root', '--agency', 'Metro Police', '--out', join(base, 'agency'));
  await step('provision', 'dock', '--root', join(base, 'agency'), '--id', 'DOCK-1', '--out', join(base, 'dock-1'));
  await step('provision', 'export-signer', '--root', join(base, 'agency'), '--id', 'EVIDENCE-OFFICE', '--out', join(base, 'signer'));
  // Its recording settings pinned (not the defaults, which may change): small frames, 30 s segments, 30 s of pre-event buffer.
  writeFileSync(join(base, 'camera.json'), JSON.stringify({ resolution: 'QVGA', frameRate: 10, segmentSeconds: 30, preEventSeconds: 30 }));
  await step('provision', 'camera', '--root', join(base, 'agency'), '--device', 'CAM-0042', '--officer', 'PC 1234 Smith', '--sim', join(base, 'camera'), '--config', join(base, 'camera.json'));
  const store = join(base, 'store');
  const { child: dock, lines, exit: dockExit } = await dockProcess(['--json', '--listen', '127.0.0.1:0', '--store', store, '--identity', join(base, 'dock-1'), '--http', '127.0.0.1:0', '--register', join(base, 'agency', 'register.json'), '--signer', join(base, 'signer')], (line) => line.includes('"event":"listening"'));
  const events = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const web = events.find((e) => e.event === 'console-listening')!;
  // Accounts are added while the dock runs, as an administrator would (password from a file).
  for (const [who, role] of [[EXAMINER, 'examiner'], [OPERATOR, 'operator'], [GUESSED, 'operator']] as const) {
    const pw = join(base, `${who.name}.pw`);
    writeFileSync(pw, `${who.password}\n`, { mode: 0o600 });
    await step('console', 'add-account', '--store', store, '--name', who.name, '--role', role, '--password-file', pw);
  }
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  w = { base, store, url: `http://127.0.0.1:${web.port as number}`, dockPort: (events.find((e) => e.event === 'listening')!.port as number), dock, dockExit, events, browser };
});

test.after.always(async () => {
  await w?.browser.close();
  if (w && w.dock.exitCode === null) {
    w.dock.kill('SIGTERM');
    await w.dockExit;
  }
});

test.serial('[node] the console listens on loopback and says so; a signed-out browser gets only the sign-in page', async (t) => {
  const web = w.events.find((e) => e.event === 'console-listening')!;
  t.like(web, { address: '127.0.0.1', loopback: true });
  t.regex((web.exportSigner as { subject: string }).subject, /EVIDENCE-OFFICE/);
  const context = await w.browser.createBrowserContext();
  const page = await context.newPage();
  try {
    for (const path of ['/', '/board', '/evidence', '/evidence/CAM-0042', '/evidence/CAM-0042/custody', '/evidence/CAM-0042/segments/0']) {
      const r = await page.goto(`${w.url}${path}`);
      t.is(new URL(page.url()).pathname, '/login', path);
      t.is(r?.status(), 200);
      t.truthy(await page.$('form[data-testid=sign-in]'));
      t.is(await page.$('table'), null, `${path} shows no table to a signed-out browser`);
      t.false((await page.content()).includes('CAM-0042'), path);
    }
    // What a script would fetch: refused outright.
    const statuses = await page.evaluate(async (paths: string[]) => Promise.all(paths.map(async (p) => (await fetch(p)).status)), ['/board/events', '/evidence/CAM-0042/segments/0/frames.json', '/evidence/CAM-0042/segments/0/frames/0.jpg']);
    t.deepEqual(statuses, [401, 401, 401]);
    // A wrong password: the sign-in page again, with no session cookie.
    await page.type('input[name=name]', EXAMINER.name);
    await page.type('input[name=password]', 'not the password');
    await Promise.all([page.waitForNavigation(), page.click('form[data-testid=sign-in] button')]);
    t.regex(await page.$eval('.error', (e) => e.textContent ?? ''), /do not match/);
    t.deepEqual((await page.cookies()).filter((c) => c.name === 'bodycam_session'), []);
    // A POST from another origin is refused before anything else (CSRF).
    const forged = await fetch(`${w.url}/login`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: 'http://evil.example' }, body: 'name=x&password=y' });
    t.is(forged.status, 403);
    // Guessing: after five wrong passwords even the right one waits a minute.
    const attempt = async (password: string) => (await fetch(`${w.url}/login`, { method: 'POST', redirect: 'manual', headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: w.url }, body: new URLSearchParams({ name: GUESSED.name, password }) })).status;
    t.is(await attempt(GUESSED.password), 303);
    for (let i = 0; i < 5; i++) t.is(await attempt(`wrong guess ${i}`), 403);
    t.is(await attempt(GUESSED.password), 403);
    await shot(page, 'signed-out');
  } finally {
    await context.close();
  }
});

/**
 * A relay to the dock that passes the camera's bytes on at most `bytes` every `everyMs` (the other
 * way, at once): a docking then lasts long enough for the board (one update per UPDATE_MS) to show
 * it moving however fast this machine moves bytes.
 */
async function throttledRelay(dockPort: number, bytes = 64 * 1024, everyMs = 50): Promise<{ port: number; server: Server }> {
  const server = createServer((camera) => {
    const dock = connect(dockPort, '127.0.0.1');
    const queue: Buffer[] = [];
    let queued = 0;
    let ended = false;
    const tick = setInterval(() => {
      for (let budget = bytes; queue.length && budget > 0; ) {
        const b = queue[0];
        const n = Math.min(b.length, budget);
        dock.write(b.subarray(0, n));
        budget -= n;
        queued -= n;
        if (n === b.length) queue.shift();
        else queue[0] = b.subarray(n);
      }
      if (queued < 4 * bytes && camera.isPaused()) camera.resume();
      if (ended && !queue.length) {
        clearInterval(tick);
        dock.end();
      }
    }, everyMs);
    camera.on('data', (b: Buffer) => {
      queue.push(b);
      queued += b.length;
      if (queued > 16 * bytes) camera.pause();
    });
    camera.on('end', () => (ended = true));
    dock.on('data', (b: Buffer) => camera.write(b));
    dock.on('end', () => camera.end());
    for (const s of [camera, dock]) {
      s.on('error', () => {});
      s.on('close', () => {
        clearInterval(tick);
        camera.destroy();
        dock.destroy();
      });
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as { port: number }).port, server };
}

test.serial('[node] an operator watches a camera dock: its row moves and completes, with the officer; evidence is not for operators', async (t) => {
  const context = await w.browser.createBrowserContext();
  try {
    const page = await signIn(context, OPERATOR);
    t.is(new URL(page.url()).pathname, '/board');
    const cookie = (await page.cookies()).find((c) => c.name === 'bodycam_session')!;
    t.true(cookie.httpOnly);
    t.is(cookie.sameSite, 'Strict');
    await page.waitForSelector('#live.on');
    // Every state the row shows, as the page shows it.
    await page.evaluate(`(() => {
      const seen = (window.seen = []);
      new MutationObserver(() => {
        const row = document.querySelector('tr[data-device="CAM-0042"]');
        if (row) seen.push({ state: row.querySelector('.state').textContent, bytes: row.querySelector('.bytes-done').textContent, pct: row.querySelector('.pct').textContent });
      }).observe(document.getElementById('board-rows'), { childList: true, subtree: true });
    })()`);
    // Through a relay that slows the camera's bytes to 1.25 MiB/s: the row must be seen moving.
    const relay = await throttledRelay(w.dockPort);
    t.teardown(() => relay.server.close());
    const sim = bodycamAsync(['sim', '--dock', `127.0.0.1:${relay.port}`, '--camera', join(w.base, 'camera'), '--scale', '0.5', '--out', join(w.base, 'practice')]);
    // Mid-upload, for the screenshot.
    await page.waitForSelector('tr[data-device="CAM-0042"].state-uploading', { timeout: 180_000 });
    await shot(page, 'board-uploading', 'console-operator-board.png');
    await page.waitForSelector('tr[data-device="CAM-0042"].state-done', { timeout: 180_000 });
    const r = await sim;
    t.is(r.status, 0, r.stderr);
    const seen = (await page.evaluate('window.seen')) as { state: string; bytes: string; pct: string }[];
    const uploading = [...new Set(seen.filter((s) => s.state === 'uploading').map((s) => s.pct))];
    t.true(uploading.length >= 3, `the row moved through ${JSON.stringify(uploading)}`);
    const pcts = uploading.map((p) => Number.parseInt(p, 10));
    t.deepEqual(pcts, [...pcts].sort((a, b) => a - b), 'progress only goes forward');
    t.true(pcts.some((p) => p > 0 && p < 100));
    const row = await page.$eval('tr[data-device="CAM-0042"]', (tr) => Object.fromEntries([...tr.querySelectorAll('td')].map((td) => [td.className, td.textContent!.trim()])));
    t.like(row, { device: 'CAM-0042', officer: 'PC 1234 Smith', state: 'done', left: '0 s', error: '' });
    t.regex(row.segments, /^(\d+) \/ \1$/);
    t.regex(row.bytes, /100%$/);
    await shot(page, 'board-done');
    // Evidence is for examiners.
    const denied = await page.goto(`${w.url}/evidence/CAM-0042`);
    t.is(denied?.status(), 403);
    t.regex(await page.content(), /E_ROLE/);
  } finally {
    await context.close();
  }
});

test.serial('[node] an examiner sees the timeline with verdicts, plays a segment, exports it with its integrity report, and the views are in the custody log', async (t) => {
  const downloads = mkdtempSync(join(tmpdir(), 'bodycam-console-downloads-'));
  const context = await w.browser.createBrowserContext({ downloadBehavior: { policy: 'allow', downloadPath: downloads } });
  try {
    const page = await signIn(context, EXAMINER);
    t.is(new URL(page.url()).pathname, '/evidence');
    t.regex(await page.$eval('table[data-testid=devices]', (e) => e.textContent ?? ''), /CAM-0042\s*VERIFIED/);
    await Promise.all([page.waitForNavigation(), page.click('a[href="/evidence/CAM-0042"]')]);
    t.regex(await page.$eval('main', (e) => e.textContent ?? ''), /Officer: PC 1234 Smith/);
    const segments = await page.$$eval('tr[data-testid=segment]', (rows) => rows.map((r) => ({ seq: Number(r.getAttribute('data-seq')), text: r.textContent ?? '', valid: r.classList.contains('valid') })));
    t.true(segments.length >= 2, JSON.stringify(segments));
    t.true(segments.every((s) => s.valid && /VERIFIED/.test(s.text)));
    t.regex(segments[0].text, /starts with the pre-event buffer/);
    // The power cut: the segment it cut is recovered and counts the frame it tore in flight as lost; a gap follows.
    const recovered = await page.$$eval('tr[data-testid=segment]', (rows) => rows.filter((r) => /recovered after power cut/.test(r.textContent ?? '')).map((r) => ({ seq: Number(r.getAttribute('data-seq')), lost: r.querySelector('td.dropped')?.textContent ?? '', next: r.nextElementSibling?.getAttribute('data-testid'), gap: r.nextElementSibling?.textContent ?? '' })));
    t.is(recovered.length, 1, JSON.stringify(segments));
    t.regex(recovered[0].lost, /^[1-9]/);
    t.is(recovered[0].next, 'gap');
    t.regex(recovered[0].gap, /Power cut.*s not recorded/);
    await shot(page, 'examiner-timeline');

    // Play segment 0: the frames decode in the page, and the times beside them are the frame's own.
    await Promise.all([page.waitForNavigation(), page.click('tr[data-seq="0"] a[data-testid=play]')]);
    await page.waitForFunction(`(() => { const img = document.getElementById('frame'); return img.complete && img.naturalWidth > 0; })()`);
    // Decoded pixels: the picture drawn into a canvas and read back.
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
    const info = (await page.evaluate(`fetch(location.pathname + '/frames.json').then((r) => r.json())`)) as { frames: { utcMs: number; frameNumber: number }[]; valid: boolean; width: number; height: number };
    t.like(info, { width: 320, height: 240 });
    t.like(first, { width: info.width, height: info.height });
    t.true(first.colours > 20, `a decoded picture, not a blank: ${first.colours} colours`);
    await page.click('#play');
    await page.waitForFunction(`Number(document.getElementById('player').dataset.shown) >= 10`, { timeout: 30_000 });
    t.true(info.valid);
    await page.click('#play');
    const shown = (await page.evaluate(`({ i: Number(document.getElementById('player').dataset.shown), utc: document.getElementById('t-utc').textContent, n: document.getElementById('t-number').textContent })`)) as { i: number; utc: string; n: string };
    t.is(shown.n, `#${info.frames[shown.i].frameNumber}`);
    t.is(shown.utc, new Date(info.frames[shown.i].utcMs).toISOString().replace('T', ' ').replace('Z', ' UTC'));
    t.not(shown.utc, first.utc, 'the player moved on');
    await shot(page, 'examiner-player');

    // Export the whole recording (as the form offers it: first to last, across the power cut, as an MP4) with its integrity report, as downloads.
    await page.goto(`${w.url}/evidence/CAM-0042`);
    t.is(await page.$eval('select[name=format]', (e) => (e as unknown as { value: string }).value), 'mp4');
    t.regex(await page.$eval('[data-testid=export-signer]', (e) => e.textContent ?? ''), /C2PA content credentials signed by .*EVIDENCE-OFFICE/);
    await Promise.all([page.waitForNavigation(), page.click('form[data-testid=export-form] button')]);
    t.truthy(await page.$('[data-testid=export-done]'), await page.$eval('main', (e) => e.textContent ?? ''));
    t.regex(await page.$eval('[data-testid=export-signed]', (e) => e.textContent ?? ''), /^Signed: C2PA content credentials .*EVIDENCE-OFFICE/);
    t.is(await page.$('[data-testid=export-unsigned]'), null);
    const links = await page.$$eval('a[data-testid=download]', (as) => as.map((a) => a.textContent!));
    const mp4 = links.find((l) => l.endsWith('.mp4'))!;
    const integrity = links.find((l) => l.endsWith('.integrity.json'))!;
    t.truthy(mp4 && integrity, JSON.stringify(links));
    t.is(links.length, 2, JSON.stringify(links));
    await shot(page, 'examiner-export-mp4');
    const download = async (names: string[]) => {
      for (const name of names) await page.click(`a[data-testid=download][href$="${encodeURIComponent(name)}"]`);
      const deadline = Date.now() + 30_000;
      while (!names.every((n) => existsSync(join(downloads, n))) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    };
    await download([mp4, integrity]);
    t.deepEqual(readdirSync(downloads).filter((f) => !f.endsWith('.crdownload')).sort(), [mp4, integrity].sort());
    const report = JSON.parse(readFileSync(join(downloads, integrity), 'utf8')) as { deviceVerdict: { valid: boolean }; segments: { seq: number; valid: boolean; mediaSha256: string }[]; export: { video: string; format: string; frames: number; credentials: { signer: string } | null }; exportedBy: { account: string } };
    t.true(report.deviceVerdict.valid);
    t.is(report.exportedBy.account, EXAMINER.name);
    t.like(report.export, { video: mp4, format: 'mp4' });
    t.regex(report.export.credentials?.signer ?? '', /EVIDENCE-OFFICE/);
    t.deepEqual(report.segments.map((s) => s.seq), segments.map((s) => s.seq));
    // The report's digests are the store's media.
    for (const s of report.segments) {
      t.true(s.valid);
      t.is(createHash('sha256').update(readFileSync(join(w.store, 'devices', 'CAM-0042', 'segments', `${String(s.seq).padStart(10, '0')}.media`))).digest('hex'), s.mediaSha256);
    }
    // The downloaded MP4, checked from the file alone by the real CLI, down to the camera's signatures.
    const checked = await bodycamAsync(['verify', join(downloads, mp4), '--root', join(w.base, 'agency', 'root.pub')]);
    t.is(checked.status, 0, checked.stdout + checked.stderr);
    t.regex(checked.stdout, new RegExp(`^OK: the C2PA credentials and ${segments.length} segments signed by the camera verify`, 'm'));
    t.regex(checked.stdout, /^signer {3}.*EVIDENCE-OFFICE/m);
    t.regex(checked.stdout, /^device {3}CAM-0042, key /m);
    t.is((checked.stdout.match(/^VALID +segment \d+/gm) ?? []).length, segments.length);
    // Served as video/mp4, and ffmpeg plays every frame the report says.
    const mp4Href = await page.$eval(`a[data-testid=download][href$="${encodeURIComponent(mp4)}"]`, (a) => a.getAttribute('href')!);
    t.is(await page.evaluate(async (href: string) => (await fetch(href)).headers.get('content-type'), mp4Href), 'video/mp4');
    const probeMp4 = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames,codec_name,width,height', '-of', 'json', join(downloads, mp4)], { encoding: 'utf8' });
    t.is(probeMp4.status, 0, probeMp4.stderr);
    t.like((JSON.parse(probeMp4.stdout) as { streams: Record<string, unknown>[] }).streams[0], { codec_name: 'mjpeg', width: info.width, height: info.height, nb_read_frames: String(report.export.frames) });

    // The AVI, chosen on the form: it plays (ffprobe counts every frame its report says), served as video/x-msvideo.
    await page.goto(`${w.url}/evidence/CAM-0042`);
    await page.select('select[name=format]', 'avi');
    await Promise.all([page.waitForNavigation(), page.click('form[data-testid=export-form] button')]);
    t.truthy(await page.$('[data-testid=export-done]'), await page.$eval('main', (e) => e.textContent ?? ''));
    t.is(await page.$('[data-testid=export-signed]'), null);
    const aviLinks = await page.$$eval('a[data-testid=download]', (as) => as.map((a) => a.textContent!));
    const avi = aviLinks.find((l) => l.endsWith('.avi'))!;
    const aviReportName = aviLinks.find((l) => l.endsWith('.integrity.json'))!;
    t.truthy(avi && aviReportName && aviLinks.some((l) => l === `${avi}.json`), JSON.stringify(aviLinks));
    const aviHref = await page.$eval(`a[data-testid=download][href$="${encodeURIComponent(avi)}"]`, (a) => a.getAttribute('href')!);
    // The MP4's report was downloaded already under the same name: this one is fetched, not saved.
    t.is(await page.evaluate(async (href: string) => (await fetch(href)).headers.get('content-type'), aviHref), 'video/x-msvideo');
    await download([avi]);
    const aviReport = JSON.parse(await page.evaluate(async (href: string) => (await fetch(href)).text(), aviHref.replace(/[^/]+$/, encodeURIComponent(aviReportName)))) as { export: { frames: number; videos: string[] } };
    t.deepEqual(aviReport.export.videos, [avi]);
    const probe = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames,codec_name,width,height', '-of', 'json', join(downloads, avi)], { encoding: 'utf8' });
    t.is(probe.status, 0, probe.stderr);
    t.like((JSON.parse(probe.stdout) as { streams: Record<string, unknown>[] }).streams[0], { codec_name: 'mjpeg', width: info.width, height: info.height, nb_read_frames: String(aviReport.export.frames) });

    // The custody log, as the page shows it and as the signed log holds it.
    await page.goto(`${w.url}/evidence/CAM-0042/custody`);
    const custody = await page.$$eval('table[data-testid=custody] tbody tr', (rows) => rows.map((r) => ({ event: r.getAttribute('data-event'), who: r.querySelector('.account')?.textContent, detail: r.querySelector('.detail')?.textContent ?? '' })));
    t.true(custody.some((r) => r.event === 'segment-stored' && r.who === 'station'));
    t.true(custody.some((r) => r.event === 'console-view' && r.who === EXAMINER.name && r.detail.includes('"view":"timeline"')));
    t.true(custody.some((r) => r.event === 'console-view' && r.who === EXAMINER.name && r.detail.includes('"view":"segment"')));
    const exported = custody.filter((r) => r.event === 'console-export' && r.who === EXAMINER.name).map((r) => JSON.parse(r.detail) as { format: string; signed?: boolean; files: Record<string, string> });
    t.deepEqual(exported.map((e) => [e.format, e.signed]), [['mp4', true], ['avi', undefined]]);
    t.is(exported[0].files[mp4], createHash('sha256').update(readFileSync(join(downloads, mp4))).digest('hex'), 'the custody log names the exact bytes downloaded');
    t.is(exported[1].files[avi], createHash('sha256').update(readFileSync(join(downloads, avi))).digest('hex'), 'the custody log names the exact bytes downloaded');
    const leaves = readLogLeaves(w.store, new SafeReader()).leaves.map(decodeCustodyLeaf);
    const views = leaves.filter((e) => e.event === 'console-view' && e.device === 'CAM-0042');
    t.true(views.some((e) => (JSON.parse(e.detail!) as { account: string; role: string }).account === EXAMINER.name && (JSON.parse(e.detail!) as { role: string }).role === 'examiner'));
    t.true(views.every((e) => Math.abs(e.at - Date.now()) < 10 * 60_000));
    t.true(leaves.some((e) => e.event === 'console-sign-in' && e.detail !== null && (JSON.parse(e.detail) as { account: string }).account === EXAMINER.name));
    // Every download, the fetches too: the MP4 twice (saved, then its Content-Type read), its report, the AVI twice, the AVI's report.
    t.deepEqual(leaves.filter((e) => e.event === 'console-download' && e.device === 'CAM-0042').map((e) => (JSON.parse(e.detail!) as { file: string }).file).sort(), [mp4, mp4, integrity, avi, avi, aviReportName].sort());
    await shot(page, 'examiner-custody');
    // The console's entries leave the store as verifiable as before.
    const verified = await bodycamAsync(['verify', w.store, '--root', join(w.base, 'agency', 'root.pub')]);
    t.is(verified.status, 0, verified.stdout);

    // A POST without the session's CSRF token is refused, even from this origin.
    const forged = await page.evaluate(async () => (await fetch('/evidence/CAM-0042/export', { method: 'POST', body: new URLSearchParams({ from: '0', to: '0' }) })).status);
    t.is(forged, 403);
  } finally {
    await context.close();
    rmSync(downloads, { recursive: true, force: true });
  }
});

test.serial('[node] a segment altered in the store shows as failed, with its finding, and is never exported', async (t) => {
  const context = await w.browser.createBrowserContext();
  try {
    const media = join(w.store, 'devices', 'CAM-0042', 'segments', '0000000001.media');
    chmodSync(media, 0o640);
    const bytes = readFileSync(media);
    bytes[bytes.length - 100] ^= 0x01;
    writeFileSync(media, bytes);
    const page = await signIn(context, EXAMINER);
    await page.goto(`${w.url}/evidence/CAM-0042`);
    const rows = await page.$$eval('tr[data-testid=segment]', (rs) => rs.map((r) => ({ seq: Number(r.getAttribute('data-seq')), valid: r.classList.contains('valid'), text: r.textContent ?? '' })));
    t.like(rows.find((r) => r.seq === 0), { valid: true });
    const bad = rows.find((r) => r.seq === 1)!;
    t.false(bad.valid);
    t.regex(bad.text, /FAILED/);
    t.regex(bad.text, /media|digest/i);
    t.regex(await page.$eval('h1', (e) => e.textContent ?? ''), /FAILED/);
    await shot(page, 'examiner-tampered', 'console-examiner-evidence.png');
    await page.goto(`${w.url}/evidence/CAM-0042/segments/1`);
    t.regex(await page.$eval('h1', (e) => e.textContent ?? ''), /FAILED/);
    // Export of the altered segment: refused even when findings are accepted.
    await page.goto(`${w.url}/evidence/CAM-0042`);
    await page.select('select[name=from]', '1');
    await page.select('select[name=to]', '1');
    await page.click('input[name=accept]');
    await Promise.all([page.waitForNavigation(), page.click('form[data-testid=export-form] button')]);
    t.regex(await page.$eval('[data-testid=export-refused]', (e) => e.textContent ?? ''), /segment 1 does not verify/);
  } finally {
    await context.close();
  }
});
