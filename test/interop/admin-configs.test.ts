// Topic configs and admin APIs from real clients: confluent-kafka-python and
// kcat (librdkafka 2.0.2), the current librdkafka (2.15, through a small C
// program, since its JavaScript binding lacks these calls) and KafkaJS.
// Every Kafka 4.3 topic config is accepted, validated, described with its
// source and synonyms, and persisted across a real restart.

import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { inProcessBroker, withInProcessBroker, withSpawnedBroker } from "../helpers/broker.ts";
import { CLIENT_TEST_TIMEOUT, kcat, missing, nodeClient, py, rdkafkaC } from "../helpers/clients.ts";
import { TOPIC_CONFIGS } from "../../src/meta/topic-config.ts";

const DYNAMIC_TOPIC_CONFIG = 1;
const STATIC_BROKER_CONFIG = 4;
const DEFAULT_CONFIG = 5;
/** Every topic config DescribeConfigs lists: all of Kafka 4.3's but the internal, test-only one. */
const DESCRIBED = [...TOPIC_CONFIGS.values()].filter((d) => !d.internal).length;

test.skipIf(missing("python"))(
  "confluent-kafka-python: describe/alter configs, create partitions, broker configs",
  async () => {
    const b = await inProcessBroker();
    try {
      expect(await py("admin_configs.py", b.bootstrap, ["cfg", "cfg"])).toEqual({
        retention_before: ["604800000", DEFAULT_CONFIG],
        retention_after: ["12345", DYNAMIC_TOPIC_CONFIG],
        bad_config: "INVALID_CONFIG",
        partitions: 4,
        shrink: "INVALID_PARTITIONS",
        broker_num_partitions: "1",
      });
      expect({ ...b.broker.topics.get("cfg")!.configs }).toEqual({ "retention.ms": "12345", "cleanup.policy": "delete" });
    } finally {
      await b.cleanup();
    }
  },
  CLIENT_TEST_TIMEOUT,
);

test.skipIf(missing("python"))(
  "confluent-kafka-python: CreateTopics and AlterConfigs validate type, range and name; DescribeConfigs gives sources and synonyms",
  () =>
    withInProcessBroker({}, async (b) => {
      const out = await py("admin_configs.py", b.bootstrap, ["validate", "va"]);
      expect(out.ratio_too_big).toEqual(["INVALID_CONFIG", "Invalid value 1.5 for configuration min.cleanable.dirty.ratio: Value must be no more than 1"]);
      expect(out.not_a_bool).toEqual(["INVALID_CONFIG", expect.stringContaining("configuration preallocate")]);
      expect(out.proto).toEqual(["INVALID_CONFIG", "Unknown topic config name: __proto__"]);
      expect(out.to_string).toEqual(["INVALID_CONFIG", "Unknown topic config name: toString"]);
      expect(out.int_overflow).toEqual(["INVALID_CONFIG", expect.stringContaining("configuration max.message.bytes")]);
      expect(out.validate_only).toBe("ok");
      expect(out.create).toBe("ok");
      expect(out.count).toBe(DESCRIBED);
      const d = out.described;
      expect(d["retention.ms"]).toEqual(["-1", DYNAMIC_TOPIC_CONFIG, false, false, [["retention.ms", "-1", DYNAMIC_TOPIC_CONFIG], ["log.retention.hours", "168", DEFAULT_CONFIG]]]);
      expect(d["cleanup.policy"]).toEqual(["compact", DYNAMIC_TOPIC_CONFIG, false, false, [["cleanup.policy", "compact", DYNAMIC_TOPIC_CONFIG], ["log.cleanup.policy", "delete", DEFAULT_CONFIG]]]);
      expect(d["message.timestamp.type"][0]).toBe("LogAppendTime");
      expect(d["compression.type"]).toEqual(["producer", DEFAULT_CONFIG, false, false, [["compression.type", "producer", DEFAULT_CONFIG]]]);
      expect(out.alter_constructor).toEqual(["INVALID_CONFIG", "Unknown topic config name: constructor"]);
      expect(out.alter_bad_range).toEqual(["INVALID_CONFIG", "Invalid value -5 for configuration retention.ms: Value must be at least -1"]);
      // AlterConfigs replaces every override: the ones not named are back to their defaults.
      expect(out.alter_replaces_all).toBe("ok");
      expect(out.after_alter).toEqual({ "max.message.bytes": ["2000000", DYNAMIC_TOPIC_CONFIG], "retention.ms": ["604800000", DEFAULT_CONFIG], "cleanup.policy": ["delete", DEFAULT_CONFIG] });
    }),
  CLIENT_TEST_TIMEOUT,
);

