// The audit ledger on its own: chained, signed entries in the KeyStore; the verifier catches a
// missing, altered, forged or forked entry; a power cut between writing an entry and its head
// loses nothing; entries go only after a dock asked past them; bodycam verify checks ledgers.

import test from 'ava';
import { readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLedger, KEY_LEDGER_HEAD, ledgerKey } from '../firmware/recorder/ledger.js';
import { verifyLedger } from '../firmware/recorder/ledger-verify.js';
import { peekStructure, signStructure } from '../firmware/signing/signed.js';
import { KeyPairSigner } from '../firmware/signing/signer.js';
import { hostEd25519 } from '../host/ed25519-node.js';
import { MemoryKeyStores, VirtualClock, nodeDigest } from '../host-sim/node/hardware.js';
import { run } from '../cli/bodycam.js';
import { parseScenario } from '../host-sim/scenario/format.js';
import { runScenario } from '../host-sim/scenario/runner.js';
import { loadScenario } from '../cli/sim.js';
import { tempDir } from './helpers/tmp.js';

const ed = hostEd25519();
const camera = new KeyPairSigner({ seed: new Uint8Array(32).fill(7), digest: nodeDigest, ed25519: ed });
const other = new KeyPairSigner({ seed: new Uint8Array(32).fill(8), digest: nodeDigest, ed25519: ed });

function ledger(stores = new MemoryKeyStores(), o: { capacity?: number; signer?: KeyPairSigner; boot?: number } = {}) {
  const keyStore = stores.open({ path: 'k' });
  const clock = new VirtualClock();
  return { stores, keyStore, clock, ledger: new AuditLedger({ keyStore, signer: o.signer ?? camera, digest: nodeDigest, clock, device: 'CAM-L', boot: o.boot ?? 1, capacity: o.capacity }) };
}

const verify = (entries: Uint8Array[]) => verifyLedger(entries, { device: 'CAM-L', publicKey: camera.publicKey, digest: nodeDigest, ed25519: ed });

function written(l: ReturnType<typeof ledger>, n: number): Uint8Array[] {
  for (let i = 0; i < n; i++) {
    l.clock.advanceTo(l.clock.monotonic() + 1000);
    l.ledger.append(i % 2 ? 'recording' : 'stopped', { i });
  }
  return l.ledger.page(-1, 1000).entries;
}

test('entries chain and verify, in any order', (t) => {
  const l = ledger();
  const entries = written(l, 6);
  t.is(entries.length, 6);
  const r = verify([...entries].reverse());
  t.true(r.valid, JSON.stringify(r.findings));
  t.deepEqual(r.entries.map((e) => e.index), [0, 1, 2, 3, 4, 5]);
  t.is(r.entries[0].prev, null);
  t.deepEqual(r.entries[2].detail.get('i'), 2);
});

test('a missing, altered, foreign-signed or forked entry is a finding', (t) => {
  const entries = written(ledger(), 5);
  t.deepEqual(verify([entries[0], entries[1], entries[3], entries[4]]).findings.map((f) => f.code), ['E_LEDGER_GAP']);
  const altered = entries[2].slice();
  altered[altered.length - 70] ^= 1;
  t.false(verify([entries[0], entries[1], altered, entries[3], entries[4]]).valid);
  const foreign = written(ledger(undefined, { signer: other }), 5);
  t.false(verify([entries[0], entries[1], foreign[2], entries[3], entries[4]]).valid);
  // Another entry 2, properly signed by the camera key but not the one in the chain.
  const forged = signStructure('bodycam/ledger/1', { device: 'CAM-L', index: 2, prev: null, boot: 1, mono: 0, utc: 0, clockSource: 'rtc', event: 'stopped', detail: {} }, camera);
  t.true(verify([...entries, forged]).findings.some((f) => f.code === 'E_LEDGER_FORK'));
  t.true(verify([entries[0], entries[1], forged, entries[3], entries[4]]).findings.some((f) => f.code === 'E_LEDGER_CHAIN'));
});

test('a cut between an entry and its head loses nothing; the chain continues across reopen', (t) => {
  const l = ledger();
  written(l, 3);
  const head = l.keyStore.get(KEY_LEDGER_HEAD)!;
  l.ledger.append('docked', {});
  l.keyStore.set(KEY_LEDGER_HEAD, head); // the head update of entry 3 never happened
  const again = ledger(l.stores, { boot: 2 });
  t.is(again.ledger.next, 4);
  again.ledger.append('undocked', {});
  t.true(verify(again.ledger.page(-1, 100).entries).valid);
});

test('entries go only after a dock asked past them, the newest always stays; a full ledger drops the oldest', (t) => {
  const l = ledger(undefined, { capacity: 8 });
  written(l, 6);
  const p1 = l.ledger.page(-1, 4);
  t.is(p1.entries.length, 4);
  t.true(p1.more);
  l.ledger.page(3, 4); // the dock has 0..3
  t.is(l.keyStore.get(ledgerKey(3)), undefined);
  t.truthy(l.keyStore.get(ledgerKey(4)));
  l.ledger.page(5, 4);
  t.truthy(l.keyStore.get(ledgerKey(5)), 'the newest entry stays');
  written(l, 10);
  t.is(l.ledger.held, 8);
  t.is(l.ledger.overflowed, 3);
});

test('bodycam verify fails when the ledger of a shift is incomplete', async (t) => {
  const out = tempDir('bodycam-ledger-');
  const report = await runScenario(parseScenario(loadScenario('default-shift'), { scale: 0.4 }), { engine: 'node', seed: 3, out, export: false });
  t.true(report.ok, JSON.stringify(report.lost));
  const lines: string[] = [];
  t.is(await run(['verify', report.evidence, '--root', join(out, 'root.pub')], (l) => lines.push(l)), 0);
  t.true(lines.some((l) => /VALID +CAM-SIM-0001 ledger/.test(l)));
  const dir = join(report.evidence, 'devices', 'CAM-SIM-0001', 'ledger');
  // A hole in the middle (entry 1): deleting the newest entry would leave a valid, shorter chain
  // (only the custody log tells that), so which file goes must not depend on the digests' order.
  const second = readdirSync(dir).find((f) => peekStructure(new Uint8Array(readFileSync(join(dir, f))), 'bodycam/ledger/1', 'E_LEDGER_FORMAT').fields.get('index') === 1)!;
  unlinkSync(join(dir, second));
  const after: string[] = [];
  t.is(await run(['verify', report.evidence, '--root', join(out, 'root.pub')], (l) => after.push(l)), 1);
  t.true(after.some((l) => /INVALID +CAM-SIM-0001 ledger/.test(l)), after.join('\n'));
});
