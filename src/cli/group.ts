// klite group list|describe|delete|reset-offsets, like kafka-consumer-groups.sh:
// classic groups through DescribeGroups (assignments decoded from the
// consumer protocol), KIP-848 groups through ConsumerGroupDescribe, committed
// offsets through OffsetFetch and lag against ListOffsets.

import { ConsumerGroupDescribe, DeleteGroups, DescribeGroups, ListGroups } from "../client/apis.ts";
import { EARLIEST, LATEST, type KafkaClient, type TopicInfo } from "../client/client.ts";
import { check, KafkaError } from "../client/errors.ts";
import { decodeAssignment } from "../client/consumer-protocol.ts";
import { BOOTSTRAP_FLAG, FORMAT_FLAG, UsageError, parseTime, type Parsed } from "./args.ts";
import { withClient, type Command } from "./command.ts";
import { commitOffsets, committedOffsets } from "./positions.ts";

const GROUP_ID_NOT_FOUND = 69;

export interface GroupMember {
  memberId: string;
  instanceId: string | null;
  clientId: string;
  host: string;
  assignment: { topic: string; partitions: number[] }[];
}

export interface GroupDescription {
  group: string;
  /** classic or consumer (KIP-848). */
  type: string;
  state: string;
  /** Classic: the protocol type and chosen assignor; consumer: the server assignor. */
  protocol: string;
  members: GroupMember[];
}

/** A group as its coordinator describes it; a group that does not exist is a GROUP_ID_NOT_FOUND KafkaError. */
export async function describeGroup(c: KafkaClient, group: string): Promise<GroupDescription> {
  const conn = await c.coordinator(group);
  if (conn.supports(ConsumerGroupDescribe)) {
    const res = await conn.send(ConsumerGroupDescribe, null, { groupIds: [group], includeAuthorizedOperations: false });
    const g = res.groups[0];
    if (g && g.errorCode === 0) {
      return {
        group,
        type: "consumer",
        state: g.groupState,
        protocol: g.assignorName,
        members: g.members.map((m) => ({
          memberId: m.memberId,
          instanceId: m.instanceId,
          clientId: m.clientId,
          host: m.clientHost,
          assignment: m.assignment.topicPartitions.map((t) => ({ topic: t.topicName, partitions: [...t.partitions].sort((x, y) => x - y) })),
        })),
      };
    }
    if (g && g.errorCode !== GROUP_ID_NOT_FOUND) check(g.errorCode, `ConsumerGroupDescribe ${group}`, g.errorMessage);
  }
  const res = await conn.send(DescribeGroups, null, { groups: [group], includeAuthorizedOperations: false });
  const g = res.groups[0];
  if (!g) throw new Error(`DescribeGroups ${group}: empty answer`);
  check(g.errorCode, `DescribeGroups ${group}`, g.errorMessage);
  if (g.groupState === "Dead") throw new KafkaError(GROUP_ID_NOT_FOUND, `DescribeGroups ${group}`, `group ${group} does not exist`);
  return {
    group,
    type: "classic",
    state: g.groupState,
    protocol: g.protocolType ? `${g.protocolType}${g.protocolData ? "/" + g.protocolData : ""}` : "",
    members: g.members.map((m) => ({
      memberId: m.memberId,
      instanceId: m.groupInstanceId,
      clientId: m.clientId,
      host: m.clientHost,
      assignment: g.protocolType === "consumer" ? decodeAssignment(m.memberAssignment) : [],
    })),
  };
}

const list: Command = {
  spec: {
    name: "group list",
    args: "",
    summary: "List consumer groups with their type and state.",
    positional: [0, 0],
    flags: [BOOTSTRAP_FLAG, FORMAT_FLAG, { name: "state", kind: "list", value: "STATE", help: "only groups in this state (e.g. Stable, Empty)" }, { name: "type", kind: "list", value: "TYPE", help: "only groups of this type (classic, consumer)" }],
  },
  run: (p, out) =>
    withClient(p, async (c) => {
      const md = await c.metadata([]);
      const rows: { group: string; type: string; state: string; protocolType: string }[] = [];
      // Every broker lists the groups it coordinates.
      for (const b of md.brokers) {
        const conn = await c.broker(b.nodeId);
        const res = await conn.send(ListGroups, null, { statesFilter: (p.flags.state as string[] | undefined) ?? [], typesFilter: (p.flags.type as string[] | undefined) ?? [] });
        check(res.errorCode, `ListGroups on broker ${b.nodeId}`);
        for (const g of res.groups) rows.push({ group: g.groupId, type: g.groupType || (g.protocolType === "consumer" ? "classic" : g.protocolType), state: g.groupState, protocolType: g.protocolType });
      }
      rows.sort((a, b) => a.group.localeCompare(b.group));
      if (p.flags.format === "json") for (const r of rows) out.json(r);
      else out.table(["GROUP", "TYPE", "STATE"], rows.map((r) => [r.group, r.type, r.state || "-"]));
      return 0;
    }),
};

interface OffsetRow {
  topic: string;
  partition: number;
  committed: bigint | null;
  logEnd: bigint | null;
  lag: bigint | null;
  memberId: string | null;
  host: string | null;
  clientId: string | null;
}

