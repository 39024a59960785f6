// Client quotas: DescribeClientQuotas / AlterClientQuotas over the wire (every
// version, Kafka's validation and filters, persistence across kill -9) and
// through @platformatic/kafka's admin API (librdkafka, KafkaJS and
// confluent-kafka-python have none); a produce quota holding the producers of
// the current librdkafka and of 2.0.2; request and fetch throttling.

import { describe, expect, test } from "bun:test";
import { spawnBroker } from "../helpers/broker.ts";
import { connectWire, type WireClient } from "../helpers/wire-client.ts";
import { CLIENT_TEST_TIMEOUT, missing, nodeClient, platformatic, py } from "../helpers/clients.ts";
import { ErrorCode } from "../../src/protocol/errors.ts";
import { buildBatch } from "../../src/protocol/records.ts";

type Entity = { entityType: string; entityName: string | null }[];
type AlterRes = { entries: { errorCode: number; errorMessage: string | null; entity: Entity }[] };
type DescribeRes = { errorCode: number; errorMessage: string | null; entries: { entity: Entity; values: { key: string; value: number }[] }[] | null };

function alter(w: WireClient, v: number, entries: { entity: Entity; ops: { key: string; value?: number; remove?: boolean }[] }[], validateOnly = false) {
  return w.call<AlterRes>(49, v, { entries: entries.map((e) => ({ entity: e.entity, ops: e.ops.map((o) => ({ key: o.key, value: o.value ?? 0, remove: o.remove ?? false })) })), validateOnly });
}
function describeQuotas(w: WireClient, v: number, components: { entityType: string; matchType: number; match: string | null }[], strict = false) {
  return w.call<DescribeRes>(48, v, { components, strict });
}
const names = (r: DescribeRes) => (r.entries ?? []).map((e) => e.entity.map((x) => `${x.entityType}=${x.entityName ?? "<default>"}`).sort().join(",")).sort();

describe("client quota admin", () => {
  for (const v of [0, 1]) {
    test(`AlterClientQuotas / DescribeClientQuotas v${v}: entities, defaults, filters, Kafka's validation, kept across a restart`, async () => {
      let broker = await spawnBroker();
      let w = await connectWire(broker.port);
      try {
        const ok = await alter(w, v, [
          { entity: [{ entityType: "user", entityName: "alice" }], ops: [{ key: "producer_byte_rate", value: 1024 }] },
          { entity: [{ entityType: "user", entityName: "alice" }, { entityType: "client-id", entityName: "app" }], ops: [{ key: "consumer_byte_rate", value: 2048 }] },
          { entity: [{ entityType: "user", entityName: null }], ops: [{ key: "request_percentage", value: 12.5 }] },
          { entity: [{ entityType: "client-id", entityName: null }], ops: [{ key: "producer_byte_rate", value: 4096 }] },
        ]);
        expect(ok.entries.map((e) => e.errorCode)).toEqual([0, 0, 0, 0]);
        const bad = await alter(w, v, [
          { entity: [{ entityType: "user", entityName: "bob" }], ops: [{ key: "no_such_quota", value: 1 }] },
          { entity: [{ entityType: "user", entityName: "bob2" }], ops: [{ key: "producer_byte_rate", value: 10.5 }] },
          { entity: [{ entityType: "user", entityName: "bob3" }], ops: [{ key: "producer_byte_rate", value: 0 }] },
          { entity: [{ entityType: "group", entityName: "g" }], ops: [{ key: "producer_byte_rate", value: 1 }] },
          { entity: [], ops: [{ key: "producer_byte_rate", value: 1 }] },
          { entity: [{ entityType: "user", entityName: "" }], ops: [{ key: "producer_byte_rate", value: 1 }] },
          { entity: [{ entityType: "user", entityName: "bob4" }], ops: [{ key: "producer_byte_rate", value: 1 }, { key: "producer_byte_rate", value: 2 }] },
        ]);
        expect(bad.entries.map((e) => e.errorCode)).toEqual(Array(7).fill(ErrorCode.INVALID_REQUEST));
        expect(bad.entries[0]!.errorMessage).toBe("Invalid configuration key no_such_quota");
        expect(bad.entries[1]!.errorMessage).toBe("producer_byte_rate cannot be a fractional value.");
        expect(bad.entries[2]!.errorMessage).toBe("Quota producer_byte_rate must be greater than 0");
        expect(bad.entries[3]!.errorMessage).toBe("Unhandled client quota entity type: group");
        // validate_only changes nothing.
        expect((await alter(w, v, [{ entity: [{ entityType: "user", entityName: "carol" }], ops: [{ key: "producer_byte_rate", value: 1 }] }], true)).entries[0]!.errorCode).toBe(0);

        expect(names(await describeQuotas(w, v, []))).toEqual(["client-id=<default>", "client-id=app,user=alice", "user=<default>", "user=alice"]);
        // Exact name, non-strict: alice alone and alice with a client id.
        expect(names(await describeQuotas(w, v, [{ entityType: "user", matchType: 0, match: "alice" }]))).toEqual(["client-id=app,user=alice", "user=alice"]);
        expect(names(await describeQuotas(w, v, [{ entityType: "user", matchType: 0, match: "alice" }], true))).toEqual(["user=alice"]);
        // Default name; any specified name (defaults included, as Kafka matches the type).
        expect(names(await describeQuotas(w, v, [{ entityType: "user", matchType: 1, match: null }]))).toEqual(["user=<default>"]);
        expect(names(await describeQuotas(w, v, [{ entityType: "client-id", matchType: 2, match: null }]))).toEqual(["client-id=<default>", "client-id=app,user=alice"]);
        const values = (await describeQuotas(w, v, [{ entityType: "user", matchType: 1, match: null }])).entries![0]!.values;
        expect(values).toEqual([{ key: "request_percentage", value: 12.5 }]);
        // Filter errors are the response's.
        const dup = await describeQuotas(w, v, [{ entityType: "user", matchType: 2, match: null }, { entityType: "user", matchType: 1, match: null }]);
        expect(dup.errorCode).toBe(ErrorCode.INVALID_REQUEST);
        expect((await describeQuotas(w, v, [{ entityType: "topic", matchType: 2, match: null }])).errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);

        // Removal drops the key; an entity left without keys is gone.
        expect((await alter(w, v, [{ entity: [{ entityType: "client-id", entityName: null }], ops: [{ key: "producer_byte_rate", remove: true }] }])).entries[0]!.errorCode).toBe(0);
        w.close();
        await broker.kill9();
        broker = await broker.restart();
        w = await connectWire(broker.port);
        expect(names(await describeQuotas(w, v, []))).toEqual(["client-id=app,user=alice", "user=<default>", "user=alice"]);
      } finally {
        w.close();
        await broker.cleanup();
      }
    }, 60_000);
  }
});

