// The Platform on a camera: every port backed by its device adapter, built from a board
// definition and the Moddable modules main.ts hands in. Nothing here imports a device module,
// so the whole assembly is tested on Node with fakes (test/device-platform.test.ts).

import { BodycamError } from '../errors.js';
import type { CameraConstructor } from '../platform/camera.js';
import type { Platform } from '../platform/platform.js';
import { moddableCameraPort, type ModdableCameraClass } from '../sensor/moddable-camera.js';
import { moddableAudioInPort, noMicrophone, type ModdableAudioInClass } from './audio-in.js';
import type { BoardConfig } from './board.js';
import { hardwareRandom, nativeChecksum } from './checksum.js';
import { cryptCipher } from './cipher.js';
import { DeviceClock, DeviceTimer } from './clock.js';
import { nativeDigest } from './digest.js';
import { fileFlash } from './file-flash.js';
import { partitionFlash } from './flash.js';
import { sdFlash, type SdNative } from './sd-flash.js';
import { analogBattery, digitalButton, digitalHaptic, digitalLed } from './io.js';
import { keyValueStore } from './keystore.js';
import { tcpLink } from './link.js';
import type { AnalogClass, BodycamNative, CryptCipherModule, CryptDigestConstructor, DigitalClass, FilesDirectory, FlashStorageModule, KeyValueModule, Poly1305Native, TCPClass, TimeModule, TimerModule } from './moddable.js';

/** The Moddable modules the device platform is built from (main.ts imports the real ones). */
export interface DeviceModules<H = unknown> {
  Camera: ModdableCameraClass;
  /** `embedded:io/audio/in`, for boards with a microphone (board.microphone). */
  AudioIn?: ModdableAudioInClass;
  flash: FlashStorageModule;
  /** `embedded:storage/files`, needed only by boards whose store is a preallocated file. */
  files?: FilesDirectory;
  /** The SD card's sectors (bodycam/native), needed by boards whose store is on the card. */
  sd?: SdNative;
  keyValue: KeyValueModule;
  Digest: CryptDigestConstructor;
  /** `crypt`'s BlockCipher, Mode and GHASH: AES-GCM for the Cipher port; its StreamCipher: ChaCha20. */
  crypt: CryptCipherModule;
  /** bodycam/poly1305: ChaCha20-Poly1305's tag (the Cipher port's CHACHA20-POLY1305 needs it). */
  poly1305?: Poly1305Native;
  native: BodycamNative;
  Digital: DigitalClass;
  Analog: AnalogClass;
  TCP: TCPClass;
  Timer: TimerModule<H>;
  Time: TimeModule;
  now: () => number;
}

/** Powers the camera (boards that switch its supply) before the driver opens it. */
function poweredCamera(Camera: CameraConstructor, board: BoardConfig, Digital: DigitalClass): CameraConstructor {
  const cameraPower = board.cameraPower;
  if (!cameraPower) return Camera;
  const power = cameraPower;
  return class PoweredCamera extends Camera {
    constructor(options: ConstructorParameters<CameraConstructor>[0]) {
      const pin = new Digital({ pin: power.pin, mode: Digital.Output });
      pin.write(power.activeLow ? 0 : 1);
      super(options);
    }
  };
}

export function devicePlatform<H>(board: BoardConfig, m: DeviceModules<H>): Platform {
  let Flash;
  if (board.storage.kind === 'partition') {
    Flash = partitionFlash({ storage: m.flash, writeAlign: board.storage.writeAlign });
  } else if (board.storage.kind === 'sd') {
    if (!m.sd) throw new BodycamError('E_BOARD_STORAGE', `board ${board.board} keeps its store on an SD card, but this build has no SD driver`);
    Flash = sdFlash({ sd: m.sd, pins: board.storage.spi, blockLength: board.storage.blockLength, lossUnit: board.storage.lossUnit });
  } else {
    if (!m.files) throw new BodycamError('E_BOARD_STORAGE', `board ${board.board} keeps its store in a file, but this build has no embedded:storage/files`);
    Flash = fileFlash({ files: m.files, bytes: board.storage.bytes, blockLength: board.storage.blockLength, writeAlign: board.storage.writeAlign });
  }
  return {
    Camera: poweredCamera(moddableCameraPort({ Camera: m.Camera, sensor: board.camera.sensor, setQuality: m.native.cameraQuality }), board, m.Digital),
    AudioIn: board.microphone && m.AudioIn ? moddableAudioInPort(m.AudioIn) : noMicrophone(board.board),
    Flash,
    KeyStore: keyValueStore(m.keyValue),
    Button: digitalButton(m.Digital, board.button),
    Led: digitalLed(m.Digital, board.led),
    Haptic: digitalHaptic(m.Digital, m.Timer, board.haptic),
    Battery: analogBattery(m.Analog, board.battery),
    Link: tcpLink(m.TCP, { port: board.link.port }),
    clock: new DeviceClock({ time: m.Time, now: m.now }),
    timer: new DeviceTimer(m.Timer),
    random: hardwareRandom(m.native),
    digest: nativeDigest(m.Digest),
    checksum: nativeChecksum(m.native),
    cipher: cryptCipher(m.crypt, m.poly1305),
  };
}
