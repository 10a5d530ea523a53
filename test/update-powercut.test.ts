// Power cut at every flash operation of a firmware update (littlefs-style linear sweep): after
// each cut and a reboot, the camera boots a verified image — the old one, byte for byte, until
// the new one's control record is programmed, the new one after — and the evidence partition on
// the same chip is untouched. The same update then re-runs and installs. Node runs every cut
// point; XS runs the cut points around the commit and a spread of the rest (all of them with
// BODYCAM_LONG). A failure prints the cut point and the flash operation, which replay it.

import test, { type ExecutionContext } from 'ava';
import { isMap, type CborValue } from '../firmware/codec/cbor.js';
import { startEngine, type EngineName } from '../host-sim/engine.js';
import { SimHardware } from '../host-sim/node/hardware.js';
import { BOARD, cameraChip, firmwareSigner, keyStorePort, payloadOf, signedImage } from '../host-sim/update/fixture.js';

const signer = firmwareSigner();
const oldPayload = payloadOf(6000, 0);
const newPayload = payloadOf(10000, 1);
const image = signedImage(newPayload, { version: '2.0.0' });
const CHUNK = 1500;

const field = (v: CborValue, k: string): CborValue => (isMap(v) ? v.get(k) : (v as Record<string, CborValue>)[k]) as CborValue;

interface Run {
  /** Flash operations the update took (no cut). */
  operations: number;
  /** The armed cut happened during the update. */
  wasCut: boolean;
  /** The new image booted right after the cut. */
  newBooted: boolean;
}

/** One camera: factory image, then the update with a cut armed at `cut` (0: no cut). */
async function run(t: ExecutionContext, engineName: EngineName, cut: number): Promise<Run> {
  const hw = new SimHardware();
  const c = cameraChip({ seed: `cut-${cut}` });
  c.attach(hw);
  const keys = new Map<string, Map<string, Uint8Array>>();
  const platform = { ...hw.platform(), KeyStore: keyStorePort(keys) };
  let engine = await startEngine(engineName, platform);
  const replay = `${engineName} cut at update operation ${cut}`;
  try {
    await engine.call('update.provision', [signer.publicKey]);
    await engine.call('update.factory', oldPayload);
    const start = c.chip.counters.operations;
    if (cut > 0) c.chip.cutAfter(cut);
    const r = (await engine.call('update.install', image, CHUNK, BOARD)).value as CborValue;
    const operations = c.chip.counters.operations - start;
    const wasCut = !c.chip.powered;
    if (!wasCut) t.is(field(r, 'code'), 'OK', `${replay}: ${String(field(r, 'message'))}`);
    // Reboot: power back, a fresh engine (nothing survives in RAM), the bootloader looks.
    await engine.close();
    c.chip.reboot();
    engine = await startEngine(engineName, platform);
    const boot = (await engine.call('update.boot')).value;
    t.truthy(boot, `${replay}: nothing boots (cut during ${JSON.stringify(c.chip.lastCut)})`);
    const slot = (await engine.call('update.slot')).value as Uint8Array;
    const isOld = Buffer.from(slot).equals(Buffer.from(oldPayload));
    const isNew = Buffer.from(slot).equals(Buffer.from(newPayload));
    t.true(isOld || isNew, `${replay}: the booted slot is neither image (cut during ${JSON.stringify(c.chip.lastCut)})`);
    if (!wasCut) t.true(isNew, 'without a cut the new image boots');
    if (wasCut && field(r, 'code') !== 'OK') t.true(isOld, `${replay}: refused or cut before commit, yet the new image boots`);
    t.true(Buffer.from(c.chip.peek(0, c.storeBytes)).equals(Buffer.from(c.evidence)), `${replay}: the evidence partition changed`);
    // The dock offers the update again: it installs (or is already there) and boots.
    const again = (await engine.call('update.install', image, CHUNK, BOARD)).value as CborValue;
    t.is(field(again, 'code'), 'OK', `${replay}: re-run after the cut: ${String(field(again, 'message'))}`);
    const slot2 = (await engine.call('update.slot')).value as Uint8Array;
    t.true(Buffer.from(slot2).equals(Buffer.from(newPayload)), `${replay}: the re-run doesn't boot the new image`);
    return { operations, wasCut, newBooted: isNew };
  } finally {
    await engine.close();
  }
}

test('[node] a power cut at every flash operation of an update leaves a bootable, verified camera', async (t) => {
  const { operations } = await run(t, 'node', 0);
  t.true(operations > 10, `the update took ${operations} flash operations`);
  let newBooted = 0;
  for (let cut = 1; cut <= operations; cut++) {
    const r = await run(t, 'node', cut);
    t.true(r.wasCut, `the cut at operation ${cut} happened`);
    if (r.newBooted) newBooted++;
  }
  // Only a cut in the very last operation (the control record's program) can leave either image.
  t.true(newBooted <= 1, `${newBooted} cuts booted the new image before its commit finished`);
  t.log(`${operations} flash operations per update, each cut`);
});

test('[xs] power cuts around the commit and across the update leave a bootable, verified camera', async (t) => {
  const { operations } = await run(t, 'xs', 0);
  // Every cut point with BODYCAM_LONG; by default every third and the ones around the commit.
  const long = Boolean(process.env.BODYCAM_LONG);
  const points = new Set<number>();
  for (let cut = 1; cut <= operations; cut++) if (long || cut <= 2 || cut >= operations - 3 || cut % 3 === 0) points.add(cut);
  for (const cut of points) t.true((await run(t, 'xs', cut)).wasCut);
  t.log(`${points.size} of ${operations} cut points`);
});
