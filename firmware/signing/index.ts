// firmware/signing: device identity, segment manifests (COSE_Sign1), the hash chain,
// checkpoints and receipts, and the evidence verifier the dock station imports.
//
// May import: firmware/codec, firmware/platform (ports and types; sha256Of), firmware/errors. Must not touch: flash, the camera, the dock link — the
// recorder and the dock code call in here with bytes and ports.
//
// Ed25519: the camera's is ed25519-noble.ts (@noble/curves' edwards25519, SHA-512 through the
// Digest port), made by firmware/main.ts and handed to everything it builds; tweetnacl.ts
// (TweetNaCl as an ES module) behind ed25519.ts (strict verification) is the reference, and the
// default of the signing APIs on hosts (defaultEd25519()). ed25519-noble.ts is not exported here:
// it imports @noble/curves, which is not preloaded, and this index is. X25519 (x25519.ts) runs on
// the same BigInt field arithmetic.

export type { Ed25519, Ed25519KeyPair } from './ed25519-interface.js';
export { TweetEd25519, tweetEd25519, defaultEd25519, strictPrecheck, isCanonicalScalar, isCanonicalPoint, hasSmallOrder } from './ed25519.js';
export { signSign1, decodeSign1, verifySign1, sigStructure, kidOf, EDDSA_PROTECTED, ALG_EDDSA, COSE_SIGN1_TAG, type Sign1 } from './cose.js';
export { KeyPairSigner, keyIdOf, sameBytes, KEY_ID_LENGTH, type Signer } from './signer.js';
export {
  issueCertificate, verifyCertificate, peekCertificate, issueRevocationList, verifyRevocationList, isRevoked, CERTIFICATE_TYPE, REVOCATIONS_TYPE,
  type Certificate, type CertificateKind, type VerifiedCertificate, type RevocationList, type Revocation,
} from './certificate.js';
export { DeviceIdentity, KEY_SEED, KEY_CERTIFICATE, KEY_ROOT, type DeviceIdentityOptions } from './identity.js';
export {
  ManifestBuilder, signManifest, verifyManifest, peekManifest, manifestDigest, MANIFEST_TYPE, FLAG_PRE_EVENT, FLAG_RECOVERED, FLAG_CLEAN_CLOSE,
  type Manifest, type SignedManifest, type FrameTimes, type MediaFormat, type ManifestBuilderOptions, type FinishOptions,
} from './manifest.js';
export {
  signCheckpoint, verifyCheckpoint, peekCheckpoint, signReceipt, verifyReceipt, peekReceipt, checkReceipt, CHECKPOINT_TYPE, RECEIPT_TYPE,
  type Checkpoint, type SignedCheckpoint, type Receipt, type ReceiptEntry, type CheckReceiptOptions,
} from './receipt.js';
export {
  verifyEvidence, REASONS, type ReasonCode, type Finding, type EvidenceInput, type DeviceInput, type SegmentInput, type EvidenceReport, type DeviceReport, type SegmentReport, type VerifyOptions,
} from './verifier.js';
