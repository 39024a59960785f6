// Reads partitions of one topic from given positions: one Fetch per leader
// per poll, all leaders at once, records handed out in offset order per
// partition. Which partitions and from where is the caller's business (a
// group member's assignment, or --partition and --from).

import type { KafkaRecord } from "../protocol/records.ts";
import { Fetch } from "./apis.ts";
import type { KafkaClient, TopicInfo } from "./client.ts";
import { KafkaError } from "./errors.ts";
import { recordsFrom } from "./fetched.ts";

export interface ConsumerOptions {
  /** 0 read_uncommitted, 1 read_committed. */
  isolationLevel: number;
  maxWaitMs: number;
  maxBytes: number;
  partitionMaxBytes: number;
}

export const DEFAULT_CONSUMER: ConsumerOptions = { isolationLevel: 0, maxWaitMs: 500, maxBytes: 52_428_800, partitionMaxBytes: 1_048_576 };

export interface ConsumedRecord extends KafkaRecord {
  partition: number;
}

export class PartitionReader {
  private readonly options: ConsumerOptions;
  /** Bytes of record batches received, for the bench. */
  bytesFetched = 0;

  constructor(
    private readonly client: KafkaClient,
    readonly topic: TopicInfo,
    /** Next offset to read per partition; partitions absent are not read. */
    readonly positions: Map<number, bigint>,
    options: Partial<ConsumerOptions> = {},
  ) {
    this.options = { ...DEFAULT_CONSUMER, ...options };
  }

  /** One round of fetches over `partitions` (default: every positioned one), decoded. */
  async poll(partitions: number[] = [...this.positions.keys()]): Promise<ConsumedRecord[]> {
    const out: ConsumedRecord[] = [];
    for (const f of await this.fetch(partitions)) {
      const got = recordsFrom(f.records, f.from, this.options.isolationLevel === 1 ? f.aborted : null);
      for (const r of got.records) out.push(Object.assign(r, { partition: f.partition }));
      this.positions.set(f.partition, got.nextOffset);
    }
    return out;
  }

  /**
   * One round of fetches, undecoded: the caller must call `advance` for each
   * partition (the bench counts records from batch headers only).
   */
  async fetch(partitions: number[] = [...this.positions.keys()]): Promise<RawPartition[]> {
    const byLeader = new Map<number, number[]>();
    for (const p of partitions) {
      const info = this.topic.partitions.find((x) => x.partition === p);
      if (!info) throw new KafkaError(3, `Fetch ${this.topic.name}-${p}`);
      const list = byLeader.get(info.leader) ?? [];
      list.push(p);
      byLeader.set(info.leader, list);
    }
    const answers = await Promise.all([...byLeader].map(([leader, ps]) => this.fetchFrom(leader, ps)));
    return answers.flat();
  }

  private async fetchFrom(leader: number, partitions: number[]): Promise<RawPartition[]> {
    const conn = await this.client.broker(leader);
    const res = await conn.send(Fetch, null, {
      replicaId: -1,
      maxWaitMs: this.options.maxWaitMs,
      minBytes: 1,
      maxBytes: this.options.maxBytes,
      isolationLevel: this.options.isolationLevel,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic: this.topic.name,
          partitions: partitions.map((p) => ({ partition: p, fetchOffset: this.positions.get(p)!, partitionMaxBytes: this.options.partitionMaxBytes, currentLeaderEpoch: -1, logStartOffset: -1n })),
        },
      ],
      forgottenTopicsData: [],
      rackId: "",
    });
    if (res.errorCode !== 0) throw new KafkaError(res.errorCode, `Fetch ${this.topic.name}`);
    const out: RawPartition[] = [];
    for (const t of res.responses) {
      for (const pd of t.partitions) {
        const p = pd.partitionIndex;
        if (pd.errorCode !== 0) throw new KafkaError(pd.errorCode, `Fetch ${this.topic.name}-${p} at offset ${this.positions.get(p)}`);
        this.bytesFetched += pd.records?.length ?? 0;
        out.push({ partition: p, from: this.positions.get(p)!, records: pd.records, aborted: pd.abortedTransactions ?? [], highWatermark: pd.highWatermark });
      }
    }
    return out;
  }
}

export interface RawPartition {
  partition: number;
  /** The fetch offset asked for. */
  from: bigint;
  records: Uint8Array | null;
  aborted: { producerId: bigint; firstOffset: bigint }[];
  highWatermark: bigint;
}
