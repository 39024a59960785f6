// Where reading starts: --from beginning|end|OFFSET|-N|TIME turned into one
// offset per partition with ListOffsets, and a group's committed offsets
// read with OffsetFetch and written with OffsetCommit (as a tool outside the
// group's membership: generation -1, no member id, which brokers accept for
// groups without active members).

import { commit, fetchCommitted, type Offsets } from "../client/offsets.ts";
import { EARLIEST, LATEST, type KafkaClient, type TopicInfo } from "../client/client.ts";
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
  return fetchCommitted(await c.coordinator(group), group, topics);
}

/** Commits as a tool outside the group's membership. */
export async function commitOffsets(c: KafkaClient, group: string, offsets: Offsets): Promise<void> {
  if ([...offsets.values()].every((m) => m.size === 0)) return;
  await commit(await c.coordinator(group), group, offsets);
}

/** `--partition` values checked against the topic; all partitions when none given. */
export function partitionsOf(t: TopicInfo, chosen: number[] | undefined): number[] {
  if (!chosen || chosen.length === 0) return t.partitions.map((p) => p.partition);
  for (const p of chosen) if (!t.partitions.some((x) => x.partition === p)) throw new UsageError(`--partition ${p}: topic ${t.name} has ${t.partitions.length} partitions`);
  return chosen;
}
