// C2PA content credentials for the MP4 export (C2PA Technical Specification 2.x), written and
// read here: a manifest store (JUMBF, ISO/IEC 19566-5) in a top-level 'uuid' box right after
// ftyp, holding one manifest whose claim (c2pa.claim.v2) is signed as COSE_Sign1 (EdDSA) by an
// export-signer X.509 certificate issued from the agency root (evidence/c2pa-certs.ts).
//
// Assertions:
// - c2pa.actions.v2: c2pa.created, digital capture, by the camera; no re-encoding since;
// - c2pa.hash.bmff.v3: the hard binding: SHA-256 over every top-level box except ftyp, this
//   uuid box and mfra, each box preceded by its file offset (8 bytes, big-endian);
// - org.bodycam.evidence: the camera's certificate (signed by the agency root), the dock
//   certificates, the camera's checkpoints and the dock receipts, the custody-log checkpoint and
//   inclusion proofs, the revocation list, the clock (offset and the signed drift statement);
// - org.bodycam.segments: for every segment its camera-signed manifest (COSE_Sign1), the movie
//   fragments that carry its frames, and its 48-byte frame headers, so that the segment media
//   the camera signed (header + JPEG per frame) is rebuilt from the file and re-hashed.
//
// How close this is to §19 (Live Video) is in docs/FORMAT.md, "C2PA content credentials".

import { createHash, randomUUID } from 'node:crypto';
import { decode, encode, isArray, isBytes, isMap, isText, Tag, type CborValue } from '../firmware/codec/cbor.js';
import { BodycamError } from '../firmware/errors.js';
import { ALG_EDDSA, COSE_SIGN1_TAG, HEADER_ALG, sigStructure } from '../firmware/signing/cose.js';
import type { Ed25519 } from '../firmware/signing/ed25519.js';
import type { Signer } from '../firmware/signing/signer.js';
import { Box, listBoxes, type BoxAt } from './mp4.js';

/** The uuid of the C2PA box in ISO BMFF (§11.3.4). */
export const C2PA_BOX_UUID = Uint8Array.from([0xd8, 0xfe, 0xc3, 0xd6, 0x1b, 0x0e, 0x48, 0x3c, 0x92, 0x97, 0x58, 0x28, 0x87, 0x7e, 0xc4, 0x81]);
const JUMBF_SUFFIX = [0x00, 0x11, 0x00, 0x10, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];
const HEADER_X5CHAIN = 33;
export const LABEL_EVIDENCE = 'org.bodycam.evidence';
export const LABEL_SEGMENTS = 'org.bodycam.segments';
export const LABEL_BMFF = 'c2pa.hash.bmff.v3';
export const LABEL_ACTIONS = 'c2pa.actions.v2';

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });
const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());

/** A JUMBF type UUID: four ASCII letters and the ISO suffix. */
function jumbfType(fourcc: string): Uint8Array {
  return Uint8Array.from([...fourcc].map((c) => c.charCodeAt(0)).concat(JUMBF_SUFFIX));
}

function superbox(type: string, label: string, contents: Box[]): Box {
  // toggles 0x03: requestable, label present.
  const jumd = new Box('jumd', [jumbfType(type), Uint8Array.of(0x03), enc.encode(label), Uint8Array.of(0)]);
  return new Box('jumb', [jumd, ...contents]);
}

const cborBox = (bytes: Uint8Array) => new Box('cbor', [bytes]);

/** The hash a hashed URI holds: SHA-256 of a superbox's bytes after its own 8-byte header. */
function superboxHash(b: Box): Uint8Array {
  return sha256(b.bytes().subarray(8));
}

// --------------------------------------------------------------------------- content

