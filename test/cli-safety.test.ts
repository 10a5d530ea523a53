// The `bodycam` command as a tired person uses it (issue 23): a real process, its exit code, its
// stable code, and nothing of theirs changed when it refuses.

import test from 'ava';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../host-sim/xs/bundle.js';
import { progressPrinter } from '../cli/sim.js';
import type { Progress } from '../host-sim/scenario/runner.js';
import { tempDir } from './helpers/tmp.js';

const BIN = join(repoRoot, 'bin', 'bodycam.js');

export function bodycam(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, BODYCAM_PASSPHRASE: '' } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function tmp(): string {
  return tempDir('bodycam-cli-');
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
  t.is(r.status, 2, 'a usage error, not lost evidence');
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
  t.is(f.status, 2);
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

/** A refusal as the user sees it: this exit status and code, no stack trace, no bare errno. */
function refused(t: import('ava').ExecutionContext, r: ReturnType<typeof bodycam>, status: number, code: string, what: string): void {
  t.is(r.status, status, `${what}: ${r.stderr}`);
  t.regex(r.stderr, new RegExp(`^${code}: `, 'm'), what);
  t.notRegex(r.stderr, /\n\s+at |\bE(NOENT|ISDIR|EXIST|NOTDIR|ACCES)\b/, `${what}: no stack trace or raw errno`);
}

test('exit status 2 is a usage or input error, for every command; each with a stable code and no stack trace', (t) => {
  const dir = tmp();
  const badJson = join(dir, 'bad.json');
  writeFileSync(badJson, '{ "name": ');
  refused(t, bodycam('sim', '--scenario', badJson, '--out', join(dir, 'o1')), 2, 'E_SCENARIO', 'a scenario file that is not JSON');
  refused(t, bodycam('sim', '--scenario', 'no-such-shift', '--out', join(dir, 'o2')), 2, 'E_USAGE', 'a scenario name that does not exist');
  refused(t, bodycam('nonsense'), 2, 'E_USAGE', 'an unknown command');
  refused(t, bodycam('provision', 'root', '--agency', 'Metro Police', '--out', join(dir, 'agency')), 2, 'E_PASSPHRASE_MISSING', 'no passphrase');
  const key = join(dir, 'firmware-signing.pub.pem');
  refused(t, bodycam('flash', '--board', 'xiao_esp32s3_sense', '--port', '/dev/null', '--image', join(dir, 'nosuch.img'), '--firmware-key', key), 2, 'E_NOT_FOUND', 'a missing image');
  refused(t, bodycam('firmware', 'verify', join(dir, 'nosuch.img'), '--key', key), 2, 'E_NOT_FOUND', 'a missing file is a code, not ENOENT');
  refused(t, bodycam('firmware', 'verify', dir, '--key', key), 2, 'E_IS_FOLDER', 'a folder for a file is a code, not EISDIR');
  // A damaged armoury register: refused with its code, untouched.
  const agency = join(dir, 'agency2');
  mkdirSync(agency);
  writeFileSync(join(agency, 'register.json'), '{"format": "bodycam-armoury-register/1", "cameras": {');
  const before = tree(agency);
  refused(t, bodycam('provision', 'assign', '--root', agency, '--device', 'CAM-1', '--officer', 'PC 1'), 2, 'E_REGISTER_FORMAT', 'a corrupt register.json');
  t.deepEqual(tree(agency), before);
});

test('--json: errors are JSON too, with the code and the exit status', (t) => {
  const r = bodycam('sim', '--scenario', 'no-such-shift', '--json');
  t.is(r.status, 2);
  t.like(JSON.parse(r.stdout), { ok: false, error: { code: 'E_USAGE' }, exit: 2 });
  t.regex(JSON.parse(r.stdout).error.message, /no scenario/);
});

test('--version and help COMMAND', (t) => {
  const v = bodycam('--version');
  t.is(v.status, 0);
  t.is(v.stdout.trim(), `bodycam ${(JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version}`);
  const h = bodycam('help', 'sim');
  t.is(h.status, 0);
  t.regex(h.stdout, /^usage: bodycam sim /);
  t.regex(h.stdout, /exit status: 0 ok, 1 .*, 2 usage/);
});

test('off a terminal a long run is never silent: a progress line per phase and one every interval while the shift runs', (t) => {
  let clock = 0;
  const lines: string[] = [];
  const print = progressPrinter({ tty: false, write: (s) => lines.push(s), now: () => clock, everyMs: 10_000 });
  const at = (ms: number, phase: Progress['phase'] = 'shift') => print({ elapsedMs: ms, durationMs: 600_000, phase, state: 'recording', boot: 1 });
  at(0);
  for (let wall = 1000; wall <= 35_000; wall += 1000) {
    clock = wall;
    at(wall * 10);
  }
  at(600_000, 'docking');
  at(600_000, 'docking');
  at(600_000, 'done');
  const shift = lines.filter((l) => / shift /.test(l));
  t.is(shift.length, 4, 'the first, then at 10, 20 and 30 s of wall time');
  t.true(lines.every((l) => l.endsWith('\n') && !l.includes('\r')), 'plain lines for a log');
  t.is(lines.filter((l) => / docking /.test(l)).length, 1, 'a phase once');
  t.is(lines.length, 6);
});

test('a scenario typo lists the scenarios; bodycam sim --list names them', (t) => {
  const names = readdirSync(join(repoRoot, 'host-sim', 'scenarios')).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
  const typo = bodycam('sim', '--scenario', 'defualt-shift');
  t.is(typo.status, 2);
  t.regex(typo.stderr, /^E_USAGE: no scenario named "defualt-shift"; the scenarios are: /m);
  for (const n of names) t.true(typo.stderr.includes(n), n);
  const list = bodycam('sim', '--list');
  t.is(list.status, 0);
  t.deepEqual(list.stdout.trim().split('\n'), names);
});

test('an xs run leaves no temporary folder behind', (t) => {
  const tmpRoot = tmp();
  const r = spawnSync(process.execPath, [BIN, 'sim', '--engine', 'xs', '--scale', '0.05', '--no-export', '--out', join(tmp(), 'out')], { encoding: 'utf8', env: { ...process.env, TMPDIR: tmpRoot } });
  t.is(r.status, 0, r.stderr);
  t.deepEqual(readdirSync(tmpRoot).filter((f) => f.startsWith('bodycam-xs-')), []);
});
