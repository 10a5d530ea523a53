// The device adapters (firmware/device) against fakes of the Moddable modules they wrap. Each
// fake follows the module's documented behaviour on ESP32: the flash partition reports only
// size/blockLength/blocks and programs NOR-style (bits only clear; erase sets 0xFF); the camera
// lends 3 disposable frames and discards new ones while all are lent; key-value is NVS
// (read of a missing key is undefined); TCP reports free output space through onWritable.

import test from 'ava';
import { createHash } from 'node:crypto';
import { isBodycamError } from '../firmware/errors.js';
import { readBoard, type BoardConfig } from '../firmware/device/board.js';
import { hardwareRandom, nativeChecksum } from '../firmware/device/checksum.js';
import { DeviceClock, DeviceTimer } from '../firmware/device/clock.js';
import { nativeDigest } from '../firmware/device/digest.js';
import { fileFlash } from '../firmware/device/file-flash.js';
import { FakeSdCard } from './helpers/sd-card.js';
import { fakeCrypt } from './helpers/fake-crypt.js';
import { partitionFlash } from '../firmware/device/flash.js';
import { analogBattery, digitalButton, digitalHaptic, digitalLed } from '../firmware/device/io.js';
import { keyValueStore } from '../firmware/device/keystore.js';
import { tcpLink } from '../firmware/device/link.js';
import type { AnalogClass, DigitalClass, DigitalOptions, FilesDirectory, FilesFile, FlashPartition, FlashStorageModule, IOBuffer, KeyValueModule, TCPClass, TimerModule } from '../firmware/device/moddable.js';
import { devicePlatform, type DeviceModules } from '../firmware/device/platform.js';
import { softChecksum } from '../firmware/platform/soft-checksum.js';
import { listBoards } from '../cli/build.js';

