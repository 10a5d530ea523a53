// What the xs and mcu engines share: firmware in another machine reached over the command
// bridge. Calls and hardware callbacks go out as CBOR commands; each reply carries its value
// (or error) and the units the guest spent in the bridge, so firmware cost = total − bridge.

import { decode, encode, type CborValue } from '../../firmware/codec/cbor.js';
import { BodycamError } from '../../firmware/errors.js';
import type { Platform } from '../../firmware/platform/index.js';
import type { EventQueue } from './events.js';
import { BridgeHost } from './host.js';
import { OP_CALLBACK, OP_ENTRY } from './marshal.js';

export abstract class BridgedEngine<Raw, M extends { firmware: number }> {
  protected readonly bridge: BridgeHost;
  #queue: EventQueue;
  #callbackCompute = 0;

  constructor(platform: Platform, queue: EventQueue) {
    this.#queue = queue;
    this.bridge = new BridgeHost(platform, queue, (id, args) => this.#callback(id, args));
  }

  /** Send one command to the guest's handleCommand; its reply and the machine's meter. */
  protected abstract command(bytes: Uint8Array): Promise<{ reply: Uint8Array; meter: Raw }>;
  /** The call's meter, given the machine's and the guest's bridge units. */
  protected abstract meterOf(raw: Raw, bridge: number): M;

  async #callback(id: number, args: unknown[]): Promise<void> {
    const r = await this.command(encode([OP_CALLBACK, id, args as CborValue]));
    this.#callbackCompute += this.#check(decode(r.reply), r.meter).meter.firmware;
  }

  #check(reply: CborValue, raw: Raw): { value: CborValue; meter: M } {
    if (!Array.isArray(reply)) throw new BodycamError('E_BRIDGE', 'reply is not an array');
    const meter = this.meterOf(raw, typeof reply[2] === 'number' ? reply[2] : 0);
    if (reply[0] === 0) return { value: reply[1], meter };
    const [code, message] = reply[1] as [string, string];
    throw new BodycamError(String(code), String(message));
  }

  async call(entry: string, ...args: CborValue[]): Promise<{ value: CborValue; meter: M }> {
    const r = await this.command(encode([OP_ENTRY, entry, args]));
    return this.#check(decode(r.reply), r.meter);
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
