// Snappy: the raw block format, and the xerial framing that Java clients wrap
// around it (librdkafka sends raw blocks; both arrive in Kafka batches).
//
// Decompression trusts nothing: the declared length is checked against the
// caller's cap before anything is allocated, and every literal and copy is
// checked against the input and the output written so far.

export class SnappyError extends Error {
  override name = "SnappyError";
  /** True when the input may be fine but its output would pass the caller's cap. */
  constructor(
    message: string,
    readonly tooLarge = false,
  ) {
    super(message);
  }
}

/** `82 'SNAPPY' 00`, then int32 version and int32 compatible version, big-endian. */
const XERIAL_MAGIC = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00];
const XERIAL_HEADER = 16;
/** Block size the xerial stream writer defaults to. */
const XERIAL_BLOCK = 32 * 1024;

export function isXerialFramed(buf: Uint8Array): boolean {
  if (buf.length < XERIAL_HEADER) return false;
  for (let i = 0; i < 8; i++) if (buf[i] !== XERIAL_MAGIC[i]) return false;
  return true;
}

/** The declared uncompressed length of a raw block and where its elements start. */
function readPreamble(src: Uint8Array, start: number, end: number): { length: number; pos: number } {
  let length = 0;
  let pos = start;
  for (let shift = 0; shift < 35; shift += 7) {
    if (pos >= end) throw new SnappyError("truncated snappy length preamble");
    const b = src[pos++]!;
    length += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) {
      if (length > 0xffffffff) throw new SnappyError("snappy length preamble overflows 32 bits");
      return { length, pos };
    }
  }
  throw new SnappyError("snappy length preamble too long");
}

/** Decodes the elements of one raw block in src[pos, end) into dst[outStart, outStart + length). */
function decodeElements(src: Uint8Array, pos: number, end: number, dst: Uint8Array, outStart: number, length: number): void {
  let op = outStart;
  const outEnd = outStart + length;
  while (pos < end) {
    const tag = src[pos++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let len = tag >>> 2;
      if (len >= 60) {
        const extra = len - 59; // 1..4 little-endian bytes hold len - 1
        if (end - pos < extra) throw new SnappyError("truncated snappy literal length");
        len = 0;
        for (let k = 0; k < extra; k++) len += src[pos + k]! * 2 ** (8 * k);
        pos += extra;
      }
      len += 1;
      if (len > end - pos) throw new SnappyError("snappy literal runs past the input");
      if (len > outEnd - op) throw new SnappyError("snappy literal runs past the declared length");
      if (len < 16) {
        for (let k = 0; k < len; k++) dst[op + k] = src[pos + k]!;
      } else {
        dst.set(src.subarray(pos, pos + len), op);
      }
      pos += len;
      op += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      if (pos >= end) throw new SnappyError("truncated snappy copy");
      len = 4 + ((tag >>> 2) & 7);
      offset = ((tag >>> 5) << 8) | src[pos++]!;
    } else if (kind === 2) {
      if (end - pos < 2) throw new SnappyError("truncated snappy copy");
      len = 1 + (tag >>> 2);
      offset = src[pos]! | (src[pos + 1]! << 8);
      pos += 2;
    } else {
      if (end - pos < 4) throw new SnappyError("truncated snappy copy");
      len = 1 + (tag >>> 2);
      offset = (src[pos]! | (src[pos + 1]! << 8) | (src[pos + 2]! << 16) | (src[pos + 3]! << 24)) >>> 0;
      pos += 4;
    }
    if (offset === 0 || offset > op - outStart) throw new SnappyError(`snappy copy offset ${offset} out of range`);
    if (len > outEnd - op) throw new SnappyError("snappy copy runs past the declared length");
    let from = op - offset;
    if (offset >= len) {
      if (len < 16) {
        for (let k = 0; k < len; k++) dst[op + k] = dst[from + k]!;
      } else {
        dst.copyWithin(op, from, from + len);
      }
      op += len;
    } else {
      // Overlapping copy repeats the last `offset` bytes: byte by byte is the definition.
      const stop = op + len;
      while (op < stop) dst[op++] = dst[from++]!;
    }
  }
  if (op !== outEnd) throw new SnappyError(`snappy block decoded to ${op - outStart} bytes, declared ${length}`);
}

