// What a partition knows about producers and transactions: idempotence state,
// and transactions still open on it (they hold back the last stable offset).
// All of it is derived from the batches in the log, so a restart rebuilds it by
// replaying batch headers, or after a clean close loads it from a snapshot
// (partition-snapshot.ts). Aborted transactions are not kept here: each one
// is handed to `onAborted` as its marker is applied, and the log keeps them in
// its segments' transaction indexes (log/txn-index.ts).

import { ATTRIBUTES, BASE_SEQUENCE, LAST_OFFSET_DELTA, MAX_TIMESTAMP, PRODUCER_EPOCH, PRODUCER_ID, batchBaseOffset, readInt64, viewOf } from "../log/batch-header.ts";
import { Attr, iterateRecords, readControlRecord, RecordsError, type ControlRecord } from "../protocol/records.ts";
import type { AbortedTxn } from "../log/txn-index.ts";
import { ProducerStateTable, type ProducerEntry } from "./producer-state.ts";

export type { AbortedTxn } from "../log/txn-index.ts";

export interface BatchFacts {
  baseOffset: number;
  lastOffset: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  maxTimestamp: number;
  transactional: boolean;
  control: boolean;
}

/** Reads the facts above from a stored batch's 61-byte header. */
export function batchFacts(bytes: Uint8Array): BatchFacts {
  const v = viewOf(bytes);
  const baseOffset = batchBaseOffset(v, 0);
  const attributes = v.getInt16(ATTRIBUTES);
  return {
    baseOffset,
    lastOffset: baseOffset + v.getInt32(LAST_OFFSET_DELTA),
    producerId: readInt64(v, PRODUCER_ID),
    producerEpoch: v.getInt16(PRODUCER_EPOCH),
    baseSequence: v.getInt32(BASE_SEQUENCE),
    maxTimestamp: readInt64(v, MAX_TIMESTAMP),
    transactional: (attributes & Attr.TRANSACTIONAL) !== 0,
    control: (attributes & Attr.CONTROL) !== 0,
  };
}

/** The marker a control batch carries (its first record), or null when it holds none readable. */
function markerOf(bytes: Uint8Array): ControlRecord | null {
  try {
    const first = iterateRecords(bytes).next();
    return first.done ? null : readControlRecord(first.value);
  } catch (e) {
    if (e instanceof RecordsError) return null;
    throw e;
  }
}

export class PartitionTxnState {
  readonly producers = new ProducerStateTable();
  /** producer id → first offset of its open transaction here. */
  readonly open = new Map<number, number>();
  /** Told of each transaction an applied abort marker ends (the partition writes it to the log's transaction index). */
  onAborted: ((a: AbortedTxn) => void) | null = null;

  /** Takes over the state a snapshot saved (instead of replaying the log). */
  restore(snapshot: { producers: ProducerEntry[] }): void {
    for (const e of snapshot.producers) {
      this.producers.entries.set(e.producerId, e);
      if (e.txnFirstOffset >= 0) this.open.set(e.producerId, e.txnFirstOffset);
    }
  }

  /** Applies one appended (or replayed) batch. */
  apply(b: BatchFacts, bytes: Uint8Array | null): void {
    if (b.producerId < 0) return;
    if (b.control) {
      const marker = bytes ? markerOf(bytes) : null;
      const type = marker ? marker.type : -1;
      if (type !== 0 && type !== 1) return;
      const first = this.open.get(b.producerId);
      if (first !== undefined) {
        this.open.delete(b.producerId);
        if (type === 0) this.onAborted?.({ producerId: b.producerId, firstOffset: first, lastOffset: b.lastOffset, lastStableOffset: this.firstUnstableOffset() ?? b.lastOffset + 1 });
      }
      this.producers.endTransaction(b.producerId, b.producerEpoch, b.maxTimestamp, marker?.coordinatorEpoch ?? -1);
      return;
    }
    const count = b.lastOffset - b.baseOffset + 1;
    const e = this.producers.record({ producerId: b.producerId, producerEpoch: b.producerEpoch, baseSequence: b.baseSequence, count }, b.baseOffset, b.lastOffset, b.maxTimestamp);
    if (b.transactional && !this.open.has(b.producerId)) {
      this.open.set(b.producerId, b.baseOffset);
      e.txnFirstOffset = b.baseOffset;
    }
  }

  /** The first offset of the oldest open transaction, or null when none is open. */
  firstUnstableOffset(): number | null {
    let min: number | null = null;
    for (const o of this.open.values()) if (min === null || o < min) min = o;
    return min;
  }
}
