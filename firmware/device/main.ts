// The Moddable entry point (manifest.json `creation.main`): imports the real device modules,
// builds the Platform for the board this image was built for (`mc/config`, from
// boards/<name>.json), and hands it to firmware/main.ts. The only firmware file that imports
// Moddable modules; type-checked by mcconfig against the SDK's own typings/ (npm run
// build:moddable does it for every board).

import Camera from 'embedded:io/image/in/camera';
import AudioIn from 'embedded:io/audio/in';
import flash from 'embedded:storage/flash';
import keyValue from 'embedded:storage/key-value';
import Digital from 'embedded:io/digital';
import Analog from 'embedded:io/analog';
import TCP from 'embedded:io/socket/tcp';
import * as crypt from 'crypt';
import Timer from 'timer';
import Time from 'time';
import config from 'mc/config';
import native from 'bodycam/native';
import poly1305 from 'bodycam/poly1305';
import { readBoard } from './board.js';
import { devicePlatform, type DeviceModules } from './platform.js';
import type { CryptCipherModule, CryptDigestConstructor } from './moddable.js';
import { start } from '../main.js';
import { readArmouryAddress } from '../provision/boot.js';
import { NobleEd25519 } from '../signing/ed25519-noble.js';

const modules: DeviceModules<Timer> = {
  Camera,
  AudioIn,
  flash,
  keyValue,
  // The SDK types Digest.write(string | ArrayBuffer); its native write takes any buffer
  // (modCrypt.c reads it with xsmcGetBufferReadable), which is what lets a frame's HostBuffer be
  // hashed where it lies. The one widening of an SDK type in the device build.
  Digest: crypt.Digest as unknown as CryptDigestConstructor,
  // The SDK's typings declare only crypt's Digest; crypt.js also exports BlockCipher, Mode and
  // GHASH (natives in modCrypt.c), which the Cipher port's AES-GCM is made of (device/cipher.ts).
  crypt: crypt as unknown as CryptCipherModule,
  // ChaCha20-Poly1305's tag in C (firmware/device/native/poly1305.c): crypt has ChaCha20 only.
  poly1305,
  native,
  // The SD card's sectors (boards whose store is on the card): bodycam/native's SD functions.
  sd: native,
  Digital,
  Analog,
  TCP,
  Timer,
  Time,
  now: () => Date.now(),
};

export default function main(): void {
  const board = readBoard(config.bodycam);
  // Where an unprovisioned camera finds the armoury tool (boards/<name>.json `provision`).
  const provision = readArmouryAddress((config.bodycam as { provision?: unknown }).provision, board.board);
  // Where the dock station listens when the camera is docked (boards/<name>.json `link`).
  const dock = { address: board.link.address, port: board.link.port };
  const platform = devicePlatform(board, modules);
  // The camera's Ed25519 (@noble/curves, SHA-512 through the native Digest): made here, in the
  // entry, because noble can't be preloaded and whatever imports it can't be either.
  const ed25519 = new NobleEd25519({ digest: platform.digest });
  start(platform, { board: board.board, camera: board.camera, storagePath: board.storage.path, keyStorePath: board.keystore.path, provision, dock, ed25519 });
}