/** Decompresses one raw snappy block. */
export function snappyDecompressRaw(src: Uint8Array, maxSize: number): Uint8Array {
  const { length, pos } = readPreamble(src, 0, src.length);
  if (length > maxSize) throw new SnappyError(`snappy block declares ${length} bytes, limit ${maxSize}`, true);
  // Every element takes at least 2 input bytes and yields at most 64 output bytes, so a
  // declared length beyond 32 times the input is a lie; refusing it keeps a 10-byte
  // input from costing 4 GiB even under a generous cap.
  if (length > (src.length - pos) * 32) throw new SnappyError(`snappy block of ${src.length} bytes cannot hold ${length}`);
  const out = new Uint8Array(length);
  decodeElements(src, pos, src.length, out, 0, length);
  return out;
}

function readInt32BE(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) | 0;
}

/** Decompresses an xerial-framed stream: header, then blocks each led by a big-endian int32 size. */
export function snappyDecompressXerial(src: Uint8Array, maxSize: number): Uint8Array {
  // First pass: block boundaries and declared sizes, so the output is allocated once and capped.
  const blocks: { start: number; end: number; elements: number; length: number }[] = [];
  let total = 0;
  let pos = XERIAL_HEADER;
  while (pos < src.length) {
    if (src.length - pos < 4) throw new SnappyError("truncated xerial block size");
    const size = readInt32BE(src, pos);
    pos += 4;
    if (size < 0 || size > src.length - pos) throw new SnappyError(`xerial block size ${size} out of range`);
    const end = pos + size;
    const { length, pos: elements } = readPreamble(src, pos, end);
    if (length > (end - elements) * 32) throw new SnappyError(`snappy block of ${size} bytes cannot hold ${length}`);
    total += length;
    if (total > maxSize) throw new SnappyError(`xerial stream exceeds ${maxSize} bytes`, true);
    blocks.push({ start: pos, end, elements, length });
    pos = end;
  }
  const out = new Uint8Array(total);
  let op = 0;
  for (const b of blocks) {
    decodeElements(src, b.elements, b.end, out, op, b.length);
    op += b.length;
  }
  return out;
}

/** Decompresses raw or xerial-framed snappy, whichever `src` is. Throws SnappyError on bad input. */
export function snappyDecompress(src: Uint8Array, maxSize: number): Uint8Array {
  return isXerialFramed(src) ? snappyDecompressXerial(src, maxSize) : snappyDecompressRaw(src, maxSize);
}

// ---- compression ----

/** Copies reach back at most this far; also the unit the input is cut into. */
const FRAGMENT = 65536;
const MAX_HASH_BITS = 14;
const MIN_HASH_BITS = 8;
const MIN_MATCH = 4;

function load32(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
}

function hash(v: number, shift: number): number {
  return Math.imul(v, 0x1e35a7bd) >>> shift;
}

// Shared across calls (compression is synchronous); small inputs clear only a
// small prefix of it, which matters for the many short batches Kafka sees.
const TABLE = new Int32Array(1 << MAX_HASH_BITS);

/** Worst case of raw snappy output for `n` input bytes. */
export function snappyMaxCompressedLength(n: number): number {
  return 32 + n + Math.floor(n / 6);
}

function writeLiteral(src: Uint8Array, from: number, to: number, dst: Uint8Array, op: number): number {
  const n = to - from - 1;
  if (n < 60) {
    dst[op++] = n << 2;
  } else if (n < 0x100) {
    dst[op++] = 60 << 2;
    dst[op++] = n;
  } else if (n < 0x10000) {
    dst[op++] = 61 << 2;
    dst[op++] = n & 0xff;
    dst[op++] = n >>> 8;
  } else if (n < 0x1000000) {
    dst[op++] = 62 << 2;
    dst[op++] = n & 0xff;
    dst[op++] = (n >>> 8) & 0xff;
    dst[op++] = n >>> 16;
  } else {
    dst[op++] = 63 << 2;
    dst[op++] = n & 0xff;
    dst[op++] = (n >>> 8) & 0xff;
    dst[op++] = (n >>> 16) & 0xff;
    dst[op++] = n >>> 24;
  }
  dst.set(src.subarray(from, to), op);
  return op + to - from;
}

