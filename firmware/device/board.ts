// A board definition: what the firmware needs to know about one camera board (camera, pins,
// storage, defaults). The source of truth is boards/<name>.json, a Moddable manifest fragment
// whose `config.bodycam` object reaches the device as `mc/config` and the armoury tool as JSON.
// readBoard() checks one strictly, so a typo in a board file fails the build, not a shift.

import { BodycamError } from '../errors.js';
import type { ImageType } from '../platform/camera.js';
import { fitMode, type CameraMode } from '../provision/config.js';

export interface PinConfig {
  pin: number;
  /** The line is active (pressed, lit, powered) when low. */
  activeLow: boolean;
}

export interface BatteryConfig {
  /** ADC pin of the battery divider. */
  pin: number;
  /** Battery millivolts per ADC millivolt (the divider ratio). */
  ratio: number;
  /** Full-scale ADC millivolts at the pin's attenuation. */
  fullScaleMillivolts: number;
  /** Millivolts at 0 % and 100 % of usable charge. */
  emptyMillivolts: number;
  fullMillivolts: number;
}

export type StorageConfig =
  | { kind: 'partition'; path: string; bytes: number; writeAlign: number }
  | { kind: 'file'; path: string; bytes: number; blockLength: number; writeAlign: number }
  /** The evidence partition of an SD card on SPI (sd-flash.ts): its size is the card's. */
  | { kind: 'sd'; path: string; blockLength: number; lossUnit: number; writeAlign: number; spi: { cs: number; sck: number; miso: number; mosi: number } };

export interface MicrophoneConfig {
  /** "pdm" (the XIAO ESP32S3 Sense) or "i2s". */
  kind: 'pdm' | 'i2s';
  /** Clock (PDM) or word-select (I2S) pin, and data pin. */
  clock: number;
  data: number;
}

export interface BoardConfig {
  board: string;
  /** The Moddable platform/target for mcconfig -p. */
  target: string;
  title: string;
  flashBytes: number;
  psramBytes: number;
  /**
   * The sensor and the mode the board records by default (its best rate, what the armoury is
   * told); `modes`: every size it gives with the fastest rate at each (firmware/provision/config.ts
   * fitMode: what a configuration asking for more gets). Without `modes` in the file: the default mode alone.
   */
  camera: { sensor: string; width: number; height: number; imageType: ImageType; frameRate: number; modes: CameraMode[] };
  button: PinConfig;
  led: PinConfig | null;
  haptic: PinConfig | null;
  battery: BatteryConfig | null;
  cameraPower: PinConfig | null;
  /** The microphone, or null (absent in the file: none). Its pins reach the driver as `defines.audioin`. */
  microphone: MicrophoneConfig | null;
  storage: StorageConfig;
  keystore: { path: string };
  /** The dock station the camera connects to when docked (its address on the dock network). */
  link: { kind: 'tcp'; address: string; port: number };
  notes: string[];
}

const IMAGE_TYPES: readonly string[] = Object.freeze(['jpeg', 'yuv422', 'rgb565le', 'rgb565be', 'gray8']);

type Json = Record<string, unknown>;

function fail(board: string, what: string): never {
  throw new BodycamError('E_BOARD_INVALID', `board "${board}": ${what}; fix boards/${board}.json`);
}

function obj(v: unknown, board: string, where: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(board, `${where} must be an object`);
  return v as Json;
}

function int(o: Json, key: string, board: string, where: string, min = 0): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) fail(board, `${where}.${key} must be an integer >= ${min}`);
  return v;
}

function str(o: Json, key: string, board: string, where: string): string {
  const v = o[key];
  if (typeof v !== 'string' || v.length === 0) fail(board, `${where}.${key} must be a non-empty string`);
  return v;
}

function pin(v: unknown, board: string, where: string): PinConfig {
  const o = obj(v, board, where);
  if (typeof o.activeLow !== 'boolean') fail(board, `${where}.activeLow must be true or false`);
  return { pin: int(o, 'pin', board, where), activeLow: o.activeLow };
}

