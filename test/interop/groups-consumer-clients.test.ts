// KIP-848 consumer groups over TCP. Current librdkafka
// (@confluentinc/kafka-javascript under node, group.protocol=consumer) with
// the uniform and the range server assignor: two members split a 6-partition
// topic, one leaves and the other takes everything over, a third resumes from
// the committed offsets with nothing lost or repeated; a regex subscription
// picks up a topic created later; static members come back to their
// partitions; the admin API describes and lists the group as a consumer group. Then the wire itself with the generated codecs:
// ConsumerGroupHeartbeat v0/v1, ConsumerGroupDescribe, ListGroups v5 type
// filter, OffsetCommit v9 member epochs, and the group and its offsets across
// a kill -9.

import { describe, expect, test } from "bun:test";
import * as ApiVersionsRequest from "../../generated/ApiVersionsRequest.ts";
import * as ApiVersionsResponse from "../../generated/ApiVersionsResponse.ts";
import * as ConsumerGroupDescribeRequest from "../../generated/ConsumerGroupDescribeRequest.ts";
import * as ConsumerGroupDescribeResponse from "../../generated/ConsumerGroupDescribeResponse.ts";
import * as ConsumerGroupHeartbeatRequest from "../../generated/ConsumerGroupHeartbeatRequest.ts";
import * as ConsumerGroupHeartbeatResponse from "../../generated/ConsumerGroupHeartbeatResponse.ts";
import * as CreatePartitionsRequest from "../../generated/CreatePartitionsRequest.ts";
import * as CreatePartitionsResponse from "../../generated/CreatePartitionsResponse.ts";
import * as CreateTopicsRequest from "../../generated/CreateTopicsRequest.ts";
import * as CreateTopicsResponse from "../../generated/CreateTopicsResponse.ts";
import * as ListGroupsRequest from "../../generated/ListGroupsRequest.ts";
import * as ListGroupsResponse from "../../generated/ListGroupsResponse.ts";
import * as OffsetCommitRequest from "../../generated/OffsetCommitRequest.ts";
import * as OffsetCommitResponse from "../../generated/OffsetCommitResponse.ts";
import * as OffsetFetchRequest from "../../generated/OffsetFetchRequest.ts";
import * as OffsetFetchResponse from "../../generated/OffsetFetchResponse.ts";
import * as RequestHeader from "../../generated/RequestHeader.ts";
import { requestHeaderVersion, responseHeaderVersion } from "../../generated/index.ts";
import { ErrorCode } from "../../src/protocol/errors.ts";
import { Reader } from "../../src/protocol/reader.ts";
import { DEFAULT_OPTIONS } from "../../src/config.ts";
import { inProcessBroker, withSpawnedBroker } from "../helpers/broker.ts";
import { CLIENT_TEST_TIMEOUT, missing, nodeClient } from "../helpers/clients.ts";
import { waitFor } from "../helpers/run.ts";

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `v${from + i}`);
const sorted = (xs: string[]) => [...xs].sort();

interface Takeover {
  split: { a: number[]; b: number[] };
  afterLeave: number[];
  resumed: number[];
  seenAB: string[];
  seenC: string[];
  described: { groupId: string; type: number; state: number; protocolType: string; members: number; errorCode: number }[];
  listed: { groupId: string; protocolType: string; type: number }[];
  committed: { partition: number; offset: number }[];
}

interface StaticRun {
  first: { a: number[]; b: number[] };
  whileAway: string[];
  back: number[];
  bAssignments: string[];
}

interface RegexRun {
  before: string[];
  after: string[];
  byTopic: Record<string, string[]>;
  emptyState: number;
  deleted: { groupId: string; errorCode: number }[];
  listedAfterDelete: number;
}

/** librdkafka's rd_kafka_consumer_group_type_t and rd_kafka_consumer_group_state_t values. */
const RD_GROUP_TYPE_CONSUMER = 1;
const RD_GROUP_STATE_STABLE = 3;
const RD_GROUP_STATE_EMPTY = 5;

