// KIP-848 consumer groups without a network: the uniform and range
// assignors, the regex translation, and the heartbeat state machine on a
// manual clock (epochs, incremental revocation, leave, static members,
// timeouts, topic changes, offset commit checks, persistence).

import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AssignorMember, TopicAssignment } from "../../src/groups/assignors/assignor.ts";
import { rangeAssignor } from "../../src/groups/assignors/range.ts";
import { uniformAssignor } from "../../src/groups/assignors/uniform.ts";
import { ConsumerGroup } from "../../src/groups/consumer-group.ts";
import type { ConsumerHeartbeatRequest, ConsumerHeartbeatResult } from "../../src/groups/consumer-membership.ts";
import { GroupCoordinator, type GroupConfig } from "../../src/groups/coordinator.ts";
import { ManualScheduler } from "../../src/groups/scheduler.ts";
import { compileTopicRegex } from "../../src/groups/topic-regex.ts";
import type { TopicInfo, TopicView } from "../../src/groups/topic-view.ts";
import { ErrorCode } from "../../src/protocol/errors.ts";

// ------------------------------------------------------------ fixtures

class FakeTopics implements TopicView {
  readonly topics = new Map<string, TopicInfo>();
  private n = 0;
  add(name: string, partitions: number, internal = false): string {
    const id = (++this.n).toString(16).padStart(32, "a");
    this.topics.set(name, { name, id, partitions, internal });
    return id;
  }
  grow(name: string, partitions: number): void {
    const t = this.topics.get(name)!;
    this.topics.set(name, { ...t, partitions });
  }
  remove(name: string): void {
    this.topics.delete(name);
  }
  byName(name: string) {
    return this.topics.get(name);
  }
  byId(id: string) {
    for (const t of this.topics.values()) if (t.id === id) return t;
    return undefined;
  }
  all() {
    return this.topics.values();
  }
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(config: Partial<GroupConfig> = {}, dataDir: string | null = null, topics = new FakeTopics(), s = new ManualScheduler()) {
  const c = new GroupCoordinator({ dataDir, fsync: "never", scheduler: s, config, topics });
  c.load();
  return { c, s, topics };
}

function hb(over: Partial<ConsumerHeartbeatRequest>): ConsumerHeartbeatRequest {
  return {
    groupId: "g",
    memberId: "",
    memberEpoch: 0,
    instanceId: null,
    rackId: null,
    rebalanceTimeoutMs: -1,
    subscribedTopicNames: null,
    subscribedTopicRegex: null,
    serverAssignor: null,
    topicPartitions: null,
    clientId: "c",
    clientHost: "/127.0.0.1",
    apiVersion: 1,
    ...over,
  };
}

/** A client-side view of one member: what it owns, its epoch, and heartbeats that report what it owns. */
class Member {
  epoch = 0;
  owned = new Map<string, number[]>();
  constructor(readonly c: GroupCoordinator, readonly memberId: string, readonly over: Partial<ConsumerHeartbeatRequest> = {}) {}

  join(extra: Partial<ConsumerHeartbeatRequest> = {}): ConsumerHeartbeatResult {
    const r = this.c.consumerHeartbeat(hb({ memberId: this.memberId, memberEpoch: 0, rebalanceTimeoutMs: 30_000, subscribedTopicNames: ["t"], topicPartitions: [], ...this.over, ...extra }));
    this.absorb(r);
    return r;
  }

  /** A heartbeat that reports the owned partitions (as librdkafka does after a change). */
  beat(extra: Partial<ConsumerHeartbeatRequest> = {}): ConsumerHeartbeatResult {
    const r = this.c.consumerHeartbeat(
      hb({ memberId: this.memberId, memberEpoch: this.epoch, topicPartitions: [...this.owned].map(([topicId, partitions]) => ({ topicId, partitions })), ...this.over, ...extra }),
    );
    this.absorb(r);
    return r;
  }

  private absorb(r: ConsumerHeartbeatResult): void {
    if (r.errorCode !== ErrorCode.NONE) return;
    this.epoch = r.memberEpoch;
    if (r.assignment) this.owned = new Map(r.assignment.map((a) => [a.topicId, a.partitions]));
  }

