// CBOR (RFC 8949) for every bodycam format: manifests, certificates, receipts, dock messages,
// the XS command bridge.
//
// Promises:
// - encode() is deterministic (RFC 8949 §4.2.1 "core deterministic encoding"): shortest
//   argument, definite lengths, map keys sorted by their encoded bytes, floats in the shortest
//   of half/single/double that keeps the value. The same value gives the same bytes on Node
//   and in XS, which is what lets a signature cover bytes rather than objects.
// - decode() accepts any well-formed CBOR (indefinite lengths included) and rejects the rest
//   with BodycamError E_CBOR_*, never a crash: input length, nesting depth and item counts are
//   bounded before anything is allocated. Byte strings decode to Uint8Array, maps to Map,
//   tags to Tag, simple values other than false/true/null/undefined to Simple. Nothing is
//   interpreted (no Date, no class revival), so untrusted input can't build objects.
//
// Why not cbor-x here: cbor-x encodes maps in insertion order and non-integers as float64
// (not deterministic), and its decoder revives tags through a module-wide extension table
// (Dates, Sets, "constructor name" objects from tag 27). A signed structure needs the former
// fixed and a dock facing untrusted cameras needs the latter off. cbor-x stays in the test
// suite as an independent reference decoder of what we encode.

import { BodycamError } from '../errors.js';
import { utf8Decode, utf8Encode } from './utf8.js';

export class Tag {
  constructor(readonly tag: number, readonly value: CborValue) {}
}

export class Simple {
  constructor(readonly value: number) {}
}

export type CborValue =
  | number
  | bigint
  | string
  | boolean
  | null
  | undefined
  | Uint8Array
  | Tag
  | Simple
  | CborValue[]
  | Map<CborValue, CborValue>
  | { readonly [key: string]: CborValue };

export interface DecodeLimits {
  /** Largest accepted input, bytes. */
  maxBytes?: number;
  /** Deepest nesting of arrays, maps and tags. */
  maxDepth?: number;
  /** Most items in one array or map. */
  maxItems?: number;
  /**
   * Byte strings as views into the input rather than copies (the dock station's chunks: no copy of
   * the media). Only for a caller that keeps the input unchanged for as long as it uses them.
   */
  shareBytes?: boolean;
}

// Nesting is bounded on both sides by MAX_DEPTH: each level is a recursive call, and the camera's
// XS stack is fixed by the board's creation (test/moddable.test.ts decodes and re-encodes the
// deepest value allowed inside it).
export const MAX_DEPTH = 32;

const DEFAULT_LIMITS: Required<DecodeLimits> = Object.freeze({ maxBytes: 64 * 1024 * 1024, maxDepth: MAX_DEPTH, maxItems: 65536, shareBytes: false });


// ---------------------------------------------------------------- encoding

class Writer {
  buf: Uint8Array;
  view: DataView;
  pos = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }
  reserve(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  byte(b: number): void {
    this.reserve(1);
    this.buf[this.pos++] = b;
  }
  head(major: number, n: number | bigint): void {
    const m = major << 5;
    if (typeof n === 'bigint') {
      if (n < 0x100000000n) return this.head(major, Number(n));
      this.reserve(9);
      this.buf[this.pos] = m | 27;
      this.view.setBigUint64(this.pos + 1, n);
      this.pos += 9;
      return;
    }
    this.reserve(9);
    if (n < 24) {
      this.buf[this.pos++] = m | n;
    } else if (n < 0x100) {
      this.buf[this.pos++] = m | 24;
      this.buf[this.pos++] = n;
    } else if (n < 0x10000) {
      this.buf[this.pos++] = m | 25;
      this.view.setUint16(this.pos, n);
      this.pos += 2;
    } else if (n < 0x100000000) {
      this.buf[this.pos++] = m | 26;
      this.view.setUint32(this.pos, n);
      this.pos += 4;
    } else {
      this.buf[this.pos++] = m | 27;
      this.view.setBigUint64(this.pos, BigInt(n));
      this.pos += 8;
    }
  }
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  /**
   * A text string. Written straight into the buffer while it is ASCII (map keys, message types,
   * ids and codes all are: no array or copy made for them); at the first other character it starts
   * again through utf8Encode.
   */
  text(s: string): void {
    const n = s.length;
    const start = this.pos;
    this.head(3, n);
    this.reserve(n);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) {
        this.pos = start;
        const b = utf8Encode(s);
        this.head(3, b.length);
        this.bytes(b);
        return;
      }
      buf[p++] = c;
    }
    this.pos = p;
  }
}

