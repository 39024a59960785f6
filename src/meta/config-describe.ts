// The full effective configuration of a topic, as DescribeConfigs and
// CreateTopics (v5+) report it: every known key with its value and source.

import type { Broker } from "../broker.ts";
import { DEFAULT_OPTIONS } from "../config.ts";
import { TOPIC_CONFIGS } from "./topic-config.ts";

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

export interface DescribedConfig {
  name: string;
  value: string;
  readOnly: boolean;
  source: number;
  isSensitive: boolean;
  /** Kafka's ConfigType (1 BOOLEAN … 7 LIST). */
  type: number;
}

export function describeTopicConfigs(broker: Broker, overrides: Record<string, string>): DescribedConfig[] {
  return Object.keys(TOPIC_CONFIGS)
    .sort()
    .map((name) => {
      const def = TOPIC_CONFIGS[name]!;
      const override = overrides[name];
      const brokerValue = def.def(broker.options);
      const source =
        override !== undefined
          ? ConfigSource.DYNAMIC_TOPIC_CONFIG
          : brokerValue !== def.def(DEFAULT_OPTIONS)
            ? ConfigSource.STATIC_BROKER_CONFIG
            : ConfigSource.DEFAULT_CONFIG;
      return { name, value: override ?? brokerValue, readOnly: false, source, isSensitive: false, type: def.type };
    });
}
