// Turns a batch read from the source into the batch produced to the target.
// The records section (compressed or not) is copied byte for byte: only
// header fields outside the records change, and the CRC is signed again.
// What changes: the base offset (the source offset when the target takes
// placed batches, else 0), the producer fields (the mirror's idempotent
// producer, so a lost request cannot leave a hole and a retry cannot
// duplicate), and the transactional bit (what is copied is committed).
//
// Records are re-encoded only when the target could not take the batch as it
// is: a LogAppendTime batch (producers may not set that type; each record's
// time becomes its CreateTime), or a compacted batch with holes between its
// offsets for a target that assigns offsets itself.

import { crc32c } from "../codec/crc32c.ts";
import { ATTRIBUTES, BASE_SEQUENCE, CRC, PARTITION_LEADER_EPOCH, PRODUCER_EPOCH, PRODUCER_ID, viewOf, writeInt64 } from "../log/batch-header.ts";
import { Attr, buildBatch, decodeRecords, type BatchHeader } from "../protocol/records.ts";
import type { FetchedBatch } from "../client/fetched.ts";

export interface ProducerFields {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
}

/** Whether the source batch carries records to copy: not a control batch, not aborted, not emptied by the cleaner. */
export function copied(b: FetchedBatch): boolean {
  return !b.header.control && !b.aborted && b.header.recordCount > 0;
}

/** The offsets a batch takes on the target: all of its range when placed, one per record otherwise. */
export function targetSpan(h: BatchHeader, placed: boolean): number {
  return placed ? h.lastOffsetDelta + 1 : h.recordCount;
}

/** The batch to produce; `b.bytes` (the caller's own copy of the Fetch answer) may be rewritten in place. */
export function batchForTarget(b: FetchedBatch, placed: boolean, p: ProducerFields): Uint8Array {
  const h = b.header;
  const holes = h.recordCount !== h.lastOffsetDelta + 1;
  const out = h.logAppendTime || (holes && !placed) ? reencode(b, placed) : b.bytes;
  const v = viewOf(out);
  writeInt64(v, 0, placed ? h.baseOffset : 0);
  v.setInt32(PARTITION_LEADER_EPOCH, -1);
  v.setInt16(ATTRIBUTES, v.getInt16(ATTRIBUTES) & ~Attr.TRANSACTIONAL);
  writeInt64(v, PRODUCER_ID, p.producerId);
  v.setInt16(PRODUCER_EPOCH, p.producerEpoch);
  v.setInt32(BASE_SEQUENCE, p.baseSequence);
  v.setUint32(CRC, crc32c(out.subarray(ATTRIBUTES)));
  return out;
}

function reencode(b: FetchedBatch, placed: boolean): Uint8Array {
  const h = b.header;
  let i = 0;
  const records = decodeRecords(b.bytes).map((r) => ({
    key: r.key,
    value: r.value,
    headers: r.headers,
    timestamp: r.timestamp,
    offsetDelta: placed ? r.offset - h.baseOffset : i++,
  }));
  return buildBatch({ records, codec: h.codec, lastOffsetDelta: placed ? h.lastOffsetDelta : records.length - 1 });
}