function checkTakeover(r: Takeover, groupId: string): void {
  expect(sorted([...r.split.a, ...r.split.b].map(String))).toEqual(["0", "1", "2", "3", "4", "5"]);
  expect(r.split.a.length).toBe(3);
  expect(r.split.b.length).toBe(3);
  expect(r.afterLeave).toEqual([0, 1, 2, 3, 4, 5]);
  expect(r.resumed).toEqual([0, 1, 2, 3, 4, 5]);
  // Exactly once each: everything before the last commit went to a or b, the rest only to c.
  expect(sorted(r.seenAB)).toEqual(sorted(range(0, 120)));
  expect(sorted(r.seenC)).toEqual(sorted(range(120, 150)));
  expect(r.described).toEqual([{ groupId, type: RD_GROUP_TYPE_CONSUMER, state: RD_GROUP_STATE_STABLE, protocolType: "consumer", members: 2, errorCode: 0 }]);
  expect(r.listed.map((g) => ({ groupId: g.groupId, protocolType: g.protocolType, type: g.type }))).toEqual([{ groupId, protocolType: "consumer", type: RD_GROUP_TYPE_CONSUMER }]);
  expect(r.committed).toEqual([0, 1, 2, 3, 4, 5].map((partition) => ({ partition, offset: 25 })));
}

describe("librdkafka with group.protocol=consumer", () => {
  test.skipIf(missing("ckjs"))(
    "uniform and range takeover with resume from commits, and a regex subscription, side by side",
    async () => {
      const b = await inProcessBroker();
      try {
        const [uniform, rangeRun, regex, statics] = await Promise.all([
          nodeClient<Takeover>("ckjs", "groups-consumer.mjs", b.bootstrap, ["takeover", "cu", "cug", "uniform"]),
          nodeClient<Takeover>("ckjs", "groups-consumer.mjs", b.bootstrap, ["takeover", "cr", "crg", "range"]),
          nodeClient<RegexRun>("ckjs", "groups-consumer.mjs", b.bootstrap, ["regex", "rx", "rxg"]),
          nodeClient<StaticRun>("ckjs", "groups-consumer.mjs", b.bootstrap, ["static", "st", "stg"]),
        ]);
        checkTakeover(uniform, "cug");
        // Uniform is sticky: the first member keeps half of what it had, the newcomer takes the rest.
        expect(uniform.split).toEqual({ a: [0, 1, 2], b: [3, 4, 5] });
        checkTakeover(rangeRun, "crg");
        // Range hands out contiguous ranges.
        expect([rangeRun.split.a, rangeRun.split.b].map((p) => p.join(",")).sort()).toEqual(["0,1,2", "3,4,5"]);
        expect(regex).toEqual({
          before: ["rx-a"],
          after: ["rx-a", "rx-b"],
          byTopic: { "rx-a": range(0, 4), "rx-b": sorted(range(10, 16)) },
          emptyState: RD_GROUP_STATE_EMPTY,
          deleted: [{ groupId: "rxg", errorCode: 0 }],
          listedAfterDelete: 0,
        });
        // A static member that closes keeps its place; its instance comes back to the same partitions, the other member never moves.
        expect(sorted([...statics.first.a, ...statics.first.b].map(String))).toEqual(["0", "1", "2", "3"]);
        expect(statics.whileAway).toEqual(["inst-a", "inst-b"]);
        expect(statics.back).toEqual(statics.first.a);
        expect(statics.bAssignments).toEqual([JSON.stringify(statics.first.b)]);
        // The broker's own view matches what the clients saw.
        const groups = b.broker.groups.describeConsumerGroups(["cug", "crg", "rxg", "stg"]);
        expect(groups.map((g) => [g.groupId, g.groupState, g.assignorName, g.errorCode])).toEqual([
          ["cug", "Empty", "uniform", 0],
          ["crg", "Empty", "range", 0],
          ["rxg", "Dead", "", ErrorCode.GROUP_ID_NOT_FOUND],
          // Static members that closed left for a while (epoch -2): they stay until their session runs out.
          ["stg", "Stable", "uniform", 0],
        ]);
        expect(groups[3]!.members.map((m) => [m.instanceId, m.memberEpoch]).sort()).toEqual([
          ["inst-a", -2],
          ["inst-b", -2],
        ]);
      } finally {
        await b.cleanup();
      }
    },
    CLIENT_TEST_TIMEOUT,
  );
});

