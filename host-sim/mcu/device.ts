// The emulated microcontroller: QEMU's mps2-an500 (Cortex-M7) running the bare-metal XS host
// (host.c), driven over ARM semihosting with `target=native`: the device writes netstrings to
// QEMU's stdout; each message to the device is written to a file it reads through semihosting,
// announced by one byte on QEMU's stdin, so the device's receiving costs the same instructions
// whatever the pipe's timing. The protocol is xsnap-worker's (host-sim/xs/worker.ts): netstrings, `e` to
// evaluate, `?` to call handleCommand, `?`/`/` for issueCommand from inside, `.meter\x01reply` or
// `!error` to end a request; plus `p` (device output), `x` (fatal report: the device has exited),
// `h` (set the heap ceiling) and `k` (calibrate the instruction counter).
//
// With `-icount shift=0,sleep=off` QEMU executes one instruction per virtual nanosecond and the
// board's 25 MHz FPGA counter ticks every 40 instructions, so instruction counts are exact to 40
// and identical from run to run: the clock does not move while the device waits for the host.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Mailbox, NetstringReader, serveRequest } from '../xs/netstring.js';
import { BodycamError } from '../../firmware/errors.js';
import { repoRoot } from '../xs/bundle.js';

/** QEMU runs one instruction per 2^shift ns; the FPGA counter ticks at 25 MHz (40 ns). */
export const ICOUNT_SHIFT = 0;
export const INSTRUCTIONS_PER_TICK = 40 / 2 ** ICOUNT_SHIFT;

export interface McuMeter {
  /** Instructions the device executed for this request (a multiple of 40). */
  instructions: number;
  /** Bytes of heap allocated when the request ended (XS chunks and slots, bridge buffers). */
  heapInUse: number;
  /** Most bytes allocated at once during this request. */
  heapPeak: number;
  /** Most bytes allocated at once since the device booted (bundle parsing included). */
  heapPeakEver: number;
  heapCeiling: number;
  /** Most bytes the C heap ever took from the board RAM (allocator overhead and fragmentation included). */
  footprint: number;
  /** XS chunk bytes and slot count in use. */
  chunks: number;
  slots: number;
  /** Of heapInUse, bytes of bytecode (a device build keeps it in flash; here it was parsed into RAM). */
  code: number;
}

export interface McuReply {
  reply: Uint8Array;
  meter: McuMeter;
}

export interface McuDeviceOptions {
  /** Answers issueCommand() calls made inside XS. */
  onQuery: (message: Uint8Array) => Uint8Array;
  /** Heap ceiling in bytes while the device boots and parses the bundle (default 14 MiB of the board's 16: parsing the whole bundle peaked at 12.6 MiB in December 2026). */
  bootHeapCeiling?: number;
  /** Where device output (print, C library) goes (default: this process's stderr). */
  onOutput?: (text: string) => void;
  /** Wall-clock watchdog per request, ms (default 10 min): kills QEMU rather than hang. */
  watchdogMs?: number;
  elf?: string;
  qemu?: string;
}

const MCU_DIR = join(repoRoot, 'host-sim', 'mcu');

/** The device image that `npm run build:mcu` (make -C host-sim/mcu) produces. */
export function mcuElfPath(): string {
  return join(repoRoot, 'dist', 'mcu', 'bodycam-mcu.elf');
}

let built: string | undefined;

/**
 * Build the device image if needed (make is a no-op when it is up to date). Installs nothing:
 * the cross compiler comes from Debian's gcc-arm-none-eabi and libnewlib-arm-none-eabi.
 */
