// firmware/storage: the power-safe, log-structured segment store on a raw flash partition (or a
// preallocated file on an SD card) and the pre-event ring. It owns every byte of its partition:
// the two metadata slots (meta-log.ts), the record framing (record.ts), the segment table and
// allocator (state.ts) and the store itself (segment-store.ts). The payload of a record is
// opaque here: the capture area supplies frame headers and JPEG bodies, the signing area the
// trailer (the signed manifest) and the verified dock receipts.
//
// May import: firmware/errors.ts, firmware/codec/, firmware/platform/ (the Flash, Checksum and
// Clock ports). Must not touch: any other area, host-sim/, dock-station/, Node or DOM APIs.
// No JavaScript loop runs over frame bytes: checksums go through the Checksum port, copies are
// ArrayBuffer copies. The on-flash format is docs/FORMAT.md, "Segment store (on flash)".

export { SegmentStore, SegmentWriter, PreEventRing, MAX_META, MAX_TRAILER, MAX_RECEIPT } from './segment-store.js';
export type { SegmentInfo, SegmentStateName, SegmentStoreOptions, FormatOptions, StoreUsage, StoredRecord } from './segment-store.js';
export type { Geometry } from './state.js';
