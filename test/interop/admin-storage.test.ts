// The admin APIs that describe storage and placement, from @platformatic/kafka
// (the client here that has them): DescribeLogDirs against the files on disk
// and the filesystem, DeleteRecords, DescribeTopicPartitions page by page,
// ListConfigResources, and IncrementalAlterConfigs with Kafka's refusals.

import { expect, test } from "bun:test";
import { readdirSync, statSync, statfsSync } from "node:fs";
import { join } from "node:path";
import { withInProcessBroker } from "../helpers/broker.ts";
import { CLIENT_TEST_TIMEOUT, platformatic } from "../helpers/clients.ts";
import { TOPIC_CONFIGS } from "../../src/meta/topic-config.ts";

/** Bytes of a partition's segment files, read from the data dir. */
function logFileBytes(dataDir: string, topic: string, partition: number): number {
  const dir = join(dataDir, `${topic}-${partition}`);
  return readdirSync(dir)
    .filter((f) => f.endsWith(".log"))
    .reduce((n, f) => n + statSync(join(dir, f)).size, 0);
}

test(
  "DescribeLogDirs reports each partition's segment bytes and the data dir's volume; DeleteRecords moves the start",
  () =>
    withInProcessBroker({}, async (b) => {
      const out = await platformatic("admin.mjs", b.bootstrap, ["storage", "ld"]);
      const fs = statfsSync(b.dataDir);
      for (const snapshot of [out.before, out.after]) {
        expect(snapshot).toHaveLength(1);
        const dir = snapshot[0];
        expect(dir.logDir).toBe(b.dataDir);
        expect(BigInt(dir.totalBytes)).toBe(BigInt(fs.blocks) * BigInt(fs.bsize));
        // Other processes write to the same volume meanwhile: usable space is close, not equal.
        const usable = Number(dir.usableBytes);
        const now = fs.bavail * fs.bsize;
        expect(Math.abs(usable - now)).toBeLessThan(0.05 * fs.blocks * fs.bsize);
        // Partition 9 does not exist and is left out, as Kafka does.
        expect(dir.partitions.map((p: unknown[]) => p.slice(0, 2))).toEqual([["ld", 0], ["ld", 1], ["ld", 2]]);
        for (const [topic, partition, size, lag] of dir.partitions) {
          expect(Number(size)).toBe(logFileBytes(b.dataDir, topic, partition));
          expect(lag).toBe("0");
        }
      }
      const sizes = out.before[0].partitions.map((p: string[]) => Number(p[2]));
      expect(sizes[0]).toBeGreaterThan(40 * 100);
      expect(sizes[1]).toBeGreaterThan(5 * 100);
      expect(sizes[2]).toBe(0);
      expect(out.deleted).toEqual([["ld", [[0, "25"]]]]);
      expect(b.broker.topics.get("ld")!.partitions[0]!.log.logStartOffset).toBe(25);
    }),
  CLIENT_TEST_TIMEOUT,
);

test(
  "DescribeTopicPartitions pages by ResponsePartitionLimit with a cursor, answers unknown names and refuses a cursor outside the list",
  () =>
    withInProcessBroker({}, async (b) => {
      const out = await platformatic("admin.mjs", b.bootstrap, ["paging", "pg"]);
      // Three partitions a page over pg-a (3), pg-b (1) and pg-c (4), in name order.
      expect(out.pages).toEqual([
        { topics: [["pg-a", 0, [0, 1, 2]], ["pg-zz", 3, []]], next: ["pg-b", 0] },
        { topics: [["pg-b", 0, [0]], ["pg-c", 0, [0, 1]], ["pg-zz", 3, []]], next: ["pg-c", 2] },
        { topics: [["pg-c", 0, [2, 3]], ["pg-zz", 3, []]], next: null },
      ]);
      expect(out.partition).toEqual({ leader: b.broker.nodeId, replicas: [b.broker.nodeId], isr: [b.broker.nodeId], elr: [], id: expect.any(String) });
      expect(out.partition.id.replaceAll("-", "")).toBe(b.broker.topics.get("pg-a")!.id);
      expect(out.allTopics).toEqual(["pg-a", "pg-b", "pg-c"]);
      expect(out.badCursor).toEqual([["pg-a", 42]]); // INVALID_REQUEST
    }),
  CLIENT_TEST_TIMEOUT,
);

