// The AudioIn port on a device: a thin adapter over Moddable's `embedded:io/audio/in`
// (modules/io/audioin; PDM on the XIAO ESP32S3 Sense, whose pins and rate the board's manifest
// fragment sets as `defines.audioin`, because the driver takes them at build time). The Moddable
// class is handed in by main.ts, so this file compiles with no device typings in scope and is
// tested on Node with a fake that behaves as the driver's C does.
//
// What it adds: the driver's read() throws "invalid size" when asked for more than is ready; the
// port returns undefined instead. A board without a microphone gets a port whose constructor
// throws E_NO_DEVICE, and the recorder records video alone (and says so in its ledger).

import { BodycamError } from '../errors.js';
import type { AudioIn, AudioInConstructor, AudioInOptions } from '../platform/audio-in.js';

/** The surface of Moddable's AudioIn class that bodycam uses (as the SDK's typings give it). */
export interface ModdableAudioInInstance {
  read(byteLength: number): ArrayBuffer | undefined;
  start(): void;
  stop(): void;
  close(): void;
  readonly sampleRate: number;
  readonly bitsPerSample: number;
  readonly channels: number;
}

export type ModdableAudioInClass = new (options: {
  sampleRate: number;
  bitsPerSample: 16;
  channels: 1;
  audioType: 'LPCM';
  format: 'buffer';
  onReadable: (byteLength: number, sampleCount?: number) => void;
}) => ModdableAudioInInstance;

/** The AudioIn port over Moddable's class. */
export function moddableAudioInPort(Driver: ModdableAudioInClass): AudioInConstructor {
  return class ModdableAudioIn implements AudioIn {
    readonly #mic: ModdableAudioInInstance;
    readonly sampleRate: number;
    readonly bitsPerSample: number;
    readonly channels: number;
    constructor(o: AudioInOptions) {
      const onReadable = o.onReadable;
      try {
        this.#mic = new Driver({
          sampleRate: o.sampleRate, bitsPerSample: 16, channels: 1, audioType: 'LPCM', format: 'buffer',
          onReadable: (byteLength: number) => onReadable?.(byteLength),
        });
      } catch (e) {
        throw new BodycamError('E_AUDIO_INIT', `the microphone did not start (${e instanceof Error ? e.message : String(e)}); check the board's microphone defines`);
      }
      this.sampleRate = this.#mic.sampleRate;
      this.bitsPerSample = this.#mic.bitsPerSample;
      this.channels = this.#mic.channels;
    }
    start(): void {
      this.#mic.start();
    }
    stop(): void {
      this.#mic.stop();
    }
    read(byteLength: number): ArrayBuffer | undefined {
      try {
        return this.#mic.read(byteLength);
      } catch {
        return undefined; // fewer bytes ready than asked ("invalid size")
      }
    }
    close(): void {
      this.#mic.close();
    }
  };
}

/** The AudioIn port of a board with no microphone. */
export function noMicrophone(board: string): AudioInConstructor {
  return class NoMicrophone {
    constructor() {
      throw new BodycamError('E_NO_DEVICE', `board ${board} has no microphone; recording video only`);
    }
  } as unknown as AudioInConstructor;
}
