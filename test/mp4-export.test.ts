// The MP4 export and its C2PA content credentials, checked by tools that are not ours:
// - ffprobe and ffmpeg read the fragmented MP4: every video packet is byte for byte the JPEG the
//   camera captured (framemd5 of a stream copy against MD5s of the JPEGs), every frame decodes,
//   every timestamp is the one the frame headers give, a reboot is a hole in the timeline, and
//   the timed-text track reads each frame's UTC and the clock offset;
// - c2pa-rs (the C2PA reference implementation, as @contentauth/c2pa-wasm) validates the
//   credentials against the agency root certificate: signature valid, binding intact, trusted;
//   after one flipped media byte it reports the BMFF hash mismatch;
// - `bodycam verify FILE.mp4` re-verifies down to the camera's signatures from the file alone,
//   and fails a flipped byte as both a broken binding and a segment whose media digest differs.

import test from 'ava';
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFrameHeader, FrameFlags, parseMedia, type FrameHeader } from '../firmware/encoder/frame-record.js';
import { KeyPairSigner } from '../firmware/signing/signer.js';
import { hostEd25519 } from '../host/ed25519-node.js';
import { nodeDigest } from '../host/ports.js';
import { SyntheticFrames } from '../host-sim/sensor/synthetic.js';
import { parseScenario, testScaleOf } from '../host-sim/scenario/format.js';
import { runScenario, SIM_AGENCY, SIM_DEVICE, SIM_EVIDENCE_KEY_FILE, SIM_EVIDENCE_PASSPHRASE } from '../host-sim/scenario/runner.js';
import { loadEvidenceKey } from '../evidence/evidence-keys.js';
import { openSealedSegment } from '../evidence/sealed.js';
import { peekManifest } from '../firmware/signing/manifest.js';
import { loadScenario } from '../cli/sim.js';
import { run } from '../cli/bodycam.js';
import { createRoot, issueExportSigner, openRoot } from '../cli/provision.js';
import { certificatePem, issueRootX509, issueSignerX509, loadSignerIdentity, writeSignerIdentity } from '../evidence/c2pa-certs.js';
import { frameTimeText, listBoxes, planMp4, readFragments, VIDEO_TRACK } from '../evidence/mp4.js';
import { mp4Bytes, mp4Size, writeMp4 } from '../evidence/mp4-export.js';
import { concat } from './helpers/signing.js';

const dir = mkdtempSync(join(tmpdir(), 'bodycam-mp4-'));
test.after.always(() => (process.env.KEEP_MP4_TEST ? undefined : rmSync(dir, { recursive: true, force: true })));
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

interface Packet {
  pts: number;
  size: number;
}

/** ffprobe's packets of one stream, times in ms. */
function packets(file: string, stream: string): Packet[] {
  const out = execFileSync('ffprobe', ['-v', 'error', '-select_streams', stream, '-show_entries', 'packet=pts,size', '-of', 'json', file], { maxBuffer: 256 * 1024 * 1024 });
  return (JSON.parse(out.toString()) as { packets: { pts: number; size: string }[] }).packets.map((p) => ({ pts: p.pts, size: Number(p.size) }));
}

/** MD5 of every video packet as ffmpeg copies it out of the container (no decoding). */
function copiedMd5s(file: string): string[] {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:v:0', '-c', 'copy', '-f', 'framemd5', '-'], { maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(r.stderr.toString());
  return r.stdout.toString().split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(',').pop()!.trim());
}

/** ffmpeg decodes every frame; any decode error fails (-xerror). Returns the number decoded. */
function decodeCount(file: string): number {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-xerror', '-i', file, '-map', '0:v:0', '-f', 'framemd5', '-'], { maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0 || r.stderr.length) throw new Error(`ffmpeg failed (${r.status}): ${r.stderr.toString()}`);
  return r.stdout.toString().split('\n').filter((l) => l && !l.startsWith('#')).length;
}

