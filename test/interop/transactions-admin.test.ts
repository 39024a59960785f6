// DescribeProducers, DescribeTransactions and ListTransactions over TCP with
// the generated codecs, against state built by real InitProducerId,
// AddPartitionsToTxn, Produce and EndTxn requests. (Neither confluent-kafka-
// python 2.0.2 nor @confluentinc/kafka-javascript 1.10.1 exposes these admin
// calls, so there is no real-client check here.)

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ErrorCode } from "../../src/protocol/errors.ts";
import { rmSync } from "node:fs";
import { inProcessBroker, tempDir, type InProcessBroker } from "../helpers/broker.ts";
import { connectWire, producerBatch, type WireClient } from "../helpers/wire-client.ts";
import type * as DescribeProducersResponse from "../../generated/DescribeProducersResponse.ts";
import type * as DescribeTransactionsResponse from "../../generated/DescribeTransactionsResponse.ts";
import type * as ListTransactionsResponse from "../../generated/ListTransactionsResponse.ts";
import type * as ApiVersionsResponse from "../../generated/ApiVersionsResponse.ts";

const TOPIC = "ta";

let b: InProcessBroker;
let c: WireClient;
const pids: Record<string, number> = {};
let started = 0;

async function initPid(transactionalId: string | null): Promise<number> {
  const r = await c.call<{ errorCode: number; producerId: bigint; producerEpoch: number }>(22, 4, { transactionalId, transactionTimeoutMs: 60_000 });
  expect(r.errorCode).toBe(0);
  return Number(r.producerId);
}

async function produce(transactionalId: string | null, partition: number, pid: number, sequence: number, values: string[]): Promise<number> {
  const records = producerBatch({ producerId: pid, epoch: 0, sequence, values, transactional: transactionalId !== null });
  const r = await c.call<{ responses: { partitionResponses: { errorCode: number; baseOffset: bigint }[] }[] }>(0, 9, {
    transactionalId,
    acks: -1,
    timeoutMs: 5000,
    topicData: [{ name: TOPIC, partitionData: [{ index: partition, records }] }],
  });
  const p = r.responses[0]!.partitionResponses[0]!;
  expect(p.errorCode).toBe(0);
  return Number(p.baseOffset);
}

async function addPartitions(transactionalId: string, pid: number, partitions: number[]): Promise<void> {
  const r = await c.call<{ resultsByTopicV3AndBelow: { resultsByPartition: { partitionErrorCode: number }[] }[] }>(24, 3, {
    v3AndBelowTransactionalId: transactionalId,
    v3AndBelowProducerId: BigInt(pid),
    v3AndBelowProducerEpoch: 0,
    v3AndBelowTopics: [{ name: TOPIC, partitions }],
  });
  for (const p of r.resultsByTopicV3AndBelow[0]!.resultsByPartition) expect(p.partitionErrorCode).toBe(0);
}

async function endTxn(transactionalId: string, pid: number, committed: boolean): Promise<void> {
  const r = await c.call<{ errorCode: number }>(26, 3, { transactionalId, producerId: BigInt(pid), producerEpoch: 0, committed });
  expect(r.errorCode).toBe(0);
}

const listTx = (version: number, body: object) => c.call<ListTransactionsResponse.ListTransactionsResponse>(66, version, body);
const ids = (r: ListTransactionsResponse.ListTransactionsResponse) => r.transactionStates.map((t) => t.transactionalId).sort();

beforeAll(async () => {
  b = await inProcessBroker();
  b.broker.topics.create(TOPIC, 2, {});
  c = await connectWire(b.port);
  started = Date.now();
  // An idempotent producer: five records on partition 0, sequences 0-4.
  pids.idem = await initPid(null);
  expect(await produce(null, 0, pids.idem, 0, ["i0", "i1", "i2"])).toBe(0);
  expect(await produce(null, 0, pids.idem, 3, ["i3", "i4"])).toBe(3);
  // tx-a stays open on both partitions, with records on partition 0 only.
  pids.a = await initPid("tx-a");
  await addPartitions("tx-a", pids.a, [0, 1]);
  expect(await produce("tx-a", 0, pids.a, 0, ["a0", "a1"])).toBe(5);
  // tx-b commits on partition 1, tx-d aborts there, tx-c never starts.
  pids.b = await initPid("tx-b");
  await addPartitions("tx-b", pids.b, [1]);
  await produce("tx-b", 1, pids.b, 0, ["b0"]);
  await endTxn("tx-b", pids.b, true);
  pids.c = await initPid("tx-c");
  pids.d = await initPid("tx-d");
  await addPartitions("tx-d", pids.d, [1]);
  await produce("tx-d", 1, pids.d, 0, ["d0", "d1", "d2"]);
  await endTxn("tx-d", pids.d, false);
});

