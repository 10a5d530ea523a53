// The Link port over real TCP (node:net), as `embedded:io/socket/tcp` behaves on a camera:
// onReadable(count) when bytes arrive, read() to take them, write() to queue, onError on a cut.
// Faults for tests: cut the connection after N bytes sent or received, flip a byte in flight.

import { Socket, connect } from 'node:net';
import { BodycamError } from '../../firmware/errors.js';
import { toBytes, type BufferLike } from '../../firmware/platform/buffers.js';
import type { Link, LinkOptions } from '../../firmware/platform/link.js';

export interface LinkFaults {
  /** Destroy the socket once this many bytes have been written by the camera. */
  cutAfterSent?: number;
  /** Destroy the socket once this many bytes have been received. */
  cutAfterReceived?: number;
  /** Flip the low bit of the received byte at this stream offset. */
  corruptReceivedAt?: number;
  /** Flip the low bit of the sent byte at this stream offset. */
  corruptSentAt?: number;
  /** Filled with the stream offset after every write (frame boundaries, for cut sweeps). */
  sentBoundaries?: number[];
}

/** Observers the simulator uses to know when to deliver callbacks (engine.pump()). */
export interface LinkActivity {
  onActivity(): void;
}

export class TcpLink implements Link {
  #socket: Socket;
  #inbox: Buffer[] = [];
  #inboxBytes = 0;
  #sent = 0;
  #received = 0;
  #options: LinkOptions;
  #faults: LinkFaults;
  #activity: LinkActivity | undefined;
  #closed = false;
  #error: string | undefined;

  constructor(options: LinkOptions, faults: LinkFaults = {}, activity?: LinkActivity) {
    if (!options.port) throw new BodycamError('E_LINK_CONFIG', 'a TCP link needs a port');
    this.#options = options;
    this.#faults = faults;
    this.#activity = activity;
    this.#socket = connect({ host: options.address ?? '127.0.0.1', port: options.port });
    this.#socket.setNoDelay(true);
    this.#socket.on('connect', () => {
      this.#options.onWritable?.(64 * 1024);
      this.#activity?.onActivity();
    });
    this.#socket.on('data', (chunk: Buffer) => {
      let c = chunk;
      const at = this.#faults.corruptReceivedAt;
      if (at !== undefined && at >= this.#received && at < this.#received + c.length) {
        c = Buffer.from(c);
        c[at - this.#received] ^= 1;
      }
      this.#received += c.length;
      this.#inbox.push(c);
      this.#inboxBytes += c.length;
      if (this.#faults.cutAfterReceived !== undefined && this.#received >= this.#faults.cutAfterReceived) this.#cut();
      this.#options.onReadable?.(this.#inboxBytes);
      this.#activity?.onActivity();
    });
    this.#socket.on('error', (e) => {
      this.#error = e.message;
    });
    this.#socket.on('close', () => {
      if (!this.#closed) {
        this.#closed = true;
        this.#options.onError?.(this.#error ?? 'connection closed');
      }
      this.#activity?.onActivity();
    });
  }

  #cut(): void {
    this.#error = 'link cut (fault injection)';
    this.#socket.destroy();
  }

  get connected(): boolean {
    return !this.#closed;
  }

  read(count?: number): ArrayBuffer | undefined {
    if (this.#inboxBytes === 0) return undefined;
    const all = Buffer.concat(this.#inbox);
    const n = Math.min(count ?? all.length, all.length);
    const rest = all.subarray(n);
    this.#inbox = rest.length ? [rest] : [];
    this.#inboxBytes = rest.length;
    const out = new Uint8Array(n);
    out.set(all.subarray(0, n));
    return out.buffer;
  }

  write(buffer: BufferLike): number {
    if (this.#closed) throw new BodycamError('E_LINK_CLOSED', 'the dock link is closed');
    let bytes = toBytes(buffer);
    const limit = this.#faults.cutAfterSent;
    if (limit !== undefined && this.#sent + bytes.length >= limit) {
      bytes = bytes.subarray(0, Math.max(0, limit - this.#sent));
      this.#socket.write(Buffer.from(bytes), () => this.#cut());
      this.#sent += bytes.length;
      return 0;
    }
    const out = Buffer.from(bytes);
    const at = this.#faults.corruptSentAt;
    if (at !== undefined && at >= this.#sent && at < this.#sent + out.length) out[at - this.#sent] ^= 1;
    this.#sent += bytes.length;
    this.#faults.sentBoundaries?.push(this.#sent);
    this.#socket.write(out);
    return 64 * 1024;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.end();
  }
}
