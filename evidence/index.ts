// evidence/: the library for a store of evidence — reading it safely (layout.ts), the trust it
// is checked against (trust.ts), verifying it whole (verify-store.ts, ledger-check.ts), the
// camera's signed clock statements (drift.ts), its completeness against the camera's ledger
// (completeness.ts) and the station's signed custody log (custody-log.ts, merkle.ts), and
// exporting from it (export.ts: AVI; mp4.ts, mp4-export.ts: the MP4, with C2PA content credentials
// from c2pa.ts and c2pa-certs.ts; mp4-verify.ts: verifying such a file alone).
//
// It is host code (Node.js): it may import firmware/ (the verifier, codecs, formats) and host/
// (the Node adapters of the ports); cli/, host-sim/ and dock-station/ import it. It never
// imports cli/, host-sim/ or dock-station/, and it never writes into a store it reads.

export * from './layout.js';
export * from './trust.js';
export * from './verify-store.js';
export * from './ledger-check.js';
export * from './drift.js';
export * from './export.js';
export * from './merkle.js';
export * from './custody-log.js';
export * from './completeness.js';
