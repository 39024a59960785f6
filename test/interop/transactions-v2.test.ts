// Transactions v2 (KIP-890 part 2) at the protocol level, over TCP with the
// generated codecs: Produce v12 adds partitions to the transaction by itself,
// EndTxn v5 bumps the epoch at every end and returns it, the producer goes on
// with the new epoch, a stale epoch is fenced, and read_committed sees exactly
// the committed records. Old clients keep the v1 flow (AddPartitionsToTxn,
// EndTxn below v5, one epoch for every transaction) with the feature
// finalized, and ApiVersions advertises transaction.version as Kafka does.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ErrorCode } from "../../src/protocol/errors.ts";
import { inProcessBroker, type InProcessBroker } from "../helpers/broker.ts";
import { committedValues, connectWire, producerBatch, type WireClient } from "../helpers/wire-client.ts";
import type * as ApiVersionsResponse from "../../generated/ApiVersionsResponse.ts";
import type * as DescribeTransactionsResponse from "../../generated/DescribeTransactionsResponse.ts";
import type * as EndTxnResponse from "../../generated/EndTxnResponse.ts";
import type * as FetchResponse from "../../generated/FetchResponse.ts";
import type * as InitProducerIdResponse from "../../generated/InitProducerIdResponse.ts";
import type * as ProduceResponse from "../../generated/ProduceResponse.ts";

const TOPIC = "tv2";
const READ_UNCOMMITTED = 0;
const READ_COMMITTED = 1;

let b: InProcessBroker;
let c: WireClient;

beforeAll(async () => {
  b = await inProcessBroker();
  b.broker.topics.create(TOPIC, 2, {});
  b.broker.topics.create("tv1", 1, {});
  c = await connectWire(b.port);
});

afterAll(async () => {
  c?.close();
  await b?.cleanup();
});

