// The dock channel's cost (issue 22): what the camera spends per MiB it uploads on the sealed
// channel (protocol version 2: ChaCha20-Poly1305 through the Cipher port) against version 1's HMAC
// channel (host-sim/candidates/session-mac), in XS compute units (xs engine) and Cortex-M7
// instructions (mcu engine), firmware only: the camera's answer to each pull (frame read and
// opened, pull decoded, chunk encoded with room, sealed in place) through the guest entries
// dock.channel.prepare/answer. The bytes themselves go through native ports (ChaCha20-Poly1305, SHA-256,
// CRC-32): in C on a device (Moddable's crypt and crc), across the bridge here, which both figures
// leave out. Then the station's own rate on Node, both ways: opening chunks from a camera and
// sealing chunks to one (firmware images go that way), each against the HMAC channel, in one run.

import { FrameReader } from '../../firmware/dock/frame.js';
import { decodeMessage, encodeMessage, encodeMessageWithRoom } from '../../firmware/dock/messages.js';
import { deriveSessionKeys, ephemeralKey, SEALED_PREFIX, SEALED_SUFFIX, SessionChannel } from '../../firmware/dock/session-keys.js';
import { nodeChecksum, nodeCipher, nodeDigest } from '../../host/ports.js';
import { deriveMacKeys, MAC_PREFIX, MAC_SUFFIX, SessionMac } from '../../host-sim/candidates/session-mac/session-mac.js';
import { startEngine } from '../../host-sim/engine.js';
import { startMcuEngine } from '../../host-sim/mcu/engine.js';
import { SimHardware } from '../../host-sim/node/hardware.js';
import { bestOf, type Report } from '../report.js';

const KiB = 1024;
const MiB = 1024 * KiB;

type Kind = 'aead' | 'mac';

/**
 * Pulls answered per measurement: enough that the garbage collections they cause are part of the
 * figure rather than an accident of where one falls (with 16 pulls of 64 KiB, one collection more
 * or less moved the device's count per MiB by a fifth).
 */
const PULLS = 64;

/**
 * Firmware cost of the camera answering PULLS pulls of `chunk` bytes on channel `kind` ('plain': no
 * channel, the floor), each on a fresh engine: the cost of allocating a chunk's message depends on
 * the heap the calls before it left (XS's garbage collector), so every measurement starts alike.
 */
async function answer(engine: 'xs' | 'mcu', kind: Kind | 'plain', chunk: number): Promise<number> {
  const e = engine === 'mcu' ? await startMcuEngine(new SimHardware().platform()) : await startEngine('xs', new SimHardware().platform());
  try {
    await e.call('dock.channel.prepare', kind, chunk, PULLS);
    const r = await e.call('dock.channel.answer');
    const bytes = r.value as number;
    if (bytes < chunk * PULLS) throw new Error(`the ${kind} channel made ${bytes} bytes of chunk frames for ${chunk * PULLS} bytes of media`);
    return r.meter!.firmware;
  } finally {
    await e.close();
  }
}

