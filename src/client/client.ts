// A small Kafka client over the generated codecs: one connection per broker,
// opened on demand from the bootstrap list and Metadata, requests routed to
// partition leaders and group coordinators. What the command-line tools need,
// nothing more (no retries beyond a metadata refresh, no batching policy).

import { FindCoordinator, ListOffsets, Metadata } from "./apis.ts";
import { BrokerConnection, ConnectionError } from "./connection.ts";
import { check, KafkaError } from "./errors.ts";

export interface BrokerAddress {
  nodeId: number;
  host: string;
  port: number;
}

export interface PartitionInfo {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  errorCode: number;
}

export interface TopicInfo {
  name: string;
  topicId: string;
  internal: boolean;
  errorCode: number;
  partitions: PartitionInfo[];
}

export interface ClusterMetadata {
  clusterId: string | null;
  controllerId: number;
  brokers: BrokerAddress[];
  topics: TopicInfo[];
}

const LEADER_NOT_AVAILABLE = 5;

/** ListOffsets' special timestamps. */
export const LATEST = -1n;
export const EARLIEST = -2n;

/** Splits `host:port` (IPv6 in brackets); the port defaults to 9092. */
export function parseAddress(s: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+))(?::(\d+))?$/.exec(s.trim());
  if (!m) throw new Error(`bad broker address ${JSON.stringify(s)} (expected HOST:PORT)`);
  const port = m[3] === undefined ? 9092 : Number(m[3]);
  if (port < 1 || port > 65535) throw new Error(`bad port in ${s}`);
  return { host: m[1] ?? m[2]!, port };
}

export class KafkaClient {
  private readonly bootstrap: { host: string; port: number }[];
  private readonly byNode = new Map<number, Promise<BrokerConnection>>();
  private readonly addresses = new Map<number, BrokerAddress>();
  private any: Promise<BrokerConnection> | null = null;

  constructor(
    bootstrap: string,
    readonly clientId = "klite-cli",
  ) {
    this.bootstrap = bootstrap.split(",").filter((s) => s.trim() !== "").map(parseAddress);
    if (this.bootstrap.length === 0) throw new Error("no bootstrap address");
  }

  /** A connection to any live broker, the first bootstrap address that answers. */
  async anyBroker(): Promise<BrokerConnection> {
    const c = this.any ? await this.any.catch(() => null) : null;
    if (c && !c.closed) return c;
    this.any = (async () => {
      let last: Error | null = null;
      for (const b of this.bootstrap) {
        try {
          return await BrokerConnection.open(b.host, b.port, this.clientId);
        } catch (e) {
          last = e as Error;
        }
      }
      throw last ?? new ConnectionError("no bootstrap address answered");
    })();
    return this.any;
  }

  /** The connection to a broker by node id, opened at the address Metadata gave. */
  async broker(nodeId: number): Promise<BrokerConnection> {
    const existing = this.byNode.get(nodeId);
    if (existing) {
      const c = await existing.catch(() => null);
      if (c && !c.closed) return c;
    }
    if (!this.addresses.has(nodeId)) await this.metadata([]);
    const addr = this.addresses.get(nodeId);
    if (!addr) throw new Error(`broker ${nodeId} is not in the cluster metadata`);
    const opening = BrokerConnection.open(addr.host, addr.port, this.clientId);
    this.byNode.set(nodeId, opening);
    return opening;
  }

