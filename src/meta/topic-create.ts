// Topic creation with Kafka's checks, shared by CreateTopics and the
// auto-creation paths of Metadata and Produce.

import type { Broker } from "../broker.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { configRecord, invalidTopicName, validateTopicConfigs } from "./topic-config.ts";
import type { Topic } from "./topics.ts";

export type CreateResult = { topic: Topic } | { errorCode: number; message: string };

export const MAX_PARTITIONS = 100_000;

export function checkNewTopic(broker: Broker, name: string, partitions: number, configs: Record<string, string>): { errorCode: number; message: string } | null {
  const bad = invalidTopicName(name);
  if (bad) return { errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, message: bad };
  if (broker.topics.get(name)) return { errorCode: ErrorCode.TOPIC_ALREADY_EXISTS, message: `Topic '${name}' already exists.` };
  if (partitions < 1 || partitions > MAX_PARTITIONS) return { errorCode: ErrorCode.INVALID_PARTITIONS, message: `Number of partitions must be between 1 and ${MAX_PARTITIONS}.` };
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
