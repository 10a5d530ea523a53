// The recorder hands its dock sessions the revocation list provisioning stored, and keeps the
// newer list a dock brings: a revoked dock gets nothing (no upload, nothing freed).

import test from 'ava';
import { issueRevocationList, verifyRevocationList } from '../firmware/signing/certificate.js';
import type { EngineName } from '../host-sim/engine.js';
import { AGENCY, dockIdentity, root, startStation } from './helpers/dock.js';
import { TestCamera } from './helpers/recorder.js';

const list = (number: number, keyIds: Uint8Array[]) => issueRevocationList({ agency: AGENCY, number, issued: Date.UTC(2026, 5, 1), revoked: keyIds.map((keyId) => ({ keyId, reason: 'stolen' })) }, root);

/** Record a segment, put the camera on charge, wait for its dock session to end. */
async function recordAndDock(c: TestCamera) {
  await c.press();
  await c.run(12_000);
  c.battery(4100, true);
  await c.run(10_000);
  for (let i = 0; i < 500 && (await c.status()).session === 'active'; i++) {
    await new Promise((r) => setTimeout(r, 20));
    await c.engine.pump();
  }
  return c.status();
}

for (const engine of ['node', 'xs'] as EngineName[]) {
  test(`[${engine}] a recorder provisioned with a list that revokes the dock uploads nothing to it and frees nothing`, async (t) => {
    const { station, port } = await startStation();
    const c = await TestCamera.start({ engine, dockPort: port, segmentSeconds: 10, revocations: list(1, [dockIdentity().signer.keyId]) });
    try {
      const s = await recordAndDock(c);
      await station.idle();
      t.true(s.sessions.failed >= 1, JSON.stringify(s.sessions));
      t.regex(s.sessions.lastReason, /E_CERT_REVOKED/);
      t.true(s.storage.segmentsAwaitingUpload > 0);
      t.deepEqual(s.sessions.released, []);
      t.is(station.results[0].code, 'E_CERT_REVOKED');
    } finally {
      await c.close();
      await station.close();
    }
  });

  test(`[${engine}] a recorder keeps the newer revocation list its dock brings`, async (t) => {
    const newer = list(5, [dockIdentity('DOCK-9', 9).signer.keyId]);
    const { station, port } = await startStation({ revocationsCose: newer });
    const c = await TestCamera.start({ engine, dockPort: port, segmentSeconds: 10, revocations: list(1, []) });
    try {
      const s = await recordAndDock(c);
      await station.idle();
      t.is(s.sessions.completed, 1, JSON.stringify(s.sessions));
      const held = (await c.engine.call('recorder.revocations')).value as Uint8Array;
      t.is(verifyRevocationList(held, root.publicKey).number, 5);
    } finally {
      await c.close();
      await station.close();
    }
  });
}