afterAll(async () => {
  c?.close();
  await b?.cleanup();
});

test("ApiVersions advertises the three admin APIs at the versions Kafka 4.3 serves", async () => {
  const r = await c.call<ApiVersionsResponse.ApiVersionsResponse>(18, 3, { clientSoftwareName: "t", clientSoftwareVersion: "1" });
  const ranges = Object.fromEntries(r.apiKeys.filter((k) => [61, 65, 66].includes(k.apiKey)).map((k) => [k.apiKey, [k.minVersion, k.maxVersion]]));
  expect(ranges).toEqual({ 61: [0, 0], 65: [0, 0], 66: [0, 2] });
});

describe("DescribeProducers v0", () => {
  test("lists each partition's producers with epoch, last sequence, timestamp, coordinator epoch and open transaction", async () => {
    const r = await c.call<DescribeProducersResponse.DescribeProducersResponse>(61, 0, { topics: [{ name: TOPIC, partitionIndexes: [0, 1] }] });
    const [p0, p1] = r.topics[0]!.partitions;
    expect(p0!.errorCode).toBe(0);
    expect(p1!.errorCode).toBe(0);
    const byPid = (ps: DescribeProducersResponse.ProducerState[]) => Object.fromEntries(ps.map((s) => [Number(s.producerId), s]));
    const on0 = byPid(p0!.activeProducers);
    expect(Object.keys(on0).map(Number).sort()).toEqual([pids.idem!, pids.a!].sort());
    expect(on0[pids.idem!]).toMatchObject({ producerEpoch: 0, lastSequence: 4, coordinatorEpoch: -1, currentTxnStartOffset: -1n });
    expect(on0[pids.a!]).toMatchObject({ producerEpoch: 0, lastSequence: 1, coordinatorEpoch: -1, currentTxnStartOffset: 5n });
    for (const s of p0!.activeProducers) {
      expect(Number(s.lastTimestamp)).toBeGreaterThanOrEqual(started - 1000);
      expect(Number(s.lastTimestamp)).toBeLessThanOrEqual(Date.now() + 1000);
    }
    // Partition 1: tx-a added it but sent nothing there; tx-b committed, tx-d aborted (markers carry coordinator epoch 0).
    const on1 = byPid(p1!.activeProducers);
    expect(Object.keys(on1).map(Number).sort()).toEqual([pids.b!, pids.d!].sort());
    expect(on1[pids.b!]).toMatchObject({ producerEpoch: 0, lastSequence: 0, coordinatorEpoch: 0, currentTxnStartOffset: -1n });
    expect(on1[pids.d!]).toMatchObject({ producerEpoch: 0, lastSequence: 2, coordinatorEpoch: 0, currentTxnStartOffset: -1n });
  });

  test("missing topics and partitions get UNKNOWN_TOPIC_OR_PARTITION, the rest still answer", async () => {
    const r = await c.call<DescribeProducersResponse.DescribeProducersResponse>(61, 0, {
      topics: [
        { name: TOPIC, partitionIndexes: [7, -1, 0] },
        { name: "no-such-topic", partitionIndexes: [0] },
      ],
    });
    expect(r.topics.map((t) => t.name)).toEqual([TOPIC, "no-such-topic"]);
    expect(r.topics[0]!.partitions.map((p) => [p.partitionIndex, p.errorCode, p.activeProducers.length])).toEqual([
      [7, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 0],
      [-1, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 0],
      [0, 0, 2],
    ]);
    expect(r.topics[1]!.partitions).toMatchObject([{ partitionIndex: 0, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, activeProducers: [] }]);
  });
});

