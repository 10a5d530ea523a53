// bodycam verify against pinned trust, and a reader that never stops or wanders: a forged root
// in the store changes nothing in the answer; no pinned root, no verification (but --json still
// prints a report); a deleted revocation list in the store does not un-revoke; symlinks, FIFOs,
// directories and huge files where evidence belongs are findings with their paths.

import test from 'ava';
import { execFileSync } from 'node:child_process';
import { ftruncateSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../cli/bodycam.js';
import { writeEvidenceDir, segmentStem, type EvidenceLayout } from '../evidence/layout.js';
import { rootFingerprint } from '../evidence/trust.js';
import { issueCertificate, issueRevocationList } from '../firmware/signing/certificate.js';
import { KeyPairSigner, keyIdOf } from '../firmware/signing/signer.js';
import { nodeDigest } from '../host/ports.js';
import { Agency, layoutOf, scenario, T0 } from './helpers/signing.js';

function layout(): { layout: EvidenceLayout; agency: Agency; cameras: ReturnType<typeof scenario>['cameras'] } {
  const s = scenario({ cameras: 2, segments: 3 });
  return { agency: s.agency, cameras: s.cameras, layout: layoutOf(s) };
}

function tempDir(t: { teardown: (f: () => void) => void }, name = 'bodycam-trust-'): string {
  const dir = mkdtempSync(join(tmpdir(), name));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function verify(...args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await run(['verify', ...args], (l) => lines.push(l));
  return { code, out: lines.join('\n') };
}

/** A store, and the agency's root key in a folder outside it. */
function setup(t: { teardown: (f: () => void) => void }) {
  const store = tempDir(t);
  const trust = tempDir(t, 'bodycam-pinned-');
  const l = layout();
  writeEvidenceDir(store, l.layout);
  writeFileSync(join(trust, 'root.pub'), l.agency.root.publicKey);
  return { store, trust, rootFile: join(trust, 'root.pub'), ...l };
}

test('every report names the root by its fingerprint; the pinned root and the store\'s agree on clean evidence', async (t) => {
  const { store, rootFile, agency } = setup(t);
  const r = await verify(store, '--root', rootFile);
  t.is(r.code, 0, r.out);
  const fp = rootFingerprint(agency.root.publicKey);
  t.true(r.out.includes(`root     ${fp}`), r.out);
  t.regex(r.out, /pinned/);
  const j = JSON.parse((await verify(store, '--root', rootFile, '--json')).out) as { valid: boolean; trust: { fingerprint: string; source: string } };
  t.true(j.valid);
  t.deepEqual([j.trust.fingerprint, j.trust.source], [fp, 'pinned']);
});

test('a forged root in the store: with the pinned root nothing verifies; trusting the store says so in words', async (t) => {
  const { store, rootFile } = setup(t);
  // Someone with write access re-issues everything under their own root: certificates, root.pub.
  const forger = layout();
  const otherRoot = new KeyPairSigner({ seed: new Uint8Array(32).fill(9), digest: nodeDigest });
  const certify = (id: string, key: { publicKey: Uint8Array }) => issueCertificate({ id, kind: 'device', publicKey: key.publicKey, agency: 'Forged', serial: 1, notBefore: T0 - 1e10, notAfter: T0 + 1e10 }, otherRoot);
  rmSync(store, { recursive: true, force: true });
  writeEvidenceDir(store, { root: otherRoot.publicKey, docks: [], devices: forger.layout.devices.map((d, i) => ({ ...d, certificate: certify(d.id, forger.cameras[i].key), receipts: [] })) });
  const pinned = await verify(store, '--root', rootFile);
  t.is(pinned.code, 1);
  t.regex(pinned.out, /unknown-key/);
  const trusting = await verify(store, '--trust-store-root');
  t.is(trusting.code, 0, trusting.out);
  t.regex(trusting.out, /TRUST TAKEN FROM THE STORE/);
  t.true(trusting.out.includes(rootFingerprint(otherRoot.publicKey)));
  t.false(trusting.out.includes(rootFingerprint(forger.agency.root.publicKey)));
});

test('no pinned root: refused (exit 2), and --json still prints a report; a root file inside the store is not pinning', async (t) => {
  const { store } = setup(t);
  const plain = await verify(store);
  t.is(plain.code, 2);
  const json = await verify(store, '--json');
  t.is(json.code, 2);
  t.like(JSON.parse(json.out), { valid: false, error: { code: 'E_TRUST_UNPINNED' } });
  const inside = await verify(store, '--root', join(store, 'trust', 'root.pub'), '--json');
  t.is(inside.code, 2);
  t.like(JSON.parse(inside.out), { error: { code: 'E_TRUST_IN_STORE' } });
  // The environment may name the trust folder, as a configured station would.
  const { trust } = setup(t);
  process.env.BODYCAM_TRUST = trust;
  try {
    t.is((await verify(store)).code, 0);
  } finally {
    delete process.env.BODYCAM_TRUST;
  }
});

test('a pinned revocation list: deleting the store\'s copy does not un-revoke; an older copy in the store is overruled', async (t) => {
  const { store, trust, agency, cameras } = setup(t);
  const keyId = keyIdOf(cameras[1].key.publicKey, nodeDigest);
  const list = issueRevocationList({ agency: agency.name, number: 5, issued: T0, revoked: [{ keyId, reason: 'key compromise' }] }, agency.root);
  writeFileSync(join(trust, 'revocations.cose'), list);
  const r = await verify(store, '--trust', trust);
  t.is(r.code, 1);
  t.regex(r.out, /INVALID {2}CAM-0002/);
  t.regex(r.out, /store holds no valid revocation list/);
  // --root FILE takes the list kept beside it (a dock identity folder, the agency folder).
  t.is((await verify(store, '--root', join(trust, 'root.pub'))).code, 1);
  writeFileSync(join(store, 'trust', 'revocations.cose'), issueRevocationList({ agency: agency.name, number: 4, issued: T0, revoked: [] }, agency.root));
  const r2 = await verify(store, '--trust', trust);
  t.is(r2.code, 1);
  t.regex(r2.out, /older than the pinned one/);
  // Trusting the store alone, the deletion would have worked: that is what the words warn about.
  unlinkSync(join(store, 'trust', 'revocations.cose'));
  t.is((await verify(store, '--trust-store-root')).code, 0);
});

test('symlinks, a FIFO, a directory and oversized files where evidence belongs are findings with paths; the rest is still checked', async (t) => {
  const { store, rootFile } = setup(t);
  const outside = tempDir(t, 'bodycam-outside-');
  const seg = (dev: string, seq: number, ext: string) => join(store, 'devices', dev, 'segments', `${segmentStem(seq)}.${ext}`);
  // A manifest replaced by a link to a copy outside the store.
  writeFileSync(join(outside, 'm.cose'), readFileSync(seg('CAM-0001', 0, 'manifest.cose')));
  unlinkSync(seg('CAM-0001', 0, 'manifest.cose'));
  symlinkSync(join(outside, 'm.cose'), seg('CAM-0001', 0, 'manifest.cose'));
  // Media replaced by a FIFO: opening it for reading would block forever.
  unlinkSync(seg('CAM-0001', 1, 'media'));
  execFileSync('mkfifo', [seg('CAM-0001', 1, 'media')]);
  // A receipt that is a directory, and a checkpoint over the size limit.
  const receipts = join(store, 'devices', 'CAM-0002', 'receipts');
  mkdirSync(join(receipts, '7.cose'));
  const big = openSync(join(store, 'devices', 'CAM-0002', 'checkpoints', '9.cose'), 'w');
  ftruncateSync(big, 2 * 1024 * 1024);
  closeSync(big);
  // Media over 2 GiB (sparse): its length differs from the manifest's, so it is never hashed.
  const huge = openSync(seg('CAM-0002', 2, 'media'), 'r+');
  ftruncateSync(huge, 3 * 1024 * 1024 * 1024);
  closeSync(huge);
  // A whole device folder that is a link out of the store.
  mkdirSync(join(outside, 'CAM-0009'));
  symlinkSync(join(outside, 'CAM-0009'), join(store, 'devices', 'CAM-0009'));

  const r = await verify(store, '--root', rootFile, '--json');
  t.is(r.code, 1);
  const j = JSON.parse(r.out) as { valid: boolean; problems: { path: string; code: string }[]; devices: { device: string; segments: { seq: number; reasons: { code: string }[] }[] }[] };
  const problems = j.problems.map((p) => [p.path.slice(store.length + 1), p.code]);
  t.deepEqual(problems.sort(), [
    ['devices/CAM-0001/segments/0000000000.manifest.cose', 'E_LAYOUT_SYMLINK'],
    ['devices/CAM-0001/segments/0000000001.media', 'E_LAYOUT_SPECIAL'],
    ['devices/CAM-0002/checkpoints/9.cose', 'E_LAYOUT_TOO_BIG'],
    ['devices/CAM-0002/receipts/7.cose', 'E_LAYOUT_SPECIAL'],
    ['devices/CAM-0009', 'E_LAYOUT_SYMLINK'],
  ].sort());
  // The rest is still verified: the oversized media is a mismatch, the other segments are there.
  const cam2 = j.devices.find((d) => d.device === 'CAM-0002')!;
  t.deepEqual(cam2.segments.map((s) => [s.seq, s.reasons.map((f) => f.code).join(',')]), [[0, ''], [1, ''], [2, 'media-digest-mismatch']]);
  t.false(j.devices.some((d) => d.device === 'CAM-0009'));
});