  /** Metadata for `topics` (null = every topic). Unknown topics come back with their error code. */
  async metadata(topics: string[] | null, allowAutoTopicCreation = false): Promise<ClusterMetadata> {
    const conn = await this.anyBroker();
    const res = await conn.send(Metadata, null, {
      topics: topics === null ? null : topics.map((name) => ({ name })),
      allowAutoTopicCreation,
    });
    for (const b of res.brokers) this.addresses.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port });
    return {
      clusterId: res.clusterId,
      controllerId: res.controllerId,
      brokers: res.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port })),
      topics: res.topics.map((t) => ({
        name: t.name ?? "",
        topicId: t.topicId,
        internal: t.isInternal,
        errorCode: t.errorCode,
        partitions: t.partitions
          .map((p) => ({ partition: p.partitionIndex, leader: p.leaderId, leaderEpoch: p.leaderEpoch, replicas: p.replicaNodes, isr: p.isrNodes, errorCode: p.errorCode }))
          .sort((a, b) => a.partition - b.partition),
      })),
    };
  }

  /**
   * One topic's metadata; a missing topic is a KafkaError. A topic just created
   * (here by auto-creation, or by a CreateTopics a moment ago) may have no
   * leaders yet on a Kafka cluster: that is waited out for up to `waitMs`.
   */
  async topic(name: string, allowAutoTopicCreation = false, waitMs = 10_000): Promise<TopicInfo> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const md = await this.metadata([name], allowAutoTopicCreation);
      const t = md.topics.find((x) => x.name === name);
      if (!t) throw new KafkaError(3, `Metadata ${name}`);
      const settling = t.errorCode === LEADER_NOT_AVAILABLE || (t.errorCode === 0 && (t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0)));
      if (settling && Date.now() < deadline) {
        await Bun.sleep(100);
        continue;
      }
      check(t.errorCode, `Metadata ${name}`);
      return t;
    }
  }

  /** The controller, where admin requests go (any broker forwards them in KRaft, but Kafka 2.x wants the controller). */
  async controller(): Promise<BrokerConnection> {
    const md = await this.metadata([]);
    return md.controllerId >= 0 && this.addresses.has(md.controllerId) ? this.broker(md.controllerId) : this.anyBroker();
  }

  /** The coordinator of a consumer group (key type 0). */
  async coordinator(group: string): Promise<BrokerConnection> {
    const conn = await this.anyBroker();
    const v = conn.version(FindCoordinator);
    for (let attempt = 0; ; attempt++) {
      const res = await conn.send(FindCoordinator, v, v >= 4 ? { keyType: 0, coordinatorKeys: [group] } : { key: group, keyType: 0 });
      const c = v >= 4 ? res.coordinators[0] : res;
      if (!c) throw new Error(`FindCoordinator ${group}: empty answer`);
      // The coordinator may still be loading or electing; Kafka clients retry these.
      if ((c.errorCode === 14 || c.errorCode === 15) && attempt < 50) {
        await Bun.sleep(100);
        continue;
      }
      check(c.errorCode, `FindCoordinator ${group}`, c.errorMessage);
      this.addresses.set(c.nodeId, { nodeId: c.nodeId, host: c.host, port: c.port });
      return this.broker(c.nodeId);
    }
  }

  /**
   * Offsets of partitions of one topic at `timestamp` (LATEST, EARLIEST or a time in ms),
   * asking each partition's leader. A time after the last record answers -1.
   */
  async listOffsets(topic: TopicInfo, partitions: number[], timestamp: bigint, isolationLevel = 0): Promise<Map<number, bigint>> {
    const byLeader = new Map<number, number[]>();
    for (const p of partitions) {
      const info = topic.partitions.find((x) => x.partition === p);
      if (!info) throw new KafkaError(3, `ListOffsets ${topic.name}-${p}`);
      const list = byLeader.get(info.leader) ?? [];
      list.push(p);
      byLeader.set(info.leader, list);
    }
    const out = new Map<number, bigint>();
    await Promise.all(
      [...byLeader].map(async ([leader, ps]) => {
        const conn = await this.broker(leader);
        const res = await conn.send(ListOffsets, null, {
          replicaId: -1,
          isolationLevel,
          topics: [{ name: topic.name, partitions: ps.map((p) => ({ partitionIndex: p, timestamp, currentLeaderEpoch: -1 })) }],
        });
        for (const t of res.topics) {
          for (const p of t.partitions) {
            check(p.errorCode, `ListOffsets ${topic.name}-${p.partitionIndex}`);
            out.set(p.partitionIndex, p.offset);
          }
        }
      }),
    );
    return out;
  }

  close(): void {
    for (const c of this.byNode.values()) c.then((x) => x.close(), () => {});
    this.any?.then((x) => x.close(), () => {});
  }
}
