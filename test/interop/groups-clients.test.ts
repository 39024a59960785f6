// Consumer groups (classic protocol) with real clients over TCP: librdkafka
// 2.0.2 through confluent-kafka-python (range, roundrobin and
// cooperative-sticky; sync and async commits; resume; session timeout;
// static membership), kcat -G, KafkaJS 2.2.4, the current librdkafka
// (@confluentinc/kafka-javascript, group.protocol=classic) with its admin
// API, committed offsets across kill -9, and bad input over raw TCP.

import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Subprocess } from "bun";
import * as JoinGroupRequest from "../../generated/JoinGroupRequest.ts";
import * as JoinGroupResponse from "../../generated/JoinGroupResponse.ts";
import * as OffsetCommitRequest from "../../generated/OffsetCommitRequest.ts";
import * as OffsetCommitResponse from "../../generated/OffsetCommitResponse.ts";
import * as RequestHeader from "../../generated/RequestHeader.ts";
import { requestHeaderVersion, responseHeaderVersion } from "../../generated/index.ts";
import { ClassicGroup } from "../../src/groups/classic-group.ts";
import { ErrorCode } from "../../src/protocol/errors.ts";
import { Reader } from "../../src/protocol/reader.ts";
import { inProcessBroker, ROOT, spawnBroker } from "../helpers/broker.ts";
import { collectJsonLines, runOk, waitFor } from "../helpers/run.ts";

const PY = "/usr/bin/python3";
const CLIENTS = join(ROOT, "test/clients");
const GROUPS_PY = join(CLIENTS, "py/groups_py.py");
const py = async (bootstrap: string, ...args: string[]) => JSON.parse(await runOk([PY, GROUPS_PY, bootstrap, ...args], { timeoutMs: 120_000 }));

interface MemberEvent {
  event: string;
  partitions?: number[];
}

/** A long-lived confluent-kafka-python group member that reports its rebalance events. */
class MemberProcess {
  readonly events: MemberEvent[] = [];
  private constructor(readonly proc: Subprocess<"pipe", "pipe", "pipe">) {}

