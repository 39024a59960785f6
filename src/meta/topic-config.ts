// Topic configuration: every key a Kafka 4.3 topic accepts, its type, default,
// broker-side synonyms and validation, and whether klite acts on it or only
// stores and reports it. Unknown keys are refused with INVALID_CONFIG as Kafka
// does. Lookups go through Map and Object.hasOwn so that names such as
// `constructor` or `__proto__` are ordinary unknown keys, never object members.

import type { BrokerOptions } from "../config.ts";

/** Kafka's ConfigDef types, with their DescribeConfigs ConfigType numbers. */
export const ConfigType = { BOOLEAN: 1, STRING: 2, INT: 3, SHORT: 4, LONG: 5, DOUBLE: 6, LIST: 7, CLASS: 8, PASSWORD: 9 } as const;
type TypeName = "BOOLEAN" | "STRING" | "INT" | "LONG" | "DOUBLE" | "LIST";

/** Error text for a parsed value, or null when fine. */
type Check = (v: string) => string | null;

const INT_MIN = -(2n ** 31n);
const INT_MAX = 2n ** 31n - 1n;
const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;
export const LONG_MAX_STRING = String(LONG_MAX);

/** Parses a value the way Kafka's ConfigDef does (trimmed, typed); error text when it does not parse. */
function parseError(type: TypeName, raw: string): string | null {
  const v = raw.trim();
  switch (type) {
    case "INT":
    case "LONG": {
      if (!/^[+-]?\d+$/.test(v)) return `Not a number of type ${type}`;
      const n = BigInt(v);
      const [lo, hi] = type === "INT" ? [INT_MIN, INT_MAX] : [LONG_MIN, LONG_MAX];
      return n < lo || n > hi ? `Not a number of type ${type}` : null;
    }
    case "DOUBLE":
      return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[dDfF]?$/.test(v) ? null : "Not a number of type DOUBLE";
    case "BOOLEAN":
      return /^(true|false)$/i.test(v) ? null : "Expected value to be either true or false";
    case "STRING":
    case "LIST":
      return null;
  }
}

/** The items of a LIST value: comma separated, trimmed; an empty value is an empty list. */
export function listItems(v: string): string[] {
  return v.trim() === "" ? [] : v.split(",").map((x) => x.trim());
}

const atLeast =
  (min: bigint): Check =>
  (v) =>
    BigInt(v.trim()) < min ? `Value must be at least ${min}` : null;
const between =
  (min: number, max: number): Check =>
  (v) => {
    const n = Number(v.trim().replace(/[dDfF]$/, ""));
    return n < min ? `Value must be no less than ${min}` : n > max ? `Value must be no more than ${max}` : null;
  };
const oneOf =
  (...vals: string[]): Check =>
  (v) =>
    vals.includes(v.trim()) ? null : `String must be one of: ${vals.join(", ")}`;
/** Items from `vals`, each at most once; the empty list is allowed (cleanup.policy: keep forever). */
const listOf =
  (...vals: string[]): Check =>
  (v) => {
    const items = listItems(v);
    const bad = items.find((x) => !vals.includes(x));
    if (bad !== undefined) return `String must be one of: ${vals.join(", ")}`;
    return new Set(items).size !== items.length ? "Configuration contains duplicate values" : null;
  };
/** `*`, or partition:broker pairs (the replication throttle lists). */
const throttledReplicas: Check = (v) => {
  const items = listItems(v);
  if (items.length === 1 && items[0] === "*") return null;
  return items.every((x) => /^\d+:\d+$/.test(x)) ? null : "Must be the literal '*' or a list of replicas in the form partitionId:brokerId";
};
const gzipLevel: Check = (v) => {
  const n = Number(v.trim());
  return n === -1 || (n >= 1 && n <= 9) ? null : "Value must be -1 or between 1 and 9";
};
const noRemoteStorage: Check = (v) =>
  /^false$/i.test(v.trim()) ? null : "Tiered storage is not available on this broker, so a topic cannot enable remote log storage";

export interface TopicConfigDef {
  readonly name: string;
  readonly type: TypeName;
  /** Kafka 4.3's default. */
  readonly kafkaDefault: string;
  /** The broker flag that replaces the default, when klite has one, and how to read it. */
  readonly flag?: string;
  readonly option?: (o: BrokerOptions) => string;
  readonly check?: Check;
  /** true: klite acts on it; false: stored and reported only. */
  readonly acting: boolean;
  /**
   * Kafka's broker-side synonyms, first one first (ServerTopicConfigSynonyms),
   * each with Kafka's default for that broker key (null when it has none).
   */
  readonly synonyms: readonly (readonly [string, string | null])[];
  /** Accepted but never listed by DescribeConfigs (Kafka's internal configs). */
  readonly internal?: boolean;
  /** One line for the README. */
  readonly meaning: string;
}