const MAX_U64 = 0xffffffffffffffffn;

function encodeFloat(w: Writer, v: number): void {
  // Shortest of half, single, double that represents v exactly (RFC 8949 §4.2.2).
  if (Number.isNaN(v)) {
    w.byte(0xf9);
    w.byte(0x7e);
    w.byte(0x00);
    return;
  }
  const half = toHalf(v);
  if (half !== undefined) {
    w.reserve(3);
    w.buf[w.pos++] = 0xf9;
    w.view.setUint16(w.pos, half);
    w.pos += 2;
    return;
  }
  if (Math.fround(v) === v) {
    w.reserve(5);
    w.buf[w.pos++] = 0xfa;
    w.view.setFloat32(w.pos, v);
    w.pos += 4;
    return;
  }
  w.reserve(9);
  w.buf[w.pos++] = 0xfb;
  w.view.setFloat64(w.pos, v);
  w.pos += 8;
}

/** The IEEE 754 half-precision bits of v if v is exactly representable, else undefined. */
function toHalf(v: number): number | undefined {
  if (v === 0) return Object.is(v, -0) ? 0x8000 : 0;
  if (!Number.isFinite(v)) return v > 0 ? 0x7c00 : 0xfc00;
  const sign = v < 0 ? 0x8000 : 0;
  const a = Math.abs(v);
  // Normal halves: 2^-14 <= a < 65520; subnormal: multiples of 2^-24 below 2^-14.
  if (a >= 65520) return undefined;
  if (a < 6.103515625e-5) {
    const m = a / 5.960464477539063e-8; // 2^-24
    return Number.isInteger(m) ? sign | m : undefined;
  }
  let e = Math.floor(Math.log2(a));
  // guard against log2 rounding at powers of two
  if (2 ** e > a) e -= 1;
  if (2 ** (e + 1) <= a) e += 1;
  const m = a / 2 ** e - 1; // in [0, 1)
  const frac = m * 1024;
  if (!Number.isInteger(frac)) return undefined;
  return sign | ((e + 15) << 10) | frac;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function encodeItem(w: Writer, v: CborValue, depth: number): void {
  if (depth > MAX_DEPTH) throw new BodycamError('E_CBOR_DEPTH', `value nested deeper than ${MAX_DEPTH} levels`);
  switch (typeof v) {
    case 'number':
      // JS numbers don't say "float": an integral value is encoded as an integer (so 1.0 and 1
      // encode alike, as in every JS CBOR codec); beyond the 64-bit range it stays a float.
      if (Number.isInteger(v) && !Object.is(v, -0) && v <= 18446744073709551615 && v >= -18446744073709551616) {
        if (v >= 0) w.head(0, Number.isSafeInteger(v) ? v : BigInt(v));
        else w.head(1, Number.isSafeInteger(v) ? -1 - v : -1n - BigInt(v));
      } else encodeFloat(w, v);
      return;
    case 'bigint':
      if (v >= 0n) {
        if (v > MAX_U64) throw new BodycamError('E_CBOR_RANGE', 'integer above 2^64-1 (bignums are not used)');
        w.head(0, v);
      } else {
        if (-1n - v > MAX_U64) throw new BodycamError('E_CBOR_RANGE', 'integer below -2^64');
        w.head(1, -1n - v);
      }
      return;
    case 'string':
      w.text(v);
      return;
    case 'boolean':
      w.byte(v ? 0xf5 : 0xf4);
      return;
    case 'undefined':
      w.byte(0xf7);
      return;
    case 'object':
      break;
    default:
      throw new BodycamError('E_CBOR_TYPE', `cannot encode a ${typeof v}`);
  }
  if (v === null) {
    w.byte(0xf6);
    return;
  }
  if (v instanceof Uint8Array) {
    w.head(2, v.length);
    w.bytes(v);
    return;
  }
  if (Array.isArray(v)) {
    w.head(4, v.length);
    for (const item of v) encodeItem(w, item, depth + 1);
    return;
  }
  if (v instanceof Tag) {
    w.head(6, v.tag);
    encodeItem(w, v.value, depth + 1);
    return;
  }
  if (v instanceof Simple) {
    if (v.value < 24) w.byte(0xe0 | v.value);
    else {
      w.byte(0xf8);
      w.byte(v.value);
    }
    return;
  }
  let entries: [CborValue, CborValue][];
  if (v instanceof Map) entries = [...v.entries()];
  else if (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null) entries = Object.entries(v);
  else throw new BodycamError('E_CBOR_TYPE', `cannot encode an object of class ${(v as object).constructor?.name ?? '?'}`);
  // Every key encoded into one writer (a map's keys are few and short), then viewed in place.
  const keys = new Writer(16 * entries.length);
  const ends = entries.map(([k]) => {
    encodeItem(keys, k, depth + 1);
    return keys.pos;
  });
  const encoded = entries.map(([, val], i) => [keys.buf.subarray(i ? ends[i - 1] : 0, ends[i]), val] as const);
  encoded.sort((a, b) => compareBytes(a[0], b[0]));
  for (let i = 1; i < encoded.length; i++) {
    if (compareBytes(encoded[i - 1][0], encoded[i][0]) === 0) throw new BodycamError('E_CBOR_DUPLICATE_KEY', 'map has a duplicate key');
  }
  w.head(5, encoded.length);
  for (const [k, val] of encoded) {
    w.bytes(k);
    encodeItem(w, val, depth + 1);
  }
}

/** Deterministic CBOR encoding of v. */
export function encode(v: CborValue): Uint8Array {
  const w = new Writer(256);
  encodeItem(w, v, 0);
  return w.buf.slice(0, w.pos);
}

/**
 * Encode into a buffer with `prefix` free bytes before the item and `suffix` after it, sized
 * from `sizeHint` (the expected encoded length), so a framer can add its header and checksum
 * in place: a large byte string is copied once, not once per layer.
 */
export function encodeWithRoom(v: CborValue, prefix: number, suffix: number, sizeHint = 256): { buffer: Uint8Array; length: number } {
  const w = new Writer(prefix + sizeHint + suffix);
  w.pos = prefix;
  encodeItem(w, v, 0);
  const length = w.pos - prefix;
  w.reserve(suffix);
  return { buffer: w.buf.length === w.pos + suffix ? w.buf : w.buf.subarray(0, w.pos + suffix), length };
}

// ---------------------------------------------------------------- decoding

const BREAK = Symbol('break');

class Reader {
  pos = 0;
  readonly view: DataView;
  constructor(readonly buf: Uint8Array, readonly limits: Required<DecodeLimits>) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  need(n: number): void {
    if (this.pos + n > this.buf.length) throw new BodycamError('E_CBOR_TRUNCATED', `input ends at byte ${this.buf.length}, item needs ${this.pos + n}`);
  }
  argument(info: number): number | bigint {
    if (info < 24) return info;
    switch (info) {
      case 24:
        this.need(1);
        return this.buf[this.pos++];
      case 25: {
        this.need(2);
        const v = this.view.getUint16(this.pos);
        this.pos += 2;
        return v;
      }
      case 26: {
        this.need(4);
        const v = this.view.getUint32(this.pos);
        this.pos += 4;
        return v;
      }
      case 27: {
        this.need(8);
        const v = this.view.getBigUint64(this.pos);
        this.pos += 8;
        return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
      }
      default:
        throw new BodycamError('E_CBOR_MALFORMED', `reserved additional information ${info} at byte ${this.pos - 1}`);
    }
  }
  length(info: number, what: string): number {
    const n = this.argument(info);
    if (typeof n === 'bigint') throw new BodycamError('E_CBOR_LIMIT', `${what} count ${n} too large`);
    return n;
  }
  item(depth: number): CborValue | typeof BREAK {
    if (depth > this.limits.maxDepth) throw new BodycamError('E_CBOR_DEPTH', `nesting deeper than ${this.limits.maxDepth}`);
    this.need(1);
    const ib = this.buf[this.pos++];
    const major = ib >> 5;
    const info = ib & 31;
    switch (major) {
      case 0:
        return this.argument(info);
      case 1: {
        const n = this.argument(info);
        return typeof n === 'bigint' ? -1n - n : n === Number.MAX_SAFE_INTEGER ? -1n - BigInt(n) : -1 - n;
      }
      case 2:
      case 3: {
        let bytes: Uint8Array;
        if (info === 31) {
          const chunks: Uint8Array[] = [];
          let total = 0;
          for (;;) {
            this.need(1);
            if (this.buf[this.pos] === 0xff) {
              this.pos++;
              break;
            }
            const cb = this.buf[this.pos++];
            if (cb >> 5 !== major || (cb & 31) === 31) throw new BodycamError('E_CBOR_MALFORMED', 'indefinite string chunk of the wrong type');
            const n = this.length(cb & 31, 'bytes');
            this.need(n);
            chunks.push(this.buf.subarray(this.pos, this.pos + n));
            this.pos += n;
            total += n;
          }
          bytes = new Uint8Array(total);
          let o = 0;
          for (const c of chunks) {
            bytes.set(c, o);
            o += c.length;
          }
        } else {
          const n = this.length(info, 'bytes');
          this.need(n);
          bytes = major === 2 && this.limits.shareBytes ? this.buf.subarray(this.pos, this.pos + n) : this.buf.slice(this.pos, this.pos + n);
          this.pos += n;
        }
        if (major === 2) return bytes;
        const text = utf8Decode(bytes);
        if (text === undefined) throw new BodycamError('E_CBOR_UTF8', 'text string is not valid UTF-8');
        return text;
      }
      case 4: {
        const out: CborValue[] = [];
        if (info === 31) {
          for (;;) {
            const v = this.item(depth + 1);
            if (v === BREAK) break;
            if (out.length >= this.limits.maxItems) throw new BodycamError('E_CBOR_LIMIT', `array longer than ${this.limits.maxItems}`);
            out.push(v);
          }
          return out;
        }
        const n = this.length(info, 'items');
        if (n > this.limits.maxItems) throw new BodycamError('E_CBOR_LIMIT', `array of ${n} items exceeds ${this.limits.maxItems}`);
        if (n > this.buf.length - this.pos) throw new BodycamError('E_CBOR_TRUNCATED', `array of ${n} items does not fit in the input`);
        for (let i = 0; i < n; i++) out.push(this.need1(depth));
        return out;
      }
      case 5: {
        const out = new Map<CborValue, CborValue>();
        const seen = new Set<string>();
        const put = (k: CborValue, v: CborValue) => {
          // Keys are duplicates when their encodings are equal (so a key of any type is checked),
          // and when the Map can't hold both (0 and -0.0 are one key to it): never one lost
          // silently. A text key or a safe integer is equal in encoding to none but itself, so
          // those are checked by the Map alone, with nothing encoded.
          let dup = out.has(k);
          if (!dup && typeof k !== 'string' && !(typeof k === 'number' && Number.isSafeInteger(k))) {
            const id = hex(encode(k));
            dup = seen.has(id);
            seen.add(id);
          }
          if (dup) throw new BodycamError('E_CBOR_DUPLICATE_KEY', 'map has a duplicate key');
          if (out.size >= this.limits.maxItems) throw new BodycamError('E_CBOR_LIMIT', `map larger than ${this.limits.maxItems}`);
          out.set(k, v);
        };
        if (info === 31) {
          for (;;) {
            const k = this.item(depth + 1);
            if (k === BREAK) break;
            put(k, this.need1(depth));
          }
          return out;
        }
        const n = this.length(info, 'items');
        if (n > this.limits.maxItems) throw new BodycamError('E_CBOR_LIMIT', `map of ${n} entries exceeds ${this.limits.maxItems}`);
        if (n * 2 > this.buf.length - this.pos) throw new BodycamError('E_CBOR_TRUNCATED', `map of ${n} entries does not fit in the input`);
        for (let i = 0; i < n; i++) {
          const k = this.need1(depth);
          put(k, this.need1(depth));
        }
        return out;
      }
      case 6: {
        const t = this.argument(info);
        if (typeof t === 'bigint') throw new BodycamError('E_CBOR_LIMIT', 'tag number above 2^53');
        return new Tag(t, this.need1(depth));
      }
      default: {
        if (info < 20) return new Simple(info);
        switch (info) {
          case 20:
            return false;
          case 21:
            return true;
          case 22:
            return null;
          case 23:
            return undefined;
          case 24: {
            this.need(1);
            const s = this.buf[this.pos++];
            if (s < 32) throw new BodycamError('E_CBOR_MALFORMED', `two-byte simple value ${s} below 32`);
            return new Simple(s);
          }
          case 25: {
            this.need(2);
            const v = fromHalf(this.view.getUint16(this.pos));
            this.pos += 2;
            return v;
          }
          case 26: {
            this.need(4);
            const v = this.view.getFloat32(this.pos);
            this.pos += 4;
            return v;
          }
          case 27: {
            this.need(8);
            const v = this.view.getFloat64(this.pos);
            this.pos += 8;
            return v;
          }
          case 31:
            return BREAK;
          default:
            throw new BodycamError('E_CBOR_MALFORMED', `reserved simple encoding ${info}`);
        }
      }
    }
  }
  /** An item that must not be a break. */
  need1(depth: number): CborValue {
    const v = this.item(depth + 1);
    if (v === BREAK) throw new BodycamError('E_CBOR_MALFORMED', `unexpected break at byte ${this.pos - 1}`);
    return v;
  }
}

function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return sign * f * 2 ** -24;
  if (e === 31) return f ? NaN : sign * Infinity;
  return sign * (1 + f / 1024) * 2 ** (e - 15);
}

