// A camera's flash chip for update tests and the bench: one SimFlash cut into an evidence-store
// partition and the OTA partition (A/B slots), the firmware key of an armoury, and signed images
// made from it. Node side (tests, bench); the camera side runs in host-sim/guest/update.ts.

import { BodycamError } from '../../firmware/errors.js';
import type { KeyStore, KeyStoreConstructor, KeyStoreOptions } from '../../firmware/platform/keystore.js';
import { buildImage, parseVersion } from '../../firmware/update/image.js';
import { softDigest } from '../../firmware/platform/soft-digest.js';
import { KeyPairSigner } from '../../firmware/signing/signer.js';
import { SimFlash } from '../flash/sim-flash.js';
import type { SimHardware } from '../node/hardware.js';
import { OTA_PARTITION } from './ab-slots.js';
import { partitionedFlash } from './partitions.js';

export const STORE_PARTITION = 'bodycam-store';
export const BOARD = 'xiao_esp32s3_sense';

export interface ChipOptions {
  blockLength?: number;
  storeBlocks?: number;
  /** Blocks of the OTA partition (2 control blocks + 2 slots). */
  otaBlocks?: number;
  seed?: number | string;
}

/** A chip with a store partition filled with a known pattern (the "evidence") and an empty OTA partition. */
export function cameraChip(o: ChipOptions = {}): { chip: SimFlash; storeBytes: number; evidence: Uint8Array; attach(hw: SimHardware): void } {
  const blockLength = o.blockLength ?? 4096;
  const storeBlocks = o.storeBlocks ?? 4;
  const otaBlocks = o.otaBlocks ?? 2 + 2 * 8;
  const chip = new SimFlash({ blockLength, blocks: storeBlocks + otaBlocks, seed: o.seed ?? 1 });
  const storeBytes = storeBlocks * blockLength;
  const evidence = new Uint8Array(storeBytes).map((_, i) => (i * 31 + 7) & 0xff);
  chip.write(evidence, 0);
  const Flash = partitionedFlash(chip, [
    { path: STORE_PARTITION, firstBlock: 0, blocks: storeBlocks },
    { path: OTA_PARTITION, firstBlock: storeBlocks, blocks: otaBlocks },
  ]);
  return { chip, storeBytes, evidence, attach: (hw) => (hw.devices.Flash = Flash) };
}

export function firmwareSigner(seedByte = 0x42): KeyPairSigner {
  return new KeyPairSigner({ seed: new Uint8Array(32).fill(seedByte), digest: softDigest });
}

/** A payload that looks like an application image of `length` bytes, distinct per `tag`. */
export function payloadOf(length: number, tag: number): Uint8Array {
  const p = new Uint8Array(length);
  for (let i = 0; i < length; i++) p[i] = (i * 131 + tag * 17 + (i >> 8)) & 0xff;
  p[0] = 0xe9; // an ESP32 application image starts with this magic byte
  return p;
}

export interface SignOptions {
  version?: string;
  securityCounter?: number;
  board?: string;
  signer?: KeyPairSigner;
}

export function signedImage(payload: Uint8Array, o: SignOptions = {}): Uint8Array {
  return buildImage({
    payload,
    version: parseVersion(o.version ?? '1.1.0'),
    securityCounter: o.securityCounter,
    board: o.board ?? BOARD,
    signer: o.signer ?? firmwareSigner(),
    digest: softDigest,
  });
}

/**
 * A KeyStore port whose instances are class objects, so they cross the XS bridge as handles
 * (SimHardware's MemoryKeyStores hands out plain objects with function properties, which the
 * bridge refuses). Partitions live in `partitions`, across engine restarts.
 */
export function keyStorePort(partitions = new Map<string, Map<string, Uint8Array>>()): KeyStoreConstructor {
  return class MemoryKeyStorePort implements KeyStore {
    #part: Map<string, Uint8Array>;
    #open = true;
    constructor(o: KeyStoreOptions) {
      let p = partitions.get(o.path);
      if (!p) partitions.set(o.path, (p = new Map()));
      this.#part = p;
    }
    #check(): void {
      if (!this.#open) throw new BodycamError('E_CLOSED', 'key store closed');
    }
    get(key: string): ArrayBuffer | undefined {
      this.#check();
      return this.#part.get(key)?.slice().buffer;
    }
    set(key: string, value: ArrayBuffer | Uint8Array): void {
      this.#check();
      this.#part.set(key, new Uint8Array(value instanceof ArrayBuffer ? value.slice(0) : value.slice()));
    }
    delete(key: string): void {
      this.#check();
      this.#part.delete(key);
    }
    close(): void {
      this.#open = false;
    }
  };
}
