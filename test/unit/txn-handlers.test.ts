// Idempotence and transactions through the handlers, without sockets:
// sequence checks and duplicates, markers, last stable offset, aborted
// transaction lists, fencing of zombies, recovery mid-transaction, timeouts.

import { afterEach, expect, test } from "bun:test";

import { Broker } from "../../src/broker.ts";
import { DEFAULT_OPTIONS } from "../../src/config.ts";
import { ErrorCode } from "../../src/protocol/errors.ts";
import { handleProduce } from "../../src/handlers/produce.ts";
import { handleFetch } from "../../src/handlers/fetch.ts";
import { handleListOffsets } from "../../src/handlers/list-offsets.ts";
import { handleInitProducerId, handleAddPartitionsToTxn, handleEndTxn } from "../../src/handlers/transactions.ts";
import type { RequestContext } from "../../src/handlers/registry.ts";
import * as ProduceRequest from "../../generated/ProduceRequest.ts";
import * as FetchRequest from "../../generated/FetchRequest.ts";
import * as ListOffsetsRequest from "../../generated/ListOffsetsRequest.ts";
import * as InitProducerIdRequest from "../../generated/InitProducerIdRequest.ts";
import * as AddPartitionsToTxnRequest from "../../generated/AddPartitionsToTxnRequest.ts";
import * as EndTxnRequest from "../../generated/EndTxnRequest.ts";
import { crc32c } from "../../src/codec/crc32c.ts";
import { makeBatch, tempDir } from "./log-fixtures.ts";

const ctx = (apiKey: number, apiVersion: number): RequestContext => ({ apiKey, apiVersion, correlationId: 1, clientId: "t", connectionId: 1, remoteAddress: "test", principal: "User:ANONYMOUS" });

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

function openBroker(dir: string, extra: Partial<typeof DEFAULT_OPTIONS> = {}): Broker {
  const b = new Broker({ ...DEFAULT_OPTIONS, dataDir: dir, logLevel: "error", ...extra });
  cleanups.push(() => b.close());
  return b;
}

function batch(pid: number, epoch: number, seq: number, n: number, transactional = false): Uint8Array {
  const b = makeBatch({ records: n, baseTimestamp: Date.now() });
  const v = new DataView(b.buffer);
  v.setBigInt64(43, BigInt(pid));
  v.setInt16(51, epoch);
  v.setInt32(53, seq);
  if (transactional) v.setInt16(21, 0x10);
  v.setUint32(17, crc32c(b.subarray(21)));
  return b;
}

async function produce(b: Broker, records: Uint8Array, transactionalId: string | null = null, version = 9) {
  const req = ProduceRequest.create();
  Object.assign(req, { transactionalId, acks: -1, timeoutMs: 1000, topicData: [{ ...ProduceRequest.defaultTopicProduceData(), name: "t", partitionData: [{ index: 0, records: records.slice() }] }] });
  const res = await handleProduce(b, req, ctx(0, version));
  const p = res!.responses![0]!.partitionResponses![0]!;
  return { errorCode: p.errorCode!, baseOffset: Number(p.baseOffset) };
}

async function fetch(b: Broker, isolationLevel: number, offset = 0) {
  const req = FetchRequest.create();
  Object.assign(req, {
    maxWaitMs: 0,
    minBytes: 0,
    maxBytes: 1 << 20,
    isolationLevel,
    topics: [{ ...FetchRequest.defaultFetchTopic(), topic: "t", partitions: [{ ...FetchRequest.defaultFetchPartition(), partition: 0, fetchOffset: BigInt(offset), partitionMaxBytes: 1 << 20 }] }],
  });
  const res = await handleFetch(b, req, ctx(1, 11));
  const p = res.responses![0]!.partitions![0]!;
  const chunks = p.records as Uint8Array[];
  return { lso: Number(p.lastStableOffset), hw: Number(p.highWatermark), bytes: chunks.reduce((n, c) => n + c.length, 0), aborted: p.abortedTransactions };
}

async function initPid(b: Broker, transactionalId: string | null, timeoutMs = 60000) {
  const req = InitProducerIdRequest.create();
  Object.assign(req, { transactionalId, transactionTimeoutMs: timeoutMs });
  const r = await handleInitProducerId(b, req, ctx(22, 4));
  return { errorCode: r.errorCode!, pid: Number(r.producerId), epoch: r.producerEpoch! };
}

async function addPartitions(b: Broker, txn: string, pid: number, epoch: number) {
  const req = AddPartitionsToTxnRequest.create();
  Object.assign(req, { v3AndBelowTransactionalId: txn, v3AndBelowProducerId: BigInt(pid), v3AndBelowProducerEpoch: epoch, v3AndBelowTopics: [{ name: "t", partitions: [0] }] });
  return (await handleAddPartitionsToTxn(b, req, ctx(24, 3))).resultsByTopicV3AndBelow![0]!.resultsByPartition![0]!.partitionErrorCode;
}

async function endTxn(b: Broker, txn: string, pid: number, epoch: number, committed: boolean, version = 3) {
  const req = EndTxnRequest.create();
  Object.assign(req, { transactionalId: txn, producerId: BigInt(pid), producerEpoch: epoch, committed });
  return handleEndTxn(b, req, ctx(26, version));
}

function setup(): { dir: string; b: Broker } {
  const { dir, cleanup } = tempDir("klite-txn-");
  cleanups.push(cleanup);
  const b = openBroker(dir);
  b.topics.create("t", 1, {});
  return { dir, b };
}

