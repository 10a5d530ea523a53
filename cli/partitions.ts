// The boards' ESP-IDF partition tables (boards/partitions-*.csv): read them, check them against
// ESP-IDF's rules and the board's flash, and write the binary table ESP-IDF's bootloader reads
// at 0x8000 (gen_esp32part.py's format), so `bodycam flash --image` can lay out a camera fresh
// from its box without the build tree. Host side only.
//
// Rules checked (ESP-IDF "Partition Tables" and gen_esp32part.py): offsets and sizes are
// multiples of 4 KiB, app partitions start on 64 KiB; nothing starts below 0x9000 (bootloader
// and the table itself); no two partitions overlap or share a name (at most 16 bytes); the last
// ends inside the flash; an otadata partition is 0x2000 bytes; and, for bodycam, ota_0 and
// ota_1 exist, are the same size, and there is one otadata.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BodycamError } from '../firmware/errors.js';

export const PARTITION_TABLE_OFFSET = 0x8000;
/** gen_esp32part.py MAX_PARTITION_LENGTH: the table is padded with 0xFF to this length. */
export const PARTITION_TABLE_LENGTH = 0xc00;
export const FIRST_PARTITION = 0x9000;
export const OTADATA_SIZE = 0x2000;
const SECTOR = 0x1000;
const APP_ALIGN = 0x10000;

const TYPES: Record<string, number> = { app: 0x00, data: 0x01 };
const APP_SUBTYPES: Record<string, number> = { factory: 0x00, test: 0x20, ...Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`ota_${i}`, 0x10 + i])) };
const DATA_SUBTYPES: Record<string, number> = { ota: 0x00, phy: 0x01, nvs: 0x02, coredump: 0x03, nvs_keys: 0x04, efuse: 0x05, undefined: 0x06, fat: 0x81, spiffs: 0x82, littlefs: 0x83 };

export interface Partition {
  name: string;
  type: number;
  subtype: number;
  offset: number;
  size: number;
  /** Line in the CSV, for messages. */
  line: number;
}

export interface PartitionTable {
  file: string;
  partitions: Partition[];
}

function fail(file: string, message: string): never {
  throw new BodycamError('E_PARTITIONS', `${file}: ${message}`);
}

function num(text: string, file: string, line: number, what: string): number {
  const t = text.trim();
  const m = /^(0x[0-9a-f]+|\d+)([KM]?)$/i.exec(t);
  if (!m) fail(file, `line ${line}: ${what} "${t}" is not a number (0x…, decimal, or with K/M)`);
  const v = Number(m[1]) * (m[2].toUpperCase() === 'K' ? 1024 : m[2].toUpperCase() === 'M' ? 1024 * 1024 : 1);
  if (!Number.isSafeInteger(v) || v < 0 || v > 0xffffffff) fail(file, `line ${line}: ${what} ${t} is out of range`);
  return v;
}

/** Parse a partition CSV (every offset explicit, as bodycam's tables are). */
export function parsePartitions(text: string, file: string): PartitionTable {
  const partitions: Partition[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const l = raw.trim();
    if (!l || l.startsWith('#')) return;
    const cols = l.split(',').map((c) => c.trim());
    if (cols.length < 5 || cols.length > 6) fail(file, `line ${line}: expected Name, Type, SubType, Offset, Size[, Flags]`);
    const [name, typeText, subText, offText, sizeText, flags = ''] = cols;
    if (!name || new TextEncoder().encode(name).length > 16) fail(file, `line ${line}: a name is 1..16 bytes`);
    if (flags) fail(file, `line ${line}: flags (${flags}) are not used by bodycam`);
    const type = TYPES[typeText] ?? num(typeText, file, line, 'type');
    if (type > 0xfe) fail(file, `line ${line}: type ${typeText} is out of range`);
    const known = type === 0 ? APP_SUBTYPES : type === 1 ? DATA_SUBTYPES : {};
    const subtype = known[subText] ?? num(subText, file, line, 'subtype');
    if (subtype > 0xfe) fail(file, `line ${line}: subtype ${subText} is out of range`);
    if (!offText) fail(file, `line ${line}: give every offset explicitly`);
    partitions.push({ name, type, subtype, offset: num(offText, file, line, 'offset'), size: num(sizeText, file, line, 'size'), line });
  });
  return { file, partitions };
}

export function readPartitions(file: string, root: string): PartitionTable {
  return parsePartitions(readFileSync(join(root, file), 'utf8'), file);
}