test(
  "ListConfigResources: v0 lists client-metrics subscriptions (none), v1 brokers, loggers and topics in Kafka's order, unknown type refused",
  () =>
    withInProcessBroker({}, async (b) => {
      b.broker.topics.create("lr-b", 1, {});
      b.broker.topics.create("lr-a", 1, {});
      const out = await platformatic("admin.mjs", b.bootstrap, ["resources"]);
      const id = String(b.broker.nodeId);
      expect(out).toEqual({
        v0: { errorCode: 0, resources: [] },
        all: { errorCode: 0, resources: [[8, id], [4, id], [2, "lr-a"], [2, "lr-b"]] },
        topics: { errorCode: 0, resources: [[2, "lr-a"], [2, "lr-b"]] },
        unknown: { errorCode: 35, resources: [] }, // UNSUPPORTED_VERSION
      });
    }),
  CLIENT_TEST_TIMEOUT,
);

test(
  "IncrementalAlterConfigs: SET, APPEND, SUBTRACT, DELETE, validateOnly, and Kafka's refusals naming the key",
  () =>
    withInProcessBroker({}, async (b) => {
      const out = await platformatic("admin.mjs", b.bootstrap, ["incremental", "inc"]);
      expect(Object.values(out.steps)).toEqual(["ok", "ok", "ok", "ok", "ok"]);
      const DYNAMIC = 1;
      const DEFAULT = 5;
      expect(out.afterSet["cleanup.policy"]).toEqual({ value: "delete,compact", source: DYNAMIC, type: 7, synonyms: [["cleanup.policy", "delete,compact", DYNAMIC], ["log.cleanup.policy", "delete", DEFAULT]] });
      expect(out.afterSet["retention.ms"]).toEqual({ value: "7200000", source: DYNAMIC, type: 5, synonyms: [["retention.ms", "7200000", DYNAMIC], ["log.retention.hours", "168", DEFAULT]] });
      expect(out.afterSet["min.insync.replicas"].value).toBe("2");
      // validateOnly changed nothing.
      expect(out.afterSet["segment.ms"]).toMatchObject({ value: "604800000", source: DEFAULT });
      expect(out.afterSubtract["cleanup.policy"].value).toBe("compact");
      expect(out.afterDelete["retention.ms"]).toMatchObject({ value: "604800000", source: DEFAULT });
      // Every Kafka 4.3 topic config is described (the test-only internal.segment.bytes only when set).
      expect(Object.keys(out.final).sort()).toEqual([...TOPIC_CONFIGS.values()].filter((d) => !d.internal).map((d) => d.name).sort());
      const r = out.refused;
      const only = (x: [number, string][]) => {
        expect(x).toHaveLength(1);
        return x[0]!;
      };
      expect(only(r.tooSmallSegment)).toEqual([40, expect.stringContaining("segment.bytes")]);
      expect(only(r.tooSmallSegment)[1]).toContain("at least 1048576");
      expect(only(r.notANumber)).toEqual([40, expect.stringContaining("retention.ms")]);
      expect(only(r.badPolicy)).toEqual([40, expect.stringContaining("cleanup.policy")]);
      expect(only(r.appendToLong)).toEqual([40, "Config value append is not allowed for config key: retention.ms"]);
      expect(only(r.constructor)).toEqual([40, "Unknown topic config name: constructor"]);
      expect(only(r.proto)).toEqual([40, "Unknown topic config name: __proto__"]);
      expect(only(r.toStringDelete)).toEqual([40, "Unknown topic config name: toString"]);
      expect(only(r.lagConflict)).toEqual([40, expect.stringContaining("min.compaction.lag.ms (10) > max.compaction.lag.ms (5)")]);
      expect(only(r.remoteStorage)).toEqual([40, expect.stringContaining("remote.storage.enable")]);
      // Nothing refused reached the topic.
      expect({ ...b.broker.topics.get("inc")!.configs }).toEqual({ "min.insync.replicas": "2", "cleanup.policy": "compact" });
    }),
  CLIENT_TEST_TIMEOUT,
);
