// Link port over `embedded:io/socket/tcp` (Wi-Fi or USB-Ethernet to the dock). The socket's
// onWritable(count) reports free space in its output buffer; the adapter keeps that count so
// write() can say how much more fits, and refuses a write that doesn't fit rather than letting
// the socket throw mid-message.

import { BodycamError } from '../errors.js';
import { toBytes, type BufferLike } from '../platform/buffers.js';
import type { Link, LinkConstructor, LinkOptions } from '../platform/link.js';
import type { TCPClass, TCPSocket } from './moddable.js';

export function tcpLink(TCP: TCPClass, defaults: { address?: string; port: number }): LinkConstructor {
  return class TcpLink implements Link {
    #socket: TCPSocket | undefined;
    #writable = 0;
    constructor({ address, port, onReadable, onWritable, onError }: LinkOptions) {
      const host = address ?? defaults.address;
      if (!host) throw new BodycamError('E_LINK_ADDRESS', 'no dock address: the dock is found at provisioning or given in the link options');
      this.#socket = new TCP({
        address: host,
        port: port ?? defaults.port,
        nodelay: true,
        format: 'buffer',
        onReadable: (count) => onReadable?.(count),
        onWritable: (count) => {
          this.#writable = count;
          onWritable?.(count);
        },
        onError: () => {
          this.#socket = undefined;
          onError?.(`connection to the dock at ${host} failed or closed`);
        },
      });
    }
    #open(): TCPSocket {
      if (!this.#socket) throw new BodycamError('E_LINK_CLOSED', 'the link to the dock is closed');
      return this.#socket;
    }
    read(count?: number): ArrayBuffer | undefined {
      const r = count === undefined ? this.#open().read() : this.#open().read(count);
      return r instanceof ArrayBuffer && r.byteLength > 0 ? r : undefined;
    }
    write(buffer: BufferLike): number {
      const bytes = toBytes(buffer);
      if (bytes.byteLength > this.#writable) {
        throw new BodycamError('E_LINK_FULL', `write of ${bytes.byteLength} bytes exceeds the ${this.#writable} the link can take now; wait for onWritable`);
      }
      this.#open().write(bytes);
      this.#writable -= bytes.byteLength;
      return this.#writable;
    }
    close(): void {
      this.#socket?.close();
      this.#socket = undefined;
    }
  };
}
