// A shift with the agency's evidence key installed (the scenario runner provisions one), docked
// at a real dock station: nothing plaintext on the dock's disk, `bodycam verify` checks it all
// without the key and says what it could not check, `bodycam export --evidence-key` decrypts
// (whole or not at all) and says who decrypted with which key when, export without the key is
// refused with its code, and a segment re-wrapped to another key fails verification.

import test from 'ava';
import { createHash } from 'node:crypto';
import { cpSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode, encode, Tag, type CborValue } from '../firmware/codec/cbor.js';
import { decodeSign1 } from '../firmware/signing/cose.js';
import { parseSegmentMedia } from '../firmware/encoder/frame-record.js';
import { unwrapContentKey, wrapContentKey, recipientValue } from '../firmware/encoder/sealed-record.js';
import { peekManifest } from '../firmware/signing/manifest.js';
import { loadEvidenceKey } from '../evidence/evidence-keys.js';
import { openSealedSegment } from '../evidence/sealed.js';
import { nodeCipher, nodeDigest } from '../host/ports.js';
import { run } from '../cli/bodycam.js';
import { parseScenario } from '../host-sim/scenario/format.js';
import { runScenario, SIM_DEVICE, SIM_EVIDENCE_KEY_FILE, SIM_EVIDENCE_PASSPHRASE } from '../host-sim/scenario/runner.js';
import { loadScenario } from '../cli/sim.js';
import { synthetic } from '../host-sim/sensor/sim-camera.js';
import { tempDir } from './helpers/tmp.js';

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...files(p));
    else if (st.isFile()) out.push(p);
  }
  return out;
}