const DAY7 = String(7 * 24 * 3600 * 1000);

const DEFS: TopicConfigDef[] = [
  { name: "cleanup.policy", type: "LIST", kafkaDefault: "delete", check: listOf("compact", "delete"), acting: true, synonyms: [["log.cleanup.policy", "delete"]], meaning: "`delete` (retention), `compact` (keep the latest record per key), both, or empty (keep everything)" },
  { name: "compression.gzip.level", type: "INT", kafkaDefault: "-1", check: gzipLevel, acting: false, synonyms: [["compression.gzip.level", "-1"]], meaning: "gzip level when the broker recompresses" },
  { name: "compression.lz4.level", type: "INT", kafkaDefault: "9", check: between(1, 17), acting: false, synonyms: [["compression.lz4.level", "9"]], meaning: "lz4 level when the broker recompresses" },
  { name: "compression.type", type: "STRING", kafkaDefault: "producer", check: oneOf("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"), acting: true, synonyms: [["compression.type", "producer"]], meaning: "`producer` keeps the client's codec; a named codec makes the broker recompress batches" },
  { name: "compression.zstd.level", type: "INT", kafkaDefault: "3", check: between(-131072, 22), acting: false, synonyms: [["compression.zstd.level", "3"]], meaning: "zstd level when the broker recompresses" },
  { name: "delete.retention.ms", type: "LONG", kafkaDefault: "86400000", check: atLeast(0n), acting: true, synonyms: [["log.cleaner.delete.retention.ms", "86400000"]], meaning: "how long tombstones stay in a compacted log" },
  { name: "file.delete.delay.ms", type: "LONG", kafkaDefault: "60000", check: atLeast(0n), acting: false, synonyms: [["log.segment.delete.delay.ms", "60000"]], meaning: "delay before deleted segment files are removed (klite removes them at once)" },
  { name: "flush.messages", type: "LONG", kafkaDefault: LONG_MAX_STRING, check: atLeast(1n), acting: false, synonyms: [["log.flush.interval.messages", LONG_MAX_STRING]], meaning: "fsync every N records (klite fsyncs as `--fsync` says)" },
  { name: "flush.ms", type: "LONG", kafkaDefault: LONG_MAX_STRING, check: atLeast(0n), acting: false, synonyms: [["log.flush.interval.ms", null], ["log.flush.scheduler.interval.ms", LONG_MAX_STRING]], meaning: "fsync every N ms (klite fsyncs as `--fsync` says)" },
  { name: "follower.replication.throttled.replicas", type: "LIST", kafkaDefault: "", check: throttledReplicas, acting: false, synonyms: [], meaning: "replication throttle (one replica: nothing to throttle)" },
  { name: "index.interval.bytes", type: "INT", kafkaDefault: "4096", check: atLeast(0n), acting: true, synonyms: [["log.index.interval.bytes", "4096"]], meaning: "bytes between offset-index entries" },
  // Kafka defines it without a range; below 1 every batch would roll a segment, so klite wants at least 1.
  { name: "internal.segment.bytes", type: "INT", kafkaDefault: "", check: atLeast(1n), acting: true, synonyms: [], internal: true, meaning: "Kafka's test-only segment size without the 1 MiB floor; replaces `segment.bytes` when set" },
  // klite's own, for `klite mirror`: produced batches may carry their offsets (see batch-validator.ts). Not listed, so never copied back to Kafka.
  { name: "klite.mirror.preserve.offsets", type: "BOOLEAN", kafkaDefault: "false", acting: true, synonyms: [], internal: true, meaning: "produced batches may name their own offsets, at or past the log end, with the gaps of compaction and transaction markers (what `klite mirror` writes)" },
  { name: "leader.replication.throttled.replicas", type: "LIST", kafkaDefault: "", check: throttledReplicas, acting: false, synonyms: [], meaning: "replication throttle (one replica: nothing to throttle)" },
  { name: "local.retention.bytes", type: "LONG", kafkaDefault: "-2", check: atLeast(-2n), acting: false, synonyms: [["log.local.retention.bytes", "-2"]], meaning: "tiered storage: local part of the retention (no tiered storage in klite)" },
  { name: "local.retention.ms", type: "LONG", kafkaDefault: "-2", check: atLeast(-2n), acting: false, synonyms: [["log.local.retention.ms", "-2"]], meaning: "tiered storage: local part of the retention (no tiered storage in klite)" },
  { name: "max.compaction.lag.ms", type: "LONG", kafkaDefault: LONG_MAX_STRING, check: atLeast(1n), acting: true, synonyms: [["log.cleaner.max.compaction.lag.ms", LONG_MAX_STRING]], meaning: "longest a record may wait before it can be compacted" },
  { name: "max.message.bytes", type: "INT", kafkaDefault: "1048588", flag: "--message-max-bytes", option: (o) => String(o.messageMaxBytes), check: atLeast(0n), acting: true, synonyms: [["message.max.bytes", "1048588"]], meaning: "largest record batch accepted" },
  { name: "message.downconversion.enable", type: "BOOLEAN", kafkaDefault: "true", acting: false, synonyms: [["log.message.downconversion.enable", "true"]], meaning: "no-op since Kafka 4.0 (message format v2 only)" },
  { name: "message.timestamp.after.max.ms", type: "LONG", kafkaDefault: "3600000", check: atLeast(0n), acting: true, synonyms: [["log.message.timestamp.after.max.ms", "3600000"]], meaning: "how far in the future a record's timestamp may be" },
  { name: "message.timestamp.before.max.ms", type: "LONG", kafkaDefault: LONG_MAX_STRING, check: atLeast(0n), acting: true, synonyms: [["log.message.timestamp.before.max.ms", LONG_MAX_STRING]], meaning: "how far in the past a record's timestamp may be" },
  { name: "message.timestamp.type", type: "STRING", kafkaDefault: "CreateTime", check: oneOf("CreateTime", "LogAppendTime"), acting: true, synonyms: [["log.message.timestamp.type", "CreateTime"]], meaning: "`CreateTime` keeps the producer's timestamps; `LogAppendTime` stamps the broker's clock" },
  { name: "min.cleanable.dirty.ratio", type: "DOUBLE", kafkaDefault: "0.5", check: between(0, 1), acting: true, synonyms: [["log.cleaner.min.cleanable.ratio", "0.5"]], meaning: "share of uncleaned bytes that starts a compaction" },
  { name: "min.compaction.lag.ms", type: "LONG", kafkaDefault: "0", check: atLeast(0n), acting: true, synonyms: [["log.cleaner.min.compaction.lag.ms", "0"]], meaning: "youngest a record may be and still be compacted" },
  { name: "min.insync.replicas", type: "INT", kafkaDefault: "1", check: atLeast(1n), acting: false, synonyms: [["min.insync.replicas", "1"]], meaning: "in-sync replicas an acks=all write needs; klite has one and never refuses (Kafka would answer NOT_ENOUGH_REPLICAS above 1)" },
  { name: "preallocate", type: "BOOLEAN", kafkaDefault: "false", acting: false, synonyms: [["log.preallocate", "false"]], meaning: "preallocate segment files" },
  { name: "remote.log.copy.disable", type: "BOOLEAN", kafkaDefault: "false", acting: false, synonyms: [], meaning: "tiered storage (not in klite)" },
  { name: "remote.log.delete.on.disable", type: "BOOLEAN", kafkaDefault: "false", acting: false, synonyms: [], meaning: "tiered storage (not in klite)" },
  { name: "remote.storage.enable", type: "BOOLEAN", kafkaDefault: "false", check: noRemoteStorage, acting: false, synonyms: [], meaning: "tiered storage: only `false` is accepted, as on a Kafka broker without it" },
  { name: "retention.bytes", type: "LONG", kafkaDefault: "-1", flag: "--retention-bytes", option: (o) => String(o.retentionBytes), acting: true, synonyms: [["log.retention.bytes", "-1"]], meaning: "per-partition size above which old segments are deleted (-1: no limit)" },
  { name: "retention.ms", type: "LONG", kafkaDefault: DAY7, flag: "--retention-ms", option: (o) => String(o.retentionMs), check: atLeast(-1n), acting: true, synonyms: [["log.retention.ms", null], ["log.retention.minutes", null], ["log.retention.hours", "168"]], meaning: "age after which old segments are deleted (-1: forever)" },
  { name: "segment.bytes", type: "INT", kafkaDefault: "1073741824", flag: "--segment-bytes", option: (o) => String(o.segmentBytes), check: atLeast(1048576n), acting: true, synonyms: [["log.segment.bytes", "1073741824"]], meaning: "segment size at which a new segment is rolled" },
  { name: "segment.index.bytes", type: "INT", kafkaDefault: "10485760", check: atLeast(4n), acting: false, synonyms: [["log.index.size.max.bytes", "10485760"]], meaning: "maximum index file size (klite's index grows as needed)" },
  { name: "segment.jitter.ms", type: "LONG", kafkaDefault: "0", check: atLeast(0n), acting: false, synonyms: [["log.roll.jitter.ms", null], ["log.roll.jitter.hours", "0"]], meaning: "random jitter subtracted from `segment.ms`" },
  { name: "segment.ms", type: "LONG", kafkaDefault: DAY7, flag: "--segment-ms", option: (o) => String(o.segmentMs), check: atLeast(1n), acting: true, synonyms: [["log.roll.ms", null], ["log.roll.hours", "168"]], meaning: "segment age at which a new segment is rolled" },
  { name: "unclean.leader.election.enable", type: "BOOLEAN", kafkaDefault: "false", acting: false, synonyms: [["unclean.leader.election.enable", "false"]], meaning: "elect an out-of-sync replica (one replica: never needed)" },
];

