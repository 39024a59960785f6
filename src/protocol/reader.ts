// Bounds-checked reader over a Kafka wire buffer. Every length read from the
// wire is checked against the bytes that remain before anything is allocated,
// so a hostile frame can never make us allocate more than the frame itself.

export class DecodeError extends Error {
  override name = "DecodeError";
}

const utf8 = new TextDecoder("utf-8", { fatal: false });

export interface TaggedField {
  tag: number;
  data: Uint8Array;
}

export class Reader {
  readonly buf: Uint8Array;
  pos: number;
  readonly end: number;
  // Created on first use: most messages never read an int64 or float64.
  private dv: DataView | undefined;

  constructor(buf: Uint8Array, pos = 0, end = buf.length) {
    // Socket data arrives as Buffer: one plain Uint8Array shape keeps every read site monomorphic.
    this.buf = buf.constructor === Uint8Array ? buf : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = pos;
    this.end = end;
  }

  get view(): DataView {
    return (this.dv ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength));
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  need(n: number): void {
    if (n < 0 || this.pos + n > this.end) {
      throw new DecodeError(`need ${n} bytes at ${this.pos}, have ${this.end - this.pos}`);
    }
  }

  bool(): boolean {
    this.need(1);
    return this.buf[this.pos++] !== 0;
  }
  int8(): number {
    this.need(1);
    return (this.buf[this.pos++]! << 24) >> 24;
  }
  int16(): number {
    this.need(2);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 2;
    return ((b[p]! << 24) | (b[p + 1]! << 16)) >> 16;
  }
  uint16(): number {
    this.need(2);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 2;
    return (b[p]! << 8) | b[p + 1]!;
  }
  int32(): number {
    this.need(4);
    const b = this.buf;
    const p = this.pos;
    this.pos = p + 4;
    return (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
  }
  uint32(): number {
    return this.int32() >>> 0;
  }
  int64(): bigint {
    this.need(8);
    const v = this.view.getBigInt64(this.pos);
    this.pos += 8;
    return v;
  }
  /** int64 as a JS number; exact below 2^53, which covers offsets and timestamps. */
  int64n(): number {
    const hi = this.int32();
    const lo = this.int32() >>> 0;
    return hi * 4294967296 + lo;
  }
  float64(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos);
    this.pos += 8;
    return v;
  }