export interface EvidenceCredentials {
  device: string;
  /** The camera's certificate (COSE, signed by the agency root). */
  certificate: Uint8Array;
  docks: Uint8Array[];
  checkpoints: Uint8Array[];
  receipts: Uint8Array[];
  revocations?: Uint8Array;
  /** The custody-log checkpoint the store was checked against, and inclusion proofs per segment. */
  custody?: { checkpoint: Uint8Array | null; proofs: { seq: number; index: number; size: number; leafHash: string; path: string[] }[] };
  clock: { offsetMs: number | null; driftStatement?: Uint8Array; source: string };
  /** Each segment: its manifest, its fragments, its frame headers, and the order of its records (0 a frame, 1 a run of other records, as in the records track). */
  segments: { seq: number; manifest: Uint8Array; fragments: number[]; frameHeaders: Uint8Array; order: Uint8Array; sealed?: { contentKey: Uint8Array; first: number; end: number | null } }[];
}

export interface ManifestOptions {
  signer: Signer;
  /** The signer's certificate chain, leaf first (DER); the root is left out (the validator holds it). */
  chain: Uint8Array[];
  title: string;
  generator: { name: string; version: string };
  evidence: EvidenceCredentials;
  /** Camera firmware, for the actions assertion. */
  captureAgent: string;
}

function evidenceCbor(e: EvidenceCredentials): { evidence: CborValue; segments: CborValue } {
  return {
    evidence: {
      format: 'bodycam-c2pa-evidence/1',
      device: e.device,
      certificate: e.certificate,
      docks: e.docks,
      checkpoints: e.checkpoints,
      receipts: e.receipts,
      ...(e.revocations ? { revocations: e.revocations } : {}),
      custody: e.custody ? { checkpoint: e.custody.checkpoint, proofs: e.custody.proofs.map((p) => ({ seq: p.seq, index: p.index, size: p.size, leafHash: p.leafHash, path: p.path })) } : null,
      clock: { offsetMs: e.clock.offsetMs, source: e.clock.source, ...(e.clock.driftStatement ? { driftStatement: e.clock.driftStatement } : {}) },
    },
    segments: { segments: e.segments.map((s) => ({ seq: s.seq, manifest: s.manifest, fragments: s.fragments, frameHeaders: s.frameHeaders, order: s.order, ...(s.sealed ? { sealed: { contentKey: s.sealed.contentKey, first: s.sealed.first, end: s.sealed.end } } : {}) })) },
  };
}

/**
 * A maker of the C2PA uuid box for writeMp4: its size is fixed before the media are hashed (the
 * hash and the signature are fixed-size), and it is signed once the BMFF hash is known.
 */
export function credentialsMaker(o: ManifestOptions): { size: number; make(bmffHash: Uint8Array): Uint8Array; manifestLabel: string } {
  const manifestLabel = `urn:c2pa:${randomUUID()}`;
  const instanceID = `xmp:iid:${randomUUID()}`;
  const { evidence, segments } = evidenceCbor(o.evidence);
  const actions = superbox('cbor', LABEL_ACTIONS, [
    cborBox(
      encode({
        actions: [
          {
            action: 'c2pa.created',
            digitalSourceType: 'http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture',
            softwareAgent: { name: o.captureAgent },
            description: 'captured by a body-worn camera, which signed every segment; put into this MP4 without re-encoding (the JPEG frames are the captured bytes)',
          },
        ],
      }),
    ),
  ]);
  const evidenceBox = superbox('cbor', LABEL_EVIDENCE, [cborBox(encode(evidence))]);
  const segmentsBox = superbox('cbor', LABEL_SEGMENTS, [cborBox(encode(segments))]);
  const fixed = [actions, evidenceBox, segmentsBox].map((b) => ({ box: b, hash: superboxHash(b) }));
  const build = (bmffHash: Uint8Array, signature: Uint8Array) => {
    const bmff = superbox('cbor', LABEL_BMFF, [
      cborBox(
        encode({
          exclusions: [{ xpath: '/uuid', data: [{ offset: 8, value: C2PA_BOX_UUID }] }, { xpath: '/ftyp' }, { xpath: '/mfra' }],
          alg: 'sha256',
          hash: bmffHash,
          name: 'jumbf manifest',
        }),
      ),
    ]);
    const labels = [LABEL_ACTIONS, LABEL_EVIDENCE, LABEL_SEGMENTS];
    const claim = encode({
      instanceID,
      claim_generator_info: { name: o.generator.name, version: o.generator.version },
      signature: `self#jumbf=/c2pa/${manifestLabel}/c2pa.signature`,
      created_assertions: [
        { url: `self#jumbf=c2pa.assertions/${LABEL_BMFF}`, hash: superboxHash(bmff) },
        ...fixed.map((x, i) => ({ url: `self#jumbf=c2pa.assertions/${labels[i]}`, hash: x.hash })),
      ],
      'dc:title': o.title,
      alg: 'sha256',
    });
    const protectedBytes = encode(new Map<CborValue, CborValue>([[HEADER_ALG, ALG_EDDSA], [HEADER_X5CHAIN, o.chain.length === 1 ? o.chain[0] : o.chain]]));
    const sig = signature.length ? signature : o.signer.sign(sigStructure(protectedBytes, claim));
    const cose = encode(new Tag(COSE_SIGN1_TAG, [protectedBytes, new Map(), null, sig]));
    const manifest = superbox('c2ma', manifestLabel, [superbox('c2as', 'c2pa.assertions', [bmff, ...fixed.map((x) => x.box)]), superbox('c2cl', 'c2pa.claim.v2', [cborBox(claim)]), superbox('c2cs', 'c2pa.signature', [cborBox(cose)])]);
    const store = superbox('c2pa', 'c2pa', [manifest]);
    return new Box('uuid', [C2PA_BOX_UUID, Uint8Array.of(0, 0, 0, 0), enc.encode('manifest\0'), new Uint8Array(8), ...store.parts]).bytes();
  };
  const size = build(new Uint8Array(32), new Uint8Array(64)).length;
  return { size, manifestLabel, make: (bmffHash) => build(bmffHash, new Uint8Array(0)) };
}

