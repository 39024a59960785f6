// Committed offsets in the coordinator: generation and member checks, admin
// commits, metadata, fetch of unknown groups, retention, OffsetDelete,
// DeleteGroups, ListGroups/DescribeGroups and transactional offsets.

import { describe, expect, test } from "bun:test";
import { ErrorCode } from "../../src/protocol/errors.ts";
import type { GroupCoordinator, OffsetCommitInfo } from "../../src/groups/coordinator.ts";
import type { ManualScheduler } from "../../src/groups/scheduler.ts";
import { coordinator, joinReq, proto, startJoin } from "./groups-fixtures.ts";

const DAY = 24 * 60 * 60 * 1000;

function admin(groupId = "g", apiVersion = 8): OffsetCommitInfo {
  return { groupId, memberId: "", groupInstanceId: null, generationIdOrMemberEpoch: -1, retentionTimeMs: -1, apiVersion };
}

const item = (topic: string, partition: number, offset: number, metadata: string | null = "m") => ({ topic, partition, offset: BigInt(offset), leaderEpoch: 3, metadata });

function fetchOne(c: GroupCoordinator, groupId: string, topic: string, partition: number) {
  const r = c.fetchOffsets(groupId, null, -1, [{ topic, partitions: [partition] }], false);
  return r.topics[0]!.partitions[0]!;
}