describe("produce quota", () => {
  type Rate = { ms: number; deliveredInTime: number; perSecond: unknown; throttleMax: number; throttleEvents: number };
  const QUOTA = 1_000_000;
  // Kafka's rate is measured over 11 one-second samples and lets a client
  // burst up to ~10 s of quota before the first throttle; the rate then holds
  // over whole windows. Measured over two of them.
  const SECONDS = 22;

  /** Sets the quota through @platformatic/kafka's admin API (and reads it back), runs `producer`, checks the rate. */
  async function holds(name: string, clientId: string, producer: (bootstrap: string) => Promise<Rate>) {
    const broker = await spawnBroker({ args: ["--fsync", "never"] });
    try {
      const set = await platformatic<{ altered: number[]; refused: unknown; described: { entity: Entity; values: { key: string; value: number }[] }[] }>("admin.mjs", broker.bootstrap, ["quota", clientId, "producer_byte_rate", String(QUOTA)]);
      expect(set.altered).toEqual([0]);
      expect(set.refused).toEqual([[ErrorCode.INVALID_REQUEST, "Invalid configuration key no_such_quota"]]);
      expect(set.described).toEqual([{ entity: [{ entityType: "client-id", entityName: clientId }], values: [{ key: "producer_byte_rate", value: QUOTA }] }]);
      const r = await producer(broker.bootstrap);
      const rate = r.deliveredInTime / (r.ms / 1000);
      console.log(`produce quota ${QUOTA} B/s, ${name}: delivered ${rate.toFixed(0)} B/s over ${SECONDS} s (${((rate / QUOTA - 1) * 100).toFixed(1)}%), max throttle ${r.throttleMax} ms, ${r.throttleEvents} throttle events; per second ${JSON.stringify(r.perSecond)}`);
      expect(rate).toBeGreaterThan(QUOTA * 0.8);
      expect(rate).toBeLessThan(QUOTA * 1.2);
      expect(r.throttleMax).toBeGreaterThan(0);
      expect(r.throttleEvents).toBeGreaterThan(0);
    } finally {
      await broker.cleanup();
    }
  }

  test.concurrent.skipIf(missing("ckjs"))("1 MB/s on a client id holds librdkafka 2.15's producer to it, with throttle times reported", () =>
    holds("librdkafka 2.15", "quota-ckjs", async (bootstrap) =>
      (await nodeClient<{ result: Rate }>("ckjs", "quota.mjs", bootstrap, ["rate", "quota-topic", String(SECONDS), "10000", "quota-ckjs"], { timeoutMs: 90_000 })).result,
    ), CLIENT_TEST_TIMEOUT);

  test.concurrent.skipIf(missing("python"))("1 MB/s on a client id holds librdkafka 2.0.2's producer (confluent-kafka-python) to it, with throttle times reported", () =>
    holds("librdkafka 2.0.2", "quota-py", (bootstrap) => py<Rate>("quota.py", bootstrap, ["rate", "quota-topic", String(SECONDS), "10000", "quota-py"], { timeoutMs: 90_000 })),
    CLIENT_TEST_TIMEOUT);
});

