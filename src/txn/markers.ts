// Writes transaction markers (control batches) into partition logs for the
// transaction coordinator, and hands transactional offset commits to the
// group coordinator when a transaction ends.

import type { TopicRegistry } from "../meta/topics.ts";
import { LogStorageError } from "../log/partition-log.ts";
import { buildControlBatch } from "../protocol/records.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { batchFacts } from "./partition-txn.ts";
import { splitPartitionKey, type MarkerWriter, type OpenPartitionTxn } from "./coordinator.ts";

/** Resolves once the group's offsets log holds the outcome durably. */
export type OffsetCompletion = (group: string, producerId: number, commit: boolean) => Promise<void>;

export class LogMarkerWriter implements MarkerWriter {
  private completions: Promise<void>[] = [];
  /** Set by the group coordinator so committed transactional offsets become visible. */
  onOffsets: OffsetCompletion | null = null;

  constructor(private readonly topics: TopicRegistry) {}

  writeMarker(topic: string, partition: number, producerId: number, epoch: number, commit: boolean, coordinatorEpoch = 0): boolean {
    const part = this.topics.get(topic)?.partitions[partition];
    if (!part) return true; // the topic was deleted while the transaction was open
    const batch = buildControlBatch({ producerId, producerEpoch: epoch, commit, coordinatorEpoch, timestamp: Date.now() });
    try {
      part.log.append(batch);
    } catch (e) {
      // The log logged why; it answers KAFKA_STORAGE_ERROR to everything until restart.
      if (e instanceof LogStorageError) return false;
      throw e;
    }
    part.txn.apply(batchFacts(batch), batch);
    part.wake();
    return true;
  }

  /**
   * A marker from outside the coordinator (WriteTxnMarkers, e.g. an operator
   * aborting a hanging transaction), checked as Kafka checks it: the epoch may
   * not go back (transactions v2: must go forward), nor the coordinator epoch.
   * As in Kafka, a marker for a producer with nothing open is still written.
   */
  writeRequestedMarker(topic: string, partition: number, producerId: number, epoch: number, commit: boolean, coordinatorEpoch: number, transactionVersion: number): number {
    const part = this.topics.get(topic)?.partitions[partition];
    if (!part) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    const known = part.txn.producers.get(producerId);
    if (known) {
      if (transactionVersion >= 2 ? epoch <= known.epoch : epoch < known.epoch) return ErrorCode.INVALID_PRODUCER_EPOCH;
      if (coordinatorEpoch < known.coordinatorEpoch) return ErrorCode.TRANSACTION_COORDINATOR_FENCED;
    }
    return this.writeMarker(topic, partition, producerId, epoch, commit, coordinatorEpoch) ? ErrorCode.NONE : ErrorCode.KAFKA_STORAGE_ERROR;
  }

  isOpen(topic: string, partition: number, producerId: number): boolean {
    return this.topics.get(topic)?.partitions[partition]?.txn.open.has(producerId) ?? false;
  }

  openTransactions(): OpenPartitionTxn[] {
    const out: OpenPartitionTxn[] = [];
    for (const t of this.topics.all()) {
      t.partitions.forEach((p, partition) => {
        for (const producerId of p.txn.open.keys()) out.push({ topic: t.name, partition, producerId, epoch: p.txn.producers.get(producerId)?.epoch ?? 0 });
      });
    }
    return out;
  }

  completeOffsets(group: string, producerId: number, commit: boolean): void {
    const done = this.onOffsets?.(group, producerId, commit);
    if (done) this.completions.push(done);
  }

  async flush(partitions: readonly string[]): Promise<string[]> {
    const failed: string[] = [];
    const logs = partitions.map(async (k) => {
      const [topic, p] = splitPartitionKey(k);
      const log = this.topics.get(topic)?.partitions[p]?.log;
      try {
        await log?.flushed();
      } catch (e) {
        if (!(e instanceof LogStorageError)) throw e;
        failed.push(k);
      }
    });
    // EndTxn answers only once committed offsets would survive a crash too, not just the markers.
    const offsets = this.completions;
    this.completions = [];
    await Promise.all([...logs, ...offsets]);
    return failed;
  }
}
