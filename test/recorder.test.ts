// The recorder state machine, on the real firmware over simulated hardware: every state and
// transition, the button gestures, LED and haptic feedback, rollover, power cuts, battery,
// storage full, docking and faults. The core gestures and the power-cut resume run on both
// engines; the rest on node.

import test from 'ava';
import { FLAG_CLEAN_CLOSE, FLAG_PRE_EVENT, FLAG_RECOVERED } from '../firmware/signing/manifest.js';
import { FrameFlags } from '../firmware/encoder/frame-record.js';
import { HAPTIC, LED_COLOURS } from '../firmware/recorder/indicators.js';
import { openLedgerEntry, verifyLedger } from '../firmware/recorder/ledger-verify.js';
import { manifestDigest } from '../firmware/signing/manifest.js';
import { nodeDigest } from '../host-sim/node/hardware.js';
import { DEVICE, TestCamera } from './helpers/recorder.js';
import { fitMode } from '../firmware/provision/config.js';
import { hostEd25519 } from '../host/ed25519-node.js';
import type { EngineName } from '../host-sim/engine.js';
import { startStation } from './helpers/dock.js';
import { peekCertificate } from '../firmware/signing/certificate.js';
import { startEngine } from '../host-sim/engine.js';

const ed = hostEd25519();
const LONG_HOLD = 3000;

function events(c: TestCamera): string[] {
  const pk = publicKeyOf(c);
  return c.ledgerEntries().map((e) => openLedgerEntry(e, pk, ed).event);
}

/** The camera's public key, from the certificate the test root issued it. */
function publicKeyOf(c: TestCamera): Uint8Array {
  return peekCertificate(c.keys().get('identity.cert')!).publicKey;
}