/** Three segments: a drop inside the first boot, then a reboot with 3 s off. */
function media(): { segments: Uint8Array[]; headers: FrameHeader[]; jpegs: Uint8Array[] } {
  const sensor = new SyntheticFrames({ width: 320, height: 240 });
  const headers: FrameHeader[] = [];
  const jpegs: Uint8Array[] = [];
  const segments: Uint8Array[] = [];
  const base = Date.UTC(2026, 11, 3, 1, 0, 0);
  let n = 0;
  const add = (seg: Uint8Array[], h: Omit<FrameHeader, 'width' | 'height' | 'frameRate' | 'clockSource' | 'jpegLength'>) => {
    const jpeg = new Uint8Array(sensor.frame(n++, h.utcMs));
    const full: FrameHeader = { ...h, width: 320, height: 240, frameRate: 15, clockSource: 'dock', jpegLength: jpeg.length };
    headers.push(full);
    jpegs.push(jpeg);
    seg.push(concat([encodeFrameHeader(full), jpeg]));
  };
  let mono = 5000;
  let utc = base;
  // Boot 1: 20 frames in two segments; 2 frames lost before frame 7.
  for (let s = 0; s < 2; s++) {
    const seg: Uint8Array[] = [];
    for (let i = 0; i < 10; i++) {
      const k = s * 10 + i;
      const dropped = k === 7 ? 2 : 0;
      const step = k === 0 ? 0 : 67 * (dropped + 1);
      mono += step;
      utc += step;
      add(seg, { flags: FrameFlags.KEYFRAME | (k === 0 ? FrameFlags.FIRST : 0) | (dropped ? FrameFlags.AFTER_GAP | FrameFlags.SENSOR_DROP : 0), frameNumber: k, monotonicMs: mono, utcMs: utc, droppedBefore: dropped, gapMs: step, droppedTotal: k >= 7 ? 2 : 0 });
    }
    segments.push(concat(seg));
  }
  // Boot 2: the camera was off for 3 s; monotonic time starts again.
  const seg: Uint8Array[] = [];
  mono = 900;
  utc += 3000;
  for (let k = 0; k < 10; k++) {
    if (k) {
      mono += 67;
      utc += 67;
    }
    add(seg, { flags: FrameFlags.KEYFRAME | (k === 0 ? FrameFlags.FIRST : 0), frameNumber: k, monotonicMs: mono, utcMs: utc, droppedBefore: 0, gapMs: k ? 67 : 0, droppedTotal: 0 });
  }
  segments.push(concat(seg));
  return { segments, headers, jpegs };
}

test('MP4: ffmpeg copies out every JPEG byte for byte and decodes it; times are the frame headers\'; a reboot is a hole; UTC per frame is in a text track', (t) => {
  const { segments, headers, jpegs } = media();
  const plan = planMp4(segments, { segmentSeqs: [40, 41, 42], clockOffsetMs: -250 });
  t.deepEqual(plan.fragments.map((f) => [f.number, f.segment, f.frames.length]), [[1, 40, 10], [2, 41, 10], [3, 42, 10]]);
  const out = join(dir, 'synthetic.mp4');
  const written = writeMp4(plan, out);
  t.is(written.bytes, statSync(out).size);
  // In memory (the console's export of decrypted evidence): the same bytes, in a buffer of the planned size.
  t.is(mp4Size(plan), written.bytes);
  const inMemory = mp4Bytes(plan);
  t.true(Buffer.from(inMemory.bytes).equals(readFileSync(out)));
  t.deepEqual(inMemory.bmffHash, written.bmffHash);
  t.deepEqual(listBoxes(new Uint8Array(readFileSync(out))).map((b) => b.type), ['ftyp', 'moov', ...Array(3).fill(['prft', 'moof', 'mdat']).flat()]);

  const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,codec_tag_string,width,height:format=format_name', '-of', 'json', out]).toString()) as { streams: { codec_name: string; codec_tag_string: string; width: number }[]; format: { format_name: string } };
  t.regex(probe.format.format_name, /mp4/);
  t.deepEqual(probe.streams.map((s) => s.codec_name), ['mjpeg', 'mov_text']);
  t.is(probe.streams[0].width, 320);

  // Byte for byte: the packets ffmpeg copies out are the captured JPEGs, in order.
  t.deepEqual(copiedMd5s(out), jpegs.map(md5));
  t.is(decodeCount(out), 30);

  // Timing, computed here from the headers independently of the muxer.
  const expected: number[] = [];
  headers.forEach((h, i) => {
    if (i === 0) expected.push(0);
    else if (h.flags & FrameFlags.FIRST) expected.push(expected[i - 1] + (h.utcMs - headers[i - 1].utcMs));
    else expected.push(expected[i - 1] + (h.monotonicMs - headers[i - 1].monotonicMs));
  });
  const video = packets(out, 'v:0');
  t.deepEqual(video.map((p) => p.pts), expected);
  t.is(video[7].pts - video[6].pts, 201, 'two lost frames: the frame before is held for three frame times');
  // The reboot: the last frame before it lasts one frame time (the sample duration in the file),
  // then nothing until the camera is back.
  const fragments = readFragments(new Uint8Array(readFileSync(out)));
  const before = fragments[1].tracks.get(VIDEO_TRACK)!;
  t.is(before.samples[9].duration, 67);
  t.is(video[20].pts - video[19].pts, 3000, 'the UTC between the frames either side of the reboot');
  t.is(video[20].pts - (video[19].pts + 67), 3000 - 67, 'a hole: no frame shows for the rest');
  t.is(fragments[2].tracks.get(VIDEO_TRACK)!.baseTime, video[20].pts);
  t.is(plan.gaps.filter((g) => g.kind === 'reboot').length, 1);
  t.is(plan.durationMs, expected[29] + 67);

  // The text track: one sample per frame at the frame's time, reading its UTC and the offset.
  const text = packets(out, 's:0');
  t.deepEqual(text.map((p) => p.pts), expected);
  const srt = execFileSync('ffmpeg', ['-v', 'error', '-i', out, '-map', '0:s:0', '-f', 'srt', '-']).toString();
  t.true(srt.includes(frameTimeText(headers[0], -250)));
  t.true(srt.includes('2026-12-03T01:00:00.000Z camera clock (dock); offset -250 ms; reference 2026-12-03T01:00:00.250Z'));
});

