// Audio and honest frame rates (issue 17): the real firmware (firmware/main.ts through the
// recorder.* entries, test/helpers/recorder.ts) recording SVGA at 25 fps — the rate the OV2640
// boards now default to — on the mcu engine (exact Cortex-M7 instructions) and in XS (compute
// units), three ways: video alone, video with PCM sound (the default), video with IMA ADPCM sound.
// Per second of recording, firmware only (the bridge is a native port call on a device), every
// step included — the segment signatures too, at one every 10 s (three times as often as the
// default 30-s segments) —; against one 240 MHz core. And bytes per hour of each.

import { TestCamera } from '../../test/helpers/recorder.js';
import { synthetic } from '../../host-sim/sensor/sim-camera.js';
import { parseSegmentMedia } from '../../firmware/encoder/frame-record.js';
import type { Report } from '../report.js';

const FPS = 25;
const WIDTH = 800;
const HEIGHT = 600;
/** An OV2640's SVGA JPEG at quality 12 is about this size (FIELD-NOTES: ~25 KiB a frame): frames are padded up to it (the synthetic sensor's SVGA frames are larger, about 32 KB: bytes an hour are also reckoned for 25 KiB). */
const FRAME_BYTES = 25 * 1024;
const SEGMENT_S = 10;
const SECONDS = 20;
const CORE = 240e6;

interface Session {
  /** Firmware cost of each timer step while recording. */
  steps: number[];
  sealed: number;
  frames: number;
  blocks: number;
  /** Media bytes of frames and of sound recorded in the window's segments. */
  videoBytes: number;
  videoFrames: number;
  audioBytes: number;
  mediaSeconds: number;
}

async function session(engine: 'mcu' | 'xs', audio: 'off' | 'pcm' | 'adpcm'): Promise<Session> {
  const c = await TestCamera.start({
    engine, frameRate: FPS, width: WIDTH, height: HEIGHT, segmentSeconds: SEGMENT_S, preEventSeconds: 2, blocks: 16384,
    camera: { source: synthetic({ frameBytes: FRAME_BYTES }) },
    ...(audio === 'off' ? {} : { microphone: {}, settings: { audioCodec: audio } }),
  });
  try {
    await c.run(3000);
    await c.press();
    await c.run(500);
    const before = await c.status();
    c.engine.takeCallbackCompute();
    const steps: number[] = [];
    const until = c.hw.clock.monotonic() + SECONDS * 1000;
    for (let next = c.hw.timer.nextAt(); next !== undefined && next <= until; next = c.hw.timer.nextAt()) {
      c.hw.timer.runUntil(next);
      await c.engine.pump();
      steps.push(c.engine.takeCallbackCompute());
    }
    const after = await c.status();
    let videoBytes = 0;
    let videoFrames = 0;
    let audioBytes = 0;
    let first = Infinity;
    let last = 0;
    for (const s of c.segments()) {
      const m = parseSegmentMedia(c.media(s.seq));
      for (const f of m.frames) {
        videoBytes += 48 + f.jpeg.length;
        videoFrames++;
        first = Math.min(first, f.header.monotonicMs);
        last = Math.max(last, f.header.monotonicMs);
      }
      for (const a of m.audio) audioBytes += 48 + a.data.length;
    }
    return {
      steps, sealed: after.segmentsSealed - before.segmentsSealed, frames: after.evidenceFrames - before.evidenceFrames,
      blocks: after.audio.blocks - before.audio.blocks, videoBytes, videoFrames, audioBytes, mediaSeconds: (last - first) / 1000 + 1 / FPS,
    };
  } finally {
    await c.close();
  }
}

/** Everything the firmware did while recording, per second (signatures sliced over timers included). */
function perSecond(s: Session): number {
  return s.steps.reduce((n, x) => n + x, 0) / SECONDS;
}

