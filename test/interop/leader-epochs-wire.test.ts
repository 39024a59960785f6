// Leader epochs on the wire, through the generated codecs: a partition whose
// log was truncated (epoch 0 holds offsets 0-4, epoch 1 starts at 5) answers
// OffsetForLeaderEpoch at every version, fences Fetch and ListOffsets by
// currentLeaderEpoch as Kafka does, returns divergingEpoch to a fetcher that
// names the epoch of what it read last, and reports each record's epoch.

import { afterAll, beforeAll, expect, test } from "bun:test";
import type * as FetchResponse from "../../generated/FetchResponse.ts";
import type * as ListOffsetsResponse from "../../generated/ListOffsetsResponse.ts";
import type * as MetadataResponse from "../../generated/MetadataResponse.ts";
import type * as OffsetForLeaderEpochResponse from "../../generated/OffsetForLeaderEpochResponse.ts";
import type * as ProduceResponse from "../../generated/ProduceResponse.ts";
import { ErrorCode } from "../../src/protocol/errors.ts";
import { readBatchHeader } from "../../src/protocol/records.ts";
import { inProcessBroker, type InProcessBroker } from "../helpers/broker.ts";
import { connectWire, producerBatch, type WireClient } from "../helpers/wire-client.ts";

let b: InProcessBroker;
let c: WireClient;

const produce = async (values: string[]) => {
  const records = producerBatch({ producerId: -1, epoch: -1, sequence: -1, values, transactional: false });
  const res = await c.call<ProduceResponse.ProduceResponse>(0, 9, { transactionalId: null, acks: -1, timeoutMs: 5000, topicData: [{ name: "ep", partitionData: [{ index: 0, records }] }] });
  expect(res.responses[0]!.partitionResponses[0]!.errorCode).toBe(ErrorCode.NONE);
};

beforeAll(async () => {
  b = await inProcessBroker();
  b.broker.topics.create("ep", 1, {});
  c = await connectWire(b.port);
  await produce(["a", "b", "c", "d", "e"]);
  await produce(["f", "g", "h"]);
  // What a recovery that lost the second batch does: cut the log and begin epoch 1 at its end.
  b.broker.topics.get("ep")!.partitions[0]!.log.truncateTo(5);
  await produce(["F", "G", "H", "I", "J"]);
});

afterAll(async () => {
  c?.close();
  await b?.cleanup();
});

const offsetForLeaderEpoch = (version: number, topic: string, currentLeaderEpoch: number, leaderEpoch: number) =>
  c
    .call<OffsetForLeaderEpochResponse.OffsetForLeaderEpochResponse>(23, version, { replicaId: -1, topics: [{ topic, partitions: [{ partition: 0, currentLeaderEpoch, leaderEpoch }] }] })
    .then((r) => r.topics[0]!.partitions[0]!);

test("OffsetForLeaderEpoch v2-4: where each epoch ends; fencing by the current epoch", async () => {
  for (const v of [2, 3, 4]) {
    expect(await offsetForLeaderEpoch(v, "ep", 1, 0)).toMatchObject({ errorCode: 0, leaderEpoch: 0, endOffset: 5n });
    expect(await offsetForLeaderEpoch(v, "ep", -1, 1)).toMatchObject({ errorCode: 0, leaderEpoch: 1, endOffset: 10n });
    expect(await offsetForLeaderEpoch(v, "ep", 1, 7)).toMatchObject({ errorCode: 0, leaderEpoch: -1, endOffset: -1n });
    expect((await offsetForLeaderEpoch(v, "ep", 0, 0)).errorCode).toBe(ErrorCode.FENCED_LEADER_EPOCH);
    expect((await offsetForLeaderEpoch(v, "ep", 2, 0)).errorCode).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH);
    expect((await offsetForLeaderEpoch(v, "nope", -1, 0)).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  }
});

const fetchAt = (version: number, fetchOffset: number, currentLeaderEpoch: number, lastFetchedEpoch = -1) =>
  c
    .call<FetchResponse.FetchResponse>(1, version, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      isolationLevel: 0,
      topics: [{ topic: "ep", topicId: b.broker.topics.get("ep")!.id, partitions: [{ partition: 0, fetchOffset: BigInt(fetchOffset), partitionMaxBytes: 1 << 20, currentLeaderEpoch, lastFetchedEpoch, logStartOffset: -1n }] }],
    })
    .then((r) => r.responses[0]!.partitions[0]!);

