// DescribeTopicPartitions (KIP-966): the partitions of the named topics (all
// topics when none are named), in topic-name order, at most
// ResponsePartitionLimit partitions per answer; NextCursor says where the next
// request starts. The Java admin's describeTopics uses it.

import type * as Req from "../../generated/DescribeTopicPartitionsRequest.ts";
import type * as Res from "../../generated/DescribeTopicPartitionsResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { ZERO_UUID } from "../protocol/generated-support.ts";
import type { Topic } from "../meta/topics.ts";
import { ALL_TOPIC_OPERATIONS, replicaState } from "./metadata.ts";
import type { RequestContext } from "./registry.ts";

/** Kafka's max.request.partition.size.limit default: the most partitions one answer carries. */
const MAX_PARTITIONS_PER_RESPONSE = 2000;

function unknownTopic(name: string, errorCode: number): Res.DescribeTopicPartitionsResponseTopicInit {
  return { errorCode, name, topicId: ZERO_UUID, isInternal: false, partitions: [], topicAuthorizedOperations: ALL_TOPIC_OPERATIONS };
}

export function handleDescribeTopicPartitions(broker: Broker, req: Req.DescribeTopicPartitionsRequest, _ctx: RequestContext): Res.DescribeTopicPartitionsResponseInit {
  const cursor = req.cursor;
  const all = req.topics.length === 0;
  const requested = new Set(req.topics.map((t) => t.name));
  if (cursor && !all && !requested.has(cursor.topicName)) {
    // Kafka refuses the request as a whole: every named topic carries the error.
    return { throttleTimeMs: 0, topics: [...requested].map((n) => unknownTopic(n, ErrorCode.INVALID_REQUEST)), nextCursor: null };
  }
  const names = (all ? [...broker.topics.all()].map((t) => t.name) : [...requested]).filter((n) => !cursor || n >= cursor.topicName).sort();
  let remaining = Math.max(1, Math.min(req.responsePartitionLimit, MAX_PARTITIONS_PER_RESPONSE));
  let nextCursor: Res.CursorInit | null = null;
  const topics: Res.DescribeTopicPartitionsResponseTopicInit[] = [];
  for (const name of names) {
    const t: Topic | undefined = broker.topics.get(name);
    if (!t) {
      // Unknown names are answered whatever the limit; they hold no partitions.
      topics.push(unknownTopic(name, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
      continue;
    }
    if (nextCursor) continue;
    const first = cursor && cursor.topicName === name ? Math.max(0, cursor.partitionIndex) : 0;
    if (remaining === 0) {
      nextCursor = { topicName: name, partitionIndex: first };
      continue;
    }
    const taken = t.partitions.slice(first, first + remaining);
    remaining -= taken.length;
    if (first + taken.length < t.partitions.length) nextCursor = { topicName: name, partitionIndex: first + taken.length };
    topics.push({
      errorCode: ErrorCode.NONE,
      name: t.name,
      topicId: t.id,
      isInternal: t.internal,
      partitions: taken.map((p) => ({
        errorCode: ErrorCode.NONE,
        partitionIndex: p.index,
        ...replicaState(broker, p),
        // No eligible-leader-replica state (KIP-966 ELR) with one replica: empty, as Kafka sends without ELR.
        eligibleLeaderReplicas: [],
        lastKnownElr: [],
      })),
      topicAuthorizedOperations: ALL_TOPIC_OPERATIONS,
    });
  }
  return { throttleTimeMs: 0, topics, nextCursor };
}
