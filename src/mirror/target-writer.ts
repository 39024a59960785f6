// Produces copied batches to the target, pipelined: request i to a target
// broker carries the i-th waiting batch of each of its partitions, and up to
// `maxInFlight` requests are outstanding per broker. A broker handles one
// connection's requests in order, and the mirror's idempotent producer id
// with per-partition sequences makes any lost or reordered request fail the
// ones after it (OUT_OF_ORDER_SEQUENCE) instead of leaving a hole. Any error
// fails the writer: the mirror then starts over from what the target holds.

import { Produce } from "../client/apis.ts";
import type { KafkaClient } from "../client/client.ts";
import type { BrokerConnection } from "../client/connection.ts";
import { KafkaError } from "../client/errors.ts";

export interface OutgoingBatch {
  bytes: Uint8Array;
  /** Source offset after the batch. */
  sourceNext: bigint;
  records: number;
}

export interface WriterPartition {
  topic: string;
  partition: number;
  targetLeader: number;
  queue: OutgoingBatch[];
  /** Sent and not yet acknowledged. */
  sending: number;
}

export class TargetWriter {
  private readonly parts = new Set<WriterPartition>();
  private readonly inFlight = new Map<number, number>();
  private failure: Error | null = null;
  private waiters: (() => void)[] = [];
  bytesWritten = 0;
  recordsWritten = 0;

  constructor(
    private readonly client: KafkaClient,
    private readonly maxInFlight: number,
    private readonly onAck: (p: WriterPartition, b: OutgoingBatch, targetBase: bigint) => void,
  ) {}

  get error(): Error | null {
    return this.failure;
  }

  /** Batches queued or in flight. */
  get backlog(): number {
    let n = 0;
    for (const p of this.parts) n += p.queue.length + p.sending;
    return n;
  }

  push(p: WriterPartition, b: OutgoingBatch): void {
    this.parts.add(p);
    p.queue.push(b);
  }

  /** Sends what the in-flight limit allows. */
  pump(): void {
    if (this.failure) throw this.failure;
    const byLeader = new Map<number, WriterPartition[]>();
    for (const p of this.parts) {
      if (p.queue.length === 0) continue;
      const l = byLeader.get(p.targetLeader) ?? [];
      l.push(p);
      byLeader.set(p.targetLeader, l);
    }
    for (const [leader, parts] of byLeader) void this.pumpLeader(leader, parts);
  }

  private async pumpLeader(leader: number, parts: WriterPartition[]): Promise<void> {
    let conn: BrokerConnection;
    try {
      conn = await this.client.broker(leader);
    } catch (e) {
      this.fail(e as Error);
      return;
    }
    while (!this.failure && (this.inFlight.get(leader) ?? 0) < this.maxInFlight) {
      const batch: [WriterPartition, OutgoingBatch][] = [];
      for (const p of parts) {
        const b = p.queue.shift();
        if (!b) continue;
        p.sending++;
        batch.push([p, b]);
      }
      if (batch.length === 0) return;
      this.inFlight.set(leader, (this.inFlight.get(leader) ?? 0) + 1);
      const byTopic = new Map<string, { index: number; records: Uint8Array }[]>();
      for (const [p, b] of batch) {
        const l = byTopic.get(p.topic) ?? [];
        l.push({ index: p.partition, records: b.bytes });
        byTopic.set(p.topic, l);
      }
      conn
        .send(Produce, null, { acks: -1, timeoutMs: 30_000, transactionalId: null, topicData: [...byTopic].map(([name, partitionData]) => ({ name, partitionData })) })
        .then((res) => {
          for (const t of res.responses) {
            for (const r of t.partitionResponses) {
              const hit = batch.find(([p]) => p.topic === t.name && p.partition === r.index);
              if (!hit) continue;
              if (r.errorCode !== 0) throw new KafkaError(r.errorCode, `Produce ${t.name}-${r.index}`, r.errorMessage);
              hit[0].sending--;
              this.bytesWritten += hit[1].bytes.length;
              this.recordsWritten += hit[1].records;
              this.onAck(hit[0], hit[1], r.baseOffset);
            }
          }
        })
        .catch((e: Error) => this.fail(e))
        .finally(() => {
          this.inFlight.set(leader, (this.inFlight.get(leader) ?? 1) - 1);
          this.wake();
          if (!this.failure) void this.pumpLeader(leader, parts);
        });
    }
  }

  /** Produce requests sent and not answered yet. */
  get requestsInFlight(): number {
    let n = 0;
    for (const v of this.inFlight.values()) n += v;
    return n;
  }

  /**
   * Waits (at most `ms`) until every request sent has its answer, failed or
   * not, so that a new session reading the target's log end sees their effect.
   */
  async settle(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.requestsInFlight > 0 && Date.now() < deadline) {
      await Promise.race([new Promise<void>((r) => this.waiters.push(r)), Bun.sleep(Math.max(1, deadline - Date.now()))]);
    }
  }

  /** Resolves when a request completes (or the writer failed). */
  changed(): Promise<void> {
    if (this.failure) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private fail(e: Error): void {
    this.failure ??= e;
    this.wake();
  }
}
