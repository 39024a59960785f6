// What `klite mirror` is told: the two clusters, which topics and groups, and
// the client settings of each side (`--source-config k=v`, Java/librdkafka
// property names). Only settings this client acts on are accepted; the
// security ones (TLS, SASL) are refused until the client speaks them.

export interface SideConfig {
  clientId: string;
  /** Source only: Fetch's max_bytes, per-partition max and max wait. */
  fetchMaxBytes: number;
  partitionMaxBytes: number;
  fetchMaxWaitMs: number;
  /** Target only: produce requests in flight per connection. */
  maxInFlight: number;
}

export interface MirrorOptions {
  source: string;
  target: string;
  topics: RegExp;
  exclude: RegExp | null;
  /** Groups whose committed offsets are copied (with syncGroupOffsets). */
  groups: RegExp;
  syncGroupOffsets: boolean;
  once: boolean;
  /** How often topics (new ones, grown ones) and group offsets are looked at again. */
  refreshMs: number;
  /** The compacted topic on the target that holds the mirror's progress. */
  progressTopic: string;
  sourceConfig: SideConfig;
  targetConfig: SideConfig;
  /** HOST:PORT serving /metrics, or null. */
  metricsListen: string | null;
}

export const PROGRESS_TOPIC = "klite-mirror-progress";

export const DEFAULT_SIDE: SideConfig = { clientId: "klite-mirror", fetchMaxBytes: 52_428_800, partitionMaxBytes: 4_194_304, fetchMaxWaitMs: 500, maxInFlight: 16 };

/** Topics never mirrored whatever --topics says: Kafka's internal ones, MM2's, and the mirror's own progress. */
export function neverMirrored(topic: string, progressTopic: string): boolean {
  return topic === progressTopic || topic.startsWith("__") || /[-.]internal$/.test(topic) || /^mm2-/.test(topic);
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

const SECURITY = /^(security\.protocol|sasl\..*|ssl\..*)$/;

function positiveInt(key: string, v: string): number {
  if (!/^\d+$/.test(v) || Number(v) <= 0 || !Number.isSafeInteger(Number(v))) throw new ConfigError(`${key}: expected a positive integer, got ${v}`);
  return Number(v);
}

/** Applies `k=v` settings of one side; `side` names the flag in messages. */
export function sideConfig(side: "source" | "target", pairs: readonly [string, string][]): SideConfig {
  const c: SideConfig = { ...DEFAULT_SIDE };
  for (const [k, v] of pairs) {
    if (SECURITY.test(k)) {
      throw new ConfigError(`--${side}-config ${k}: TLS and SASL are not supported by klite's client yet; mirror over a PLAINTEXT listener`);
    }
    if (k === "client.id") c.clientId = v;
    else if (side === "source" && k === "fetch.max.bytes") c.fetchMaxBytes = positiveInt(k, v);
    else if (side === "source" && k === "max.partition.fetch.bytes") c.partitionMaxBytes = positiveInt(k, v);
    else if (side === "source" && k === "fetch.max.wait.ms") c.fetchMaxWaitMs = positiveInt(k, v);
    else if (side === "target" && k === "max.in.flight.requests.per.connection") c.maxInFlight = positiveInt(k, v);
    else {
      const known = side === "source" ? "client.id, fetch.max.bytes, max.partition.fetch.bytes, fetch.max.wait.ms" : "client.id, max.in.flight.requests.per.connection";
      throw new ConfigError(`--${side}-config ${k}: not a setting klite mirror knows (${side} settings: ${known})`);
    }
  }
  return c;
}
