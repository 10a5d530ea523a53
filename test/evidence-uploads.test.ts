// `bodycam verify` tells an upload still in progress from a truncated store: the same missing
// tail is "truncated" when nothing explains it, and "upload-in-progress" when the dock station's
// store holds that segment's upload unfinished (partial/<device>/<seq>.part). Either way the
// store does not verify: the word changes, never the verdict.

import test from 'ava';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../cli/bodycam.js';
import { segmentStem, writeEvidenceDir } from '../evidence/layout.js';
import { evidenceLayout } from './helpers/signing.js';

/** A store whose last segment is gone, as a cut upload or a deletion leaves it. */
function storeWithoutTail(t: { teardown: (f: () => void) => void }): { dir: string; device: string } {
  const dir = mkdtempSync(join(tmpdir(), 'bodycam-uploads-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const l = evidenceLayout({ cameras: 1, segments: 3 });
  writeEvidenceDir(dir, l);
  const device = l.devices[0].id;
  const base = join(dir, 'devices', device, 'segments', segmentStem(2));
  unlinkSync(`${base}.manifest.cose`);
  unlinkSync(`${base}.media`);
  return { dir, device };
}

async function verifyJson(dir: string): Promise<{ code: number; report: { valid: boolean; devices: { reasons: { code: string; message: string }[] }[] } }> {
  const lines: string[] = [];
  const code = await run(['verify', dir, '--json', '--trust-store-root'], (l) => lines.push(l));
  return { code, report: JSON.parse(lines.join('\n')) };
}

test('a missing tail with nothing to explain it is truncated', async (t) => {
  const { dir } = storeWithoutTail(t);
  const { code, report } = await verifyJson(dir);
  t.is(code, 1);
  t.false(report.valid);
  t.deepEqual([...new Set(report.devices[0].reasons.map((r) => r.code))], ['truncated']);
});

test("the same tail with the station's unfinished upload of it is an upload in progress, and still does not verify", async (t) => {
  const { dir, device } = storeWithoutTail(t);
  mkdirSync(join(dir, 'partial', device), { recursive: true });
  writeFileSync(join(dir, 'partial', device, `${segmentStem(2)}.part`), new Uint8Array(4096));
  const { code, report } = await verifyJson(dir);
  t.is(code, 1);
  t.false(report.valid);
  const codes = report.devices[0].reasons.map((r) => r.code);
  t.true(codes.includes('upload-in-progress'), codes.join(','));
  t.false(codes.includes('truncated'), codes.join(','));
  t.regex(report.devices[0].reasons.find((r) => r.code === 'upload-in-progress')!.message, /4096 bytes so far/);
});

test('a symlink posing as an unfinished upload explains nothing', async (t) => {
  const { dir, device } = storeWithoutTail(t);
  mkdirSync(join(dir, 'partial', device), { recursive: true });
  writeFileSync(join(dir, 'elsewhere'), new Uint8Array(10));
  symlinkSync(join(dir, 'elsewhere'), join(dir, 'partial', device, `${segmentStem(2)}.part`));
  const { report } = await verifyJson(dir);
  t.deepEqual([...new Set(report.devices[0].reasons.map((r) => r.code))], ['truncated']);
});
