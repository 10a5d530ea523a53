// A fake of bodycam/native's SD functions for device tests: a sparse card of 512-byte sectors
// (never-written sectors read 0x00), with an MBR that may hold the evidence partition (type 0xDA).

import type { SdNative } from '../../firmware/device/sd-flash.js';

export class FakeSdCard implements SdNative {
  readonly sectors = new Map<number, Uint8Array>();
  readonly calls: string[] = [];
  open = false;
  constructor(readonly cardSectors: number) {}

  /** Write an MBR with one partition of `type` at `first` for `count` sectors. */
  partition(first: number, count: number, type = 0xda): this {
    const mbr = new Uint8Array(512);
    const v = new DataView(mbr.buffer);
    const e = 446;
    mbr[e + 4] = type;
    v.setUint32(e + 8, first, true);
    v.setUint32(e + 12, count, true);
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    this.sectors.set(0, mbr);
    return this;
  }

  sdOpen(cs: number, sck: number, miso: number, mosi: number): number {
    this.calls.push(`open cs=${cs} sck=${sck} miso=${miso} mosi=${mosi}`);
    this.open = true;
    return this.cardSectors;
  }
  sdRead(buffer: Uint8Array, sector: number): void {
    if (!this.open || buffer.length % 512) throw new Error('SD: whole sectors of an open card');
    for (let i = 0; i < buffer.length / 512; i++) {
      const s = this.sectors.get(sector + i);
      if (s) buffer.set(s, i * 512);
      else buffer.fill(0, i * 512, (i + 1) * 512);
    }
  }
  sdWrite(buffer: Uint8Array, sector: number): void {
    if (!this.open || buffer.length % 512) throw new Error('SD: whole sectors of an open card');
    this.calls.push(`write ${buffer.length / 512}@${sector}`);
    for (let i = 0; i < buffer.length / 512; i++) this.sectors.set(sector + i, buffer.slice(i * 512, (i + 1) * 512));
  }
  sdClose(): void {
    this.open = false;
  }
}
