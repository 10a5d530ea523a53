// firmware/recorder: the camera as a whole. The state machine (recorder.ts) that wires capture,
// storage, signing and the dock session together; the button gestures (gestures.ts); what the
// LED and haptic motor say (indicators.ts); the evidence bookkeeping around the store — segment
// meta, chain head, manifests for recovered segments, the upload source (evidence.ts); the
// signed, hash-chained audit ledger (ledger.ts) and its verifier (ledger-verify.ts, which the
// dock station and `bodycam verify` import); the recorder's configuration (config.ts).
//
// May import every firmware area (it is the one that wires them). Must not touch host-sim/,
// dock-station/, Node or DOM APIs; reaches hardware only through the Platform's ports.

export { Recorder, KEY_BOOT_COUNT, KEY_POWER, KEY_RECORDING, KEY_NEXT_RECORDING, DRIFT_TYPE, type RecorderOptions, type RecorderStatus } from './recorder.js';
export { LED_COLOURS, HAPTIC, type RecorderState } from './indicators.js';
export { ButtonGestures, type ButtonGesturesOptions } from './gestures.js';
export { AuditLedger, LEDGER_TYPE, LEDGER_EVENTS, KEY_LEDGER_HEAD, ledgerKey, type LedgerEvent, type AuditLedgerOptions } from './ledger.js';
export { verifyLedger, openLedgerEntry, type LedgerEntry, type LedgerFinding, type LedgerReport, type VerifyLedgerOptions } from './ledger-verify.js';
export { EvidenceKeeper, encodeMeta, decodeMeta, KEY_CHAIN_HEAD, recoveredKey, type SegmentMeta, type ChainHead, type RecoveredSegment } from './evidence.js';
export { DEFAULT_RECORDER_CONFIG, recorderConfig, fromSignedConfig, heldConfig, type RecorderConfig } from './config.js';
