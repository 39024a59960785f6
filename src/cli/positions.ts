// Where reading starts: --from beginning|end|OFFSET|-N|TIME turned into one
// offset per partition with ListOffsets, and a group's committed offsets
// read with OffsetFetch and written with OffsetCommit (as a tool outside the
// group's membership: generation -1, no member id, which brokers accept for
// groups without active members).

import { OffsetCommit, OffsetFetch } from "../client/apis.ts";
import { EARLIEST, LATEST, type KafkaClient, type TopicInfo } from "../client/client.ts";
import { check } from "../client/errors.ts";
import { UsageError, parseTime } from "./args.ts";

export type StartSpec = { kind: "earliest" } | { kind: "latest" } | { kind: "offset"; offset: bigint } | { kind: "fromEnd"; back: bigint } | { kind: "time"; ms: number };

export function parseStart(flag: string, s: string): StartSpec {
  if (s === "beginning" || s === "earliest") return { kind: "earliest" };
  if (s === "end" || s === "latest") return { kind: "latest" };
  if (/^\d+$/.test(s)) return { kind: "offset", offset: BigInt(s) };
  if (/^-\d+$/.test(s)) return { kind: "fromEnd", back: -BigInt(s) };
  return { kind: "time", ms: parseTime(flag, s) };
}

/** Offsets for `partitions` per the spec, clamped to what each partition holds. */
export async function resolveStart(c: KafkaClient, t: TopicInfo, partitions: number[], spec: StartSpec, isolationLevel = 0): Promise<Map<number, bigint>> {
  if (partitions.length === 0) return new Map();
  const [earliest, latest] = await Promise.all([c.listOffsets(t, partitions, EARLIEST, isolationLevel), c.listOffsets(t, partitions, LATEST, isolationLevel)]);
  const byTime = spec.kind === "time" ? await c.listOffsets(t, partitions, BigInt(spec.ms), isolationLevel) : null;
  const out = new Map<number, bigint>();
  for (const p of partitions) {
    const lo = earliest.get(p)!;
    const hi = latest.get(p)!;
    let o: bigint;
    switch (spec.kind) {
      case "earliest":
        o = lo;
        break;
      case "latest":
        o = hi;
        break;
      case "offset":
        o = spec.offset;
        break;
      case "fromEnd":
        o = hi - spec.back;
        break;
      case "time": {
        const at = byTime!.get(p)!;
        o = at < 0n ? hi : at;
        break;
      }
    }
    out.set(p, o < lo ? lo : o > hi ? hi : o);
  }
  return out;
}

/** A group's committed offsets (partition → offset; -1 when none), for the given topics or all (null). */
export async function committedOffsets(c: KafkaClient, group: string, topics: string[] | null): Promise<Map<string, Map<number, bigint>>> {
  const conn = await c.coordinator(group);
  // All of the group's offsets, then filtered: naming a topic requires naming its partitions too.
  const res = await conn.send(OffsetFetch, null, { groupId: group, topics: null, requireStable: false });
  check(res.errorCode, `OffsetFetch ${group}`);
  const out = new Map<string, Map<number, bigint>>();
  for (const t of res.topics) {
    if (topics !== null && !topics.includes(t.name)) continue;
    const m = out.get(t.name) ?? new Map<number, bigint>();
    for (const p of t.partitions) {
      check(p.errorCode, `OffsetFetch ${group} ${t.name}-${p.partitionIndex}`);
      m.set(p.partitionIndex, p.committedOffset);
    }
    out.set(t.name, m);
  }
  return out;
}

export async function commitOffsets(c: KafkaClient, group: string, offsets: Map<string, Map<number, bigint>>): Promise<void> {
  if ([...offsets.values()].every((m) => m.size === 0)) return;
  const conn = await c.coordinator(group);
  const res = await conn.send(OffsetCommit, null, {
    groupId: group,
    generationIdOrMemberEpoch: -1,
    memberId: "",
    groupInstanceId: null,
    retentionTimeMs: -1n,
    topics: [...offsets].map(([name, m]) => ({ name, partitions: [...m].map(([partitionIndex, committedOffset]) => ({ partitionIndex, committedOffset, committedLeaderEpoch: -1, committedMetadata: "" })) })),
  });
  for (const t of res.topics) for (const p of t.partitions) check(p.errorCode, `OffsetCommit ${group} ${t.name}-${p.partitionIndex}`);
}

/** `--partition` values checked against the topic; all partitions when none given. */
export function partitionsOf(t: TopicInfo, chosen: number[] | undefined): number[] {
  if (!chosen || chosen.length === 0) return t.partitions.map((p) => p.partition);
  for (const p of chosen) if (!t.partitions.some((x) => x.partition === p)) throw new UsageError(`--partition ${p}: topic ${t.name} has ${t.partitions.length} partitions`);
  return chosen;
}
