// Revoked and expired docks: a camera refuses a dock its agency revoked (the list from
// provisioning, then the newer one each docking brings) and a dock certificate that expired
// before a time the camera knows has passed, whatever its clock source; a station refuses to
// start under a revoked or expired identity of its own. Real TCP, real SQLite, both engines.

import test from 'ava';
import { join } from 'node:path';
import { issueRevocationList, verifyRevocationList, type Certificate } from '../firmware/signing/certificate.js';
import { isBodycamError } from '../firmware/errors.js';
import { ENGINES } from '../host-sim/engine.js';
import { hostEd25519 } from '../host/ed25519-node.js';
import { DockStation } from '../dock-station/station.js';
import { loadDockIdentity, writeDockIdentity } from '../dock-station/identity.js';
import { certificate, dock, dockIdentity, root, seed, startCamera, startStation, AGENCY, type Camera } from './helpers/dock.js';
import { tempDir } from './helpers/tmp.js';

const KEY_ID_DOCK2 = dockIdentity('DOCK-2', 3).signer.keyId;
const KEY_ID_DOCK1 = dockIdentity().signer.keyId;

function revoking(number: number, keyId: Uint8Array, issued = Date.UTC(2026, 5, 1)): Uint8Array {
  return issueRevocationList({ agency: AGENCY, number, issued, revoked: [{ keyId, reason: 'stolen from the van' }] }, root);
}

/** Provision the camera again with the same certificate, holding `revocations`. */
async function installList(camera: Camera, revocations: Uint8Array | null, cert: Partial<Certificate> = {}): Promise<void> {
  const publicKey = (await camera.engine.call('dock.camera.identity')).value as Uint8Array;
  await camera.engine.call('dock.camera.install', root.publicKey, certificate({ id: 'CAM-0001', kind: 'device', publicKey, ...cert }), revocations);
}

for (const engine of ENGINES) {
  test(`[${engine}] a camera refuses a dock on the revocation list it was provisioned with, and keeps everything`, async (t) => {
    const { station, port } = await startStation();
    const camera = await startCamera(engine);
    try {
      await installList(camera, revoking(1, KEY_ID_DOCK1));
      await camera.engine.call('dock.camera.record', { segments: 2 });
      const s = await dock(camera, port);
      await station.idle();
      t.deepEqual(s.pending, [0, 1]);
      t.is(s.receipts, 0);
      t.true(s.events.includes('refused E_CERT_REVOKED'), s.events.join('; '));
      t.is(station.results[0].code, 'E_CERT_REVOKED');
      t.deepEqual(station.store.segments('CAM-0001'), []);
    } finally {
      await camera.close();
      await station.close();
    }
  });

  test(`[${engine}] each docking brings the agency's newer list: a dock revoked since provisioning is refused at the next docking`, async (t) => {
    // Station A holds list 2, which revokes DOCK-2; the camera was provisioned with list 1 (nothing of DOCK-2's).
    const listA = issueRevocationList({ agency: AGENCY, number: 2, issued: Date.UTC(2026, 6, 1), revoked: [{ keyId: KEY_ID_DOCK2, reason: 'lost' }] }, root);
    const a = await startStation({ revocationsCose: listA });
    // DOCK-2, stolen with an old identity folder (no list): it still holds a valid certificate.
    const b = await startStation({ identity: dockIdentity('DOCK-2', 3) });
    const camera = await startCamera(engine);
    try {
      await installList(camera, issueRevocationList({ agency: AGENCY, number: 1, issued: Date.UTC(2026, 0, 2), revoked: [] }, root));
      await camera.engine.call('dock.camera.record', { segments: 1 });
      const first = await dock(camera, a.port);
      await a.station.idle();
      t.true(a.station.results[0].ok, JSON.stringify(a.station.results[0]));
      t.deepEqual(first.pending, []);
      const held = (await camera.engine.call('dock.camera.revocations')).value as Uint8Array;
      t.is(verifyRevocationList(held, root.publicKey).number, 2, 'the camera keeps the newer list');

      await camera.engine.call('dock.camera.record', { segments: 1 });
      const second = await dock(camera, b.port);
      await b.station.idle();
      t.deepEqual(second.pending, [1], 'nothing freed for the revoked dock');
      t.is(b.station.results[0].code, 'E_CERT_REVOKED');
      t.deepEqual(b.station.store.segments('CAM-0001'), []);
    } finally {
      await camera.close();
      await a.station.close();
      await b.station.close();
    }
  });

  test(`[${engine}] a camera whose clock was never set still refuses a dock certificate that expired before its revocation list was issued`, async (t) => {
    // The dock's certificate ran out at the end of 2025; the camera holds a revocation list issued
    // in 2026, so 2026 has certainly come. The station's clock says 2025 (its identity looks
    // valid to it), and the camera has no clock at all.
    const expired = { notBefore: Date.UTC(2025, 0, 1), notAfter: Date.UTC(2025, 11, 31) };
    const { station, port } = await startStation({ identity: dockIdentity('DOCK-1', 2, expired), now: () => Date.UTC(2025, 5, 1) });
    const camera = await startCamera(engine);
    try {
      await installList(camera, issueRevocationList({ agency: AGENCY, number: 1, issued: Date.UTC(2026, 0, 15), revoked: [] }, root), { notBefore: Date.UTC(2025, 0, 1) });
      camera.hw.clock.setUtc(0, 'none');
      await camera.engine.call('dock.camera.record', { segments: 1 });
      const s = await dock(camera, port);
      await station.idle();
      t.deepEqual(s.pending, [0]);
      t.true(s.events.includes('refused E_CERT_EXPIRED'), s.events.join('; '));
      t.is(station.results[0].code, 'E_CERT_EXPIRED');
    } finally {
      await camera.close();
      await station.close();
    }
  });
}

test('[node] a station refuses to start with a revoked identity or an expired one', (t) => {
  const storeDir = tempDir('bodycam-dock-');
  const revoked = t.throws(() => new DockStation({ identity: dockIdentity(), storeDir, ed25519: hostEd25519(), revocationsCose: revoking(1, KEY_ID_DOCK1) }));
  t.true(isBodycamError(revoked) && revoked.code === 'E_CERT_REVOKED', String(revoked));
  const expired = t.throws(() => new DockStation({ identity: dockIdentity('DOCK-1', 2, { notAfter: Date.UTC(2026, 0, 2) }), storeDir, ed25519: hostEd25519() }));
  t.true(isBodycamError(expired) && expired.code === 'E_CERT_EXPIRED', String(expired));

  // The same from the identity folder `bodycam dock --identity` loads.
  const dir = tempDir('bodycam-dockid-');
  const id = dockIdentity();
  writeDockIdentity(dir, { seed: seed(2), certificate: id.certificate, rootKey: root.publicKey, revocations: revoking(1, KEY_ID_DOCK1) });
  const e = t.throws(() => loadDockIdentity(dir, hostEd25519()));
  t.true(isBodycamError(e) && e.code === 'E_CERT_REVOKED', String(e));
});
