// Sends records to one topic: accumulates them per partition into record
// batches (src/protocol/records.ts builds them), one Produce request per
// leader per flush, with up to `maxInFlight` requests outstanding on each
// connection. Not idempotent: a failed request fails the whole run.

import { buildBatch, type RecordInit } from "../protocol/records.ts";
import { Produce } from "./apis.ts";
import type { KafkaClient, TopicInfo } from "./client.ts";
import type { BrokerConnection } from "./connection.ts";
import { KafkaError } from "./errors.ts";

export interface ProducerOptions {
  /** 0, 1 or -1 (all). */
  acks: number;
  /** Compression codec id (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd). */
  codec: number;
  /** A partition's records are sent once they reach this many bytes (or at flush). */
  batchBytes: number;
  maxInFlight: number;
  timeoutMs: number;
  /** Called when a request is acknowledged, with its record count and its round trip in ms. */
  onAck?: (records: number, bytes: number, latencyMs: number) => void;
}

/** Kafka's default max.message.bytes (1048588) less room for the batch header. */
export const DEFAULT_PRODUCER: ProducerOptions = { acks: -1, codec: 0, batchBytes: 1_000_000, maxInFlight: 5, timeoutMs: 30_000 };
/** The batch header (61 bytes) and then some. */
const BATCH_HEADER_ALLOWANCE = 128;
/** What a record costs beyond its key, value and headers: length, attributes, deltas and lengths as varints. */
export const RECORD_OVERHEAD = 32;

interface Pending {
  records: RecordInit[];
  bytes: number;
}

export class Producer {
  private readonly pending = new Map<number, Pending>();
  private readonly inFlight = new Map<BrokerConnection, Promise<void>[]>();
  private failure: Error | null = null;
  private readonly options: ProducerOptions;
  /** Acknowledged base offset of the last request per partition (not with acks=0). */
  readonly lastOffsets = new Map<number, bigint>();

  constructor(
    private readonly client: KafkaClient,
    private readonly topic: TopicInfo,
    options: Partial<ProducerOptions> = {},
  ) {
    this.options = { ...DEFAULT_PRODUCER, ...options };
  }

  get partitions(): number {
    return this.topic.partitions.length;
  }

  /**
   * Queues a record (`size`: its bytes, a little over rather than under); a
   * partition's batch is sent before this record would take it past batchBytes,
   * so batches stay under the topic's max.message.bytes when batchBytes does.
   */
  async add(partition: number, record: RecordInit, size: number): Promise<void> {
    if (this.failure) throw this.failure;
    let p = this.pending.get(partition);
    if (p && p.records.length > 0 && p.bytes + size > this.options.batchBytes - BATCH_HEADER_ALLOWANCE) {
      await this.send([partition]);
      p = undefined;
    }
    if (!p) this.pending.set(partition, (p = { records: [], bytes: 0 }));
    p.records.push(record);
    p.bytes += size;
    // Full when another record like this one would not fit: send it now rather than when the next one comes.
    if (p.bytes + size > this.options.batchBytes - BATCH_HEADER_ALLOWANCE) await this.send([partition]);
  }

  /** Sends everything queued (one request per leader). */
  async flush(): Promise<void> {
    if (this.pending.size) await this.send([...this.pending.keys()]);
  }

  /** Flushes and waits for every request to be acknowledged. */
  async close(): Promise<void> {
    await this.flush();
    for (const [conn, list] of this.inFlight) {
      await Promise.allSettled(list);
      // acks=0 requests have no answer to wait for: wait until they are at least in the kernel's hands.
      await conn.drained();
    }
    if (this.failure) throw this.failure;
  }

  private async send(partitions: number[]): Promise<void> {
    const byLeader = new Map<number, { partition: number; batch: Uint8Array; count: number }[]>();
    for (const partition of partitions) {
      const p = this.pending.get(partition);
      if (!p || p.records.length === 0) continue;
      this.pending.delete(partition);
      const info = this.topic.partitions.find((x) => x.partition === partition);
      if (!info) throw new KafkaError(3, `Produce ${this.topic.name}-${partition}`);
      const list = byLeader.get(info.leader) ?? [];
      list.push({ partition, batch: buildBatch({ records: p.records, codec: this.options.codec }), count: p.records.length });
      byLeader.set(info.leader, list);
    }
    for (const [leader, list] of byLeader) {
      const conn = await this.client.broker(leader);
      const queue = this.inFlight.get(conn) ?? [];
      this.inFlight.set(conn, queue);
      while (queue.length >= this.options.maxInFlight) await queue.shift();
      if (this.failure) throw this.failure;
      const body = {
        acks: this.options.acks,
        timeoutMs: this.options.timeoutMs,
        transactionalId: null,
        topicData: [{ name: this.topic.name, partitionData: list.map((x) => ({ index: x.partition, records: x.batch })) }],
      };
      const count = list.reduce((n, x) => n + x.count, 0);
      const bytes = list.reduce((n, x) => n + x.batch.length, 0);
      if (this.options.acks === 0) {
        conn.sendOneWay(Produce, null, body);
        this.options.onAck?.(count, bytes, 0);
        continue;
      }
      const started = performance.now();
      queue.push(
        conn.send(Produce, null, body).then(
          (res) => {
            for (const t of res.responses) {
              for (const r of t.partitionResponses) {
                if (r.errorCode !== 0) throw new KafkaError(r.errorCode, `Produce ${this.topic.name}-${r.index}`, r.errorMessage);
                this.lastOffsets.set(r.index, r.baseOffset);
              }
            }
            this.options.onAck?.(count, bytes, performance.now() - started);
          },
        ).catch((e: Error) => {
          this.failure ??= e;
        }),
      );
    }
    if (this.failure) throw this.failure;
  }
}
