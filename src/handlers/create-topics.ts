// CreateTopics: validation as Kafka does it (name, partitions, replication
// factor against our single broker, manual assignments, configs), validate_only,
// and the v5+ echo of the resulting topic configuration.

import type * as Req from "../../generated/CreateTopicsRequest.ts";
import type * as Res from "../../generated/CreateTopicsResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { ZERO_UUID } from "../protocol/generated-support.ts";
import { checkNewTopic, requestCapError } from "../meta/topic-create.ts";
import { describeTopicConfigs } from "../meta/config-describe.ts";
import { configRecord } from "../meta/topic-config.ts";
import type { RequestContext } from "./registry.ts";

function fail(name: string, errorCode: number, errorMessage: string): Res.CreatableTopicResultInit {
  return { name, topicId: ZERO_UUID, errorCode, errorMessage, numPartitions: -1, replicationFactor: -1, configs: [] };
}

function createOne(broker: Broker, t: Req.CreatableTopic, validateOnly: boolean): Res.CreatableTopicResultInit {
  const nulls = t.configs.filter((c) => c.value === null).map((c) => c.name);
  if (nulls.length > 0) return fail(t.name, ErrorCode.INVALID_CONFIG, `Null value not supported for topic configs: ${nulls.join(",")}`);
  const configs = configRecord(t.configs.map((c) => [c.name, c.value ?? ""] as const));

  let partitions = t.numPartitions;
  if (t.assignments.length > 0) {
    if (t.numPartitions !== -1 || t.replicationFactor !== -1) {
      return fail(t.name, ErrorCode.INVALID_REQUEST, "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.");
    }
    const seen = new Set<number>();
    for (const a of t.assignments) {
      if (a.brokerIds.length === 0 || a.brokerIds.some((id) => id !== broker.nodeId) || new Set(a.brokerIds).size !== a.brokerIds.length) {
        return fail(t.name, ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Invalid replica assignment for partition ${a.partitionIndex}: only broker ${broker.nodeId} exists.`);
      }
      seen.add(a.partitionIndex);
    }
    partitions = seen.size;
    for (let i = 0; i < partitions; i++) {
      if (!seen.has(i)) return fail(t.name, ErrorCode.INVALID_REPLICA_ASSIGNMENT, "Partitions should be a consecutive 0-based integer sequence");
    }
  } else {
    if (partitions === -1) partitions = broker.options.defaultPartitions;
    const rf = t.replicationFactor === -1 ? 1 : t.replicationFactor;
    if (rf !== 1) {
      return fail(
        t.name,
        ErrorCode.INVALID_REPLICATION_FACTOR,
        rf <= 0
          ? "Replication factor must be larger than 0, or -1 to use the default value."
          : `Unable to replicate the partition ${rf} time(s): The target replication factor of ${rf} cannot be reached because only 1 broker(s) are registered.`,
      );
    }
    if (partitions <= 0) return fail(t.name, ErrorCode.INVALID_PARTITIONS, "Number of partitions must be larger than 0, or -1 to use the default value.");
  }
  const err = checkNewTopic(broker, t.name, partitions, configs);
  if (err) return fail(t.name, err.errorCode, err.message);

  const topicId = validateOnly ? ZERO_UUID : broker.topics.create(t.name, partitions, configs).id;
  if (!validateOnly) broker.log.info(`created topic ${t.name} with ${partitions} partition(s)`);
  return {
    name: t.name,
    topicId,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    numPartitions: partitions,
    replicationFactor: 1,
    configs: describeTopicConfigs(broker.options, configs).map((c) => ({
      name: c.name,
      value: c.value,
      readOnly: c.readOnly,
      configSource: c.source,
      isSensitive: c.isSensitive,
    })),
  };
}

export function handleCreateTopics(broker: Broker, req: Req.CreateTopicsRequest, _ctx: RequestContext): Res.CreateTopicsResponseInit {
  const counts = new Map<string, number>();
  for (const t of req.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
  const partitions = req.topics.reduce((n, t) => n + (t.assignments.length > 0 ? t.assignments.length : t.numPartitions === -1 ? broker.options.defaultPartitions : Math.max(0, t.numPartitions)), 0);
  const tooLarge = requestCapError(broker, counts.size, partitions);
  if (tooLarge) return { throttleTimeMs: 0, topics: [...counts.keys()].map((name) => fail(name, tooLarge.errorCode, tooLarge.message)) };
  const topics = req.topics.map((t) =>
    counts.get(t.name)! > 1
      ? fail(t.name, ErrorCode.INVALID_REQUEST, "Create topics request contains multiple entries for this topic.")
      : createOne(broker, t, req.validateOnly),
  );
  // Duplicates are answered once, as Kafka does.
  const seen = new Set<string>();
  return { throttleTimeMs: 0, topics: topics.filter((t) => (seen.has(t.name!) ? false : (seen.add(t.name!), true))) };
}