  /**
   * Unsigned LEB128 varint, at most 5 bytes (32 bits). Integer arithmetic
   * only: one multi-byte length read through floating point (2 ** shift) made
   * JSC treat every later result, and `pos` with it, as a double, and every
   * flexible-version decode after that ran several times slower.
   */
  uvarint(): number {
    const b = this.buf;
    const end = this.end;
    let p = this.pos;
    // One-byte values (counts, lengths, empty tag sections) are nearly all of them.
    if (p < end) {
      const b0 = b[p]!;
      if (b0 < 0x80) {
        this.pos = p + 1;
        return b0;
      }
    }
    let result = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (p >= end) throw new DecodeError("truncated varint");
      const x = b[p++]!;
      result |= (x & 0x7f) << shift;
      if (x < 0x80) {
        this.pos = p;
        return result;
      }
    }
    if (p >= end) throw new DecodeError("truncated varint");
    const x = b[p++]!;
    if (x >= 0x80) throw new DecodeError("varint too long");
    if (x > 0x0f) throw new DecodeError("varint overflow");
    this.pos = p;
    // Only a value of 2^31 or more leaves the int32 range, and no length or count can be that large.
    return (result | (x << 28)) >>> 0;
  }
  /** Zigzag signed varint (32 bits). */
  varint(): number {
    if (this.pos < this.end) {
      const b0 = this.buf[this.pos]!;
      if (b0 < 0x80) {
        this.pos++;
        return (b0 >>> 1) ^ -(b0 & 1);
      }
    }
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }
  /** Zigzag signed varlong (64 bits), as a number: exact within ±2^53, which covers record fields. */
  varlong(): number {
    if (this.pos < this.end) {
      const b0 = this.buf[this.pos]!;
      if (b0 < 0x80) {
        this.pos++;
        return (b0 >>> 1) ^ -(b0 & 1);
      }
    }
    let u = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new DecodeError("truncated varlong");
      const b = this.buf[this.pos++]!;
      u += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
      scale *= 128;
    }
    throw new DecodeError("varlong too long");
  }

  /**
   * A uuid as 32 lowercase hex digits. Topic ids recur in every Metadata,
   * Fetch and Produce of a topic, and making the string is most of the cost of
   * a topic entry, so recent ones come from a small direct-mapped cache keyed
   * by the 16 bytes themselves (a hit compares all of them).
   */
  uuid(): string {
    this.need(16);
    const p = this.pos;
    this.pos = p + 16;
    return uuidAt(this.buf, p);
  }

  private utf8At(len: number): string {
    this.need(len);
    const start = this.pos;
    this.pos += len;
    // ASCII fast path: short topic names and ids dominate.
    if (len < 64) {
      let s = "";
      for (let i = start; i < start + len; i++) {
        const c = this.buf[i]!;
        if (c > 0x7f) return utf8.decode(this.buf.subarray(start, start + len));
        s += String.fromCharCode(c);
      }
      return s;
    }
    return utf8.decode(this.buf.subarray(start, start + len));
  }

  string(): string {
    const len = this.int16();
    if (len < 0) throw new DecodeError("null string where non-nullable");
    return this.utf8At(len);
  }
  nullableString(): string | null {
    const len = this.int16();
    if (len < 0) {
      if (len !== -1) throw new DecodeError(`bad string length ${len}`);
      return null;
    }
    return this.utf8At(len);
  }
  compactString(): string {
    const len = this.uvarint() - 1;
    if (len < 0) throw new DecodeError("null compact string where non-nullable");
    return this.utf8At(len);
  }
  compactNullableString(): string | null {
    const len = this.uvarint() - 1;
    if (len < 0) return null;
    return this.utf8At(len);
  }

  /** A view into the input: bytes are never copied. */
  rawBytes(len: number): Uint8Array {
    this.need(len);
    const v = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return v;
  }
  bytes(): Uint8Array {
    const len = this.int32();
    if (len < 0) throw new DecodeError("null bytes where non-nullable");
    return this.rawBytes(len);
  }
  nullableBytes(): Uint8Array | null {
    const len = this.int32();
    if (len < 0) {
      if (len !== -1) throw new DecodeError(`bad bytes length ${len}`);
      return null;
    }
    return this.rawBytes(len);
  }
  compactBytes(): Uint8Array {
    const len = this.uvarint() - 1;
    if (len < 0) throw new DecodeError("null compact bytes where non-nullable");
    return this.rawBytes(len);
  }
  compactNullableBytes(): Uint8Array | null {
    const len = this.uvarint() - 1;
    if (len < 0) return null;
    return this.rawBytes(len);
  }

  /**
   * Array length, checked against the bytes left: each element takes at least
   * one byte except in degenerate schemas, so a count beyond the remaining
   * bytes is malformed, and allocation stays bounded by the frame size.
   */
  arrayLength(): number {
    const n = this.int32();
    if (n < -1) throw new DecodeError(`bad array length ${n}`);
    if (n > this.end - this.pos) throw new DecodeError(`array length ${n} exceeds frame`);
    return n;
  }
  compactArrayLength(): number {
    const n = this.uvarint() - 1;
    if (n > this.end - this.pos) throw new DecodeError(`array length ${n} exceeds frame`);
    return n;
  }

  /** The entry count of a tagged-field section, checked against the bytes left. */
  taggedCount(): number {
    const count = this.uvarint();
    if (count > this.end - this.pos) throw new DecodeError("too many tagged fields");
    return count;
  }

  /** After a known tagged field: it must have used exactly its declared size. */
  taggedEnd(end: number, tag: number): void {
    if (this.pos !== end) throw new DecodeError(`tagged field ${tag} size mismatch`);
  }

  /** Reads a tagged-field section, handing known tags to `onTag` and keeping the rest. */
  taggedFields(onTag?: (tag: number, r: Reader, size: number) => boolean): TaggedField[] | undefined {
    // Nearly every section is empty: one byte, no loop.
    if (this.pos < this.end && this.buf[this.pos] === 0) {
      this.pos++;
      return undefined;
    }
    const count = this.uvarint();
    if (count > this.end - this.pos) throw new DecodeError("too many tagged fields");
    let unknown: TaggedField[] | undefined;
    let last = -1;
    for (let i = 0; i < count; i++) {
      const tag = this.uvarint();
      if (tag <= last) throw new DecodeError("tagged fields out of order");
      last = tag;
      const size = this.uvarint();
      this.need(size);
      const end = this.pos + size;
      if (onTag) {
        const start = this.pos;
        if (onTag(tag, this, size)) {
          if (this.pos !== end) throw new DecodeError(`tagged field ${tag} size mismatch`);
          continue;
        }
        this.pos = start;
      }
      (unknown ??= []).push({ tag, data: this.rawBytes(size) });
    }
    return unknown;
  }

  /** A sub-reader bounded to the next `len` bytes; advances past them. */
  sub(len: number): Reader {
    this.need(len);
    const r = new Reader(this.buf, this.pos, this.pos + len);
    this.pos += len;
    return r;
  }
}

