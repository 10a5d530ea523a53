// AudioIn port, shaped on Moddable's `embedded:io/audio/in` (modules/io/audioin in the SDK; on an
// ESP32 an I2S or PDM microphone — the XIAO ESP32S3 Sense's is PDM, clock GPIO42, data GPIO41):
// linear PCM, one options object with onReadable, start/stop/read/close. The driver fills its
// DMA buffers on its own; onReadable says how many bytes are ready and read(byteLength) takes
// exactly that many, oldest first. Like Moddable's driver it gives no capture times and does not
// report an overrun (the simulator's stamp is the one addition, like the Camera port's
// capturedMs): the capture (firmware/sensor/audio-capture.ts) stamps blocks from the
// sample count and the time of each read, and tells a lost stretch from the two.

export interface AudioInOptions {
  /** Samples per second (Moddable's driver takes 8000..48000). */
  sampleRate: number;
  /** 16 (signed, little-endian, as the driver delivers). */
  bitsPerSample: 16;
  channels: 1;
  audioType?: 'LPCM';
  format?: 'buffer';
  /**
   * `byteLength` bytes are ready to read now (all that are ready, not only the new ones).
   * `sampleCount` is as in Moddable's typings. `capturedMs`, when the driver knows it, is the
   * monotonic ms (Clock port time) at which the newest ready sample was taken: Moddable's driver
   * does not give it (the capture then uses the time of the read); the simulator does.
   */
  onReadable?: (byteLength: number, sampleCount?: number, capturedMs?: number) => void;
  onError?: (message: string) => void;
}

export interface AudioIn {
  readonly sampleRate: number;
  readonly bitsPerSample: number;
  readonly channels: number;
  start(): void;
  /** Stop capturing; samples not yet read are discarded. */
  stop(): void;
  /** The oldest `byteLength` ready bytes, or undefined when fewer are ready. */
  read(byteLength: number): ArrayBuffer | undefined;
  close(): void;
}

export type AudioInConstructor = new (options: AudioInOptions) => AudioIn;
