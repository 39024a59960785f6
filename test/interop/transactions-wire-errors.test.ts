// Transaction and idempotence requests that must fail or be deduplicated,
// over TCP with the generated codecs: the error codes Kafka 4.3 answers with,
// and a coordinator that keeps serving the well-formed requests next to them.

import { afterAll, beforeAll, expect, test } from "bun:test";
import type * as AddPartitionsToTxnResponse from "../../generated/AddPartitionsToTxnResponse.ts";
import type * as EndTxnResponse from "../../generated/EndTxnResponse.ts";
import type * as FetchResponse from "../../generated/FetchResponse.ts";
import type * as InitProducerIdResponse from "../../generated/InitProducerIdResponse.ts";
import type * as ProduceResponse from "../../generated/ProduceResponse.ts";
import { ErrorCode } from "../../src/protocol/errors.ts";
import { inProcessBroker, type InProcessBroker } from "../helpers/broker.ts";
import { committedValues, connectWire, producerBatch, type WireClient } from "../helpers/wire-client.ts";

let b: InProcessBroker;
let c: WireClient;

beforeAll(async () => {
  b = await inProcessBroker();
  b.broker.topics.create("real", 1, {});
  c = await connectWire(b.port);
});

afterAll(async () => {
  c?.close();
  await b?.cleanup();
});

const initPid = async (transactionalId: string) => {
  const r = await c.call<InitProducerIdResponse.InitProducerIdResponse>(22, 4, { transactionalId, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
  expect(r.errorCode).toBe(ErrorCode.NONE);
  return { pid: r.producerId, epoch: r.producerEpoch };
};
const endTxn = (version: number, transactionalId: string, producerId: bigint, producerEpoch: number, committed = true) =>
  c.call<EndTxnResponse.EndTxnResponse>(26, version, { transactionalId, producerId, producerEpoch, committed });
const addPartitions = (version: number, transactionalId: string, producerId: bigint, producerEpoch: number, topics: { name: string; partitions: number[] }[]) =>
  c.call<AddPartitionsToTxnResponse.AddPartitionsToTxnResponse>(24, version, { v3AndBelowTransactionalId: transactionalId, v3AndBelowProducerId: producerId, v3AndBelowProducerEpoch: producerEpoch, v3AndBelowTopics: topics });

test("EndTxn for a transactional id nobody initialised: INVALID_PRODUCER_ID_MAPPING", async () => {
  for (const v of [0, 3, 4]) expect((await endTxn(v, "never-seen", 1234n, 0)).errorCode).toBe(ErrorCode.INVALID_PRODUCER_ID_MAPPING);
});

test("EndTxn and AddPartitionsToTxn with a stale epoch are fenced (PRODUCER_FENCED from v2, INVALID_PRODUCER_EPOCH before)", async () => {
  const first = await initPid("stale");
  const second = await initPid("stale"); // a new instance bumps the epoch
  expect(second.epoch).toBe(first.epoch + 1);
  expect((await endTxn(1, "stale", first.pid, first.epoch)).errorCode).toBe(ErrorCode.INVALID_PRODUCER_EPOCH);
  expect((await endTxn(3, "stale", first.pid, first.epoch)).errorCode).toBe(ErrorCode.PRODUCER_FENCED);
  const add = await addPartitions(3, "stale", first.pid, first.epoch, [{ name: "real", partitions: [0] }]);
  expect(add.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode).toBe(ErrorCode.PRODUCER_FENCED);
  // The current instance is unaffected.
  const ok = await addPartitions(3, "stale", second.pid, second.epoch, [{ name: "real", partitions: [0] }]);
  expect(ok.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode).toBe(ErrorCode.NONE);
  expect((await endTxn(3, "stale", second.pid, second.epoch, false)).errorCode).toBe(ErrorCode.NONE);
});

test("AddPartitionsToTxn naming a topic that does not exist: UNKNOWN_TOPIC_OR_PARTITION there, OPERATION_NOT_ATTEMPTED for the rest", async () => {
  const p = await initPid("missing-topic");
  const r = await addPartitions(3, "missing-topic", p.pid, p.epoch, [
    { name: "real", partitions: [0] },
    { name: "no-such-topic", partitions: [0] },
  ]);
  const codes = Object.fromEntries(r.resultsByTopicV3AndBelow.map((t) => [t.name, t.resultsByPartition.map((x) => x.partitionErrorCode)]));
  expect(codes).toEqual({ real: [ErrorCode.OPERATION_NOT_ATTEMPTED], "no-such-topic": [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION] });
  // Nothing was added, so there is no transaction to end (Kafka: INVALID_TXN_STATE from Empty), and the id goes on.
  expect((await endTxn(3, "missing-topic", p.pid, p.epoch, false)).errorCode).toBe(ErrorCode.INVALID_TXN_STATE);
  const again = await addPartitions(3, "missing-topic", p.pid, p.epoch, [{ name: "real", partitions: [0] }]);
  expect(again.resultsByTopicV3AndBelow[0]!.resultsByPartition[0]!.partitionErrorCode).toBe(ErrorCode.NONE);
});

test("idempotent retries over the wire: a resent batch gets its first offset back and is stored once; a gap is refused", async () => {
  b.broker.topics.create("idem", 1, {});
  const r = await c.call<InitProducerIdResponse.InitProducerIdResponse>(22, 4, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
  const pid = Number(r.producerId);
  const produce = async (sequence: number, values: string[]) => {
    const records = producerBatch({ producerId: pid, epoch: r.producerEpoch, sequence, values, transactional: false });
    const res = await c.call<ProduceResponse.ProduceResponse>(0, 9, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: "idem", partitionData: [{ index: 0, records }] }] });
    return res.responses[0]!.partitionResponses[0]!;
  };
  expect(await produce(0, ["a", "b"])).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 0n });
  expect(await produce(2, ["c"])).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 2n });
  expect(await produce(0, ["a", "b"])).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 0n }); // a retry of the first
  expect((await produce(5, ["x"])).errorCode).toBe(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
  const f = await c.call<FetchResponse.FetchResponse>(1, 11, {
    replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, isolationLevel: 0,
    topics: [{ topic: "idem", partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20, currentLeaderEpoch: -1, logStartOffset: -1n }] }],
  });
  const p = f.responses[0]!.partitions[0]!;
  expect(p.highWatermark).toBe(3n);
  expect(committedValues(p.records, [])).toEqual(["a", "b", "c"]);
});
