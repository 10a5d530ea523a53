// Drives Moddable's XS engine as the `xsnap-worker` process that @agoric/xsnap builds on
// `npm install`, directly over its netstring pipes (fd 3: to the worker, fd 4: from it), so the
// Node process needs neither SES nor @agoric/xsnap's API.
//
// Worker protocol (xsnap-worker.c): we send `e<source>` (evaluate), `s<path>` (run a script
// file) or `?<bytes>` (call globalThis.handleCommand(ArrayBuffer)). While it runs, the worker
// may send `?<bytes>` (globalThis.issueCommand from inside XS, which blocks until we answer
// `/<bytes>`). It ends each request with `.{meter JSON}\x01<reply>` or `!<error text>`. The
// meter counts XS compute units for that request only: deterministic, machine-independent.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { BodycamError } from '../../firmware/errors.js';
import { Mailbox, NetstringReader, serveRequest } from './netstring.js';

export interface Meter {
  /** XS compute units spent by this request (0 where the engine is built without a meter). */
  compute: number;
  /** Bytes of heap the machine has allocated (chunks), after the request. */
  allocate: number;
  /** Slots in use in the heap, after the request. */
  currentHeapCount: number;
  /** The moddable engine's machine (fixed heaps, as on the camera): peaks during the request and the creation's maximums. */
  chunksPeak?: number;
  chunksMax?: number;
  slotsPeak?: number;
  slotsMax?: number;
  /** moddable: where the live chunk bytes are. */
  split?: { strings: number; arrays: number; buffers: number; other: number };
}

export interface XsReply {
  reply: Uint8Array;
  meter: Meter;
}

export interface XsWorkerOptions {
  /** Answers issueCommand() calls made inside XS. */
  onQuery: (message: Uint8Array) => Uint8Array;
  /** Compute units one request may spend before the worker aborts it (default 4e9, the cap). */
  meteringLimit?: number;
  /** Where the worker's print() and stderr go (default: this process's stderr). */
  stdout?: 'inherit' | 'ignore';
  binary?: string;
}

/** The xsnap-worker binary built by @agoric/xsnap's postinstall. */
export function xsnapWorkerPath(): string {
  const require = createRequire(import.meta.url);
  let root: string;
  try {
    root = dirname(require.resolve('@agoric/xsnap/package.json'));
  } catch {
    throw new BodycamError('E_XS_MISSING', '@agoric/xsnap is not installed; run `npm ci` in the bodycam folder');
  }
  const os = process.platform === 'darwin' ? 'mac' : 'lin';
  return join(root, 'xsnap-native', 'xsnap', 'build', 'bin', os, 'release', 'xsnap-worker');
}

export class XsWorker {
  #child: ChildProcess;
  #toWorker: Writable;
  #netstrings = new NetstringReader('xsnap-worker', 'E_XS_PROTOCOL');
  #mail = new Mailbox();
  #onQuery: (message: Uint8Array) => Uint8Array;
  #busy: Promise<unknown> = Promise.resolve();
  #stderr = '';

