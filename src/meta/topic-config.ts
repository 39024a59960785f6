// Topic configuration: the keys klite knows, their broker-wide defaults, and
// validation. Unknown keys are rejected with INVALID_CONFIG as Kafka does.

import type { BrokerOptions } from "../config.ts";

type Validator = (v: string) => string | null; // error text, or null when fine

const long = (min: number): Validator => (v) => (/^-?\d+$/.test(v) && Number(v) >= min ? null : `must be an integer >= ${min}`);
const oneOf = (...vals: string[]): Validator => (v) => (vals.includes(v) ? null : `must be one of ${vals.join(", ")}`);
const listOf = (...vals: string[]): Validator => (v) =>
  v.split(",").every((x) => vals.includes(x.trim())) ? null : `must be a list of ${vals.join(", ")}`;
const ratio: Validator = (v) => (Number.isFinite(Number(v)) && Number(v) >= 0 && Number(v) <= 1 ? null : "must be between 0 and 1");
const bool: Validator = oneOf("true", "false");

interface ConfigDef {
  /** Default from broker options, or a fixed Kafka default. */
  def: (o: BrokerOptions) => string;
  validate: Validator;
  /** Kafka's config type, for DescribeConfigs (1 BOOLEAN, 2 STRING, 3 INT, 4 SHORT, 5 LONG, 6 DOUBLE, 7 LIST, 8 CLASS, 9 PASSWORD). */
  type: number;
}

export const TOPIC_CONFIGS: Record<string, ConfigDef> = {
  "cleanup.policy": { def: () => "delete", validate: listOf("delete", "compact"), type: 7 },
  "compression.type": { def: () => "producer", validate: oneOf("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"), type: 2 },
  "delete.retention.ms": { def: () => "86400000", validate: long(0), type: 5 },
  "file.delete.delay.ms": { def: () => "60000", validate: long(0), type: 5 },
  "flush.messages": { def: () => "9223372036854775807", validate: long(1), type: 5 },
  "flush.ms": { def: () => "9223372036854775807", validate: long(0), type: 5 },
  "index.interval.bytes": { def: () => "4096", validate: long(0), type: 3 },
  "max.compaction.lag.ms": { def: () => "9223372036854775807", validate: long(1), type: 5 },
  "max.message.bytes": { def: (o) => String(o.messageMaxBytes), validate: long(0), type: 3 },
  "message.timestamp.type": { def: () => "CreateTime", validate: oneOf("CreateTime", "LogAppendTime"), type: 2 },
  "message.timestamp.before.max.ms": { def: () => "9223372036854775807", validate: long(0), type: 5 },
  "message.timestamp.after.max.ms": { def: () => "9223372036854775807", validate: long(0), type: 5 },
  "min.cleanable.dirty.ratio": { def: () => "0.5", validate: ratio, type: 6 },
  "min.compaction.lag.ms": { def: () => "0", validate: long(0), type: 5 },
  "min.insync.replicas": { def: () => "1", validate: long(1), type: 3 },
  "preallocate": { def: () => "false", validate: bool, type: 1 },
  "retention.bytes": { def: (o) => String(o.retentionBytes), validate: long(-1), type: 5 },
  "retention.ms": { def: (o) => String(o.retentionMs), validate: long(-1), type: 5 },
  "segment.bytes": { def: (o) => String(o.segmentBytes), validate: long(14), type: 3 },
  "segment.index.bytes": { def: () => "10485760", validate: long(4), type: 3 },
  "segment.jitter.ms": { def: () => "0", validate: long(0), type: 5 },
  "segment.ms": { def: (o) => String(o.segmentMs), validate: long(1), type: 5 },
  "unclean.leader.election.enable": { def: () => "false", validate: bool, type: 1 },
  "message.downconversion.enable": { def: () => "true", validate: bool, type: 1 },
  "local.retention.bytes": { def: () => "-2", validate: long(-2), type: 5 },
  "local.retention.ms": { def: () => "-2", validate: long(-2), type: 5 },
  "remote.storage.enable": { def: () => "false", validate: oneOf("false"), type: 1 },
  "follower.replication.throttled.replicas": { def: () => "", validate: () => null, type: 7 },
  "leader.replication.throttled.replicas": { def: () => "", validate: () => null, type: 7 },
};

/** Returns an error text for the first bad entry, or null. */
export function validateTopicConfigs(configs: Record<string, string>): string | null {
  for (const [k, v] of Object.entries(configs)) {
    const def = TOPIC_CONFIGS[k];
    if (!def) return `Unknown topic config name: ${k}`;
    const err = def.validate(v);
    if (err) return `Invalid value ${v} for configuration ${k}: ${err}`;
  }
  return null;
}

/** The effective value of a topic config: the topic's override, else the broker default. */
export function topicConfig(overrides: Record<string, string>, key: string, o: BrokerOptions): string {
  return overrides[key] ?? TOPIC_CONFIGS[key]!.def(o);
}

export function topicConfigNumber(overrides: Record<string, string>, key: string, o: BrokerOptions): number {
  return Number(topicConfig(overrides, key, o));
}

/** Kafka's rule for topic names: 1..249 chars of [a-zA-Z0-9._-], not "." or "..". */
export function invalidTopicName(name: string): string | null {
  if (name.length === 0) return "Topic name is illegal, it can't be empty";
  if (name === "." || name === "..") return "Topic name cannot be \".\" or \"..\"";
  if (name.length > 249) return "Topic name is illegal, it can't be longer than 249 characters";
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) return `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`;
  return null;
}
