// A Platform is everything the firmware may touch, handed in by main.ts on a device (device
// adapters over Moddable modules) or by the host simulator (simulated hardware, directly on
// Node or across the command bridge in XS).

import type { AudioInConstructor } from './audio-in.js';
import type { CameraConstructor } from './camera.js';
import type { Checksum } from './checksum.js';
import type { Cipher } from './cipher.js';
import type { Clock, Timer } from './clock.js';
import type { Digest } from './digest.js';
import type { FlashConstructor } from './flash.js';
import type { BatteryConstructor, ButtonConstructor, HapticConstructor, LedConstructor } from './io.js';
import type { KeyStoreConstructor } from './keystore.js';
import type { LinkConstructor } from './link.js';
import type { Random } from './random.js';

export interface Platform {
  Camera: CameraConstructor;
  /** The microphone; a board without one gives a constructor that throws E_NO_DEVICE. */
  AudioIn: AudioInConstructor;
  Flash: FlashConstructor;
  KeyStore: KeyStoreConstructor;
  Button: ButtonConstructor;
  Led: LedConstructor;
  Haptic: HapticConstructor;
  Battery: BatteryConstructor;
  Link: LinkConstructor;
  clock: Clock;
  timer: Timer;
  random: Random;
  digest: Digest;
  checksum: Checksum;
  /** AEAD (AES-GCM, ChaCha20-Poly1305) over bytes sealed in place: native on a device; node:crypto and libsodium on a host. */
  cipher: Cipher;
}
