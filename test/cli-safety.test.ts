// The `bodycam` command as a tired person uses it (issue 23): a real process, its exit code, its
// stable code, and nothing of theirs changed when it refuses.

import test from 'ava';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../host-sim/xs/bundle.js';

const BIN = join(repoRoot, 'bin', 'bodycam.js');

export function bodycam(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, BODYCAM_PASSPHRASE: '' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'bodycam-cli-'));
}

/** Every file under dir with its bytes' hash: what "nothing changed" compares. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p, `${rel}${name}/`);
      else out[`${rel}${name}`] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir, '');
  return out;
}

/** A folder that looks like a copied dock store: three cameras' evidence. */
function fakeStore(dir: string): void {
  for (const cam of ['CAM-0001', 'CAM-0002', 'CAM-0003']) {
    mkdirSync(join(dir, 'evidence', 'devices', cam, 'segments'), { recursive: true });
    writeFileSync(join(dir, 'evidence', 'devices', cam, 'segments', '0000000000.media'), `${cam} footage`);
  }
  writeFileSync(join(dir, 'evidence', 'index.sqlite'), 'index');
}

test('bodycam sim --out never deletes or overwrites a folder it did not make', (t) => {
  const dir = tmp();
  fakeStore(dir);
  const before = tree(dir);
  const r = bodycam('sim', '--scale', '0.05', '--no-export', '--out', dir);
  t.not(r.status, 0);
  t.regex(r.stderr, /E_OUT_EXISTS/);
  t.deepEqual(tree(dir), before, 'nothing changed');
  // The folder that holds it is refused too (--out /srv on a dock machine).
  const parent = tmp();
  mkdirSync(join(parent, 'srv'));
  fakeStore(join(parent, 'srv'));
  const beforeParent = tree(parent);
  t.regex(bodycam('sim', '--scale', '0.05', '--no-export', '--out', join(parent, 'srv')).stderr, /E_OUT_EXISTS/);
  t.deepEqual(tree(parent), beforeParent);
  // A file is not a folder.
  const file = join(tmp(), 'notes.txt');
  writeFileSync(file, 'mine');
  const f = bodycam('sim', '--scale', '0.05', '--no-export', '--out', file);
  t.regex(f.stderr, /E_OUT_NOT_FOLDER/);
  t.is(readFileSync(file, 'utf8'), 'mine');
});

test('bodycam sim reruns into a folder it made, and refuses it once another camera\'s evidence is in it', (t) => {
  const dir = join(tmp(), 'sim-out');
  const first = bodycam('sim', '--scale', '0.05', '--no-export', '--out', dir);
  t.is(first.status, 0, first.stderr);
  t.true(readdirSync(dir).includes('.bodycam-sim'));
  const again = bodycam('sim', '--scale', '0.05', '--no-export', '--out', dir);
  t.is(again.status, 0, again.stderr);
  // Someone copied a store's camera into the simulator's evidence: not the simulator's to delete.
  mkdirSync(join(dir, 'evidence', 'devices', 'CAM-0042'));
  writeFileSync(join(dir, 'evidence', 'devices', 'CAM-0042', 'x.media'), 'real');
  const before = tree(dir);
  const r = bodycam('sim', '--scale', '0.05', '--no-export', '--out', dir);
  t.regex(r.stderr, /E_OUT_EXISTS.*CAM-0042/);
  t.deepEqual(tree(dir), before);
});