describe("throttling over the wire", () => {
  test("request_percentage: throttle_time_ms (bounded by one window), KIP-219 versions muted, older ones answered late", async () => {
    const broker = await spawnBroker();
    const admin = await connectWire(broker.port);
    const busy = await connectWire(broker.port, "busy");
    const old = await connectWire(broker.port, "busy-old");
    try {
      for (const client of ["busy", "busy-old"]) {
        const set = await alter(admin, 1, [{ entity: [{ entityType: "client-id", entityName: client }], ops: [{ key: "request_percentage", value: 0.01 }] }]);
        expect(set.entries[0]!.errorCode).toBe(0);
      }
      const metadata = (w: WireClient, v: number) => w.call<{ throttleTimeMs: number }>(3, v, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      // Metadata v12 (clients throttle themselves): answered at once, then nothing is read for the throttle time.
      let throttle = 0;
      for (let i = 0; i < 2000 && throttle === 0; i++) throttle = (await metadata(busy, 12)).throttleTimeMs;
      expect(throttle).toBeGreaterThan(0);
      expect(throttle).toBeLessThanOrEqual(1000);
      const t0 = performance.now();
      await metadata(busy, 12);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(throttle - 5);
      // Metadata v4 (before KIP-219): the throttled response itself comes late.
      let late = 0;
      let took = 0;
      for (let i = 0; i < 2000 && late === 0; i++) {
        const t = performance.now();
        late = (await metadata(old, 4)).throttleTimeMs;
        took = performance.now() - t;
      }
      expect(late).toBeGreaterThan(0);
      expect(took).toBeGreaterThanOrEqual(late - 5);
      // Another client id is not throttled.
      expect((await metadata(admin, 12)).throttleTimeMs).toBe(0);
    } finally {
      for (const w of [admin, busy, old]) w.close();
      await broker.cleanup();
    }
  }, 60_000);

  test("consumer_byte_rate: a fetch asks no more than the quota's window allows, and one over it is answered empty with its throttle time", async () => {
    const broker = await spawnBroker();
    const admin = await connectWire(broker.port);
    const consumer = await connectWire(broker.port, "slow-consumer");
    try {
      const value = "v".repeat(10_000);
      for (let i = 0; i < 3; i++) {
        const r = await admin.call<{ responses: { partitionResponses: { errorCode: number }[] }[] }>(0, 9, {
          acks: -1,
          timeoutMs: 5000,
          topicData: [{ name: "metered", partitionData: [{ index: 0, records: buildBatch({ records: [{ value }] }) }] }],
        });
        expect(r.responses[0]!.partitionResponses[0]!.errorCode).toBe(0);
      }
      // 2,000 B/s: at most 20,000 bytes in a fetch, so one batch of about 10 KB (two would not fit).
      await alter(admin, 1, [{ entity: [{ entityType: "client-id", entityName: "slow-consumer" }], ops: [{ key: "consumer_byte_rate", value: 2000 }] }]);
      type FetchRes = { throttleTimeMs: number; responses: { partitions: { records: Uint8Array | null }[] }[] };
      const fetch = (offset: bigint) =>
        consumer.call<FetchRes>(1, 12, {
          replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 10 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
          topics: [{ topic: "metered", partitions: [{ partition: 0, fetchOffset: offset, partitionMaxBytes: 10 << 20, currentLeaderEpoch: -1, logStartOffset: -1n, lastFetchedEpoch: -1 }] }],
          forgottenTopicsData: [], rackId: "",
        });
      const first = await fetch(0n);
      expect(first.throttleTimeMs).toBe(0);
      const got = first.responses[0]!.partitions[0]!.records!.length;
      expect(got).toBeGreaterThan(10_000);
      expect(got).toBeLessThan(20_000);
      // The next ~10 KB takes the client over 2,000 B/s measured over 10 s: empty, throttled.
      const second = await fetch(1n);
      expect(second.throttleTimeMs).toBeGreaterThan(0);
      expect(second.responses).toEqual([]);
    } finally {
      admin.close();
      consumer.close();
      await broker.cleanup();
    }
  }, 60_000);
});