describe("DescribeTransactions v0", () => {
  test("state names as Kafka spells them, timeout, start time, producer id/epoch and partitions", async () => {
    const r = await c.call<DescribeTransactionsResponse.DescribeTransactionsResponse>(65, 0, { transactionalIds: ["tx-a", "tx-b", "tx-c", "tx-d", "nope"] });
    const [a, bb, cc, d, nope] = r.transactionStates;
    expect(a).toMatchObject({ errorCode: 0, transactionalId: "tx-a", transactionState: "Ongoing", transactionTimeoutMs: 60_000, producerId: BigInt(pids.a!), producerEpoch: 0 });
    expect(a!.topics).toMatchObject([{ topic: TOPIC, partitions: [0, 1] }]);
    expect(Number(a!.transactionStartTimeMs)).toBeGreaterThanOrEqual(started - 1000);
    expect(Number(a!.transactionStartTimeMs)).toBeLessThanOrEqual(Date.now());
    expect(bb).toMatchObject({ errorCode: 0, transactionState: "CompleteCommit", producerId: BigInt(pids.b!), producerEpoch: 0, topics: [] });
    expect(Number(bb!.transactionStartTimeMs)).toBeGreaterThanOrEqual(started - 1000);
    expect(cc).toMatchObject({ errorCode: 0, transactionState: "Empty", transactionStartTimeMs: -1n, producerId: BigInt(pids.c!), topics: [] });
    expect(d).toMatchObject({ errorCode: 0, transactionState: "CompleteAbort", producerId: BigInt(pids.d!), topics: [] });
    expect(nope).toMatchObject({ errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND, transactionalId: "nope" });
  });

  test("an empty list answers with no states", async () => {
    const r = await c.call<DescribeTransactionsResponse.DescribeTransactionsResponse>(65, 0, { transactionalIds: [] });
    expect(r.transactionStates).toEqual([]);
  });
});

describe("ListTransactions", () => {
  test("v0: everything, by state (unknown states reported back), by producer id", async () => {
    const all = await listTx(0, {});
    expect(all.errorCode).toBe(0);
    expect(ids(all)).toEqual(["tx-a", "tx-b", "tx-c", "tx-d"]);
    expect(Object.fromEntries(all.transactionStates.map((t) => [t.transactionalId, [t.transactionState, Number(t.producerId)]]))).toEqual({
      "tx-a": ["Ongoing", pids.a],
      "tx-b": ["CompleteCommit", pids.b],
      "tx-c": ["Empty", pids.c],
      "tx-d": ["CompleteAbort", pids.d],
    });
    const ongoing = await listTx(0, { stateFilters: ["Ongoing", "Bogus", "CompleteAbort"] });
    expect(ids(ongoing)).toEqual(["tx-a", "tx-d"]);
    expect(ongoing.unknownStateFilters).toEqual(["Bogus"]);
    // Known states klite never rests in match nothing, and are not "unknown".
    const prepare = await listTx(0, { stateFilters: ["PrepareCommit", "PrepareEpochFence", "Dead"] });
    expect(prepare.transactionStates).toEqual([]);
    expect(prepare.unknownStateFilters).toEqual([]);
    expect((await listTx(0, { stateFilters: ["Bogus"] })).transactionStates).toEqual([]);
    expect(ids(await listTx(0, { producerIdFilters: [BigInt(pids.b!), BigInt(pids.c!), 999_999n] }))).toEqual(["tx-b", "tx-c"]);
    expect(ids(await listTx(0, { producerIdFilters: [BigInt(pids.b!)], stateFilters: ["Ongoing"] }))).toEqual([]);
  });

  test("v1: the duration filter keeps transactions running longer than it", async () => {
    await Bun.sleep(60);
    expect(ids(await listTx(1, { durationFilter: -1n }))).toEqual(["tx-a", "tx-b", "tx-c", "tx-d"]);
    expect(ids(await listTx(1, { durationFilter: 30n, stateFilters: ["Ongoing"] }))).toEqual(["tx-a"]);
    // tx-c never started a transaction: it has been running for no time at all.
    expect(ids(await listTx(1, { durationFilter: 30n }))).toEqual(["tx-a", "tx-b", "tx-d"]);
    expect((await listTx(1, { durationFilter: 3_600_000n })).transactionStates).toEqual([]);
  });

  test("v2: the transactional id pattern must match the whole id; a bad pattern is INVALID_REGULAR_EXPRESSION", async () => {
    expect(ids(await listTx(2, { transactionalIdPattern: "tx-[ab]" }))).toEqual(["tx-a", "tx-b"]);
    expect((await listTx(2, { transactionalIdPattern: "tx" })).transactionStates).toEqual([]);
    expect(ids(await listTx(2, { transactionalIdPattern: "tx-.*", stateFilters: ["Empty"] }))).toEqual(["tx-c"]);
    expect(ids(await listTx(2, { transactionalIdPattern: null }))).toEqual(["tx-a", "tx-b", "tx-c", "tx-d"]);
    expect(ids(await listTx(2, { transactionalIdPattern: "" }))).toEqual(["tx-a", "tx-b", "tx-c", "tx-d"]);
    const bad = await listTx(2, { transactionalIdPattern: "tx-(" });
    expect(bad.errorCode).toBe(ErrorCode.INVALID_REGULAR_EXPRESSION);
    expect(bad.transactionStates).toEqual([]);
    // Patterns a backtracking engine could spend for ever on are refused rather than run.
    expect((await listTx(2, { transactionalIdPattern: "(t+x*-?)+a" })).errorCode).toBe(ErrorCode.INVALID_REGULAR_EXPRESSION);
    expect(ids(await listTx(2, { transactionalIdPattern: "(?i)TX-[A-B]" }))).toEqual(["tx-a", "tx-b"]);
  });
});

