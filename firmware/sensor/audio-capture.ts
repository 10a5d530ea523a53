// AudioCapture: the record path from the microphone to storage, beside FrameCapture.
//
// microphone onReadable(bytes ready) → read() whole blocks (200 ms by default) → a 48-byte audio
// header (block number, monotonic and UTC time of the block's first sample, samples lost before
// it) → the sink (storage) gets header + samples as one record, in the same segment as the frames.
//
// Time: the sample count is the audio clock (the microphone's clock and the monotonic clock come
// from the same crystal on an ESP32): block k of a run starts at anchor + samples-so-far / rate.
// The anchor is the first block's time, worked out from when the newest ready sample was taken
// (the driver's stamp when it gives one, else the time of the read) less the bytes ready before
// it. The same estimate is made for every block; when it runs ahead of the sample clock by more
// than the tolerance, samples were lost in the driver (an overrun: Moddable's driver drops them
// without telling): they are counted on the next stored block (droppedBefore, DRIVER_DROP) and the
// clock is anchored again. A block the sink refuses is counted the same way (STORAGE_DROP). So a
// hole in the sound is always explained in the evidence, like a hole in the video.
//
// PCM blocks are stored as the driver gives them: no JavaScript touches a sample. IMA ADPCM
// (codec "adpcm") codes every sample in JavaScript; it is here to be measured (bench: audio).

import { BodycamError, isBodycamError } from '../errors.js';
import type { AudioIn, AudioInConstructor } from '../platform/audio-in.js';
import type { Clock } from '../platform/clock.js';
import type { FrameSink } from '../encoder/frame-record.js';
import { AudioCodec, AudioFlags, AudioHeaderEncoder, audioDataLength, type AudioCodecId, type AudioHeader } from '../encoder/audio-record.js';
import { ImaAdpcmEncoder } from '../encoder/ima-adpcm.js';

export type AudioCodecName = 'pcm' | 'adpcm';

export interface AudioCaptureOptions {
  /** The AudioIn port (Platform.AudioIn). */
  AudioIn: AudioInConstructor;
  clock: Clock;
  /** Samples per second (default 16000). */
  sampleRate?: number;
  /** "pcm" (default: stored as captured) or "adpcm" (IMA ADPCM, coded in JavaScript). */
  codec?: AudioCodecName;
  /** Milliseconds of sound per stored block (default 200; the block in flight is what a power cut can cost). */
  blockMs?: number;
  /** Where audio records go; switch later with route(). */
  sink: FrameSink;
  /** Blocks are pre-event (ring) blocks until route() says otherwise. */
  preEvent?: boolean;
  /** A block was lost (storage failed) or the microphone reported an error. */
  onError?: (error: BodycamError) => void;
}

export interface AudioCaptureStats {
  /** Blocks handed to the sink successfully. */
  stored: number;
  /** Samples in stored blocks. */
  samples: number;
  /** Samples lost in all (driver overruns + blocks not stored), including those not yet charged to a stored block. */
  dropped: number;
  /** Samples the driver lost (overruns found from the read times). */
  overrun: number;
  /** Blocks read that could not be stored. */
  lost: number;
}

export const AUDIO_SAMPLE_RATE = 16000;
export const AUDIO_BLOCK_MS = 200;

export class AudioCapture {
  readonly #mic: AudioIn;
  readonly #clock: Clock;
  readonly #encoder = new AudioHeaderEncoder();
  readonly #adpcm: ImaAdpcmEncoder | undefined;
  readonly #coded: Uint8Array | undefined;
  readonly #onError: ((error: BodycamError) => void) | undefined;
  readonly #header: AudioHeader;
  readonly #blockSamples: number;
  readonly #blockBytes: number;
  readonly #rate: number;
  readonly #toleranceMs: number;
  #sink: FrameSink;
  #preEvent: boolean;
  #running = false;
  #first = true;
  /** Monotonic ms of the run's anchor sample, and samples since it. */
  #anchor = -1;
  #since = 0;
  #pendingDrops = 0;
  #pendingFlags = 0;
  readonly #stats = { stored: 0, samples: 0, overrun: 0, lost: 0, dropped: 0 };
  #closed = false;

