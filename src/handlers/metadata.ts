// Metadata: one broker (us) leads every partition; topics by name or, from
// v10, by id; auto-creation when both the broker and the request allow it.

import type * as Req from "../../generated/MetadataRequest.ts";
import type * as Res from "../../generated/MetadataResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { ZERO_UUID } from "../protocol/generated-support.ts";
import { autoCreateTopic } from "../meta/topic-create.ts";
import type { Partition, Topic } from "../meta/topics.ts";
import type { RequestContext } from "./registry.ts";
import { invalidTopicName } from "../meta/topic-config.ts";

/** Without an authorizer every operation is allowed: READ..DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS. */
export const ALL_TOPIC_OPERATIONS = (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 10) | (1 << 11);
export const ALL_CLUSTER_OPERATIONS = (1 << 4) | (1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12);
const NOT_REQUESTED = -2147483648;

/** Leader and replicas of a partition: this broker alone, at the partition's leader epoch. */
export function replicaState(broker: Broker, part: Partition): { leaderId: number; leaderEpoch: number; replicaNodes: number[]; isrNodes: number[]; offlineReplicas: number[] } {
  return { leaderId: broker.nodeId, leaderEpoch: part.log.leaderEpoch, replicaNodes: [broker.nodeId], isrNodes: [broker.nodeId], offlineReplicas: [] };
}

function describeTopic(broker: Broker, t: Topic, withOps: boolean): Res.MetadataResponseTopicInit {
  return {
    errorCode: ErrorCode.NONE,
    name: t.name,
    topicId: t.id,
    isInternal: t.internal,
    partitions: t.partitions.map((p) => ({ errorCode: ErrorCode.NONE, partitionIndex: p.index, ...replicaState(broker, p) })),
    topicAuthorizedOperations: withOps ? ALL_TOPIC_OPERATIONS : NOT_REQUESTED,
  };
}

export function handleMetadata(broker: Broker, req: Req.MetadataRequest, ctx: RequestContext): Res.MetadataResponseInit {
  const v = ctx.apiVersion;
  const withOps = req.includeTopicAuthorizedOperations;
  const topics: Res.MetadataResponseTopicInit[] = [];
  // v0: an empty list means all topics; v1+: null means all, empty means none.
  const all = req.topics === null || (v === 0 && req.topics.length === 0);
  if (all) {
    for (const t of broker.topics.all()) if (!t.internal) topics.push(describeTopic(broker, t, withOps));
  } else {
    const allowAuto = broker.options.autoCreateTopics && (v < 4 || req.allowAutoTopicCreation);
    for (const rt of req.topics!) {
      if (rt.name === null) {
        if (rt.topicId === ZERO_UUID) {
          topics.push({ errorCode: ErrorCode.INVALID_REQUEST, name: null, topicId: ZERO_UUID, partitions: [] });
          continue;
        }
        const t = broker.topics.getById(rt.topicId);
        if (t) topics.push(describeTopic(broker, t, withOps));
        else topics.push({ errorCode: ErrorCode.UNKNOWN_TOPIC_ID, name: null, topicId: rt.topicId, partitions: [] });
        continue;
      }
      const name = rt.name;
      let t = broker.topics.get(name);
      if (!t) {
        if (invalidTopicName(name)) {
          topics.push({ errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, name, topicId: ZERO_UUID, partitions: [] });
          continue;
        }
        if (allowAuto) {
          const created = autoCreateTopic(broker, name);
          if ("topic" in created) t = created.topic;
          else {
            topics.push({ errorCode: created.errorCode, name, topicId: ZERO_UUID, partitions: [] });
            continue;
          }
        } else {
          topics.push({ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, name, topicId: ZERO_UUID, partitions: [] });
          continue;
        }
      }
      topics.push(describeTopic(broker, t, withOps));
    }
  }
  return {
    throttleTimeMs: 0,
    brokers: [{ nodeId: broker.nodeId, ...broker.advertisedFor(ctx.connectionId), rack: null }],
    clusterId: broker.clusterId,
    controllerId: broker.nodeId,
    topics,
    clusterAuthorizedOperations: req.includeClusterAuthorizedOperations ? ALL_CLUSTER_OPERATIONS : NOT_REQUESTED,
    errorCode: ErrorCode.NONE,
  };
}
