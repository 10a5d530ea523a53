// What the xs, mcu and moddable engines share: firmware in another machine reached over the
// command bridge. Calls and hardware callbacks go out as CBOR commands with the bridge's context
// (the clock, flash budgets); each reply carries its value (or error), the units the guest spent
// in the bridge, so firmware cost = total − bridge, and the port calls the guest posted, which
// run before anything else happens on the host.

import { decode, encode, type CborValue } from '../../firmware/codec/cbor.js';
import { BodycamError } from '../../firmware/errors.js';
import type { Platform } from '../../firmware/platform/index.js';
import type { EventQueue } from './events.js';
import { BridgeHost } from './host.js';
import { CALLBACK_COMMAND, OP_CALLBACK, OP_ENTRY, Packer, packMessage, readMessage, unpack, type Json } from './marshal.js';
import { HOST_TEXT } from './host.js';

export abstract class BridgedEngine<Raw, M extends { firmware: number; compute: number }> {
  protected readonly bridge: BridgeHost;
  #queue: EventQueue;
  #callbackCompute = 0;
  /** Everything the machine metered since it started, and of that what the guest spent in the bridge. */
  readonly units = { compute: 0, bridge: 0 };

  constructor(platform: Platform, queue: EventQueue) {
    this.#queue = queue;
    this.bridge = new BridgeHost(platform, queue, (id, args) => this.#callback(id, args));
  }

  /** Send one command to the guest's handleCommand; its reply and the machine's meter. */
  protected abstract command(bytes: Uint8Array): Promise<{ reply: Uint8Array; meter: Raw }>;
  /** The call's meter, given the machine's and the guest's bridge units. */
  protected abstract meterOf(raw: Raw, bridge: number): M;

  async #callback(id: number, args: unknown[]): Promise<void> {
    const packer = new Packer();
    const message = packMessage([OP_CALLBACK, id, packer.pack(args), this.bridge.context()], packer, HOST_TEXT, CALLBACK_COMMAND);
    const r = await this.command(message);
    this.#callbackCompute += this.#check(r.reply, r.meter).meter.firmware;
  }

  /**
   * The guest's reply: [status, value or null, posted calls] as a message, then its bridge units
   * (f64). The value is { i: attachment } (its CBOR), or { j: JSON } (a plain value the guest did
   * not encode: encoded and decoded here, so it is what the CBOR would have decoded to).
   */
  #check(bytes: Uint8Array, raw: Raw): { value: CborValue; meter: M } {
    if (bytes.length < 8) throw new BodycamError('E_BRIDGE', 'reply is too short');
    const bridge = new DataView(bytes.buffer, bytes.byteOffset + bytes.length - 8, 8).getFloat64(0);
    const m = readMessage(bytes.subarray(0, bytes.length - 8), HOST_TEXT);
    const reply = m.tree;
    if (!Array.isArray(reply)) throw new BodycamError('E_BRIDGE', 'reply is not an array');
    this.bridge.runPosted(reply[2], m.blobs);
    const meter = this.meterOf(raw, bridge);
    this.units.compute += meter.compute;
    this.units.bridge += bridge;
    const at = reply[1] as { i?: number; j?: Json } | null;
    const value = at && typeof at.i === 'number' ? decode(m.blobs[at.i]) : at && at.j !== undefined ? decode(encode(unpack(at.j, m.blobs) as CborValue)) : null;
    if (reply[0] === 0) return { value, meter };
    const [code, message] = value as [string, string];
    throw new BodycamError(String(code), String(message));
  }

  async call(entry: string, ...args: CborValue[]): Promise<{ value: CborValue; meter: M }> {
    const r = await this.command(encode([OP_ENTRY, entry, args, this.bridge.context() as CborValue]));
    return this.#check(r.reply, r.meter);
  }

  pump(): Promise<number> {
    return this.#queue.drain();
  }

  takeCallbackCompute(): number {
    const c = this.#callbackCompute;
    this.#callbackCompute = 0;
    return c;
  }

  get portCalls(): Map<string, number> {
    return this.bridge.calls;
  }
}