test.skipIf(missing("ckjs"))(
  "librdkafka 2.15: CreateTopics (refused, validate_only), DescribeConfigs, IncrementalAlterConfigs, ElectLeaders",
  () =>
    withInProcessBroker({}, async (b) => {
      const out = await rdkafkaC("admin-rdkafka", b.bootstrap, ["configs", "rk"]);
      expect(out.tinySegment).toEqual(["INVALID_CONFIG", "Invalid value 100 for configuration segment.bytes: Value must be at least 1048576"]);
      expect(out.unknown).toEqual(["INVALID_CONFIG", "Unknown topic config name: constructor"]);
      expect(out.badType).toEqual(["INVALID_CONFIG", expect.stringContaining("configuration message.timestamp.type")]);
      expect(out.validateOnly).toEqual(["NO_ERROR", null]);
      expect(out.afterValidateOnly).toEqual(["NO_ERROR", null]);
      expect(out.create).toEqual(["NO_ERROR", null]);
      expect(out.described).toEqual({
        count: DESCRIBED,
        "cleanup.policy": ["compact,delete", "DYNAMIC_TOPIC_CONFIG", 2],
        "compression.type": ["producer", "DEFAULT_CONFIG", 1],
        "max.message.bytes": ["1048588", "DEFAULT_CONFIG", 1],
        "min.insync.replicas": ["1", "DYNAMIC_TOPIC_CONFIG", 2],
        "retention.ms": ["3600000", "DYNAMIC_TOPIC_CONFIG", 2],
        "segment.bytes": ["1073741824", "DEFAULT_CONFIG", 1],
      });
      expect(out.setCompression).toEqual(["NO_ERROR", null]);
      expect(out.setBadCompression).toEqual(["INVALID_CONFIG", "Invalid value brotli for configuration compression.type: String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer"]);
      expect(out.subtractPolicy).toEqual(["NO_ERROR", null]);
      expect(out.deleteRetention).toEqual(["NO_ERROR", null]);
      expect(out.hasOwnProperty).toEqual(["INVALID_CONFIG", "Unknown topic config name: hasOwnProperty"]);
      expect(out.after["compression.type"]).toEqual(["zstd", "DYNAMIC_TOPIC_CONFIG", 2]);
      expect(out.after["cleanup.policy"]).toEqual(["compact", "DYNAMIC_TOPIC_CONFIG", 2]);
      expect(out.after["retention.ms"]).toEqual(["604800000", "DEFAULT_CONFIG", 1]);
      expect({ ...b.broker.topics.get("rk")!.configs }).toEqual({ "cleanup.policy": "compact", "min.insync.replicas": "1", "compression.type": "zstd" });

      b.broker.topics.create("el", 2, {});
      expect(await rdkafkaC("admin-rdkafka", b.bootstrap, ["elect", "el"])).toEqual({
        named: [
          ["el", 0, "ELECTION_NOT_NEEDED"],
          ["el", 1, "ELECTION_NOT_NEEDED"],
          ["el", 7, "UNKNOWN_TOPIC_OR_PART"],
          ["nosuch", 0, "UNKNOWN_TOPIC_OR_PART"],
        ],
        // All partitions: only those that needed an election are listed, as Kafka answers.
        all: [],
      });
    }),
  CLIENT_TEST_TIMEOUT,
);

test.skipIf(missing("ckjs", "kcat"))(
  "librdkafka 2.15 DeleteRecords moves the log start, the watermarks follow; a compacted topic refuses it",
  () =>
    withInProcessBroker({}, async (b) => {
      b.broker.topics.create("dr", 1, {});
      await kcat(["-b", b.bootstrap, "-P", "-t", "dr", "-p", "0"], { stdin: Array.from({ length: 30 }, (_, i) => `m${i}`).join("\n") + "\n" });
      expect(await rdkafkaC("admin-rdkafka", b.bootstrap, ["delete-records", "dr", "12"])).toEqual({ deleted: ["NO_ERROR", 12], watermarks: [12, 30] });
      expect(b.broker.topics.get("dr")!.partitions[0]!.log.logStartOffset).toBe(12);
      // A compacted topic refuses DeleteRecords as Kafka does (its cleanup.policy lacks delete).
      b.broker.topics.create("drc", 1, { "cleanup.policy": "compact" });
      await kcat(["-b", b.bootstrap, "-P", "-t", "drc", "-p", "0", "-K:"], { stdin: "a:1\nb:2\n" });
      expect(await rdkafkaC("admin-rdkafka", b.bootstrap, ["delete-records", "drc", "1"])).toEqual({ deleted: ["POLICY_VIOLATION", -1], watermarks: [0, 2] });
      expect(b.broker.topics.get("drc")!.partitions[0]!.log.logStartOffset).toBe(0);
    }),
  CLIENT_TEST_TIMEOUT,
);