// ------------------------------------------------------------------------------ read

interface Jumbf {
  type: string;
  label: string;
  /** The superbox's bytes after its 8-byte header (what a hashed URI hashes). */
  body: Uint8Array;
  children: Jumbf[];
  /** Content boxes (type → payload). */
  content: { type: string; payload: Uint8Array }[];
}

function readSuperbox(bytes: Uint8Array, b: BoxAt): Jumbf {
  if (b.type !== 'jumb') throw new BodycamError('E_C2PA_FORMAT', `a ${b.type} box where a JUMBF superbox belongs`);
  const inner = listBoxes(bytes, b.payload, b.start + b.size);
  const d = inner[0];
  if (!d || d.type !== 'jumd' || d.size < 8 + 17) throw new BodycamError('E_C2PA_FORMAT', 'a JUMBF superbox without its description box');
  const type = String.fromCharCode(...bytes.subarray(d.payload, d.payload + 4));
  const toggles = bytes[d.payload + 16];
  let label = '';
  if (toggles & 0x02) {
    const end = bytes.indexOf(0, d.payload + 17);
    if (end < 0 || end >= d.start + d.size) throw new BodycamError('E_C2PA_FORMAT', 'a JUMBF label without its terminator');
    label = dec.decode(bytes.subarray(d.payload + 17, end));
  }
  const node: Jumbf = { type, label, body: bytes.subarray(b.payload, b.start + b.size), children: [], content: [] };
  for (const c of inner.slice(1)) {
    if (c.type === 'jumb') node.children.push(readSuperbox(bytes, c));
    else node.content.push({ type: c.type, payload: bytes.subarray(c.payload, c.start + c.size) });
  }
  return node;
}

export interface ReadCredentials {
  box: BoxAt;
  manifestLabel: string;
  claim: Map<CborValue, CborValue>;
  claimBytes: Uint8Array;
  cose: Uint8Array;
  assertions: Map<string, { body: Uint8Array; cbor: Uint8Array }>;
}