test('the export signer: the armoury issues it from the agency root; OpenSSL accepts the chain; a signer from another root is refused', async (t) => {
  const rootDir = join(dir, 'agency');
  const passphrase = 'correct horse battery staple';
  createRoot({ dir: rootDir, agency: 'Test Constabulary', passphrase, scryptN: 1 << 12 });
  const root = openRoot(rootDir, passphrase, hostEd25519());
  const lines: string[] = [];
  const signerDir = join(dir, 'signer');
  const pass = join(dir, 'pass');
  writeFileSync(pass, passphrase, { mode: 0o600 });
  t.is(await run(['provision', 'export-signer', '--root', rootDir, '--id', 'EVIDENCE-OFFICE', '--out', signerDir, '--passphrase-file', pass], (l) => lines.push(l)), 0, lines.join('\n'));
  t.is(statSync(join(signerDir, 'export.seed')).mode & 0o777, 0o600);
  writeFileSync(join(dir, 'leaf.pem'), certificatePem(readFileSync(join(signerDir, 'export.cert.der'))));
  const verify = spawnSync('openssl', ['verify', '-x509_strict', '-purpose', 'any', '-CAfile', join(rootDir, 'root.cert.pem'), join(dir, 'leaf.pem')]);
  t.is(verify.status, 0, verify.stderr.toString() + verify.stdout.toString());
  const id = loadSignerIdentity(signerDir, root.publicKey, hostEd25519());
  t.regex(id.checked.subject, /EVIDENCE-OFFICE/);
  t.deepEqual(readFileSync(join(signerDir, 'root.cert.der')), readFileSync(join(rootDir, 'root.cert.der')));
  // Pinned to another agency's root, the same folder is refused.
  const other = new KeyPairSigner({ seed: new Uint8Array(32).fill(9), digest: nodeDigest, ed25519: hostEd25519() });
  t.throws(() => loadSignerIdentity(signerDir, other.publicKey, hostEd25519()), { message: /not signed by the pinned agency root/ });
  // A second signer reuses the root certificate the first one made.
  await issueExportSigner({ root, id: 'DOCK-2', out: join(dir, 'signer2') });
  t.deepEqual(readFileSync(join(dir, 'signer2', 'root.cert.der')), readFileSync(join(rootDir, 'root.cert.der')));
});

/** c2pa-rs (the C2PA reference implementation) in WebAssembly, with the agency root as its trust anchor. */
async function c2paValidate(file: string, anchorPem: string): Promise<{ state: string; failures: string[]; successes: string[] }> {
  const require = createRequire(import.meta.url);
  const c2pa = await import('@contentauth/c2pa-wasm');
  c2pa.initSync({ module: readFileSync(require.resolve('@contentauth/c2pa-wasm/c2pa.wasm')) });
  const reader = await c2pa.WasmReader.fromBytes('video/mp4', new Uint8Array(readFileSync(file)), JSON.stringify({ trust: { user_anchors: anchorPem }, verify: { verify_trust: true } }));
  const j = JSON.parse(reader.json()) as { validation_state: string; validation_results: { activeManifest: { failure: { code: string }[]; success: { code: string }[] } } };
  reader.free();
  return { state: j.validation_state, failures: j.validation_results.activeManifest.failure.map((f) => f.code), successes: j.validation_results.activeManifest.success.map((f) => f.code) };
}