  constructor(options: AudioCaptureOptions) {
    const rate = options.sampleRate ?? AUDIO_SAMPLE_RATE;
    if (!Number.isInteger(rate) || rate < 8000 || rate > 48000) throw new BodycamError('E_AUDIO_RATE', `the sample rate must be a whole number from 8000 to 48000, got ${rate}`);
    const blockMs = options.blockMs ?? AUDIO_BLOCK_MS;
    if (!Number.isInteger(blockMs) || blockMs < 10 || blockMs > 2000 || (blockMs * rate) % 1000 !== 0) throw new BodycamError('E_AUDIO_BLOCK', `an audio block must be 10..2000 ms of whole samples, got ${blockMs} ms at ${rate} Hz`);
    const codecName = options.codec ?? 'pcm';
    if (codecName !== 'pcm' && codecName !== 'adpcm') throw new BodycamError('E_AUDIO_CODEC', `audio codec must be "pcm" or "adpcm", not ${String(codecName)}`);
    const codec: AudioCodecId = codecName === 'pcm' ? AudioCodec.PCM_S16LE : AudioCodec.IMA_ADPCM;
    this.#rate = rate;
    this.#blockSamples = (blockMs * rate) / 1000;
    this.#blockBytes = 2 * this.#blockSamples;
    if (codec === AudioCodec.IMA_ADPCM) {
      this.#adpcm = new ImaAdpcmEncoder();
      this.#coded = new Uint8Array(audioDataLength(codec, this.#blockSamples));
    }
    this.#clock = options.clock;
    this.#sink = options.sink;
    this.#preEvent = options.preEvent ?? false;
    this.#onError = options.onError;
    // With the driver's stamp the estimate is exact to a millisecond; without it, a callback
    // delivered late makes the estimate late, so only a lag of more than a block is a loss.
    this.#toleranceMs = blockMs;
    let mic: AudioIn;
    try {
      mic = new options.AudioIn({
        sampleRate: rate, bitsPerSample: 16, channels: 1, audioType: 'LPCM', format: 'buffer',
        onReadable: (bytes: number, _samples?: number, capturedMs?: number) => this.#drain(bytes, capturedMs),
        onError: (message: string) => this.#report(new BodycamError('E_AUDIO', message)),
      });
    } catch (e) {
      if (isBodycamError(e)) throw e;
      throw new BodycamError('E_AUDIO_INIT', `the microphone did not start (${e instanceof Error ? e.message : String(e)}); check the board's microphone pins`);
    }
    if (mic.sampleRate !== rate || mic.bitsPerSample !== 16 || mic.channels !== 1) {
      mic.close();
      throw new BodycamError('E_AUDIO_FORMAT', `asked the microphone for 16-bit mono at ${rate} Hz, it gives ${mic.bitsPerSample}-bit, ${mic.channels} channel(s) at ${mic.sampleRate} Hz`);
    }
    this.#mic = mic;
    this.#header = {
      flags: 0, codec, channels: 1, sampleRate: rate, clockSource: 'none', blockNumber: 0, monotonicMs: 0, utcMs: 0,
      droppedBefore: 0, sampleCount: this.#blockSamples, predictor: 0, stepIndex: 0, dataLength: audioDataLength(codec, this.#blockSamples),
    };
  }

  get running(): boolean {
    return this.#running;
  }
  get sampleRate(): number {
    return this.#rate;
  }

  /** Start the microphone. A new run starts: the next block is FIRST and anchors the clock (a pause is not a loss). */
  start(): void {
    if (this.#closed) throw new BodycamError('E_CAPTURE_CLOSED', 'the audio capture is closed');
    if (this.#running) return;
    this.#first = true;
    this.#anchor = -1;
    this.#since = 0;
    this.#running = true;
    this.#mic.start();
  }

  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#mic.stop();
  }

  /** Send the following blocks to `sink`, flagged pre-event or not. */
  route(sink: FrameSink, options: { preEvent?: boolean } = {}): void {
    this.#sink = sink;
    this.#preEvent = options.preEvent ?? false;
  }

  get stats(): AudioCaptureStats {
    return { stored: this.#stats.stored, samples: this.#stats.samples, dropped: this.#stats.dropped + this.#pendingDrops, overrun: this.#stats.overrun, lost: this.#stats.lost };
  }

  close(): void {
    if (this.#closed) return;
    this.stop();
    this.#closed = true;
    this.#mic.close();
  }

  #report(e: BodycamError): void {
    if (this.#onError) this.#onError(e);
  }

  /** onReadable: take every whole block that is ready. */
  #drain(ready: number, capturedMs: number | undefined): void {
    if (!this.#running) return;
    const read = this.#clock.monotonic();
    // When the newest ready sample was taken: the driver's stamp, else now.
    const newest = typeof capturedMs === 'number' && capturedMs >= 0 && capturedMs <= read ? capturedMs : Math.floor(read);
    const msPerByte = 500 / this.#rate;
    let before = ready;
    while (this.#running && before >= this.#blockBytes) {
      const buffer = this.#mic.read(this.#blockBytes);
      if (!buffer) break;
      this.#take(buffer, newest - before * msPerByte);
      before -= this.#blockBytes;
    }
  }

  #take(buffer: ArrayBuffer, estimate: number): void {
    const n = this.#blockSamples;
    if (this.#anchor < 0) {
      this.#anchor = estimate;
      this.#since = 0;
    } else {
      const expected = this.#anchor + (this.#since * 1000) / this.#rate;
      const lag = estimate - expected;
      if (lag > this.#toleranceMs) {
        const lostSamples = Math.round((lag * this.#rate) / 1000);
        this.#pendingDrops += lostSamples;
        this.#pendingFlags |= AudioFlags.DRIVER_DROP;
        this.#stats.overrun += lostSamples;
        this.#anchor = estimate;
        this.#since = 0;
      }
    }
    const at = this.#anchor + (this.#since * 1000) / this.#rate;
    this.#since += n;
    const h = this.#header;
    const mono = Math.floor(at);
    const dropped = this.#pendingDrops;
    h.flags = this.#pendingFlags | (this.#preEvent ? AudioFlags.PRE_EVENT : 0) | (this.#first ? AudioFlags.FIRST : 0) | (dropped > 0 ? AudioFlags.AFTER_GAP : 0);
    h.clockSource = this.#clock.source().source;
    h.monotonicMs = mono;
    h.utcMs = Math.max(0, Math.floor(this.#clock.utc() - (this.#clock.monotonic() - mono)));
    h.droppedBefore = dropped;
    let body: Uint8Array | ArrayBuffer = buffer;
    const adpcm = this.#adpcm;
    if (adpcm) {
      h.predictor = adpcm.predictor;
      h.stepIndex = adpcm.stepIndex;
      adpcm.encode(new Uint8Array(buffer), n, this.#coded!);
      body = this.#coded!;
    }
    try {
      this.#sink.append(this.#encoder.encode(h), body);
    } catch (e) {
      this.#stats.lost++;
      this.#pendingDrops += n;
      this.#pendingFlags |= AudioFlags.STORAGE_DROP;
      this.#report(isBodycamError(e) ? (e as BodycamError) : new BodycamError('E_CAPTURE_SINK', `storing an audio block failed: ${e instanceof Error ? e.message : String(e)}`));
      return;
    }
    this.#stats.dropped += dropped;
    this.#stats.stored++;
    this.#stats.samples += n;
    this.#pendingDrops = 0;
    this.#pendingFlags = 0;
    this.#first = false;
    h.blockNumber++;
  }
}