/** Find and parse the C2PA manifest store of an MP4 (its active manifest: the last one). */
export function readCredentials(bytes: Uint8Array, top = listBoxes(bytes)): ReadCredentials | undefined {
  const box = top.find((b) => b.type === 'uuid' && b.size >= 8 + 16 && bytes.subarray(b.payload, b.payload + 16).every((x, i) => x === C2PA_BOX_UUID[i]));
  if (!box) return undefined;
  let o = box.payload + 16 + 4;
  const nul = bytes.indexOf(0, o);
  if (nul < 0 || dec.decode(bytes.subarray(o, nul)) !== 'manifest') throw new BodycamError('E_C2PA_FORMAT', 'the C2PA box is not a manifest box');
  o = nul + 1 + 8;
  const storeBoxes = listBoxes(bytes, o, box.start + box.size);
  if (storeBoxes.length !== 1) throw new BodycamError('E_C2PA_FORMAT', 'the C2PA box holds more than a manifest store');
  const store = readSuperbox(bytes, storeBoxes[0]);
  if (store.type !== 'c2pa') throw new BodycamError('E_C2PA_FORMAT', 'the C2PA box holds no manifest store');
  const manifest = store.children[store.children.length - 1];
  if (!manifest || manifest.type !== 'c2ma') throw new BodycamError('E_C2PA_FORMAT', 'the manifest store holds no manifest');
  const part = (t: string) => manifest.children.find((c) => c.type === t);
  const claimBox = part('c2cl');
  const sigBox = part('c2cs');
  const asBox = part('c2as');
  const cbor = (j: Jumbf | undefined, what: string) => {
    const c = j?.content.find((x) => x.type === 'cbor');
    if (!c) throw new BodycamError('E_C2PA_FORMAT', `the manifest has no ${what}`);
    return c.payload;
  };
  const claimBytes = cbor(claimBox, 'claim');
  const claim = decode(claimBytes);
  if (!isMap(claim)) throw new BodycamError('E_C2PA_FORMAT', 'the claim is not a CBOR map');
  const assertions = new Map<string, { body: Uint8Array; cbor: Uint8Array }>();
  for (const a of asBox?.children ?? []) {
    const c = a.content.find((x) => x.type === 'cbor');
    if (c) assertions.set(a.label, { body: a.body, cbor: c.payload });
  }
  return { box, manifestLabel: manifest.label, claim, claimBytes, cose: cbor(sigBox, 'signature'), assertions };
}

export interface CheckedCredentials {
  manifestLabel: string;
  /** The signer's certificate chain from the COSE header (DER, leaf first). */
  chain: Uint8Array[];
  title: string | null;
  generator: string;
  /** Problems with the C2PA layer itself: signature, assertion hashes, the BMFF hash. */
  problems: { code: string; message: string }[];
  evidence: Map<CborValue, CborValue> | undefined;
  segments: Map<CborValue, CborValue> | undefined;
}

/**
 * Check the C2PA layer of an MP4: the claim's signature with the certificate's key (which the
 * caller checks against the pinned root), every assertion's hash, and the BMFF hash of the file.
 */
