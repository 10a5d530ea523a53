// Hardware callbacks (onReadable, timers, button edges) are never called from inside a port
// call: they are queued, and the simulator delivers them between firmware calls, in order —
// as a device's event loop does. Both engines use this queue, so the firmware sees the same
// sequence of events on Node and in XS.

export type Delivery = () => void | Promise<void>;

export class EventQueue {
  #items: Delivery[] = [];
  push(d: Delivery): void {
    this.#items.push(d);
  }
  get length(): number {
    return this.#items.length;
  }
  /** Deliver everything queued, including what deliveries queue on the way. */
  async drain(): Promise<number> {
    let n = 0;
    for (let d = this.#items.shift(); d; d = this.#items.shift()) {
      await d();
      n++;
    }
    return n;
  }
}