test('bodycam export --signer: an MP4 that c2pa-rs calls trusted and intact and bodycam verify re-checks to the camera\'s signatures; a flipped media byte fails both', async (t) => {
  const json = loadScenario('default-shift');
  const sc = parseScenario(json, { scale: testScaleOf(json) });
  const r = await runScenario(sc, { engine: 'node', seed: 1, out: join(dir, 'shift'), export: false });
  t.true(r.ok);
  // The simulator's agency root (its seed is derived from the scenario seed, as the runner does).
  const ed = hostEd25519();
  const root = new KeyPairSigner({ seed: new Uint8Array(createHash('sha256').update('bodycam-sim-root:1').digest()), digest: nodeDigest, ed25519: ed });
  const rootPub = join(dir, 'sim-root.pub');
  writeFileSync(rootPub, root.publicKey);
  t.deepEqual(readFileSync(rootPub), readFileSync(join(dir, 'shift', 'root.pub')));
  const now = Date.now();
  const rootCertificate = await issueRootX509({ root, agency: SIM_AGENCY, serial: 100, notBefore: now - 86_400_000, notAfter: now + 3650 * 86_400_000 });
  const signerSeed = new Uint8Array(32).fill(7);
  const signer = new KeyPairSigner({ seed: signerSeed, digest: nodeDigest, ed25519: ed });
  const certificate = await issueSignerX509({ root, agency: SIM_AGENCY, name: 'DOCK-SIM-1 evidence export', publicKey: signer.publicKey, serial: 101, notBefore: now - 86_400_000, notAfter: now + 365 * 86_400_000 });
  const signerDir = join(dir, 'sim-signer');
  writeSignerIdentity(signerDir, { seed: signerSeed, certificate, rootCertificate, rootKey: root.publicKey });

  // The simulated camera seals what it records to the simulated agency's evidence key (issue 22):
  // the export decrypts with it, and the credentials let bodycam verify seal the frames again.
  const keyFile = join(dir, 'shift', SIM_EVIDENCE_KEY_FILE);
  const pass = join(dir, 'evidence-pass.txt');
  writeFileSync(pass, `${SIM_EVIDENCE_PASSPHRASE}\n`);
  const withKey = ['--evidence-key', keyFile, '--evidence-passphrase-file', pass];
  const examiner = { ...loadEvidenceKey(keyFile, SIM_EVIDENCE_PASSPHRASE), file: keyFile, form: 'sealed' as const };
  const opened = (segDir: string, n: string) => openSealedSegment(new Uint8Array(readFileSync(join(segDir, n))), peekManifest(new Uint8Array(readFileSync(join(segDir, n.replace(/\.media$/, '.manifest.cose'))))).manifest, examiner).media;
  const out = join(dir, 'shift.mp4');
  const lines: string[] = [];
  t.is(await run(['export', '--store', r.evidence, '--device', SIM_DEVICE, '--root', rootPub, '--signer', signerDir, ...withKey, '--out', out], (l) => lines.push(l)), 0, lines.join('\n'));
  t.regex(lines.join('\n'), /credentials: C2PA manifest \(\d+ bytes\) signed by .*DOCK-SIM-1 evidence export/);
  t.regex(lines.join('\n'), /hole before frame 0 .* reboot/);

  // Every JPEG the store holds, in order, is a packet of the MP4, byte for byte, and decodes.
  const segDir = join(r.evidence, 'devices', SIM_DEVICE, 'segments');
  const stored = readdirSync(segDir).filter((n) => n.endsWith('.media')).sort().flatMap((n) => parseMedia(opened(segDir, n)));
  t.deepEqual(copiedMd5s(out), stored.map((f) => md5(f.jpeg)));
  t.is(decodeCount(out), stored.length);

  // The sound: one PCM track, exactly the camera's audio records laid on the timeline as the AVI
  // export lays them; ffmpeg copies it out byte for byte and decodes it.
  const segMedia = readdirSync(segDir).filter((n) => n.endsWith('.media')).sort().map((n) => opened(segDir, n));
  const laid = planMp4(segMedia).sound;
  t.truthy(laid, 'the default shift records sound');
  const audio = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'a:0', '-show_entries', 'stream=codec_name,sample_rate,channels', '-of', 'json', out]).toString()) as { streams: { codec_name: string; sample_rate: string; channels: number }[] };
  t.deepEqual(audio.streams.map((x) => [x.codec_name, Number(x.sample_rate), x.channels]), [['pcm_s16le', laid!.sampleRate, 1]]);
  const copied = spawnSync('ffmpeg', ['-v', 'error', '-xerror', '-i', out, '-map', '0:a:0', '-c', 'copy', '-f', 's16le', '-'], { maxBuffer: 256 * 1024 * 1024 });
  t.is(copied.status, 0, copied.stderr.toString());
  t.is(md5(copied.stdout), md5(laid!.pcm));
  const decodedAudio = spawnSync('ffmpeg', ['-v', 'error', '-xerror', '-i', out, '-map', '0:a:0', '-f', 's16le', '-'], { maxBuffer: 256 * 1024 * 1024 });
  t.is(decodedAudio.status, 0, decodedAudio.stderr.toString());
  t.is(decodedAudio.stdout.length, laid!.pcm.length);

  const anchor = certificatePem(rootCertificate);
  const good = await c2paValidate(out, anchor);
  t.is(good.state, 'Trusted', JSON.stringify(good));
  t.deepEqual(good.failures, []);
  for (const code of ['claimSignature.validated', 'signingCredential.trusted', 'assertion.bmffHash.match']) t.true(good.successes.includes(code), code);

  const verified: string[] = [];
  t.is(await run(['verify', out, '--root', rootPub], (l) => verified.push(l)), 0, verified.join('\n'));
  t.regex(verified.join('\n'), /^OK: the C2PA credentials and \d+ segments signed by the camera verify/m);
  const asJson: string[] = [];
  t.is(await run(['verify', out, '--root', rootPub, '--json'], (l) => asJson.push(l)), 0);
  const ok = JSON.parse(asJson.join('\n')) as { clock: { offsetMs: number; source: string }; segments: { valid: boolean }[]; notes: unknown[] };
  t.is(ok.clock.offsetMs, 0);
  t.regex(ok.clock.source, /^the camera's signed drift statement/);
  t.true(ok.segments.length > 0 && ok.segments.every((x) => x.valid));
  t.is((ok as unknown as { sound: { samples: number } }).sound.samples, laid!.samples);

  // One flipped bit in the middle of a JPEG.
  const bytes = readFileSync(out);
  const mdat = listBoxes(new Uint8Array(bytes)).filter((b) => b.type === 'mdat')[2];
  bytes[mdat.payload + 1000] ^= 0x10;
  const tampered = join(dir, 'tampered.mp4');
  writeFileSync(tampered, bytes);
  const bad = await c2paValidate(tampered, anchor);
  t.is(bad.state, 'Invalid');
  t.true(bad.failures.includes('assertion.bmffHash.mismatch'), JSON.stringify(bad.failures));
  const refused: string[] = [];
  t.is(await run(['verify', tampered, '--root', rootPub, '--json'], (l) => refused.push(l)), 1);
  const report = JSON.parse(refused.join('\n')) as { valid: boolean; findings: { code: string; seq?: number }[] };
  t.false(report.valid);
  t.true(report.findings.some((f) => f.code === 'c2pa-binding-mismatch'));
  t.true(report.findings.some((f) => f.code === 'media-digest-mismatch'), 'the camera\'s own signature catches it too, from the rebuilt segment');

  // Without --signer the MP4 says UNSIGNED, and verify finds nothing to check it by.
  const unsignedOut = join(dir, 'unsigned.mp4');
  const plain: string[] = [];
  t.is(await run(['export', '--store', r.evidence, '--device', SIM_DEVICE, '--root', rootPub, ...withKey, '--out', unsignedOut], (l) => plain.push(l)), 0);
  t.regex(plain.join('\n'), /^UNSIGNED: no --signer/m);
  const unsignedVerify: string[] = [];
  t.is(await run(['verify', unsignedOut, '--root', rootPub], (l) => unsignedVerify.push(l)), 1);
  t.regex(unsignedVerify.join('\n'), /c2pa-missing/);

  // Pinned to another root, the same intact file does not verify.
  const otherRoot = join(dir, 'other-root.pub');
  writeFileSync(otherRoot, new KeyPairSigner({ seed: new Uint8Array(32).fill(3), digest: nodeDigest, ed25519: ed }).publicKey);
  const other: string[] = [];
  t.is(await run(['verify', out, '--root', otherRoot], (l) => other.push(l)), 1);
  t.regex(other.join('\n'), /signer-untrusted/);
});