export default async function audio(report: Report): Promise<void> {
  report.section(`audio: recording SVGA at ${FPS} fps for ${SECONDS} s with and without sound, firmware only, signing included (${SEGMENT_S}-s segments)`);
  const runs = {} as Record<'off' | 'pcm' | 'adpcm', { mcu: Session; xs: Session }>;
  for (const a of ['off', 'pcm', 'adpcm'] as const) runs[a] = { mcu: await session('mcu', a), xs: await session('xs', a) };
  for (const a of ['off', 'pcm', 'adpcm'] as const) {
    const { mcu, xs } = runs[a];
    if (mcu.frames !== xs.frames || mcu.blocks !== xs.blocks) throw new Error(`the mcu and xs sessions differ (${a}): ${mcu.frames}/${mcu.blocks} vs ${xs.frames}/${xs.blocks}`);
  }
  const m = { off: perSecond(runs.off.mcu), pcm: perSecond(runs.pcm.mcu), adpcm: perSecond(runs.adpcm.mcu) };
  const x = { off: perSecond(runs.off.xs), pcm: perSecond(runs.pcm.xs), adpcm: perSecond(runs.adpcm.xs) };
  const label = { off: 'video alone', pcm: 'video + PCM sound (the default)', adpcm: 'video + IMA ADPCM sound' };
  for (const a of ['off', 'pcm', 'adpcm'] as const) {
    report.add({ name: `per second of recording, ${label[a]}`, value: m[a], unit: 'instructions', baseline: { name: 'XS firmware units', value: x[a] } });
  }
  report.add({ name: 'of which sound, PCM (blocks stored and hashed: no JavaScript per sample)', value: m.pcm - m.off, unit: 'instructions', baseline: { name: 'XS firmware units', value: x.pcm - x.off } });
  report.add({ name: 'of which sound, IMA ADPCM (every sample coded in JavaScript)', value: m.adpcm - m.off, unit: 'instructions', baseline: { name: 'XS firmware units', value: x.adpcm - x.off } });
  const off = runs.off.mcu;
  report.add({ name: `per recorded frame, video alone (everything in the window over its ${off.frames} frames, ${off.sealed} signatures included)`, value: (m.off * SECONDS) / off.frames, unit: 'instructions', baseline: { name: `cycles of the ${1000 / FPS} ms a frame lasts`, value: CORE / FPS } });
  const pct = (v: number) => `${((v / CORE) * 100).toFixed(1)} %`;
  report.note(`of one 240 MHz core (one instruction a cycle): video alone ${pct(m.off)}, with PCM sound ${pct(m.pcm)}, with IMA ADPCM ${pct(m.adpcm)} — the goal is 25 % with signing (here one signature every ${SEGMENT_S} s; the default is one every 30 s)`);
  report.note('native work is not in these figures: the camera driver, the JPEG the sensor makes, the SD writes and the SHA-256 of the media run in C and on DMA; these segments are in the clear: what sealing adds is in the capture-encryption section');

  // Bytes per hour, from the media the sessions stored (frame and audio records, headers included).
  const hour = (bytes: number, seconds: number) => (bytes / seconds) * 3600;
  const pcm = runs.pcm.mcu;
  const adpcm = runs.adpcm.mcu;
  const perFrameBytes = pcm.videoBytes / pcm.videoFrames;
  const video = hour(pcm.videoBytes, pcm.mediaSeconds);
  const reckoned = (48 + FRAME_BYTES) * FPS * 3600;
  report.add({ name: `bytes per hour: video, SVGA at ${FPS} fps as the simulated sensor makes it (${(perFrameBytes / 1024).toFixed(0)} KiB a frame record)`, value: video, unit: 'bytes', baseline: { name: `reckoned for an OV2640's ${FRAME_BYTES / 1024} KiB frames`, value: reckoned } });
  report.add({ name: 'bytes per hour: sound, PCM 16 kHz mono (records and headers)', value: hour(pcm.audioBytes, pcm.mediaSeconds), unit: 'bytes', baseline: { name: 'IMA ADPCM', value: hour(adpcm.audioBytes, adpcm.mediaSeconds) } });
  const withPcm = reckoned + hour(pcm.audioBytes, pcm.mediaSeconds);
  const withAdpcm = reckoned + hour(adpcm.audioBytes, adpcm.mediaSeconds);
  report.note(`with ${FRAME_BYTES / 1024} KiB frames an hour is ${(withPcm / 1e9).toFixed(2)} GB with PCM sound (${((hour(pcm.audioBytes, pcm.mediaSeconds) / withPcm) * 100).toFixed(1)} % of it sound), ${(withAdpcm / 1e9).toFixed(2)} GB with ADPCM: a 64 GB card holds ${(64e9 / withPcm).toFixed(1)} h against ${(64e9 / withAdpcm).toFixed(1)} h; ADPCM would cost ${pct(m.adpcm - m.pcm)} more of the core`);
}