export function checkCredentials(bytes: Uint8Array, signerKey: (chain: Uint8Array[]) => Uint8Array, ed25519: Ed25519): CheckedCredentials {
  const top = listBoxes(bytes);
  const c = readCredentials(bytes, top);
  if (!c) throw new BodycamError('E_C2PA_MISSING', 'the file carries no C2PA manifest store');
  const problems: { code: string; message: string }[] = [];
  const m = decodeDetachedSign1(c.cose);
  if (m.protectedHeader.get(HEADER_ALG) !== ALG_EDDSA) problems.push({ code: 'c2pa-algorithm', message: `the claim signature's algorithm is ${String(m.protectedHeader.get(HEADER_ALG))}, not EdDSA` });
  const x5 = m.protectedHeader.get(HEADER_X5CHAIN) ?? m.unprotectedHeader.get(HEADER_X5CHAIN);
  const chain = isBytes(x5 ?? null) ? [x5 as Uint8Array] : isArray(x5 ?? null) ? (x5 as CborValue[]).filter(isBytes) : [];
  if (chain.length === 0) throw new BodycamError('E_C2PA_FORMAT', 'the claim signature carries no x5chain');
  const key = signerKey(chain);
  if (!ed25519.verify(sigStructure(m.protectedBytes, c.claimBytes), m.signature, key)) problems.push({ code: 'c2pa-signature', message: 'the claim signature does not verify with the signer certificate\'s key' });
  const created = c.claim.get('created_assertions');
  for (const ref of isArray(created ?? null) ? (created as CborValue[]) : []) {
    if (!isMap(ref)) continue;
    const url = ref.get('url');
    const hash = ref.get('hash');
    const label = isText(url ?? null) ? (url as string).replace(/^self#jumbf=(\/c2pa\/[^/]+\/)?c2pa\.assertions\//, '') : '';
    const a = c.assertions.get(label);
    if (!a) problems.push({ code: 'c2pa-assertion-missing', message: `the claim names assertion ${String(url)}, which the manifest does not hold` });
    else if (!isBytes(hash ?? null) || !sha256(a.body).every((x, i) => x === (hash as Uint8Array)[i])) problems.push({ code: 'c2pa-assertion-hash', message: `assertion ${label} does not match its hash in the claim` });
  }
  const bmff = c.assertions.get(LABEL_BMFF);
  if (!bmff) problems.push({ code: 'c2pa-binding-missing', message: `no ${LABEL_BMFF} assertion binds the manifest to the file` });
  else {
    const b = decode(bmff.cbor);
    const want = isMap(b) ? b.get('hash') : undefined;
    const got = bmffV3Hash(bytes, top, c.box);
    if (!isBytes(want ?? null) || !got.every((x, i) => x === (want as Uint8Array)[i])) problems.push({ code: 'c2pa-binding-mismatch', message: 'the file does not match the BMFF hash its manifest signs: bytes were changed after it was signed' });
  }
  const asMap = (label: string) => {
    const a = c.assertions.get(label);
    if (!a) return undefined;
    const v = decode(a.cbor);
    return isMap(v) ? v : undefined;
  };
  const title = c.claim.get('dc:title');
  const gen = c.claim.get('claim_generator_info');
  return {
    manifestLabel: c.manifestLabel,
    chain,
    title: isText(title ?? null) ? (title as string) : null,
    generator: isMap(gen ?? null) ? `${String((gen as Map<CborValue, CborValue>).get('name'))} ${String((gen as Map<CborValue, CborValue>).get('version'))}` : 'unknown',
    problems,
    evidence: asMap(LABEL_EVIDENCE),
    segments: asMap(LABEL_SEGMENTS),
  };
}

/** A C2PA claim signature: a tagged COSE_Sign1 whose payload (the claim) is detached (nil). */
function decodeDetachedSign1(bytes: Uint8Array): { protectedBytes: Uint8Array; protectedHeader: Map<CborValue, CborValue>; unprotectedHeader: Map<CborValue, CborValue>; signature: Uint8Array } {
  const v = decode(bytes, { maxBytes: 1024 * 1024 });
  const a = v instanceof Tag && v.tag === COSE_SIGN1_TAG ? v.value : v;
  if (!isArray(a) || a.length !== 4 || !isBytes(a[0]) || !isMap(a[1]) || a[2] !== null || !isBytes(a[3])) throw new BodycamError('E_C2PA_FORMAT', 'the claim signature is not a COSE_Sign1 with a detached payload');
  const p = a[0].length ? decode(a[0]) : new Map<CborValue, CborValue>();
  if (!isMap(p)) throw new BodycamError('E_C2PA_FORMAT', 'the claim signature\'s protected header is not a map');
  return { protectedBytes: a[0], protectedHeader: p, unprotectedHeader: a[1], signature: a[3] };
}

/** c2pa.hash.bmff.v3 with the exclusions this module writes (/ftyp, the C2PA /uuid, /mfra). */
export function bmffV3Hash(bytes: Uint8Array, top: BoxAt[], c2pa: BoxAt): Uint8Array {
  const h = createHash('sha256');
  const off = Buffer.alloc(8);
  for (const b of top) {
    if (b.type === 'ftyp' || b.type === 'mfra' || b.start === c2pa.start) continue;
    off.writeBigUInt64BE(BigInt(b.start));
    h.update(off);
    h.update(bytes.subarray(b.start, b.start + b.size));
  }
  return new Uint8Array(h.digest());
}

