// The classic rebalance protocol on a manual clock: joins, protocol
// selection, leader election, sync, heartbeats, session and rebalance
// timeouts, leaving, static membership, pending members and pending syncs.

import { describe, expect, test } from "bun:test";
import { ErrorCode } from "../../src/protocol/errors.ts";
import { ClassicGroup } from "../../src/groups/classic-group.ts";
import { coordinator, joinReq, proto, settled, startJoin, subscription } from "./groups-fixtures.ts";
import type { GroupCoordinator } from "../../src/groups/coordinator.ts";

function group(c: GroupCoordinator, id = "g"): ClassicGroup {
  const g = c.groups.get(id);
  if (!(g instanceof ClassicGroup)) throw new Error("no classic group");
  return g;
}

/** Two members through a complete first rebalance (leader = a); returns their ids and the generation. */
async function stableOfTwo(c: GroupCoordinator, s: import("../../src/groups/scheduler.ts").ManualScheduler) {
  const a = await startJoin(c, { clientId: "a" });
  s.advance(0);
  const ra = await a.pending;
  expect(ra.generationId).toBe(1);
  await c.sync({ groupId: "g", generationId: 1, memberId: a.memberId, groupInstanceId: null, protocolType: "consumer", protocolName: "range", assignments: [] });
  const b = await startJoin(c, { clientId: "b" });
  // b's join started a rebalance: a learns it from its heartbeat and rejoins.
  expect(c.heartbeat("g", a.memberId, null, 1)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
  const a2 = c.join(joinReq({ memberId: a.memberId, clientId: "a" }));
  const [ja, jb] = await Promise.all([a2, b.pending]);
  return { a: a.memberId, b: b.memberId, ja, jb };
}

describe("classic join", () => {
  test("first join without member id: MEMBER_ID_REQUIRED with client.id-uuid, then the member leads generation 1", async () => {
    const { c, s } = coordinator();
    const first = await c.join(joinReq({ clientId: "app" }));
    expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    expect(first.memberId).toMatch(/^app-[0-9a-f-]{36}$/);
    expect(first.generationId).toBe(-1);
    expect(group(c).pendingJoinMembers.has(first.memberId)).toBe(true);
    const p = c.join(joinReq({ memberId: first.memberId }));
    // The initial rebalance completes on its (zero) delay timer, not inline.
    expect(await settled(p)).toBe(false);
    s.advance(0);
    const r = await p;
    expect(r).toMatchObject({ errorCode: 0, generationId: 1, protocolType: "consumer", protocolName: "range", leader: first.memberId, memberId: first.memberId, skipAssignment: false });
    expect(r.members.map((m) => m.memberId)).toEqual([first.memberId]);
    expect(group(c).state).toBe("CompletingRebalance");
  });

  test("v0-3 joins are accepted at once, without MEMBER_ID_REQUIRED", async () => {
    const { c, s } = coordinator();
    const p = c.join(joinReq({ requireKnownMemberId: false }));
    s.advance(0);
    const r = await p;
    expect(r.errorCode).toBe(0);
    expect(r.memberId).not.toBe("");
    expect(r.leader).toBe(r.memberId);
  });

  test("second member: rebalance, both answered with generation 2; only the leader gets the member list", async () => {
    const { c, s } = coordinator();
    const { a, b, ja, jb } = await stableOfTwo(c, s);
    expect(ja).toMatchObject({ errorCode: 0, generationId: 2, leader: a });
    expect(jb).toMatchObject({ errorCode: 0, generationId: 2, leader: a, members: [] });
    expect(ja.members.map((m) => m.memberId).sort()).toEqual([a, b].sort());
    expect(ja.members.find((m) => m.memberId === b)!.metadata).toEqual(subscription(["t"]));
  });

  test("sync: followers wait for the leader's assignment; then everyone has theirs and the group is Stable", async () => {
    const { c, s } = coordinator();
    const { a, b } = await stableOfTwo(c, s);
    const fb = c.sync({ groupId: "g", generationId: 2, memberId: b, groupInstanceId: null, protocolType: "consumer", protocolName: "range", assignments: [] });
    expect(await settled(fb)).toBe(false);
    const fa = await c.sync({
      groupId: "g",
      generationId: 2,
      memberId: a,
      groupInstanceId: null,
      protocolType: "consumer",
      protocolName: "range",
      assignments: [
        { memberId: a, assignment: new Uint8Array([1]) },
        { memberId: b, assignment: new Uint8Array([2]) },
      ],
    });
    expect(fa).toEqual({ errorCode: 0, protocolType: "consumer", protocolName: "range", assignment: new Uint8Array([1]) });
    expect((await fb).assignment).toEqual(new Uint8Array([2]));
    expect(group(c).state).toBe("Stable");
    // A late sync in Stable gets the current assignment.
    expect((await c.sync({ groupId: "g", generationId: 2, memberId: b, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] })).assignment).toEqual(new Uint8Array([2]));
  });

  test("sync errors: unknown group/member, stale generation, protocol mismatch, rebalance in progress", async () => {
    const { c, s } = coordinator();
    const base = { groupId: "g", generationId: 1, memberId: "x", groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] };
    expect((await c.sync(base)).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const a = await startJoin(c);
    s.advance(0);
    await a.pending;
    expect((await c.sync({ ...base, memberId: "nobody" })).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect((await c.sync({ ...base, memberId: a.memberId, generationId: 7 })).errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect((await c.sync({ ...base, memberId: a.memberId, protocolType: "connect" })).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect((await c.sync({ ...base, memberId: a.memberId, protocolName: "roundrobin" })).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    await c.sync({ ...base, memberId: a.memberId });
    // A second member's join puts the group in PreparingRebalance until a rejoins.
    await startJoin(c);
    expect(group(c).state).toBe("PreparingRebalance");
    expect((await c.sync({ ...base, memberId: a.memberId })).errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
  });

  test("a new join while followers wait in sync: they get REBALANCE_IN_PROGRESS", async () => {
    const { c, s } = coordinator();
    const { b } = await stableOfTwo(c, s);
    const fb = c.sync({ groupId: "g", generationId: 2, memberId: b, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    const third = await startJoin(c, { clientId: "c3" });
    expect((await fb).errorCode).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    void third;
  });
});

describe("protocol selection", () => {
  test("INCONSISTENT_GROUP_PROTOCOL for another protocol type or no common protocol; empty type or protocols never join", async () => {
    const { c, s } = coordinator();
    expect((await c.join(joinReq({ protocolType: "" }))).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect((await c.join(joinReq({ protocols: [] }))).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const a = await startJoin(c, { protocols: [proto("range")] });
    s.advance(0);
    await a.pending;
    expect((await c.join(joinReq({ protocolType: "connect", protocols: [proto("range")] }))).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect((await c.join(joinReq({ protocols: [proto("roundrobin")] }))).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    expect((await c.join(joinReq({ memberId: a.memberId, protocols: [proto("sticky")] }))).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
  });

  test("members vote: the protocol all support that most members prefer wins", async () => {
    const { c, s } = coordinator();
    const a = await startJoin(c, { protocols: [proto("cooperative-sticky"), proto("range")] });
    s.advance(0);
    await a.pending;
    expect(group(c).protocolName).toBe("cooperative-sticky");
    const b = await startJoin(c, { protocols: [proto("range"), proto("cooperative-sticky")] });
    const x = await startJoin(c, { protocols: [proto("range"), proto("roundrobin"), proto("cooperative-sticky")] });
    c.join(joinReq({ memberId: a.memberId, protocols: [proto("cooperative-sticky"), proto("range")] }));
    const [rb] = await Promise.all([b.pending, x.pending]);
    expect(rb.protocolName).toBe("range");
  });

  test("connect and unknown protocol types work the same way", async () => {
    const { c, s } = coordinator();
    const a = await startJoin(c, { groupId: "connect-cluster", protocolType: "connect", protocols: [{ name: "sessioned", metadata: new Uint8Array([9, 9]) }] });
    s.advance(0);
    const r = await a.pending;
    expect(r).toMatchObject({ errorCode: 0, protocolType: "connect", protocolName: "sessioned" });
    expect(r.members[0]!.metadata).toEqual(new Uint8Array([9, 9]));
    const w = await startJoin(c, { groupId: "weird", protocolType: "no-such-type", protocols: [{ name: "p", metadata: new Uint8Array() }] });
    s.advance(0);
    expect((await w.pending).protocolType).toBe("no-such-type");
  });
});

describe("timeouts", () => {
  test("session timeout removes a silent member and the group rebalances without it", async () => {
    const { c, s } = coordinator();
    const { a, b } = await stableOfTwo(c, s);
    await Promise.all([
      c.sync({ groupId: "g", generationId: 2, memberId: a, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] }),
      c.sync({ groupId: "g", generationId: 2, memberId: b, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] }),
    ]);
    for (let i = 0; i < 2; i++) {
      s.advance(4000);
      expect(c.heartbeat("g", a, null, 2)).toBe(0);
    }
    s.advance(3000);
    // b never heartbeated: 11s > its 10s session.
    expect(group(c).members.has(b)).toBe(false);
    expect(c.heartbeat("g", a, null, 2)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    expect(c.heartbeat("g", b, null, 2)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const r = await c.join(joinReq({ memberId: a }));
    expect(r).toMatchObject({ errorCode: 0, generationId: 3, leader: a });
    expect(r.members).toHaveLength(1);
  });

  test("rebalance timeout: members that do not rejoin are dropped when it elapses", async () => {
    const { c, s } = coordinator();
    const { a, b } = await stableOfTwo(c, s);
    await c.sync({ groupId: "g", generationId: 2, memberId: a, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    await c.sync({ groupId: "g", generationId: 2, memberId: b, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    // Leader rejoins (forcing a rebalance); b keeps heartbeating but never rejoins.
    const pa = c.join(joinReq({ memberId: a }));
    for (let t = 0; t < 27_000; t += 3000) {
      s.advance(3000);
      expect(c.heartbeat("g", b, null, 2)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    }
    expect(await settled(pa)).toBe(false);
    s.advance(3001);
    const r = await pa;
    expect(r).toMatchObject({ errorCode: 0, generationId: 3 });
    expect(r.members.map((m) => m.memberId)).toEqual([a]);
    expect(c.heartbeat("g", b, null, 2)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  test("a pending member id expires after the session timeout", async () => {
    const { c, s } = coordinator();
    const first = await c.join(joinReq());
    s.advance(10_001);
    expect(group(c).pendingJoinMembers.size).toBe(0);
    expect((await c.join(joinReq({ memberId: first.memberId }))).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  test("members that join but never sync are removed after the rebalance timeout", async () => {
    const { c, s } = coordinator();
    const { a, b } = await stableOfTwo(c, s);
    await c.sync({ groupId: "g", generationId: 2, memberId: a, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    for (let t = 0; t < 31_000; t += 3000) {
      s.advance(3000);
      c.heartbeat("g", a, null, group(c).generationId);
      c.heartbeat("g", b, null, 2);
    }
    expect(group(c).members.has(b)).toBe(false);
    expect(group(c).state).toBe("PreparingRebalance");
  });

  test("group.initial.rebalance.delay.ms holds a new group's first rebalance and extends for newcomers", async () => {
    const { c, s } = coordinator({ initialRebalanceDelayMs: 3000 });
    const a = await startJoin(c);
    s.advance(2000);
    const b = await startJoin(c);
    s.advance(1500); // first delay over, but b arrived: wait once more
    expect(await settled(a.pending)).toBe(false);
    s.advance(3000);
    const [ra, rb] = await Promise.all([a.pending, b.pending]);
    expect(ra.generationId).toBe(1);
    expect(rb.generationId).toBe(1);
    expect(ra.members).toHaveLength(2);
  });
});

describe("heartbeat and leave", () => {
  test("heartbeat errors: unknown group, unknown member, stale generation", async () => {
    const { c, s } = coordinator();
    expect(c.heartbeat("nope", "m", null, 1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    const a = await startJoin(c);
    s.advance(0);
    await a.pending;
    expect(c.heartbeat("g", "m", null, 1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(c.heartbeat("g", a.memberId, null, 0)).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(c.heartbeat("g", a.memberId, null, 1)).toBe(0);
  });

  test("leave: the group rebalances; the last member out leaves it Empty with the next generation", async () => {
    const { c, s } = coordinator();
    const { a, b } = await stableOfTwo(c, s);
    await c.sync({ groupId: "g", generationId: 2, memberId: a, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    const r = c.leave("g", [{ memberId: b, groupInstanceId: null }]);
    expect(r).toEqual({ errorCode: 0, members: [{ memberId: b, groupInstanceId: null, errorCode: 0 }] });
    expect(group(c).state).toBe("PreparingRebalance");
    expect((await c.join(joinReq({ memberId: a }))).generationId).toBe(3);
    c.leave("g", [{ memberId: a, groupInstanceId: null }]);
    expect(group(c).state).toBe("Empty");
    expect(group(c).generationId).toBe(4);
  });

  test("batched leave: unknown members, fenced instance ids and admin removal by instance id", async () => {
    const { c, s } = coordinator();
    expect(c.leave("none", [{ memberId: "x", groupInstanceId: null }])).toEqual({ errorCode: 0, members: [{ memberId: "x", groupInstanceId: null, errorCode: ErrorCode.UNKNOWN_MEMBER_ID }] });
    const p = c.join(joinReq({ groupInstanceId: "i1" }));
    s.advance(0);
    const r = await p;
    const out = c.leave("g", [
      { memberId: "ghost", groupInstanceId: null },
      { memberId: "wrong-id", groupInstanceId: "i1" },
      { memberId: "", groupInstanceId: "i9" },
      { memberId: "", groupInstanceId: "i1" },
    ]);
    expect(out.members.map((m) => m.errorCode)).toEqual([ErrorCode.UNKNOWN_MEMBER_ID, ErrorCode.FENCED_INSTANCE_ID, ErrorCode.UNKNOWN_MEMBER_ID, 0]);
    expect(group(c).members.has(r.memberId)).toBe(false);
    expect(group(c).state).toBe("Empty");
  });

  test("a member leaving while its join is parked gets UNKNOWN_MEMBER_ID for that join", async () => {
    const { c, s } = coordinator();
    const { a } = await stableOfTwo(c, s);
    await startJoin(c, { clientId: "third" });
    const pa = c.join(joinReq({ memberId: a }));
    expect(await settled(pa)).toBe(false);
    c.leave("g", [{ memberId: a, groupInstanceId: null }]);
    expect((await pa).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });
});

describe("static membership", () => {
  async function stableStatic(c: GroupCoordinator, s: import("../../src/groups/scheduler.ts").ManualScheduler) {
    const p1 = c.join(joinReq({ groupInstanceId: "i1", clientId: "one" }));
    s.advance(0);
    const r1 = await p1;
    expect(r1.memberId).toMatch(/^i1-/);
    await c.sync({ groupId: "g", generationId: 1, memberId: r1.memberId, groupInstanceId: "i1", protocolType: null, protocolName: null, assignments: [{ memberId: r1.memberId, assignment: new Uint8Array([7]) }] });
    const p2 = c.join(joinReq({ groupInstanceId: "i2", clientId: "two" }));
    const p1b = c.join(joinReq({ memberId: r1.memberId, groupInstanceId: "i1" }));
    const [a, b] = await Promise.all([p1b, p2]);
    await Promise.all([
      c.sync({ groupId: "g", generationId: 2, memberId: a.memberId, groupInstanceId: "i1", protocolType: null, protocolName: null, assignments: [{ memberId: a.memberId, assignment: new Uint8Array([1]) }, { memberId: b.memberId, assignment: new Uint8Array([2]) }] }),
      c.sync({ groupId: "g", generationId: 2, memberId: b.memberId, groupInstanceId: "i2", protocolType: null, protocolName: null, assignments: [] }),
    ]);
    return { leader: a.memberId, follower: b.memberId };
  }

  test("a restarted static follower rejoins with a new id: no rebalance, same generation and assignment; the old id is fenced", async () => {
    const { c, s } = coordinator();
    const { leader, follower } = await stableStatic(c, s);
    const r = await c.join(joinReq({ groupInstanceId: "i2", clientId: "two" }));
    expect(r).toMatchObject({ errorCode: 0, generationId: 2, leader, skipAssignment: false, members: [] });
    expect(r.memberId).not.toBe(follower);
    expect(group(c).state).toBe("Stable");
    const sync = await c.sync({ groupId: "g", generationId: 2, memberId: r.memberId, groupInstanceId: "i2", protocolType: null, protocolName: null, assignments: [] });
    expect(sync.assignment).toEqual(new Uint8Array([2]));
    expect(c.heartbeat("g", follower, "i2", 2)).toBe(ErrorCode.FENCED_INSTANCE_ID);
    expect((await c.join(joinReq({ memberId: follower, groupInstanceId: "i2" }))).errorCode).toBe(ErrorCode.FENCED_INSTANCE_ID);
    expect(c.heartbeat("g", leader, "i1", 2)).toBe(0);
  });

  test("a restarted static leader: v9 gets skipAssignment with the members; older versions are told the old leader id", async () => {
    const { c, s } = coordinator();
    const { leader } = await stableStatic(c, s);
    const v9 = await c.join(joinReq({ groupInstanceId: "i1" }));
    expect(v9).toMatchObject({ errorCode: 0, generationId: 2, skipAssignment: true, leader: v9.memberId });
    expect(v9.members).toHaveLength(2);
    const old = await c.join(joinReq({ groupInstanceId: "i1", supportsSkipAssignment: false }));
    expect(old).toMatchObject({ errorCode: 0, generationId: 2, skipAssignment: false, leader: v9.memberId, members: [] });
    expect(group(c).state).toBe("Stable");
    void leader;
  });

  test("a static member whose rejoin changes the group's protocol triggers a rebalance", async () => {
    const { c, s } = coordinator();
    const p = c.join(joinReq({ groupInstanceId: "i1", protocols: [proto("range"), proto("roundrobin")] }));
    s.advance(0);
    const r = await p;
    await c.sync({ groupId: "g", generationId: 1, memberId: r.memberId, groupInstanceId: "i1", protocolType: null, protocolName: null, assignments: [] });
    // Same protocols, same preference: no rebalance.
    const same = await c.join(joinReq({ groupInstanceId: "i1", protocols: [proto("range"), proto("roundrobin")] }));
    expect(same).toMatchObject({ errorCode: 0, generationId: 1, protocolName: "range" });
    expect(group(c).state).toBe("Stable");
    // A new preference changes the selected protocol: the group rebalances (and completes at once: everyone joined).
    const changed = await c.join(joinReq({ groupInstanceId: "i1", protocols: [proto("roundrobin"), proto("range")] }));
    expect(changed).toMatchObject({ errorCode: 0, generationId: 2, protocolName: "roundrobin" });
  });

  test("static members are not dropped at the rebalance timeout, only by their session timeout", async () => {
    const { c, s } = coordinator();
    const { leader, follower } = await stableStatic(c, s);
    const pl = c.join(joinReq({ memberId: leader, groupInstanceId: "i1" }));
    for (let t = 0; t < 25_000; t += 5000) {
      s.advance(5000);
      expect(c.heartbeat("g", follower, "i2", 2)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    }
    s.advance(5001);
    // The join phase ends with the static follower still a member (it did not rejoin).
    const r = await pl;
    expect(r.generationId).toBe(3);
    expect(r.members.map((m) => m.memberId).sort()).toEqual([leader, follower].sort());
  });
});

describe("bad input keeps the coordinator running", () => {
  test("garbage consumer metadata: subscriptions unknown, the group still works", async () => {
    const { c, s } = coordinator();
    const a = await startJoin(c, { protocols: [{ name: "range", metadata: new Uint8Array([0, 0, 255, 255, 255, 1]) }] });
    s.advance(0);
    expect((await a.pending).errorCode).toBe(0);
    expect(group(c).subscribed).toBeNull();
    expect(group(c).isSubscribedToTopic("anything")).toBe(true);
  });
});
