// The topic registry: names, ids, partition counts and config overrides,
// persisted crash-safely in <data-dir>/topics.json (write-temp, fsync, rename)
// before any change is acknowledged; each partition owns a PartitionLog.

import { exists, readText, removeTree, storageFor } from "../log/storage.ts";
import { DELETED_DIR, PARTITION_DIR, deletePartitionDir } from "../log/partition-dir.ts";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import type { BrokerOptions } from "../config.ts";
import { PartitionLog, type FlushScheduler, type LogConfig } from "../log/partition-log.ts";
import { writeFileAtomic } from "../log/atomic-file.ts";
import { RECOVERY_POINT_CHECKPOINT_FILE, formatOffsetCheckpoint, readOffsetCheckpoint, writeOffsetCheckpoint } from "../log/offset-checkpoint.ts";
import { crc32c } from "../codec/crc32c.ts";
import { configRecord, segmentBytes, topicConfig, topicConfigNumber } from "./topic-config.ts";
import { cleanupPolicy } from "./clean-targets.ts";
import { batchFacts, PartitionTxnState } from "../txn/partition-txn.ts";
import { Logger } from "../util/logger.ts";
import { takeTxnSnapshot, writeTxnSnapshot } from "../txn/partition-snapshot.ts";

export class Partition {
  /** Long-polling fetches waiting for data on this partition. */
  readonly waiters = new Set<() => void>();
  /** Producer and transaction state, rebuilt from the log on open. */
  readonly txn = new PartitionTxnState();

  constructor(
    readonly topic: Topic,
    readonly index: number,
    readonly log: PartitionLog,
  ) {
    log.onVisible = () => this.wake();
    const snapshot = takeTxnSnapshot(log.dir, log.logEndOffset);
    if (snapshot) this.txn.restore(snapshot);
    const rebuild = log.txnIndexRebuildPending;
    if (!snapshot || rebuild) {
      // A transaction index to rebuild needs the replay too: only it knows where each aborted transaction began.
      const replay = snapshot ? new PartitionTxnState() : this.txn;
      if (rebuild) replay.onAborted = (a) => log.rebuiltAbortedTxn(a);
      // Headers are enough for everything but transaction markers, whose record says commit or abort.
      for (const b of log.batches(log.logStartOffset)) {
        const facts = batchFacts(b.head);
        replay.apply(facts, facts.control ? b.bytes() : null);
      }
      if (rebuild) log.finishTxnIndexRebuild();
    }
    this.txn.onAborted = (a) => log.appendAbortedTxn(a);
  }

  /** A clean close: saves the producer state for the next start, then closes the log. */
  close(fsync: boolean): void {
    try {
      writeTxnSnapshot(this.log.dir, this.txn, this.log.logEndOffset, fsync);
    } finally {
      // Without a snapshot the next start replays the log: slower, still right; the log closes cleanly either way.
      this.log.close();
    }
  }

  /** One replica: the high watermark is what the log made durable (or wrote, with fsync=never). */
  get highWatermark(): number {
    return this.log.highWatermark;
  }

  /** read_committed consumers stop before the oldest open transaction, and never beyond the high watermark. */
  lastStableOffset(): number {
    const hw = this.log.highWatermark;
    return Math.min(this.txn.firstUnstableOffset() ?? hw, hw);
  }

  /** Wakes long-polling fetches after an append (each waiter removes itself). */
  wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

export interface Topic {
  readonly name: string;
  /** 32 hex digits, never the zero uuid. */
  readonly id: string;
  partitions: Partition[];
  configs: Record<string, string>;
  readonly internal: boolean;
}

interface StoredTopic {
  name: string;
  id: string;
  partitions: number;
  configs: Record<string, string>;
  internal?: boolean;
}

const FILE = "topics.json";

export function randomTopicId(): string {
  for (;;) {
    const id = randomBytes(16).toString("hex");
    if (!/^0+$/.test(id)) return id;
  }
}

export class TopicRegistry {
  private readonly byNameMap = new Map<string, Topic>();
  private readonly byIdMap = new Map<string, Topic>();
  private readonly logger: Logger;
  /** Recovery points read at load, by partition directory name; then the text last written. */
  private recoveryPoints = new Map<string, number>();
  private writtenRecoveryPoints = "";

