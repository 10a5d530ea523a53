// Camera and microphone capture: the record paths from the camera and the microphone to storage
// (audio-capture.ts: blocks of samples, stamped from the sample count). Owns the Moddable camera adapter
// (moddable-camera.ts, the Moddable class handed in), frame pacing and drop accounting
// (pacer.ts), the capture itself (capture.ts: camera callback → frame header → sink, disposable
// buffers always closed), and what sensors and frame sizes boards offer (sensors.ts).
// May import firmware/platform, firmware/encoder and firmware/errors; never a device module,
// host-sim/ or dock-station/. Never loops over a frame's bytes.

export { AUDIO_BLOCK_MS, AUDIO_SAMPLE_RATE, AudioCapture, type AudioCaptureOptions, type AudioCaptureStats, type AudioCodecName } from './audio-capture.js';
export { FrameCapture, type CaptureStats, type FrameCaptureOptions } from './capture.js';
export { FramePacer, type PaceDecision, type PacerOptions, type PacerStats } from './pacer.js';
export { moddableCameraPort, type ModdableCameraClass, type ModdableCameraInstance, type ModdableCameraPortOptions, type ModdableFrame } from './moddable-camera.js';
export { FRAME_SIZES, SENSORS, requireFrameSize, requireJpegSensor, type SensorInfo } from './sensors.js';
