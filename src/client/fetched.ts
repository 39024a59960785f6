// The records a consumer keeps from one partition's Fetch answer: whole
// batches come back (the first may start before the fetch offset), control
// batches are never shown, and under read_committed the records of aborted
// transactions are dropped (the answer lists each aborted producer's first
// offset; its range ends at that producer's next abort marker).

import { HEADER_SIZE } from "../log/batch-header.ts";
import { iterateRecords, readBatchHeader, readControlRecord, ControlType, type BatchHeader, type KafkaRecord } from "../protocol/records.ts";

export interface FetchedPartition {
  records: KafkaRecord[];
  /** The offset after the last whole batch: where the next fetch starts. */
  nextOffset: bigint;
}

export interface FetchedBatch {
  /** The batch's bytes, a view into the answer. */
  bytes: Uint8Array;
  header: BatchHeader;
  /** A data batch of a transaction the answer lists as aborted (only with an aborted list). */
  aborted: boolean;
}

/**
 * The whole batches of one partition's answer in order, each marked aborted or
 * not; a partial batch at the end (the answer was cut at max_bytes) is left
 * for the next fetch.
 */
export function* fetchedBatches(data: Uint8Array | null, aborted: readonly { producerId: bigint; firstOffset: bigint }[] | null): Generator<FetchedBatch> {
  if (!data) return;
  const starts = new Map<number, number[]>();
  for (const a of aborted ?? []) {
    const list = starts.get(Number(a.producerId)) ?? [];
    list.push(Number(a.firstOffset));
    starts.set(Number(a.producerId), list);
  }
  for (const l of starts.values()) l.sort((x, y) => x - y);
  const abortedNow = new Set<number>();
  let pos = 0;
  while (data.length - pos >= HEADER_SIZE) {
    const h = readBatchHeader(data, pos);
    if (h.sizeInBytes < HEADER_SIZE || pos + h.sizeInBytes > data.length) break;
    const bytes = data.subarray(pos, pos + h.sizeInBytes);
    pos += h.sizeInBytes;
    const s = starts.get(h.producerId);
    while (s && s.length && s[0]! <= h.baseOffset + h.lastOffsetDelta) {
      s.shift();
      abortedNow.add(h.producerId);
    }
    if (h.control) {
      for (const rec of iterateRecords(bytes)) if (readControlRecord(rec).type === ControlType.ABORT) abortedNow.delete(h.producerId);
      yield { bytes, header: h, aborted: false };
      continue;
    }
    yield { bytes, header: h, aborted: h.transactional && abortedNow.has(h.producerId) };
  }
}

export function recordsFrom(data: Uint8Array | null, from: bigint, aborted: readonly { producerId: bigint; firstOffset: bigint }[] | null): FetchedPartition {
  const out: KafkaRecord[] = [];
  let next = from;
  const min = Number(from);
  for (const b of fetchedBatches(data, aborted)) {
    const h = b.header;
    const end = BigInt(h.baseOffset + h.lastOffsetDelta + 1);
    if (end > next) next = end;
    if (h.control || b.aborted) continue;
    for (const rec of iterateRecords(b.bytes)) if (rec.offset >= min) out.push(rec);
  }
  return { records: out, nextOffset: next };
}
