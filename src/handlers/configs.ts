// DescribeConfigs, AlterConfigs and IncrementalAlterConfigs for topics (and a
// read-only view of the broker's own settings). Topic overrides persist with
// the topic metadata; log settings apply to segments rolled afterwards.

import type * as DescReq from "../../generated/DescribeConfigsRequest.ts";
import type * as DescRes from "../../generated/DescribeConfigsResponse.ts";
import type * as AltReq from "../../generated/AlterConfigsRequest.ts";
import type * as AltRes from "../../generated/AlterConfigsResponse.ts";
import type * as IncReq from "../../generated/IncrementalAlterConfigsRequest.ts";
import type * as IncRes from "../../generated/IncrementalAlterConfigsResponse.ts";
import type { Broker } from "../broker.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { ConfigSource, describeTopicConfigs, type DescribedConfig } from "../meta/config-describe.ts";
import { configDefault, configRecord, listItems, TOPIC_CONFIGS, validateTopicConfigs } from "../meta/topic-config.ts";
import type { RequestContext } from "./registry.ts";

/** Kafka's ConfigResource types. */
export const ResourceType = { TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8, CLIENT_METRICS: 16, GROUP: 32 } as const;

/** The broker's settings as Kafka names them; they come from flags, so they are read-only here. */
function describeBroker(broker: Broker): DescribedConfig[] {
  const o = broker.options;
  const entries: [string, string, number][] = [
    ["auto.create.topics.enable", String(o.autoCreateTopics), 1],
    ["num.partitions", String(o.defaultPartitions), 3],
    ["message.max.bytes", String(o.messageMaxBytes), 3],
    ["log.segment.bytes", String(o.segmentBytes), 3],
    ["log.roll.ms", String(o.segmentMs), 5],
    ["log.retention.ms", String(o.retentionMs), 5],
    ["log.retention.bytes", String(o.retentionBytes), 5],
    ["socket.request.max.bytes", String(o.maxRequestBytes), 3],
    ["node.id", String(broker.nodeId), 3],
    ["default.replication.factor", "1", 3],
    ["min.insync.replicas", "1", 3],
    ["offsets.topic.replication.factor", "1", 4],
    ["transaction.state.log.replication.factor", "1", 4],
    ["transaction.max.timeout.ms", String(o.transactionMaxTimeoutMs), 3],
    ["group.initial.rebalance.delay.ms", String(o.groupInitialRebalanceDelayMs), 3],
  ];
  return entries.map(([name, value, type]) => {
    const source = ConfigSource.STATIC_BROKER_CONFIG;
    return { name, value, readOnly: true, source, isSensitive: false, type, synonyms: [{ name, value, source }] };
  });
}

