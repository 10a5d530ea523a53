// The scenario format: a shift described in JSON, validated with errors that say which field is
// wrong and what would be right (E_SCENARIO). Times are seconds (a number) or text like "90s",
// "10m", "2h", "1h30m"; `scale` (a run option) multiplies every time of the shift, so a 12-hour
// scenario runs scaled down in npm test and full length with BODYCAM_LONG.
//
//   {
//     "name": "quiet-shift", "description": "…",
//     "duration": "12h",
//     "camera": { "width": 320, "height": 240, "frameRate": 15, "segmentSeconds": 30, "preEventSeconds": 30,
//                 "audio": true, "preEventAudio": false },         // sound from the simulated microphone
//     "storage": { "mib": 256 },                        // or { "blocks": N, "blockLength": 4096 }, NOR flash;
//                                                       // or { "cardGB": 64 }: an SD card's evidence partition
//     "battery": [ { "at": 0, "millivolts": 4150 }, { "at": "12h", "millivolts": 3600 } ],
//     "incidents": [ { "at": "2h", "length": "10m" } ], // a press at `at`, a long press `length` later
//     "presses": [ { "at": "3h", "gesture": "press" }, { "at": "3h5m", "gesture": "long" } ],
//     "powerCuts": { "at": [ "4h" ], "random": { "count": 50, "from": "5m", "to": "11h" } },
//     "sensor": { "hiccups": [ { "at": "1h", "frames": 3 } ], "jitterMs": 0, "frameBytes": 0 },
//     "link": { "faults": [ { "cutAfterReceived": 200000 } ] },   // one per connection, in order
//     "dock": { "at": "end" }                            // or a time; the shift ends docked
//   }

import { BodycamError } from '../../firmware/errors.js';
import { checkSettings, DEFAULT_SETTINGS } from '../../firmware/provision/config.js';
import type { LinkFaults } from '../link/tcp-link.js';

export interface ScenarioCamera {
  width: number;
  height: number;
  frameRate: number;
  segmentSeconds: number;
  preEventSeconds: number;
  /** Record sound (the simulated microphone is attached); pre-event sound too. */
  audio: boolean;
  preEventAudio: boolean;
}

export interface Scenario {
  name: string;
  description: string;
  /** Milliseconds of virtual time. */
  durationMs: number;
  camera: ScenarioCamera;
  /** card: an SD card's evidence partition (host-sim/flash/sim-sd.ts), blocks of 64 KiB; else NOR flash. */
  storage: { blocks: number; blockLength: number; card?: boolean };
  battery: { atMs: number; millivolts: number }[];
  /** Button gestures in time order: a press starts, a long press (held) stops. */
  presses: { atMs: number; gesture: 'press' | 'long' }[];
  powerCuts: { atMs: number[]; random?: { count: number; fromMs: number; toMs: number } };
  sensor: { hiccups: { atMs: number; frames: number }[]; jitterMs: number; frameBytes: number };
  link: { faults: LinkFaults[] };
  dock: { atMs: number };
  /** Milliseconds the camera is off after each power cut. */
  rebootMs: number;
}

const fail = (path: string, message: string): never => {
  throw new BodycamError('E_SCENARIO', `${path}: ${message}`);
};

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function obj(v: Json | undefined, path: string): Record<string, Json> {
  if (v === undefined) return {};
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return fail(path, 'must be an object');
  return v;
}

function only(o: Record<string, Json>, keys: string[], path: string): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) fail(`${path}.${k}`, `unknown field (known: ${keys.join(', ')})`);
}

function arr(v: Json | undefined, path: string): Json[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) return fail(path, 'must be an array');
  return v;
}

function int(v: Json | undefined, path: string, lo: number, hi: number, fallback?: number): number {
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) return fail(path, `must be a whole number from ${lo} to ${hi}, not ${JSON.stringify(v)}`);
  return v;
}

/** "1h30m", "90s", "10m", "250ms", or a number of seconds → milliseconds. */
export function parseTime(v: Json | undefined, path: string): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) fail(path, `must be a time ≥ 0, not ${v}`);
    return Math.round(v * 1000);
  }
  if (typeof v !== 'string') return fail(path, 'must be a time: seconds, or text like "90s", "10m", "2h", "1h30m"');
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/gy;
  let ms = 0;
  let matched = 0;
  for (let m = re.exec(v); m; m = re.exec(v)) {
    ms += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
    matched = re.lastIndex;
  }
  if (matched !== v.length || v.length === 0) fail(path, `"${v}" is not a time (use e.g. "90s", "10m", "2h", "1h30m")`);
  return Math.round(ms);
}