async function offsetRows(c: KafkaClient, d: GroupDescription): Promise<OffsetRow[]> {
  const committed = await committedOffsets(c, d.group, null);
  const owner = new Map<string, GroupMember>();
  const wanted = new Map<string, Set<number>>();
  const want = (t: string, p: number) => {
    const s = wanted.get(t) ?? new Set<number>();
    s.add(p);
    wanted.set(t, s);
  };
  for (const m of d.members) for (const a of m.assignment) for (const p of a.partitions) {
    owner.set(`${a.topic}\0${p}`, m);
    want(a.topic, p);
  }
  for (const [t, m] of committed) for (const [p, o] of m) if (o >= 0n) want(t, p);
  const rows: OffsetRow[] = [];
  for (const t of [...wanted.keys()].sort()) {
    const ps = [...wanted.get(t)!].sort((a, b) => a - b);
    let ends = new Map<number, bigint>();
    try {
      const info = await c.topic(t);
      ends = await c.listOffsets(info, ps.filter((p) => info.partitions.some((x) => x.partition === p)), LATEST);
    } catch (e) {
      if (!(e instanceof KafkaError)) throw e;
    }
    for (const p of ps) {
      const co = committed.get(t)?.get(p);
      const cur = co !== undefined && co >= 0n ? co : null;
      const end = ends.get(p) ?? null;
      const m = owner.get(`${t}\0${p}`);
      rows.push({ topic: t, partition: p, committed: cur, logEnd: end, lag: cur !== null && end !== null ? end - cur : null, memberId: m?.memberId ?? null, host: m?.host ?? null, clientId: m?.clientId ?? null });
    }
  }
  return rows;
}

const describe: Command = {
  spec: {
    name: "group describe",
    args: "GROUP...",
    summary: "Members, assignments, committed offsets and lag of groups, like kafka-consumer-groups.sh --describe.",
    positional: [1, Infinity],
    flags: [BOOTSTRAP_FLAG, FORMAT_FLAG],
  },
  run: (p, out) =>
    withClient(p, async (c) => {
      for (const group of p.positional) {
        const d = await describeGroup(c, group);
        const rows = await offsetRows(c, d);
        if (p.flags.format === "json") {
          out.json({ ...d, offsets: rows });
          continue;
        }
        out.line(`Group ${group}: ${d.type}, ${d.state}${d.protocol ? `, ${d.protocol}` : ""}, ${d.members.length} member${d.members.length === 1 ? "" : "s"}`);
        const dash = (v: unknown) => (v === null || v === undefined ? "-" : String(v));
        const table = rows.map((r) => [group, r.topic, r.partition, dash(r.committed), dash(r.logEnd), dash(r.lag), dash(r.memberId), dash(r.host), dash(r.clientId)]);
        const idle = d.members.filter((m) => !rows.some((r) => r.memberId === m.memberId));
        for (const m of idle) table.push([group, "-", "-", "-", "-", "-", m.memberId, m.host, m.clientId]);
        out.table(["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"], table);
        out.line("");
      }
      return 0;
    }),
};

const del: Command = {
  spec: { name: "group delete", args: "GROUP...", summary: "Delete groups (they must have no members) and their committed offsets.", positional: [1, Infinity], flags: [BOOTSTRAP_FLAG] },
  run: (p, out) =>
    withClient(p, async (c) => {
      for (const group of p.positional) {
        const conn = await c.coordinator(group);
        const res = await conn.send(DeleteGroups, null, { groupsNames: [group] });
        const r = res.results[0];
        if (!r) throw new Error(`DeleteGroups ${group}: empty answer`);
        check(r.errorCode, `DeleteGroups ${group}`);
        out.line(`deleted group ${group}`);
      }
      return 0;
    }),
};

type ResetTo = { kind: "earliest" } | { kind: "latest" } | { kind: "time"; ms: number } | { kind: "offset"; offset: bigint } | { kind: "shift"; by: bigint };

function resetTarget(p: Parsed): ResetTo {
  const chosen: ResetTo[] = [];
  if (p.flags["to-earliest"]) chosen.push({ kind: "earliest" });
  if (p.flags["to-latest"]) chosen.push({ kind: "latest" });
  if (p.flags["to-datetime"] !== undefined) chosen.push({ kind: "time", ms: parseTime("to-datetime", p.flags["to-datetime"] as string) });
  if (p.flags["to-offset"] !== undefined) chosen.push({ kind: "offset", offset: BigInt(p.flags["to-offset"] as number) });
  if (p.flags["shift-by"] !== undefined) chosen.push({ kind: "shift", by: BigInt(p.flags["shift-by"] as number) });
  if (chosen.length !== 1) throw new UsageError("give exactly one of --to-earliest, --to-latest, --to-datetime, --to-offset, --shift-by");
  return chosen[0]!;
}

