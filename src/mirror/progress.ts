// The mirror's progress, kept on the target in a compacted topic: one record
// per mirrored partition, keyed by source cluster, topic and partition. It
// says how the partition is copied and, when the target assigns its own
// offsets, an offset sync: a source offset and the target offset it became
// (like MM2's offset-syncs topic). With offsets preserved the target log is
// its own progress: the next source offset is the target's log end.

import { LATEST, type KafkaClient } from "../client/client.ts";
import { PartitionReader } from "../client/consumer.ts";
import { CreateTopics } from "../client/apis.ts";
import { check } from "../client/errors.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { Producer } from "../client/producer.ts";

export type CopyMode = "identity" | "map";

export interface ProgressEntry {
  mode: CopyMode;
  /** map: the next source offset to copy and the target offset it goes to. */
  source: bigint;
  target: bigint;
}

const utf8 = new TextDecoder();

export function progressKey(cluster: string, topic: string, partition: number): string {
  return `${cluster}/${topic}/${partition}`;
}

export class ProgressStore {
  readonly entries = new Map<string, ProgressEntry>();

  constructor(
    private readonly target: KafkaClient,
    private readonly topic: string,
  ) {}

  /** Creates the topic if needed and reads every entry. */
  async load(): Promise<void> {
    const conn = await this.target.controller();
    const res = await conn.send(CreateTopics, null, {
      topics: [{ name: this.topic, numPartitions: 1, replicationFactor: -1, assignments: [], configs: [{ name: "cleanup.policy", value: "compact" }] }],
      timeoutMs: 30_000,
      validateOnly: false,
    });
    const r = res.topics[0]!;
    if (r.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) check(r.errorCode, `CreateTopics ${this.topic}`, r.errorMessage);
    const info = await this.target.topic(this.topic);
    const end = (await this.target.listOffsets(info, [0], LATEST)).get(0)!;
    const reader = new PartitionReader(this.target, info, new Map([[0, 0n]]), { maxWaitMs: 100 });
    while (reader.positions.get(0)! < end) {
      for (const rec of await reader.poll()) {
        if (rec.key === null) continue;
        const k = utf8.decode(rec.key);
        if (rec.value === null) {
          this.entries.delete(k);
          continue;
        }
        const v = JSON.parse(utf8.decode(rec.value)) as { mode: CopyMode; source: string; target: string };
        this.entries.set(k, { mode: v.mode, source: BigInt(v.source), target: BigInt(v.target) });
      }
    }
  }

  /** Writes entries (acks=all) and remembers them. */
  async save(updates: Map<string, ProgressEntry>): Promise<void> {
    if (updates.size === 0) return;
    const info = await this.target.topic(this.topic);
    const p = new Producer(this.target, info, { acks: -1 });
    for (const [k, e] of updates) {
      const value = JSON.stringify({ mode: e.mode, source: String(e.source), target: String(e.target) });
      await p.add(0, { key: k, value, timestamp: Date.now() }, k.length + value.length + 32);
    }
    await p.close();
    for (const [k, e] of updates) this.entries.set(k, e);
  }
}