for (const engine of ['node', 'xs'] as EngineName[]) {
  test(`[${engine}] press starts at once with the pre-event buffer promoted (no gap); a long press of a new press stops`, async (t) => {
    const c = await TestCamera.start({ engine, preEventSeconds: 10, segmentSeconds: 30 });
    try {
      let s = await c.status();
      t.is(s.state, 'standby');
      t.is(c.led().at(-1), LED_COLOURS.standby);
      await c.run(15_000); // more than the 10 s window: the oldest frames age out
      t.is((await c.status()).evidenceFrames, 0, 'standby frames are provisional');

      await c.button(true);
      s = await c.status();
      t.is(s.state, 'recording', 'recording starts on the down edge');
      t.is(c.led().at(-1), LED_COLOURS.recording);
      t.is(c.haptic().at(-1), HAPTIC.start);
      // The promoted frames are hashed into the manifest in timer slices after the press, not in it.
      await c.run(100);
      s = await c.status();
      t.true(s.evidenceFrames >= 45 && s.evidenceFrames <= 57, `about 10 s of pre-event frames at 5 fps promoted (${s.evidenceFrames})`);
      await c.run(LONG_HOLD - 100);
      await c.button(false);
      t.is((await c.status()).state, 'recording', 'holding the press that started recording does not stop it');

      await c.run(5000);
      await c.press();
      t.is((await c.status()).state, 'recording', 'a short press while recording does not stop');
      t.is(c.haptic().at(-1), HAPTIC.reminder);

      await c.longPress();
      s = await c.status();
      t.is(s.state, 'standby');
      const leds = c.led();
      t.deepEqual(leds.slice(-3), [LED_COLOURS.recording, LED_COLOURS.stopping, LED_COLOURS.standby]);
      t.is(c.haptic().at(-1), HAPTIC.stop);

      const segs = c.segments();
      t.is(segs.length, 1);
      const seg = segs[0];
      t.is(seg.manifest.seq, 0);
      t.is(seg.manifest.prev, null);
      t.is(seg.manifest.flags, FLAG_PRE_EVENT | FLAG_CLEAN_CLOSE);
      t.is(seg.manifest.frames, seg.frameNumbers.length);
      t.is(seg.manifest.dropped, 0);
      // One run of frame numbers from the ring into the recording: nothing missing at the press.
      for (let i = 1; i < seg.frameNumbers.length; i++) t.is(seg.frameNumbers[i], seg.frameNumbers[i - 1] + 1);
      const pre = seg.flags.filter((f) => f & FrameFlags.PRE_EVENT).length;
      t.true(pre >= 45 && pre <= 56);
      t.true(seg.flags.slice(pre).every((f) => !(f & FrameFlags.PRE_EVENT)), 'pre-event frames come first, then evidence');
      t.deepEqual(events(c), ['powered-on', 'buffering', 'recording', 'stopped', 'buffering']);
    } finally {
      await c.close();
    }
  });

  test(`[${engine}] a power cut while recording: the open segment is signed as recovered, recording resumes with the same id and the gap is in the ledger`, async (t) => {
    const c = await TestCamera.start({ engine, segmentSeconds: 10, preEventSeconds: 5 });
    try {
      await c.run(6000);
      await c.press();
      await c.run(13_000); // one rollover, then into the second segment
      const before = await c.status();
      const after = await c.powerCut(3000);
      t.is(after.state, 'recording');
      t.true(after.powerCutDetected);
      t.is(after.boot, before.boot + 1);
      t.is(after.segmentsRecovered, 1);
      t.is(c.led().at(-1), LED_COLOURS.recording, 'a recording camera looks like one after the reboot');
      await c.run(4000);
      await c.longPress();
      const segs = c.segments();
      t.deepEqual(segs.map((s) => s.manifest.seq), [0, 1, 2]);
      t.is(segs[1].manifest.flags & FLAG_RECOVERED, FLAG_RECOVERED);
      t.true(segs[1].manifest.frames >= before.evidenceFrames - segs[0].manifest.frames, 'the recovered segment holds every frame committed before the cut');
      t.deepEqual(new Set(segs.map((s) => s.manifest.recording)).size, 1, 'one recording across the reboot');
      t.is(segs[2].manifest.boot, after.boot);
      // The chain goes through the recovered segment, whose manifest is its trailer (not a KeyStore key).
      t.is(c.keys().get('rm.1'), undefined);
      t.deepEqual(segs[2].manifest.prev, manifestDigest(c.manifests().get(1)!, nodeDigest));
      const names = events(c);
      t.deepEqual(names.slice(-6), ['powered-on', 'power-cut-detected', 'segment-recovered', 'recording', 'stopped', 'buffering']);
      const resumed = c.ledgerEntries().map((e) => openLedgerEntry(e, publicKeyOf(c), ed)).find((e) => e.event === 'recording' && e.detail.get('resumed') === true)!;
      const gap = resumed.detail.get('gapMs') as number;
      t.true(gap >= 3000 && gap < 3500, `the gap is the time the camera was off (${gap} ms)`);
      t.true(verifyLedger(c.ledgerEntries(), { device: DEVICE, publicKey: publicKeyOf(c), digest: nodeDigest, ed25519: ed }).valid);
      // A frame the cut tore in flight (0 or 1) is in the ledger and counted in the recovered manifest.
      const recovered = c.ledgerEntries().map((e) => openLedgerEntry(e, publicKeyOf(c), ed)).find((e) => e.event === 'segment-recovered')!;
      const lostAtCut = recovered.detail.get('lostAtCut') as number;
      t.true(lostAtCut === 0 || lostAtCut === 1);
      t.is(recovered.detail.get('dropped'), segs[1].manifest.dropped);
      t.true(segs[1].manifest.dropped >= lostAtCut);
    } finally {
      await c.close();
    }
  });
}

test('[node] segments roll over at the configured length with no dropped frame, each chained to the one before', async (t) => {
  const c = await TestCamera.start({ engine: 'node', segmentSeconds: 10, preEventSeconds: 0 });
  try {
    await c.press();
    await c.run(35_000);
    await c.longPress();
    const segs = c.segments();
    t.is(segs.length, 4);
    let prevDigest: Uint8Array | null = null;
    let lastFrame = -1;
    for (const s of segs) {
      t.is(s.manifest.dropped, 0);
      t.is(s.manifest.flags, FLAG_CLEAN_CLOSE);
      if (prevDigest) t.deepEqual(s.manifest.prev, prevDigest);
      for (const n of s.frameNumbers) {
        if (lastFrame >= 0) t.is(n, lastFrame + 1);
        lastFrame = n;
      }
      prevDigest = manifestDigest(c.manifests().get(s.seq)!, nodeDigest);
    }
    t.true(segs.slice(0, 3).every((s) => s.manifest.lastMono - s.manifest.firstMono < 10_000), 'each full segment spans less than its length');
  } finally {
    await c.close();
  }
});

