// `bodycam dock --listen HOST:PORT --store DIR --identity DIR [--json]`: run a dock station.
// A live line per camera (segments and bytes done of total, rate, ETA) on a terminal; with --json,
// one JSON object per event on stdout instead (for monitoring).

import { newestCheckpoint } from '../evidence/custody-log.js';
import { SafeReader } from '../evidence/layout.js';
import { BodycamError } from '../firmware/errors.js';
import { loadDockIdentity } from '../dock-station/identity.js';
import { DockStation } from '../dock-station/station.js';
import type { SessionProgress, SessionResult } from '../dock-station/session.js';
import { hostEd25519 } from '../host/ed25519-node.js';
import { FirmwareShelf } from '../dock-station/firmware-shelf.js';
import { ConfigShelf } from '../dock-station/config-shelf.js';
import { StoreLock, prepareStoreDir } from '../dock-station/store-lock.js';
import { statSync } from 'node:fs';
import { asBodycamError } from './exit.js';
import { DockBoard } from '../dock-station/console/board.js';
import { DockConsole, isLoopback } from '../dock-station/console/server.js';
import { pinnedTrust } from '../evidence/trust.js';
import { readFileSync } from 'node:fs';
import { parseArgs, secretOption, stringOption } from './args.js';
import { loadExaminerKey } from '../evidence/sealed.js';
import { EVIDENCE_PASSPHRASE_ENV, EVIDENCE_PASSPHRASE_OPTION } from '../evidence/evidence-keys.js';
import { CENTRAL_HELP, centralForwarder, forwardCommand } from './forward.js';
import { loadSignerIdentity } from '../evidence/c2pa-certs.js';
import { version } from './bodycam.js';

const HELP = `usage: bodycam dock --listen HOST:PORT --store DIR --identity DIR [--firmware DIR] [--configs DIR] [--json]
                   [--rebuild-index]                   [--timeout SECONDS] [--max-cameras N] [--http HOST:PORT [--register FILE]
                    [--evidence-key FILE [--evidence-passphrase-file FILE]] [--signer DIR]]
                   [--central s3://BUCKET[/PREFIX] --db URL [--s3-endpoint URL] [--prune]]
       bodycam dock forward --from DIR --store s3://BUCKET[/PREFIX] --db URL   (bodycam dock forward --help)

Serve cameras at shift end: authenticate each one, upload and verify its evidence into DIR
(content-addressed originals, SQLite index and custody log), send signed receipts so the camera
can free space. --identity is the folder \`bodycam provision dock\` wrote. --firmware is a folder of
signed images (\`bodycam firmware sign\`): a camera whose evidence is all receipted is offered the
newest image for its board if it is newer than what it runs. --configs is the agency's folder of
signed camera configurations (its issued/ folder: \`bodycam provision config\`, and the "*" one
\`bodycam provision evidence-key rotate\` writes): each camera is pushed the newest one for its id
or "*" when it is newer than the version the camera reports holding (a rotated evidence key reaches
cameras in service this way); files the agency root did not sign are listed and never pushed. A store whose index.sqlite is
missing or damaged is refused (E_INDEX_MISSING, E_INDEX_DAMAGED); --rebuild-index rebuilds it from
the signed files in the store (the damaged file is kept beside it). A full disk is said once
(E_STATION_FULL): cameras are turned away and keep their evidence until space is freed.
Before anything is written: --firmware must be a folder (its images are listed), --store's parent
must exist (E_STORE_PATH), no other dock may hold the store (E_STORE_LOCKED: station.lock in it),
and the port must be free (E_PORT_BUSY).
--timeout is how long to wait for each camera message (30); --max-cameras how many cameras are
served at once (128; more are told E_STATION_BUSY and dock again later).
--http serves the web console (the dock board for operators; evidence, playback, export and custody
log for examiners) on HOST:PORT, 127.0.0.1 unless another address is given, which it then says
loudly: it speaks plain HTTP. Accounts: \`bodycam console add-account\`. --register is the armoury's
register.json: the board shows the officer each camera is assigned to.
--evidence-key FILE gives the console the agency's evidence key (evidence-keys/<key id>.secret; its
passphrase from --evidence-passphrase-file FILE or BODYCAM_EVIDENCE_PASSPHRASE): examiners then play
and export sealed segments, decrypted in memory, never written to this computer's disk, each
opening logged with the account and key id. Without it sealed segments show their verdict only.
Only an examiner's station should hold it: never give the key to a dock at a docking bay.
The console exports an MP4 by default (as \`bodycam export\`; AVI with a timing sidecar on request).
--signer DIR is the export signer folder \`bodycam provision export-signer\` makes, the one
\`bodycam export --signer\` takes (its export.seed is a 0600 file with no passphrase): the console's
MP4 exports then carry C2PA content credentials that \`bodycam verify FILE.mp4\` re-checks down to
the camera's signatures. It is checked against the dock identity's agency root before the station
starts (E_SIGNER_IDENTITY, E_CERT_EXPIRED). Without it the console's MP4 exports are UNSIGNED, and
the export form and page say so.
--central forwards everything the station stores to the central store in the background after
each docking (and at start), retried with backoff while it can't be reached; the station's own
store stays the durable copy. --prune then removes local media the central store holds verified.
${CENTRAL_HELP}`;

