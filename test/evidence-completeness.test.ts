// Completeness and nothing unsigned in the answer, on a store a real shift left (the recorder's
// ledger, drift statement, receipts; the station's custody log): a tail cut with its checkpoints
// and receipts gone is caught by the camera's ledger, and — when the ledger and the log's tail go
// too — by a custody checkpoint kept outside the store; edited index and custody rows change
// nothing in the answer; an edited log entry is reported; the export refuses on findings unless
// told to accept them, and then records each.

import test, { type ExecutionContext } from 'ava';
import Database from 'better-sqlite3';
import { copyFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../cli/bodycam.js';
import { loadScenario } from '../cli/sim.js';
import { LEDGER_TYPE } from '../firmware/recorder/ledger.js';
import { peekStructure } from '../firmware/signing/signed.js';
import { parseScenario } from '../host-sim/scenario/format.js';
import { runScenario, SIM_EVIDENCE_KEY_FILE, SIM_EVIDENCE_PASSPHRASE } from '../host-sim/scenario/runner.js';
import { verifyConsistency } from '../evidence/merkle.js';

const DEVICE = 'CAM-SIM-0001';

/** One shift, run once; each test works on its own copy of the evidence. */
const shift = (async () => {
  const out = mkdtempSync(join(tmpdir(), 'bodycam-complete-'));
  const report = await runScenario(parseScenario(loadScenario('default-shift'), { scale: 0.4 }), { engine: 'node', seed: 5, out, export: false });
  return { out, report };
})();

async function copy(t: ExecutionContext): Promise<{ store: string; root: string; checkpoint: string; dir: string }> {
  const { out, report } = await shift;
  t.true(report.ok, JSON.stringify(report.lost));
  const dir = mkdtempSync(join(tmpdir(), 'bodycam-case-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(join(out, 'evidence'), join(dir, 'evidence'), { recursive: true });
  copyFileSync(join(out, 'root.pub'), join(dir, 'root.pub'));
  // The newest custody checkpoint, copied out of the store as a witness or the evidence system would.
  const cps = readdirSync(join(dir, 'evidence', 'log', 'checkpoints')).sort();
  copyFileSync(join(dir, 'evidence', 'log', 'checkpoints', cps[cps.length - 1]), join(dir, 'witness.cose'));
  return { store: join(dir, 'evidence'), root: join(dir, 'root.pub'), checkpoint: join(dir, 'witness.cose'), dir };
}

// The simulated camera seals what it records (issue 22): exports open it with the simulated agency's evidence key.
process.env.BODYCAM_EVIDENCE_PASSPHRASE = SIM_EVIDENCE_PASSPHRASE;

async function bodycam(...args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const withKey = args[0] === 'export' ? [...args, '--evidence-key', join((await shift).out, SIM_EVIDENCE_KEY_FILE)] : args;
  const code = await run(withKey, (l) => lines.push(l));
  return { code, out: lines.join('\n') };
}

function segmentsOf(store: string): number[] {
  return readdirSync(join(store, 'devices', DEVICE, 'segments')).filter((n) => n.endsWith('.manifest.cose')).map((n) => Number(n.slice(0, 10)));
}

/** Delete the newest `n` segments with every checkpoint and receipt of the device. */
function cutTail(store: string, n: number): number[] {
  const seqs = segmentsOf(store).sort((a, b) => a - b);
  const gone = seqs.slice(-n);
  for (const s of gone) for (const ext of ['manifest.cose', 'media']) unlinkSync(join(store, 'devices', DEVICE, 'segments', `${String(s).padStart(10, '0')}.${ext}`));
  for (const sub of ['checkpoints', 'receipts']) rmSync(join(store, 'devices', DEVICE, sub), { recursive: true, force: true });
  return gone;
}

test('a tail cut with its checkpoints and receipts: the camera\'s signed ledger still names the segments', async (t) => {
  const { store, root } = await copy(t);
  t.is((await bodycam('verify', store, '--root', root)).code, 0);
  const gone = cutTail(store, 2);
  const r = await bodycam('verify', store, '--root', root);
  t.is(r.code, 1, r.out);
  for (const s of gone) t.regex(r.out, new RegExp(`INCOMPLETE ${DEVICE}: ledger-missing-segment: .*segment ${s} was released to DOCK-SIM-1`));
});

test('the ledger, the log\'s tail and the store\'s checkpoints cut too: only the outside checkpoint sees it, and it does', async (t) => {
  const { store, root, checkpoint } = await copy(t);
  const gone = cutTail(store, 2);
  const first = Math.min(...gone);
  // The ledger entries from the first that names a cut segment on.
  const ledgerDir = join(store, 'devices', DEVICE, 'ledger');
  const entries = readdirSync(ledgerDir).map((name) => {
    const f = peekStructure(new Uint8Array(readFileSync(join(ledgerDir, name))), LEDGER_TYPE, 'E').fields;
    const d = f.get('detail') as Map<string, unknown>;
    const seqs = [d.get('seq'), ...((d.get('seqs') as unknown[] | undefined) ?? [])].filter((x): x is number => typeof x === 'number');
    return { name, index: f.get('index') as number, names: seqs.some((s) => s >= first) };
  });
  const cutFrom = Math.min(...entries.filter((e) => e.names).map((e) => e.index));
  for (const e of entries) if (e.index >= cutFrom) unlinkSync(join(ledgerDir, e.name));
  // The custody log back to before the first cut segment was stored, and its checkpoints gone.
  const db = new Database(join(store, 'index.sqlite'));
  const leaves = db.prepare('SELECT idx, leaf FROM log ORDER BY idx').all() as { idx: number; leaf: Buffer }[];
  const firstStored = leaves.find((l) => Buffer.from(l.leaf).includes(Buffer.from(`"seq":${first},`)))!.idx;
  db.prepare('DELETE FROM log WHERE idx >= ?').run(firstStored);
  db.close();
  rmSync(join(store, 'log'), { recursive: true, force: true });

  const alone = await bodycam('verify', store, '--root', root);
  t.is(alone.code, 0, 'with everything that named them gone, the store alone cannot tell');
  t.regex(alone.out, /no checkpoint/);
  const witnessed = await bodycam('verify', store, '--root', root, '--checkpoint', checkpoint);
  t.is(witnessed.code, 1);
  t.regex(witnessed.out, /CUSTODY {2}custody-truncated: the outside checkpoint .* covers \d+ custody entries, the store's log holds \d+/);
  t.regex(witnessed.out, /checked against the OUTSIDE checkpoint/);
});

test('a witness holding an older checkpoint gets the consistency proof to the store\'s newest', async (t) => {
  const { store, root, dir } = await copy(t);
  const cps = readdirSync(join(store, 'log', 'checkpoints')).sort();
  t.true(cps.length >= 2);
  const older = join(dir, 'older.cose');
  copyFileSync(join(store, 'log', 'checkpoints', cps[0]), older);
  const r = await bodycam('verify', store, '--root', root, '--checkpoint', older, '--json');
  t.is(r.code, 0, r.out);
  const c = (JSON.parse(r.out) as { custody: { consistency: { from: number; to: number; toRoot: string; proof: string[] }; reference: { root: string } } }).custody;
  t.is(c.consistency.from, Number(cps[0].slice(0, 10)));
  t.is(c.consistency.to, Number(cps[cps.length - 1].slice(0, 10)));
  const hex = (x: string) => new Uint8Array(Buffer.from(x, 'hex'));
  t.true(verifyConsistency(c.consistency.from, c.consistency.to, hex(c.reference.root), hex(c.consistency.toRoot), c.consistency.proof.map(hex)));
});

test('against the outside checkpoint, every object it covers must be present: deleted segments, receipts and a whole device are named', async (t) => {
  const { store, root, checkpoint } = await copy(t);
  const gone = cutTail(store, 1);
  const r = await bodycam('verify', store, '--root', root, '--checkpoint', checkpoint, '--json');
  t.is(r.code, 1);
  const j = JSON.parse(r.out) as { custody: { findings: { code: string; seq?: number; path?: string }[]; reference: { source: string } } };
  t.is(j.custody.reference.source, 'outside');
  t.deepEqual(j.custody.findings.filter((f) => f.code === 'custody-missing' && f.seq !== undefined).map((f) => f.seq), gone);
  t.true(j.custody.findings.some((f) => f.code === 'custody-missing' && /receipts/.test(f.path ?? '')));
  t.true(j.custody.findings.some((f) => f.code === 'custody-missing' && /checkpoints/.test(f.path ?? '')));
  rmSync(join(store, 'devices', DEVICE), { recursive: true, force: true });
  const whole = await bodycam('verify', store, '--root', root, '--checkpoint', checkpoint);
  t.is(whole.code, 1);
  t.regex(whole.out, new RegExp(`names device ${DEVICE}, which is not in the store`));
  t.notRegex(whole.out, /^OK/m);
});

test('edited index and custody rows change nothing in the answer; an edited log entry is reported', async (t) => {
  const { store, root, checkpoint, dir } = await copy(t);
  const out1 = join(dir, 'a.avi');
  const e1 = await bodycam('export', '--store', store, '--device', DEVICE, '--root', root, '--checkpoint', checkpoint, '--out', out1);
  t.is(e1.code, 0, e1.out);
  const db = new Database(join(store, 'index.sqlite'));
  db.prepare("UPDATE custody SET detail = json_set(detail, '$.cameraUtc', 0) WHERE event = 'clock-set'").run();
  db.prepare("UPDATE custody SET dock = 'DOCK-FORGED'").run();
  db.prepare("UPDATE segments SET media_sha256 = 'ff', length = 1").run();
  db.close();
  const out2 = join(dir, 'b.avi');
  const e2 = await bodycam('export', '--store', store, '--device', DEVICE, '--root', root, '--checkpoint', checkpoint, '--out', out2);
  t.is(e2.code, 0, e2.out);
  const sidecar = (p: string) => JSON.parse(readFileSync(`${p}.json`, 'utf8')) as { frames: { referenceUtcMs?: number; utcMs: number }[]; clockOffsetMs: number | null };
  t.deepEqual(sidecar(out2).frames, sidecar(out1).frames);
  const integrity = (p: string) => JSON.parse(readFileSync(p.replace(/\.avi$/, '.integrity.json'), 'utf8')) as { clock: { offsetMs: number; statement: string; corroboratedBy: unknown }; custody: { entries: { dock: string }[]; segmentProofs: { seq: number; path: string[] }[] }; segments: { lostAfterLastFrame: number }[] };
  const i2 = integrity(out2);
  // The frames the shift's power cuts tore in flight are in the export's report, from the signed manifests.
  const { report } = await shift;
  t.is(i2.segments.reduce((n, s) => n + s.lostAfterLastFrame, 0), report.dropped.atCuts);
  t.deepEqual(i2.clock, integrity(out1).clock);
  t.regex(i2.clock.statement, /clock\/\d{10}\.cose$/);
  t.like(i2.clock.corroboratedBy, { dock: 'DOCK-SIM-1' });
  t.true(i2.custody.entries.length > 0 && i2.custody.entries.every((e) => e.dock === 'DOCK-SIM-1'), 'custody facts come from the signed log, not the edited table');
  t.deepEqual(i2.custody.segmentProofs.map((p) => p.seq), segmentsOf(store).sort((a, b) => a - b));
  t.is((await bodycam('verify', store, '--root', root, '--checkpoint', checkpoint)).code, 0);
  // The log itself is what is signed: one changed entry is found.
  const db2 = new Database(join(store, 'index.sqlite'));
  const leaf = (db2.prepare('SELECT leaf FROM log WHERE idx = 3').get() as { leaf: Buffer }).leaf;
  leaf[leaf.length - 2] ^= 1;
  db2.prepare('UPDATE log SET leaf = ? WHERE idx = 3').run(leaf);
  db2.close();
  const r = await bodycam('verify', store, '--root', root, '--checkpoint', checkpoint);
  t.is(r.code, 1);
  t.regex(r.out, /custody-forked/);
});

test('export refuses on any finding about the device; --accept-findings prints each and writes it into the integrity report', async (t) => {
  const { store, root, checkpoint, dir } = await copy(t);
  // The camera's drift statement is removed: the log names it, so this is a finding.
  const clock = join(store, 'devices', DEVICE, 'clock');
  for (const n of readdirSync(clock)) unlinkSync(join(clock, n));
  const out = join(dir, 'x.avi');
  const refused = await bodycam('export', '--store', store, '--device', DEVICE, '--root', root, '--checkpoint', checkpoint, '--out', out);
  t.is(refused.code, 1);
  t.regex(refused.out, /FINDING {2}custody: custody-missing: .*clock\/\d{10}\.cose/);
  t.regex(refused.out, /REFUSED: verification of CAM-SIM-0001 found 1 thing/);
  const accepted = await bodycam('export', '--store', store, '--device', DEVICE, '--root', root, '--checkpoint', checkpoint, '--out', out, '--accept-findings');
  t.is(accepted.code, 0, accepted.out);
  t.regex(accepted.out, /ACCEPTED FINDING {2}custody: custody-missing/);
  const report = JSON.parse(readFileSync(join(dir, 'x.integrity.json'), 'utf8')) as { acceptedFindings: { code: string }[]; clock: { offsetMs: number | null } };
  t.deepEqual(report.acceptedFindings.map((f) => f.code), ['custody-missing']);
  t.is(report.clock.offsetMs, null, 'no signed statement left: no offset, rather than an unsigned one');
  // Store trust needs saying, and is itself a finding to accept.
  // (Over the export just made: an export already there is replaced only when told, --force.)
  const trusting = await bodycam('export', '--store', store, '--device', DEVICE, '--trust-store-root', '--out', out, '--accept-findings', '--force');
  t.is(trusting.code, 0);
  t.regex(trusting.out, /ACCEPTED FINDING {2}trust: trust-from-store/);
});
