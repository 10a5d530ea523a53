// The ports: the only way firmware reaches hardware.
//
// Each port is shaped on the Moddable module that backs it on a device (ECMA-419 IO class
// pattern: one options object into the constructor, callbacks inside it, close() to release),
// so a device adapter is thin and a host simulator can stand in for the hardware. Firmware
// modules receive a Platform (or the few ports they need) in their options; they never import
// a device module, a Node.js module, or anything from host-sim/ or dock-station/.
//
// This folder may import nothing but firmware/errors.ts and firmware/codec/.

export type { BufferLike } from './buffers.js';
export { toBytes } from './buffers.js';
export type { AudioIn, AudioInConstructor, AudioInOptions } from './audio-in.js';
export type { Camera, CameraConstructor, CameraFrame, CameraOptions, ImageType } from './camera.js';
export type { Flash, FlashConstructor, FlashOptions, FlashStatus } from './flash.js';
export type { Clock, ClockSource, Timer, TimerId } from './clock.js';
export type { Random } from './random.js';
export type { Digest, DigestAlgorithm, DigestContext } from './digest.js';
export type { Checksum } from './checksum.js';
export type { AeadAlgorithm, AeadContext, Cipher } from './cipher.js';
export { AEAD_NONCE_BYTES, AEAD_TAG_BYTES, aeadKeyBytes, checkAeadArguments, sealTwoBySeal } from './cipher.js';
export type { KeyStore, KeyStoreConstructor, KeyStoreOptions } from './keystore.js';
export type { Button, ButtonConstructor, ButtonOptions, Led, LedConstructor, LedOptions, Haptic, HapticConstructor, Battery, BatteryConstructor, BatteryOptions, BatteryReading } from './io.js';
export type { Link, LinkConstructor, LinkOptions } from './link.js';
export type { Platform } from './platform.js';
