// Writes transaction markers (control batches) into partition logs for the
// transaction coordinator, and hands transactional offset commits to the
// group coordinator when a transaction ends.

import type { TopicRegistry } from "../meta/topics.ts";
import type { PartitionLog } from "../log/partition-log.ts";
import { buildControlBatch } from "../protocol/records.ts";
import { batchFacts } from "./partition-txn.ts";
import type { MarkerWriter } from "./coordinator.ts";

/** Resolves once the group's offsets log holds the outcome durably. */
export type OffsetCompletion = (group: string, producerId: number, commit: boolean) => Promise<void>;

export class LogMarkerWriter implements MarkerWriter {
  private readonly dirty = new Set<PartitionLog>();
  private completions: Promise<void>[] = [];
  /** Set by the group coordinator so committed transactional offsets become visible. */
  onOffsets: OffsetCompletion | null = null;

  constructor(private readonly topics: TopicRegistry) {}

  writeMarker(topic: string, partition: number, producerId: number, epoch: number, commit: boolean): void {
    const part = this.topics.get(topic)?.partitions[partition];
    if (!part) return; // the topic was deleted while the transaction was open
    const batch = buildControlBatch({ producerId, producerEpoch: epoch, commit, coordinatorEpoch: 0, timestamp: Date.now() });
    part.log.append(batch);
    part.txn.apply(batchFacts(batch), batch);
    part.wake();
    this.dirty.add(part.log);
  }

  completeOffsets(group: string, producerId: number, commit: boolean): void {
    const done = this.onOffsets?.(group, producerId, commit);
    if (done) this.completions.push(done);
  }

  async flush(): Promise<void> {
    const logs = [...this.dirty];
    this.dirty.clear();
    // EndTxn answers only once committed offsets would survive a crash too, not just the markers.
    const offsets = this.completions;
    this.completions = [];
    await Promise.all([...logs.map((l) => l.flushed()), ...offsets]);
  }
}