/** Every topic config klite accepts, by name. */
export const TOPIC_CONFIGS: ReadonlyMap<string, TopicConfigDef> = new Map(DEFS.map((d) => [d.name, d]));

/** A config record that has no prototype, so that no key is ever an inherited member. */
export function configRecord(entries: Iterable<readonly [string, string]> = []): Record<string, string> {
  const r = Object.create(null) as Record<string, string>;
  for (const [k, v] of entries) r[k] = v;
  return r;
}

/** The default a topic without an override gets: the broker flag's value, else Kafka's. */
export function configDefault(def: TopicConfigDef, o: BrokerOptions): string {
  return def.option ? def.option(o) : def.kafkaDefault;
}

function invalid(key: string, value: string, why: string): string {
  return `Invalid value ${value} for configuration ${key}: ${why}`;
}

/**
 * Checks a topic's complete override set: names, types, ranges and allowed
 * values, then the rules between keys. Returns the error text (naming the key),
 * or null when all is well.
 */
export function validateTopicConfigs(configs: Readonly<Record<string, string>>, o: BrokerOptions): string | null {
  for (const k of Object.keys(configs)) {
    const def = TOPIC_CONFIGS.get(k);
    if (!def) return `Unknown topic config name: ${k}`;
    const v = configs[k]!;
    const err = parseError(def.type, v) ?? def.check?.(v) ?? null;
    if (err) return invalid(k, v, err);
  }
  const minLag = BigInt(topicConfig(configs, "min.compaction.lag.ms", o).trim());
  const maxLag = BigInt(topicConfig(configs, "max.compaction.lag.ms", o).trim());
  if (minLag > maxLag) return `conflict topic config setting min.compaction.lag.ms (${minLag}) > max.compaction.lag.ms (${maxLag})`;
  return null;
}

