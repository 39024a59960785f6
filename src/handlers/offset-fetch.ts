// OffsetFetch v1-10: one group (v1-7) or a batch (v8+); null topics mean
// every committed offset; v10 names topics by id. A group without commits (or
// no such group) answers offset -1, metadata "" and no error, as Kafka does.

import type * as Req from "../../generated/OffsetFetchRequest.ts";
import type * as Res from "../../generated/OffsetFetchResponse.ts";
import type { Broker } from "../broker.ts";
import type { FetchedOffsets, FetchedPartition } from "../groups/coordinator.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { RequestContext } from "./registry.ts";

interface AskedTopic {
  /** null: the id names no topic. */
  name: string | null;
  topicId: string;
  partitions: number[];
}

function partitionOut(p: FetchedPartition): Res.OffsetFetchResponsePartitionsInit {
  return { partitionIndex: p.partition, committedOffset: p.offset, committedLeaderEpoch: p.leaderEpoch, metadata: p.metadata, errorCode: p.errorCode };
}

function unknownPartition(partition: number, errorCode: number): FetchedPartition {
  return { partition, offset: -1n, leaderEpoch: -1, metadata: "", errorCode };
}

/** One group's answer in the v8+ shape (topic ids filled in for v10). */
function fetchGroup(broker: Broker, groupId: string, memberId: string | null, memberEpoch: number, asked: AskedTopic[] | null, requireStable: boolean, byId: boolean): Res.OffsetFetchResponseGroupInit {
  const known = asked === null ? null : asked.filter((t) => t.name !== null).map((t) => ({ topic: t.name!, partitions: t.partitions }));
  const r: FetchedOffsets = broker.groups.fetchOffsets(groupId, memberId, memberEpoch, known, requireStable);
  if (r.errorCode !== ErrorCode.NONE) return { groupId, topics: [], errorCode: r.errorCode };
  const topics: Res.OffsetFetchResponseTopicsInit[] = [];
  if (asked === null) {
    for (const t of r.topics) {
      if (!byId) topics.push({ name: t.topic, partitions: t.partitions.map(partitionOut) });
      else {
        // Offsets of a topic that no longer exists cannot be named by id.
        const topic = broker.topics.get(t.topic);
        if (topic) topics.push({ topicId: topic.id, partitions: t.partitions.map(partitionOut) });
      }
    }
  } else {
    let i = 0;
    for (const t of asked) {
      const partitions = t.name === null ? t.partitions.map((p) => unknownPartition(p, ErrorCode.UNKNOWN_TOPIC_ID)) : r.topics[i++]!.partitions;
      topics.push(byId ? { topicId: t.topicId, partitions: partitions.map(partitionOut) } : { name: t.name!, partitions: partitions.map(partitionOut) });
    }
  }
  return { groupId, topics, errorCode: ErrorCode.NONE };
}

export function handleOffsetFetch(broker: Broker, req: Req.OffsetFetchRequest, ctx: RequestContext): Res.OffsetFetchResponseInit {
  const v = ctx.apiVersion;
  const requireStable = v >= 7 && req.requireStable;
  if (v >= 8) {
    const byId = v >= 10;
    return {
      throttleTimeMs: 0,
      groups: req.groups.map((g) => {
        const asked = g.topics === null ? null : g.topics.map((t) => ({ name: byId ? (broker.topics.getById(t.topicId)?.name ?? null) : t.name, topicId: t.topicId, partitions: t.partitionIndexes }));
        return fetchGroup(broker, g.groupId, v >= 9 ? g.memberId : null, v >= 9 ? g.memberEpoch : -1, asked, requireStable, byId);
      }),
    };
  }
  const asked = req.topics === null ? null : req.topics.map((t) => ({ name: t.name, topicId: "", partitions: t.partitionIndexes }));
  const g = fetchGroup(broker, req.groupId, null, -1, asked, requireStable, false);
  const groupError = g.errorCode ?? ErrorCode.NONE;
  let topics: Res.OffsetFetchResponseTopicInit[];
  if (groupError !== ErrorCode.NONE && v < 2) {
    // v1 has no top-level error: every asked partition carries it.
    topics = (req.topics ?? []).map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((p) => ({ partitionIndex: p, committedOffset: -1n, metadata: "", errorCode: groupError })),
    }));
  } else {
    topics = (g.topics ?? []).map((t) => ({
      name: t.name ?? "",
      partitions: (t.partitions ?? []).map((p) => ({
        partitionIndex: p.partitionIndex ?? 0,
        committedOffset: p.committedOffset ?? -1n,
        ...(v >= 5 ? { committedLeaderEpoch: p.committedLeaderEpoch ?? -1 } : {}),
        metadata: p.metadata ?? "",
        errorCode: p.errorCode ?? ErrorCode.NONE,
      })),
    }));
  }
  return { throttleTimeMs: 0, topics, ...(v >= 2 ? { errorCode: groupError } : {}) };
}
