// What a partition knows about producers and transactions: idempotence state,
// transactions still open on it (they hold back the last stable offset), and
// the aborted ones (read_committed fetches get them to filter records). All of
// it is derived from the batches in the log, so a restart rebuilds it by
// replaying batch headers, or after a clean close loads it from a snapshot
// (partition-snapshot.ts); nothing extra has to be made durable.

import { ATTRIBUTES, BASE_SEQUENCE, LAST_OFFSET_DELTA, MAX_TIMESTAMP, PRODUCER_EPOCH, PRODUCER_ID, batchBaseOffset, readInt64, viewOf } from "../log/batch-header.ts";
import { Attr, iterateRecords, readControlRecord, RecordsError, type ControlRecord } from "../protocol/records.ts";
import { ProducerStateTable, type ProducerEntry } from "./producer-state.ts";

export interface AbortedTxn {
  producerId: number;
  firstOffset: number;
  /** Offset of the abort marker. */
  lastOffset: number;
  /** The partition's last stable offset right after the marker (Kafka's .txnindex keeps it too): lets a lookup stop early. */
  lastStableOffset: number;
}

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
  readonly aborted: AbortedTxn[] = [];

  /** Takes over the state a snapshot saved (instead of replaying the log). */
  restore(snapshot: { producers: ProducerEntry[]; aborted: AbortedTxn[] }): void {
    for (const e of snapshot.producers) {
      this.producers.entries.set(e.producerId, e);
      if (e.txnFirstOffset >= 0) this.open.set(e.producerId, e.txnFirstOffset);
    }
    for (const a of snapshot.aborted) this.aborted.push(a);
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
        if (type === 0) this.aborted.push({ producerId: b.producerId, firstOffset: first, lastOffset: b.lastOffset, lastStableOffset: this.firstUnstableOffset() ?? b.lastOffset + 1 });
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

  /**
   * Aborted transactions overlapping [from, to], for read_committed fetches,
   * in O(log n + k) however many there are: the list is in marker order, so
   * the first marker at or after `from` is found by bisection; the scan stops
   * at a marker after which the last stable offset was beyond `to`, since
   * every transaction that started by `to` had ended by then (Kafka's
   * .txnindex lookup stops on the same condition).
   */
  abortedBetween(from: number, to: number): AbortedTxn[] {
    const list = this.aborted;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.lastOffset < from) lo = mid + 1;
      else hi = mid;
    }
    const out: AbortedTxn[] = [];
    for (let i = lo; i < list.length; i++) {
      const a = list[i]!;
      if (a.firstOffset <= to) out.push(a);
      if (a.lastStableOffset > to) break;
    }
    return out;
  }

  /** Drops what lies wholly below the log start (retention, DeleteRecords). */
  trimBelow(logStartOffset: number): void {
    let i = 0;
    while (i < this.aborted.length && this.aborted[i]!.lastOffset < logStartOffset) i++;
    if (i) this.aborted.splice(0, i);
  }
}
