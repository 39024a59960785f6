// The group APIs through the dispatcher, at every served version: requests
// encoded by the generated codecs, answers decoded back. Catches fields a
// version cannot carry as well as wrong answers. The coordinator runs on a
// manual clock, swapped into a real Broker.

import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Broker } from "../../src/broker.ts";
import { DEFAULT_OPTIONS } from "../../src/config.ts";
import { GroupCoordinator } from "../../src/groups/coordinator.ts";
import { ManualScheduler } from "../../src/groups/scheduler.ts";
import { ErrorCode } from "../../src/protocol/errors.ts";
import { subscription } from "./groups-fixtures.ts";
import { callDispatcher, type Obj } from "../helpers/dispatch-call.ts";

const KEY = { OffsetCommit: 8, OffsetFetch: 9, FindCoordinator: 10, JoinGroup: 11, Heartbeat: 12, LeaveGroup: 13, SyncGroup: 14, DescribeGroups: 15, ListGroups: 16, DeleteGroups: 42, OffsetDelete: 47 } as const;

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), "klite-grp-h-"));
  const broker = new Broker({ ...DEFAULT_OPTIONS, dataDir: dir, logLevel: "error" });
  await broker.groups.close();
  const s = new ManualScheduler();
  const c = new GroupCoordinator({ dataDir: null, fsync: "never", scheduler: s });
  c.load();
  (broker as unknown as { groups: GroupCoordinator }).groups = c;
  broker.topics.create("t", 3, {});
  cleanups.push(async () => {
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { broker, s, c };
}


const call = callDispatcher;

/** Like call(), for requests that park: fires timers until the answer comes. */
async function callParked(broker: Broker, s: ManualScheduler, apiKey: number, version: number, body: Obj): Promise<Obj> {
  const p = call(broker, apiKey, version, body);
  await new Promise((r) => setImmediate(r));
  s.advance(0);
  return p;
}

const meta = subscription(["t"]);

describe("FindCoordinator", () => {
  test("every version answers with this broker; v4+ per key; bad key types are INVALID_REQUEST", async () => {
    const { broker } = await setup();
    broker.advertisedHost = "adv.example";
    broker.advertisedPort = 9999;
    for (let v = 0; v <= 3; v++) {
      const r = await call(broker, KEY.FindCoordinator, v, { key: "g", keyType: 0 });
      expect(r).toMatchObject({ errorCode: 0, nodeId: broker.nodeId, host: "adv.example", port: 9999 });
    }
    expect(await call(broker, KEY.FindCoordinator, 1, { key: "txn", keyType: 1 })).toMatchObject({ errorCode: 0, port: 9999 });
    expect(await call(broker, KEY.FindCoordinator, 2, { key: "x", keyType: 5 })).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST });
    for (let v = 4; v <= 6; v++) {
      const r = await call(broker, KEY.FindCoordinator, v, { keyType: 1, coordinatorKeys: ["a", "b"] });
      expect(r.coordinators).toMatchObject([
        { key: "a", nodeId: broker.nodeId, host: "adv.example", port: 9999, errorCode: 0, errorMessage: null },
        { key: "b", nodeId: broker.nodeId, host: "adv.example", port: 9999, errorCode: 0, errorMessage: null },
      ]);
    }
    const share = await call(broker, KEY.FindCoordinator, 6, { keyType: 2, coordinatorKeys: ["s:x:0"] });
    expect((share.coordinators as Obj[])[0]).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST });
  });
});