function optionalPin(v: unknown, board: string, where: string): PinConfig | null {
  return v === null ? null : pin(v, board, where);
}

/** Checks a board's `config.bodycam` object and returns it typed. */
/** Sensors that give JPEG themselves (the recorder stores the sensor's JPEG, never encodes). */
export const JPEG_SENSORS: readonly string[] = Object.freeze(['OV2640', 'OV3660', 'OV5640']);

/** Why a board cannot record, or undefined when it can. */
export function cannotRecord(board: BoardConfig): string | undefined {
  if (!JPEG_SENSORS.includes(board.camera.sensor)) return `its ${board.camera.sensor} camera gives no JPEG (recording needs ${JPEG_SENSORS.join(', ')})`;
  return undefined;
}

export function readBoard(value: unknown, expectedName?: string): BoardConfig {
  const name = expectedName ?? 'unknown';
  const o = obj(value, name, 'config.bodycam');
  const board = str(o, 'board', name, 'config.bodycam');
  if (expectedName !== undefined && board !== expectedName) fail(name, `config.bodycam.board is "${board}", expected "${expectedName}"`);
  const target = str(o, 'target', board, 'config.bodycam');
  if (!/^esp32\/[a-z0-9_]+$/.test(target)) fail(board, `target "${target}" is not an esp32/<target> name`);
  const cam = obj(o.camera, board, 'camera');
  const imageType = str(cam, 'imageType', board, 'camera');
  if (!IMAGE_TYPES.includes(imageType)) fail(board, `camera.imageType "${imageType}" is not one of ${IMAGE_TYPES.join(', ')}`);
  const frameRate = int(cam, 'frameRate', board, 'camera', 1);
  if (frameRate > 60) fail(board, 'camera.frameRate above 60');
  const width = int(cam, 'width', board, 'camera', 1);
  const height = int(cam, 'height', board, 'camera', 1);
  let modes: CameraMode[] = [[width, height, frameRate]];
  if (cam.modes !== undefined) {
    if (!Array.isArray(cam.modes) || cam.modes.length === 0) fail(board, 'camera.modes must be a list of [width, height, frameRate]');
    modes = (cam.modes as unknown[]).map((m, i) => {
      if (!Array.isArray(m) || m.length !== 3 || !m.every((n) => Number.isSafeInteger(n) && (n as number) > 0)) fail(board, `camera.modes[${i}] must be [width, height, frameRate], positive whole numbers`);
      if ((m[2] as number) > 60) fail(board, `camera.modes[${i}]'s frameRate is above 60`);
      return [m[0] as number, m[1] as number, m[2] as number] as const;
    });
    const own = fitMode({ width, height, frameRate }, modes);
    if (own.width !== width || own.height !== height || own.frameRate !== frameRate) fail(board, `camera.modes must give the board's own mode, ${width}x${height} at ${frameRate} fps`);
  }
  const st = obj(o.storage, board, 'storage');
  const kind = str(st, 'kind', board, 'storage');
  const writeAlign = int(st, 'writeAlign', board, 'storage', 1);
  if ((writeAlign & (writeAlign - 1)) !== 0) fail(board, 'storage.writeAlign must be a power of two');
  let storage: StorageConfig;
  if (kind === 'partition') storage = { kind, path: str(st, 'path', board, 'storage'), bytes: int(st, 'bytes', board, 'storage', 1), writeAlign };
  else if (kind === 'file') storage = { kind, path: str(st, 'path', board, 'storage'), bytes: int(st, 'bytes', board, 'storage', 1), blockLength: int(st, 'blockLength', board, 'storage', 1), writeAlign };
  else if (kind === 'sd') {
    const spi = obj(st.spi, board, 'storage.spi');
    const blockLength = int(st, 'blockLength', board, 'storage', 512);
    const lossUnit = int(st, 'lossUnit', board, 'storage', 512);
    const pow2 = (n: number) => (n & (n - 1)) === 0;
    if (writeAlign !== 512) fail(board, 'storage.writeAlign of an SD card is its 512-byte sector');
    if (!pow2(blockLength) || !pow2(lossUnit) || blockLength % lossUnit !== 0) fail(board, 'storage.blockLength and storage.lossUnit must be powers of two, the block a whole number of loss units');
    storage = { kind, path: str(st, 'path', board, 'storage'), blockLength, lossUnit, writeAlign, spi: { cs: int(spi, 'cs', board, 'storage.spi'), sck: int(spi, 'sck', board, 'storage.spi'), miso: int(spi, 'miso', board, 'storage.spi'), mosi: int(spi, 'mosi', board, 'storage.spi') } };
  } else fail(board, `storage.kind "${kind}" is not "partition", "file" or "sd"`);
  const ks = obj(o.keystore, board, 'keystore');
  const ksPath = str(ks, 'path', board, 'keystore');
  // An NVS namespace is at most 15 characters.
  if (ksPath.length > 15) fail(board, 'keystore.path longer than 15 characters');
  const link = obj(o.link, board, 'link');
  if (link.kind !== 'tcp') fail(board, 'link.kind must be "tcp"');
  let battery: BatteryConfig | null = null;
  if (o.battery !== null) {
    const b = obj(o.battery, board, 'battery');
    const ratio = b.ratio;
    if (typeof ratio !== 'number' || !(ratio > 0)) fail(board, 'battery.ratio must be a positive number');
    battery = {
      pin: int(b, 'pin', board, 'battery'),
      ratio,
      fullScaleMillivolts: int(b, 'fullScaleMillivolts', board, 'battery', 1),
      emptyMillivolts: int(b, 'emptyMillivolts', board, 'battery', 1),
      fullMillivolts: int(b, 'fullMillivolts', board, 'battery', 1),
    };
    if (battery.fullMillivolts <= battery.emptyMillivolts) fail(board, 'battery.fullMillivolts must exceed emptyMillivolts');
  }
  let microphone: MicrophoneConfig | null = null;
  if (o.microphone !== undefined && o.microphone !== null) {
    const m = obj(o.microphone, board, 'microphone');
    const mk = str(m, 'kind', board, 'microphone');
    if (mk !== 'pdm' && mk !== 'i2s') fail(board, `microphone.kind "${mk}" is not "pdm" or "i2s"`);
    microphone = { kind: mk, clock: int(m, 'clock', board, 'microphone'), data: int(m, 'data', board, 'microphone') };
  }
  const notes = o.notes;
  if (!Array.isArray(notes) || !notes.every((n) => typeof n === 'string')) fail(board, 'notes must be a list of strings');
  const led = optionalPin(o.led, board, 'led');
  const haptic = optionalPin(o.haptic, board, 'haptic');
  const button = pin(o.button, board, 'button');
  const cameraPower = optionalPin(o.cameraPower, board, 'cameraPower');
  if (storage.kind === 'sd') {
    // A pin the card needs is the card's: evidence comes before any indicator (the XIAO's LED is its SD chip select).
    const card = storage.spi;
    const users: [string, PinConfig | null][] = [['led', led], ['haptic', haptic], ['button', button], ['cameraPower', cameraPower]];
    for (const [name, p] of users) {
      for (const [line, gpio] of Object.entries(card)) if (p && p.pin === gpio) fail(board, `${name} is GPIO${gpio}, which is the SD card's ${line.toUpperCase()}: the card keeps it (evidence first); move ${name} to a free pin or set it to null`);
    }
  }
  return {
    board,
    target,
    title: str(o, 'title', board, 'config.bodycam'),
    flashBytes: int(o, 'flashBytes', board, 'config.bodycam', 1),
    psramBytes: int(o, 'psramBytes', board, 'config.bodycam'),
    camera: {
      sensor: str(cam, 'sensor', board, 'camera'),
      width,
      height,
      imageType: imageType as ImageType,
      frameRate,
      modes,
    },
    button,
    led,
    haptic,
    battery,
    cameraPower,
    microphone,
    storage,
    keystore: { path: ksPath },
    link: { kind: 'tcp', address: link.address === undefined ? '10.42.0.1' : str(link, 'address', board, 'link'), port: int(link, 'port', board, 'link', 1) },
    notes: notes as string[],
  };
}