  partitions(topicId: string): number[] {
    return this.owned.get(topicId) ?? [];
  }
}

function group(c: GroupCoordinator, id = "g"): ConsumerGroup {
  const g = c.groups.get(id);
  if (!(g instanceof ConsumerGroup)) throw new Error(`${id} is not a consumer group`);
  return g;
}

/** Heartbeats every member until nothing changes; fails if it never settles. */
function settle(...members: Member[]): void {
  for (let round = 0; round < 20; round++) {
    const before = JSON.stringify(members.map((m) => [m.epoch, [...m.owned]]));
    for (const m of members) expect(m.beat().errorCode).toBe(ErrorCode.NONE);
    if (JSON.stringify(members.map((m) => [m.epoch, [...m.owned]])) === before) return;
  }
  throw new Error("group did not settle");
}

function assignorMember(memberId: string, topics: string[], current: Record<string, number[]> = {}, instanceId: string | null = null): AssignorMember {
  return { memberId, instanceId, topics: new Set(topics), current: new Map(Object.entries(current)) };
}

function flat(a: Map<string, TopicAssignment>): Record<string, Record<string, number[]>> {
  const out: Record<string, Record<string, number[]>> = {};
  for (const [m, t] of a) out[m] = Object.fromEntries([...t].sort(([x], [y]) => (x < y ? -1 : 1)));
  return out;
}

// ------------------------------------------------------------ assignors

describe("uniform assignor", () => {
  test("spreads partitions evenly and gives every partition exactly once", () => {
    const r = uniformAssignor.assign([assignorMember("a", ["T"]), assignorMember("b", ["T"]), assignorMember("c", ["T"])], new Map([["T", 7]]));
    const counts = [...r.values()].map((a) => (a.get("T") ?? []).length).sort();
    expect(counts).toEqual([2, 2, 3]);
    const all = [...r.values()].flatMap((a) => a.get("T") ?? []).sort((x, y) => x - y);
    expect(all).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  test("is sticky: a joining member only takes from the overloaded one", () => {
    const r = uniformAssignor.assign([assignorMember("a", ["T"], { T: [0, 1, 2, 3, 4, 5] }), assignorMember("b", ["T"])], new Map([["T", 6]]));
    expect(flat(r)).toEqual({ a: { T: [0, 1, 2] }, b: { T: [3, 4, 5] } });
  });

  test("heterogeneous subscriptions: only subscribers get a topic, loads stay balanced", () => {
    const r = uniformAssignor.assign([assignorMember("a", ["T", "U"]), assignorMember("b", ["U"])], new Map([["T", 2], ["U", 2]]));
    expect(flat(r)).toEqual({ a: { T: [0, 1] }, b: { U: [0, 1] } });
  });

  test("drops partitions of topics the member no longer subscribes to or that shrank away", () => {
    const r = uniformAssignor.assign([assignorMember("a", ["T"], { T: [0, 5], U: [0] })], new Map([["T", 2]]));
    expect(flat(r)).toEqual({ a: { T: [0, 1] } });
  });

  test("no members subscribed: nothing assigned", () => {
    expect(flat(uniformAssignor.assign([assignorMember("a", [])], new Map([["T", 3]])))).toEqual({ a: {} });
  });
});

describe("range assignor", () => {
  test("contiguous ranges, the first members one more, the same split for co-partitioned topics", () => {
    const r = rangeAssignor.assign([assignorMember("b", ["T", "U"]), assignorMember("a", ["T", "U"])], new Map([["T", 5], ["U", 5]]));
    expect(flat(r)).toEqual({ a: { T: [0, 1, 2], U: [0, 1, 2] }, b: { T: [3, 4], U: [3, 4] } });
  });

  test("static members are ordered by instance id", () => {
    const r = rangeAssignor.assign([assignorMember("a", ["T"], {}, "z"), assignorMember("b", ["T"], {}, "y")], new Map([["T", 2]]));
    expect(flat(r)).toEqual({ a: { T: [1] }, b: { T: [0] } });
  });

  test("more members than partitions: the last ones get nothing", () => {
    const r = rangeAssignor.assign([assignorMember("a", ["T"]), assignorMember("b", ["T"]), assignorMember("c", ["T"])], new Map([["T", 2]]));
    expect(flat(r)).toEqual({ a: { T: [0] }, b: { T: [1] }, c: {} });
  });
});

// ------------------------------------------------------------ regex

describe("topic regex (RE2 syntax, whole-name match, linear time)", () => {
  const sub = (p: string) => {
    const c = compileTopicRegex(p, { refuseNestedQuantifiers: false });
    if (!c.ok) throw new Error(`${p}: ${c.message}`);
    return c.regex;
  };
  const matches = (p: string, t: string) => sub(p).test(t);
  const table: [string, string[], string[]][] = [
    // pattern, matching names, non-matching names
    ["foo.*", ["foo", "foo-1"], ["xfoo", "fo"]],
    ["foo", ["foo"], ["foo-1", "xfoo"]],
    ["^pre.*", ["pre", "prefix"], ["apre"]],
    ["a|b", ["a", "b"], ["ab", ""]],
    ["(a|bc)+d", ["ad", "bcad", "abcbcd"], ["d", "abd"]],
    ["t[0-9]{2,3}", ["t12", "t123"], ["t1", "t1234", "tab"]],
    ["t[^0-9]", ["tx", "t-"], ["t1", "t"]],
    ["[]a]+", ["]a]"], ["b"]],
    ["[a-c-]+", ["a-c", "-"], ["d"]],
    ["\\d+\\.\\w+", ["12.ab_9"], ["12ab", "1.!"]],
    ["[[:alpha:]_]+[[:digit:]]", ["ab_1"], ["ab", "1a"]],
    ["(?P<x>ab)c", ["abc"], ["ab"]],
    ["(?<x>ab)c", ["abc"], ["abx"]],
    ["\\Aabc\\z", ["abc"], ["abcd"]],
    ["(?i)ABC", ["abc", "AbC"], ["abd"]],
    ["a(?i:b)c", ["aBc", "abc"], ["ABc", "abC"]],
    ["x\\Q.*\\E", ["x.*"], ["xab"]],
    ["a{", ["a{"], ["a"]],
    ["a{,2}", ["a{,2}"], ["aa"]],
    ["a+?b*?", ["a", "aab"], ["b"]],
    ["\\bfoo\\b.*", ["foo-x"], ["foox"]],
    ["a\\x2db", ["a-b"], ["ab"]],
    ["a.c", ["abc", "a-c"], ["ac", "a\nc"]],
    ["(?s)a.c", ["a\nc"], []],
    ["", [""], ["a"]],
    ["a*", ["", "aaa"], ["b"]],
    ["(a*)*", ["", "aaaa"], ["ab"]],
    ["x^y", [], ["xy", "x^y"]],
  ];
  for (const [p, yes, no] of table) {
    test(`${JSON.stringify(p)}`, () => {
      for (const t of yes) expect([t, matches(p, t)]).toEqual([t, true]);
      for (const t of no) expect([t, matches(p, t)]).toEqual([t, false]);
    });
  }

  test("patterns that take a backtracking engine exponential time answer at once", () => {
    const name = "a".repeat(249) + "!";
    expect(matches("(a+)+", name)).toBe(false);
    expect(matches("(a|aa)+", name)).toBe(false);
    expect(matches("a*a*a*a*a*a*a*a*a*a*b", name)).toBe(false);
    expect(matches("(.*a){20}", name)).toBe(false);
    expect(matches("(a+)+!", name)).toBe(true);
  });

  test("invalid patterns, and what RE2 does not have, are refused", () => {
    for (const p of ["(", ")", "[a-", "a\\", "(a)\\1", "(?=a)a", "(?!a)", "(?<=a)b", "(?<!a)b", "*a", "a**", "a{2}{3}", "[z-a]", "a{1001}", "\\pL", "\\q", "(?z)", "[[:nope:]]", "((a)"]) {
      expect([p, compileTopicRegex(p, { refuseNestedQuantifiers: false }).ok]).toEqual([p, false]);
    }
    // Counted repetitions may not blow the program up.
    expect(compileTopicRegex("((a{1000}){1000}){1000}", { refuseNestedQuantifiers: false }).ok).toBe(false);
  });

  test("by default (ListTransactions) nested unbounded quantifiers are refused; subscriptions take them", () => {
    expect(compileTopicRegex("(a+)+").ok).toBe(false);
    expect(compileTopicRegex("(x.*){2,}").ok).toBe(false);
    expect(compileTopicRegex("(ab)+").ok).toBe(true);
    expect(compileTopicRegex("(a+)+", { refuseNestedQuantifiers: false }).ok).toBe(true);
  });

  test("the result is a RegExp whose test and match mean whole-name matches", () => {
    const r = sub("t-[ab]");
    expect(r).toBeInstanceOf(RegExp);
    expect(r.test("t-a")).toBe(true);
    expect("t-a".match(r)?.[0]).toBe("t-a");
    expect("xt-a".match(r)).toBeNull();
  });
});

// ------------------------------------------------------------ state machine

describe("consumer group heartbeat", () => {
  test("first member: server-made member id on v0, epoch 1, all partitions", () => {
    const { c, topics } = setup();
    const t = topics.add("t", 3);
    const r = c.consumerHeartbeat(hb({ apiVersion: 0, rebalanceTimeoutMs: 30_000, subscribedTopicNames: ["t"], topicPartitions: [] }));
    expect(r.errorCode).toBe(ErrorCode.NONE);
    expect(r.memberId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(r.memberEpoch).toBe(1);
    expect(r.heartbeatIntervalMs).toBe(5000);
    expect(r.assignment).toEqual([{ topicId: t, partitions: [0, 1, 2] }]);
    expect(group(c).state()).toBe("Stable");
  });

  test("request checks", () => {
    const { c, topics } = setup();
    topics.add("t", 1);
    const code = (over: Partial<ConsumerHeartbeatRequest>) => c.consumerHeartbeat(hb({ memberId: "m", rebalanceTimeoutMs: 1000, subscribedTopicNames: ["t"], topicPartitions: [], ...over })).errorCode;
    expect(code({ memberId: "" })).toBe(ErrorCode.INVALID_REQUEST); // v1 needs a client id (KIP-1082)
    expect(code({ groupId: "" })).toBe(ErrorCode.INVALID_REQUEST);
    expect(code({ instanceId: "" })).toBe(ErrorCode.INVALID_REQUEST);
    expect(code({ rebalanceTimeoutMs: -1 })).toBe(ErrorCode.INVALID_REQUEST);
    expect(code({ topicPartitions: null })).toBe(ErrorCode.INVALID_REQUEST);
    expect(code({ topicPartitions: [{ topicId: "a".repeat(32), partitions: [0] }] })).toBe(ErrorCode.INVALID_REQUEST);
    expect(code({ subscribedTopicNames: null })).toBe(ErrorCode.INVALID_REQUEST);
    expect(code({ memberEpoch: -3 })).toBe(ErrorCode.INVALID_REQUEST);
    expect(code({ memberEpoch: -2 })).toBe(ErrorCode.INVALID_REQUEST); // needs an instance id
    expect(code({ serverAssignor: "sticky" })).toBe(ErrorCode.UNSUPPORTED_ASSIGNOR);
    expect(code({ subscribedTopicRegex: "(" })).toBe(ErrorCode.INVALID_REGULAR_EXPRESSION);
    expect(code({ subscribedTopicRegex: "(?=x)" })).toBe(ErrorCode.INVALID_REGULAR_EXPRESSION);
    expect(code({ subscribedTopicRegex: "a".repeat(5000) })).toBe(ErrorCode.INVALID_REGULAR_EXPRESSION);
    expect(code({ memberEpoch: 5, apiVersion: 0, memberId: "" })).toBe(ErrorCode.INVALID_REQUEST);
    // Not joined: unknown group, unknown member.
    expect(code({ memberEpoch: 3, topicPartitions: null })).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
    expect(code({ serverAssignor: "range" })).toBe(ErrorCode.NONE);
    expect(code({ memberId: "other", memberEpoch: 3, topicPartitions: null })).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(code({ memberId: "m", memberEpoch: 7, topicPartitions: null })).toBe(ErrorCode.FENCED_MEMBER_EPOCH);
    expect(c.consumerHeartbeat(hb({ memberId: "m", memberEpoch: 7 })).errorMessage).toContain("greater member epoch (7)");
    expect(c.consumerHeartbeat(hb({ memberId: "zz", memberEpoch: 7 })).errorMessage).toBe("Member zz is not a member of group g.");
    expect(c.consumerHeartbeat(hb({ memberId: "m", memberEpoch: -1 })).errorCode).toBe(ErrorCode.NONE);
    expect(c.consumerHeartbeat(hb({ memberId: "m", memberEpoch: -1 })).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  test("incremental revocation: the new owner gets a partition only after the old owner acknowledges it", () => {
    const { c, topics } = setup();
    const t = topics.add("t", 6);
    const a = new Member(c, "A");
    a.join();
    expect(a.partitions(t)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(a.epoch).toBe(1);

    const b = new Member(c, "B");
    const jb = b.join();
    expect(jb.memberEpoch).toBe(2);
    expect(b.partitions(t)).toEqual([]); // everything is still A's
    expect(group(c).state()).toBe("Reconciling");

    // A learns it must give up three; it stays at epoch 1 until it confirms.
    const ra = c.consumerHeartbeat(hb({ memberId: "A", memberEpoch: 1, topicPartitions: null }));
    expect(ra.memberEpoch).toBe(1);
    expect(ra.assignment).toEqual([{ topicId: t, partitions: [0, 1, 2] }]);
    // B asks again before A confirmed: still nothing.
    expect(b.beat().assignment).toBeNull();
    expect(b.partitions(t)).toEqual([]);
    // A confirms it owns only 0-2 now: epoch 2.
    a.owned = new Map([[t, [0, 1, 2]]]);
    expect(a.beat().memberEpoch).toBe(2);
    // B now receives 3-5.
    expect(b.beat().assignment).toEqual([{ topicId: t, partitions: [3, 4, 5] }]);
    expect(group(c).state()).toBe("Stable");
    expect(group(c).groupEpoch).toBe(2);
    expect(group(c).assignmentEpoch).toBe(2);
  });

  test("a member that leaves (-1) hands everything to the other; the group epoch moves on", () => {
    const { c, topics } = setup();
    const t = topics.add("t", 6);
    const a = new Member(c, "A");
    const b = new Member(c, "B");
    a.join();
    b.join();
    settle(a, b);
    expect([...a.partitions(t), ...b.partitions(t)].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    const leave = c.consumerHeartbeat(hb({ memberId: "B", memberEpoch: -1 }));
    expect(leave).toMatchObject({ errorCode: ErrorCode.NONE, memberId: "B", memberEpoch: -1 });
    settle(a);
    expect(a.partitions(t)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(a.epoch).toBe(3);
    expect(group(c).members.size).toBe(1);
  });

  test("session timeout removes a silent member; its partitions move without waiting for it", () => {
    const { c, s, topics } = setup({ consumerSessionTimeoutMs: 10_000 });
    const t = topics.add("t", 4);
    const a = new Member(c, "A");
    const b = new Member(c, "B");
    a.join();
    b.join();
    settle(a, b);
    expect(b.partitions(t).length).toBe(2);
    s.advance(6_000);
    a.beat();
    s.advance(6_000); // B has been silent 12 s
    expect(group(c).members.has("B")).toBe(false);
    settle(a);
    expect(a.partitions(t)).toEqual([0, 1, 2, 3]);
    expect(b.beat().errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  test("rebalance timeout fences a member that never revokes", () => {
    const { c, s, topics } = setup({ consumerSessionTimeoutMs: 100_000 });
    const t = topics.add("t", 2);
    const a = new Member(c, "A");
    a.join({ rebalanceTimeoutMs: 5_000 });
    const b = new Member(c, "B");
    b.join();
    // A hears about the revocation but keeps reporting both partitions.
    a.beat();
    a.owned = new Map([[t, [0, 1]]]);
    a.beat();
    expect(group(c).members.get("A")!.state).toBe("unrevoked");
    s.advance(5_001);
    expect(group(c).members.has("A")).toBe(false);
    settle(b);
    expect(b.partitions(t)).toEqual([0, 1]);
  });

  test("a stale epoch is fenced; the previous epoch with a subset of the assignment is accepted", () => {
    const { c, topics } = setup();
    const t = topics.add("t", 2);
    const a = new Member(c, "A");
    a.join();
    const b = new Member(c, "B");
    b.join();
    settle(a, b);
    const m = group(c).members.get("A")!;
    const prev = m.previousMemberEpoch;
    expect(prev).toBeGreaterThan(0);
    expect(c.consumerHeartbeat(hb({ memberId: "A", memberEpoch: prev, topicPartitions: [{ topicId: t, partitions: m.assigned.get(t) ? [...m.assigned.get(t)!] : [] }] })).errorCode).toBe(ErrorCode.NONE);
    expect(c.consumerHeartbeat(hb({ memberId: "A", memberEpoch: prev, topicPartitions: null })).errorCode).toBe(ErrorCode.FENCED_MEMBER_EPOCH);
    expect(c.consumerHeartbeat(hb({ memberId: "A", memberEpoch: 0 + 99, topicPartitions: null })).errorCode).toBe(ErrorCode.FENCED_MEMBER_EPOCH);
    // Rejoining with epoch 0 and the same id works (KIP-1082 clients keep their id).
    a.epoch = 0;
    a.owned = new Map();
    expect(a.join().errorCode).toBe(ErrorCode.NONE);
    settle(a, b);
    expect([...a.partitions(t), ...b.partitions(t)].sort()).toEqual([0, 1]);
  });

  test("range assignor picked by the request; default uniform; DescribeConsumerGroups reports it", () => {
    const { c, topics } = setup();
    const t = topics.add("t", 4);
    const a = new Member(c, "A", { serverAssignor: "range" });
    const b = new Member(c, "B", { serverAssignor: "range" });
    a.join();
    b.join();
    settle(a, b);
    expect(a.partitions(t)).toEqual([0, 1]);
    expect(b.partitions(t)).toEqual([2, 3]);
    const d = c.describeConsumerGroups(["g", "nope"]);
    expect(d[0]).toMatchObject({ errorCode: 0, groupState: "Stable", assignorName: "range", groupEpoch: 2, assignmentEpoch: 2 });
    expect(d[0]!.members.map((m) => [m.memberId, m.assignment]).sort()).toEqual([
      ["A", [{ topicId: t, topicName: "t", partitions: [0, 1] }]],
      ["B", [{ topicId: t, topicName: "t", partitions: [2, 3] }]],
    ]);
    expect(d[1]).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, groupState: "Dead" });
    const u = setup();
    u.topics.add("t", 1);
    new Member(u.c, "X").join();
    expect(u.c.describeConsumerGroups(["g"])[0]!.assignorName).toBe("uniform");
  });

  test("regex subscriptions are resolved after the heartbeat, in a later group epoch; topics created later join; an empty regex means none", () => {
    const { c, topics, s } = setup();
    const lit = topics.add("literal", 1);
    const p1 = topics.add("prefix-1", 2);
    topics.add("other", 2);
    topics.add("__internal-prefix", 1, true);
    const a = new Member(c, "A", { subscribedTopicNames: ["literal"], subscribedTopicRegex: "prefix.*" });
    a.join();
    // As in Kafka: the first answer holds the literal topic only; the regex is resolved afterwards.
    expect([a.epoch, [...a.owned.keys()]]).toEqual([1, [lit]]);
    s.advance(0);
    settle(a);
    expect(a.epoch).toBe(2);
    expect([...a.owned.keys()].sort()).toEqual([lit, p1].sort());
    const p2 = topics.add("prefix-2", 3);
    settle(a); // notices the new topic and asks for a resolution
    s.advance(0);
    settle(a);
    expect(a.epoch).toBe(3);
    expect(a.partitions(p2)).toEqual([0, 1, 2]);
    expect(group(c).isSubscribedToTopic("prefix-2")).toBe(true);
    expect(group(c).isSubscribedToTopic("other")).toBe(false);
    const e = new Member(c, "E", { groupId: "g2", subscribedTopicNames: [], subscribedTopicRegex: "" });
    e.join();
    s.advance(0);
    expect(e.owned.size).toBe(0);
    expect(group(c, "g2").subscribedTopics.size).toBe(0);
  });

  test("a subscription change takes full effect: what only the old subscription matched is revoked at once, a new regex's topics follow later", () => {
    const { c, topics, s } = setup();
    const [a, b, rx, ry] = [topics.add("a", 2), topics.add("b", 2), topics.add("rx-1", 1), topics.add("ry-1", 1)];
    const m = new Member(c, "M");
    m.join({ subscribedTopicNames: ["a", "b"] });
    expect([...m.owned.keys()].sort()).toEqual([a, b].sort());
    // Dropping b: the answer already leaves it out (revocation); once acknowledged the member moves on without it.
    const r = m.beat({ subscribedTopicNames: ["a"] });
    expect(r.assignment!.map((t) => t.topicId)).toEqual([a]);
    settle(m);
    expect([m.epoch, [...m.owned.keys()]]).toEqual([2, [a]]);
    // A regex: the subscription changed, so the epoch moves (as in Kafka), but the regex is not resolved yet:
    // the answer holds a alone; the resolution bumps the epoch again and brings rx-1.
    const brought = m.beat({ subscribedTopicRegex: "rx.*" });
    expect([brought.memberEpoch, m.owned.get(rx)]).toEqual([3, undefined]);
    settle(m);
    expect([m.epoch, [...m.owned.keys()]]).toEqual([3, [a]]);
    s.advance(0);
    settle(m);
    expect([m.epoch, [...m.owned.keys()].sort()]).toEqual([4, [a, rx].sort()]);
    // Another regex: the old one's topics go at once, the new one's come with the next resolution.
    const swap = m.beat({ subscribedTopicRegex: "ry.*" });
    expect(swap.assignment!.map((t) => t.topicId)).toEqual([a]);
    settle(m);
    expect([m.epoch, [...m.owned.keys()]]).toEqual([5, [a]]);
    s.advance(0);
    settle(m);
    expect([m.epoch, [...m.owned.keys()].sort()]).toEqual([6, [a, ry].sort()]);
    // No regex any more: its topics are revoked.
    m.beat({ subscribedTopicRegex: "" });
    settle(m);
    expect([m.epoch, [...m.owned.keys()]]).toEqual([7, [a]]);
  });

  test("topic changes bump the group epoch: partitions added, topic deleted", () => {
    const { c, topics } = setup();
    const t = topics.add("t", 2);
    const a = new Member(c, "A");
    a.join();
    expect(a.epoch).toBe(1);
    topics.grow("t", 4);
    settle(a);
    expect(a.epoch).toBe(2);
    expect(a.partitions(t)).toEqual([0, 1, 2, 3]);
    topics.remove("t");
    settle(a);
    expect(a.epoch).toBe(3);
    expect(a.owned.size).toBe(0);
  });

  test("static members: -2 keeps the partitions; a new member id with the instance id takes them over without a rebalance", () => {
    const { c, topics } = setup();
    const t = topics.add("t", 4);
    const a = new Member(c, "A1", { instanceId: "ia" });
    const b = new Member(c, "B", {});
    a.join();
    b.join();
    settle(a, b);
    const aParts = a.partitions(t);
    // Later heartbeats leave the instance id out (null: unchanged), as clients do.
    expect(c.consumerHeartbeat(hb({ memberId: "A1", memberEpoch: a.epoch, instanceId: null })).errorCode).toBe(ErrorCode.NONE);
    const epoch = group(c).groupEpoch;
    expect(c.consumerHeartbeat(hb({ memberId: "A1", memberEpoch: -2, instanceId: "ia" }))).toMatchObject({ errorCode: 0, memberEpoch: -2 });
    // Nobody else gets A's partitions meanwhile.
    settle(b);
    expect(b.partitions(t).length).toBe(2);
    // Someone else with the instance id while it is held: refused; the old id no longer heartbeats.
    const other = c.consumerHeartbeat(hb({ memberId: "X", instanceId: "ib", rebalanceTimeoutMs: 1, subscribedTopicNames: ["t"], topicPartitions: [] }));
    expect(other.errorCode).toBe(ErrorCode.NONE);
    c.consumerHeartbeat(hb({ memberId: "X", memberEpoch: -1, instanceId: "ib" }));
    const a2 = new Member(c, "A2", { instanceId: "ia" });
    a2.join();
    expect(a2.partitions(t)).toEqual(aParts);
    expect(group(c).members.has("A1")).toBe(false);
    expect(c.consumerHeartbeat(hb({ memberId: "A1", memberEpoch: 3, instanceId: "ia", topicPartitions: null })).errorCode).toBe(ErrorCode.FENCED_INSTANCE_ID);
    // A live static member's instance id cannot be taken.
    const thief = c.consumerHeartbeat(hb({ memberId: "A3", instanceId: "ia", rebalanceTimeoutMs: 1, subscribedTopicNames: ["t"], topicPartitions: [] }));
    expect(thief.errorCode).toBe(ErrorCode.UNRELEASED_INSTANCE_ID);
    // Back under the same member id after a temporary leave: the same partitions.
    a2.beat();
    expect(c.consumerHeartbeat(hb({ memberId: "A2", memberEpoch: -2, instanceId: "ia" })).errorCode).toBe(ErrorCode.NONE);
    a2.epoch = 0;
    const back = a2.join();
    expect(back.errorCode).toBe(ErrorCode.NONE);
    expect(back.assignment).toEqual([{ topicId: t, partitions: aParts }]);
    expect(group(c).groupEpoch).toBeGreaterThanOrEqual(epoch);
  });

  test("classic and consumer groups share one namespace", async () => {
    const { c, s, topics } = setup();
    topics.add("t", 1);
    new Member(c, "A", { groupId: "cg" }).join();
    expect(c.listGroups([], ["consumer"])).toEqual([{ groupId: "cg", protocolType: "consumer", groupState: "Stable", groupType: "consumer" }]);
    expect(c.listGroups([], ["classic"])).toEqual([]);
    expect(c.describeGroups(["cg"])[0]!.errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
    const j = await c.join({ groupId: "cg", memberId: "", groupInstanceId: null, clientId: "x", clientHost: "/h", sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, protocolType: "consumer", protocols: [{ name: "range", metadata: new Uint8Array(0) }], requireKnownMemberId: false, supportsSkipAssignment: false });
    expect(j.errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    // A classic group with members cannot be joined with the consumer protocol.
    const parked = c.join({ groupId: "cl", memberId: "", groupInstanceId: null, clientId: "x", clientHost: "/h", sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, protocolType: "consumer", protocols: [{ name: "range", metadata: new Uint8Array(0) }], requireKnownMemberId: false, supportsSkipAssignment: false });
    s.advance(1);
    expect((await parked).errorCode).toBe(ErrorCode.NONE);
    expect(new Member(c, "C", { groupId: "cl" }).join()).toMatchObject({ errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: "Group cl is not a consumer group." });
    // An empty classic group (only offsets) turns into a consumer group, offsets kept.
    await c.commitOffsets({ groupId: "old", memberId: "", groupInstanceId: null, generationIdOrMemberEpoch: -1, retentionTimeMs: -1, apiVersion: 9 }, [{ topic: "t", partition: 0, offset: 42n, leaderEpoch: -1, metadata: null }]);
    new Member(c, "B", { groupId: "old" }).join();
    expect(group(c, "old").type).toBe("consumer");
    expect(c.fetchOffsets("old", null, -1, [{ topic: "t", partitions: [0] }], false).topics[0]!.partitions[0]!.offset).toBe(42n);
    expect(c.describeConsumerGroups(["old"])[0]!.errorCode).toBe(0);
  });

  test("offset commit and fetch check the member epoch", async () => {
    const { c, topics } = setup();
    topics.add("t", 1);
    const a = new Member(c, "A");
    a.join();
    const commit = (memberId: string, epoch: number, apiVersion = 9) =>
      c.commitOffsets({ groupId: "g", memberId, groupInstanceId: null, generationIdOrMemberEpoch: epoch, retentionTimeMs: -1, apiVersion }, [{ topic: "t", partition: 0, offset: 5n, leaderEpoch: -1, metadata: null }]);
    expect(await commit("A", a.epoch)).toEqual([ErrorCode.NONE]);
    expect(await commit("A", a.epoch + 1)).toEqual([ErrorCode.STALE_MEMBER_EPOCH]);
    expect(await commit("Z", a.epoch)).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]);
    expect(await commit("A", a.epoch, 8)).toEqual([ErrorCode.UNSUPPORTED_VERSION]);
    expect(await commit("", -1)).toEqual([ErrorCode.UNKNOWN_MEMBER_ID]); // admin commit while members are active
    expect(c.fetchOffsets("g", "A", a.epoch, null, false).errorCode).toBe(ErrorCode.NONE);
    expect(c.fetchOffsets("g", "A", a.epoch - 1, null, false).errorCode).toBe(ErrorCode.STALE_MEMBER_EPOCH);
    expect(c.fetchOffsets("g", "Z", 1, null, false).errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    expect(c.fetchOffsets("g", null, -1, null, false).errorCode).toBe(ErrorCode.NONE);
    c.consumerHeartbeat(hb({ memberId: "A", memberEpoch: -1 }));
    expect(await commit("", -1)).toEqual([ErrorCode.NONE]);
    expect((await c.deleteGroups(["g"]))[0]!.errorCode).toBe(ErrorCode.NONE);
  });

  test("the group and its offsets survive a restart; members rejoin", async () => {
    const d = mkdtempSync(join(tmpdir(), "klite-cg-"));
    dirs.push(d);
    const topics = new FakeTopics();
    const t = topics.add("t", 2);
    const first = setup({}, d, topics);
    const a = new Member(first.c, "A");
    a.join();
    expect(await first.c.commitOffsets({ groupId: "g", memberId: "A", groupInstanceId: null, generationIdOrMemberEpoch: a.epoch, retentionTimeMs: -1, apiVersion: 9 }, [{ topic: "t", partition: 1, offset: 7n, leaderEpoch: -1, metadata: null }])).toEqual([0]);
    const epoch = group(first.c).groupEpoch;
    await first.c.close();

    const second = setup({}, d, topics);
    const g = group(second.c);
    expect(g.state()).toBe("Empty");
    expect(g.groupEpoch).toBe(epoch);
    expect(second.c.listGroups([], [])).toEqual([{ groupId: "g", protocolType: "consumer", groupState: "Empty", groupType: "consumer" }]);
    expect(second.c.fetchOffsets("g", null, -1, [{ topic: "t", partitions: [1] }], false).topics[0]!.partitions[0]!.offset).toBe(7n);
    // The old member is gone; it rejoins with epoch 0 and gets an epoch above the old ones.
    const again = new Member(second.c, "A");
    again.epoch = a.epoch;
    again.owned = a.owned;
    expect(again.beat().errorCode).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    again.epoch = 0;
    again.owned = new Map();
    again.join();
    expect(again.epoch).toBe(epoch + 1);
    expect(again.partitions(t)).toEqual([0, 1]);
    await second.c.close();
  });
});
