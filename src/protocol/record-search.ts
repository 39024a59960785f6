// Record-level searches inside a stored batch, for ListOffsets.

import type { RecordMatch } from "../log/partition-log.ts";
import { Reader } from "./reader.ts";

function readInt64(v: DataView, pos: number): number {
  return v.getInt32(pos) * 4294967296 + v.getUint32(pos + 4);
}

/** Walks an uncompressed batch's records as (offset, timestamp); compressed batches yield nothing. */
function* recordTimes(batch: Uint8Array): Generator<{ offset: number; timestamp: number }> {
  const v = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  const attributes = v.getInt16(21);
  if ((attributes & 0x07) !== 0) return;
  const base = readInt64(v, 0);
  const baseTs = readInt64(v, 27);
  const count = v.getInt32(57);
  const logAppend = (attributes & 0x08) !== 0;
  const r = new Reader(batch, 61);
  for (let i = 0; i < count; i++) {
    const len = r.varint();
    const start = r.pos;
    r.int8();
    const tsDelta = r.varlong();
    const offDelta = r.varint();
    yield { offset: base + offDelta, timestamp: logAppend ? readInt64(v, 35) : baseTs + tsDelta };
    r.pos = start + len;
  }
}

/** First record with timestamp >= target (at or above minOffset); for compressed batches, the batch itself. */
export function firstRecordAtOrAfter(batch: Uint8Array, target: number, minOffset = 0): RecordMatch {
  const v = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  if ((v.getInt16(21) & 0x07) !== 0) {
    return { offset: Math.max(readInt64(v, 0), minOffset), timestamp: readInt64(v, 35) };
  }
  for (const r of recordTimes(batch)) if (r.offset >= minOffset && r.timestamp >= target) return r;
  return null;
}

/** The record holding the batch's max timestamp (earliest such). */
export function maxTimestampRecord(batch: Uint8Array): RecordMatch {
  let best: { offset: number; timestamp: number } | null = null;
  for (const r of recordTimes(batch)) if (!best || r.timestamp > best.timestamp) best = r;
  return best;
}