/** `--topic T` or `--topic T:0,2`, or every topic the group has offsets for. */
async function resetScope(c: KafkaClient, p: Parsed, group: string): Promise<{ topic: TopicInfo; partitions: number[] }[]> {
  const topics = (p.flags.topic as string[] | undefined) ?? [];
  const all = p.flags["all-topics"] === true;
  if (topics.length === 0 && !all) throw new UsageError("give --topic TOPIC[:P,P...] or --all-topics");
  if (topics.length > 0 && all) throw new UsageError("give --topic or --all-topics, not both");
  const specs = all
    ? [...(await committedOffsets(c, group, null))].map(([name, m]) => ({ name, partitions: [...m].filter(([, o]) => o >= 0n).map(([q]) => q) }))
    : topics.map((s) => {
        const m = /^([^:]+)(?::(\d+(?:,\d+)*))?$/.exec(s);
        if (!m) throw new UsageError(`--topic: expected TOPIC[:P,P...], got ${s}`);
        return { name: m[1]!, partitions: m[2] ? m[2].split(",").map(Number) : null };
      });
  const out: { topic: TopicInfo; partitions: number[] }[] = [];
  for (const s of specs) {
    const topic = await c.topic(s.name);
    const partitions = s.partitions ?? topic.partitions.map((x) => x.partition);
    for (const q of partitions) if (!topic.partitions.some((x) => x.partition === q)) throw new UsageError(`--topic ${s.name}: no partition ${q}`);
    out.push({ topic, partitions: [...partitions].sort((a, b) => a - b) });
  }
  return out;
}

const reset: Command = {
  spec: {
    name: "group reset-offsets",
    args: "GROUP",
    summary: "Move a group's committed offsets; shows the plan unless --execute is given. The group must have no members.",
    positional: [1, 1],
    flags: [
      BOOTSTRAP_FLAG,
      FORMAT_FLAG,
      { name: "topic", short: "t", kind: "list", value: "TOPIC[:P,P...]", help: "a topic, or some of its partitions" },
      { name: "all-topics", kind: "bool", help: "every topic the group has committed offsets for" },
      { name: "to-earliest", kind: "bool", help: "to the start of each partition" },
      { name: "to-latest", kind: "bool", help: "to the end of each partition" },
      { name: "to-datetime", kind: "string", value: "TIME", help: "to the first record at or after TIME (ISO 8601 or epoch ms); the end if none" },
      { name: "to-offset", kind: "int", value: "N", help: "to offset N" },
      { name: "shift-by", kind: "int", value: "N", help: "by N from the committed offset (negative: back)" },
      { name: "execute", kind: "bool", help: "commit the new offsets (without it: a dry run)" },
    ],
    notes: "New offsets are clamped to each partition's start and end, as kafka-consumer-groups.sh does.",
  },
  run: (p, out) =>
    withClient(p, async (c) => {
      const group = p.positional[0]!;
      const target = resetTarget(p);
      const scope = await resetScope(c, p, group);
      const execute = p.flags.execute === true;
      if (execute) {
        let d: GroupDescription | null = null;
        try {
          d = await describeGroup(c, group);
        } catch (e) {
          if (!(e instanceof KafkaError && e.code === GROUP_ID_NOT_FOUND)) throw e;
        }
        if (d && d.members.length > 0) throw new KafkaError(68, `reset-offsets ${group}`, `the group has ${d.members.length} active member(s); stop them first`);
      }
      const committed = await committedOffsets(c, group, scope.map((s) => s.topic.name));
      const plan = new Map<string, Map<number, bigint>>();
      const rows: { group: string; topic: string; partition: number; current: bigint | null; new: bigint }[] = [];
      for (const { topic, partitions } of scope) {
        const [lo, hi] = await Promise.all([c.listOffsets(topic, partitions, EARLIEST), c.listOffsets(topic, partitions, LATEST)]);
        const at = target.kind === "time" ? await c.listOffsets(topic, partitions, BigInt(target.ms)) : null;
        const m = new Map<number, bigint>();
        for (const q of partitions) {
          const co = committed.get(topic.name)?.get(q);
          const cur = co !== undefined && co >= 0n ? co : null;
          let n: bigint;
          if (target.kind === "earliest") n = lo.get(q)!;
          else if (target.kind === "latest") n = hi.get(q)!;
          else if (target.kind === "offset") n = target.offset;
          else if (target.kind === "time") n = at!.get(q)! < 0n ? hi.get(q)! : at!.get(q)!;
          else {
            if (cur === null) throw new Error(`reset-offsets ${group}: ${topic.name}-${q} has no committed offset to shift from`);
            n = cur + target.by;
          }
          if (n < lo.get(q)!) n = lo.get(q)!;
          if (n > hi.get(q)!) n = hi.get(q)!;
          m.set(q, n);
          rows.push({ group, topic: topic.name, partition: q, current: cur, new: n });
        }
        plan.set(topic.name, m);
      }
      if (execute) await commitOffsets(c, group, plan);
      if (p.flags.format === "json") for (const r of rows) out.json(r);
      else out.table(["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET"], rows.map((r) => [r.group, r.topic, r.partition, r.current === null ? "-" : r.current, r.new]));
      if (!execute) console.error("dry run: nothing committed (add --execute to commit these offsets)");
      return 0;
    }),
};

export const groupCommands: Command[] = [list, describe, del, reset];