test("producer and transaction state described after a restart is what it was before", async () => {
  const dir = tempDir();
  const describeAll = async (port: number) => {
    const w = await connectWire(port);
    try {
      const producers = await w.call<DescribeProducersResponse.DescribeProducersResponse>(61, 0, { topics: [{ name: "rs", partitionIndexes: [0] }] });
      const txns = await w.call<DescribeTransactionsResponse.DescribeTransactionsResponse>(65, 0, { transactionalIds: ["rs-open", "rs-done"] });
      const byPid = [...producers.topics[0]!.partitions[0]!.activeProducers].sort((x, y) => Number(x.producerId - y.producerId));
      return { byPid, txns: txns.transactionStates };
    } finally {
      w.close();
    }
  };
  const first = await inProcessBroker({ dataDir: dir });
  let before: Awaited<ReturnType<typeof describeAll>>;
  try {
    first.broker.topics.create("rs", 1, {});
    const w = await connectWire(first.port);
    try {
      for (const [id, end] of [["rs-done", true], ["rs-open", false]] as const) {
        const init = await w.call<{ producerId: bigint }>(22, 4, { transactionalId: id, transactionTimeoutMs: 600_000 });
        const pid = Number(init.producerId);
        await w.call(24, 3, { v3AndBelowTransactionalId: id, v3AndBelowProducerId: BigInt(pid), v3AndBelowProducerEpoch: 0, v3AndBelowTopics: [{ name: "rs", partitions: [0] }] });
        const records = producerBatch({ producerId: pid, epoch: 0, sequence: 0, values: ["r0", "r1"] });
        await w.call(0, 9, { transactionalId: id, acks: -1, timeoutMs: 5000, topicData: [{ name: "rs", partitionData: [{ index: 0, records }] }] });
        if (end) await w.call(26, 3, { transactionalId: id, producerId: BigInt(pid), producerEpoch: 0, committed: true });
      }
    } finally {
      w.close();
    }
    before = await describeAll(first.port);
    expect(before.byPid.map((p) => [p.coordinatorEpoch, Number(p.currentTxnStartOffset)])).toEqual([
      [0, -1],
      [-1, 3],
    ]);
  } finally {
    await first.close();
  }
  const second = await inProcessBroker({ dataDir: dir });
  try {
    expect(await describeAll(second.port)).toEqual(before!);
  } finally {
    await second.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
