// The full effective configuration of a topic, as DescribeConfigs and
// CreateTopics (v5+) report it: every known key with its value, source and,
// on request, the chain of synonyms Kafka would show (topic override, the
// broker flag that set it, Kafka's default under the broker key's name).

import type { BrokerOptions } from "../config.ts";
import { ConfigType, configDefault, TOPIC_CONFIGS, type TopicConfigDef } from "./topic-config.ts";

/** Kafka's ConfigSource values. */
export const ConfigSource = {
  UNKNOWN: 0,
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
  DYNAMIC_BROKER_LOGGER_CONFIG: 6,
  CLIENT_METRICS_CONFIG: 7,
  GROUP_CONFIG: 8,
} as const;

export interface ConfigSynonym {
  name: string;
  value: string;
  source: number;
}

export interface DescribedConfig {
  name: string;
  value: string;
  readOnly: boolean;
  source: number;
  isSensitive: boolean;
  /** Kafka's ConfigType (1 BOOLEAN … 7 LIST). */
  type: number;
  synonyms: ConfigSynonym[];
}

/** A broker flag counts as set when it differs from Kafka's default (klite does not track which flags were given). */
function flagValue(def: TopicConfigDef, o: BrokerOptions): string | null {
  const v = configDefault(def, o);
  return def.option && v !== def.kafkaDefault ? v : null;
}

function synonymsOf(def: TopicConfigDef, override: string | undefined, o: BrokerOptions): ConfigSynonym[] {
  const out: ConfigSynonym[] = [];
  if (override !== undefined) out.push({ name: def.name, value: override, source: ConfigSource.DYNAMIC_TOPIC_CONFIG });
  const flag = flagValue(def, o);
  if (flag !== null && def.synonyms.length > 0) out.push({ name: def.synonyms[0]![0], value: flag, source: ConfigSource.STATIC_BROKER_CONFIG });
  const withDefault = def.synonyms.find(([, d]) => d !== null);
  if (withDefault) out.push({ name: withDefault[0], value: withDefault[1]!, source: ConfigSource.DEFAULT_CONFIG });
  return out;
}

export function describeTopicConfigs(o: BrokerOptions, overrides: Readonly<Record<string, string>>): DescribedConfig[] {
  const out: DescribedConfig[] = [];
  for (const def of [...TOPIC_CONFIGS.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const override = Object.hasOwn(overrides, def.name) ? overrides[def.name] : undefined;
    if (def.internal && override === undefined) continue;
    const source =
      override !== undefined ? ConfigSource.DYNAMIC_TOPIC_CONFIG : flagValue(def, o) !== null ? ConfigSource.STATIC_BROKER_CONFIG : ConfigSource.DEFAULT_CONFIG;
    out.push({
      name: def.name,
      value: override ?? configDefault(def, o),
      readOnly: false,
      source,
      isSensitive: false,
      type: ConfigType[def.type],
      synonyms: synonymsOf(def, override, o),
    });
  }
  return out;
}
