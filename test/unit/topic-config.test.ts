// Topic config validation as Kafka's ConfigDef does it, prototype-safe lookups,
// and the README tables generated from the config table and spec/apis.json.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_OPTIONS } from "../../src/config.ts";
import { configRecord, segmentBytes, TOPIC_CONFIGS, topicConfig, validateTopicConfigs } from "../../src/meta/topic-config.ts";
import { describeTopicConfigs } from "../../src/meta/config-describe.ts";
import { renderReadme } from "../../codegen/readme-tables.ts";

const o = DEFAULT_OPTIONS;
const check = (k: string, v: string) => validateTopicConfigs(configRecord([[k, v]]), o);

describe("topic config validation", () => {
  test("every default passes its own checks", () => {
    for (const d of TOPIC_CONFIGS.values()) if (!d.internal) expect([d.name, check(d.name, d.kafkaDefault)]).toEqual([d.name, null]);
  });

  test("types: INT and LONG bounds, DOUBLE syntax, BOOLEAN case-insensitive, values trimmed", () => {
    expect(check("retention.ms", "9223372036854775807")).toBeNull();
    expect(check("retention.ms", "9223372036854775808")).toContain("Not a number of type LONG");
    expect(check("max.message.bytes", "2147483647")).toBeNull();
    expect(check("max.message.bytes", "2147483648")).toContain("Not a number of type INT");
    expect(check("max.message.bytes", "1.5")).toContain("Not a number of type INT");
    expect(check("retention.ms", " 1000 ")).toBeNull();
    for (const v of ["0.5", "1", ".5", "1e-1", "0"]) expect(check("min.cleanable.dirty.ratio", v)).toBeNull();
    for (const v of ["abc", "NaN", ""]) expect(check("min.cleanable.dirty.ratio", v)).toContain("Not a number of type DOUBLE");
    expect(check("min.cleanable.dirty.ratio", "1.01")).toContain("Value must be no more than 1");
    expect(check("preallocate", "TRUE")).toBeNull();
    expect(check("preallocate", "yes")).toContain("true or false");
  });

  test("ranges and allowed values name the key", () => {
    expect(check("segment.bytes", "1048575")).toBe("Invalid value 1048575 for configuration segment.bytes: Value must be at least 1048576");
    expect(check("retention.ms", "-2")).toContain("configuration retention.ms");
    expect(check("retention.bytes", "-5")).toBeNull(); // Kafka gives retention.bytes no lower bound
    expect(check("compression.type", "none")).toContain("String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer");
    expect(check("compression.gzip.level", "0")).toContain("compression.gzip.level");
    expect(check("compression.gzip.level", "-1")).toBeNull();
    expect(check("compression.zstd.level", "-131072")).toBeNull();
    expect(check("compression.zstd.level", "23")).toContain("no more than 22");
    expect(check("leader.replication.throttled.replicas", "0:1,1:1")).toBeNull();
    expect(check("leader.replication.throttled.replicas", "*")).toBeNull();
    expect(check("leader.replication.throttled.replicas", "0-1")).toContain("leader.replication.throttled.replicas");
    expect(check("remote.storage.enable", "true")).toContain("remote.storage.enable");
  });

  test("cleanup.policy: a list of compact and delete, each once; empty keeps everything", () => {
    for (const v of ["delete", "compact", "compact,delete", "delete, compact", ""]) expect(check("cleanup.policy", v)).toBeNull();
    expect(check("cleanup.policy", "compact,compact")).toContain("duplicate");
    expect(check("cleanup.policy", "compact,shred")).toContain("cleanup.policy");
  });

  test("rules between keys use the effective values", () => {
    expect(check("min.compaction.lag.ms", "100")).toBeNull();
    expect(validateTopicConfigs(configRecord([["min.compaction.lag.ms", "100"], ["max.compaction.lag.ms", "99"]]), o)).toBe(
      "conflict topic config setting min.compaction.lag.ms (100) > max.compaction.lag.ms (99)",
    );
  });

  test("object-member names are unknown keys, in validation and in lookups", () => {
    for (const k of ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf", "__defineGetter__"]) {
      expect(check(k, "1")).toBe(`Unknown topic config name: ${k}`);
      expect(() => topicConfig(configRecord(), k, o)).toThrow("not a topic config");
    }
    // A stored file (JSON) with such a key yields an own entry, never a prototype change.
    const stored = configRecord(Object.entries(JSON.parse('{"__proto__": {"retention.ms": "1"}, "segment.ms": "5"}') as Record<string, string>));
    expect(Object.getPrototypeOf(stored)).toBeNull();
    expect(Object.keys(stored).sort()).toEqual(["__proto__", "segment.ms"]);
    expect(topicConfig(stored, "retention.ms", o)).toBe("604800000");
    expect(topicConfig(configRecord(), "segment.ms", o)).toBe("604800000");
  });

  test("internal.segment.bytes replaces segment.bytes for the log and is described only when set", () => {
    expect(segmentBytes(configRecord(), o)).toBe(1073741824);
    expect(segmentBytes(configRecord([["internal.segment.bytes", "4096"]]), o)).toBe(4096);
    expect(check("internal.segment.bytes", "4096")).toBeNull();
    expect(describeTopicConfigs(o, configRecord()).some((c) => c.name === "internal.segment.bytes")).toBe(false);
    expect(describeTopicConfigs(o, configRecord([["internal.segment.bytes", "4096"]])).find((c) => c.name === "internal.segment.bytes")?.value).toBe("4096");
  });

  test("a broker flag that changes a default is reported as STATIC_BROKER_CONFIG with its synonym", () => {
    const described = describeTopicConfigs({ ...o, segmentBytes: 64 << 20 }, configRecord());
    expect(described.find((c) => c.name === "segment.bytes")).toMatchObject({
      value: String(64 << 20),
      source: 4,
      synonyms: [
        { name: "log.segment.bytes", value: String(64 << 20), source: 4 },
        { name: "log.segment.bytes", value: "1073741824", source: 5 },
      ],
    });
  });
});

test("README's generated tables match src/meta/topic-config.ts and spec/apis.json (bun codegen/readme-tables.ts)", () => {
  const readme = readFileSync(join(import.meta.dir, "../../README.md"), "utf8");
  expect(renderReadme(readme)).toBe(readme);
});
