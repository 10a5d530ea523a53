// Netstrings (`<length>:<bytes>,`), the framing of xsnap-worker's pipes and of the MCU device's
// semihosted output: one parser for both.

import { BodycamError } from '../../firmware/errors.js';

const COMMA = 0x2c;
const COLON = 0x3a;
/** A length header and its colon fit in this many bytes (lengths are safe integers: at most 16 digits). */
const MAX_HEADER = 20;

export class NetstringReader {
  /** Bytes received and not yet returned, in the order they came (joined only once a message is whole). */
  #chunks: Buffer[] = [];
  #length = 0;
  /** The message being read: where its body starts and its whole length (header, body, comma), once its header is in. */
  #bodyAt = 0;
  #need = -1;
  /** `who` names the peer in errors ("xsnap-worker", "the device"); `code` is the error code. */
  constructor(readonly who: string, readonly code: string) {}
  /**
   * Every complete message the chunk finishes; throws (code) when the stream is not netstrings.
   * A message that spans many chunks is joined once, when its last byte arrives: the cost is
   * linear in its length, not quadratic (the reader used to join everything pending on every chunk).
   */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    if (chunk.length) {
      this.#chunks.push(chunk);
      this.#length += chunk.length;
    }
    for (;;) {
      if (this.#need < 0) {
        const head = this.#peek(MAX_HEADER);
        const colon = head.indexOf(COLON);
        if (colon < 0) {
          if (head.length >= MAX_HEADER) throw new BodycamError(this.code, `bad netstring length from ${this.who}`);
          break;
        }
        const digits = head.subarray(0, colon).toString('latin1');
        const len = Number(digits);
        if (!/^[0-9]+$/.test(digits) || !Number.isSafeInteger(len)) throw new BodycamError(this.code, `bad netstring length from ${this.who}`);
        this.#bodyAt = colon + 1;
        this.#need = colon + 1 + len + 1;
      }
      if (this.#length < this.#need) break;
      const whole = this.#take(this.#need);
      if (whole[this.#need - 1] !== COMMA) throw new BodycamError(this.code, `netstring from ${this.who} lacks its comma`);
      out.push(whole.subarray(this.#bodyAt, this.#need - 1));
      this.#need = -1;
    }
    return out;
  }

  /** Up to n bytes from the start, without consuming them. */
  #peek(n: number): Buffer {
    const first = this.#chunks[0];
    if (!first) return Buffer.alloc(0);
    if (first.length >= n || this.#chunks.length === 1) return first.subarray(0, n);
    return Buffer.concat(this.#chunks, Math.min(n, this.#length)).subarray(0, n);
  }

  /** The first n bytes, consumed: a view when one chunk holds them, else one join of the chunks they span. */
  #take(n: number): Buffer {
    const first = this.#chunks[0];
    let whole: Buffer;
    if (first.length >= n) {
      whole = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
    } else {
      const parts: Buffer[] = [];
      let got = 0;
      while (got < n) {
        const c = this.#chunks[0];
        const k = Math.min(c.length, n - got);
        parts.push(k === c.length ? c : c.subarray(0, k));
        if (k === c.length) this.#chunks.shift();
        else this.#chunks[0] = c.subarray(k);
        got += k;
      }
      whole = Buffer.concat(parts, n);
    }
    this.#length -= n;
    return whole;
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