test('[node] battery: a low warning once, then below critical the segment is sealed and the camera shuts down cleanly', async (t) => {
  const c = await TestCamera.start({ engine: 'node', segmentSeconds: 30 });
  try {
    await c.press();
    await c.run(5000);
    c.battery(3500, false);
    await c.run(25_000);
    t.is((await c.status()).state, 'recording');
    t.is(c.haptic().filter((h) => h === HAPTIC.alert).length, 1, 'one low-battery warning');
    c.battery(3400, false);
    await c.run(10_000);
    const s = await c.status();
    t.is(s.state, 'off');
    t.is(c.led().at(-1), LED_COLOURS.off);
    const segs = c.segments();
    t.true(segs.length >= 1 && segs.every((x) => x.manifest.flags & FLAG_CLEAN_CLOSE));
    t.deepEqual(events(c).slice(-4), ['battery-low', 'battery-critical', 'stopped', 'powered-off']);
    // The next boot knows it was a clean shutdown, and does not resume recording.
    await c.close();
    c.battery(4100, false);
    c.engine = await startEngine('node', c.hw.platform());
    const again = await c.boot();
    t.false(again.powerCutDetected);
    t.is(again.state, 'standby');
  } finally {
    await c.close();
  }
});

test('[node] storage full: recording stops, every segment is kept, the camera signals, a press alerts again', async (t) => {
  const c = await TestCamera.start({ engine: 'node', blocks: 512, segmentSeconds: 10, frameRate: 15, preEventSeconds: 0 });
  try {
    await c.press();
    for (let i = 0; i < 40 && (await c.status()).state === 'recording'; i++) await c.run(10_000);
    const s = await c.status();
    t.is(s.state, 'storage-full');
    t.is(c.led().at(-1), LED_COLOURS['storage-full']);
    t.not(LED_COLOURS['storage-full'], LED_COLOURS.recording);
    const segs = c.segments();
    t.is(segs.length, s.segmentsSealed, 'every sealed segment is still there');
    t.is(segs.reduce((n, x) => n + x.manifest.frames, 0), s.evidenceFrames, 'every committed frame is kept');
    t.true(events(c).includes('storage-full'));
    const pulses = c.haptic().length;
    await c.press();
    t.is((await c.status()).state, 'storage-full');
    t.is(c.haptic().length, pulses + 1);
    t.is(c.haptic().at(-1), HAPTIC.alert);
  } finally {
    await c.close();
  }
});

test('[node] docked: charging stops a recording and uploads at the dock; unplugged it buffers again', async (t) => {
  const { station, port } = await startStation();
  const c = await TestCamera.start({ engine: 'node', dockPort: port, segmentSeconds: 10 });
  try {
    await c.press();
    await c.run(12_000);
    c.battery(4100, true);
    await c.run(10_000);
    let s = await c.status();
    t.is(s.state, 'docked');
    t.is(c.led().at(-1), LED_COLOURS.docked);
    for (let i = 0; i < 200 && (await c.status()).session === 'active'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      await c.engine.pump();
    }
    await station.idle();
    s = await c.status();
    t.is(s.sessions.completed, 1, JSON.stringify(s.sessions));
    t.is(s.storage.segmentsAwaitingUpload, 0, 'everything uploaded and released after the receipt');
    t.deepEqual(s.sessions.released, [0, 1]);
    c.battery(4100, false);
    await c.run(10_000);
    t.is((await c.status()).state, 'standby');
    t.deepEqual(events(c).slice(-7), ['stopped', 'docked', 'clock-set', 'released', 'dock-session', 'undocked', 'buffering']);
  } finally {
    await c.close();
    await station.close();
  }
});

test('[node] a sensor that gives raw frames is a fault, in the ledger, on the LED', async (t) => {
  const c = await TestCamera.start({ engine: 'node', camera: { imageType: 'yuv422' } });
  try {
    const s = await c.status();
    t.is(s.state, 'fault');
    t.regex(s.lastError, /E_CAMERA_RAW_ONLY/);
    t.is(c.led().at(-1), LED_COLOURS.fault);
    t.deepEqual(events(c), ['powered-on', 'fault']);
    await c.press();
    t.is((await c.status()).state, 'fault');
  } finally {
    await c.close();
  }
});

