// Which source topics are mirrored and making them exist on the target: same
// partition count, the topic configs MirrorMaker 2 copies, more partitions
// when the source grew. MM2 (MirrorSourceConnector with its
// DefaultConfigPropertyFilter) copies every config whose value is not the
// source broker's built-in default, except a fixed list that describes the
// source cluster's replication rather than the data; klite's own keys stay
// behind too, so a copy to Kafka never carries a config Kafka refuses.

import { CreatePartitions, CreateTopics, DescribeConfigs, IncrementalAlterConfigs } from "../client/apis.ts";
import type { KafkaClient, TopicInfo } from "../client/client.ts";
import { check } from "../client/errors.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { neverMirrored, type MirrorOptions } from "./options.ts";

const TOPIC_RESOURCE = 2;
/** DescribeConfigs' config source of a value nobody set. */
const DEFAULT_CONFIG = 5;
const TIMEOUT_MS = 30_000;
/** Set on target topics of a klite target: batches go to their source offsets. */
export const PRESERVE_OFFSETS = "klite.mirror.preserve.offsets";

/** MM2's config.properties.exclude default. */
const NOT_COPIED = new Set([
  "follower.replication.throttled.replicas",
  "leader.replication.throttled.replicas",
  "message.timestamp.difference.max.ms",
  "message.timestamp.type",
  "unclean.leader.election.enable",
  "min.insync.replicas",
]);

export function copiedConfig(name: string, source: number, value: string | null): boolean {
  return source !== DEFAULT_CONFIG && value !== null && !NOT_COPIED.has(name) && !name.startsWith("klite.");
}

/** The source topics to mirror, by name. */
export async function sourceTopics(source: KafkaClient, o: MirrorOptions): Promise<TopicInfo[]> {
  const md = await source.metadata(null);
  return md.topics.filter((t) => t.errorCode === 0 && !t.internal && !neverMirrored(t.name, o.progressTopic) && o.topics.test(t.name) && !(o.exclude?.test(t.name) ?? false));
}

/** The configs of `names` that MM2 would copy. */
export async function copiedConfigs(source: KafkaClient, names: string[]): Promise<Map<string, [string, string][]>> {
  const out = new Map<string, [string, string][]>();
  if (names.length === 0) return out;
  const conn = await source.anyBroker();
  const res = await conn.send(DescribeConfigs, null, { resources: names.map((n) => ({ resourceType: TOPIC_RESOURCE, resourceName: n, configurationKeys: null })), includeSynonyms: false, includeDocumentation: false });
  for (const r of res.results) {
    check(r.errorCode, `DescribeConfigs ${r.resourceName}`, r.errorMessage);
    out.set(r.resourceName, r.configs.filter((c) => !c.isSensitive && copiedConfig(c.name, c.configSource, c.value)).map((c) => [c.name, c.value!]));
  }
  return out;
}

export interface TargetTopic {
  info: TopicInfo;
  /** The target accepts batches at their source offsets (a klite target with klite.mirror.preserve.offsets=true). */
  preserving: boolean;
}

/**
 * Creates the topic on the target or grows it to `partitions`. On a klite
 * target the topic gets klite.mirror.preserve.offsets=true; a broker that
 * refuses that key (Kafka) gets the topic without it.
 */
export async function ensureTargetTopic(target: KafkaClient, name: string, partitions: number, configs: [string, string][]): Promise<TargetTopic> {
  const conn = await target.controller();
  const create = (extra: [string, string][]) =>
    conn.send(CreateTopics, null, {
      topics: [{ name, numPartitions: partitions, replicationFactor: -1, assignments: [], configs: [...configs, ...extra].map(([k, v]) => ({ name: k, value: v })) }],
      timeoutMs: TIMEOUT_MS,
      validateOnly: false,
    });
  let r = (await create([[PRESERVE_OFFSETS, "true"]])).topics[0]!;
  if (r.errorCode !== 0 && r.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS && (r.errorMessage ?? "").includes(PRESERVE_OFFSETS)) r = (await create([])).topics[0]!;
  if (r.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) check(r.errorCode, `CreateTopics ${name}`, r.errorMessage);
  let info = await target.topic(name);
  if (info.partitions.length < partitions) {
    const g = (await conn.send(CreatePartitions, null, { topics: [{ name, count: partitions, assignments: null }], timeoutMs: TIMEOUT_MS, validateOnly: false })).results[0]!;
    // Another mirror (or a second look) may have grown it meanwhile.
    if (g.errorCode !== ErrorCode.INVALID_PARTITIONS) check(g.errorCode, `CreatePartitions ${name}`, g.errorMessage);
    const deadline = Date.now() + TIMEOUT_MS;
    while ((info = await target.topic(name)).partitions.length < partitions && Date.now() < deadline) await Bun.sleep(100);
  }
  return { info, preserving: await preservesOffsets(target, name) };
}

/** Whether the target topic takes placed batches; an existing klite topic without the key gets it. */
async function preservesOffsets(target: KafkaClient, name: string): Promise<boolean> {
  const conn = await target.anyBroker();
  const res = await conn.send(DescribeConfigs, null, { resources: [{ resourceType: TOPIC_RESOURCE, resourceName: name, configurationKeys: [PRESERVE_OFFSETS] }], includeSynonyms: false, includeDocumentation: false });
  const r = res.results[0];
  if (r && r.errorCode === 0 && r.configs.some((c) => c.name === PRESERVE_OFFSETS && c.value === "true")) return true;
  const alter = await conn.send(IncrementalAlterConfigs, null, {
    resources: [{ resourceType: TOPIC_RESOURCE, resourceName: name, configs: [{ name: PRESERVE_OFFSETS, configOperation: 0, value: "true" }] }],
    validateOnly: false,
  });
  return alter.responses[0]?.errorCode === 0;
}

