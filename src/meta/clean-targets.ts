// The partitions the log cleaner works on: those of topics whose
// cleanup.policy includes `compact`, each with its compaction settings read
// from the topic's configs at every round (so AlterConfigs acts at once) and
// the transaction state the cleaner must respect.

import type { BrokerOptions } from "../config.ts";
import type { CleanTarget, CompactionConfig } from "../log/cleaner.ts";
import type { Partition, TopicRegistry } from "./topics.ts";
import { topicConfig, topicConfigNumber } from "./topic-config.ts";

/** cleanup.policy as a set: "compact,delete", "delete", "compact" (any order, spaces allowed). */
export function cleanupPolicy(value: string): { delete: boolean; compact: boolean } {
  const parts = value.split(",").map((p) => p.trim());
  return { delete: parts.includes("delete"), compact: parts.includes("compact") };
}

const targets = new WeakMap<Partition, CleanTarget>();

function targetOf(p: Partition, options: BrokerOptions): CleanTarget {
  let t = targets.get(p);
  if (t) return t;
  const num = (key: string) => topicConfigNumber(p.topic.configs, key, options);
  t = {
    name: `${p.topic.name}-${p.index}`,
    log: p.log,
    config: (): CompactionConfig => ({
      minCleanableRatio: num("min.cleanable.dirty.ratio"),
      minCompactionLagMs: num("min.compaction.lag.ms"),
      maxCompactionLagMs: num("max.compaction.lag.ms"),
      deleteRetentionMs: num("delete.retention.ms"),
      segmentBytes: num("segment.bytes"),
    }),
    lastBatchOffsets: () => {
      const last = new Map<number, number>();
      for (const [id, e] of p.txn.producers.entries) {
        const b = e.batches[e.batches.length - 1];
        if (b) last.set(id, b.lastOffset);
      }
      return last;
    },
    lastStableOffset: () => p.lastStableOffset(),
  };
  targets.set(p, t);
  return t;
}

/** Every partition of a compacted topic, as the cleaner's targets. */
export function* compactedPartitions(registry: TopicRegistry, options: BrokerOptions): Generator<CleanTarget> {
  for (const topic of registry.all()) {
    if (!cleanupPolicy(topicConfig(topic.configs, "cleanup.policy", options)).compact) continue;
    for (const p of topic.partitions) yield targetOf(p, options);
  }
}
