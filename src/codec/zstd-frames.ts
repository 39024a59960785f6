// A walk over zstd frame and block headers, without decoding any block. The
// zstd decoder of node:zlib in Bun returns whatever it decoded so far when the
// input stops mid-frame, so a truncated batch would pass as a shorter one; this
// walk proves the input holds whole frames first, and reads the content sizes
// the frames declare.

export class ZstdFrameError extends Error {
  override name = "ZstdFrameError";
}

const FRAME_MAGIC = 0xfd2fb528;
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const MAX_BLOCK = 128 * 1024;

const BLOCK_RLE = 1;
const BLOCK_RESERVED = 3;

function u32le(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

function readLE(b: Uint8Array, i: number, n: number): number {
  let v = 0;
  for (let k = n - 1; k >= 0; k--) v = v * 256 + b[i + k]!;
  return v;
}

/**
 * Checks that `src` is a sequence of whole zstd frames (and skippable frames).
 * Returns the total content size the frames declare, or null when any frame leaves it out.
 */
export function zstdDeclaredSize(src: Uint8Array): number | null {
  let pos = 0;
  let total: number | null = 0;
  let frames = 0;
  while (pos < src.length || frames === 0) {
    if (src.length - pos < 4) throw new ZstdFrameError("truncated zstd frame magic");
    const magic = u32le(src, pos);
    pos += 4;
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      if (src.length - pos < 4) throw new ZstdFrameError("truncated zstd skippable frame");
      const size = u32le(src, pos);
      if (size > src.length - pos - 4) throw new ZstdFrameError("zstd skippable frame runs past the input");
      pos += 4 + size;
      continue;
    }
    if (magic !== FRAME_MAGIC) throw new ZstdFrameError(`bad zstd frame magic 0x${magic.toString(16)}`);
    frames++;
    if (pos >= src.length) throw new ZstdFrameError("truncated zstd frame header");
    const desc = src[pos++]!;
    if (desc & 0x08) throw new ZstdFrameError("zstd frame header has its reserved bit set");
    const fcsFlag = desc >>> 6;
    const singleSegment = (desc & 0x20) !== 0;
    const checksum = (desc & 0x04) !== 0;
    const dictBytes = [0, 1, 2, 4][desc & 3]!;
    const fcsBytes = fcsFlag === 0 ? (singleSegment ? 1 : 0) : [0, 2, 4, 8][fcsFlag]!;
    const headerRest = (singleSegment ? 0 : 1) + dictBytes + fcsBytes;
    if (src.length - pos < headerRest) throw new ZstdFrameError("truncated zstd frame header");
    pos += (singleSegment ? 0 : 1) + dictBytes;
    if (fcsBytes === 0) {
      total = null;
    } else {
      const fcs = readLE(src, pos, fcsBytes) + (fcsBytes === 2 ? 256 : 0);
      if (total !== null) total += fcs;
    }
    pos += fcsBytes;
    for (;;) {
      if (src.length - pos < 3) throw new ZstdFrameError("truncated zstd block header");
      const header = src[pos]! | (src[pos + 1]! << 8) | (src[pos + 2]! << 16);
      pos += 3;
      const last = (header & 1) !== 0;
      const type = (header >>> 1) & 3;
      const size = header >>> 3;
      if (type === BLOCK_RESERVED) throw new ZstdFrameError("zstd block of the reserved type");
      if (size > MAX_BLOCK) throw new ZstdFrameError(`zstd block of ${size} bytes exceeds 128 KiB`);
      const stored = type === BLOCK_RLE ? 1 : size;
      if (stored > src.length - pos) throw new ZstdFrameError("zstd block runs past the input");
      pos += stored;
      if (last) break;
    }
    if (checksum) {
      if (src.length - pos < 4) throw new ZstdFrameError("truncated zstd content checksum");
      pos += 4;
    }
  }
  return total;
}