  constructor(
    private readonly options: BrokerOptions,
    private readonly flusher: FlushScheduler,
  ) {
    this.logger = new Logger(options.logLevel);
  }

  logConfig(configs: Record<string, string>): LogConfig {
    const o = this.options;
    const policy = cleanupPolicy(topicConfig(configs, "cleanup.policy", o));
    const segmentMs = topicConfigNumber(configs, "segment.ms", o);
    return {
      segmentBytes: segmentBytes(configs, o),
      // As Kafka: a compacted topic rolls by max.compaction.lag.ms too, or its records could wait in the active segment forever.
      segmentMs: policy.compact ? Math.min(segmentMs, topicConfigNumber(configs, "max.compaction.lag.ms", o)) : segmentMs,
      cleanupPolicy: policy,
      indexIntervalBytes: topicConfigNumber(configs, "index.interval.bytes", o),
      retentionMs: topicConfigNumber(configs, "retention.ms", o),
      retentionBytes: topicConfigNumber(configs, "retention.bytes", o),
      fsync: o.fsync,
      crc32c,
      logger: this.logger,
    };
  }

  private partitionDir(topic: string, index: number): string {
    return join(this.options.dataDir, `${topic}-${index}`);
  }

  private openPartition(topic: Topic, index: number): Partition {
    const rp = this.recoveryPoints.get(`${topic.name}-${index}`);
    const log = PartitionLog.open(this.partitionDir(topic.name, index), this.logConfig(topic.configs), this.flusher, rp);
    return new Partition(topic, index, log);
  }

  /**
   * Opens every known topic (recovering each partition log) and finishes
   * deletes a crash interrupted: only directories with klite's `-delete`
   * names are removed; any other directory that is not a partition of a
   * known topic is left alone and reported.
   */
  load(): void {
    // Used by the partitions opened here only; partitions created later start with nothing to trust.
    this.recoveryPoints = readOffsetCheckpoint(join(this.options.dataDir, RECOVERY_POINT_CHECKPOINT_FILE));
    const path = join(this.options.dataDir, FILE);
    if (exists(path)) {
      const stored = JSON.parse(readText(path)) as { topics: StoredTopic[] };
      for (const s of stored.topics) {
        // Overrides live in prototype-less records, so a stored key can never shadow an object member.
        const topic: Topic = { name: s.name, id: s.id, partitions: [], configs: configRecord(Object.entries(s.configs)), internal: s.internal ?? false };
        for (let i = 0; i < s.partitions; i++) topic.partitions.push(this.openPartition(topic, i));
        this.byNameMap.set(topic.name, topic);
        this.byIdMap.set(topic.id, topic);
      }
    }
    this.recoveryPoints.clear();
    for (const entry of storageFor(this.options.dataDir).list(this.options.dataDir)) {
      if (!entry.isDirectory) continue;
      const dir = join(this.options.dataDir, entry.name);
      if (DELETED_DIR.test(entry.name)) {
        this.logger.warn(`removing ${dir}: a deleted partition whose removal a crash interrupted`);
        removeTree(dir);
        continue;
      }
      const m = PARTITION_DIR.exec(entry.name);
      const t = m ? this.byNameMap.get(m[1]!) : undefined;
      if (t && Number(m![2]) < t.partitions.length) continue;
      this.logger.warn(`leaving ${dir} alone: it is not a partition of any topic klite knows`);
    }
  }