export function ensureMcuImage(): string {
  if (built) return built;
  const elf = mcuElfPath();
  const cc = spawnSync('arm-none-eabi-gcc', ['--version'], { encoding: 'utf8' });
  if (cc.error) {
    if (existsSync(elf)) return (built = elf);
    throw new BodycamError(
      'E_MCU_TOOLCHAIN',
      'arm-none-eabi-gcc is not installed, so the MCU image cannot be built: install Debian\'s gcc-arm-none-eabi, libnewlib-arm-none-eabi and qemu-system-arm (.ci/run does), then `npm run build:mcu`',
    );
  }
  const make = spawnSync('make', ['-s', '-C', MCU_DIR, '-j2'], { encoding: 'utf8' });
  if (make.status !== 0 || !existsSync(elf)) {
    throw new BodycamError('E_MCU_BUILD', `building the MCU image failed (make -C host-sim/mcu): ${(make.stderr || make.stdout || String(make.error)).trim().slice(-2000)}`);
  }
  return (built = elf);
}

interface Fatal {
  reason: string;
  heapCeiling: number;
  heapInUse: number;
  heapPeak: number;
  refused: number;
}

function fatalError(f: Fatal): BodycamError {
  if (f.reason === 'out of memory') {
    return new BodycamError(
      'E_MCU_OUT_OF_MEMORY',
      `the device ran out of memory: a request for ${f.refused} bytes would pass the heap ceiling of ${f.heapCeiling} bytes (${f.heapInUse} in use, peak ${f.heapPeak}); the device has stopped`,
    );
  }
  return new BodycamError('E_MCU_FATAL', `the device stopped: ${f.reason} (heap ${f.heapInUse} of ${f.heapCeiling} bytes in use)`);
}

export class McuDevice {
  #child: ChildProcess;
  #netstrings = new NetstringReader('the device', 'E_MCU_PROTOCOL');
  #mail = new Mailbox();
  #options: McuDeviceOptions;
  #busy: Promise<unknown> = Promise.resolve();
  #stderr = '';
  #dir: string;
  /** The meter the device sent once its empty machine was ready. */
  readonly booted: Promise<McuMeter>;