test("idempotent producer: duplicates return the original offset, gaps and old epochs are refused", async () => {
  const { b } = setup();
  const { pid } = await initPid(b, null);
  expect(await produce(b, batch(pid, 0, 0, 3))).toEqual({ errorCode: 0, baseOffset: 0 });
  expect(await produce(b, batch(pid, 0, 3, 2))).toEqual({ errorCode: 0, baseOffset: 3 });
  expect(await produce(b, batch(pid, 0, 0, 3))).toEqual({ errorCode: 0, baseOffset: 0 });
  expect(b.topics.get("t")!.partitions[0]!.log.logEndOffset).toBe(5);
  expect((await produce(b, batch(pid, 0, 9, 1))).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  expect((await produce(b, batch(pid, 1, 0, 1))).errorCode).toBe(0);
  expect((await produce(b, batch(pid, 0, 5, 1))).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
});

test("commit and abort: LSO, read_committed fetches, aborted list, ListOffsets by isolation", async () => {
  const { b } = setup();
  await produce(b, batch(-1, -1, -1, 2)); // offsets 0-1, plain
  const { pid, epoch } = await initPid(b, "tx");
  expect(await addPartitions(b, "tx", pid, epoch)).toBe(0);
  expect((await produce(b, batch(pid, epoch, 0, 3, true), "tx")).baseOffset).toBe(2); // 2-4, open
  expect(await fetch(b, 1)).toMatchObject({ lso: 2, hw: 5 });
  const committedBytes = (await fetch(b, 1)).bytes;
  expect((await fetch(b, 0)).bytes).toBeGreaterThan(committedBytes);
  const lo = (iso: number) => {
    const req = ListOffsetsRequest.create();
    Object.assign(req, { replicaId: -1, isolationLevel: iso, topics: [{ name: "t", partitions: [{ ...ListOffsetsRequest.defaultListOffsetsPartition(), partitionIndex: 0, timestamp: -1n }] }] });
    return Number(handleListOffsets(b, req, ctx(2, 5)).topics![0]!.partitions![0]!.offset);
  };
  expect(lo(1)).toBe(2);
  expect(lo(0)).toBe(5);
  expect((await endTxn(b, "tx", pid, epoch, true)).errorCode).toBe(0); // marker at 5
  expect(await fetch(b, 1)).toMatchObject({ lso: 6, hw: 6, aborted: [] });
  // A second transaction, aborted.
  expect(await addPartitions(b, "tx", pid, epoch)).toBe(0);
  await produce(b, batch(pid, epoch, 3, 2, true), "tx"); // 6-7
  expect((await endTxn(b, "tx", pid, epoch, false)).errorCode).toBe(0); // marker at 8
  const f = await fetch(b, 1);
  expect(f).toMatchObject({ lso: 9, hw: 9 });
  expect(f.aborted).toEqual([{ producerId: BigInt(pid), firstOffset: 6n }]);
  // Ending again the same way is accepted; the opposite is not.
  expect((await endTxn(b, "tx", pid, epoch, false)).errorCode).toBe(0);
  expect((await endTxn(b, "tx", pid, epoch, true)).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
});

test("a new producer instance aborts the zombie's open transaction and fences it", async () => {
  const { b } = setup();
  const z = await initPid(b, "tx");
  await addPartitions(b, "tx", z.pid, z.epoch);
  await produce(b, batch(z.pid, z.epoch, 0, 2, true), "tx");
  const n = await initPid(b, "tx");
  expect(n.pid).toBe(z.pid);
  expect(n.epoch).toBe(z.epoch + 2);
  const f = await fetch(b, 1);
  expect(f.lso).toBe(f.hw); // the zombie's records were aborted
  expect(f.aborted).toEqual([{ producerId: BigInt(z.pid), firstOffset: 0n }]);
  expect(await addPartitions(b, "tx", z.pid, z.epoch)).toBe(ErrorCode.PRODUCER_FENCED);
  expect((await produce(b, batch(z.pid, z.epoch, 2, 1, true), "tx")).errorCode).not.toBe(0);
  expect((await initPid(b, "tx", 10 ** 9)).errorCode).toBe(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
});

test("transactions v2 (EndTxn v5, Produce v12): implicit add and an epoch bump at every end", async () => {
  const { b } = setup();
  const p = await initPid(b, "tv2");
  expect((await produce(b, batch(p.pid, p.epoch, 0, 2, true), "tv2", 12)).errorCode).toBe(0);
  const r = await endTxn(b, "tv2", p.pid, p.epoch, true, 5);
  expect(r.errorCode).toBe(0);
  expect(Number(r.producerId)).toBe(p.pid);
  expect(r.producerEpoch).toBe(p.epoch + 1);
  // A retry of the same end with the old epoch gets the same answer.
  expect((await endTxn(b, "tv2", p.pid, p.epoch, true, 5)).producerEpoch).toBe(p.epoch + 1);
  expect((await fetch(b, 1)).lso).toBe(3);
});

test("an open transaction survives a restart and is aborted when it times out", async () => {
  const { dir, b } = setup();
  const p = await initPid(b, "tx", 60_000);
  await addPartitions(b, "tx", p.pid, p.epoch);
  await produce(b, batch(p.pid, p.epoch, 0, 4, true), "tx");
  await b.close();
  cleanups.pop();
  const b2 = openBroker(dir);
  expect(b2.topics.get("t")!.partitions[0]!.lastStableOffset()).toBe(0);
  expect(b2.transactions.get("tx")!.state).toBe("Ongoing");
  b2.transactions.get("tx")!.startTimestamp -= 61_000;
  const sweep = b2.transactions.abortExpired();
  expect(sweep.aborted).toEqual(["tx"]);
  await sweep.done;
  // The abort marker becomes visible (and the LSO moves past it) once it is fsynced.
  await b2.topics.get("t")!.partitions[0]!.log.flushed();
  expect(b2.topics.get("t")!.partitions[0]!.lastStableOffset()).toBe(5);

});
