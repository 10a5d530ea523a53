// Segment media encoding: the frame record (a 48-byte header + the sensor's JPEG, one store record
// per frame; frame-record.ts), the audio record (a 48-byte header + a block of samples;
// audio-record.ts; IMA ADPCM in ima-adpcm.ts) and the playable export (RIFF AVI / MJPEG with idx1 and a timing
// sidecar; avi.ts), and sealed records (sealed-record.ts: records encrypted at capture with STREAM
// under a per-segment content key wrapped with HPKE). Byte layouts are in docs/FORMAT.md, "Frame
// records and the segment container". Pure ECMAScript, shared with the dock station; imports
// firmware/platform and firmware/errors, and for sealing firmware/crypto and the evidence key-id
// rule of firmware/provision/evidence-keys.ts.

export {
  decodeFrameHeader, encodeFrameHeader, FrameHeaderEncoder, FrameFlags, parseMedia, parseSegmentMedia,
  FRAME_HEADER_LENGTH, FRAME_VERSION, MAX_JPEG_LENGTH, MEDIA_FORMAT, MEDIA_FORMAT_AV,
  type FrameHeader, type FrameSink, type MediaFrame, type SegmentMedia,
} from './frame-record.js';
export {
  AUDIO_HEADER_LENGTH, AUDIO_VERSION, AudioCodec, AudioFlags, AudioHeaderEncoder, audioDataLength, decodeAudioHeader, encodeAudioHeader, isAudioRecord,
  type AudioCodecId, type AudioHeader, type MediaAudio,
} from './audio-record.js';
export { ImaAdpcmEncoder, decodeImaAdpcm } from './ima-adpcm.js';
export { blockSamples, layOutSound, soundRate, type LaidOutSound, type SegmentSound, type SoundAnchor, type SoundSummary } from './sound-track.js';
export { aviSidecar, planAviExport, type AviAudio, type AviExport, type AviExportOptions, type AviFrame, type AviGap, type AviPart } from './avi.js';
export {
  RecordSealer, SealedMediaOpener, walkSealedMedia, wrapContentKey, unwrapContentKey, sealedValue, recipientsFrom,
  SEALED_SCHEME, SEALED_PREFIX, SEALED_OVERHEAD, END_RECORD_LENGTH,
  type SealedRecipient, type SealedRecordAt, type OpenedMedia,
} from './sealed-record.js';