const UUID_CACHE_BITS = 12;
const UUID_CACHE_SHIFT = 32 - UUID_CACHE_BITS;
const uuidKeys = new Int32Array(4 << UUID_CACHE_BITS);
const uuidStrings: (string | undefined)[] = new Array<string | undefined>(1 << UUID_CACHE_BITS).fill(undefined);
const hexSlice = Buffer.prototype.toString as (this: Uint8Array, encoding: "hex", start: number, end: number) => string;

/**
 * The uuid at b[p..p+16] as 32 lowercase hex digits. Topic ids recur in every
 * Metadata, Fetch and Produce of a topic, and making the string is most of the
 * cost of a topic entry, so recent ones come from a small direct-mapped cache
 * keyed by the 16 bytes themselves (a hit compares all of them).
 */
function uuidAt(b: Uint8Array, p: number): string {
  const w0 = (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
  const w1 = (b[p + 4]! << 24) | (b[p + 5]! << 16) | (b[p + 6]! << 8) | b[p + 7]!;
  const w2 = (b[p + 8]! << 24) | (b[p + 9]! << 16) | (b[p + 10]! << 8) | b[p + 11]!;
  const w3 = (b[p + 12]! << 24) | (b[p + 13]! << 16) | (b[p + 14]! << 8) | b[p + 15]!;
  const slot = Math.imul(w0 ^ Math.imul(w1, 0x85ebca6b) ^ Math.imul(w2, 0xc2b2ae35) ^ Math.imul(w3, 0x27d4eb2f), 0x9e3779b1) >>> UUID_CACHE_SHIFT;
  const k = slot * 4;
  const hit = uuidStrings[slot];
  if (hit !== undefined && uuidKeys[k] === w0 && uuidKeys[k + 1] === w1 && uuidKeys[k + 2] === w2 && uuidKeys[k + 3] === w3) return hit;
  // Bun's native hex slice: about 3x faster than 16 string concatenations.
  const s = hexSlice.call(b, "hex", p, p + 16);
  uuidKeys[k] = w0;
  uuidKeys[k + 1] = w1;
  uuidKeys[k + 2] = w2;
  uuidKeys[k + 3] = w3;
  uuidStrings[slot] = s;
  return s;
}
