// Topic creation with Kafka's checks, shared by CreateTopics and the
// auto-creation paths of Metadata and Produce.

import type { Broker } from "../broker.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { configRecord, invalidTopicName, validateTopicConfigs } from "./topic-config.ts";
import type { Topic } from "./topics.ts";

export type CreateResult = { topic: Topic } | { errorCode: number; message: string };

/** What Kafka answers for a request over an operator's limit (a policy, as its 10,000-record batch bound is). */
export function policyViolation(message: string): { errorCode: number; message: string } {
  return { errorCode: ErrorCode.POLICY_VIOLATION, message };
}

/** --max-partitions-per-topic: null when `partitions` is within it. */
export function partitionCapError(broker: Broker, partitions: number): { errorCode: number; message: string } | null {
  const cap = broker.options.maxPartitionsPerTopic;
  return partitions > cap ? policyViolation(`A topic may have at most ${cap} partitions (--max-partitions-per-topic); ${partitions} requested.`) : null;
}

/** --max-topics-per-request and --max-partitions-per-request, for a whole CreateTopics or CreatePartitions request. */
export function requestCapError(broker: Broker, topics: number, partitions: number): { errorCode: number; message: string } | null {
  const o = broker.options;
  if (topics > o.maxTopicsPerRequest) return policyViolation(`A request may create at most ${o.maxTopicsPerRequest} topics (--max-topics-per-request); ${topics} requested.`);
  if (partitions > o.maxPartitionsPerRequest) {
    return policyViolation(`A request may create at most ${o.maxPartitionsPerRequest} partitions in all (--max-partitions-per-request); ${partitions} requested.`);
  }
  return null;
}

export function checkNewTopic(broker: Broker, name: string, partitions: number, configs: Record<string, string>): { errorCode: number; message: string } | null {
  const bad = invalidTopicName(name);
  if (bad) return { errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, message: bad };
  if (broker.topics.get(name)) return { errorCode: ErrorCode.TOPIC_ALREADY_EXISTS, message: `Topic '${name}' already exists.` };
  if (partitions < 1) return { errorCode: ErrorCode.INVALID_PARTITIONS, message: "Number of partitions must be larger than 0." };
  const capped = partitionCapError(broker, partitions);
  if (capped) return capped;
  const badConfig = validateTopicConfigs(configs, broker.options);
  if (badConfig) return { errorCode: ErrorCode.INVALID_CONFIG, message: badConfig };
  // '.' and '_' collide in metric names; Kafka refuses such a pair.
  const norm = name.replace(/\./g, "_");
  for (const t of broker.topics.all()) {
    if (t.name.replace(/\./g, "_") === norm) {
      return { errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, message: `Topic '${name}' collides with existing topic: ${t.name}` };
    }
  }
  return null;
}

export function createTopic(broker: Broker, name: string, partitions: number, configs: Record<string, string>): CreateResult {
  const err = checkNewTopic(broker, name, partitions, configs);
  if (err) return err;
  const topic = broker.topics.create(name, partitions, configs);
  broker.log.info(`created topic ${name} with ${partitions} partition(s), id ${topic.id}`);
  return { topic };
}

/** Auto-creation for Metadata/Produce when --auto-create-topics is on. */
export function autoCreateTopic(broker: Broker, name: string): CreateResult {
  return createTopic(broker, name, broker.options.defaultPartitions, configRecord());
}