export interface ParseOptions {
  /** Multiply every time of the shift (not the camera's settings) by this. */
  scale?: number;
}

/** Validate a scenario (parsed JSON) and resolve its times. */
export function parseScenario(json: unknown, o: ParseOptions = {}): Scenario {
  const scale = o.scale ?? 1;
  if (!(scale > 0 && scale <= 1)) fail('scale', `must be in (0, 1], not ${scale}`);
  const root = obj(json as Json, 'scenario');
  only(root, ['name', 'description', 'duration', 'camera', 'storage', 'battery', 'incidents', 'presses', 'powerCuts', 'sensor', 'link', 'dock', 'rebootSeconds', 'testScale'], 'scenario');
  const name = typeof root.name === 'string' && /^[a-z0-9-]{1,64}$/.test(root.name) ? root.name : fail('name', 'must be lower-case letters, digits and dashes');
  const full = parseTime(root.duration, 'duration');
  if (full < 10_000) fail('duration', 'a shift must last at least 10 seconds');
  const durationMs = Math.round(full * scale);
  const time = (v: Json | undefined, path: string): number => {
    if (v === 'end') return durationMs;
    const t = Math.round(parseTime(v, path) * scale);
    if (t > durationMs) fail(path, `is after the end of the shift (${full / 1000} s)`);
    return t;
  };

  const c = obj(root.camera, 'camera');
  only(c, ['width', 'height', 'frameRate', 'segmentSeconds', 'preEventSeconds', 'audio', 'preEventAudio'], 'camera');
  const bool = (v: Json | undefined, path: string, absent: boolean): boolean => (v === undefined ? absent : typeof v === 'boolean' ? v : fail(path, 'must be true or false'));
  const camera: ScenarioCamera = {
    width: int(c.width, 'camera.width', 1, 4096, 320),
    height: int(c.height, 'camera.height', 1, 4096, 240),
    frameRate: int(c.frameRate, 'camera.frameRate', 1, 30, 15),
    segmentSeconds: int(c.segmentSeconds, 'camera.segmentSeconds', 5, 600, 30),
    preEventSeconds: int(c.preEventSeconds, 'camera.preEventSeconds', 0, 120, 30),
    audio: bool(c.audio, 'camera.audio', DEFAULT_SETTINGS.audio),
    preEventAudio: bool(c.preEventAudio, 'camera.preEventAudio', DEFAULT_SETTINGS.preEventAudio),
  };
  try {
    checkSettings({ ...DEFAULT_SETTINGS, ...camera });
  } catch (e) {
    fail('camera', (e as Error).message);
  }

  const s = obj(root.storage, 'storage');
  only(s, ['mib', 'blocks', 'blockLength', 'cardGB'], 'storage');
  let storageOf: Scenario['storage'] | undefined;
  if (s.cardGB !== undefined) {
    // A card of cardGB × 10^9 bytes, its evidence partition from 4 MiB on (README, "The SD card"), in 64 KiB blocks.
    if (s.mib !== undefined || s.blocks !== undefined || s.blockLength !== undefined) fail('storage', 'cardGB is a card: give no mib, blocks or blockLength with it');
    const cardBlocks = Math.floor((int(s.cardGB, 'storage.cardGB', 1, 2048) * 1e9 - 4 * 1048576) / 65536);
    storageOf = { blocks: cardBlocks, blockLength: 65536, card: true };
  }
  const blockLength = int(s.blockLength, 'storage.blockLength', 512, 65536, 4096);
  if ((blockLength & (blockLength - 1)) !== 0) fail('storage.blockLength', 'must be a power of two');
  const blocks = s.mib !== undefined ? Math.floor((int(s.mib, 'storage.mib', 1, 65536) * 1048576) / blockLength) : int(s.blocks, 'storage.blocks', 64, 1 << 24, Math.floor((256 * 1048576) / blockLength));

  const battery = arr(root.battery, 'battery').map((p, i) => {
    const b = obj(p, `battery[${i}]`);
    only(b, ['at', 'millivolts'], `battery[${i}]`);
    return { atMs: time(b.at, `battery[${i}].at`), millivolts: int(b.millivolts, `battery[${i}].millivolts`, 2500, 4400) };
  });
  if (battery.length === 0) battery.push({ atMs: 0, millivolts: 4150 }, { atMs: durationMs, millivolts: 3800 });
  for (let i = 1; i < battery.length; i++) if (battery[i].atMs < battery[i - 1].atMs) fail(`battery[${i}].at`, 'battery points must be in time order');

  const presses: Scenario['presses'] = [];
  arr(root.incidents, 'incidents').forEach((p, i) => {
    const inc = obj(p, `incidents[${i}]`);
    only(inc, ['at', 'length'], `incidents[${i}]`);
    const at = time(inc.at, `incidents[${i}].at`);
    const length = Math.round(parseTime(inc.length, `incidents[${i}].length`) * scale);
    presses.push({ atMs: at, gesture: 'press' });
    if (at + length < durationMs) presses.push({ atMs: at + length, gesture: 'long' });
  });
  arr(root.presses, 'presses').forEach((p, i) => {
    const b = obj(p, `presses[${i}]`);
    only(b, ['at', 'gesture'], `presses[${i}]`);
    if (b.gesture !== 'press' && b.gesture !== 'long') fail(`presses[${i}].gesture`, 'must be "press" (start) or "long" (hold to stop)');
    presses.push({ atMs: time(b.at, `presses[${i}].at`), gesture: b.gesture as 'press' | 'long' });
  });
  presses.sort((a, b) => a.atMs - b.atMs);

  const pc = obj(root.powerCuts, 'powerCuts');
  only(pc, ['at', 'random'], 'powerCuts');
  const powerCuts: Scenario['powerCuts'] = { atMs: arr(pc.at, 'powerCuts.at').map((t, i) => time(t, `powerCuts.at[${i}]`)).sort((a, b) => a - b) };
  if (pc.random !== undefined) {
    const r = obj(pc.random, 'powerCuts.random');
    only(r, ['count', 'from', 'to'], 'powerCuts.random');
    const fromMs = r.from === undefined ? 0 : time(r.from, 'powerCuts.random.from');
    const toMs = r.to === undefined ? durationMs : time(r.to, 'powerCuts.random.to');
    if (toMs <= fromMs) fail('powerCuts.random', '"to" must be after "from"');
    powerCuts.random = { count: int(r.count, 'powerCuts.random.count', 0, 10000), fromMs, toMs };
  }

  const se = obj(root.sensor, 'sensor');
  only(se, ['hiccups', 'jitterMs', 'frameBytes'], 'sensor');
  const sensor = {
    hiccups: arr(se.hiccups, 'sensor.hiccups').map((h, i) => {
      const x = obj(h, `sensor.hiccups[${i}]`);
      only(x, ['at', 'frames'], `sensor.hiccups[${i}]`);
      return { atMs: time(x.at, `sensor.hiccups[${i}].at`), frames: int(x.frames, `sensor.hiccups[${i}].frames`, 1, 10000) };
    }),
    jitterMs: int(se.jitterMs, 'sensor.jitterMs', 0, 30, 0),
    frameBytes: int(se.frameBytes, 'sensor.frameBytes', 0, 512 * 1024, 0),
  };

  const l = obj(root.link, 'link');
  only(l, ['faults'], 'link');
  const faults = arr(l.faults, 'link.faults').map((f, i) => {
    const x = obj(f, `link.faults[${i}]`);
    only(x, ['cutAfterSent', 'cutAfterReceived', 'corruptReceivedAt'], `link.faults[${i}]`);
    const out: LinkFaults = {};
    if (x.cutAfterSent !== undefined) out.cutAfterSent = int(x.cutAfterSent, `link.faults[${i}].cutAfterSent`, 1, 2 ** 40);
    if (x.cutAfterReceived !== undefined) out.cutAfterReceived = int(x.cutAfterReceived, `link.faults[${i}].cutAfterReceived`, 1, 2 ** 40);
    if (x.corruptReceivedAt !== undefined) out.corruptReceivedAt = int(x.corruptReceivedAt, `link.faults[${i}].corruptReceivedAt`, 0, 2 ** 40);
    return out;
  });

  const d = obj(root.dock, 'dock');
  only(d, ['at'], 'dock');
  const dock = { atMs: d.at === undefined ? durationMs : time(d.at, 'dock.at') };

  return {
    name,
    description: typeof root.description === 'string' ? root.description : '',
    durationMs,
    camera,
    storage: storageOf ?? { blocks, blockLength },
    battery,
    presses,
    powerCuts,
    sensor,
    link: { faults },
    dock,
    rebootMs: root.rebootSeconds === undefined ? 2000 : int(root.rebootSeconds, 'rebootSeconds', 0, 600) * 1000,
  };
}

/** The scale a scenario asks for in npm test (`testScale`, default 1). */
export function testScaleOf(json: unknown): number {
  const v = (json as { testScale?: unknown } | null)?.testScale;
  return typeof v === 'number' && v > 0 && v <= 1 ? v : 1;
}
