// Recovery scan of one segment: walk its batches from the start, check each
// header and CRC-32C, index the good ones, and cut the file at the first batch
// that is torn or corrupt (everything after it is unreachable anyway: batches
// are only found by walking from a known one).

import {
  ATTRIBUTES,
  HEADER_SIZE,
  batchBaseOffset,
  batchCrc,
  batchLastOffsetDelta,
  batchMaxTimestamp,
  batchSize,
  headerProblem,
  viewOf,
} from "./batch-header.ts";
import type { DataFile } from "./data-file.ts";
import { MAX_RELATIVE, type Segment } from "./segment.ts";

export interface ScanOutcome {
  /** Offset after the last good batch (the segment's base when it has none). */
  nextOffset: number;
  /** Bytes cut from the end of the file. */
  truncatedBytes: number;
  /** Why the scan stopped early, null when the whole file was good. */
  problem: string | null;
}

/** What offsets a segment may hold beyond "increasing". */
export interface ScanRules {
  /**
   * Batches follow each other without gaps from the segment's base. True of
   * the active segment (compaction, the only source of gaps, never touches
   * it); it catches a corrupt baseOffset, which the CRC does not cover.
   */
  contiguous: boolean;
  /** Batches end before this offset (the next segment's base). */
  limitOffset: number;
  /**
   * The recovery point: batches wholly below it were fsynced before the crash,
   * so their headers are walked (to rebuild the index) without reading and
   * checking their records. Default 0: check everything.
   */
  trustedBelow?: number;
}

const CHUNK = 1 << 20;
const LARGE_BATCH = 64 << 10;

export function scanSegment(
  segment: Segment,
  file: DataFile,
  fileSize: number,
  crc32c: (b: Uint8Array) => number,
  intervalBytes: number,
  rules: ScanRules,
): ScanOutcome {
  let buf: Uint8Array = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(fileSize, HEADER_SIZE)));
  let view = viewOf(buf);
  let bufStart = 0;
  let bufLen = 0;
  // Makes file bytes [pos, pos+n) available in buf; n never exceeds what the file holds.
  // `exact`: read only those bytes (a header walked below the recovery point), not a whole chunk.
  const ensure = (pos: number, n: number, exact = false): number => {
    if (pos >= bufStart && pos + n <= bufStart + bufLen) return pos - bufStart;
    if (n > buf.length) {
      buf = Buffer.allocUnsafe(n);
      view = viewOf(buf);
    }
    bufStart = pos;
    bufLen = file.read(buf, pos, Math.min(exact ? n : buf.length, fileSize - pos));
    return bufLen >= n ? 0 : -1;
  };

  let pos = 0;
  let lastSize = LARGE_BATCH;
  let next = segment.baseOffset;
  const trusted = rules.trustedBelow ?? 0;
  let problem: string | null = null;
  while (pos < fileSize) {
    const available = fileSize - pos;
    if (available < HEADER_SIZE) {
      problem = `${available} trailing bytes at ${pos} are not a whole batch header`;
      break;
    }
    // Below the recovery point only headers are needed: after a large batch, read just the next header
    // (skipping nearly every byte); after small ones, chunks cost fewer reads.
    let at = ensure(pos, HEADER_SIZE, trusted > next && lastSize >= LARGE_BATCH);
    problem = at < 0 ? `short read at ${pos}` : headerProblem(view, at, available);
    if (problem) break;
    const size = batchSize(view, at);
    lastSize = size;
    if (trusted > next) {
      const base = batchBaseOffset(view, at);
      const last = base + batchLastOffsetDelta(view, at);
      const follows = rules.contiguous ? base === next : base >= next;
      if (follows && last < trusted && last < rules.limitOffset && last - segment.baseOffset <= MAX_RELATIVE) {
        segment.indexBatch(last, pos, size, batchMaxTimestamp(view, at), intervalBytes);
        next = last + 1;
        pos += size;
        continue;
      }
    }
    at = ensure(pos, size);
    if (at < 0) {
      problem = `short read at ${pos}`;
      break;
    }
    const base = batchBaseOffset(view, at);
    const last = base + batchLastOffsetDelta(view, at);
    if (rules.contiguous ? base !== next : base < next) {
      problem = `batch at ${pos} has base offset ${base}, expected ${rules.contiguous ? "" : "at least "}${next}`;
      break;
    }
    if (last - segment.baseOffset > MAX_RELATIVE || last >= rules.limitOffset) {
      problem = `batch at ${pos} ends at offset ${last}, beyond what segment ${segment.baseOffset} can hold`;
      break;
    }
    const crc = crc32c(buf.subarray(at + ATTRIBUTES, at + size));
    if (crc >>> 0 !== batchCrc(view, at)) {
      problem = `batch at ${pos} (offset ${base}) fails its CRC`;
      break;
    }
    segment.indexBatch(last, pos, size, batchMaxTimestamp(view, at), intervalBytes);
    next = last + 1;
    pos += size;
  }
  if (pos < fileSize) file.truncate(pos);
  segment.size = pos;
  return { nextOffset: next, truncatedBytes: fileSize - pos, problem };
}