test.skipIf(missing("kafkajs"))(
  "KafkaJS: createTopics/alterConfigs refusals, describeConfigs with synonyms, deleteTopicRecords and a fetch below the log start",
  () =>
    withInProcessBroker({}, async (b) => {
      const out = await nodeClient("kafkajs", "admin.mjs", b.bootstrap, ["configs", "kj"]);
      // KafkaJS reports the code, not the broker's message.
      expect(out.badValue).toEqual(["INVALID_CONFIG", expect.any(String)]);
      expect(out.unknown).toEqual(["INVALID_CONFIG", expect.any(String)]);
      expect(out.validateOnly).toBe("ok");
      expect(out.create).toBe("ok");
      expect(Object.keys(out.described)).toHaveLength(DESCRIBED);
      expect(out.described["max.message.bytes"]).toEqual({ value: "500000", source: DYNAMIC_TOPIC_CONFIG, readOnly: false, sensitive: false, synonyms: [["max.message.bytes", "500000", DYNAMIC_TOPIC_CONFIG], ["message.max.bytes", "1048588", DEFAULT_CONFIG]] });
      expect(out.described["retention.bytes"].value).toBe("1048576");
      expect(out.alterBad).toEqual(["INVALID_CONFIG", expect.any(String)]);
      expect(out.alterUnknown).toEqual(["INVALID_CONFIG", expect.any(String)]);
      expect(out.alter).toBe("ok");
      expect(out.after["segment.ms"]).toMatchObject({ value: "60000", source: DYNAMIC_TOPIC_CONFIG });
      expect(out.after["message.timestamp.after.max.ms"]).toMatchObject({ value: "0", source: DYNAMIC_TOPIC_CONFIG });
      expect(out.after["retention.bytes"]).toMatchObject({ value: "-1", source: DEFAULT_CONFIG });

      // The group's committed offset 0 lies below the new log start: the fetch there gets
      // OFFSET_OUT_OF_RANGE and KafkaJS resets to the earliest offset, 12 (not to a deleted record).
      expect(await nodeClient("kafkajs", "admin.mjs", b.bootstrap, ["delete-records", "kd", "12"])).toEqual({ offsets: [[0, "12", "30"]], first: [12, "v12"] });
    }),
  CLIENT_TEST_TIMEOUT,
);

test.skipIf(missing("python", "kafkajs"))(
  "topic configs survive a real restart with their sources; broker flags show as STATIC_BROKER_CONFIG",
  () =>
    withSpawnedBroker({ args: ["--retention-ms", "86400000"] }, async (b) => {
      await py("admin_configs.py", b.bootstrap, ["validate", "pr"]);
      await nodeClient("kafkajs", "admin.mjs", b.bootstrap, ["configs", "pk"]);
      const before = { pr: await py("admin_configs.py", b.bootstrap, ["describe", "pr"]), pk: await nodeClient("kafkajs", "admin.mjs", b.bootstrap, ["describe", "pk"]) };
      expect(await b.stop()).toBe(0);
      const stored = JSON.parse(readFileSync(join(b.dataDir, "topics.json"), "utf8")).topics.map((t: { name: string; configs: object }) => [t.name, t.configs]);
      // What was refused never reached the file; AlterConfigs replaced pk's creation-time overrides.
      expect(stored).toEqual([
        ["pr", { "max.message.bytes": "2000000" }],
        ["pk", { "segment.ms": "60000", "message.timestamp.after.max.ms": "0" }],
      ]);
      const again = await b.restart();
      const after = { pr: await py("admin_configs.py", again.bootstrap, ["describe", "pr"]), pk: await nodeClient("kafkajs", "admin.mjs", again.bootstrap, ["describe", "pk"]) };
      expect(after).toEqual(before);
      expect(after.pr["max.message.bytes"]).toEqual(["2000000", DYNAMIC_TOPIC_CONFIG]);
      expect(after.pr["retention.ms"]).toEqual(["86400000", STATIC_BROKER_CONFIG]);
      expect(after.pk["segment.ms"]).toMatchObject({ value: "60000", source: DYNAMIC_TOPIC_CONFIG });
      expect(after.pk["retention.ms"]).toMatchObject({ value: "86400000", source: STATIC_BROKER_CONFIG, synonyms: [["log.retention.ms", "86400000", STATIC_BROKER_CONFIG], ["log.retention.hours", "168", DEFAULT_CONFIG]] });
    }),
  CLIENT_TEST_TIMEOUT,
);
