// Firmware through the dock: offered only after every segment is receipted, verified by the
// camera before anything becomes bootable, every outcome in the custody log and the camera's events.

import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { FirmwareShelf } from '../dock-station/firmware-shelf.js';
import { ENGINES } from '../host-sim/engine.js';
import { firmwareSigner, payloadOf, signedImage } from '../host-sim/update/fixture.js';
import { dock, startCamera, startStation } from './helpers/dock.js';
import { tempDir } from './helpers/tmp.js';

function shelf(images: Uint8Array[]): FirmwareShelf {
  const dir = tempDir('bodycam-fw-');
  images.forEach((img, i) => writeFileSync(join(dir, `image-${i}.img`), img));
  return new FirmwareShelf(dir);
}

const key = firmwareSigner(0x42);
const payload = payloadOf(40_000, 3);

for (const engine of ENGINES) {
  test(`[${engine}] after the evidence is receipted, a newer signed image is offered, verified and installed`, async (t) => {
    const { station, port } = await startStation({ firmware: shelf([signedImage(payloadOf(10_000, 1), { version: '0.0.9', signer: key }), signedImage(payload, { version: '1.1.0', signer: key })]), chunkSize: 16 * 1024 });
    const camera = await startCamera(engine, { otaBlocks: 2 + 2 * 16 });
    try {
      await camera.engine.call('dock.camera.trustFirmware', key.publicKey);
      await camera.engine.call('dock.camera.record', { segments: 2 });
      const s = await dock(camera, port, 60000, { updates: true });
      await station.idle();
      t.deepEqual(s.pending, []);
      t.deepEqual(station.results[0].update, { version: '1.1.0', code: 'OK' });
      t.true(s.events.includes('update 1.1.0 OK'));
      const booted = (await camera.engine.call('dock.camera.booted')).value as Map<string, unknown>;
      t.is(Buffer.from(booted.get('sha256') as Uint8Array).toString('hex'), createHash('sha256').update(payload).digest('hex'));
      const events = station.store.custody('CAM-0001').map((e) => e.event);
      t.true(events.indexOf('camera-released') < events.indexOf('update-offered'), 'offered only after the receipt');
      t.true(events.includes('update-installed'));
    } finally {
      await camera.close();
      await station.close();
    }
  });
}

test('[node] an image signed by another key is refused by the camera; nothing new boots; the refusal is logged', async (t) => {
  const { station, port } = await startStation({ firmware: shelf([signedImage(payload, { version: '1.2.0', signer: firmwareSigner(0x43) })]) });
  const camera = await startCamera('node', { otaBlocks: 2 + 2 * 16 });
  try {
    await camera.engine.call('dock.camera.trustFirmware', key.publicKey);
    const s = await dock(camera, port, 60000, { updates: true });
    await station.idle();
    const code = station.results[0].update?.code ?? '';
    t.true(['E_FW_KEY', 'E_FW_SIGNATURE'].includes(code), code);
    t.is((await camera.engine.call('dock.camera.booted')).value, null);
    t.true(s.events.some((e) => e.startsWith('update 1.2.0 E_FW_')));
    t.true(station.store.custody('CAM-0001').some((e) => e.event === 'update-refused' && e.detail!.includes(code)));
  } finally {
    await camera.close();
    await station.close();
  }
});

test('[node] while evidence still awaits upload, no update is offered', async (t) => {
  const { station, port } = await startStation({ firmware: shelf([signedImage(payload, { version: '1.1.0', signer: key })]) });
  const camera = await startCamera('node', { otaBlocks: 2 + 2 * 16 });
  try {
    await camera.engine.call('dock.camera.trustFirmware', key.publicKey);
    await camera.engine.call('dock.camera.record', { segments: 1, forgeWithSeed: 5 }); // the dock refuses it: it stays on the camera
    const s = await dock(camera, port, 60000, { updates: true });
    await station.idle();
    t.deepEqual(s.pending, [0]);
    t.is(station.results[0].update, undefined);
    t.true(station.store.custody('CAM-0001').some((e) => e.event === 'update-deferred'));
    t.is((await camera.engine.call('dock.camera.booted')).value, null);
  } finally {
    await camera.close();
    await station.close();
  }
});