describe("librdkafka with group.protocol=consumer: a regex resolved as Kafka resolves it", () => {
  test.skipIf(missing("ckjs"))(
    "subscribing to a topic and a regex at once: the first assignment holds the topic alone, the regex's matches come in a later one",
    async () => {
      const b = await inProcessBroker();
      try {
        const r = await nodeClient<{ events: { assigned: boolean; topics: string[] }[]; final: string[] }>("ckjs", "groups-consumer.mjs", b.bootstrap, ["mixed", "mx-lit", "mxr", "mxg"]);
        // Kafka 4.3 answers the heartbeat that brings a new regex with what the group has resolved so far.
        expect(r.events).toEqual([
          { assigned: true, topics: ["mx-lit"] },
          { assigned: true, topics: ["mxr-a"] },
        ]);
      } finally {
        await b.cleanup();
      }
    },
    CLIENT_TEST_TIMEOUT,
  );
});

// ------------------------------------------------------------ the wire

class Conn {
  private buf = new Uint8Array(0);
  private correlation = 0;
  private constructor(private readonly sock: Awaited<ReturnType<typeof Bun.connect>>) {}

  static async open(port: number): Promise<Conn> {
    let conn: Conn | null = null;
    const sock = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data(_s, d) {
          const c = conn!;
          const n = new Uint8Array(c.buf.length + d.length);
          n.set(c.buf);
          n.set(d, c.buf.length);
          c.buf = n;
        },
      },
    });
    conn = new Conn(sock);
    return conn;
  }

  async call(apiKey: number, version: number, body: Uint8Array): Promise<Reader> {
    const header = RequestHeader.encode({ requestApiKey: apiKey, requestApiVersion: version, correlationId: ++this.correlation, clientId: "wire" }, requestHeaderVersion(apiKey, version));
    const frame = new Uint8Array(4 + header.length + body.length);
    new DataView(frame.buffer).setInt32(0, header.length + body.length);
    frame.set(header, 4);
    frame.set(body, 4 + header.length);
    this.sock.write(frame);
    const size = () => (this.buf.length >= 4 ? new DataView(this.buf.buffer, this.buf.byteOffset).getInt32(0) : -1);
    await waitFor(() => size() >= 0 && this.buf.length >= 4 + size(), 10_000, "a response");
    const n = size();
    const frameBytes = this.buf.slice(0, 4 + n);
    this.buf = this.buf.slice(4 + n);
    const r = new Reader(frameBytes, 4);
    expect(r.int32()).toBe(this.correlation);
    if (responseHeaderVersion(apiKey, version) >= 1) r.taggedFields();
    return r;
  }

  async heartbeat(v: number, req: ConsumerGroupHeartbeatRequest.ConsumerGroupHeartbeatRequestInit) {
    return ConsumerGroupHeartbeatResponse.decode(await this.call(68, v, ConsumerGroupHeartbeatRequest.encode(req, v)), v);
  }

  async describe(v: number, groupIds: string[]) {
    return ConsumerGroupDescribeResponse.decode(await this.call(69, v, ConsumerGroupDescribeRequest.encode({ groupIds, includeAuthorizedOperations: false }, v)), v);
  }

  async listGroups(typesFilter: string[]) {
    return ListGroupsResponse.decode(await this.call(16, 5, ListGroupsRequest.encode({ statesFilter: [], typesFilter }, 5)), 5);
  }

  async commit(groupId: string, memberId: string, epoch: number, topic: string, partition: number, offset: bigint) {
    const body = OffsetCommitRequest.encode({ groupId, generationIdOrMemberEpoch: epoch, memberId, topics: [{ name: topic, partitions: [{ partitionIndex: partition, committedOffset: offset, committedMetadata: null }] }] }, 9);
    return OffsetCommitResponse.decode(await this.call(8, 9, body), 9).topics[0]!.partitions[0]!.errorCode;
  }

  async fetch(groupId: string, topic: string, partition: number) {
    const body = OffsetFetchRequest.encode({ groups: [{ groupId, memberId: null, memberEpoch: -1, topics: [{ name: topic, partitionIndexes: [partition] }] }], requireStable: false }, 9);
    return OffsetFetchResponse.decode(await this.call(9, 9, body), 9).groups[0]!;
  }

  async createTopic(name: string, partitions: number) {
    const body = CreateTopicsRequest.encode({ topics: [{ name, numPartitions: partitions, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false }, 7);
    const r = CreateTopicsResponse.decode(await this.call(19, 7, body), 7);
    expect(r.topics[0]!.errorCode).toBe(0);
    return r.topics[0]!.topicId;
  }

  async addPartitions(name: string, count: number) {
    const body = CreatePartitionsRequest.encode({ topics: [{ name, count, assignments: null }], timeoutMs: 5000, validateOnly: false }, 3);
    expect(CreatePartitionsResponse.decode(await this.call(37, 3, body), 3).results[0]!.errorCode).toBe(0);
  }

  close(): void {
    this.sock.end();
  }
}

describe("consumer group protocol on the wire", () => {
  test("a new regex is resolved after the heartbeat that brings it; a changed subscription revokes what only the old one matched", async () => {
    await withSpawnedBroker({}, async (b) => {
      const c = await Conn.open(b.port);
      const lit = await c.createTopic("wl", 2);
      const rx = await c.createTopic("wrx-a", 2);
      await c.createTopic("other", 1);
      type Owned = { topicId: string; partitions: number[] }[];
      let epoch = 0;
      let owned: Owned = [];
      const beat = async (extra: Partial<ConsumerGroupHeartbeatRequest.ConsumerGroupHeartbeatRequestInit> = {}) => {
        const r = await c.heartbeat(1, { groupId: "wrg", memberId: "wm", memberEpoch: epoch, topicPartitions: owned, ...extra });
        expect(r.errorCode).toBe(0);
        epoch = r.memberEpoch;
        if (r.assignment) owned = r.assignment.topicPartitions.map((t) => ({ topicId: t.topicId, partitions: [...t.partitions].sort() }));
        return r;
      };
      const ownedTopics = () => owned.filter((t) => t.partitions.length > 0).map((t) => t.topicId).sort();
      // Names and a regex in the first heartbeat: answered with the named topic's partitions only, at epoch 1.
      const first = await beat({ memberEpoch: 0, rebalanceTimeoutMs: 30_000, subscribedTopicNames: ["wl"], subscribedTopicRegex: "wrx-.*", topicPartitions: [] });
      expect(first.memberEpoch).toBe(1);
      expect(first.assignment!.topicPartitions).toEqual([{ topicId: lit, partitions: [0, 1] }]);
      // The regex is resolved once that answer is out: a later heartbeat gets epoch 2 with its matches.
      await waitFor(async () => (await beat()).memberEpoch === 2, 10_000, "the regex's epoch");
      expect(ownedTopics()).toEqual([lit, rx].sort());
      let d = (await c.describe(1, ["wrg"])).groups[0]!;
      expect([d.groupEpoch, d.members[0]!.subscribedTopicNames, d.members[0]!.subscribedTopicRegex]).toEqual([2, ["wl"], "wrx-.*"]);
      // Dropping the named topic: it is revoked in the same answer, the regex's topic stays.
      const dropped = await beat({ subscribedTopicNames: [] });
      expect(dropped.assignment!.topicPartitions.filter((t) => t.partitions.length > 0).map((t) => t.topicId)).toEqual([rx]);
      await waitFor(async () => (await beat()).memberEpoch === 3, 10_000, "epoch 3");
      expect(ownedTopics()).toEqual([rx]);
      // Dropping the regex: its topics are revoked too; the member owns nothing.
      await beat({ subscribedTopicRegex: "" });
      await waitFor(async () => (await beat()).memberEpoch === 4, 10_000, "epoch 4");
      expect(ownedTopics()).toEqual([]);
      d = (await c.describe(1, ["wrg"])).groups[0]!;
      expect([d.groupEpoch, d.assignmentEpoch, d.members[0]!.assignment.topicPartitions.filter((t) => t.partitions.length > 0)]).toEqual([4, 4, []]);
      c.close();
    });
  });

  test("heartbeats v0/v1, describe, list by type, member-epoch commits, and the group across kill -9", async () => {
    await withSpawnedBroker({}, async (b) => {
      let c = await Conn.open(b.port);
      // Clients look at group.version (KIP-848 needs 1) and at the two APIs.
      const versions = ApiVersionsResponse.decode(await c.call(18, 4, ApiVersionsRequest.encode({ clientSoftwareName: "wire", clientSoftwareVersion: "1" }, 4)), 4);
      expect(versions.supportedFeatures.find((f) => f.name === "group.version")).toMatchObject({ minVersion: 0, maxVersion: 1 });
      expect(versions.finalizedFeatures.find((f) => f.name === "group.version")).toMatchObject({ minVersionLevel: 1, maxVersionLevel: 1 });
      expect(versions.apiKeys.filter((k) => k.apiKey === 68 || k.apiKey === 69).map((k) => [k.apiKey, k.minVersion, k.maxVersion])).toEqual([
        [68, 0, 1],
        [69, 0, 1],
      ]);
      const topicId = await c.createTopic("w", 4);
      const join = { groupId: "wg", memberEpoch: 0, rebalanceTimeoutMs: 30_000, subscribedTopicNames: ["w"], topicPartitions: [] };

      // v0: the coordinator makes the member id; v1: the client must.
      const a = await c.heartbeat(0, { ...join, memberId: "" });
      expect(a).toMatchObject({ errorCode: 0, memberEpoch: 1, heartbeatIntervalMs: DEFAULT_OPTIONS.groupConsumerHeartbeatIntervalMs, assignment: { topicPartitions: [{ topicId, partitions: [0, 1, 2, 3] }] } });
      expect(a.memberId).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect((await c.heartbeat(1, { ...join, memberId: "" })).errorCode).toBe(ErrorCode.INVALID_REQUEST);
      expect((await c.heartbeat(1, { ...join, memberId: "bad", serverAssignor: "nope" })).errorCode).toBe(ErrorCode.UNSUPPORTED_ASSIGNOR);
      expect((await c.heartbeat(1, { ...join, memberId: "bad", subscribedTopicRegex: "(" })).errorCode).toBe(ErrorCode.INVALID_REGULAR_EXPRESSION);
      const bm = await c.heartbeat(1, { ...join, memberId: "member-b", subscribedTopicRegex: "" });
      expect(bm).toMatchObject({ errorCode: 0, memberId: "member-b", memberEpoch: 2, assignment: { topicPartitions: [] } });

      // a must revoke two partitions before b gets them.
      const revoke = await c.heartbeat(0, { groupId: "wg", memberId: a.memberId!, memberEpoch: 1 });
      expect(revoke.memberEpoch).toBe(1);
      const kept = revoke.assignment!.topicPartitions[0]!.partitions;
      expect(kept.length).toBe(2);
      let d = (await c.describe(1, ["wg"])).groups[0]!;
      expect(d).toMatchObject({ errorCode: 0, groupState: "Reconciling", groupEpoch: 2, assignmentEpoch: 2, assignorName: "uniform" });
      expect(d.members.find((m) => m.memberId === "member-b")!.assignment.topicPartitions).toEqual([]);
      const acked = await c.heartbeat(0, { groupId: "wg", memberId: a.memberId!, memberEpoch: 1, topicPartitions: [{ topicId, partitions: kept }] });
      expect(acked.memberEpoch).toBe(2);
      const got = await c.heartbeat(1, { groupId: "wg", memberId: "member-b", memberEpoch: 2, topicPartitions: [] });
      const taken = got.assignment!.topicPartitions[0]!.partitions;
      expect(sorted([...kept, ...taken].map(String))).toEqual(["0", "1", "2", "3"]);

      d = (await c.describe(1, ["wg", "nope"])).groups[0]!;
      expect(d.groupState).toBe("Stable");
      expect(d.members.map((m) => ({ id: m.memberId, epoch: m.memberEpoch, type: m.memberType, parts: m.assignment.topicPartitions.map((t) => [t.topicName, t.partitions]) })).sort((x, y) => (x.id < y.id ? -1 : 1))).toEqual(
        [
          { id: a.memberId!, epoch: 2, type: 1, parts: [["w", kept]] },
          { id: "member-b", epoch: 2, type: 1, parts: [["w", taken]] },
        ].sort((x, y) => (x.id < y.id ? -1 : 1)),
      );
      expect((await c.describe(0, ["nope"])).groups[0]).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: "Group nope not found." });

      // OffsetCommit v9 carries the member epoch.
      expect(await c.commit("wg", "member-b", 2, "w", taken[0]!, 11n)).toBe(0);
      expect(await c.commit("wg", "member-b", 1, "w", taken[0]!, 12n)).toBe(ErrorCode.STALE_MEMBER_EPOCH);
      expect(await c.commit("wg", "ghost", 2, "w", taken[0]!, 12n)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);

      const listed = await c.listGroups(["consumer"]);
      expect(listed.groups.map((g) => [g.groupId, g.protocolType, g.groupState, g.groupType])).toEqual([["wg", "consumer", "Stable", "consumer"]]);
      expect((await c.listGroups(["classic"])).groups).toEqual([]);

      // Acknowledged commits are durable: kill -9, restart, the group is back (empty) with its offsets.
      c.close();
      await b.kill9();
      const b2 = await b.restart();
      c = await Conn.open(b2.port);
      const after = await c.listGroups(["Consumer"]);
      expect(after.groups.map((g) => [g.groupId, g.protocolType, g.groupState, g.groupType])).toEqual([["wg", "consumer", "Empty", "consumer"]]);
      const fetched = await c.fetch("wg", "w", taken[0]!);
      expect(fetched.errorCode).toBe(0);
      expect(fetched.topics[0]!.partitions[0]!.committedOffset).toBe(11n);
      // The old member's epoch means nothing now; it rejoins and the group epoch moves past the old ones.
      expect((await c.heartbeat(1, { groupId: "wg", memberId: "member-b", memberEpoch: 2 })).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
      const rejoined = await c.heartbeat(1, { ...join, memberId: "member-b" });
      expect(rejoined).toMatchObject({ errorCode: 0, memberEpoch: 3, assignment: { topicPartitions: [{ topicId, partitions: [0, 1, 2, 3] }] } });
      // More partitions: a new group epoch at the next heartbeat, with the new partitions in it.
      await c.addPartitions("w", 6);
      const grown = await c.heartbeat(1, { groupId: "wg", memberId: "member-b", memberEpoch: 3 });
      expect(grown).toMatchObject({ errorCode: 0, memberEpoch: 4, assignment: { topicPartitions: [{ topicId, partitions: [0, 1, 2, 3, 4, 5] }] } });
      const leave = await c.heartbeat(1, { groupId: "wg", memberId: "member-b", memberEpoch: -1 });
      expect(leave).toMatchObject({ errorCode: 0, memberId: "member-b", memberEpoch: -1 });
      expect((await c.listGroups([])).groups.map((g) => [g.groupId, g.groupState])).toEqual([["wg", "Empty"]]);
      c.close();
    });
  }, 60_000);
});