  private constructor(child: ChildProcess, dir: string, options: McuDeviceOptions) {
    this.#child = child;
    this.#dir = dir;
    this.#options = options;
    child.stdout!.on('data', (chunk: Buffer) => this.#receive(chunk));
    child.stderr!.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-4000);
    });
    child.stdin!.on('error', () => {});
    child.on('error', (e) => this.#fail(new BodycamError('E_MCU_QEMU', `qemu-system-arm could not start (${e.message}): install Debian's qemu-system-arm`)));
    child.on('exit', (code, signal) => {
      rmSync(dir, { recursive: true, force: true });
      this.#fail(new BodycamError('E_MCU_EXITED', `the emulated device exited (${signal ?? `code ${code}`})${this.#stderr ? `: ${this.#stderr.trim()}` : ''}`));
    });
    this.booted = this.#request(async () => {
      const m = await this.#mail.next();
      if (m[0] !== 0x2e) throw new BodycamError('E_MCU_PROTOCOL', `unexpected boot message ${m.subarray(0, 40).toString('latin1')}`);
      return this.#parseOkay(m).meter;
    });
  }

  static start(options: McuDeviceOptions): McuDevice {
    const elf = options.elf ?? ensureMcuImage();
    const ceiling = Math.floor(options.bootHeapCeiling ?? 14 * 1024 * 1024);
    const dir = mkdtempSync(join(tmpdir(), 'bodycam-mcu-'));
    if (/[\s,]/.test(dir)) throw new BodycamError('E_MCU_TMPDIR', `the temporary folder ${dir} has a space or comma, which QEMU's semihosting arguments cannot carry; set TMPDIR`);
    const args = [
      '-M', 'mps2-an500', '-nodefaults', '-display', 'none', '-serial', 'none', '-monitor', 'none', '-nic', 'none',
      '-semihosting-config', `enable=on,target=native,arg=bodycam-mcu,arg=${ceiling},arg=${INSTRUCTIONS_PER_TICK},arg=${join(dir, 'message')}`,
      '-icount', `shift=${ICOUNT_SHIFT},sleep=off`,
      '-kernel', elf,
    ];
    const child = spawn(options.qemu ?? 'qemu-system-arm', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    return new McuDevice(child, dir, options);
  }

  #fail(e: Error): void {
    this.#mail.fail(e);
  }

  #receive(chunk: Buffer): void {
    let messages: Buffer[];
    try {
      messages = this.#netstrings.push(chunk);
    } catch (e) {
      this.#fail(e as Error);
      this.#child.kill();
      messages = [];
    }
    for (const m of messages) {
      if (m[0] === 0x70 /* p */) {
        const text = m.subarray(1).toString('utf8');
        if (this.#options.onOutput) this.#options.onOutput(text);
        else process.stderr.write(text);
      } else if (m[0] === 0x78 /* x */) {
        this.#fail(fatalError(JSON.parse(m.subarray(1).toString('utf8')) as Fatal));
      } else {
        this.#mail.push(m);
      }
    }
  }

  #send(prefix: string, body: Uint8Array): void {
    writeFileSync(join(this.#dir, 'message'), Buffer.concat([Buffer.from(prefix, 'latin1'), body]));
    this.#child.stdin!.write('m');
  }

  #parseOkay(m: Buffer): McuReply {
    const sep = m.indexOf(1);
    const meter = JSON.parse(m.subarray(1, sep).toString('utf8')) as McuMeter;
    return { reply: new Uint8Array(m.subarray(sep + 1)), meter };
  }

  /** Requests run one at a time, in order; a watchdog kills a device that stops answering. */
  #request<T>(run: () => Promise<T>): Promise<T> {
    const guarded = async (): Promise<T> => {
      if (this.#mail.failed) throw this.#mail.failed;
      const ms = this.#options.watchdogMs ?? 600_000;
      const timer = setTimeout(() => {
        this.#fail(new BodycamError('E_MCU_WATCHDOG', `the device did not answer within ${ms} ms; it was stopped`));
        this.#child.kill('SIGKILL');
      }, ms);
      try {
        return await run();
      } finally {
        clearTimeout(timer);
      }
    };
    const result = this.#busy.then(guarded, guarded);
    this.#busy = result.catch(() => undefined);
    return result;
  }

  #exchange(prefix: string, body: Uint8Array): Promise<McuReply> {
    return this.#request(async () => {
      this.#send(prefix, body);
      return serveRequest(this.#mail, {
        onQuery: (m) => this.#options.onQuery(m),
        send: (p, b) => this.#send(p, b),
        ok: (m) => this.#parseOkay(m),
        error: (text) => new BodycamError('E_MCU_EXCEPTION', `uncaught exception in XS on the device: ${text}`),
        unknown: (m) => {
          this.#child.kill();
          return new BodycamError('E_MCU_PROTOCOL', `unknown message from the device: ${m.subarray(0, 40).toString('latin1')}`);
        },
      });
    });
  }


  /** Evaluate a program (the guest bundle) on the device; XS parses it there. */
  evaluate(source: string): Promise<McuReply> {
    return this.#exchange('e', Buffer.from(source, 'utf8'));
  }

  /** Call globalThis.handleCommand(bytes) on the device. */
  command(bytes: Uint8Array): Promise<McuReply> {
    return this.#exchange('?', bytes);
  }

  /** Set the heap ceiling (bytes) from now on. */
  setHeapCeiling(bytes: number): Promise<McuReply> {
    return this.#exchange('h', Buffer.from(String(Math.floor(bytes)), 'latin1'));
  }

  /** Run a loop of 2,000,000 instructions on the device; returns the counter ticks it took. */
  async calibrate(): Promise<{ loopInstructions: number; ticks: number }> {
    const r = await this.#exchange('k', new Uint8Array(0));
    return r.meter as unknown as { loopInstructions: number; ticks: number };
  }

  get exited(): boolean {
    return this.#mail.failed !== undefined;
  }

  async close(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const done = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    if (!this.#mail.failed) this.#send('q', new Uint8Array(0));
    this.#child.stdin!.end();
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 2000);
    await done;
    clearTimeout(timer);
  }
}