function hex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += (b[i] < 16 ? '0' : '') + b[i].toString(16);
  return s;
}

/** Decode exactly one CBOR item that fills `bytes`. */
export function decode(bytes: Uint8Array, limits?: DecodeLimits): CborValue {
  const l = limits ? { ...DEFAULT_LIMITS, ...limits } : DEFAULT_LIMITS;
  if (!(bytes instanceof Uint8Array)) throw new BodycamError('E_CBOR_TYPE', 'decode needs a Uint8Array');
  if (bytes.length > l.maxBytes) throw new BodycamError('E_CBOR_LIMIT', `input of ${bytes.length} bytes exceeds ${l.maxBytes}`);
  if (bytes.length === 0) throw new BodycamError('E_CBOR_TRUNCATED', 'empty input');
  const r = new Reader(bytes, l);
  const v = r.item(0);
  if (v === BREAK) throw new BodycamError('E_CBOR_MALFORMED', 'input starts with a break');
  if (r.pos !== bytes.length) throw new BodycamError('E_CBOR_TRAILING', `${bytes.length - r.pos} bytes after the item`);
  return v;
}

// ---------------------------------------------------------------- typed access

/** Read a map field, with a clear error when it is missing or of the wrong type. */
export function field<T extends CborValue>(m: CborValue, key: string | number, check: (v: CborValue) => v is T, what: string, code = 'E_FORMAT'): T {
  if (!(m instanceof Map)) throw new BodycamError(code, `${what}: expected a map`);
  const v = m.get(key);
  if (!check(v)) throw new BodycamError(code, `${what}: field ${JSON.stringify(key)} missing or of the wrong type`);
  return v;
}

export const isUint = (v: CborValue): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
export const isInt = (v: CborValue): v is number => typeof v === 'number' && Number.isSafeInteger(v);
export const isText = (v: CborValue): v is string => typeof v === 'string';
export const isBytes = (v: CborValue): v is Uint8Array => v instanceof Uint8Array;
export const isBool = (v: CborValue): v is boolean => typeof v === 'boolean';
export const isArray = (v: CborValue): v is CborValue[] => Array.isArray(v);
export const isMap = (v: CborValue): v is Map<CborValue, CborValue> => v instanceof Map;

export { hex as toHex };

export function fromHex(s: string): Uint8Array {
  if (s.length % 2 !== 0 || /[^0-9a-fA-F]/.test(s)) throw new BodycamError('E_HEX', 'not an even-length hex string');
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.substr(i * 2, 2), 16);
  return out;
}
