// `bodycam dock forward --from DIR --store s3://BUCKET[/PREFIX] --db URL`: forward a station's
// store (a dead dock PC's disk) to the central store, once, and say what went. Also the options
// `bodycam dock` takes to forward in the background (--central, --db, --s3-endpoint, --prune).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BodycamError, errorCode, errorMessage } from '../firmware/errors.js';
import { centralConfig, centralUrl } from '../evidence/central/central.js';
import { CentralStore } from '../dock-station/central/central-store.js';
import { Forwarder, type ForwardEvent, type ForwardReport } from '../dock-station/central/forward.js';
import type { EvidenceStore } from '../dock-station/store.js';
import { parseArgs, stringOption } from './args.js';

export const CENTRAL_HELP = `Central store (docs/central-store.md): objects in an S3 object store, index and custody logs in
PostgreSQL. --db postgres://USER@HOST:PORT/DB (or BODYCAM_CENTRAL_DB; a password only in
PGPASSWORD); the object store's keys only in AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY;
--s3-endpoint http://HOST:PORT (or AWS_ENDPOINT_URL_S3) for a server other than the SDK's default.`;

const HELP = `usage: bodycam dock forward --from DIR --store s3://BUCKET[/PREFIX] --db URL [--station ID]
                           [--s3-endpoint URL] [--retain-days N] [--part-mib N] [--json]

Forward a dock station's store to the central store: every file of its evidence tree (each object
stored once under its SHA-256 and read back to check it), its custody log up to its newest signed
checkpoint (each entry with its inclusion proof), and its segments into the central index. Safe
to run again, and on a store that another station's forwarding was cut off in the middle of:
only what the central store lacks is sent. DIR is only read (a dead station's disk; no lock taken
if the station is not running). --station names the station when DIR holds more than one dock
certificate. --retain-days: object-lock retention where the bucket supports it (2557).
--part-mib: objects larger than N MiB go up in parts of N MiB (16; at least 5).
${CENTRAL_HELP}
Exit status 0 when everything went; 3 when the central store could not be reached (nothing is
lost: run it again).`;

export function describeReport(r: ForwardReport): string {
  return `${r.station}: ${r.files} files (${r.sent} sent, ${r.uploaded} uploaded, ${(r.bytesUploaded / 1048576).toFixed(1)} MiB), custody log ${r.logSize} entries (+${r.leaves}), ${r.segments} segments indexed${r.aborted ? `, ${r.aborted} interrupted uploads aborted` : ''}${r.pruned ? `, ${r.pruned} local media pruned` : ''} in ${(r.ms / 1000).toFixed(1)} s`;
}

function retainDays(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 36500) throw new BodycamError('E_USAGE', '--retain-days takes a whole number of days from 1 to 36500');
  return n;
}

export async function forwardCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const a = parseArgs(argv, { from: { value: true }, store: { value: true }, db: { value: true }, station: { value: true }, 's3-endpoint': { value: true }, 'retain-days': { value: true }, 'part-mib': { value: true }, json: {}, help: {} });
  if (a.options.help) {
    out(HELP);
    return 0;
  }
  const from = stringOption(a, 'from');
  const store = stringOption(a, 'store');
  if (!from || !store) throw new BodycamError('E_USAGE', `--from DIR and --store s3://… are required\n${HELP}`);
  if (!existsSync(join(from, 'index.sqlite'))) throw new BodycamError('E_STORE_PATH', `${from} is not a dock station's store (no index.sqlite)`);
  const config = centralConfig({ store, db: stringOption(a, 'db'), endpoint: stringOption(a, 's3-endpoint') });
  const json = a.options.json === true;
  const partMib = stringOption(a, 'part-mib');
  if (partMib !== undefined && !(Number.isInteger(Number(partMib)) && Number(partMib) >= 5 && Number(partMib) <= 4096)) throw new BodycamError('E_USAGE', '--part-mib takes a whole number of MiB from 5 to 4096');
  const part = partMib === undefined ? undefined : Number(partMib) * 1048576;
  const central = new CentralStore(config, { retainDays: retainDays(stringOption(a, 'retain-days')), multipartThreshold: part, partSize: part });
  const forwarder = new Forwarder({
    storeDir: from,
    central,
    station: stringOption(a, 'station'),
    onEvent: (e) => {
      if (json && e.event === 'forward-file') out(JSON.stringify(e));
    },
  });
  try {
    const r = await forwarder.pass();
    out(json ? JSON.stringify({ event: 'forward-pass', store: centralUrl(config), ...r }) : `forwarded to ${centralUrl(config)}: ${describeReport(r)}`);
    return 0;
  } finally {
    await central.close();
  }
}

/** `bodycam dock --central s3://… --db URL`: forward in the background after every docking. */
export function centralForwarder(
  a: ReturnType<typeof parseArgs>,
  o: { storeDir: string; station: string; store: EvidenceStore; json: boolean; out: (line: string) => void },
): { forwarder: Forwarder; close(): Promise<void> } | undefined {
  const url = stringOption(a, 'central');
  if (url === undefined) {
    if (a.options.prune) throw new BodycamError('E_USAGE', '--prune needs --central (only what the central store holds verified is pruned)');
    return undefined;
  }
  const config = centralConfig({ store: url, db: stringOption(a, 'db'), endpoint: stringOption(a, 's3-endpoint') });
  const central = new CentralStore(config, { retainDays: retainDays(stringOption(a, 'retain-days')) });
  const say = (e: ForwardEvent) => {
    if (e.event === 'forward-file') return;
    if (o.json) o.out(JSON.stringify(e));
    else if (e.event === 'forward-pass') o.out(`forwarded to ${centralUrl(config)}: ${describeReport(e as unknown as ForwardReport)}`);
    else o.out(`forwarding to ${centralUrl(config)} failed (${String(e.code)}: ${String(e.message)}); retrying in ${Math.round(Number(e.inMs) / 1000)} s — the station keeps everything meanwhile`);
  };
  const forwarder = new Forwarder({ storeDir: o.storeDir, central, station: o.station, prune: a.options.prune === true, store: o.store, onEvent: say });
  forwarder.start();
  return {
    forwarder,
    close: async () => {
      await forwarder.stop();
      await central.close().catch((e: unknown) => o.out(o.json ? JSON.stringify({ event: 'fault', code: errorCode(e), message: errorMessage(e) }) : `central store: ${errorMessage(e)}`));
    },
  };
}
