// Netstrings (`<length>:<bytes>,`), the framing of xsnap-worker's pipes and of the MCU device's
// semihosted output: one parser for both.

import { BodycamError } from '../../firmware/errors.js';

const COMMA = 0x2c;
const COLON = 0x3a;

export class NetstringReader {
  #pending: Buffer = Buffer.alloc(0);
  /** `who` names the peer in errors ("xsnap-worker", "the device"); `code` is the error code. */
  constructor(readonly who: string, readonly code: string) {}
  /** Every complete message the chunk finishes; throws (code) when the stream is not netstrings. */
  push(chunk: Buffer): Buffer[] {
    this.#pending = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    const out: Buffer[] = [];
    for (;;) {
      const colon = this.#pending.indexOf(COLON);
      if (colon < 0) break;
      const len = Number(this.#pending.subarray(0, colon).toString('latin1'));
      if (!Number.isSafeInteger(len)) throw new BodycamError(this.code, `bad netstring length from ${this.who}`);
      if (this.#pending.length < colon + 1 + len + 1) break;
      if (this.#pending[colon + 1 + len] !== COMMA) throw new BodycamError(this.code, `netstring from ${this.who} lacks its comma`);
      out.push(this.#pending.subarray(colon + 1, colon + 1 + len));
      this.#pending = this.#pending.subarray(colon + 1 + len + 1);
    }
    return out;
  }
}

/** Messages from a child process, awaited in order; once it fails, every wait throws why. */
export class Mailbox {
  #messages: Buffer[] = [];
  #wake: (() => void) | undefined;
  #failed: Error | undefined;
  push(...messages: Buffer[]): void {
    this.#messages.push(...messages);
    this.#wake?.();
  }
  /** The first failure sticks (a later one is usually its consequence). */
  fail(e: Error): void {
    this.#failed ??= e;
    this.#wake?.();
  }
  get failed(): Error | undefined {
    return this.#failed;
  }
  async next(): Promise<Buffer> {
    for (;;) {
      const m = this.#messages.shift();
      if (m) return m;
      if (this.#failed) throw this.#failed;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }
}

export interface ServeOptions<T> {
  /** Answer a query the guest made through issueCommand (the bridge). */
  onQuery: (message: Uint8Array) => Uint8Array;
  /** Send one netstring to the guest. */
  send: (prefix: string, body: Uint8Array) => void;
  /** The request's `.` reply (meter, then \x01, then the result). */
  ok: (message: Buffer) => T;
  /** The request's `!` reply: an exception in XS. */
  error: (text: string) => Error;
  /** Anything else: the stream can't be trusted. */
  unknown: (message: Buffer) => Error;
}

/** Run one request to its reply, answering the guest's queries (`?` → `/`) on the way. */
export async function serveRequest<T>(mail: Mailbox, o: ServeOptions<T>): Promise<T> {
  for (;;) {
    const m = await mail.next();
    const kind = m[0];
    if (kind === 0x3f /* ? */) {
      let answer: Uint8Array;
      try {
        answer = o.onQuery(new Uint8Array(m.buffer, m.byteOffset + 1, m.length - 1));
      } catch (e) {
        // The bridge encodes port errors itself; reaching here is a host bug. Answer something
        // so the guest is not left blocked, then report.
        o.send('/', new Uint8Array(0));
        throw e;
      }
      o.send('/', answer);
    } else if (kind === 0x2e /* . */) {
      return o.ok(m);
    } else if (kind === 0x21 /* ! */) {
      throw o.error(m.subarray(1).toString('utf8'));
    } else {
      throw o.unknown(m);
    }
  }
}
