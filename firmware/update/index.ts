// firmware/update: signed firmware images (MCUboot's layout), verified on the camera before
// anything becomes bootable, with anti-rollback and a board check.
//
// May import: firmware/codec, firmware/platform (ports, soft-digest's sha256Of), firmware/signing
// (Ed25519, sameBytes — never another Ed25519), firmware/errors. Must not touch: the evidence
// store's flash, the camera, the dock link — the dock session (or a serial loader) hands chunks
// to an UpdateSession and reports its result codes.
//
// image.ts     the image format: parse, build (armoury), KEYHASH
// trust.ts     firmware keys and the security counter in the KeyStore
// target.ts    UpdateTarget, shaped on Moddable's `embedded:update`
// session.ts   UpdateSession: begin / write / finish, stable result codes
// moddable-update.ts  the target on a camera

export {
  IMAGE_MAGIC, IMAGE_HEADER_SIZE, TLV_INFO_MAGIC, TLV_PROT_INFO_MAGIC, TLV, MAX_TRAILER, ED25519_SPKI_PREFIX,
  parseHeader, parseTlvs, tlvOffset, parseVersion, versionText, autoSecurityCounter, firmwareKeyHash, firmwareKeyId, FIRMWARE_KEY_ID_LENGTH, buildImage,
  type ImageHeader, type ImageTlvs, type ImageVersion, type BuildImageOptions,
} from './image.js';
export { KeyStoreTrust, MemoryTrust, provisionFirmwareKeys, KEY_FIRMWARE_KEYS, KEY_SECURITY_COUNTER, MAX_FIRMWARE_KEYS, type FirmwareTrust } from './trust.js';
export { discardTarget, type UpdateTarget, type UpdateTargetOpener, type UpdateTargetOptions } from './target.js';
export { UpdateSession, feedImage, verifyImage, UPDATE_CODES, type VerifyImageOptions, type UpdateCode, type UpdateResult, type ImageInfo, type UpdateSessionOptions } from './session.js';
export { ModdableUpdateTarget, type ModdableUpdateModule, type ModdableFlashModule, type ModdableUpdateOptions } from './moddable-update.js';
