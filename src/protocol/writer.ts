// Writer over a buffer whose exact size was computed beforehand: generated
// encoders size a message first, allocate once, then write straight through.

import type { TaggedField } from "./reader.ts";

const utf8 = new TextEncoder();

export class EncodeError extends Error {
  override name = "EncodeError";
}

/** UTF-8 byte length without encoding; ASCII is the common case. */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 2;
        i++;
      } else n += 2;
    } else n += 2;
  }
  return n;
}

/** 0-15 for a hex digit (either case), -1 otherwise. */
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

export function uvarintSize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  return 5;
}
export function varintSize(v: number): number {
  return uvarintSize(v >= 0 ? v * 2 : -v * 2 - 1);
}
export function varlongSize(v: number): number {
  let u = v >= 0 ? v * 2 : -v * 2 - 1;
  let n = 1;
  while (u >= 128) {
    u = Math.floor(u / 128);
    n++;
  }
  return n;
}

export function compactStringSize(s: string | null): number {
  if (s === null) return 1;
  const n = utf8Length(s);
  return uvarintSize(n + 1) + n;
}
export function stringSize(s: string | null): number {
  return s === null ? 2 : 2 + utf8Length(s);
}
export function compactBytesSize(b: Uint8Array | null): number {
  return b === null ? 1 : uvarintSize(b.length + 1) + b.length;
}
export function bytesSize(b: Uint8Array | null): number {
  return b === null ? 4 : 4 + b.length;
}
export function taggedFieldsSize(unknown: TaggedField[] | undefined): number {
  let n = 0;
  if (unknown) for (const f of unknown) n += uvarintSize(f.tag) + uvarintSize(f.data.length) + f.data.length;
  return n;
}

const UNSAFE_ALLOC_MIN = 4096;
const ZERO_UUID_HEX = "00000000000000000000000000000000";

export class Writer {
  readonly buf: Uint8Array;
  pos: number;
  // Created on first use: most messages never write an int64 or float64.
  private dv: DataView | undefined;

  constructor(buf: Uint8Array, pos = 0) {
    this.buf = buf;
    this.pos = pos;
  }

  get view(): DataView {
    return (this.dv ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength));
  }

  /**
   * A writer over a fresh buffer of exactly `size` bytes. Large buffers skip
   * zero-filling (every byte is written: encoders size first, and `finish`
   * checks); small ones stay plain Uint8Arrays, which Bun allocates fastest.
   */
  static alloc(size: number): Writer {
    return new Writer(size >= UNSAFE_ALLOC_MIN ? Buffer.allocUnsafeSlow(size) : new Uint8Array(size));
  }

  /** The buffer, once every byte has been written. */
  finish(): Uint8Array {
    if (this.pos !== this.buf.length) throw new EncodeError(`wrote ${this.pos} of ${this.buf.length} bytes`);
    return this.buf;
  }

  bool(v: boolean): void {
    this.buf[this.pos++] = v ? 1 : 0;
  }
  int8(v: number): void {
    this.buf[this.pos++] = v;
  }
  int16(v: number): void {
    const b = this.buf;
    const p = this.pos;
    b[p] = v >> 8;
    b[p + 1] = v;
    this.pos = p + 2;
  }
  uint16(v: number): void {
    this.int16(v);
  }
  int32(v: number): void {
    const b = this.buf;
    const p = this.pos;
    b[p] = v >> 24;
    b[p + 1] = v >> 16;
    b[p + 2] = v >> 8;
    b[p + 3] = v;
    this.pos = p + 4;
  }
  uint32(v: number): void {
    this.int32(v);
  }
  int64(v: bigint): void {
    this.view.setBigInt64(this.pos, v);
    this.pos += 8;
  }
  /** int64 from a JS number (exact below 2^53). */
  int64n(v: number): void {
    const hi = Math.floor(v / 4294967296);
    this.int32(hi);
    this.int32(v - hi * 4294967296);
  }
  float64(v: number): void {
    this.view.setFloat64(this.pos, v);
    this.pos += 8;
  }
  uvarint(v: number): void {
    if (v < 0x80) {
      this.buf[this.pos++] = v;
      return;
    }
    while (v >= 0x80) {
      this.buf[this.pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.pos++] = v;
  }
  varint(v: number): void {
    this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }
  varlong(v: number): void {
    let u = v >= 0 ? v * 2 : -v * 2 - 1;
    while (u >= 128) {
      this.buf[this.pos++] = (u % 128) | 0x80;
      u = Math.floor(u / 128);
    }
    this.buf[this.pos++] = u;
  }
  uuid(v: string): void {
    if (v.length !== 32) throw new EncodeError(`bad uuid ${v}`);
    // The all-zero id (topic by name) is the common value in requests.
    if (v === ZERO_UUID_HEX) {
      this.buf.fill(0, this.pos, this.pos + 16);
      this.pos += 16;
      return;
    }
    for (let i = 0; i < 32; i += 2) {
      const hi = hexValue(v.charCodeAt(i));
      const lo = hexValue(v.charCodeAt(i + 1));
      if ((hi | lo) < 0) throw new EncodeError(`bad uuid ${v}`);
      this.buf[this.pos++] = (hi << 4) | lo;
    }
  }

  private utf8(s: string): void {
    // encodeInto writes directly into our buffer; size was computed up front.
    const { written } = utf8.encodeInto(s, this.buf.subarray(this.pos));
    this.pos += written;
  }
  private asciiOrUtf8(s: string, n: number): void {
    if (n === s.length && n < 64) {
      for (let i = 0; i < n; i++) this.buf[this.pos++] = s.charCodeAt(i);
    } else this.utf8(s);
  }

  string(s: string): void {
    const n = utf8Length(s);
    if (n > 0x7fff) throw new EncodeError("string too long");
    this.int16(n);
    this.asciiOrUtf8(s, n);
  }
  nullableString(s: string | null): void {
    if (s === null) this.int16(-1);
    else this.string(s);
  }
  compactString(s: string): void {
    const n = utf8Length(s);
    this.uvarint(n + 1);
    this.asciiOrUtf8(s, n);
  }
  compactNullableString(s: string | null): void {
    if (s === null) this.uvarint(0);
    else this.compactString(s);
  }
  rawBytes(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  bytes(b: Uint8Array): void {
    this.int32(b.length);
    this.rawBytes(b);
  }
  nullableBytes(b: Uint8Array | null): void {
    if (b === null) this.int32(-1);
    else this.bytes(b);
  }
  compactBytes(b: Uint8Array): void {
    this.uvarint(b.length + 1);
    this.rawBytes(b);
  }
  compactNullableBytes(b: Uint8Array | null): void {
    if (b === null) this.uvarint(0);
    else this.compactBytes(b);
  }
  /** Writes unknown (pass-through) tagged fields as they came, sorted by the caller. */
  taggedField(tag: number, data: Uint8Array): void {
    this.uvarint(tag);
    this.uvarint(data.length);
    this.rawBytes(data);
  }
}
