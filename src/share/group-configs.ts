// Dynamic share-group configs (IncrementalAlterConfigs on GROUP resources):
// the names Kafka 4.3 gives them, their validation, and the effective
// settings of a group (its overrides over the broker's defaults).

export interface ShareSettings {
  /** share.record.lock.duration.ms (Kafka's broker default group.share.record.lock.duration.ms). */
  lockDurationMs: number;
  /** share.delivery.count.limit */
  deliveryCountLimit: number;
  /** share.partition.max.record.locks */
  maxRecordLocks: number;
  /** share.auto.offset.reset */
  autoOffsetReset: string;
  /** share.isolation.level */
  isolationLevel: "read_uncommitted" | "read_committed";
  /** share.session.timeout.ms */
  sessionTimeoutMs: number;
  /** share.heartbeat.interval.ms */
  heartbeatIntervalMs: number;
}

interface ConfigDef {
  key: keyof ShareSettings;
  kind: "int" | "reset" | "isolation";
  min?: number;
  max?: number;
}

/**
 * Bounds: Kafka's group.share.{min,max}.* broker settings. The lock duration
 * goes down to 1 s here (Kafka: 15 s) so development and tests need not wait.
 */
export const SHARE_GROUP_CONFIGS = new Map<string, ConfigDef>([
  ["share.record.lock.duration.ms", { key: "lockDurationMs", kind: "int", min: 1000, max: 3_600_000 }],
  ["share.delivery.count.limit", { key: "deliveryCountLimit", kind: "int", min: 2, max: 10 }],
  ["share.partition.max.record.locks", { key: "maxRecordLocks", kind: "int", min: 100, max: 10_000 }],
  ["share.auto.offset.reset", { key: "autoOffsetReset", kind: "reset" }],
  ["share.isolation.level", { key: "isolationLevel", kind: "isolation" }],
  ["share.session.timeout.ms", { key: "sessionTimeoutMs", kind: "int", min: 1000, max: 1_800_000 }],
  ["share.heartbeat.interval.ms", { key: "heartbeatIntervalMs", kind: "int", min: 100, max: 1_800_000 }],
]);

/** An ISO-8601 duration as share.auto.offset.reset's by_duration takes it (PnDTnHnMn.nS), in ms; null when malformed. */
export function parseIsoDuration(s: string): number | null {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(s);
  if (!m || s === "P" || s.endsWith("T")) return null;
  const [, d, h, mi, sec] = m;
  return ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(mi ?? 0)) * 60_000 + Math.round(Number(sec ?? 0) * 1000);
}

export type ResetPolicy = { kind: "latest" } | { kind: "earliest" } | { kind: "by_duration"; ms: number };

export function parseReset(v: string): ResetPolicy | null {
  const s = v.trim().toLowerCase();
  if (s === "latest" || s === "earliest") return { kind: s };
  if (s.startsWith("by_duration:")) {
    const ms = parseIsoDuration(v.trim().slice("by_duration:".length).toUpperCase());
    return ms === null ? null : { kind: "by_duration", ms };
  }
  return null;
}

/** Why a value is refused, or null. */
export function validateShareConfig(name: string, value: string): string | null {
  const def = SHARE_GROUP_CONFIGS.get(name);
  if (!def) return `Unknown group config name: ${name}`;
  switch (def.kind) {
    case "int": {
      if (!/^-?\d+$/.test(value.trim())) return `Invalid value ${value} for configuration ${name}: Not a number of type INT`;
      const n = Number(value);
      if (n < def.min! || n > def.max!) return `Invalid value ${value} for configuration ${name}: Value must be between ${def.min} and ${def.max}`;
      return null;
    }
    case "reset":
      return parseReset(value) ? null : `Invalid value ${value} for configuration ${name}: must be latest, earliest or by_duration:<ISO-8601 duration>`;
    case "isolation":
      return value === "read_committed" || value === "read_uncommitted" ? null : `Invalid value ${value} for configuration ${name}: String must be one of: read_committed, read_uncommitted`;
  }
}

export function effectiveSettings(defaults: ShareSettings, overrides: ReadonlyMap<string, string> | undefined): ShareSettings {
  const s: ShareSettings = { ...defaults };
  if (!overrides) return s;
  for (const [name, value] of overrides) {
    const def = SHARE_GROUP_CONFIGS.get(name);
    if (!def) continue;
    if (def.kind === "int") (s[def.key] as number) = Number(value);
    else if (def.kind === "reset") s.autoOffsetReset = value;
    else s.isolationLevel = value as ShareSettings["isolationLevel"];
  }
  return s;
}

/** The settings as DescribeConfigs lists them. */
export function settingValue(s: ShareSettings, name: string): string {
  return String(s[SHARE_GROUP_CONFIGS.get(name)!.key]);
}