/** A one-member consumer group subscribed to `topics`, synced and Stable. */
async function liveGroup(c: GroupCoordinator, s: ManualScheduler, groupId = "g", topics = ["t"], protocolType = "consumer") {
  // Sessions of two days let the tests jump whole days with one heartbeat each.
  const a = await startJoin(c, { groupId, protocolType, protocols: [proto("range", topics)], sessionTimeoutMs: 2 * DAY });
  s.advance(0);
  const r = await a.pending;
  await c.sync({ groupId, generationId: r.generationId, memberId: r.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
  return r;
}

describe("offset commit", () => {
  test("admin/simple commit creates the group; fetch round-trips offset, epoch and metadata; null metadata is stored as \"\"", async () => {
    const { c } = coordinator();
    expect(await c.commitOffsets(admin(), [item("t", 0, 42, "hello"), item("t", 1, 7, null)])).toEqual([0, 0]);
    expect(fetchOne(c, "g", "t", 0)).toEqual({ partition: 0, offset: 42n, leaderEpoch: 3, metadata: "hello", errorCode: 0 });
    expect(fetchOne(c, "g", "t", 1).metadata).toBe("");
    expect(c.listGroups([], [])).toEqual([{ groupId: "g", protocolType: "", groupState: "Empty", groupType: "classic" }]);
  });

  test("a group with no commits, or no group at all: offset -1, metadata \"\", no error", () => {
    const { c } = coordinator();
    expect(fetchOne(c, "nobody", "t", 0)).toEqual({ partition: 0, offset: -1n, leaderEpoch: -1, metadata: "", errorCode: 0 });
    expect(c.fetchOffsets("nobody", null, -1, null, false)).toEqual({ errorCode: 0, topics: [] });
  });

  test("fetch with null topics answers every committed offset", async () => {
    const { c } = coordinator();
    await c.commitOffsets(admin(), [item("a", 0, 1), item("b", 2, 5)]);
    const all = c.fetchOffsets("g", null, -1, null, false);
    expect(all.topics.map((t) => [t.topic, t.partitions.map((p) => [p.partition, p.offset])])).toEqual([
      ["a", [[0, 1n]]],
      ["b", [[2, 5n]]],
    ]);
  });

  test("OFFSET_METADATA_TOO_LARGE above 4096 characters, other partitions still commit", async () => {
    const { c } = coordinator();
    expect(await c.commitOffsets(admin(), [item("t", 0, 1, "x".repeat(4097)), item("t", 1, 2, "x".repeat(4096))])).toEqual([ErrorCode.OFFSET_METADATA_TOO_LARGE, 0]);
    expect(fetchOne(c, "g", "t", 0).offset).toBe(-1n);
  });

  test("member commits: current generation accepted; stale generation, unknown member, fenced instance rejected", async () => {
    const { c, s } = coordinator();
    const m = await liveGroup(c, s);
    const as = (over: Partial<OffsetCommitInfo>) => c.commitOffsets({ ...admin(), memberId: m.memberId, generationIdOrMemberEpoch: m.generationId, ...over }, [item("t", 0, 9)]);
    expect(await as({})).toEqual([0]);
    expect(await as({ generationIdOrMemberEpoch: m.generationId - 1 })).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    expect(await as({ memberId: "stranger" })).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    expect(await as({ groupInstanceId: "i-unknown" })).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    // Admin commits (generation -1, no member) are refused while the group has members.
    expect(await c.commitOffsets(admin(), [item("t", 0, 1)])).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
  });

  test("unknown group with a generation: ILLEGAL_GENERATION before v9, GROUP_ID_NOT_FOUND from v9", async () => {
    const { c } = coordinator();
    expect(await c.commitOffsets({ ...admin("x", 8), memberId: "m", generationIdOrMemberEpoch: 3 }, [item("t", 0, 1)])).toEqual([ErrorCode.ILLEGAL_GENERATION]);
    expect(await c.commitOffsets({ ...admin("x", 9), memberId: "m", generationIdOrMemberEpoch: 3 }, [item("t", 0, 1)])).toEqual([ErrorCode.GROUP_ID_NOT_FOUND]);
  });

  test("commit during CompletingRebalance: REBALANCE_IN_PROGRESS; during PreparingRebalance the current generation may commit", async () => {
    const { c, s } = coordinator();
    const a = await startJoin(c);
    s.advance(0);
    const r = await a.pending;
    const who = { ...admin(), memberId: r.memberId, generationIdOrMemberEpoch: 1 };
    expect(await c.commitOffsets(who, [item("t", 0, 1)])).toEqual([ErrorCode.REBALANCE_IN_PROGRESS]);
    await c.sync({ groupId: "g", generationId: 1, memberId: r.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    await startJoin(c);
    expect(await c.commitOffsets(who, [item("t", 0, 2)])).toEqual([0]);
  });

  test("the group emptied: admin commits (offset reset) are allowed again", async () => {
    const { c, s } = coordinator();
    const m = await liveGroup(c, s);
    c.leave("g", [{ memberId: m.memberId, groupInstanceId: null }]);
    expect(await c.commitOffsets(admin(), [item("t", 0, 0)])).toEqual([0]);
  });
});

describe("retention", () => {
  test("offsets of an empty consumer group expire 7 days after it became empty; then the group goes", async () => {
    const { c, s } = coordinator();
    const m = await liveGroup(c, s);
    await c.commitOffsets({ ...admin(), memberId: m.memberId, generationIdOrMemberEpoch: m.generationId }, [item("t", 0, 5)]);
    for (let d = 0; d < 10; d++) {
      s.advance(DAY);
      c.heartbeat("g", m.memberId, null, m.generationId);
    }
    c.cleanup();
    // Stable and subscribed to t: kept however old.
    expect(fetchOne(c, "g", "t", 0).offset).toBe(5n);
    c.leave("g", [{ memberId: m.memberId, groupInstanceId: null }]);
    s.advance(7 * DAY - 1);
    c.cleanup();
    expect(fetchOne(c, "g", "t", 0).offset).toBe(5n);
    s.advance(1);
    c.cleanup();
    expect(fetchOne(c, "g", "t", 0).offset).toBe(-1n);
    expect(c.listGroups([], [])).toEqual([]);
  });

  test("a stable consumer group keeps offsets of subscribed topics but expires the others by commit time", async () => {
    const { c, s } = coordinator();
    const m = await liveGroup(c, s, "g", ["t"]);
    await c.commitOffsets({ ...admin(), memberId: m.memberId, generationIdOrMemberEpoch: m.generationId }, [item("t", 0, 1), item("old", 0, 1)]);
    for (let d = 0; d < 8; d++) {
      s.advance(DAY);
      c.heartbeat("g", m.memberId, null, m.generationId);
    }
    c.cleanup();
    expect(fetchOne(c, "g", "t", 0).offset).toBe(1n);
    expect(fetchOne(c, "g", "old", 0).offset).toBe(-1n);
  });

  test("simple groups expire by commit time; an explicit v2-4 retention wins", async () => {
    const { c, s } = coordinator();
    await c.commitOffsets(admin(), [item("t", 0, 1)]);
    await c.commitOffsets({ ...admin("short"), retentionTimeMs: 60_000 }, [item("t", 0, 1)]);
    s.advance(61_000);
    c.cleanup();
    expect(c.listGroups([], []).map((g) => g.groupId)).toEqual(["g"]);
    s.advance(7 * DAY);
    c.cleanup();
    expect(c.listGroups([], [])).toEqual([]);
  });

  test("connect groups with members never expire offsets", async () => {
    const { c, s } = coordinator();
    const m = await liveGroup(c, s, "cg", ["t"], "connect");
    await c.commitOffsets({ ...admin("cg"), memberId: m.memberId, generationIdOrMemberEpoch: m.generationId }, [item("t", 0, 1)]);
    for (let d = 0; d < 8; d++) {
      s.advance(DAY);
      c.heartbeat("cg", m.memberId, null, m.generationId);
    }
    c.cleanup();
    expect(fetchOne(c, "cg", "t", 0).offset).toBe(1n);
  });

  test("offsets of deleted topics go with the topic", async () => {
    const { c } = coordinator();
    await c.commitOffsets(admin(), [item("gone", 0, 1), item("kept", 0, 1)]);
    c.onTopicDeleted("gone");
    expect(c.fetchOffsets("g", null, -1, null, false).topics.map((t) => t.topic)).toEqual(["kept"]);
  });
});

describe("admin", () => {
  test("OffsetDelete: unknown group, subscribed topics refused, others deleted; non-consumer live groups: NON_EMPTY_GROUP", async () => {
    const { c, s } = coordinator();
    expect((await c.deleteOffsets("nope", [{ topic: "t", partitions: [0] }])).errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
    const m = await liveGroup(c, s, "g", ["t"]);
    await c.commitOffsets({ ...admin(), memberId: m.memberId, generationIdOrMemberEpoch: m.generationId }, [item("t", 0, 1), item("u", 0, 1)]);
    const r = await c.deleteOffsets("g", [
      { topic: "t", partitions: [0] },
      { topic: "u", partitions: [0, 1] },
    ]);
    expect(r).toEqual({
      errorCode: 0,
      topics: [
        { topic: "t", partitions: [{ partition: 0, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC }] },
        { topic: "u", partitions: [{ partition: 0, errorCode: 0 }, { partition: 1, errorCode: 0 }] },
      ],
    });
    expect(fetchOne(c, "g", "u", 0).offset).toBe(-1n);
    expect(fetchOne(c, "g", "t", 0).offset).toBe(1n);
    await liveGroup(c, s, "cg", ["t"], "connect");
    expect((await c.deleteOffsets("cg", [{ topic: "t", partitions: [0] }])).errorCode).toBe(ErrorCode.NON_EMPTY_GROUP);
  });

  test("DeleteGroups: NON_EMPTY_GROUP for live groups, GROUP_ID_NOT_FOUND for unknown ones, empty ones go with their offsets", async () => {
    const { c, s } = coordinator();
    await liveGroup(c, s, "live");
    await c.commitOffsets(admin("idle"), [item("t", 0, 3)]);
    expect(await c.deleteGroups(["live", "idle", "ghost", "idle"])).toEqual([
      { groupId: "live", errorCode: ErrorCode.NON_EMPTY_GROUP },
      { groupId: "idle", errorCode: 0 },
      { groupId: "ghost", errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
      { groupId: "idle", errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
    ]);
    expect(fetchOne(c, "idle", "t", 0).offset).toBe(-1n);
  });

  test("ListGroups filters by state and type, case-insensitively", async () => {
    const { c, s } = coordinator();
    await liveGroup(c, s, "live");
    await c.commitOffsets(admin("idle"), [item("t", 0, 3)]);
    expect(c.listGroups([], []).map((g) => [g.groupId, g.groupState, g.protocolType])).toEqual([
      ["live", "Stable", "consumer"],
      ["idle", "Empty", ""],
    ]);
    expect(c.listGroups(["empty"], []).map((g) => g.groupId)).toEqual(["idle"]);
    expect(c.listGroups(["STABLE", "Dead"], []).map((g) => g.groupId)).toEqual(["live"]);
    expect(c.listGroups([], ["Classic"])).toHaveLength(2);
    expect(c.listGroups([], ["consumer"])).toHaveLength(0);
    expect(c.listGroups([], ["bogus"])).toHaveLength(0);
  });

  test("DescribeGroups: members with metadata and assignment once Stable; unknown groups are Dead with GROUP_ID_NOT_FOUND", async () => {
    const { c, s } = coordinator();
    const a = await startJoin(c, { clientId: "app" });
    s.advance(0);
    const r = await a.pending;
    let d = c.describeGroups(["g", "nope"]);
    expect(d[0]).toMatchObject({ groupState: "CompletingRebalance", protocolType: "consumer", protocolData: "", errorCode: 0 });
    expect(d[0]!.members[0]!.memberMetadata).toEqual(new Uint8Array(0));
    expect(d[1]).toMatchObject({ groupId: "nope", groupState: "Dead", errorCode: ErrorCode.GROUP_ID_NOT_FOUND, members: [] });
    await c.sync({ groupId: "g", generationId: 1, memberId: r.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [{ memberId: r.memberId, assignment: new Uint8Array([4, 2]) }] });
    d = c.describeGroups(["g"]);
    expect(d[0]).toMatchObject({ groupState: "Stable", protocolData: "range" });
    expect(d[0]!.members[0]).toEqual({ memberId: r.memberId, groupInstanceId: null, clientId: "app", clientHost: "/127.0.0.1", memberMetadata: joinReq().protocols[0]!.metadata, memberAssignment: new Uint8Array([4, 2]) });
  });
});

describe("transactional offsets", () => {
  const txn = (producerId: number) => ({ groupId: "g", producerId, memberId: "", groupInstanceId: null, generationId: -1, apiVersion: 3 });

  test("pending until the transaction commits; require_stable sees UNSTABLE_OFFSET_COMMIT meanwhile; abort drops them", async () => {
    const { c } = coordinator();
    await c.commitOffsets(admin(), [item("t", 0, 1)]);
    expect(await c.commitTransactionalOffsets(txn(7), [item("t", 0, 10)])).toEqual([0]);
    expect(fetchOne(c, "g", "t", 0).offset).toBe(1n);
    expect(c.fetchOffsets("g", null, -1, [{ topic: "t", partitions: [0] }], true).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.UNSTABLE_OFFSET_COMMIT);
    await c.completeTransaction("g", 7, true);
    expect(fetchOne(c, "g", "t", 0).offset).toBe(10n);
    await c.commitTransactionalOffsets(txn(8), [item("t", 0, 20)]);
    await c.completeTransaction("g", 8, false);
    expect(c.fetchOffsets("g", null, -1, [{ topic: "t", partitions: [0] }], true).topics[0]!.partitions[0]!).toMatchObject({ offset: 10n, errorCode: 0 });
  });
});
