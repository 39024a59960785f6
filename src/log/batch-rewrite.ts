// Batches the cleaner writes instead of the ones it read: the same batch with
// fewer records (original offsets, timestamps, producer fields and codec kept,
// as Kafka's cleaner does), re-encoded with a delete horizon stamped on it, or
// emptied to its header alone when it must stay as its producer's last batch.

import { crc32c } from "../codec/crc32c.ts";
import { Attr, buildBatch, type BatchHeader, type KafkaRecord } from "../protocol/records.ts";
import { compress } from "../codec/compression.ts";
import { ATTRIBUTES, BATCH_LENGTH, CRC, HEADER_SIZE, LOG_OVERHEAD, MAX_TIMESTAMP, RECORD_COUNT, viewOf, writeInt64 } from "./batch-header.ts";

/**
 * `records` of the batch with header `h`, in a batch of the same base offset,
 * last offset delta (so the producer's sequence range stays whole) and codec.
 * `deleteHorizonMs` stamps the delete horizon (null: keep the batch's own, if any).
 */
export function rebuildBatch(h: BatchHeader, records: readonly KafkaRecord[], deleteHorizonMs: number | null): Uint8Array {
  const horizon = deleteHorizonMs ?? (h.hasDeleteHorizonMs ? h.baseTimestamp : undefined);
  return buildBatch({
    records: records.map((r) => ({
      key: r.key,
      value: r.value,
      headers: r.headers,
      timestamp: r.timestamp,
      offsetDelta: r.offset - h.baseOffset,
    })),
    baseOffset: h.baseOffset,
    lastOffsetDelta: h.lastOffsetDelta,
    partitionLeaderEpoch: h.partitionLeaderEpoch,
    codec: h.codec,
    producerId: h.producerId,
    producerEpoch: h.producerEpoch,
    baseSequence: h.baseSequence,
    transactional: h.transactional,
    control: h.control,
    logAppendTime: h.logAppendTime ? h.maxTimestamp : undefined,
    baseTimestamp: h.baseTimestamp,
    deleteHorizonMs: horizon,
  });
}

/**
 * The batch with its records section replaced by `records` (the verbatim
 * bytes of the records kept, uncompressed), compressed with the batch's own
 * codec. Offsets, base timestamp and producer fields stay; the record count
 * and max timestamp become those of the records kept.
 */
export function withRecords(batch: Uint8Array, h: BatchHeader, records: Uint8Array, count: number, maxTimestamp: number): Uint8Array {
  const body = h.codec === 0 ? records : compress(h.codec, records);
  const out = new Uint8Array(HEADER_SIZE + body.length);
  out.set(batch.subarray(0, HEADER_SIZE));
  out.set(body, HEADER_SIZE);
  const v = viewOf(out);
  v.setInt32(BATCH_LENGTH, out.length - LOG_OVERHEAD);
  v.setInt32(RECORD_COUNT, count);
  if (!h.logAppendTime) writeInt64(v, MAX_TIMESTAMP, maxTimestamp);
  v.setUint32(CRC, crc32c(out.subarray(ATTRIBUTES)));
  return out;
}

/**
 * The batch's header alone, with no records: it keeps the producer id, epoch
 * and sequence range (and the offsets it covers), so producer state rebuilt
 * from the log still knows the producer's last sequence.
 */
export function emptyBatch(batch: Uint8Array): Uint8Array {
  const out = batch.slice(0, HEADER_SIZE);
  const v = viewOf(out);
  v.setInt32(BATCH_LENGTH, HEADER_SIZE - LOG_OVERHEAD);
  v.setInt16(ATTRIBUTES, v.getInt16(ATTRIBUTES) & ~Attr.CODEC_MASK);
  v.setInt32(RECORD_COUNT, 0);
  v.setUint32(CRC, crc32c(out.subarray(ATTRIBUTES)));
  return out;
}