/** The effective value of a topic config: the topic's override, else the broker default. */
export function topicConfig(overrides: Readonly<Record<string, string>>, key: string, o: BrokerOptions): string {
  if (Object.hasOwn(overrides, key)) return overrides[key]!;
  const def = TOPIC_CONFIGS.get(key);
  if (!def) throw new Error(`not a topic config: ${key}`);
  return configDefault(def, o);
}

export function topicConfigNumber(overrides: Readonly<Record<string, string>>, key: string, o: BrokerOptions): number {
  return Number(topicConfig(overrides, key, o));
}

/** The segment size a log rolls at: Kafka's test-only `internal.segment.bytes` when set, else `segment.bytes`. */
export function segmentBytes(overrides: Readonly<Record<string, string>>, o: BrokerOptions): number {
  return Object.hasOwn(overrides, "internal.segment.bytes") ? Number(overrides["internal.segment.bytes"]) : topicConfigNumber(overrides, "segment.bytes", o);
}

/** Kafka's rule for topic names: 1..249 chars of [a-zA-Z0-9._-], not "." or "..". */
export function invalidTopicName(name: string): string | null {
  if (name.length === 0) return "Topic name is illegal, it can't be empty";
  if (name === "." || name === "..") return "Topic name cannot be \".\" or \"..\"";
  if (name.length > 249) return "Topic name is illegal, it can't be longer than 249 characters";
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) return `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`;
  return null;
}