function mib(n: number): string {
  return (n / 1048576).toFixed(1);
}

export function progressLine(p: SessionProgress, now = Date.now()): string {
  const secs = Math.max(0.001, (now - p.startedAt) / 1000);
  const rate = p.bytesDone / secs;
  const eta = rate > 0 ? Math.ceil((p.bytesTotal - p.bytesDone) / rate) : 0;
  const width = 20;
  const filled = p.bytesTotal ? Math.round((p.bytesDone / p.bytesTotal) * width) : 0;
  return `${(p.device ?? '?').padEnd(12)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.segmentsDone}/${p.segmentsTotal} segments ${mib(p.bytesDone)}/${mib(p.bytesTotal)} MiB ${mib(rate)} MiB/s ETA ${eta}s ${p.phase}`;
}

/** A whole number option in 1..max, or 0 when absent. */
function positive(a: ReturnType<typeof parseArgs>, name: string, max: number): number {
  const v = stringOption(a, name);
  if (v === undefined) return 0;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new BodycamError('E_USAGE', `--${name} takes a whole number from 1 to ${max}`);
  return n;
}

function isFolder(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

export async function dockCommand(argv: string[], out: (line: string) => void): Promise<number> {
  if (argv[0] === 'forward') return forwardCommand(argv.slice(1), out);
  const a = parseArgs(argv, { central: { value: true }, db: { value: true }, 's3-endpoint': { value: true }, 'retain-days': { value: true }, prune: {}, listen: { value: true }, store: { value: true }, identity: { value: true }, firmware: { value: true }, json: {}, help: {}, 'rebuild-index': {}, timeout: { value: true }, 'max-cameras': { value: true }, http: { value: true }, register: { value: true }, 'evidence-key': { value: true }, signer: { value: true }, configs: { value: true }, [EVIDENCE_PASSPHRASE_OPTION]: { value: true } });
  if (a.options.help) {
    out(HELP);
    return 0;
  }
  const listen = stringOption(a, 'listen') ?? '127.0.0.1:7070';
  const storeDir = stringOption(a, 'store');
  const identityDir = stringOption(a, 'identity');
  if (!storeDir || !identityDir) throw new BodycamError('E_USAGE', `--store and --identity are required\n${HELP}`);
  const m = /^(.*):(\d+)$/.exec(listen);
  if (!m) throw new BodycamError('E_USAGE', '--listen takes HOST:PORT');
  const [host, port] = [m[1], Number(m[2])];
  const json = a.options.json === true;
  const timeoutMs = positive(a, 'timeout', 3600) * 1000 || undefined;
  const maxSessions = positive(a, 'max-cameras', 100_000) || undefined;
  const firmwareDir = stringOption(a, 'firmware');
  const http = consoleAddress(stringOption(a, 'http'));
  const officers = readOfficers(stringOption(a, 'register'));
  const ed25519 = hostEd25519();
  const identity = loadDockIdentity(identityDir, ed25519);
  // The examiner console's evidence key: opened (and refused with its code) before anything is written.
  const keyFile = stringOption(a, 'evidence-key');
  if (keyFile !== undefined && !http) throw new BodycamError('E_USAGE', '--evidence-key is for the web console: give --http too');
  const evidenceKey = keyFile === undefined ? undefined : loadExaminerKey(keyFile, secretOption(a, process.env, EVIDENCE_PASSPHRASE_OPTION, EVIDENCE_PASSPHRASE_ENV));
  // The console's export signer: checked against the dock's pinned agency root before anything is written.
  const signerDir = stringOption(a, 'signer');
  if (signerDir !== undefined && !http) throw new BodycamError('E_USAGE', '--signer signs the web console\'s MP4 exports: give --http too');
  const exportSigner = signerDir === undefined ? undefined : { identity: loadSignerIdentity(signerDir, identity.rootKey, ed25519), generator: { name: 'bodycam', version: version() } };
  // The settings, checked before anything is written: the firmware folder, the store's place.
  let shelf: FirmwareShelf | undefined;
  if (firmwareDir !== undefined) {
    if (!isFolder(firmwareDir)) throw new BodycamError('E_FIRMWARE_DIR', `--firmware ${firmwareDir} is not a folder that exists: give the folder of signed images (bodycam firmware sign), or leave --firmware out`);
    shelf = new FirmwareShelf(firmwareDir);
    const images = shelf.images();
    if (json) out(JSON.stringify({ event: 'firmware-shelf', dir: firmwareDir, images: images.map((i) => ({ file: i.file, version: i.version, board: i.board })) }));
    else {
      out(`firmware: ${images.length} signed image${images.length === 1 ? '' : 's'} in ${firmwareDir}${images.length ? '' : ' — no camera will be offered an update'}`);
      for (const i of images) out(`  ${i.board} ${i.version}  ${i.file}`);
    }
  }
  // The agency's signed configurations to push at docking (newest for the camera, if newer than it holds).
  const configsDir = stringOption(a, 'configs');
  let configs: ConfigShelf | undefined;
  if (configsDir !== undefined) {
    if (!isFolder(configsDir)) throw new BodycamError('E_CONFIG_DIR', `--configs ${configsDir} is not a folder that exists: give the agency's issued/ folder (bodycam provision config, bodycam provision evidence-key rotate), or leave --configs out`);
    configs = new ConfigShelf(configsDir, identity.rootKey, ed25519);
    const found = configs.configs();
    if (json) out(JSON.stringify({ event: 'config-shelf', dir: configsDir, configs: found.map((c) => ({ file: c.file, device: c.config.device, version: c.config.version })), skipped: configs.skipped }));
    else {
      out(`configurations: ${found.length} signed by the agency root in ${configsDir}${found.length ? '' : ' — none will be pushed'}`);
      for (const c of found) out(`  ${c.config.device} version ${c.config.version}  ${c.file}`);
      for (const s of configs.skipped) out(`  skipped ${s.file}: ${s.why}`);
    }
  }
  prepareStoreDir(storeDir);
  const lock = StoreLock.take(storeDir);
  try {
    return await serve(storeDir);
  } finally {
    lock.release();
  }

  async function serve(storeDir: string): Promise<number> {
    const live = new Map<string, string>();
    const board = new DockBoard({ officerOf: (d) => officers.get(d) });
    const tty = process.stderr.isTTY && !json;
    const render = () => {
      if (!tty) return;
      process.stderr.write(`\x1b[${live.size}A`);
      for (const line of live.values()) process.stderr.write(`\x1b[2K${line}\n`);
    };
    let central: ReturnType<typeof centralForwarder>;
    const station = new DockStation({
      identity,
      storeDir,
      ed25519,
      revocationsCose: identity.revocationsCose,
      rebuildIndex: a.options['rebuild-index'] === true,
      timeoutMs,
      maxSessions,
      onFault: (e) => out(json ? JSON.stringify({ event: 'fault', code: e.code, message: e.message }) : `STATION ${e.message}`),
      firmware: shelf,
      configFor: configs ? (device) => configs.newestFor(device)?.bytes : undefined,
      onProgress: (p) => {
        board.progress(p);
        if (json) out(JSON.stringify({ event: 'progress', ...p }));
        else if (tty) {
          const fresh = !live.has(p.session);
          live.set(p.session, progressLine(p));
          if (fresh) process.stderr.write('\n');
          render();
        }
      },
      onResult: (r: SessionResult) => {
        live.delete(r.session);
        board.result(r);
        central?.forwarder.kick();
        if (json) out(JSON.stringify({ event: 'session', ...r }));
        else out(`${r.device ?? 'unknown camera'}: ${r.ok ? 'done' : `FAILED ${r.code ?? ''} ${r.message ?? ''}`} — stored ${r.stored.length} segments, released ${r.released.length}${r.rejected.length ? `, rejected ${r.rejected.map((x) => `${x.seq} (${x.code})`).join(', ')}` : ''}`);
      },
    });
    if (station.rebuilt) {
      const r = station.rebuilt;
      out(json ? JSON.stringify({ event: 'index-rebuilt', ...r }) : `index rebuilt from the signed files: ${r.devices} cameras, ${r.segments} segments, ${r.receipts} receipts, ${r.custodyRows} custody rows kept; ${r.skipped.length} files left out${r.skipped.slice(0, 10).map((x) => `\n  ${x.file}: ${x.why}`).join('')}`);
    }
    let addr: Awaited<ReturnType<DockStation['listen']>>;
    try {
      addr = await station.listen(port, host);
    } catch (e) {
      await station.close();
      const be = asBodycamError(e);
      throw be.code === 'E_PORT_BUSY' ? new BodycamError('E_PORT_BUSY', `port ${port} on ${host} is in use by another program (another dock?): stop it, or give --listen another port`) : be;
    }
    let web: DockConsole | undefined;
    if (http) {
      web = new DockConsole({ store: station.store, dock: identity.id, trust: () => pinnedTrust(identity.rootKey, `the dock identity's agency root (${identityDir}/root.pub)`, identity.revocationsCose), ed25519, board, officerOf: (d) => officers.get(d), onError: (e) => process.stderr.write(`console: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`), evidenceKey, exportSigner });
      let at: Awaited<ReturnType<DockConsole['listen']>>;
      try {
        at = await web.listen(http.port, http.host);
      } catch (e) {
        await web.close();
        await station.close();
        const be = asBodycamError(e);
        throw be.code === 'E_PORT_BUSY' ? new BodycamError('E_PORT_BUSY', `port ${http.port} on ${http.host} (--http) is in use by another program: stop it, or give --http another port`) : be;
      }
      const loopback = isLoopback(at.address);
      const signer = exportSigner ? { subject: exportSigner.identity.checked.subject, serial: exportSigner.identity.checked.serial } : null;
      if (json) out(JSON.stringify({ event: 'console-listening', address: at.address, port: at.port, loopback, accounts: web.accounts.list().length, evidenceKey: web.view.evidenceKeyId, exportSigner: signer }));
      else {
        out(signer ? `console signs its MP4 exports with C2PA content credentials as ${signer.subject} (certificate ${signer.serial})` : 'console has no export signer (--signer DIR): its MP4 exports are UNSIGNED');
        out(web.view.evidenceKeyId ? `console holds evidence key ${web.view.evidenceKeyId}: examiners open sealed segments in memory, each opening in the custody log — an examiner's station only, never a dock at a docking bay` : 'console holds no evidence key: sealed segments show their verdict, not their pictures');
        out(`console on http://${at.address.includes(':') ? `[${at.address}]` : at.address}:${at.port}/ — ${loopback ? 'loopback only: reachable from this computer alone' : 'NOT LOOPBACK: anyone who can reach this address can try to sign in, over plain HTTP (no TLS)'}`);
        if (web.accounts.list().length === 0) out('console: no accounts yet — add one with `bodycam console add-account --store ' + storeDir + ' --name NAME --role operator|examiner --password-file FILE`');
      }
    }
    try {
      central = centralForwarder(a, { storeDir, station: identity.id, store: station.store, json, out });
    } catch (e) {
      await web?.close();
      await station.close();
      throw e;
    }
    // The stop handlers first: whoever reads "listening" may send SIGTERM at once.
    const stopped = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    if (json) out(JSON.stringify({ event: 'listening', address: addr.address, port: addr.port, dock: identity.id, store: storeDir }));
    else out(`dock ${identity.id} listening on ${addr.address}:${addr.port}, evidence in ${storeDir}`);
    await stopped;
    await central?.close();
    await web?.close();
    board.close();
    await station.close();
    // What to copy out of the store: the custody checkpoint that pins everything stored so far.
    const cp = newestCheckpoint(storeDir, new SafeReader());
    if (cp) out(json ? JSON.stringify({ event: 'custody-checkpoint', file: cp.file, entries: cp.size }) : `custody log: ${cp.size} entries, checkpoint ${cp.file} — copy it out of the store (bodycam verify --checkpoint, docs/custody-log.md)`);
    return 0;
  }
}

/** --http HOST:PORT, or PORT alone (on loopback). */
function consoleAddress(v: string | undefined): { host: string; port: number } | undefined {
  if (v === undefined) return undefined;
  const m = /^(?:(.*):)?(\d{1,5})$/.exec(v);
  const port = m ? Number(m[2]) : -1;
  if (!m || port > 65535) throw new BodycamError('E_USAGE', `--http takes HOST:PORT or PORT (e.g. 127.0.0.1:8080), not ${v}`);
  return { host: (m[1] ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1'), port };
}

/** The officer each camera is assigned to, from the armoury's register.json (--register). */
function readOfficers(path: string | undefined): Map<string, string> {
  const m = new Map<string, string>();
  if (path === undefined) return m;
  let cameras: unknown;
  try {
    cameras = (JSON.parse(readFileSync(path, 'utf8')) as { cameras?: unknown }).cameras;
  } catch (e) {
    throw new BodycamError('E_REGISTER_FORMAT', `--register ${path} can't be read as the armoury's register.json (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!cameras || typeof cameras !== 'object') throw new BodycamError('E_REGISTER_FORMAT', `--register ${path} has no cameras: give the armoury's register.json`);
  for (const [device, rec] of Object.entries(cameras)) {
    const officer = (rec as { officer?: unknown } | null)?.officer;
    if (typeof officer === 'string') m.set(device, officer);
  }
  return m;
}