  static start(bootstrap: string, topic: string, group: string, instanceId?: string): MemberProcess {
    const proc = Bun.spawn([PY, GROUPS_PY, bootstrap, "member", topic, group, ...(instanceId ? [instanceId] : [])], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
    const m = new MemberProcess(proc);
    collectJsonLines(proc.stdout, m.events);
    return m;
  }

  /** The partitions it holds: the last full assignment (the range assignor is eager). */
  holds(): number[] | null {
    for (let i = this.events.length - 1; i >= 0; i--) {
      const e = this.events[i]!;
      if (e.event === "assigned") return e.partitions!;
      if (e.event === "revoked") return null;
    }
    return null;
  }

  async kill9(): Promise<void> {
    this.proc.kill(9);
    await this.proc.exited;
  }

  async stop(): Promise<void> {
    this.proc.stdin.end();
    const timer = setTimeout(() => this.proc.kill(9), 20_000);
    await this.proc.exited;
    clearTimeout(timer);
  }
}

function classicGroup(b: Awaited<ReturnType<typeof inProcessBroker>>, id: string): ClassicGroup {
  const g = b.broker.groups.groups.get(id);
  if (!(g instanceof ClassicGroup)) throw new Error(`no classic group ${id}`);
  return g;
}

describe("librdkafka 2.0.2 (confluent-kafka-python)", () => {
  for (const strategy of ["range", "roundrobin", "cooperative-sticky"]) {
    test(`${strategy}: three consumers join and leave a 6-partition topic; nothing lost or read twice; a new consumer resumes`, async () => {
      const b = await inProcessBroker();
      try {
        const r = await py(b.bootstrap, "rebalance", strategy, "six", "g");
        expect(r.phases.map((p: { assignment: Record<string, number[]> }) => Object.values(p.assignment).map((a) => a.length).sort())).toEqual([[6], [3, 3], [2, 2, 2], [3, 3]]);
        expect(r.produced).toBe(480);
        expect(r.distinct).toBe(480);
        expect(r.duplicates).toBe(0);
        for (const n of ["c1", "c2", "c3"]) expect(r.by_member[n]).toBeGreaterThan(0);
        if (strategy === "cooperative-sticky") {
          // Sticky: the first member keeps part of what it had through every rebalance.
          const [one, two, three] = r.phases.map((p: { assignment: Record<string, number[]> }) => p.assignment.c1);
          expect(two.every((p: number) => one.includes(p))).toBe(true);
          expect(three.every((p: number) => two.includes(p))).toBe(true);
        }
        expect(await py(b.bootstrap, "committed", "six", "g", "6")).toEqual([80, 80, 80, 80, 80, 80]);
        expect(await py(b.bootstrap, "resume", "six", "g", "30")).toEqual({ before: 0, after: 30, from_end: true });
        const listed = await py(b.bootstrap, "list_groups");
        expect(listed).toEqual([{ id: "g", state: "Empty", protocol_type: "consumer", protocol: "", members: [] }]);
        expect(classicGroup(b, "g").protocolName).toBe(null);
      } finally {
        await b.cleanup();
      }
    });
  }

  test("session timeout: a member killed with -9 is removed and its partitions go to the survivor", async () => {
    const b = await inProcessBroker();
    const members: MemberProcess[] = [];
    try {
      b.broker.topics.create("st", 4, {});
      const a = MemberProcess.start(b.bootstrap, "st", "sg");
      members.push(a);
      await waitFor(() => a.holds()?.length === 4, 30_000, "a holds all partitions");
      const x = MemberProcess.start(b.bootstrap, "st", "sg");
      members.push(x);
      await waitFor(() => a.holds()?.length === 2 && x.holds()?.length === 2, 30_000, "two members with two partitions each");
      const generation = classicGroup(b, "sg").generationId;
      await x.kill9();
      await waitFor(() => a.holds()?.length === 4, 40_000, "the survivor to get every partition back");
      expect(classicGroup(b, "sg").generationId).toBeGreaterThan(generation);
      expect(classicGroup(b, "sg").members.size).toBe(1);
    } finally {
      for (const m of members) await m.kill9();
      await b.cleanup();
    }
  });

  test("static membership: a member restarted with its group.instance.id gets its partitions back without a rebalance", async () => {
    const b = await inProcessBroker();
    const members: MemberProcess[] = [];
    try {
      b.broker.topics.create("sm", 4, {});
      const one = MemberProcess.start(b.bootstrap, "sm", "smg", "inst-1");
      members.push(one);
      await waitFor(() => one.holds()?.length === 4, 30_000, "one holds all partitions");
      const two = MemberProcess.start(b.bootstrap, "sm", "smg", "inst-2");
      members.push(two);
      await waitFor(() => one.holds()?.length === 2 && two.holds()?.length === 2 && classicGroup(b, "smg").state === "Stable", 30_000, "two static members with two partitions each");
      const generation = classicGroup(b, "smg").generationId;
      const held = one.holds();
      const twoEvents = two.events.length;
      await one.kill9();
      const again = MemberProcess.start(b.bootstrap, "sm", "smg", "inst-1");
      members.push(again);
      await waitFor(() => again.holds() !== null, 30_000, "the restarted member's assignment");
      expect(again.holds()).toEqual(held);
      expect(classicGroup(b, "smg").generationId).toBe(generation);
      expect(two.events.slice(twoEvents)).toEqual([]);
      expect([...classicGroup(b, "smg").staticMembers.keys()].sort()).toEqual(["inst-1", "inst-2"]);
    } finally {
      for (const m of members) await m.kill9();
      await b.cleanup();
    }
  });
});

describe("other clients", () => {
  test("kcat -G: balanced consumer reads everything once, commits, and a second run reads nothing", async () => {
    const b = await inProcessBroker();
    try {
      b.broker.topics.create("kc", 3, {});
      const lines = Array.from({ length: 30 }, (_, i) => `m${i}`);
      // Ten to each partition: with no keys the partitioner may leave one empty, and it would have no commit.
      for (let p = 0; p < 3; p++) {
        await runOk(["kcat", "-b", b.bootstrap, "-P", "-t", "kc", "-p", String(p)], { stdin: lines.slice(p * 10, p * 10 + 10).join("\n") + "\n" });
      }
      const first = await runOk(["kcat", "-b", b.bootstrap, "-G", "kg", "kc", "-X", "auto.offset.reset=earliest", "-e", "-q", "-f", "%s\\n"], { timeoutMs: 60_000 });
      expect(first.trim().split("\n").sort()).toEqual([...lines].sort());
      const second = await runOk(["kcat", "-b", b.bootstrap, "-G", "kg", "kc", "-X", "auto.offset.reset=earliest", "-e", "-q", "-f", "%s\\n"], { timeoutMs: 60_000 });
      expect(second.trim()).toBe("");
      const committed = await py(b.bootstrap, "committed", "kc", "kg", "3");
      expect(committed).toEqual([10, 10, 10]);
    } finally {
      await b.cleanup();
    }
  });

  test("KafkaJS 2.2.4: two members with eachMessage, commit on leave, resume, admin reset/describe/list/delete", async () => {
    const b = await inProcessBroker();
    try {
      const r = JSON.parse(await runOk(["node", join(CLIENTS, "kafkajs/groups.mjs"), b.bootstrap, "run", "kj", "kjg", "100"], { cwd: CLIENTS, timeoutMs: 120_000 }));
      expect(r.distinct).toBe(100);
      expect(r.consumed).toBe(100);
      expect(r.byMember.a).toBeGreaterThan(0);
      expect(r.byMember.b).toBeGreaterThan(0);
      expect(r.described).toEqual([{ groupId: "kjg", state: "Stable", protocolType: "consumer", protocol: "RoundRobinAssigner", members: 2 }]);
      expect(r.listed).toEqual([{ groupId: "kjg", protocolType: "consumer" }]);
      expect(r.committed).toBe(100);
      expect(r.resumedOld).toBe(0);
      expect(r.resumedNew).toBe(8);
      expect(r.reset).toEqual([1, 1, 1, 1]);
      expect(r.afterDelete).toEqual([]);
    } finally {
      await b.cleanup();
    }
  });

  test("current librdkafka, group.protocol=classic: two members, commit, resume; admin list/describe/fetch offsets/delete", async () => {
    const b = await inProcessBroker();
    try {
      const r = JSON.parse(await runOk(["node", join(CLIENTS, "ckjs/groups.mjs"), b.bootstrap, "classic", "ck", "ckg", "100"], { cwd: CLIENTS, timeoutMs: 120_000 }));
      expect(r.consumed).toBe(100);
      expect(r.distinct).toBe(100);
      expect(r.byMember.a).toBeGreaterThan(0);
      expect(r.byMember.b).toBeGreaterThan(0);
      expect(r.described).toMatchObject({ groupId: "ckg", protocolType: "consumer", protocol: "range", simple: false });
      expect(r.described.members.map((m: { partitions: number[] }) => m.partitions).sort()).toEqual([
        [0, 1],
        [2, 3],
      ]);
      expect(r.listed).toHaveLength(1);
      expect(r.committed).toBe(100);
      expect(r.resumedOld).toBe(0);
      expect(r.resumedNew).toBe(8);
      expect(r.deleted).toEqual([
        { groupId: "ckg", errorCode: 0 },
        { groupId: "no-such-group", errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
      ]);
      expect(r.afterDelete).toEqual([]);
    } finally {
      await b.cleanup();
    }
  });
});

describe("restart safety", () => {
  test("committed offsets and the group list survive kill -9 and restart", async () => {
    let b = await spawnBroker();
    try {
      await runOk(["kcat", "-b", b.bootstrap, "-P", "-t", "rs", "-p", "0"], { stdin: Array.from({ length: 25 }, (_, i) => `r${i}`).join("\n") + "\n" });
      const read = await runOk(["kcat", "-b", b.bootstrap, "-G", "rsg", "rs", "-X", "auto.offset.reset=earliest", "-e", "-q", "-f", "%s\\n"], { timeoutMs: 60_000 });
      expect(read.trim().split("\n")).toHaveLength(25);
      expect(await py(b.bootstrap, "committed", "rs", "rsg", "1")).toEqual([25]);
      await b.kill9();
      b = await b.restart();
      expect(await py(b.bootstrap, "committed", "rs", "rsg", "1")).toEqual([25]);
      expect(await py(b.bootstrap, "list_groups")).toEqual([{ id: "rsg", state: "Empty", protocol_type: "consumer", protocol: "", members: [] }]);
      const again = await runOk(["kcat", "-b", b.bootstrap, "-G", "rsg", "rs", "-X", "auto.offset.reset=earliest", "-e", "-q", "-f", "%s\\n"], { timeoutMs: 60_000 });
      expect(again.trim()).toBe("");
    } finally {
      await b.cleanup();
    }
  });
});

describe("bad input over raw TCP", () => {
  async function rawCall(port: number, apiKey: number, version: number, body: Uint8Array): Promise<Reader> {
    const header = RequestHeader.encode({ requestApiKey: apiKey, requestApiVersion: version, correlationId: 1, clientId: "raw" }, requestHeaderVersion(apiKey, version));
    const frame = new Uint8Array(4 + header.length + body.length);
    new DataView(frame.buffer).setInt32(0, header.length + body.length);
    frame.set(header, 4);
    frame.set(body, 4 + header.length);
    let buf = new Uint8Array(0);
    const sock = await Bun.connect({
      hostname: "127.0.0.1",
      port,
      socket: {
        data(_s, d) {
          const n = new Uint8Array(buf.length + d.length);
          n.set(buf);
          n.set(d, buf.length);
          buf = n;
        },
      },
    });
    sock.write(frame);
    await waitFor(() => buf.length >= 4 && buf.length >= 4 + new DataView(buf.buffer).getInt32(0), 10_000, "a response");
    sock.end();
    const r = new Reader(buf, 4);
    r.int32();
    if (responseHeaderVersion(apiKey, version) >= 1) r.taggedFields();
    return r;
  }

  test("oversize member metadata, unknown protocol types and stale-generation commits get error codes; groups keep working", async () => {
    const b = await inProcessBroker();
    try {
      b.broker.topics.create("bi", 1, {});
      const join = (metadata: Uint8Array, protocolType: string, memberId = "") =>
        JoinGroupRequest.encode({ groupId: "raw", sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId, protocolType, protocols: [{ name: "p", metadata }] }, 5);
      let r = await rawCall(b.port, 11, 5, join(new Uint8Array(2 * 1024 * 1024), "consumer"));
      expect(JoinGroupResponse.decode(r, 5).errorCode).toBe(ErrorCode.INVALID_REQUEST);
      r = await rawCall(b.port, 11, 5, join(new Uint8Array([1, 2, 3]), "made-up-type"));
      const first = JoinGroupResponse.decode(r, 5);
      expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
      r = await rawCall(b.port, 11, 5, join(new Uint8Array([1, 2, 3]), "made-up-type", first.memberId));
      const joined = JoinGroupResponse.decode(r, 5);
      expect(joined).toMatchObject({ errorCode: 0, generationId: 1, protocolName: "p" });
      const commit = OffsetCommitRequest.encode(
        { groupId: "raw", generationIdOrMemberEpoch: 0, memberId: joined.memberId, topics: [{ name: "bi", partitions: [{ partitionIndex: 0, committedOffset: 1n, committedMetadata: null }] }] },
        8,
      );
      r = await rawCall(b.port, 8, 8, commit);
      expect(OffsetCommitResponse.decode(r, 8).topics[0]!.partitions[0]!.errorCode).toBe(ErrorCode.ILLEGAL_GENERATION);
      // The coordinator still serves real clients.
      await runOk(["kcat", "-b", b.bootstrap, "-P", "-t", "bi", "-p", "0"], { stdin: "x\ny\n" });
      const out = await runOk(["kcat", "-b", b.bootstrap, "-G", "after-bad", "bi", "-X", "auto.offset.reset=earliest", "-e", "-q", "-f", "%s\\n"], { timeoutMs: 60_000 });
      expect(out.trim().split("\n")).toEqual(["x", "y"]);
    } finally {
      await b.cleanup();
    }
  });
});