/** Everything ESP-IDF and bodycam need of a table for a flash of `flashBytes`; throws E_PARTITIONS. */
export function checkPartitions(t: PartitionTable, flashBytes: number): void {
  const { file, partitions } = t;
  const names = new Set<string>();
  for (const p of partitions) {
    const at = `${p.name} (line ${p.line})`;
    if (names.has(p.name)) fail(file, `${at}: the name is used twice`);
    names.add(p.name);
    if (p.size === 0 || p.size % SECTOR) fail(file, `${at}: size 0x${p.size.toString(16)} is not a whole number of 4 KiB sectors`);
    if (p.offset < FIRST_PARTITION) fail(file, `${at}: offset 0x${p.offset.toString(16)} is below 0x${FIRST_PARTITION.toString(16)} (bootloader and partition table)`);
    if (p.offset % (p.type === 0 ? APP_ALIGN : SECTOR)) fail(file, `${at}: offset 0x${p.offset.toString(16)} is not ${p.type === 0 ? '64' : '4'} KiB aligned`);
    if (p.offset + p.size > flashBytes) fail(file, `${at}: ends at 0x${(p.offset + p.size).toString(16)}, past the ${flashBytes / 0x100000} MB flash`);
    if (p.type === 1 && p.subtype === DATA_SUBTYPES.ota && p.size !== OTADATA_SIZE) fail(file, `${at}: an otadata partition is 0x2000 bytes`);
  }
  const sorted = [...partitions].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1];
    const b = sorted[i];
    if (a.offset + a.size > b.offset) fail(file, `${a.name} (0x${a.offset.toString(16)}..0x${(a.offset + a.size).toString(16)}) overlaps ${b.name} at 0x${b.offset.toString(16)}`);
  }
  const ota = (n: number) => partitions.filter((p) => p.type === 0 && p.subtype === APP_SUBTYPES[`ota_${n}`]);
  if (ota(0).length !== 1 || ota(1).length !== 1) fail(file, 'firmware updates need exactly one ota_0 and one ota_1 app partition');
  if (ota(0)[0].size !== ota(1)[0].size) fail(file, 'ota_0 and ota_1 must be the same size: an image that fits one must fit the other');
  if (partitions.filter((p) => p.type === 1 && p.subtype === DATA_SUBTYPES.ota).length !== 1) fail(file, 'firmware updates need exactly one otadata partition (data, ota)');
}

export interface UpdateLayout {
  /** ota_0: where `bodycam flash --image` writes the payload. */
  ota0: Partition;
  ota1: Partition;
  otadata: Partition;
  /** Bytes of one app slot: the largest payload a camera can install. */
  slotBytes: number;
}

export function updateLayout(t: PartitionTable, flashBytes: number): UpdateLayout {
  checkPartitions(t, flashBytes);
  const find = (type: number, subtype: number) => t.partitions.find((p) => p.type === type && p.subtype === subtype)!;
  const ota0 = find(0, APP_SUBTYPES.ota_0);
  return { ota0, ota1: find(0, APP_SUBTYPES.ota_1), otadata: find(1, DATA_SUBTYPES.ota), slotBytes: ota0.size };
}

/** The binary table (gen_esp32part.py): 32-byte entries, an MD5 entry, 0xFF to 0xC00 bytes. */
export function partitionTableBinary(t: PartitionTable): Uint8Array {
  const entries = new Uint8Array(32 * t.partitions.length);
  const v = new DataView(entries.buffer);
  t.partitions.forEach((p, i) => {
    const at = 32 * i;
    entries[at] = 0xaa;
    entries[at + 1] = 0x50;
    entries[at + 2] = p.type;
    entries[at + 3] = p.subtype;
    v.setUint32(at + 4, p.offset, true);
    v.setUint32(at + 8, p.size, true);
    entries.set(new TextEncoder().encode(p.name), at + 12);
    v.setUint32(at + 28, 0, true);
  });
  const out = new Uint8Array(PARTITION_TABLE_LENGTH).fill(0xff);
  if (entries.length + 32 > PARTITION_TABLE_LENGTH) fail(t.file, 'too many partitions');
  out.set(entries, 0);
  out[entries.length] = 0xeb;
  out[entries.length + 1] = 0xeb;
  out.set(createHash('md5').update(entries).digest(), entries.length + 16);
  return out;
}