  /**
   * Makes way for a new partition directory: whatever holds its name (the
   * leftover of a topic deleted just before a crash) is removed Kafka-style.
   */
  private clearPartitionDir(topic: string, index: number): void {
    const dir = this.partitionDir(topic, index);
    if (!exists(dir)) return;
    this.logger.warn(`removing ${dir} to create partition ${index} of topic ${topic} in its place`);
    deletePartitionDir(dir, this.options.fsync === "group");
  }

  private persist(): void {
    const topics: StoredTopic[] = [...this.byNameMap.values()].map((t) => ({
      name: t.name,
      id: t.id,
      partitions: t.partitions.length,
      configs: t.configs,
      ...(t.internal ? { internal: true } : {}),
    }));
    writeFileAtomic(join(this.options.dataDir, FILE), new TextEncoder().encode(JSON.stringify({ version: 1, topics }, null, 1)));
    // A recreated topic must not inherit the recovery point of the one deleted under its name.
    this.writeRecoveryPoints();
  }

  get(name: string): Topic | undefined {
    return this.byNameMap.get(name);
  }
  getById(id: string): Topic | undefined {
    return this.byIdMap.get(id);
  }
  all(): IterableIterator<Topic> {
    return this.byNameMap.values();
  }
  get size(): number {
    return this.byNameMap.size;
  }

  /** Creates and persists a topic; the caller validated name, count and configs. */
  create(name: string, partitions: number, configs: Record<string, string>, internal = false): Topic {
    if (this.byNameMap.has(name)) throw new Error(`topic ${name} exists`);
    const topic: Topic = { name, id: randomTopicId(), partitions: [], configs: configRecord(Object.entries(configs)), internal };
    // Clear any stale directories first: the name may have been used by a deleted topic.
    for (let i = 0; i < partitions; i++) this.clearPartitionDir(name, i);
    for (let i = 0; i < partitions; i++) topic.partitions.push(this.openPartition(topic, i));
    this.byNameMap.set(name, topic);
    this.byIdMap.set(topic.id, topic);
    this.persist();
    return topic;
  }

  /** Grows a topic to `count` partitions (CreatePartitions). */
  addPartitions(topic: Topic, count: number): void {
    for (let i = topic.partitions.length; i < count; i++) {
      this.clearPartitionDir(topic.name, i);
      topic.partitions.push(this.openPartition(topic, i));
    }
    this.persist();
  }

  /** Replaces a topic's config overrides; log settings apply to segments rolled from now on. */
  setConfigs(topic: Topic, configs: Record<string, string>): void {
    topic.configs = configRecord(Object.entries(configs));
    for (const p of topic.partitions) p.log.setConfig?.(this.logConfig(configs));
    this.persist();
  }

  /** Forgets the topic durably first, then removes its data. */
  delete(topic: Topic): void {
    this.byNameMap.delete(topic.name);
    this.byIdMap.delete(topic.id);
    this.persist();
    for (const p of topic.partitions) {
      p.wake();
      p.log.deleteAll();
    }
  }

  configValue(topic: Topic, key: string): string {
    return topicConfig(topic.configs, key, this.options);
  }

  /**
   * Records every partition's recovery point in the data dir (Kafka's
   * recovery-point-offset-checkpoint) when one moved: after a crash, recovery
   * checks only what lies past them.
   */
  writeRecoveryPoints(): void {
    const entries: { topic: string; partition: number; offset: number }[] = [];
    for (const t of this.byNameMap.values()) for (const p of t.partitions) entries.push({ topic: t.name, partition: p.index, offset: p.log.recoveryPoint });
    const text = formatOffsetCheckpoint(entries);
    if (text === this.writtenRecoveryPoints) return;
    writeOffsetCheckpoint(join(this.options.dataDir, RECOVERY_POINT_CHECKPOINT_FILE), text);
    this.writtenRecoveryPoints = text;
  }

  close(): void {
    try {
      for (const t of this.byNameMap.values()) for (const p of t.partitions) p.close(this.options.fsync === "group");
    } finally {
      this.writeRecoveryPoints();
    }
  }
}