test('a sealed shift: nothing plaintext on the dock\'s disk; verify without the key; export with it (who, which key, when); refused without it; a re-wrapped segment fails verification', async (t) => {
  const out = tempDir('bodycam-sealed-shift-');
  const sc = parseScenario(loadScenario('default-shift'), { scale: 0.3 });
  const r = await runScenario(sc, { engine: 'node', seed: 11, out, export: true });
  t.true(r.ok, JSON.stringify(r.lost));
  const segDir = join(r.evidence, 'devices', SIM_DEVICE, 'segments');
  const manifests = readdirSync(segDir).filter((f) => f.endsWith('.manifest.cose'));
  t.true(manifests.length >= 2);
  for (const f of manifests) t.truthy(peekManifest(new Uint8Array(readFileSync(join(segDir, f)))).manifest.sealed, `${f} is sealed`);

  // Nothing of a frame anywhere on the dock's disk: no frame or audio header, no JPEG's known bytes.
  const sample = new Uint8Array(synthetic()(sc.camera.width, sc.camera.height).frame(1, Date.UTC(2026, 10, 25)));
  const needles: [string, Buffer][] = [
    ['frame header magic', Buffer.from([0x46, 0x52, 0x01, 0x30])],
    ['audio header magic', Buffer.from([0x41, 0x55, 0x01, 0x30])],
    ['JPEG SOI and what follows', Buffer.from(sample.subarray(0, 8))],
    ['JPEG tables', Buffer.from(sample.subarray(20, 52))],
    ['JPEG tail and EOI', Buffer.from(sample.subarray(sample.length - 24))],
  ];
  const stored = files(r.evidence);
  t.true(stored.length > 10);
  for (const p of stored) {
    const b = readFileSync(p);
    for (const [what, n] of needles) t.is(b.indexOf(n), -1, `${what} in ${p}`);
  }

  // Verify without the key: everything checks, and it says what needs the key.
  const root = join(out, 'root.pub');
  const lines: string[] = [];
  t.is(await run(['verify', r.evidence, '--root', root], (l) => lines.push(l)), 0, lines.join('\n'));
  t.true(lines.some((l) => /SEALED +\d+ of \d+ segments sealed to evidence key [0-9a-f]{16}/.test(l)), lines.join('\n'));
  t.true(lines.some((l) => /NOT CHECKED without the key/.test(l)));

  // Export without the key: refused with its code, nothing written.
  const pass = join(out, 'pass.txt');
  writeFileSync(pass, `${SIM_EVIDENCE_PASSPHRASE}\n`);
  const base = ['export', '--store', r.evidence, '--device', SIM_DEVICE, '--root', root];
  const refused: string[] = [];
  const code = await run([...base, '--out', join(out, 'nokey.mp4'), '--json'], (l) => refused.push(l));
  t.is(code, 2);
  t.regex(refused.join('\n'), /E_EVIDENCE_KEY_REQUIRED/);
  t.false(readdirSync(out).includes('nokey.mp4'));

  // Export with the key: the frames are the decrypted JPEGs, the report says who, which key, when.
  const keyFile = join(out, SIM_EVIDENCE_KEY_FILE);
  const mp4 = join(out, 'sealed.mp4');
  const done: string[] = [];
  t.is(await run([...base, '--evidence-key', keyFile, '--evidence-passphrase-file', pass, '--examiner', 'DC Examiner', '--out', mp4], (l) => done.push(l)), 0, done.join('\n'));
  const report = JSON.parse(readFileSync(join(out, 'sealed.integrity.json'), 'utf8')) as { decryption: { by: string; keyId: string; at: { utc: string }; segments: { seq: number }[] } };
  const key = loadEvidenceKey(keyFile, SIM_EVIDENCE_PASSPHRASE);
  t.is(report.decryption.by, 'DC Examiner');
  t.is(report.decryption.keyId, Buffer.from(key.keyId).toString('hex'));
  t.true(Math.abs(Date.parse(report.decryption.at.utc) - Date.now()) < 600_000);
  t.is(report.decryption.segments.length, manifests.length);
  const file = readFileSync(mp4);
  const examiner = { ...key, file: keyFile, form: 'sealed' as const };
  let frames = 0;
  for (const f of manifests) {
    const m = peekManifest(new Uint8Array(readFileSync(join(segDir, f)))).manifest;
    const media = new Uint8Array(readFileSync(join(segDir, f.replace('.manifest.cose', '.media'))));
    for (const fr of parseSegmentMedia(openSealedSegment(media, m, examiner).media).frames) {
      t.not(file.indexOf(Buffer.from(fr.jpeg)), -1, 'every decrypted JPEG is in the MP4 as it was captured');
      frames++;
    }
  }
  t.is(frames, r.footage.frames);

  // A segment re-wrapped to another key (by someone holding the content key) fails verification.
  const copy = join(out, 'rewrapped');
  cpSync(r.evidence, copy, { recursive: true });
  const target = join(copy, 'devices', SIM_DEVICE, 'segments', manifests[0]);
  const cose = new Uint8Array(readFileSync(target));
  const sign1 = decodeSign1(cose);
  const payload = decode(sign1.payload) as Map<CborValue, CborValue>;
  const m0 = peekManifest(cose).manifest;
  const env = { digest: nodeDigest, cipher: nodeCipher };
  const { key: contentKey } = unwrapContentKey(env, m0.sealed!.recipients, key.secret, key.publicKey);
  const otherSecret = new Uint8Array(createHash('sha256').update('another agency').digest());
  const { evidenceKeyPair } = await import('../evidence/evidence-keys.js');
  const other = evidenceKeyPair(otherSecret);
  const rewrapped = wrapContentKey(env, other.publicKey, contentKey, new Uint8Array(32).fill(7));
  const sealed = payload.get('sealed') as Map<CborValue, CborValue>;
  sealed.set('recipients', [recipientValue(rewrapped)]);
  const forged = encode(new Tag(18, [sign1.protectedBytes, sign1.unprotectedHeader, encode(payload), sign1.signature]));
  writeFileSync(target, forged);
  const after: string[] = [];
  t.is(await run(['verify', copy, '--root', root], (l) => after.push(l)), 1);
  t.true(after.some((l) => /bad-signature/.test(l)), after.join('\n'));
  t.is(await run([...base.slice(0, 2), copy, ...base.slice(3), '--evidence-key', keyFile, '--evidence-passphrase-file', pass, '--out', join(out, 'rewrapped.mp4')], () => {}), 1, 'the export refuses a segment that does not verify');
});