describe("membership at every version", () => {
  for (let jv = 0; jv <= 9; jv++) {
    test(`JoinGroup v${jv} with SyncGroup/Heartbeat/LeaveGroup at matching versions`, async () => {
      const { broker, s } = await setup();
      const sv = Math.min(jv, 5);
      const hv = Math.min(jv, 4);
      const lv = Math.min(jv, 5);
      const groupId = `g${jv}`;
      const join = { groupId, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 20_000, memberId: "", protocolType: "consumer", protocols: [{ name: "range", metadata: meta }] };
      let memberId = "";
      if (jv >= 4) {
        const first = await call(broker, KEY.JoinGroup, jv, join);
        expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
        memberId = first.memberId as string;
        expect(memberId.startsWith("tester-")).toBe(true);
      }
      const r = await callParked(broker, s, KEY.JoinGroup, jv, { ...join, memberId });
      expect(r).toMatchObject({ errorCode: 0, generationId: 1, protocolName: "range", leader: r.memberId });
      if (jv >= 7) expect(r.protocolType).toBe("consumer");
      expect((r.members as Obj[])[0]).toMatchObject({ memberId: r.memberId, metadata: meta });
      memberId = r.memberId as string;
      const syncBody = { groupId, generationId: 1, memberId, protocolType: "consumer", protocolName: "range", assignments: [{ memberId, assignment: new Uint8Array([1, 2, 3]) }] };
      const sr = await call(broker, KEY.SyncGroup, sv, syncBody);
      expect(sr).toMatchObject({ errorCode: 0, assignment: new Uint8Array([1, 2, 3]) });
      if (sv >= 5) expect(sr).toMatchObject({ protocolType: "consumer", protocolName: "range" });
      expect(await call(broker, KEY.Heartbeat, hv, { groupId, generationId: 1, memberId })).toMatchObject({ errorCode: 0 });
      expect(await call(broker, KEY.Heartbeat, hv, { groupId, generationId: 0, memberId })).toMatchObject({ errorCode: ErrorCode.ILLEGAL_GENERATION });
      const leave = lv >= 3 ? { groupId, members: [{ memberId, groupInstanceId: null, reason: null }] } : { groupId, memberId };
      const lr = await call(broker, KEY.LeaveGroup, lv, leave);
      expect(lr.errorCode).toBe(0);
      if (lv >= 3) expect(lr.members).toMatchObject([{ memberId, groupInstanceId: null, errorCode: 0 }]);
      const again = await call(broker, KEY.LeaveGroup, lv, leave);
      if (lv >= 3) expect((again.members as Obj[])[0]!.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
      else expect(again.errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    });
  }

  test("JoinGroup request checks: empty group id, session timeout bounds, oversize metadata", async () => {
    const { broker } = await setup();
    const join = { groupId: "g", sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 20_000, memberId: "", protocolType: "consumer", protocols: [{ name: "range", metadata: meta }] };
    expect((await call(broker, KEY.JoinGroup, 9, { ...join, groupId: "" })).errorCode).toBe(ErrorCode.INVALID_GROUP_ID);
    expect((await call(broker, KEY.JoinGroup, 9, { ...join, sessionTimeoutMs: 5999 })).errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    expect((await call(broker, KEY.JoinGroup, 9, { ...join, sessionTimeoutMs: 1_800_001 })).errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
    expect((await call(broker, KEY.JoinGroup, 9, { ...join, sessionTimeoutMs: 6000 })).errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    const big = new Uint8Array(1024 * 1024 + 1);
    expect((await call(broker, KEY.JoinGroup, 9, { ...join, protocols: [{ name: "range", metadata: big }] })).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect((await call(broker, KEY.JoinGroup, 5, { ...join, memberId: "stale" })).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  test("SyncGroup v5+ without protocol type or name: INCONSISTENT_GROUP_PROTOCOL", async () => {
    const { broker } = await setup();
    expect((await call(broker, KEY.SyncGroup, 5, { groupId: "g", generationId: 1, memberId: "m", protocolType: null, protocolName: "range" })).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect((await call(broker, KEY.SyncGroup, 4, { groupId: "g", generationId: 1, memberId: "m" })).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });
});

describe("offsets at every version", () => {
  test("OffsetCommit v2-10 then OffsetFetch v1-10 read it back; unknown topics, ids and partitions", async () => {
    const { broker } = await setup();
    const topicId = broker.topics.get("t")!.id;
    for (let cv = 2; cv <= 10; cv++) {
      const groupId = `c${cv}`;
      const topic = cv >= 10 ? { topicId } : { name: "t" };
      const partitions = [
        { partitionIndex: 0, committedOffset: BigInt(100 + cv), committedLeaderEpoch: 4, committedMetadata: `v${cv}` },
        { partitionIndex: 9, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: null },
      ];
      const unknown = cv >= 10 ? { topicId: "0123456789abcdef0123456789abcdef" } : { name: "nope" };
      const r = await call(broker, KEY.OffsetCommit, cv, { groupId, generationIdOrMemberEpoch: -1, memberId: "", topics: [{ ...topic, partitions }, { ...unknown, partitions: [{ partitionIndex: 0, committedOffset: 1n, committedMetadata: "" }] }] });
      const topics = r.topics as Obj[];
      expect((topics[0]!.partitions as Obj[]).map((p) => p.errorCode)).toEqual([0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
      expect((topics[1]!.partitions as Obj[])[0]!.errorCode).toBe(cv >= 10 ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      if (cv >= 10) expect(topics[0]!.topicId).toBe(topicId);
      else expect(topics[0]!.name).toBe("t");

      for (let fv = 1; fv <= 10; fv++) {
        let parts: Obj[];
        if (fv < 8) {
          const f = await call(broker, KEY.OffsetFetch, fv, { groupId, topics: [{ name: "t", partitionIndexes: [0, 1] }] });
          if (fv >= 2) expect(f.errorCode).toBe(0);
          parts = (f.topics as Obj[])[0]!.partitions as Obj[];
        } else {
          const t = fv >= 10 ? { topicId } : { name: "t" };
          const f = await call(broker, KEY.OffsetFetch, fv, { groups: [{ groupId, memberId: null, memberEpoch: -1, topics: [{ ...t, partitionIndexes: [0, 1] }] }] });
          const g = (f.groups as Obj[])[0]!;
          expect(g.errorCode).toBe(0);
          parts = (g.topics as Obj[])[0]!.partitions as Obj[];
          if (fv >= 10) expect((g.topics as Obj[])[0]!.topicId).toBe(topicId);
        }
        expect(parts[0]).toMatchObject({ partitionIndex: 0, committedOffset: BigInt(100 + cv), metadata: `v${cv}`, errorCode: 0 });
        if (fv >= 5) expect(parts[0]!.committedLeaderEpoch).toBe(cv >= 6 ? 4 : -1);
        expect(parts[1]).toMatchObject({ partitionIndex: 1, committedOffset: -1n, metadata: "", errorCode: 0 });
      }
    }
  });

  test("OffsetFetch: null topics (v2+) lists every committed offset; batched groups (v8+); unknown groups answer -1 without error", async () => {
    const { broker } = await setup();
    await call(broker, KEY.OffsetCommit, 8, { groupId: "a", generationIdOrMemberEpoch: -1, memberId: "", topics: [{ name: "t", partitions: [{ partitionIndex: 2, committedOffset: 5n, committedMetadata: "x" }] }] });
    const all = await call(broker, KEY.OffsetFetch, 7, { groupId: "a", topics: null, requireStable: true });
    expect(all).toMatchObject({ errorCode: 0, topics: [{ name: "t", partitions: [{ partitionIndex: 2, committedOffset: 5n, metadata: "x", errorCode: 0 }] }] });
    const batch = await call(broker, KEY.OffsetFetch, 10, {
      groups: [
        { groupId: "a", memberId: null, memberEpoch: -1, topics: null },
        { groupId: "nobody", memberId: null, memberEpoch: -1, topics: [{ topicId: broker.topics.get("t")!.id, partitionIndexes: [0] }, { topicId: "0123456789abcdef0123456789abcdef", partitionIndexes: [0] }] },
      ],
      requireStable: false,
    });
    const [ga, gn] = batch.groups as Obj[];
    expect(ga!.topics).toMatchObject([{ topicId: broker.topics.get("t")!.id, partitions: [{ partitionIndex: 2, committedOffset: 5n, committedLeaderEpoch: -1, metadata: "x", errorCode: 0 }] }]);
    expect(gn!.errorCode).toBe(0);
    expect(((gn!.topics as Obj[])[0]!.partitions as Obj[])[0]).toMatchObject({ committedOffset: -1n, errorCode: 0, metadata: "" });
    expect(((gn!.topics as Obj[])[1]!.partitions as Obj[])[0]).toMatchObject({ committedOffset: -1n, errorCode: ErrorCode.UNKNOWN_TOPIC_ID });
  });

  test("OffsetCommit from a stale generation: ILLEGAL_GENERATION; the coordinator keeps serving", async () => {
    const { broker, s } = await setup();
    const first = await call(broker, KEY.JoinGroup, 5, { groupId: "g", sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 20_000, memberId: "", protocolType: "consumer", protocols: [{ name: "range", metadata: meta }] });
    const j = await callParked(broker, s, KEY.JoinGroup, 5, { groupId: "g", sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 20_000, memberId: first.memberId, protocolType: "consumer", protocols: [{ name: "range", metadata: meta }] });
    await call(broker, KEY.SyncGroup, 3, { groupId: "g", generationId: 1, memberId: j.memberId, assignments: [] });
    const commit = (gen: number) => call(broker, KEY.OffsetCommit, 8, { groupId: "g", generationIdOrMemberEpoch: gen, memberId: j.memberId, topics: [{ name: "t", partitions: [{ partitionIndex: 0, committedOffset: 3n, committedMetadata: null }] }] });
    expect(((await commit(0)).topics as Obj[])[0]).toMatchObject({ partitions: [{ partitionIndex: 0, errorCode: ErrorCode.ILLEGAL_GENERATION }] });
    expect(((await commit(1)).topics as Obj[])[0]).toMatchObject({ partitions: [{ partitionIndex: 0, errorCode: 0 }] });
  });
});

describe("admin APIs at every version", () => {
  async function stableGroup(broker: Broker, s: ManualScheduler, groupId: string, instance: string | null = null) {
    const join = { groupId, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 20_000, memberId: "", groupInstanceId: instance, protocolType: "consumer", protocols: [{ name: "range", metadata: meta }] };
    // Static members are admitted at once; dynamic ones come back with the id they are given.
    const first = instance === null ? await call(broker, KEY.JoinGroup, 5, join) : { memberId: "" };
    const j = await callParked(broker, s, KEY.JoinGroup, 5, { ...join, memberId: first.memberId });
    expect(j.errorCode).toBe(0);
    await call(broker, KEY.SyncGroup, 3, { groupId, generationId: 1, memberId: j.memberId, groupInstanceId: instance, assignments: [{ memberId: j.memberId, assignment: new Uint8Array([9]) }] });
    return j.memberId as string;
  }

  test("DescribeGroups v0-6: members, protocol and state; unknown: Dead, and GROUP_ID_NOT_FOUND from v6; authorized operations when asked", async () => {
    const { broker, s } = await setup();
    const member = await stableGroup(broker, s, "g", "inst-1");
    for (let v = 0; v <= 6; v++) {
      const r = await call(broker, KEY.DescribeGroups, v, { groups: ["g", "nope"], includeAuthorizedOperations: v >= 3 });
      const [g, n] = r.groups as Obj[];
      expect(g).toMatchObject({ errorCode: 0, groupId: "g", groupState: "Stable", protocolType: "consumer", protocolData: "range" });
      expect((g!.members as Obj[])[0]).toMatchObject({ memberId: member, clientId: "tester", clientHost: "/10.0.0.1", memberMetadata: meta, memberAssignment: new Uint8Array([9]) });
      if (v >= 4) expect((g!.members as Obj[])[0]!.groupInstanceId).toBe("inst-1");
      if (v >= 3) expect(g!.authorizedOperations).toBe((1 << 3) | (1 << 6) | (1 << 8));
      expect(n).toMatchObject({ groupId: "nope", groupState: "Dead", members: [], errorCode: v >= 6 ? ErrorCode.GROUP_ID_NOT_FOUND : 0 });
    }
  });

  test("ListGroups v0-5 with state and type filters", async () => {
    const { broker, s } = await setup();
    await stableGroup(broker, s, "live");
    await call(broker, KEY.OffsetCommit, 8, { groupId: "idle", generationIdOrMemberEpoch: -1, memberId: "", topics: [{ name: "t", partitions: [{ partitionIndex: 0, committedOffset: 1n, committedMetadata: "" }] }] });
    for (let v = 0; v <= 5; v++) {
      const r = await call(broker, KEY.ListGroups, v, {});
      expect((r.groups as Obj[]).map((g) => g.groupId)).toEqual(["live", "idle"]);
      expect((r.groups as Obj[])[0]).toMatchObject({ protocolType: "consumer" });
      if (v >= 4) expect((r.groups as Obj[]).map((g) => g.groupState)).toEqual(["Stable", "Empty"]);
      if (v >= 5) expect((r.groups as Obj[])[0]!.groupType).toBe("classic");
    }
    expect(((await call(broker, KEY.ListGroups, 4, { statesFilter: ["Empty"] })).groups as Obj[]).map((g) => g.groupId)).toEqual(["idle"]);
    expect((await call(broker, KEY.ListGroups, 5, { typesFilter: ["consumer"] })).groups).toEqual([]);
  });

  test("DeleteGroups v0-2 and OffsetDelete v0", async () => {
    const { broker, s } = await setup();
    await stableGroup(broker, s, "live");
    await call(broker, KEY.OffsetCommit, 8, { groupId: "live", generationIdOrMemberEpoch: -1, memberId: "", topics: [] });
    for (let v = 0; v <= 2; v++) {
      const idle = `idle${v}`;
      await call(broker, KEY.OffsetCommit, 8, { groupId: idle, generationIdOrMemberEpoch: -1, memberId: "", topics: [{ name: "t", partitions: [{ partitionIndex: 0, committedOffset: 1n, committedMetadata: "" }] }] });
      const r = await call(broker, KEY.DeleteGroups, v, { groupsNames: ["live", idle, "ghost"] });
      expect(r.results).toMatchObject([
        { groupId: "live", errorCode: ErrorCode.NON_EMPTY_GROUP },
        { groupId: idle, errorCode: 0 },
        { groupId: "ghost", errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
      ]);
    }
    await call(broker, KEY.OffsetCommit, 8, { groupId: "e", generationIdOrMemberEpoch: -1, memberId: "", topics: [{ name: "t", partitions: [{ partitionIndex: 0, committedOffset: 1n, committedMetadata: "" }] }] });
    const od = await call(broker, KEY.OffsetDelete, 0, { groupId: "e", topics: [{ name: "t", partitions: [{ partitionIndex: 0 }] }, { name: "missing", partitions: [{ partitionIndex: 0 }] }] });
    expect(od).toMatchObject({ errorCode: 0, topics: [{ name: "t", partitions: [{ partitionIndex: 0, errorCode: 0 }] }, { name: "missing", partitions: [{ partitionIndex: 0, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }] }] });
    expect((await call(broker, KEY.OffsetDelete, 0, { groupId: "live", topics: [{ name: "t", partitions: [{ partitionIndex: 0 }] }] })).topics).toMatchObject([
      { name: "t", partitions: [{ partitionIndex: 0, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC }] },
    ]);
    expect((await call(broker, KEY.OffsetDelete, 0, { groupId: "ghost", topics: [] })).errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
  });
});
