// The SD card on a camera: the Flash port over the card's evidence partition (sd-flash.ts, a
// fake of bodycam/native's sector functions underneath), the board files that put evidence
// on the card, and the XIAO's LED/chip-select conflict settled in favour of evidence.

import test from 'ava';
import { findEvidencePartition, sdFlash } from '../firmware/device/sd-flash.js';
import { readBoard } from '../firmware/device/board.js';
import { SegmentStore } from '../firmware/storage/index.js';
import { listBoards } from '../toolchain/boards.js';
import { nodeChecksum } from '../host-sim/node/hardware.js';
import { FakeSdCard } from './helpers/sd-card.js';

const KiB = 1024;
const code = (e: unknown) => (e as { code?: string } | undefined)?.code;
const PINS = { cs: 21, sck: 7, miso: 8, mosi: 9 };
const board = (name: string) => listBoards().find((b) => b.name === name)!.config;

test('sd card: the evidence partition is found in the MBR, and must be there, inside the card and aligned', (t) => {
  const card = new FakeSdCard(1 << 20).partition(8192, 65536);
  const mbr = card.sectors.get(0)!;
  t.deepEqual(findEvidencePartition(mbr, 1 << 20), { first: 8192, sectors: 65536 });
  t.regex(findEvidencePartition(new Uint8Array(512), 1 << 20) as string, /no partition table/);
  t.regex(findEvidencePartition(new FakeSdCard(1 << 20).partition(8192, 65536, 0x0c).sectors.get(0)!, 1 << 20) as string, /no evidence partition/);
  t.regex(findEvidencePartition(mbr, 1000) as string, /outside the card/);
  const Flash = sdFlash({ sd: new FakeSdCard(1 << 20).partition(8193, 65536), pins: PINS, blockLength: 64 * KiB, lossUnit: 64 * KiB });
  t.is(code(t.throws(() => new Flash({ path: 'bcstore' }))), 'E_SD_PARTITION');
  const blank = sdFlash({ sd: new FakeSdCard(1 << 20), pins: PINS, blockLength: 64 * KiB, lossUnit: 64 * KiB });
  t.regex(t.throws(() => new blank({ path: 'bcstore' }))!.message, /E_SD_PARTITION: the card has no partition table: prepare the card in the armoury/);
});

test('sd card: the port reads and writes whole sectors inside the partition only; an erase is 0xFF written', (t) => {
  const card = new FakeSdCard(1 << 20).partition(8192, 8 * 128 + 5); // 8 blocks of 64 KiB and 5 sectors left over
  const f = new (sdFlash({ sd: card, pins: PINS, blockLength: 64 * KiB, lossUnit: 64 * KiB }))({ path: 'bcstore' });
  t.deepEqual(card.calls, ['open cs=21 sck=7 miso=8 mosi=9']);
  t.deepEqual(f.status(), { size: 8 * 64 * KiB, blockLength: 64 * KiB, blocks: 8, writeAlign: 512, eraseValue: 0xff, lossUnit: 64 * KiB });
  f.write(new Uint8Array(1024).fill(7), 512);
  t.deepEqual(card.calls.slice(1), ['write 2@8193'], 'offset 512 of the partition is the sector after its first');
  t.deepEqual([...new Uint8Array(f.read(4, 1534))], [7, 7, 0, 0], 'a read need not be whole sectors');
  t.is(code(t.throws(() => f.write(new Uint8Array(100), 0))), 'E_FLASH_ALIGN');
  t.is(code(t.throws(() => f.write(new Uint8Array(512), 8 * 64 * KiB))), 'E_FLASH_RANGE');
  t.is(code(t.throws(() => f.read(1, 8 * 64 * KiB))), 'E_FLASH_RANGE');
  card.calls.length = 0;
  f.eraseBlock(1, 3);
  t.deepEqual(card.calls, ['write 128@8320', 'write 128@8448'], 'one 64 KiB write of 0xFF per block');
  t.true(new Uint8Array(f.read(64 * KiB, 64 * KiB)).every((b) => b === 0xff));
  t.is(code(t.throws(() => f.eraseBlock(8))), 'E_FLASH_RANGE');
  f.close();
  t.false(card.open);
});

test('sd card: a segment store formats on a blank card partition, records, and mounts again', (t) => {
  const card = new FakeSdCard(1 << 22).partition(8192, 64 * 128); // 64 blocks of 64 KiB = 4 MiB
  const Flash = sdFlash({ sd: card, pins: PINS, blockLength: 64 * KiB, lossUnit: 64 * KiB });
  t.is(code(t.throws(() => SegmentStore.mount({ flash: new Flash({ path: 'bcstore' }), checksum: nodeChecksum }))), 'E_STORE_UNFORMATTED', 'a blank partition reads zeros: unformatted, not damaged');
  const s = SegmentStore.format({ flash: new Flash({ path: 'bcstore' }), checksum: nodeChecksum, maxSegments: 16, slotBlocks: 6 });
  const w = s.openSegment(new Uint8Array([1, 2]));
  for (let i = 0; i < 5; i++) w.append(new Uint8Array([i]), new Uint8Array(30000).fill(i));
  w.seal(new Uint8Array([9]));
  const again = SegmentStore.mount({ flash: new Flash({ path: 'bcstore' }), checksum: nodeChecksum });
  t.is(again.segments()[0].records, 5);
  t.is(again.segments()[0].mediaLength, 5 * 30001);
  t.is(again.geometry.lossUnit, 64 * KiB);
  for (const k of card.sectors.keys()) t.true(k === 0 || (k >= 8192 && k < 8192 + 64 * 128), `sector ${k} is inside the evidence partition (or the MBR, written by the test)`);
});

test('boards: every board with a card slot keeps evidence on the card; the one without says so', (t) => {
  for (const name of ['xiao_esp32s3_sense', 'lilygo_t_camera_plus_s3']) {
    const b = board(name);
    t.is(b.storage.kind, 'sd', name);
    if (b.storage.kind === 'sd') {
      t.is(b.storage.writeAlign, 512);
      t.is(b.storage.lossUnit, 64 * KiB, `${name}: guards against the largest internal page (64 KiB)`);
      t.is(b.storage.spi.cs, 21);
    }
  }
  const atom = board('m5atom_s3r_cam');
  t.is(atom.storage.kind, 'partition');
  t.true(atom.notes.some((n) => /no microSD slot/.test(n)));
});

test('XIAO: the card keeps GPIO21 (its chip select), the LED gives way, and the officer is told by a vibration motor', (t) => {
  const x = board('xiao_esp32s3_sense');
  t.is(x.led, null, 'the LED on GPIO21 is given up');
  t.deepEqual(x.haptic, { pin: 2, activeLow: false }, 'a vibration motor on D1 (GPIO2) instead');
  t.true(x.notes.some((n) => /vibration motor on D1 \(GPIO2/.test(n)));
  // Giving the LED its pin back is refused: the card would lose its chip select.
  const raw = { ...x, led: { pin: 21, activeLow: true } } as unknown as Record<string, unknown>;
  const e = t.throws(() => readBoard(raw, 'xiao_esp32s3_sense'));
  t.is(code(e), 'E_BOARD_INVALID');
  t.regex(e!.message, /led is GPIO21, which is the SD card's CS: the card keeps it \(evidence first\)/);
  const onSck = { ...x, haptic: { pin: 7, activeLow: false } } as unknown as Record<string, unknown>;
  t.regex(t.throws(() => readBoard(onSck, 'xiao_esp32s3_sense'))!.message, /haptic is GPIO7, which is the SD card's SCK/);
});
