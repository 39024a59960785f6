// Record-level searches inside a stored batch, for ListOffsets. Compressed
// batches are decompressed (within the usual output cap), so a timestamp
// lookup lands on the record Kafka would name, not on its batch.

import type { RecordMatch } from "../log/partition-log.ts";
import { RecordsError, readBatchHeader, recordTimestamps } from "./records.ts";

/** Records of a batch as (offset, timestamp); a batch that cannot be read falls back to its header. */
function* recordTimes(batch: Uint8Array): Generator<{ offset: number; timestamp: number }> {
  try {
    yield* recordTimestamps(batch);
  } catch (e) {
    if (!(e instanceof RecordsError)) throw e;
    const h = readBatchHeader(batch, 0);
    yield { offset: h.baseOffset, timestamp: h.maxTimestamp };
  }
}

/** First record with timestamp >= target at or above minOffset. */
export function firstRecordAtOrAfter(batch: Uint8Array, target: number, minOffset = 0): RecordMatch {
  for (const r of recordTimes(batch)) if (r.offset >= minOffset && r.timestamp >= target) return r;
  return null;
}

/** The record holding the batch's max timestamp (earliest such). */
export function maxTimestampRecord(batch: Uint8Array): RecordMatch {
  let best: { offset: number; timestamp: number } | null = null;
  for (const r of recordTimes(batch)) if (!best || r.timestamp > best.timestamp) best = r;
  return best;
}
