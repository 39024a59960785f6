// CreatePartitions (grow a topic) and DeleteRecords (advance the log start of
// topics whose cleanup.policy includes delete).

import type * as CpReq from "../../generated/CreatePartitionsRequest.ts";
import type * as CpRes from "../../generated/CreatePartitionsResponse.ts";
import type * as DrReq from "../../generated/DeleteRecordsRequest.ts";
import type * as DrRes from "../../generated/DeleteRecordsResponse.ts";
import type * as DcReq from "../../generated/DescribeClusterRequest.ts";
import type * as DcRes from "../../generated/DescribeClusterResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { partitionCapError, requestCapError } from "../meta/topic-create.ts";
import { listItems } from "../meta/topic-config.ts";
import { ALL_CLUSTER_OPERATIONS } from "./metadata.ts";
import type { RequestContext } from "./registry.ts";

export function handleCreatePartitions(broker: Broker, req: CpReq.CreatePartitionsRequest, _ctx: RequestContext): CpRes.CreatePartitionsResponseInit {
  const seen = new Set<string>();
  const adding = req.topics.reduce((n, t) => n + Math.max(0, t.count - (broker.topics.get(t.name)?.partitions.length ?? t.count)), 0);
  const tooLarge = requestCapError(broker, 0, adding);
  return {
    throttleTimeMs: 0,
    results: req.topics.map((t) => {
      if (tooLarge) return { name: t.name, errorCode: tooLarge.errorCode, errorMessage: tooLarge.message };
      const fail = (errorCode: number, errorMessage: string) => ({ name: t.name, errorCode, errorMessage });
      if (seen.has(t.name)) return fail(ErrorCode.INVALID_REQUEST, "Duplicate topic in request.");
      seen.add(t.name);
      const topic = broker.topics.get(t.name);
      if (!topic) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${t.name}' does not exist.`);
      const have = topic.partitions.length;
      if (t.count <= have) return fail(ErrorCode.INVALID_PARTITIONS, `Topic currently has ${have} partitions, which is higher than the requested ${t.count}.`);
      const capped = partitionCapError(broker, t.count);
      if (capped) return fail(capped.errorCode, capped.message);
      if (t.assignments !== null) {
        if (t.assignments.length !== t.count - have) return fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Increasing the number of partitions by ${t.count - have} but ${t.assignments.length} assignments provided.`);
        if (t.assignments.some((a) => a.brokerIds.length !== 1 || a.brokerIds[0] !== broker.nodeId)) {
          return fail(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Only broker ${broker.nodeId} exists.`);
        }
      }
      if (!req.validateOnly) broker.topics.addPartitions(topic, t.count);
      return { name: t.name, errorCode: ErrorCode.NONE, errorMessage: null };
    }),
  };
}

export async function handleDeleteRecords(broker: Broker, req: DrReq.DeleteRecordsRequest, _ctx: RequestContext): Promise<DrRes.DeleteRecordsResponseInit> {
  const touched = new Set<{ flushed(): Promise<void> }>();
  const topics = req.topics.map((t) => {
    const topic = broker.topics.get(t.name);
    return {
      name: t.name,
      partitions: t.partitions.map((p) => {
        const part = topic?.partitions[p.partitionIndex];
        if (!part) return { partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION };
        // As in Kafka, only a topic whose cleanup.policy includes delete may have records deleted.
        if (!listItems(broker.topics.configValue(part.topic, "cleanup.policy")).includes("delete")) {
          return { partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode: ErrorCode.POLICY_VIOLATION };
        }
        const hw = part.highWatermark;
        // -1 means "up to the high watermark".
        const target = p.offset === -1n ? hw : Number(p.offset);
        if (target < 0 || target > hw) return { partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode: ErrorCode.OFFSET_OUT_OF_RANGE };
        if (target > part.log.logStartOffset) {
          part.log.deleteRecordsBefore(target);
          touched.add(part.log);
        }
        return { partitionIndex: p.partitionIndex, lowWatermark: BigInt(part.log.logStartOffset), errorCode: ErrorCode.NONE };
      }),
    };
  });
  await Promise.all([...touched].map((l) => l.flushed()));
  return { throttleTimeMs: 0, topics };
}

export function handleDescribeCluster(broker: Broker, req: DcReq.DescribeClusterRequest, ctx: RequestContext): DcRes.DescribeClusterResponseInit {
  // Endpoint type 1 is "brokers"; controllers (2) are not exposed by klite.
  if (ctx.apiVersion >= 1 && req.endpointType !== 1) {
    return { throttleTimeMs: 0, errorCode: ErrorCode.UNSUPPORTED_ENDPOINT_TYPE, errorMessage: "klite exposes only broker endpoints", endpointType: req.endpointType, clusterId: broker.clusterId, controllerId: -1, brokers: [] };
  }
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    endpointType: 1,
    clusterId: broker.clusterId,
    controllerId: broker.nodeId,
    brokers: [{ brokerId: broker.nodeId, ...broker.advertisedFor(ctx.connectionId), rack: null, isFenced: false }],
    clusterAuthorizedOperations: req.includeClusterAuthorizedOperations ? ALL_CLUSTER_OPERATIONS : -2147483648,
  };
}
