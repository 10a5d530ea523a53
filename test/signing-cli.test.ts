// `bodycam verify DIR` over the evidence directory layout: exit 0 only when everything verifies,
// findings in human and JSON output, usage errors as exit 2.

import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../cli/bodycam.js';
import { readEvidenceDir, segmentStem, writeEvidenceDir, type EvidenceLayout } from '../evidence/layout.js';
import { pinnedTrust } from '../evidence/trust.js';
import { hostEd25519 } from '../host/ed25519-node.js';
import { repoRoot } from '../host-sim/xs/bundle.js';
import { hexToBytes, readVector } from './helpers/vectors.js';
import { evidenceLayout, scenario } from './helpers/signing.js';

const layout = (): EvidenceLayout => evidenceLayout({ cameras: 2, segments: 3 });

function tempDir(t: { teardown: (f: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'bodycam-verify-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function verify(...args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await run(['verify', ...args], (l) => lines.push(l));
  return { code, out: lines.join('\n') };
}

test('a clean evidence directory verifies: exit 0, every device VALID', async (t) => {
  const dir = tempDir(t);
  writeEvidenceDir(dir, layout());
  const r = await verify(dir, '--trust-store-root');
  t.is(r.code, 0, r.out);
  t.regex(r.out, /^VALID {4}CAM-0001: 3 segments \(0-2\)/m);
  t.regex(r.out, /OK: 2 devices, 6 segments, all verified/);
  const { input, problems } = readEvidenceDir(dir, pinnedTrust(readFileSync(join(dir, 'trust', 'root.pub')), 'test'));
  t.deepEqual(problems, []);
  t.is(input.devices[0].segments.length, 3);
  t.is(input.devices[0].segments[2].seq, 2);
  // The reference Ed25519 reaches the same verdict.
  t.is((await verify(dir, '--reference', '--trust-store-root')).code, 0);
});

test('the real binary exits 0 on clean evidence and 1 on a changed media byte', (t) => {
  const dir = tempDir(t);
  writeEvidenceDir(dir, layout());
  const bin = join(repoRoot, 'bin', 'bodycam.js');
  t.notThrows(() => execFileSync(process.execPath, [bin, 'verify', dir, '--trust-store-root']));
  const media = join(dir, 'devices', 'CAM-0002', 'segments', `${segmentStem(1)}.media`);
  const b = readFileSync(media);
  b[100] ^= 1;
  writeFileSync(media, b);
  const r = spawnSync(process.execPath, [bin, 'verify', dir, '--trust-store-root'], { encoding: 'utf8' });
  t.is(r.status, 1);
  t.regex(r.stdout, /INVALID {2}CAM-0002/);
  t.regex(r.stdout, /segment 1: media-digest-mismatch/);
});

test('a deleted tail, in JSON: truncated against the checkpoint and the receipt', async (t) => {
  const dir = tempDir(t);
  writeEvidenceDir(dir, layout());
  const base = join(dir, 'devices', 'CAM-0001', 'segments', segmentStem(2));
  unlinkSync(`${base}.manifest.cose`);
  unlinkSync(`${base}.media`);
  const r = await verify(dir, '--json', '--trust-store-root');
  t.is(r.code, 1);
  const j = JSON.parse(r.out) as { valid: boolean; devices: { device: string; valid: boolean; reasons: { code: string }[] }[] };
  t.false(j.valid);
  t.deepEqual(j.devices.map((d) => [d.device, d.valid]), [['CAM-0001', false], ['CAM-0002', true]]);
  t.deepEqual([...new Set(j.devices[0].reasons.map((f) => f.code))], ['truncated']);
});

test('stray files, a missing root and a wrong --root are reported', async (t) => {
  const dir = tempDir(t);
  writeEvidenceDir(dir, layout());
  writeFileSync(join(dir, 'devices', 'CAM-0001', 'segments', 'notes.txt'), 'hello');
  const r = await verify(dir, '--trust-store-root');
  t.is(r.code, 1);
  t.regex(r.out, /LAYOUT .*notes\.txt/);
  unlinkSync(join(dir, 'devices', 'CAM-0001', 'segments', 'notes.txt'));
  // Another agency's root: nothing chains to it.
  const other = join(tempDir(t), 'other.pub');
  writeFileSync(other, scenario({ cameras: 0 }).agency.root.publicKey.map((x) => x ^ 1));
  t.is((await verify(dir, '--root', other)).code, 1);
  unlinkSync(join(dir, 'trust', 'root.pub'));
  t.is((await verify(dir, '--trust-store-root')).code, 2);
  t.is((await verify(join(dir, 'nope'))).code, 2);
  t.is((await verify()).code, 2);
  const help = await verify('--help');
  t.is(help.code, 0);
  t.regex(help.out, /usage: bodycam verify DIR/);
});

test('the host Ed25519 the CLI uses is as strict as the firmware\'s (speccheck: only case 3)', (t) => {
  const cases = readVector<{ message: string; pub_key: string; signature: string }[]>('ed25519-speccheck-cases.json');
  const ed = hostEd25519();
  t.deepEqual(cases.flatMap((c, i) => (ed.verify(hexToBytes(c.message), hexToBytes(c.signature), hexToBytes(c.pub_key)) ? [i] : [])), [3]);
});