test('[node] a recording camera never shows an idle colour, and no other state is red', (t) => {
  for (const [state, colour] of Object.entries(LED_COLOURS)) if (state !== 'recording') t.not(colour, LED_COLOURS.recording, state);
  t.not(LED_COLOURS.recording, 0);
});

for (const engine of ['node', 'xs'] as EngineName[]) {
  test(`[${engine}] a one-colour LED is lit only while recording (and sealing): recording never looks like standby`, async (t) => {
    const c = await TestCamera.start({ engine, preEventSeconds: 5, segmentSeconds: 30, monoLed: true });
    try {
      t.is((await c.status()).state, 'standby');
      t.is(c.led().at(-1), 0, 'dark in standby');
      await c.button(true);
      await c.button(false);
      t.is((await c.status()).state, 'recording');
      t.is(c.led().at(-1), 1, 'lit while recording');
      await c.run(3000);
      await c.longPress();
      t.is((await c.status()).state, 'standby');
      t.deepEqual(c.led().slice(-2), [1, 0], 'lit while the last segment is sealed, then dark');
      t.true(c.led().every((v) => v === 0 || v === 1), 'only on and off are written to a one-colour LED');
    } finally {
      await c.close();
    }
  });
}

test('fitMode: a configuration for every camera meets each board as the board can record it', (t) => {
  const ov2640: [number, number, number][] = [[1280, 720, 12], [800, 600, 25]];
  const gc0308: [number, number, number][] = [[640, 480, 5]];
  const mode = (w: number, h: number, f: number, modes?: [number, number, number][]) => Object.values(fitMode({ width: w, height: h, frameRate: f }, modes));
  t.deepEqual(mode(800, 600, 25, ov2640), [800, 600, 25]);
  t.deepEqual(mode(1280, 720, 25, ov2640), [1280, 720, 12], 'HD at the rate the sensor gives it');
  t.deepEqual(mode(640, 480, 30, ov2640), [640, 480, 25], 'a smaller window at the fastest rate of a mode holding it');
  t.deepEqual(mode(1600, 1200, 10, ov2640), [1280, 720, 10], 'beyond every mode: the largest');
  t.deepEqual(mode(800, 600, 25, gc0308), [640, 480, 5]);
  t.deepEqual(mode(320, 240, 15, gc0308), [320, 240, 5]);
  t.deepEqual(mode(800, 600, 25, undefined), [800, 600, 25], 'no modes: as asked');
});

test('[node] a signed configuration asking more than the board gives: the camera records the nearest mode it has and says so in its ledger', async (t) => {
  // One configuration for the agency, SVGA at 25 fps, on a GC0308 board (VGA at 5 fps).
  const c = await TestCamera.start({ engine: 'node', width: 800, height: 600, frameRate: 25, preEventSeconds: 0, board: { width: 640, height: 480, frameRate: 5, modes: [[640, 480, 5]] } });
  try {
    const s = await c.status();
    t.deepEqual([s.config.width, s.config.height, s.config.frameRate], [640, 480, 5]);
    await c.press();
    await c.run(4_000);
    await c.longPress();
    const segs = c.segments();
    t.true(segs.length >= 1);
    for (const seg of segs) t.deepEqual([seg.manifest.width, seg.manifest.height], [640, 480]);
    const frames = segs.reduce((n, seg) => n + seg.manifest.frames, 0);
    t.true(frames >= 15 && frames <= 35, `${frames} frames in about 6 s at 5 fps`);
    const limited = c.ledgerEntries().filter((e) => Buffer.from(e).includes(Buffer.from('recording-mode-limited')));
    t.is(limited.length, 1);
    t.true(Buffer.from(limited[0]).includes(Buffer.from('800x600 at 25 fps')) && Buffer.from(limited[0]).includes(Buffer.from('640x480 at 5 fps')));
  } finally {
    await c.close();
  }
});

for (const engine of ['node', 'xs'] as EngineName[]) {
  test(`[${engine}] the signed configuration's JPEG quality is what the camera is opened with`, async (t) => {
    const c = await TestCamera.start({ engine, quality: 20, preEventSeconds: 0 });
    try {
      await c.press();
      await c.run(1_000);
      t.is(c.cam.quality, 20);
      await c.longPress();
    } finally {
      await c.close();
    }
  });
}