/** The median of `runs` measurements. */
async function median(runs: number, f: () => Promise<number>): Promise<number> {
  const v: number[] = [];
  for (let i = 0; i < runs; i++) v.push(await f());
  return v.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

/** The station's side on Node: a camera channel and a dock channel under one exchange's keys. */
function pair(kind: Kind): { camera: SessionChannel | SessionMac; dock: SessionChannel | SessionMac } {
  const c = ephemeralKey(new Uint8Array(32).fill(7));
  const d = ephemeralKey(new Uint8Array(32).fill(9));
  const h = new Uint8Array(32).fill(1);
  if (kind === 'aead') {
    return {
      camera: new SessionChannel({ cipher: nodeCipher, checksum: nodeChecksum, keys: deriveSessionKeys(nodeDigest, c.secret, d.publicKey, h), role: 'camera' }),
      dock: new SessionChannel({ cipher: nodeCipher, checksum: nodeChecksum, keys: deriveSessionKeys(nodeDigest, d.secret, c.publicKey, h), role: 'dock' }),
    };
  }
  return {
    camera: new SessionMac({ digest: nodeDigest, checksum: nodeChecksum, keys: deriveMacKeys(nodeDigest, c.secret, d.publicKey, h), role: 'camera' }),
    dock: new SessionMac({ digest: nodeDigest, checksum: nodeChecksum, keys: deriveMacKeys(nodeDigest, d.secret, c.publicKey, h), role: 'dock' }),
  };
}

/**
 * The station's MiB/s on `kind`: `into` — frames a camera sealed, read (FrameReader, adopting the
 * buffers as it does a socket's), opened and decoded as the session does; `out` — 64 KiB chunk
 * payloads sealed as the session sends them (sealPayload).
 */
async function stationRate(kind: Kind, total: number): Promise<{ into: number; out: number }> {
  const chunk = 64 * KiB;
  const data = new Uint8Array(chunk).map((_, i) => (i * 31) & 255);
  const count = total / chunk;
  const { camera, dock } = pair(kind);
  const prefix = kind === 'aead' ? SEALED_PREFIX : MAC_PREFIX;
  const suffix = kind === 'aead' ? SEALED_SUFFIX : MAC_SUFFIX;
  const sealed: Uint8Array[] = [];
  for (let i = 0; i < count; i++) sealed.push(camera.seal(encodeMessageWithRoom('chunk', { seq: 0, offset: i * chunk, data }, prefix, suffix)));
  const reader = new FrameReader(nodeChecksum, { adopt: true });
  let opened = 0;
  const into = await bestOf(1, () => {
    for (const f of sealed) {
      for (const ev of reader.push(f)) {
        if (ev.kind !== 'message') throw ev.error;
        const m = decodeMessage(dock.open(ev), { shareBytes: true });
        opened += (m.f.get('data') as Uint8Array).length;
      }
    }
  });
  if (opened !== total) throw new Error(`opened ${opened} of ${total} bytes`);
  const payload = encodeMessage('update-chunk', { version: '1.2.3', total: 16 * MiB, offset: 0, data });
  const out = await bestOf(1, () => {
    for (let i = 0; i < count; i++) dock.sealPayload(payload);
  });
  return { into: total / MiB / (into / 1000), out: total / MiB / (out / 1000) };
}

export default async function channel(report: Report): Promise<void> {
  report.section("channel: the camera's cost per MiB uploaded, sealed channel (ChaCha20-Poly1305) vs version 1's HMAC channel vs no channel, firmware only");
  const kinds = ['aead', 'mac', 'plain'] as const;
  const xs: Record<string, number> = {};
  const mcu: Record<string, number> = {};
  for (const kind of kinds) {
    for (const k of [64, 4]) {
      // XS's meter repeats to the unit; the device's count moves a little run to run (a median of 3).
      xs[`${kind} ${k}`] = await answer('xs', kind, k * KiB);
      mcu[`${kind} ${k}`] = await median(3, () => answer('mcu', kind, k * KiB));
    }
  }
  const perMiB = (f: Record<string, number>, kind: string, k = 64) => f[`${kind} ${k}`] / ((k * KiB * PULLS) / MiB);
  const channelPerChunk = (f: Record<string, number>, kind: string, k: number) => (f[`${kind} ${k}`] - f[`plain ${k}`]) / PULLS;
  report.add({ name: 'per MiB uploaded (64 KiB chunks), sealed channel', value: perMiB(xs, 'aead'), unit: 'XS compute units', baseline: { name: 'HMAC channel', value: perMiB(xs, 'mac') } });
  report.add({ name: 'per MiB uploaded (64 KiB chunks), sealed channel', value: perMiB(xs, 'aead'), unit: 'XS compute units', baseline: { name: 'no channel (frames in clear)', value: perMiB(xs, 'plain') } });
  report.add({ name: "the sealed channel's own cost per 64 KiB chunk (sealed less no channel)", value: channelPerChunk(xs, 'aead', 64), unit: 'XS compute units', baseline: { name: 'per 4 KiB chunk', value: channelPerChunk(xs, 'aead', 4) } });
  report.add({ name: "the HMAC channel's own cost per 64 KiB chunk", value: channelPerChunk(xs, 'mac', 64), unit: 'XS compute units', baseline: { name: 'per 4 KiB chunk', value: channelPerChunk(xs, 'mac', 4) } });
  report.add({ name: 'per MiB uploaded (64 KiB chunks), sealed channel', value: perMiB(mcu, 'aead'), unit: 'MCU instructions', baseline: { name: 'HMAC channel', value: perMiB(mcu, 'mac') } });
  report.add({ name: 'per MiB uploaded (64 KiB chunks), sealed channel', value: perMiB(mcu, 'aead'), unit: 'MCU instructions', baseline: { name: 'no channel (frames in clear)', value: perMiB(mcu, 'plain') } });
  report.add({ name: 'per MiB uploaded (4 KiB chunks), sealed channel', value: perMiB(mcu, 'aead', 4), unit: 'MCU instructions', baseline: { name: 'HMAC channel', value: perMiB(mcu, 'mac', 4) } });
  const ms = (instructions: number) => ((instructions / 240e6) * 1000).toFixed(0);
  report.note(`at 240 MHz the camera's JavaScript spends about ${ms(perMiB(mcu, 'aead'))} ms per MiB uploaded on the sealed channel, ${ms(perMiB(mcu, 'mac'))} ms on the HMAC channel, ${ms(perMiB(mcu, 'plain'))} ms with no channel (most of it the chunk's message: encoded, allocated, collected)`);
  report.note('not in these figures: the native passes over the bytes (ChaCha20 and Poly1305 for the sealed channel, SHA-256 for the HMAC channel, CRC-32 for both), which run in C behind the Cipher, Digest and Checksum ports (Moddable\'s crypt and crc on a device)');

  report.section("channel: the station's rate on one core (Node), 64 KiB chunks, both ways");
  const total = 128 * MiB;
  // Each way twice, alternating, best of the two: the first pass warms the JIT and the allocator.
  let aead = { into: 0, out: 0 };
  let mac = { into: 0, out: 0 };
  for (let i = 0; i < 2; i++) {
    const a = await stationRate('aead', total);
    const m = await stationRate('mac', total);
    aead = { into: Math.max(aead.into, a.into), out: Math.max(aead.out, a.out) };
    mac = { into: Math.max(mac.into, m.into), out: Math.max(mac.out, m.out) };
  }
  report.add({ name: 'camera → station: chunk frames read, opened and decoded', value: aead.into, unit: 'MiB/s', baseline: { name: 'HMAC channel', value: mac.into } });
  report.add({ name: 'station → camera: chunk payloads sealed (firmware images go this way)', value: aead.out, unit: 'MiB/s', baseline: { name: 'HMAC channel', value: mac.out } });
  report.note('the whole docking over loopback, sealed, is in the ingest and dock sections (the replay camera seals as a camera does)');
}