const bytesOf = (b: IOBuffer) => (b instanceof ArrayBuffer ? new Uint8Array(b) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
const code = (e: unknown) => (isBodycamError(e) ? e.code : String(e));

// ------------------------------------------------------------------------------ fakes

/** embedded:storage/flash on ESP32: partitions by name, NOR programming, no alignment checks. */
class FakeFlashStorage implements FlashStorageModule {
  partitions = new Map<string, Uint8Array>();
  calls: string[] = [];
  constructor(readonly blockLength = 4096) {}
  add(path: string, size: number): Uint8Array {
    const p = new Uint8Array(size).fill(0xff);
    this.partitions.set(path, p);
    return p;
  }
  open({ path }: { path: string }): FlashPartition {
    const mem = this.partitions.get(path);
    if (!mem) throw new Error("can't find partition");
    const calls = this.calls;
    const blockLength = this.blockLength;
    return {
      read(length, offset) {
        calls.push(`read ${length}@${offset}`);
        return mem.slice(offset, offset + length).buffer;
      },
      write(buffer, offset) {
        const b = bytesOf(buffer);
        calls.push(`write ${b.byteLength}@${offset}`);
        for (let i = 0; i < b.length; i++) mem[offset + i] &= b[i];
      },
      eraseBlock(start, end = start + 1) {
        calls.push(`erase ${start}..${end}`);
        mem.fill(0xff, start * blockLength, end * blockLength);
      },
      status: () => ({ size: mem.length, blockLength, blocks: mem.length / blockLength }),
      close() {
        calls.push('close');
      },
    };
  }
}

/** embedded:storage/files: byte files, status() throws for a missing path, w+ truncates. */
class FakeFiles implements FilesDirectory {
  files = new Map<string, Uint8Array>();
  flushes = 0;
  status(path: string) {
    const f = this.files.get(path);
    if (!f) throw new Error('not found');
    return { size: f.length };
  }
  openFile({ path, mode }: { path: string; mode: string }): FilesFile {
    if (mode.startsWith('w')) this.files.set(path, new Uint8Array(0));
    if (!this.files.has(path)) throw new Error('not found');
    const self = this;
    return {
      read(length, position) {
        return self.files.get(path)!.slice(position, position + length).buffer;
      },
      write(buffer, position) {
        const b = bytesOf(buffer);
        let f = self.files.get(path)!;
        if (position + b.length > f.length) {
          const g = new Uint8Array(position + b.length);
          g.set(f);
          f = g;
          self.files.set(path, f);
        }
        f.set(b, position);
      },
      flush() {
        self.flushes++;
      },
      close() {},
    };
  }
}

/** embedded:io/image/in/camera on ESP32 with format "buffer/disposable". */
class FakeCameraDriver {
  static last: FakeCameraDriver | undefined;
  static log: string[] = [];
  ready: { id: number; bytes: Uint8Array }[] = [];
  lent = 0;
  discarded = 0;
  running = false;
  closed = false;
  nextId = 1;
  readonly width: number;
  readonly height: number;
  readonly imageType = 'jpeg' as const;
  #onReadable: (count: number) => void;
  constructor(o: { width: number; height: number; imageType: 'jpeg'; format: 'buffer/disposable'; onReadable: (count: number) => void }) {
    FakeCameraDriver.log.push('camera open');
    this.width = o.width;
    this.height = o.height;
    this.#onReadable = o.onReadable;
    FakeCameraDriver.last = this;
  }
  /** The sensor produced a frame: kept if a buffer is free (3 in all), else discarded. */
  capture(): void {
    if (!this.running) return;
    if (this.ready.length + this.lent >= 3) {
      this.discarded++;
      return;
    }
    const id = this.nextId++;
    this.ready.push({ id, bytes: new Uint8Array([0xff, 0xd8, id, 0xff, 0xd9]) });
    this.#onReadable(0);
  }
  start() {
    this.running = true;
  }
  stop() {
    this.running = false;
    this.ready = [];
  }
  read() {
    const f = this.ready.shift();
    if (!f) return undefined;
    this.lent++;
    let open = true;
    // A host buffer: bytes that native code and views read, not an ArrayBuffer instance.
    const hb = new Uint8Array(f.bytes) as Uint8Array & { close(): void };
    Object.defineProperty(hb, 'close', {
      value: () => {
        if (open) this.lent--;
        open = false;
      },
    });
    return hb;
  }
  close() {
    this.closed = true;
  }
}

/** embedded:io/digital: pins by number, edges call onReadable. */
function fakeDigital() {
  const pins = new Map<number, { value: number; mode: string; onReadable?: () => void }>();
  const log: string[] = [];
  // The SDK's constants (modules/io/digital/digitalbank.js): modes and edges are numbers.
  const MODES: Record<number, string> = { 0: 'Input', 1: 'InputPullUp', 8: 'Output' };
  const Digital = class {
    static Input = 0;
    static InputPullUp = 1;
    static Output = 8;
    static Rising = 1;
    static Falling = 2;
    #pin: number;
    constructor(o: DigitalOptions) {
      this.#pin = o.pin;
      const mode = MODES[o.mode] ?? `mode ${o.mode}`;
      const onReadable = 'onReadable' in o ? o.onReadable : undefined;
      pins.set(o.pin, { value: mode === 'InputPullUp' ? 1 : 0, mode, onReadable });
      log.push(`open ${o.pin} ${mode}`);
    }
    read() {
      return pins.get(this.#pin)!.value;
    }
    write(v: 0 | 1) {
      pins.get(this.#pin)!.value = v;
      log.push(`write ${this.#pin}=${v}`);
      FakeCameraDriver.log.push(`pin ${this.#pin}=${v}`);
    }
    close() {
      log.push(`close ${this.#pin}`);
    }
  } satisfies DigitalClass;
  const press = (pin: number, level: number) => {
    const p = pins.get(pin)!;
    p.value = level;
    p.onReadable?.();
  };
  return { Digital, pins, log, press };
}

function fakeTimer() {
  let next = 1;
  const live = new Map<number, { callback: () => void; at: number; repeat?: number }>();
  let now = 0;
  const Timer: TimerModule<{ id: number }> = {
    set(callback, interval = 0, repeat) {
      const id = next++;
      live.set(id, { callback, at: now + interval, repeat });
      return { id };
    },
    clear(t) {
      live.delete(t.id);
    },
  };
  const advance = (ms: number) => {
    const end = now + ms;
    for (;;) {
      const due = [...live.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      const [id, t] = due;
      now = t.at;
      if (t.repeat === undefined) live.delete(id);
      else t.at += t.repeat;
      t.callback();
    }
    now = end;
  };
  return { Timer, advance, live };
}

const xiao = () => listBoards().find((b) => b.name === 'xiao_esp32s3_sense')!.config;
const atom = () => listBoards().find((b) => b.name === 'm5atom_s3r_cam')!.config;

// ---------------------------------------------------------------------------- flash

test('partition flash: status adds the board write unit and 0xFF to what ESP32 reports', (t) => {
  const storage = new FakeFlashStorage();
  storage.add('bcstore', 64 * 1024);
  const Flash = partitionFlash({ storage, writeAlign: 16 });
  const f = new Flash({ path: 'bcstore' });
  t.deepEqual(f.status(), { size: 65536, blockLength: 4096, blocks: 16, writeAlign: 16, eraseValue: 0xff });
});

test('partition flash: misaligned and out-of-range operations are refused before reaching the flash', (t) => {
  const storage = new FakeFlashStorage();
  storage.add('bcstore', 8192);
  const f = new (partitionFlash({ storage, writeAlign: 16 }))({ path: 'bcstore' });
  t.is(code(t.throws(() => f.write(new Uint8Array(16), 8))), 'E_FLASH_ALIGN');
  t.is(code(t.throws(() => f.write(new Uint8Array(10), 16))), 'E_FLASH_ALIGN');
  t.is(code(t.throws(() => f.write(new Uint8Array(32), 8192 - 16))), 'E_FLASH_RANGE');
  t.is(code(t.throws(() => f.read(2, 8191))), 'E_FLASH_RANGE');
  t.is(code(t.throws(() => f.eraseBlock(1, 3))), 'E_FLASH_RANGE');
  t.is(code(t.throws(() => f.eraseBlock(1, 1))), 'E_FLASH_RANGE');
  t.deepEqual(storage.calls, []);
});

test('partition flash: writes program NOR-style, erases restore 0xFF, reads see both', (t) => {
  const storage = new FakeFlashStorage();
  storage.add('bcstore', 8192);
  const f = new (partitionFlash({ storage, writeAlign: 16 }))({ path: 'bcstore' });
  f.write(new Uint8Array(16).fill(0x0f), 4096);
  f.write(new Uint8Array(16).fill(0xf1), 4096); // programs can only clear bits
  t.deepEqual([...new Uint8Array(f.read(2, 4096))], [0x01, 0x01]);
  f.eraseBlock(1);
  t.deepEqual([...new Uint8Array(f.read(2, 4096))], [0xff, 0xff]);
  t.deepEqual(storage.calls, ['write 16@4096', 'write 16@4096', 'read 2@4096', 'erase 1..2', 'read 2@4096']);
  f.close();
  t.is(code(t.throws(() => f.read(1, 0))), 'E_FLASH_CLOSED');
});

test('partition flash: a missing partition says to flash the partition table', (t) => {
  const Flash = partitionFlash({ storage: new FakeFlashStorage(), writeAlign: 16 });
  const e = t.throws(() => new Flash({ path: 'bcstore' }));
  t.is(code(e), 'E_FLASH_PARTITION');
  t.regex(e!.message, /bodycam flash/);
});

test('file flash: first open claims the whole file erased; data survives a reopen; erase writes 0xFF', (t) => {
  const files = new FakeFiles();
  const Flash = fileFlash({ files, bytes: 16384, blockLength: 4096, writeAlign: 16 });
  const f = new Flash({ path: 'bodycam.store' });
  t.is(files.files.get('bodycam.store')!.length, 16384);
  t.true(files.files.get('bodycam.store')!.every((b) => b === 0xff));
  const flushes = files.flushes;
  f.write(new Uint8Array(32).fill(7), 4096 + 32);
  t.is(files.flushes, flushes + 1, 'every write is flushed before it returns');
  f.close();
  const g = new Flash({ path: 'bodycam.store' });
  t.deepEqual([...new Uint8Array(g.read(4, 4096 + 30))], [0xff, 0xff, 7, 7]);
  g.eraseBlock(1);
  t.deepEqual([...new Uint8Array(g.read(4, 4096 + 30))], [0xff, 0xff, 0xff, 0xff]);
  t.is(code(t.throws(() => g.write(new Uint8Array(16), 3))), 'E_FLASH_ALIGN');
});

test('file flash: a store file of another size is refused, never overwritten', (t) => {
  const files = new FakeFiles();
  files.files.set('bodycam.store', new Uint8Array(8192).fill(0x42));
  const Flash = fileFlash({ files, bytes: 16384, blockLength: 4096, writeAlign: 16 });
  t.is(code(t.throws(() => new Flash({ path: 'bodycam.store' }))), 'E_FLASH_GEOMETRY');
  t.true(files.files.get('bodycam.store')!.every((b) => b === 0x42));
});

// ---------------------------------------------------------------------- digest, crc, rng

test('digest: crypt Digest contexts back the port; close retires the context until reset', (t) => {
  class FakeCryptDigest {
    static made: string[] = [];
    #h = createHash('sha256');
    #type: string;
    constructor(type: 'SHA256' | 'SHA512') {
      this.#type = type;
      FakeCryptDigest.made.push(type);
      this.#h = createHash(type === 'SHA256' ? 'sha256' : 'sha512');
    }
    write(d: IOBuffer) {
      this.#h.update(bytesOf(d));
    }
    close(): ArrayBuffer {
      const out = this.#h.digest();
      return out.buffer.slice(out.byteOffset, out.byteOffset + out.length) as ArrayBuffer;
    }
    reset() {
      this.#h = createHash(this.#type === 'SHA256' ? 'sha256' : 'sha512');
    }
  }
  const digest = nativeDigest(FakeCryptDigest);
  const ctx = digest.create('SHA256');
  ctx.write(new TextEncoder().encode('ab'));
  ctx.write(new Uint8Array([0x63]).buffer);
  t.is(Buffer.from(ctx.close()).toString('hex'), createHash('sha256').update('abc').digest('hex'));
  t.is(code(t.throws(() => ctx.write(new Uint8Array(1)))), 'E_DIGEST_CLOSED');
  ctx.reset();
  ctx.write(new Uint8Array(0));
  t.is(Buffer.from(ctx.close()).toString('hex'), createHash('sha256').digest('hex'));
  t.is(code(t.throws(() => digest.create('MD5' as 'SHA256'))), 'E_DIGEST_ALGORITHM');
  t.deepEqual(FakeCryptDigest.made, ['SHA256']);
});

test('checksum and random: bodycam/native backs the ports; the CRC continues like zlib', (t) => {
  const calls: number[] = [];
  const native = {
    crc32(d: IOBuffer, previous: number) {
      calls.push(previous);
      return softChecksum.crc32(bytesOf(d), previous); // the C is checked against the same vector on gcc
    },
    fillRandom(b: Uint8Array) {
      b.fill(0xa5);
    },
  };
  const crc = nativeChecksum(native);
  const data = new TextEncoder().encode('123456789');
  t.is(crc.crc32(data), 0xcbf43926);
  t.is(crc.crc32(data.subarray(4), crc.crc32(data.subarray(0, 4))), 0xcbf43926);
  const r = new Uint8Array(8);
  hardwareRandom(native).fill(r);
  t.true(r.every((b) => b === 0xa5));
  t.is(code(t.throws(() => hardwareRandom(native).fill([1, 2] as unknown as Uint8Array))), 'E_RANDOM_ARGUMENT');
});

// ----------------------------------------------------------------------- clock, timer

test('clock: monotonic from Time.ticks, UTC from the RTC, set in seconds with its source', (t) => {
  let ticks = 1234;
  const sets: number[] = [];
  const clock = new DeviceClock({ time: { get ticks() { return ticks; }, set: (s) => sets.push(s) }, now: () => 1_700_000_000_000 });
  t.is(clock.monotonic(), 1234);
  ticks = 2000;
  t.is(clock.monotonic(), 2000);
  t.is(clock.utc(), 1_700_000_000_000);
  t.deepEqual(clock.source(), { source: 'rtc', lastSync: 0 });
  clock.setUtc(1_800_000_000_500, 'dock');
  t.deepEqual(sets, [1_800_000_000.5]);
  t.deepEqual(clock.source(), { source: 'dock', lastSync: 1_800_000_000_500 });
  t.is(code(t.throws(() => clock.setUtc(Number.NaN, 'dock'))), 'E_CLOCK_VALUE');
});

test('timer: ids map to Moddable timers; one-shots forget themselves; clear stops repeats', (t) => {
  const { Timer, advance, live } = fakeTimer();
  const timer = new DeviceTimer(Timer);
  const fired: string[] = [];
  const a = timer.set(() => fired.push('a'), 10);
  const b = timer.set(() => fired.push('b'), 5, 5);
  advance(12);
  t.deepEqual(fired, ['b', 'a', 'b']);
  timer.clear(a); // already fired: harmless
  timer.clear(b);
  advance(50);
  t.deepEqual(fired, ['b', 'a', 'b']);
  t.is(live.size, 0);
  t.not(a, b);
});

// ------------------------------------------------------------------------- key store

test('key store: NVS namespace per path, blobs, missing keys undefined, NVS key limits', (t) => {
  const spaces = new Map<string, Map<string, Uint8Array>>();
  const opened: unknown[] = [];
  const kv: KeyValueModule = {
    open(o) {
      opened.push(o);
      const m = spaces.get(o.path) ?? new Map<string, Uint8Array>();
      spaces.set(o.path, m);
      return {
        read: (k) => (m.has(k) ? (m.get(k)!.slice().buffer as ArrayBuffer) : undefined),
        write: (k, v) => void m.set(k, bytesOf(v).slice()),
        delete: (k) => void m.delete(k),
        close() {},
      };
    },
  };
  const KeyStore = keyValueStore(kv);
  const ks = new KeyStore({ path: 'bodycam' });
  t.deepEqual(opened, [{ path: 'bodycam', format: 'buffer', mode: 'r+' }]);
  t.is(ks.get('device.key'), undefined);
  ks.set('device.key', new Uint8Array([1, 2, 3]));
  t.deepEqual([...new Uint8Array(ks.get('device.key')!)], [1, 2, 3]);
  ks.delete('device.key');
  t.is(ks.get('device.key'), undefined);
  t.is(code(t.throws(() => ks.set('sixteen-chars-xx', new Uint8Array(1)))), 'E_KEYSTORE_KEY');
  t.is(code(t.throws(() => ks.get(''))), 'E_KEYSTORE_KEY');
  t.is(code(t.throws(() => ks.set('big', new Uint8Array(4001)))), 'E_KEYSTORE_VALUE');
  t.is(code(t.throws(() => new KeyStore({ path: 'a-namespace-too-long' }))), 'E_KEYSTORE_PATH');
  ks.close();
  t.is(code(t.throws(() => ks.get('x'))), 'E_KEYSTORE_CLOSED');
});

// ------------------------------------------------------------------------------- IO

test('button, LED and haptic: active-low wiring is hidden; edges reach onReadable', (t) => {
  const { Digital, press, log, pins } = fakeDigital();
  const { Timer, advance } = fakeTimer();
  let edges = 0;
  const button = new (digitalButton(Digital, { pin: 0, activeLow: true }))({ pin: 'record', onReadable: () => edges++ });
  t.is(pins.get(0)!.mode, 'InputPullUp');
  t.is(button.read(), 0);
  press(0, 0);
  t.is(button.read(), 1);
  press(0, 1);
  t.is(button.read(), 0);
  t.is(edges, 2);
  const led = new (digitalLed(Digital, { pin: 21, activeLow: true }))({ pin: 'status' });
  t.is(pins.get(21)!.value, 1, 'off after open');
  led.write(1);
  t.is(pins.get(21)!.value, 0);
  const haptic = new (digitalHaptic(Digital, Timer, { pin: 5, activeLow: false }))({ pin: 'haptic' });
  haptic.write(200);
  t.is(pins.get(5)!.value, 1);
  advance(199);
  t.is(pins.get(5)!.value, 1);
  advance(1);
  t.is(pins.get(5)!.value, 0);
  t.true(log.includes('open 21 Output'));
  // Boards without the part get a stand-in, not an error.
  t.notThrows(() => new (digitalLed(Digital, null))({ pin: 'status' }).write(1));
  t.notThrows(() => new (digitalHaptic(Digital, Timer, null))({ pin: 'haptic' }).write(100));
});

test('battery: divider and curve from the board; no battery sense reads as external power', (t) => {
  let raw = 0;
  const Analog = class {
    readonly resolution = 12;
    constructor(readonly o: { pin: number }) {}
    read() {
      return raw;
    }
    close() {}
  } satisfies AnalogClass;
  const Battery = analogBattery(Analog, { pin: 1, ratio: 2, fullScaleMillivolts: 3300, emptyMillivolts: 3300, fullMillivolts: 4200 });
  const b = new Battery({ pin: 'battery' });
  raw = Math.round((1875 / 3300) * 4095); // 1875 mV at the pin = 3750 mV at the cell
  const r = b.read();
  t.true(Math.abs(r.millivolts - 3750) <= 2);
  t.is(r.percent, 50);
  t.false(r.charging);
  raw = 4095;
  t.deepEqual({ ...b.read(), millivolts: 0 }, { millivolts: 0, percent: 100, charging: true });
  t.deepEqual(new (analogBattery(Analog, null))({ pin: 'battery' }).read(), { millivolts: 0, percent: 100, charging: true });
});

// ------------------------------------------------------------------------------ link

test('link: TCP bytes flow both ways; writes beyond the socket space are refused, not thrown mid-message', (t) => {
  const written: number[][] = [];
  let sock: { onReadable?: (n: number) => void; onWritable?: (n: number) => void; onError?: () => void } = {};
  let inbox: Uint8Array | undefined;
  const TCP = class {
    constructor(o: { address: string; port: number; onReadable?: (n: number) => void; onWritable?: (n: number) => void; onError?: () => void }) {
      t.deepEqual([o.address, o.port], ['10.0.0.2', 7420]);
      sock = o;
    }
    read() {
      const r = inbox;
      inbox = undefined;
      return r ? (r.buffer as ArrayBuffer) : undefined;
    }
    write(b: Uint8Array) {
      written.push([...b]);
    }
    close() {}
  } satisfies TCPClass;
  const errors: string[] = [];
  const link = new (tcpLink(TCP, { port: 7420 }))({ address: '10.0.0.2', onError: (m) => errors.push(m) });
  t.is(code(t.throws(() => link.write(new Uint8Array([1])))), 'E_LINK_FULL', 'no space reported yet');
  sock.onWritable?.(4);
  t.is(link.write(new Uint8Array([1, 2, 3])), 1);
  t.is(code(t.throws(() => link.write(new Uint8Array([4, 5])))), 'E_LINK_FULL');
  t.deepEqual(written, [[1, 2, 3]]);
  t.is(link.read(), undefined);
  inbox = new Uint8Array([9, 8]);
  t.deepEqual([...new Uint8Array(link.read()!)], [9, 8]);
  sock.onError?.();
  t.is(errors.length, 1);
  t.is(code(t.throws(() => link.read())), 'E_LINK_CLOSED');
  t.is(code(t.throws(() => new (tcpLink(TCP, { port: 7420 }))({}))), 'E_LINK_ADDRESS');
});

// -------------------------------------------------------------------- whole platform

function modules(): { m: DeviceModules<{ id: number }>; storage: FakeFlashStorage; digital: ReturnType<typeof fakeDigital> } {
  const storage = new FakeFlashStorage();
  storage.add('bcstore', 64 * 1024);
  const digital = fakeDigital();
  const m: DeviceModules<{ id: number }> = {
    Camera: FakeCameraDriver,
    flash: storage,
    keyValue: { open: () => ({ read: () => undefined, write() {}, delete() {}, close() {} }) },
    Digest: class {
      constructor(_t: 'SHA256' | 'SHA512') {}
      write() {}
      close() {
        return new ArrayBuffer(32);
      }
      reset() {}
    },
    crypt: fakeCrypt,
    native: { crc32: (d, p) => softChecksum.crc32(bytesOf(d), p), fillRandom: (b) => void b.fill(1) },
    // A 64 MiB card with its evidence partition from 4 MiB on (the XIAO and the LILYGO keep evidence on their card).
    sd: new FakeSdCard(131072).partition(8192, 122880),
    Digital: digital.Digital,
    Analog: class {
      readonly resolution = 12;
      constructor(_o: { pin: number }) {}
      read() {
        return 0;
      }
      close() {}
    },
    TCP: class {
      constructor(_o: unknown) {}
      read() {
        return undefined;
      }
      write() {}
      close() {}
    },
    Timer: fakeTimer().Timer,
    Time: { ticks: 0, set() {} },
    now: () => 0,
  };
  return { m, storage, digital };
}

test('device platform (XIAO): the camera lends 3 disposable frames; closing them keeps it capturing', (t) => {
  const { m } = modules();
  const platform = devicePlatform(xiao(), m);
  let readable = 0;
  const cam = new platform.Camera({ width: 640, height: 480, imageType: 'jpeg', format: 'buffer/disposable', onReadable: () => readable++ });
  const driver = FakeCameraDriver.last!;
  cam.start();
  const held = [];
  for (let i = 0; i < 5; i++) driver.capture();
  for (let f = cam.read(); f; f = cam.read()) held.push(f);
  t.is(held.length, 3);
  t.is(driver.discarded, 2, 'all buffers lent: the driver drops new frames (the stall the port warns about)');
  t.is(readable, 3);
  t.deepEqual(held.map((f) => new Uint8Array(f.buffer)[2]), [1, 2, 3], 'oldest first');
  for (const f of held) f.close();
  held[0].close(); // a second close is harmless
  t.is(driver.lent, 0);
  driver.capture();
  t.is(new Uint8Array(cam.read()!.buffer)[2], 4);
  const store = new platform.Flash({ path: xiao().storage.path });
  t.is(store.status().writeAlign, 512, 'the store is on the SD card');
  t.is(store.status().lossUnit, 65536);
});

test('device platform: the configured JPEG quality goes to the open sensor through bodycam/native; a build or sensor that cannot take it is a clear error, the driver closed', (t) => {
  const { m } = modules();
  const asked: number[] = [];
  const withQuality = { ...m, native: { ...m.native, cameraQuality: (q: number) => void asked.push(q) } };
  const options = { width: 640, height: 480, imageType: 'jpeg' as const, format: 'buffer/disposable' as const };
  new (devicePlatform(xiao(), withQuality).Camera)({ ...options, quality: 20 }).close();
  t.deepEqual(asked, [20]);
  new (devicePlatform(xiao(), withQuality).Camera)(options).close();
  t.deepEqual(asked, [20], 'no quality asked: the driver keeps its own');
  const refused = (native: typeof m.native, quality: number) => {
    const e = t.throws(() => new (devicePlatform(xiao(), { ...m, native }).Camera)({ ...options, quality }));
    t.is(code(e), 'E_CAMERA_QUALITY');
    t.true(FakeCameraDriver.last!.closed, 'the driver was closed');
    return e!.message;
  };
  t.regex(refused(withQuality.native, 70), /quality 70 is not 4\.\.63/);
  t.regex(refused(m.native, 20), /no way to set it/);
  t.regex(refused({ ...m.native, cameraQuality: () => { throw new Error('camera: the sensor refused the JPEG quality'); } }, 20), /the sensor refused/);
});

test('device platform (AtomS3R-CAM): camera power is switched on first, and its raw-only sensor is refused clearly', (t) => {
  const { m } = modules();
  const board: BoardConfig = { ...atom(), camera: { ...atom().camera, sensor: 'OV2640' } };
  FakeCameraDriver.log = [];
  const platform = devicePlatform(board, m);
  new platform.Camera({ width: 640, height: 480, imageType: 'jpeg', format: 'buffer/disposable' });
  t.deepEqual(FakeCameraDriver.log, ['pin 18=0', 'camera open']);
  // The real board's GC0308 gives no JPEG: refused before the driver is touched.
  FakeCameraDriver.log = [];
  const real = devicePlatform(atom(), m);
  const e = t.throws(() => new real.Camera({ width: 640, height: 480, imageType: 'jpeg', format: 'buffer/disposable' }));
  t.is(code(e), 'E_CAMERA_RAW_ONLY');
  t.false(FakeCameraDriver.log.includes('camera open'));
});

test('boards: every board file is a valid definition; a broken one names the file and field', (t) => {
  const boards = listBoards();
  t.deepEqual(boards.map((b) => b.name), ['lilygo_t_camera_plus_s3', 'm5atom_s3r_cam', 'xiao_esp32s3_sense']);
  for (const b of boards) t.is(b.config.target, `esp32/${b.name}`);
  const bad = { ...xiao(), storage: { kind: 'partition', path: 'bcstore', bytes: 1, writeAlign: 12 } };
  const e = t.throws(() => readBoard(bad, 'xiao_esp32s3_sense'));
  t.is(code(e), 'E_BOARD_INVALID');
  t.regex(e!.message, /boards\/xiao_esp32s3_sense\.json.*|writeAlign/);
  // The camera's modes: what a configuration asking for more gets; they must give the board's own mode.
  t.deepEqual(boards.find((b) => b.name === 'xiao_esp32s3_sense')!.config.camera.modes, [[1280, 720, 12], [800, 600, 25]]);
  const slow = { ...xiao(), camera: { ...xiao().camera, modes: [[800, 600, 15]] } };
  t.regex(t.throws(() => readBoard(slow, 'xiao_esp32s3_sense'))!.message, /camera\.modes must give the board's own mode, 800x600 at 25 fps/);
  const garbled = { ...xiao(), camera: { ...xiao().camera, modes: [[800, 600]] } };
  t.regex(t.throws(() => readBoard(garbled, 'xiao_esp32s3_sense'))!.message, /camera\.modes\[0\] must be \[width, height, frameRate\]/);
});
