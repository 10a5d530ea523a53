// Segment media encoding: the frame record (a 48-byte header + the sensor's JPEG, one store record
// per frame; frame-record.ts) and the playable export (RIFF AVI / MJPEG with idx1 and a timing
// sidecar; avi.ts). Byte layouts are in docs/FORMAT.md, "Frame records and the segment container".
// Pure ECMAScript, shared with the dock station; imports only firmware/platform and firmware/errors.

export {
  decodeFrameHeader, encodeFrameHeader, FrameHeaderEncoder, FrameFlags, parseMedia,
  FRAME_HEADER_LENGTH, FRAME_VERSION, MAX_JPEG_LENGTH, MEDIA_FORMAT,
  type FrameHeader, type FrameSink, type MediaFrame,
} from './frame-record.js';
export { aviSidecar, planAviExport, type AviExport, type AviExportOptions, type AviFrame, type AviGap, type AviPart } from './avi.js';
