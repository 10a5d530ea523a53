// The central store's real engines for a test file: a single-node Ceph cluster with the RADOS
// gateway and a PostgreSQL server, made under a temporary folder by toolchain/central-servers.sh
// and torn down after. Where they are not installed the tests are skipped — unless
// BODYCAM_CENTRAL=required (as .ci/run sets it), where that is a failure.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../host-sim/xs/bundle.js';
import type { CentralConfig } from '../../evidence/central/central.js';

const SCRIPT = join(repoRoot, 'toolchain', 'central-servers.sh');

/** Whether the servers can be started here; throws when they must be and can't. */
export function centralAvailable(): boolean {
  const ok = spawnSync('bash', [SCRIPT, 'check']).status === 0;
  if (!ok && process.env.BODYCAM_CENTRAL === 'required') throw new Error('BODYCAM_CENTRAL=required, but Ceph (ceph-mon, ceph-osd, radosgw) or PostgreSQL is not installed: .ci/run installs them');
  return ok;
}

export interface CentralServers {
  env: Record<string, string>;
  /** A central store: a bucket and a database of its own, both named `bucket`. */
  config(bucket: string, o?: { endpoint?: string; requestTimeoutMs?: number }): CentralConfig;
  /** The environment a `bodycam` child needs for the object store's keys. */
  childEnv(): NodeJS.ProcessEnv;
  restartPostgres(): void;
  stop(): void;
}

export function startCentralServers(): CentralServers {
  const dir = mkdtempSync(join(tmpdir(), 'bodycam-central-servers-'));
  rmSync(dir, { recursive: true });
  const r = spawnSync('bash', [SCRIPT, 'start', dir], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) {
    spawnSync('bash', [SCRIPT, 'stop', dir]);
    throw new Error(`central-servers.sh start failed (${r.status}): ${r.stderr}`);
  }
  // Torn down even when the test process ends without its after hook (a timeout, an uncaught error).
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    spawnSync('bash', [SCRIPT, 'stop', dir], { timeout: 60_000 });
  };
  process.once('exit', stop);
  const databases = new Set<string>();
  const env = Object.fromEntries(r.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  return {
    env,
    config: (bucket, o = {}) => {
      const database = env.PG_URL.replace(/\/bodycam$/, `/${bucket}`);
      if (!databases.has(bucket)) {
        const r = spawnSync(join(env.PG_BIN, 'psql'), [env.PG_URL, '-q', '-c', `CREATE DATABASE "${bucket}"`], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`CREATE DATABASE ${bucket}: ${r.stderr}`);
        databases.add(bucket);
      }
      return { bucket, prefix: '', endpoint: o.endpoint ?? env.S3_ENDPOINT, region: 'us-east-1', accessKeyId: env.S3_ACCESS_KEY, secretAccessKey: env.S3_SECRET_KEY, database, requestTimeoutMs: o.requestTimeoutMs };
    },
    childEnv: () => ({ ...process.env, AWS_ACCESS_KEY_ID: env.S3_ACCESS_KEY, AWS_SECRET_ACCESS_KEY: env.S3_SECRET_KEY, AWS_ENDPOINT_URL_S3: env.S3_ENDPOINT }),
    restartPostgres: () => {
      const asUser = process.getuid?.() === 0 ? ['runuser', '-u', env.PG_USER, '--'] : [];
      const p = spawnSync(asUser[0] ?? join(env.PG_BIN, 'pg_ctl'), [...asUser.slice(1), ...(asUser.length ? [join(env.PG_BIN, 'pg_ctl')] : []), '-D', env.PG_DATA, '-l', join(env.PG_DATA, '..', 'postgres.log'), '-m', 'fast', '-w', 'restart'], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'ignore', 'pipe'] });
      if (p.status !== 0) throw new Error(`pg_ctl restart failed: ${p.stderr}`);
    },
    stop,
  };
}

/**
 * A TCP proxy on loopback in front of a server, whose behaviour a test switches: 'pass' relays,
 * 'refuse' resets each connection at once, 'stall' accepts and never answers.
 */
export class TcpProxy {
  mode: 'pass' | 'refuse' | 'stall' = 'pass';
  connections = 0;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  constructor(readonly target: { host: string; port: number }) {
    this.#server = createServer((client) => {
      this.connections++;
      this.#sockets.add(client);
      client.on('close', () => this.#sockets.delete(client));
      client.on('error', () => undefined);
      if (this.mode === 'refuse') return void client.resetAndDestroy();
      if (this.mode === 'stall') return;
      const upstream = connect(target.port, target.host);
      this.#sockets.add(upstream);
      upstream.on('close', () => this.#sockets.delete(upstream));
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      client.pipe(upstream).pipe(client);
    });
  }
  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const a = this.#server.address() as { port: number };
    return `http://127.0.0.1:${a.port}`;
  }
  /** Cut every open connection (a server that went away). */
  cut(): void {
    for (const s of this.#sockets) s.destroy();
  }
  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
