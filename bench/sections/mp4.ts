// MP4 export figures (issue 19): how long `bodycam export` takes to write a signed MP4 of a
// shift's evidence against a plain copy of the same segment files, measured in one run, and what
// the C2PA content credentials add to the file.

import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyPairSigner } from '../../firmware/signing/signer.js';
import { hostEd25519 } from '../../host/ed25519-node.js';
import { nodeDigest } from '../../host/ports.js';
import { loadScenario } from '../../cli/sim.js';
import { run } from '../../cli/bodycam.js';
import { parseScenario } from '../../host-sim/scenario/format.js';
import { runScenario, SIM_AGENCY, SIM_DEVICE, SIM_EVIDENCE_KEY_FILE, SIM_EVIDENCE_PASSPHRASE } from '../../host-sim/scenario/runner.js';
import { EVIDENCE_PASSPHRASE_ENV } from '../../evidence/evidence-keys.js';
import { loadExaminerKey, openSealedSegment } from '../../evidence/sealed.js';
import { peekManifest } from '../../firmware/signing/manifest.js';
import { issueRootX509, issueSignerX509, writeSignerIdentity } from '../../evidence/c2pa-certs.js';
import { readCredentials } from '../../evidence/c2pa.js';
import { planMp4 } from '../../evidence/mp4.js';
import { writeMp4 } from '../../evidence/mp4-export.js';
import { bestOf, type Report } from '../report.js';

const SCALE = 0.5;

export default async function mp4(report: Report): Promise<void> {
  report.section(`mp4: bodycam export --format mp4 --signer --evidence-key of the default shift (scale ${SCALE}, sealed) against a plain copy of its segment files`);
  const dir = mkdtempSync(join(tmpdir(), 'bodycam-bench-mp4-'));
  try {
    const r = await runScenario(parseScenario(loadScenario('default-shift'), { scale: SCALE }), { engine: 'node', seed: 1, out: join(dir, 'shift'), export: false });
    if (!r.ok) throw new Error('the benchmark shift did not verify');
    const ed = hostEd25519();
    const root = new KeyPairSigner({ seed: new Uint8Array(createHash('sha256').update('bodycam-sim-root:1').digest()), digest: nodeDigest, ed25519: ed });
    const now = Date.now();
    const signerSeed = new Uint8Array(32).fill(5);
    const signer = new KeyPairSigner({ seed: signerSeed, digest: nodeDigest, ed25519: ed });
    const signerDir = join(dir, 'signer');
    writeSignerIdentity(signerDir, {
      seed: signerSeed,
      certificate: await issueSignerX509({ root, agency: SIM_AGENCY, name: 'bench export', publicKey: signer.publicKey, serial: 2, notBefore: now - 86_400_000, notAfter: now + 86_400_000 }),
      rootCertificate: await issueRootX509({ root, agency: SIM_AGENCY, serial: 1, notBefore: now - 86_400_000, notAfter: now + 86_400_000 }),
      rootKey: root.publicKey,
    });
    const rootPub = join(dir, 'shift', 'root.pub');
    const segDir = join(r.evidence, 'devices', SIM_DEVICE, 'segments');
    const files = readdirSync(segDir).sort();
    const mediaBytes = files.filter((f) => f.endsWith('.media')).reduce((n, f) => n + statSync(join(segDir, f)).size, 0);
    const allBytes = files.reduce((n, f) => n + statSync(join(segDir, f)).size, 0);

    let k = 0;
    const copy = await bestOf(3, () => {
      const to = join(dir, `copy${k++}`);
      mkdirSync(to);
      for (const f of files) copyFileSync(join(segDir, f), join(to, f));
    });
    const out = (n: number) => join(dir, `export${n}.mp4`);
    let code = 0;
    let signedFile = '';
    // The shift is sealed (issue 22): the export opens it with the simulated agency's evidence key.
    const keyFile = join(dir, 'shift', SIM_EVIDENCE_KEY_FILE);
    const passphraseBefore = process.env[EVIDENCE_PASSPHRASE_ENV];
    process.env[EVIDENCE_PASSPHRASE_ENV] = SIM_EVIDENCE_PASSPHRASE;
    let whole: number;
    try {
      whole = await bestOf(3, async () => {
        signedFile = out(k++);
        code = await run(['export', '--store', r.evidence, '--device', SIM_DEVICE, '--root', rootPub, '--signer', signerDir, '--evidence-key', keyFile, '--out', signedFile, '--json'], () => {});
      });
    } finally {
      if (passphraseBefore === undefined) delete process.env[EVIDENCE_PASSPHRASE_ENV];
      else process.env[EVIDENCE_PASSPHRASE_ENV] = passphraseBefore;
    }
    if (code !== 0) throw new Error(`bodycam export failed (${code})`);
    // The muxing alone: the opened media already in memory, written as an MP4 without the store's verification.
    const examiner = loadExaminerKey(keyFile, SIM_EVIDENCE_PASSPHRASE);
    const media = files.filter((f) => f.endsWith('.media')).map((f) => {
      const sealed = new Uint8Array(readFileSync(join(segDir, f)));
      const m = peekManifest(new Uint8Array(readFileSync(join(segDir, f.replace(/\.media$/, '.manifest.cose'))))).manifest;
      return m.sealed ? openSealedSegment(sealed, m, examiner).media : sealed;
    });
    const plan = planMp4(media, { clockOffsetMs: 0 });
    let unsignedFile = '';
    const muxOnly = await bestOf(3, () => {
      unsignedFile = out(k++);
      writeMp4(plan, unsignedFile);
    });
    const signed = readFileSync(signedFile);
    const unsigned = statSync(unsignedFile).size;
    const jpegBytes = plan.fragments.reduce((n, f) => n + f.frames.reduce((m, x) => m + x.jpeg.length, 0), 0);
    const credentials = readCredentials(new Uint8Array(signed))!.box.size;
    report.add({ name: `bodycam export --format mp4 --signer --evidence-key (verify the store, decrypt, mux, sign), ${files.length / 2} segments, ${(mediaBytes / 1048576).toFixed(1)} MiB of media`, value: whole, unit: 'ms', baseline: { name: `cp of the same segment files (${(allBytes / 1048576).toFixed(1)} MiB)`, value: copy } });
    report.add({ name: 'of which muxing and writing the MP4 (media in memory, no verification)', value: muxOnly, unit: 'ms', baseline: { name: 'cp', value: copy } });
    report.add({ name: `export throughput`, value: mediaBytes / 1048576 / (whole / 1000), unit: 'MiB/s' });
    report.add({ name: `C2PA credentials (manifest store box), ${plan.frames} frames in ${plan.fragments.length} fragments`, value: credentials, unit: `bytes (${((credentials / signed.length) * 100).toFixed(3)} % of the ${(signed.length / 1048576).toFixed(1)} MiB file)` });
    report.add({ name: 'of which the frame headers the camera signed (48 bytes a frame)', value: plan.frames * 48, unit: 'bytes' });
    report.add({ name: 'credentials per segment', value: Math.round(credentials / (files.length / 2)), unit: 'bytes' });
    report.add({ name: 'unsigned MP4 over its JPEG bytes (boxes, the UTC text track, other records)', value: unsigned - jpegBytes, unit: `bytes (${(((unsigned - jpegBytes) / jpegBytes) * 100).toFixed(2)} % of ${(jpegBytes / 1048576).toFixed(1)} MiB)` });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