test("Fetch: an older current epoch is FENCED (with the current leader from v12), a newer one UNKNOWN; records carry their epoch", async () => {
  for (const v of [9, 11, 12, 16, 18]) {
    const fenced = await fetchAt(v, 0, 0);
    expect(fenced.errorCode).toBe(ErrorCode.FENCED_LEADER_EPOCH);
    if (v >= 12) expect(fenced.currentLeader).toEqual({ leaderId: b.broker.nodeId, leaderEpoch: 1 });
    expect((await fetchAt(v, 0, 2)).errorCode).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH);
    const ok = await fetchAt(v, 0, 1);
    expect(ok.errorCode).toBe(ErrorCode.NONE);
    const first = readBatchHeader(ok.records!, 0);
    expect(first.partitionLeaderEpoch).toBe(0);
    expect(readBatchHeader(ok.records!, first.batchLength + 12).partitionLeaderEpoch).toBe(1);
  }
});

test("Fetch v12+: a fetcher whose last epoch ends below its offset gets divergingEpoch and no records", async () => {
  const diverged = await fetchAt(12, 8, 1, 0);
  expect(diverged.errorCode).toBe(ErrorCode.NONE);
  expect(diverged.divergingEpoch).toEqual({ epoch: 0, endOffset: 5n });
  expect(diverged.records!.length).toBe(0);
  // Past the log end too: the divergence, not OFFSET_OUT_OF_RANGE.
  expect(await fetchAt(13, 12, 1, 0)).toMatchObject({ errorCode: ErrorCode.NONE, divergingEpoch: { epoch: 0, endOffset: 5n } });
  // Consistent with the log: records, no divergence.
  const fine = await fetchAt(12, 5, 1, 0);
  expect(fine.divergingEpoch).toEqual({ epoch: -1, endOffset: -1n });
  expect(fine.records!.length).toBeGreaterThan(0);
});

test("ListOffsets v4+ answers with the epoch of the offset and fences by the current epoch; Metadata reports epoch 1", async () => {
  const list = (version: number, timestamp: bigint, currentLeaderEpoch = -1) =>
    c
      .call<ListOffsetsResponse.ListOffsetsResponse>(2, version, { replicaId: -1, isolationLevel: 0, topics: [{ name: "ep", partitions: [{ partitionIndex: 0, currentLeaderEpoch, timestamp }] }] })
      .then((r) => r.topics[0]!.partitions[0]!);
  for (const v of [4, 7, 11]) {
    expect(await list(v, -2n)).toMatchObject({ offset: 0n, leaderEpoch: 0 });
    expect(await list(v, -1n)).toMatchObject({ offset: 10n, leaderEpoch: 1 });
    expect((await list(v, -1n, 0)).errorCode).toBe(ErrorCode.FENCED_LEADER_EPOCH);
    expect((await list(v, -1n, 5)).errorCode).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH);
  }
  expect((await list(3, -1n)).leaderEpoch).toBe(-1);
  const md = await c.call<MetadataResponse.MetadataResponse>(3, 12, { topics: [{ name: "ep" }], allowAutoTopicCreation: false });
  expect(md.topics[0]!.partitions[0]!.leaderEpoch).toBe(1);
});

test("OffsetCommit stores the committed leader epoch and OffsetFetch returns it (v5+; -1 before)", async () => {
  const commit = await c.call<{ topics: { partitions: { errorCode: number }[] }[] }>(8, 8, {
    groupId: "epochs-g",
    generationIdOrMemberEpoch: -1,
    memberId: "",
    groupInstanceId: null,
    topics: [{ name: "ep", partitions: [{ partitionIndex: 0, committedOffset: 7n, committedLeaderEpoch: 1, committedMetadata: null }] }],
  });
  expect(commit.topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.NONE);
  for (const [v, epoch] of [[4, -1], [5, 1], [7, 1]] as const) {
    const r = await c.call<{ topics: { partitions: { committedOffset: bigint; committedLeaderEpoch: number }[] }[] }>(9, v, { groupId: "epochs-g", topics: [{ name: "ep", partitionIndexes: [0] }], requireStable: false });
    expect(r.topics[0]!.partitions[0]).toMatchObject({ committedOffset: 7n, committedLeaderEpoch: epoch });
  }
});
