// OffsetCommit v2-10: topics by name (v10: by id) checked against the
// registry, then the generation/member check and a durable write in the
// group coordinator before the answer.

import type * as Req from "../../generated/OffsetCommitRequest.ts";
import type * as Res from "../../generated/OffsetCommitResponse.ts";
import type { Broker } from "../broker.ts";
import type { OffsetCommitItem } from "../groups/coordinator.ts";
import { ErrorCode } from "../protocol/errors.ts";
import type { RequestContext } from "./registry.ts";

export async function handleOffsetCommit(broker: Broker, req: Req.OffsetCommitRequest, ctx: RequestContext): Promise<Res.OffsetCommitResponseInit> {
  const v = ctx.apiVersion;
  const byId = v >= 10;
  const items: OffsetCommitItem[] = [];
  const waiting: Res.OffsetCommitResponsePartitionInit[] = [];
  const topics: Res.OffsetCommitResponseTopicInit[] = req.topics.map((t) => {
    const topic = byId ? broker.topics.getById(t.topicId) : broker.topics.get(t.name);
    const partitions = t.partitions.map((p) => {
      let errorCode: number = ErrorCode.NONE;
      if (!topic) errorCode = byId ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      else if (p.partitionIndex < 0 || p.partitionIndex >= topic.partitions.length) errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      const out: Res.OffsetCommitResponsePartitionInit = { partitionIndex: p.partitionIndex, errorCode };
      if (topic && errorCode === ErrorCode.NONE) {
        waiting.push(out);
        items.push({
          topic: topic.name,
          partition: p.partitionIndex,
          offset: p.committedOffset,
          leaderEpoch: v >= 6 ? p.committedLeaderEpoch : -1,
          metadata: p.committedMetadata,
        });
      }
      return out;
    });
    return byId ? { topicId: t.topicId, partitions } : { name: t.name, partitions };
  });
  if (items.length > 0) {
    const codes = await broker.groups.commitOffsets(
      {
        groupId: req.groupId,
        memberId: req.memberId,
        groupInstanceId: v >= 7 ? req.groupInstanceId : null,
        generationIdOrMemberEpoch: req.generationIdOrMemberEpoch,
        retentionTimeMs: v <= 4 ? Number(req.retentionTimeMs) : -1,
        apiVersion: v,
      },
      items,
    );
    codes.forEach((c, i) => (waiting[i]!.errorCode = c));
  }
  return { throttleTimeMs: 0, topics };
}