export function handleDescribeConfigs(broker: Broker, req: DescReq.DescribeConfigsRequest, ctx: RequestContext): DescRes.DescribeConfigsResponseInit {
  const results = req.resources.map((r): DescRes.DescribeConfigsResultInit => {
    const base = { resourceType: r.resourceType, resourceName: r.resourceName };
    let configs: DescribedConfig[];
    if (r.resourceType === ResourceType.TOPIC) {
      const t = broker.topics.get(r.resourceName);
      if (!t) return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Topic ${r.resourceName} does not exist`, configs: [] };
      configs = describeTopicConfigs(broker.options, t.configs);
    } else if (r.resourceType === ResourceType.BROKER) {
      if (r.resourceName !== "" && r.resourceName !== String(broker.nodeId)) {
        return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unexpected broker id ${r.resourceName}`, configs: [] };
      }
      configs = describeBroker(broker);
    } else if (r.resourceType === ResourceType.BROKER_LOGGER) {
      configs = [];
    } else if (r.resourceType === ResourceType.GROUP) {
      configs = broker.share.describeConfigs(r.resourceName).map(({ name, value, dynamic }) => {
        const source = dynamic ? ConfigSource.GROUP_CONFIG : ConfigSource.DEFAULT_CONFIG;
        return { name, value, readOnly: false, source, isSensitive: false, type: 0, synonyms: [{ name, value, source }] };
      });
    } else {
      return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unsupported resource type ${r.resourceType}`, configs: [] };
    }
    const keys = r.configurationKeys;
    if (keys !== null && keys.length > 0) {
      const wanted = new Set(keys);
      configs = configs.filter((c) => wanted.has(c.name));
    }
    return {
      ...base,
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      configs: configs.map((c) => ({
        name: c.name,
        value: c.value,
        readOnly: c.readOnly,
        configSource: c.source,
        isSensitive: c.isSensitive,
        synonyms: req.includeSynonyms ? c.synonyms : [],
        configType: ctx.apiVersion >= 3 ? c.type : 0,
        // klite carries no config documentation; Kafka allows null here.
        documentation: null,
      })),
    };
  });
  return { throttleTimeMs: 0, results };
}

type Outcome = { errorCode: number; errorMessage: string | null };
const ok: Outcome = { errorCode: ErrorCode.NONE, errorMessage: null };

/** Validates and (unless validateOnly) applies a topic's complete new override set. */
function applyTopicConfigs(broker: Broker, type: number, name: string, next: Map<string, string>, validateOnly: boolean): Outcome {
  if (type === ResourceType.BROKER || type === ResourceType.BROKER_LOGGER) {
    return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: "klite's broker settings come from its command-line flags and cannot be changed at run time" };
  }
  if (type !== ResourceType.TOPIC) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unsupported resource type ${type}` };
  const t = broker.topics.get(name);
  if (!t) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Topic ${name} does not exist` };
  const record = configRecord(next);
  const bad = validateTopicConfigs(record, broker.options);
  if (bad) return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: bad };
  if (!validateOnly) broker.topics.setConfigs(t, record);
  return ok;
}

/** Kafka refuses null values for topic configs (a delete is an IncrementalAlterConfigs DELETE). */
function nullValues(configs: readonly { name: string; value: string | null }[]): Outcome | null {
  const names = configs.filter((c) => c.value === null).map((c) => c.name);
  return names.length > 0 ? { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: `Null value not supported for topic configs: ${names.join(",")}` } : null;
}

export function handleAlterConfigs(broker: Broker, req: AltReq.AlterConfigsRequest, _ctx: RequestContext): AltRes.AlterConfigsResponseInit {
  return {
    throttleTimeMs: 0,
    responses: req.resources.map((r) => {
      const base = { resourceType: r.resourceType, resourceName: r.resourceName };
      const nulls = r.resourceType === ResourceType.TOPIC ? nullValues(r.configs) : null;
      if (nulls) return { ...base, ...nulls };
      // AlterConfigs replaces the whole override set.
      const next = new Map(r.configs.map((c) => [c.name, c.value ?? ""]));
      return { ...base, ...applyTopicConfigs(broker, r.resourceType, r.resourceName, next, req.validateOnly) };
    }),
  };
}

const SET = 0;
const DELETE = 1;
const APPEND = 2;
const SUBTRACT = 3;

/** Applies one IncrementalAlterConfigs operation to `next`; an outcome when it is refused. */
function applyOp(broker: Broker, next: Map<string, string>, c: IncReq.AlterableConfig): Outcome | null {
  const def = TOPIC_CONFIGS.get(c.name);
  if (!def) return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: `Unknown topic config name: ${c.name}` };
  switch (c.configOperation) {
    case SET:
      if (c.value === null) return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: `Null value not supported for topic configs: ${c.name}` };
      next.set(c.name, c.value);
      return null;
    case DELETE:
      next.delete(c.name);
      return null;
    case APPEND:
    case SUBTRACT: {
      const verb = c.configOperation === APPEND ? "append" : "subtract";
      if (def.type !== "LIST") return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: `Config value ${verb} is not allowed for config key: ${c.name}` };
      const items = listItems(next.get(c.name) ?? configDefault(def, broker.options));
      const arg = listItems(c.value ?? "");
      const result = c.configOperation === APPEND ? [...items, ...arg.filter((x) => !items.includes(x))] : items.filter((x) => !arg.includes(x));
      next.set(c.name, result.join(","));
      return null;
    }
    default:
      return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unknown config operation ${c.configOperation}` };
  }
}

export async function handleIncrementalAlterConfigs(broker: Broker, req: IncReq.IncrementalAlterConfigsRequest, _ctx: RequestContext): Promise<IncRes.IncrementalAlterConfigsResponseInit> {
  return {
    throttleTimeMs: 0,
    responses: await Promise.all(req.resources.map(async (r) => {
      const base = { resourceType: r.resourceType, resourceName: r.resourceName };
      if (new Set(r.configs.map((c) => c.name)).size !== r.configs.length) {
        return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: "Error due to duplicate config keys" };
      }
      // Share-group configs (KIP-932), persisted with the share state.
      if (r.resourceType === ResourceType.GROUP) {
        return { ...base, ...(await broker.share.alterConfigs(r.resourceName, r.configs.map((c) => ({ name: c.name, op: c.configOperation, value: c.value })), req.validateOnly)) };
      }
      const t = r.resourceType === ResourceType.TOPIC ? broker.topics.get(r.resourceName) : undefined;
      if (t) {
        const next = new Map(Object.entries(t.configs));
        for (const c of r.configs) {
          const refused = applyOp(broker, next, c);
          if (refused) return { ...base, ...refused };
        }
        return { ...base, ...applyTopicConfigs(broker, r.resourceType, r.resourceName, next, req.validateOnly) };
      }
      return { ...base, ...applyTopicConfigs(broker, r.resourceType, r.resourceName, new Map(), req.validateOnly) };
    })),
  };
}