async function initPid(transactionalId: string, version = 5): Promise<{ pid: number; epoch: number }> {
  const r = await c.call<InitProducerIdResponse.InitProducerIdResponse>(22, version, { transactionalId, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
  expect(r.errorCode).toBe(0);
  return { pid: Number(r.producerId), epoch: r.producerEpoch };
}

/** A transactional produce of one batch per partition; resolves to each partition's error code. */
async function produce(version: number, transactionalId: string, pid: number, epoch: number, byPartition: Record<number, { sequence: number; values: string[] }>, topic = TOPIC): Promise<Record<number, number>> {
  const partitionData = Object.entries(byPartition).map(([p, o]) => ({ index: Number(p), records: producerBatch({ producerId: pid, epoch, sequence: o.sequence, values: o.values }) }));
  const r = await c.call<ProduceResponse.ProduceResponse>(0, version, { transactionalId, acks: -1, timeoutMs: 5000, topicData: [{ name: topic, partitionData }] });
  return Object.fromEntries(r.responses[0]!.partitionResponses.map((p) => [p.index, p.errorCode]));
}

async function endTxn(version: number, transactionalId: string, pid: number, epoch: number, committed: boolean): Promise<EndTxnResponse.EndTxnResponse> {
  return c.call<EndTxnResponse.EndTxnResponse>(26, version, { transactionalId, producerId: BigInt(pid), producerEpoch: epoch, committed });
}

async function fetch(partition: number, isolationLevel: number, topic = TOPIC): Promise<{ lso: number; hw: number; values: string[] }> {
  const r = await c.call<FetchResponse.FetchResponse>(1, 11, {
    replicaId: -1,
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel,
    topics: [{ topic, partitions: [{ partition, fetchOffset: 0n, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, logStartOffset: -1n }] }],
  });
  const p = r.responses[0]!.partitions[0]!;
  expect(p.errorCode).toBe(0);
  const values = isolationLevel === READ_COMMITTED ? committedValues(p.records, p.abortedTransactions) : committedValues(p.records, []);
  return { lso: Number(p.lastStableOffset), hw: Number(p.highWatermark), values };
}

async function describeTxn(id: string): Promise<DescribeTransactionsResponse.TransactionState> {
  const r = await c.call<DescribeTransactionsResponse.DescribeTransactionsResponse>(65, 0, { transactionalIds: [id] });
  return r.transactionStates[0]!;
}

describe("transactions v2 over the wire", () => {
  test("implicit add, epoch bump at every end, fencing of stale epochs, read_committed", async () => {
    const { pid, epoch: e0 } = await initPid("tv2-app");
    expect(e0).toBe(0);

    // Transaction 1: no AddPartitionsToTxn, Produce v12 adds both partitions.
    expect(await produce(12, "tv2-app", pid, e0, { 0: { sequence: 0, values: ["c1a", "c1b"] }, 1: { sequence: 0, values: ["c1c"] } })).toEqual({ 0: 0, 1: 0 });
    const open = await describeTxn("tv2-app");
    expect(open).toMatchObject({ transactionState: "Ongoing", producerEpoch: 0, topics: [{ topic: TOPIC, partitions: [0, 1] }] });
    // Nothing is stable while the transaction is open.
    expect(await fetch(0, READ_COMMITTED)).toMatchObject({ lso: 0, hw: 2, values: [] });
    expect((await fetch(0, READ_UNCOMMITTED)).values).toEqual(["c1a", "c1b"]);

    const end1 = await endTxn(5, "tv2-app", pid, e0, true);
    expect(end1).toMatchObject({ errorCode: 0, producerId: BigInt(pid), producerEpoch: 1 });
    // A retry of the same EndTxn with the pre-bump epoch gets the same answer.
    expect(await endTxn(5, "tv2-app", pid, e0, true)).toMatchObject({ errorCode: 0, producerId: BigInt(pid), producerEpoch: 1 });
    expect(await describeTxn("tv2-app")).toMatchObject({ transactionState: "CompleteCommit", producerEpoch: 1, topics: [] });

    // Transaction 2 with the bumped epoch (sequences restart at 0), aborted.
    expect(await produce(12, "tv2-app", pid, 1, { 0: { sequence: 0, values: ["x1", "x2"] } })).toEqual({ 0: 0 });
    expect(await endTxn(5, "tv2-app", pid, 1, false)).toMatchObject({ errorCode: 0, producerEpoch: 2 });

    // Transaction 3, committed.
    expect(await produce(12, "tv2-app", pid, 2, { 0: { sequence: 0, values: ["c3"] } })).toEqual({ 0: 0 });
    // Epochs of finished transactions are fenced, whatever the sequence; Produce reports INVALID_PRODUCER_EPOCH as Kafka does.
    expect(await produce(12, "tv2-app", pid, 1, { 0: { sequence: 2, values: ["zombie"] } })).toEqual({ 0: ErrorCode.INVALID_PRODUCER_EPOCH });
    expect(await produce(12, "tv2-app", pid, 0, { 1: { sequence: 1, values: ["zombie"] } })).toEqual({ 1: ErrorCode.INVALID_PRODUCER_EPOCH });
    // An EndTxn with a stale epoch is fenced too, and leaves the open transaction alone.
    expect((await endTxn(5, "tv2-app", pid, 0, false)).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    expect(await endTxn(5, "tv2-app", pid, 2, true)).toMatchObject({ errorCode: 0, producerEpoch: 3 });

    const p0 = await fetch(0, READ_COMMITTED);
    expect(p0.values).toEqual(["c1a", "c1b", "c3"]);
    expect(p0.lso).toBe(p0.hw);
    expect((await fetch(1, READ_COMMITTED)).values).toEqual(["c1c"]);
    // read_uncommitted sees the aborted records (and never the zombies).
    expect((await fetch(0, READ_UNCOMMITTED)).values).toEqual(["c1a", "c1b", "x1", "x2", "c3"]);

    // After a commit a v2 producer may abort with nothing open; that bumps the epoch again.
    expect(await endTxn(5, "tv2-app", pid, 3, false)).toMatchObject({ errorCode: 0, producerEpoch: 4 });
    // Committing with nothing open is a state error.
    expect((await endTxn(5, "tv2-app", pid, 4, true)).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
  });

  test("consume-transform-produce: TxnOffsetCommit v5 adds the group implicitly; offsets follow the transaction's end", async () => {
    const { pid, epoch } = await initPid("tv2-eos");
    const committed = async () => {
      const r = await c.call<{ errorCode: number; topics: { partitions: { committedOffset: bigint }[] }[] }>(9, 7, { groupId: "g-eos", topics: [{ name: TOPIC, partitionIndexes: [0] }], requireStable: false });
      expect(r.errorCode).toBe(0);
      return Number(r.topics[0]!.partitions[0]!.committedOffset);
    };
    const commitOffset = async (e: number, offset: number) => {
      const r = await c.call<{ topics: { partitions: { errorCode: number }[] }[] }>(28, 5, {
        transactionalId: "tv2-eos",
        groupId: "g-eos",
        producerId: BigInt(pid),
        producerEpoch: e,
        generationId: -1,
        memberId: "",
        groupInstanceId: null,
        topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, committedOffset: BigInt(offset), committedLeaderEpoch: -1, committedMetadata: null }] }],
      });
      return r.topics[0]!.partitions[0]!.errorCode;
    };
    expect(await produce(12, "tv2-eos", pid, epoch, { 1: { sequence: 0, values: ["eos-1"] } })).toEqual({ 1: 0 });
    expect(await commitOffset(epoch, 42)).toBe(0);
    expect(await describeTxn("tv2-eos")).toMatchObject({ transactionState: "Ongoing", topics: [{ topic: TOPIC, partitions: [1] }] });
    expect(await committed()).toBe(-1);
    expect(await endTxn(5, "tv2-eos", pid, epoch, true)).toMatchObject({ errorCode: 0, producerEpoch: epoch + 1 });
    expect(await committed()).toBe(42);
    // An aborted transaction's offsets never show; neither does a commit with the pre-bump epoch.
    expect(await commitOffset(epoch + 1, 99)).toBe(0);
    expect(await endTxn(5, "tv2-eos", pid, epoch + 1, false)).toMatchObject({ errorCode: 0, producerEpoch: epoch + 2 });
    expect(await committed()).toBe(42);
    expect(await commitOffset(epoch, 7)).not.toBe(0);
    expect(await committed()).toBe(42);
  });

  test("a new producer instance fences the old one and aborts its open transaction", async () => {
    const old = await initPid("tv2-fence");
    expect(await produce(12, "tv2-fence", old.pid, old.epoch, { 1: { sequence: 0, values: ["never"] } })).toEqual({ 1: 0 });
    const fresh = await initPid("tv2-fence");
    expect(fresh.pid).toBe(old.pid);
    expect(fresh.epoch).toBeGreaterThan(old.epoch);
    expect(await produce(12, "tv2-fence", old.pid, old.epoch, { 1: { sequence: 1, values: ["zombie"] } })).toEqual({ 1: ErrorCode.INVALID_PRODUCER_EPOCH });
    expect((await endTxn(5, "tv2-fence", old.pid, old.epoch, true)).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
    expect(await produce(12, "tv2-fence", fresh.pid, fresh.epoch, { 1: { sequence: 0, values: ["fresh"] } })).toEqual({ 1: 0 });
    expect(await endTxn(5, "tv2-fence", fresh.pid, fresh.epoch, true)).toMatchObject({ errorCode: 0, producerEpoch: fresh.epoch + 1 });
    const values = (await fetch(1, READ_COMMITTED)).values;
    expect(values).toContain("fresh");
    expect(values).not.toContain("never");
  });
});

describe("transactions v1 with transaction.version finalized", () => {
  test("AddPartitionsToTxn, Produce below v12 and EndTxn v0-4 keep one epoch for every transaction", async () => {
    for (const endVersion of [0, 1, 3, 4]) {
      const id = `tv1-app-${endVersion}`;
      const { pid, epoch } = await initPid(id, 4);
      let seq = 0;
      for (const committed of [true, false, true]) {
        const add = await c.call<{ resultsByTopicV3AndBelow: { resultsByPartition: { partitionErrorCode: number }[] }[] }>(24, 3, {
          v3AndBelowTransactionalId: id,
          v3AndBelowProducerId: BigInt(pid),
          v3AndBelowProducerEpoch: epoch,
          v3AndBelowTopics: [{ name: "tv1", partitions: [0] }],
        });
        expect(add.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode).toBe(0);
        expect(await produce(9, id, pid, epoch, { 0: { sequence: seq, values: [`${id}-${committed}-${seq}`] } }, "tv1")).toEqual({ 0: 0 });
        seq++;
        const end = await endTxn(endVersion, id, pid, epoch, committed);
        expect(end.errorCode).toBe(0);
        expect((await describeTxn(id)).producerEpoch).toBe(epoch);
      }
      // Without the implicit add of v2, a produce to a partition not in the transaction is refused.
      expect(await produce(9, id, pid, epoch, { 0: { sequence: seq, values: ["stray"] } }, "tv1")).toEqual({ 0: ErrorCode.INVALID_TXN_STATE });
    }
    const values = (await fetch(0, READ_COMMITTED, "tv1")).values;
    expect(values).toEqual([0, 1, 3, 4].flatMap((v) => [`tv1-app-${v}-true-0`, `tv1-app-${v}-true-2`]));
  });
});

describe("ApiVersions and transaction.version", () => {
  test("v4 advertises transaction.version supported 0-2, finalized at 2", async () => {
    const r = await c.call<ApiVersionsResponse.ApiVersionsResponse>(18, 4, { clientSoftwareName: "t", clientSoftwareVersion: "1" });
    expect(r.supportedFeatures.find((f) => f.name === "transaction.version")).toMatchObject({ minVersion: 0, maxVersion: 2 });
    expect(r.finalizedFeatures.find((f) => f.name === "transaction.version")).toMatchObject({ minVersionLevel: 2, maxVersionLevel: 2 });
    expect(r.finalizedFeaturesEpoch).toBeGreaterThanOrEqual(0n);
    const range = (key: number) => r.apiKeys.find((k) => k.apiKey === key);
    expect(range(0)).toMatchObject({ maxVersion: 13 });
    expect(range(26)).toMatchObject({ minVersion: 0, maxVersion: 5 });
  });

  test("v3 leaves out supported features whose minimum is 0, as Kafka does for old clients (KAFKA-17492)", async () => {
    const r = await c.call<ApiVersionsResponse.ApiVersionsResponse>(18, 3, { clientSoftwareName: "t", clientSoftwareVersion: "1" });
    expect(r.supportedFeatures.filter((f) => f.minVersion === 0)).toEqual([]);
    expect(r.finalizedFeatures.find((f) => f.name === "transaction.version")).toMatchObject({ minVersionLevel: 2, maxVersionLevel: 2 });
  });
});
