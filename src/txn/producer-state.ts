// Per-partition idempotent-producer state: for each producer id the current
// epoch and the last five batches' sequence ranges with their offsets, so a
// retried batch gets its original offsets back instead of a second append.
// The rules follow Kafka's: a producer we know nothing about may start at any
// sequence; a known one must continue at lastSeq + 1 (wrapping at 2^31-1);
// a new epoch must start at 0; an older epoch is fenced.

import { ErrorCode } from "../protocol/errors.ts";

export const MAX_CACHED_BATCHES = 5;
const NO_EPOCH = -1;

export interface CachedBatch {
  firstSeq: number;
  lastSeq: number;
  firstOffset: number;
  lastOffset: number;
}

export interface ProducerEntry {
  producerId: number;
  epoch: number;
  batches: CachedBatch[];
  lastTimestamp: number;
  /** First offset of the transaction this producer has open on the partition, or -1. */
  txnFirstOffset: number;
  /** Coordinator epoch of the last transaction marker seen for this producer, or -1 (DescribeProducers reports it). */
  coordinatorEpoch: number;
}

export interface BatchIdentity {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  /** Records in the batch (lastOffsetDelta + 1). */
  count: number;
}

export type SequenceCheck =
  | { kind: "append" }
  | { kind: "duplicate"; firstOffset: number; lastOffset: number }
  | { kind: "error"; errorCode: number; message: string };

function lastSeqOf(b: BatchIdentity): number {
  return (b.baseSequence + b.count - 1) % 2147483648;
}

function inSequence(lastSeq: number, nextSeq: number): boolean {
  return nextSeq === lastSeq + 1 || (nextSeq === 0 && lastSeq === 2147483647);
}

export class ProducerStateTable {
  readonly entries = new Map<number, ProducerEntry>();

  get(producerId: number): ProducerEntry | undefined {
    return this.entries.get(producerId);
  }

  /** Decides what to do with an incoming idempotent batch, without changing state. */
  check(b: BatchIdentity): SequenceCheck {
    const e = this.entries.get(b.producerId);
    if (!e) return { kind: "append" };
    if (b.producerEpoch < e.epoch) {
      return { kind: "error", errorCode: ErrorCode.INVALID_PRODUCER_EPOCH, message: `Epoch ${b.producerEpoch} is older than the current epoch ${e.epoch} of producer ${b.producerId}` };
    }
    if (b.producerEpoch === e.epoch) {
      const last = lastSeqOf(b);
      for (const c of e.batches) {
        if (c.firstSeq === b.baseSequence && c.lastSeq === last) return { kind: "duplicate", firstOffset: c.firstOffset, lastOffset: c.lastOffset };
      }
      const tail = e.batches[e.batches.length - 1];
      if (tail && !inSequence(tail.lastSeq, b.baseSequence)) {
        return {
          kind: "error",
          errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
          message: `Out of order sequence number for producer ${b.producerId}: ${b.baseSequence} (incoming), ${tail.lastSeq} (current end)`,
        };
      }
      return { kind: "append" };
    }
    // A newer epoch starts over at sequence 0 (unless we never saw an epoch for it).
    if (b.baseSequence !== 0 && e.epoch !== NO_EPOCH) {
      return { kind: "error", errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, message: `Invalid sequence ${b.baseSequence} for new epoch ${b.producerEpoch} of producer ${b.producerId}` };
    }
    return { kind: "append" };
  }

  /** Records an appended batch (also used when replaying the log on start). */
  record(b: BatchIdentity, firstOffset: number, lastOffset: number, timestamp: number): ProducerEntry {
    let e = this.entries.get(b.producerId);
    if (!e) {
      e = { producerId: b.producerId, epoch: b.producerEpoch, batches: [], lastTimestamp: timestamp, txnFirstOffset: -1, coordinatorEpoch: -1 };
      this.entries.set(b.producerId, e);
    }
    if (b.producerEpoch !== e.epoch) {
      e.epoch = b.producerEpoch;
      e.batches = [];
    }
    if (b.baseSequence >= 0) {
      e.batches.push({ firstSeq: b.baseSequence, lastSeq: lastSeqOf(b), firstOffset, lastOffset });
      if (e.batches.length > MAX_CACHED_BATCHES) e.batches.shift();
    }
    e.lastTimestamp = Math.max(e.lastTimestamp, timestamp);
    return e;
  }

  /** A transaction marker ends the producer's open transaction and may bump its epoch. */
  endTransaction(producerId: number, epoch: number, timestamp: number, coordinatorEpoch = -1): void {
    let e = this.entries.get(producerId);
    if (!e) {
      e = { producerId, epoch, batches: [], lastTimestamp: timestamp, txnFirstOffset: -1, coordinatorEpoch };
      this.entries.set(producerId, e);
    }
    if (epoch > e.epoch) {
      e.epoch = epoch;
      e.batches = [];
    }
    e.txnFirstOffset = -1;
    e.coordinatorEpoch = coordinatorEpoch;
    e.lastTimestamp = Math.max(e.lastTimestamp, timestamp);
  }

  /** Forgets producers idle longer than `expirationMs` (Kafka's producer.id.expiration.ms), except those in a transaction. */
  expire(now: number, expirationMs: number): void {
    for (const [id, e] of this.entries) {
      if (e.txnFirstOffset < 0 && now - e.lastTimestamp > expirationMs) this.entries.delete(id);
    }
  }
}