function writeCopy(dst: Uint8Array, op: number, offset: number, len: number): number {
  // Long matches go out as 64-byte copies, keeping at least 4 for the last one.
  while (len >= 68) {
    dst[op++] = (63 << 2) | 2;
    dst[op++] = offset & 0xff;
    dst[op++] = offset >>> 8;
    len -= 64;
  }
  if (len > 64) {
    dst[op++] = (59 << 2) | 2;
    dst[op++] = offset & 0xff;
    dst[op++] = offset >>> 8;
    len -= 60;
  }
  if (len < 12 && offset < 2048) {
    dst[op++] = ((offset >>> 8) << 5) | ((len - 4) << 2) | 1;
    dst[op++] = offset & 0xff;
  } else {
    dst[op++] = ((len - 1) << 2) | 2;
    dst[op++] = offset & 0xff;
    dst[op++] = offset >>> 8;
  }
  return op;
}

/** Greedy single-probe hash matching over one fragment src[start, end). */
function compressFragment(src: Uint8Array, start: number, end: number, dst: Uint8Array, op: number): number {
  let bits = MIN_HASH_BITS;
  while (bits < MAX_HASH_BITS && 1 << bits < end - start) bits++;
  const shift = 32 - bits;
  const table = TABLE;
  table.fill(-1, 0, 1 << bits);
  let lit = start; // first byte not yet emitted
  let ip = start;
  const limit = end - MIN_MATCH;
  let skip = 32; // grows while nothing matches, so incompressible input is crossed quickly
  while (ip <= limit) {
    const v = load32(src, ip);
    const h = hash(v, shift);
    const cand = table[h]!;
    table[h] = ip;
    if (cand < 0 || load32(src, cand) !== v) {
      ip += skip++ >>> 5;
      continue;
    }
    skip = 32;
    if (ip > lit) op = writeLiteral(src, lit, ip, dst, op);
    let len = MIN_MATCH;
    while (ip + len < end && src[cand + len] === src[ip + len]) len++;
    op = writeCopy(dst, op, ip - cand, len);
    ip += len;
    lit = ip;
    // Seed the table inside the match's tail so the next match can chain on.
    if (ip - 1 <= limit) table[hash(load32(src, ip - 1), shift)] = ip - 1;
  }
  if (lit < end) op = writeLiteral(src, lit, end, dst, op);
  return op;
}

/** One raw snappy block of `src` written at dst[op]; returns the end position. */
function compressRawInto(src: Uint8Array, dst: Uint8Array, op: number): number {
  let n = src.length;
  while (n >= 0x80) {
    dst[op++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 128);
  }
  dst[op++] = n;
  for (let start = 0; start < src.length; start += FRAGMENT) {
    op = compressFragment(src, start, Math.min(start + FRAGMENT, src.length), dst, op);
  }
  return op;
}

/** Compresses to one raw snappy block (what librdkafka sends), or to xerial framing (what Java clients send). */
export function snappyCompress(src: Uint8Array, opts: { xerial?: boolean } = {}): Uint8Array {
  if (!opts.xerial) {
    const dst = new Uint8Array(snappyMaxCompressedLength(src.length));
    return dst.subarray(0, compressRawInto(src, dst, 0));
  }
  const blocks = Math.ceil(src.length / XERIAL_BLOCK);
  const dst = new Uint8Array(XERIAL_HEADER + blocks * (4 + snappyMaxCompressedLength(XERIAL_BLOCK)));
  dst.set(XERIAL_MAGIC, 0);
  const view = new DataView(dst.buffer);
  view.setInt32(8, 1); // version
  view.setInt32(12, 1); // minimum compatible version
  let op = XERIAL_HEADER;
  for (let start = 0; start < src.length; start += XERIAL_BLOCK) {
    const body = op + 4;
    const end = compressRawInto(src.subarray(start, Math.min(start + XERIAL_BLOCK, src.length)), dst, body);
    view.setInt32(op, end - body);
    op = end;
  }
  return dst.subarray(0, op);
}
