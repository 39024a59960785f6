// Committed offsets of a group: OffsetFetch and OffsetCommit on its
// coordinator. A tool outside the group commits with generation -1 and no
// member id (brokers accept that for groups without members); a member
// commits with its generation.

import { OffsetCommit, OffsetFetch } from "./apis.ts";
import type { BrokerConnection } from "./connection.ts";
import { check } from "./errors.ts";

/** topic → partition → offset */
export type Offsets = ReadonlyMap<string, ReadonlyMap<number, bigint>>;

/** A group's committed offsets (-1 where none), for the given topics or all (null). */
export async function fetchCommitted(conn: BrokerConnection, group: string, topics: readonly string[] | null): Promise<Map<string, Map<number, bigint>>> {
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

export async function commit(conn: BrokerConnection, group: string, offsets: Offsets, generationId = -1, memberId = ""): Promise<void> {
  const topics = [...offsets].filter(([, m]) => m.size > 0);
  if (topics.length === 0) return;
  const res = await conn.send(OffsetCommit, null, {
    groupId: group,
    generationIdOrMemberEpoch: generationId,
    memberId,
    groupInstanceId: null,
    retentionTimeMs: -1n,
    topics: topics.map(([name, m]) => ({ name, partitions: [...m].map(([partitionIndex, committedOffset]) => ({ partitionIndex, committedOffset, committedLeaderEpoch: -1, committedMetadata: "" })) })),
  });
  for (const t of res.topics) for (const p of t.partitions) check(p.errorCode, `OffsetCommit ${group} ${t.name}-${p.partitionIndex}`);
}
