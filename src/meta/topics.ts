// The topic registry: names, ids, partition counts and config overrides,
// persisted crash-safely in <data-dir>/topics.json (write-temp, fsync, rename)
// before any change is acknowledged; each partition owns a PartitionLog.

import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import type { BrokerOptions } from "../config.ts";
import { PartitionLog, type FlushScheduler, type LogConfig } from "../log/partition-log.ts";
import { writeFileAtomic } from "../log/atomic-file.ts";
import { crc32c } from "../codec/crc32c.ts";
import { topicConfig, topicConfigNumber } from "./topic-config.ts";
import { batchFacts, PartitionTxnState } from "../txn/partition-txn.ts";
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
    const snapshot = takeTxnSnapshot(log.dir, log.logEndOffset);
    if (snapshot) this.txn.restore(snapshot);
    else {
      // Headers are enough for everything but transaction markers, whose record says commit or abort.
      for (const b of log.batches(log.logStartOffset)) {
        const facts = batchFacts(b.head);
        this.txn.apply(facts, facts.control ? b.bytes() : null);
      }
    }
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

  /** One replica: everything appended is replicated, so the high watermark is the log end. */
  get highWatermark(): number {
    return this.log.logEndOffset;
  }

  /** read_committed consumers stop before the oldest open transaction. */
  lastStableOffset(): number {
    return this.txn.firstUnstableOffset() ?? this.log.logEndOffset;
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

  constructor(
    private readonly options: BrokerOptions,
    private readonly flusher: FlushScheduler,
  ) {}

  logConfig(configs: Record<string, string>): LogConfig {
    const o = this.options;
    return {
      segmentBytes: topicConfigNumber(configs, "segment.bytes", o),
      segmentMs: topicConfigNumber(configs, "segment.ms", o),
      indexIntervalBytes: topicConfigNumber(configs, "index.interval.bytes", o),
      retentionMs: topicConfigNumber(configs, "retention.ms", o),
      retentionBytes: topicConfigNumber(configs, "retention.bytes", o),
      fsync: o.fsync,
      crc32c,
    };
  }

  private partitionDir(topic: string, index: number): string {
    return join(this.options.dataDir, `${topic}-${index}`);
  }

  private openPartition(topic: Topic, index: number): Partition {
    const log = PartitionLog.open(this.partitionDir(topic.name, index), this.logConfig(topic.configs), this.flusher);
    return new Partition(topic, index, log);
  }

  /** Opens every known topic (recovering each partition log) and removes leftovers of unfinished deletes. */
  load(): void {
    const path = join(this.options.dataDir, FILE);
    if (!existsSync(path)) return;
    const stored = JSON.parse(readFileSync(path, "utf8")) as { topics: StoredTopic[] };
    for (const s of stored.topics) {
      const topic: Topic = { name: s.name, id: s.id, partitions: [], configs: s.configs, internal: s.internal ?? false };
      for (let i = 0; i < s.partitions; i++) topic.partitions.push(this.openPartition(topic, i));
      this.byNameMap.set(topic.name, topic);
      this.byIdMap.set(topic.id, topic);
    }
    for (const entry of readdirSync(this.options.dataDir, { withFileTypes: true })) {
      const m = /^(.+)-(\d+)$/.exec(entry.name);
      if (!entry.isDirectory() || !m) continue;
      const t = this.byNameMap.get(m[1]!);
      if (!t || Number(m[2]) >= t.partitions.length) rmSync(join(this.options.dataDir, entry.name), { recursive: true, force: true });
    }
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
    const topic: Topic = { name, id: randomTopicId(), partitions: [], configs, internal };
    // Clear any stale directories first: the name may have been used by a deleted topic.
    for (let i = 0; i < partitions; i++) rmSync(this.partitionDir(name, i), { recursive: true, force: true });
    for (let i = 0; i < partitions; i++) topic.partitions.push(this.openPartition(topic, i));
    this.byNameMap.set(name, topic);
    this.byIdMap.set(topic.id, topic);
    this.persist();
    return topic;
  }

  /** Grows a topic to `count` partitions (CreatePartitions). */
  addPartitions(topic: Topic, count: number): void {
    for (let i = topic.partitions.length; i < count; i++) {
      rmSync(this.partitionDir(topic.name, i), { recursive: true, force: true });
      topic.partitions.push(this.openPartition(topic, i));
    }
    this.persist();
  }

  /** Replaces a topic's config overrides; log settings apply to segments rolled from now on. */
  setConfigs(topic: Topic, configs: Record<string, string>): void {
    topic.configs = configs;
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

  close(): void {
    for (const t of this.byNameMap.values()) for (const p of t.partitions) p.close(this.options.fsync === "group");
  }
}