  private constructor(child: ChildProcess, onQuery: (m: Uint8Array) => Uint8Array) {
    this.#child = child;
    this.#onQuery = onQuery;
    const stdio = child.stdio as unknown as [null, Readable | null, Readable | null, Writable, Readable];
    this.#toWorker = stdio[3];
    stdio[4].on('data', (chunk: Buffer) => this.#receive(chunk));
    stdio[2]?.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-4000);
      process.stderr.write(chunk);
    });
    this.#toWorker.on('error', () => {});
    child.on('exit', (code, signal) => {
      this.#mail.fail(new BodycamError('E_XS_EXITED', `xsnap-worker exited (${signal ?? `code ${code}`})${this.#stderr ? `: ${this.#stderr.trim()}` : ''}`));
    });
  }

  static start(options: XsWorkerOptions): XsWorker {
    const bin = options.binary ?? xsnapWorkerPath();
    if (!existsSync(bin)) {
      throw new BodycamError(
        'E_XS_MISSING',
        `the XS engine binary is missing (${bin}). @agoric/xsnap builds it during install with make and gcc: ` +
          'install them (Debian: apt-get install build-essential) and run `npm rebuild @agoric/xsnap`',
      );
    }
    const limit = Math.min(options.meteringLimit ?? 4e9, 4e9);
    const child = spawn(bin, ['bodycam-xs', '-l', String(Math.floor(limit))], {
      stdio: ['ignore', options.stdout ?? 'inherit', 'pipe', 'pipe', 'pipe', 'ignore', 'ignore', 'ignore', 'ignore'],
    });
    return new XsWorker(child, options.onQuery);
  }

  #receive(chunk: Buffer): void {
    try {
      this.#mail.push(...this.#netstrings.push(chunk));
    } catch (e) {
      this.#mail.fail(e as Error);
      this.#child.kill();
    }
  }

  #send(prefix: string, body: Uint8Array): void {
    const head = Buffer.from(`${prefix.length + body.length}:${prefix}`, 'latin1');
    this.#toWorker.write(Buffer.concat([head, body, Buffer.from(',')]));
  }

  /** One request, run to completion, answering the worker's queries on the way. */
  #request(prefix: string, body: Uint8Array): Promise<XsReply> {
    const run = async (): Promise<XsReply> => {
      if (this.#mail.failed) throw this.#mail.failed;
      this.#send(prefix, body);
      return serveRequest(this.#mail, {
        onQuery: (m) => this.#onQuery(m),
        send: (p, b) => this.#send(p, b),
        ok: (m) => {
          const sep = m.indexOf(1);
          const j = JSON.parse(m.subarray(1, sep).toString('utf8')) as Meter;
          const reply = new Uint8Array(m.subarray(sep + 1));
          const meter: Meter = { compute: j.compute, allocate: j.allocate, currentHeapCount: j.currentHeapCount };
          if (j.chunksMax !== undefined) Object.assign(meter, { chunksPeak: j.chunksPeak, chunksMax: j.chunksMax, slotsPeak: j.slotsPeak, slotsMax: j.slotsMax, split: j.split });
          return { reply, meter };
        },
        error: (text) =>
          /too much computation/i.test(text)
            ? new BodycamError('E_XS_METER', `XS request exceeded its compute limit: ${text}`)
            : /^XS abort: not enough memory/.test(text)
              ? new BodycamError('E_XS_OUT_OF_MEMORY', `the machine ran out of its fixed heap and stopped, as a camera would reset: ${text}`)
              : /^XS abort:/.test(text)
                ? new BodycamError('E_XS_ABORT', `the machine stopped: ${text}`)
                : new BodycamError('E_XS_EXCEPTION', `uncaught exception in XS: ${text}`),
        unknown: (m) => {
          this.#child.kill();
          return new BodycamError('E_XS_PROTOCOL', `unknown message from xsnap-worker: ${m.subarray(0, 40).toString('latin1')}`);
        },
      });
    };
    const result = this.#busy.then(run, run);
    this.#busy = result.catch(() => undefined);
    return result;
  }

  /** Evaluate a script in the global scope. */
  evaluate(source: string): Promise<XsReply> {
    return this.#request('e', Buffer.from(source, 'utf8'));
  }

  /** Run a script file (faster than evaluate for big bundles: no copy through the pipe). */
  runScript(path: string): Promise<XsReply> {
    return this.#request('s', Buffer.from(path, 'utf8'));
  }

  /** Call globalThis.handleCommand(bytes) in XS; its ArrayBuffer result is the reply. */
  command(bytes: Uint8Array): Promise<XsReply> {
    return this.#request('?', bytes);
  }

  get exited(): boolean {
    return this.#mail.failed !== undefined;
  }

  async close(): Promise<void> {
    if (this.#mail.failed) return;
    const done = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    this.#toWorker.end();
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 2000);
    await done;
    clearTimeout(timer);
  }
}
