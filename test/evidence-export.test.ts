// What an export checks before it shows a frame: the signed manifest's frame count and first and
// last times must be those of the frame headers it summarises, and the headers may not count
// more lost frames than the manifest does.

import test from 'ava';
import { checkFramesAgainstManifest } from '../evidence/export.js';
import { encodeFrameHeader } from '../firmware/encoder/frame-record.js';
import type { Manifest } from '../firmware/signing/manifest.js';
import { concat } from './helpers/signing.js';

const JPEG = Uint8Array.from([0xff, 0xd8, 0xff, 0xd9]);
const frame = (n: number, mono: number, utc: number, dropped = 0) =>
  concat([encodeFrameHeader({ flags: 1 | (n === 0 ? 8 : 0) | (dropped ? 4 : 0), width: 320, height: 240, frameRate: 10, clockSource: 'dock', frameNumber: n, monotonicMs: mono, utcMs: utc, droppedBefore: dropped, gapMs: dropped ? 300 : 0, droppedTotal: dropped, jpegLength: 4 }), JPEG]);

const media = concat([frame(0, 1000, 5000), frame(1, 1100, 5100), frame(2, 1400, 5400, 2)]);
const manifest = { frames: 3, dropped: 2, firstMono: 1000, lastMono: 1400, firstUtc: 5000, lastUtc: 5400 } as Manifest;

test('a manifest that summarises its frames exactly passes', (t) => {
  t.deepEqual(checkFramesAgainstManifest(media, manifest), []);
  // A frame lost at a cut is counted by the manifest and in no header: more in the manifest is fine.
  t.deepEqual(checkFramesAgainstManifest(media, { ...manifest, dropped: 3 }), []);
});

test('times, counts and losses that differ from the frame headers are findings', (t) => {
  t.deepEqual(checkFramesAgainstManifest(media, { ...manifest, lastUtc: 9999 }).map((f) => f.code), ['frames-time']);
  t.deepEqual(checkFramesAgainstManifest(media, { ...manifest, firstMono: 0, firstUtc: 1 }).map((f) => f.code), ['frames-time', 'frames-time']);
  t.deepEqual(checkFramesAgainstManifest(media, { ...manifest, frames: 4 }).map((f) => f.code), ['frames-count']);
  t.deepEqual(checkFramesAgainstManifest(media, { ...manifest, dropped: 0 }).map((f) => f.code), ['frames-dropped']);
  t.deepEqual(checkFramesAgainstManifest(media.subarray(0, media.length - 1), manifest).map((f) => f.code), ['frames-unreadable']);
});
