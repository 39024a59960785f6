// klite mirror between two klite brokers over TCP, the mirror running as its
// own process (src/main.ts mirror). Data comes from confluent-kafka-python
// (librdkafka 2.0.2): compressed, keyed, headered records, transactions
// committed and aborted, a compacted topic the cleaner has left gaps in.
// Checked: the target holds the same record batches (records section byte
// for byte) at the same offsets, read_committed consumers see the same
// records on both sides, a group resumes on the target where it committed on
// the source, a kill -9 mid-copy loses and duplicates nothing (offsets
// preserved, and translated onto a target partition that already had
// records), and topics and partitions created later are picked up.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, spawnBroker, type SpawnedBroker } from "../helpers/broker.ts";
import { CLIENTS, CLIENT_TEST_TIMEOUT, missing, py } from "../helpers/clients.ts";
import { collectJsonLines, run, waitFor } from "../helpers/run.ts";
import { KafkaClient, LATEST } from "../../src/client/client.ts";
import { DescribeGroups, Fetch, Produce } from "../../src/client/apis.ts";
import { buildBatch } from "../../src/protocol/records.ts";
import { ErrorCode } from "../../src/protocol/errors.ts";
import { fetchedBatches } from "../../src/client/fetched.ts";
import { HEADER_SIZE } from "../../src/log/batch-header.ts";

const MAIN = join(ROOT, "src/main.ts");
type Rec = [partition: number, offset: number, key: string | null, value: string | null];

let src: SpawnedBroker;
let dst: SpawnedBroker;
beforeAll(async () => {
  [src, dst] = await Promise.all([spawnBroker({ args: ["--log-cleaner-backoff-ms", "50"] }), spawnBroker()]);
});
afterAll(async () => {
  await Promise.all([src?.cleanup(), dst?.cleanup()]);
});

const core = <T>(bootstrap: string, ...args: string[]) => py<T>("core.py", bootstrap, args);
const txn = <T>(bootstrap: string, ...args: string[]) => py<T>("txn.py", bootstrap, args);
const consumeCommitted = async (bootstrap: string, topic: string) => (await txn<Rec[]>(bootstrap, "consume", topic, "read_committed", "values")).sort((a, b) => a[0] - b[0] || a[1] - b[1]);

function klite(args: string[], timeoutMs = 120_000) {
  return run([process.execPath, MAIN, ...args], { timeoutMs });
}

async function ok(args: string[]): Promise<string> {
  const r = await klite(args);
  if (r.code !== 0) throw new Error(`klite ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const mirrorArgs = (topics: string, ...more: string[]) => ["mirror", "--source", src.bootstrap, "--target", dst.bootstrap, "--topics", topics, ...more];

function spawnMirror(args: string[]) {
  return Bun.spawn([process.execPath, MAIN, ...args], { stdout: "pipe", stderr: "pipe" });
}

/** Every batch of a partition, read_committed, with the answer's aborted list applied. */
async function batchesOf(bootstrap: string, topic: string, partition: number) {
  const c = new KafkaClient(bootstrap);
  try {
    const info = await c.topic(topic);
    const end = (await c.listOffsets(info, [partition], LATEST)).get(partition)!;
    const conn = await c.broker(info.partitions[partition]!.leader);
    const out: { base: number; lastDelta: number; count: number; codec: number; maxTimestamp: number; body: string; copied: boolean }[] = [];
    let next = 0n;
    while (next < end) {
      const res = await conn.send(Fetch, null, {
        replicaId: -1, maxWaitMs: 100, minBytes: 1, maxBytes: 1 << 24, isolationLevel: 1, sessionId: 0, sessionEpoch: -1,
        topics: [{ topic, partitions: [{ partition, fetchOffset: next, partitionMaxBytes: 1 << 24, currentLeaderEpoch: -1, logStartOffset: -1n }] }],
        forgottenTopicsData: [], rackId: "",
      });
      const pd = res.responses[0]!.partitions[0]!;
      expect(pd.errorCode).toBe(0);
      for (const b of fetchedBatches(pd.records, pd.abortedTransactions)) {
        const h = b.header;
        if (h.baseOffset + h.lastOffsetDelta < next) continue;
        next = BigInt(h.baseOffset + h.lastOffsetDelta + 1);
        out.push({ base: h.baseOffset, lastDelta: h.lastOffsetDelta, count: h.recordCount, codec: h.codec, maxTimestamp: h.maxTimestamp, body: Buffer.from(b.bytes.subarray(HEADER_SIZE)).toString("base64"), copied: !h.control && !b.aborted && h.recordCount > 0 });
      }
    }
    return out;
  } finally {
    c.close();
  }
}

/** Source batches that carry committed records, and the target's batches: the same, at the same offsets. */
async function expectSameBatches(topic: string, partitions: number): Promise<void> {
  for (let p = 0; p < partitions; p++) {
    const [s, t] = await Promise.all([batchesOf(src.bootstrap, topic, p), batchesOf(dst.bootstrap, topic, p)]);
    const strip = ({ copied: _c, ...rest }: { copied: boolean } & Record<string, unknown>) => rest;
    expect(t.every((b) => b.copied)).toBe(true);
    expect(t.map(strip)).toEqual(s.filter((b) => b.copied).map(strip));
  }
}

/** The cleaner's checkpoint of partition 0 of a topic on the source. */
function cleanedUpTo(topic: string): number {
  const path = join(src.dataDir, `${topic}-0`, "cleaner-checkpoint");
  return existsSync(path) ? Number(readFileSync(path, "utf8")) : 0;
}

async function endOffset(bootstrap: string, topic: string, partition: number): Promise<bigint> {
  const c = new KafkaClient(bootstrap);
  try {
    const info = await c.topic(topic);
    return (await c.listOffsets(info, [partition], LATEST)).get(partition) ?? -1n;
  } catch {
    return -1n;
  } finally {
    c.close();
  }
}

describe.skipIf(missing("python"))("klite mirror between two brokers", () => {
  test(
    "compressed, keyed, headered, transactional and compacted data: same batches at the same offsets, --once exits 0 at lag zero",
    async () => {
      await ok(["topic", "create", "mixed", "-p", "3", "-b", src.bootstrap]);
      await core(src.bootstrap, "produce", "mixed", "300", "lz4", "3");
      await core(src.bootstrap, "produce", "mixed", "200", "zstd", "3");
      // Partition 0: commits c0..c4, aborts a0..a4, commits c5..c9 (markers in between).
      await txn(src.bootstrap, "commit_abort", "mixed", "mixed-txid");
      await core(src.bootstrap, "produce", "mixed", "30", "gzip", "3");

      const compact = { "cleanup.policy": "compact", "internal.segment.bytes": "4096", "min.cleanable.dirty.ratio": "0.01", "retention.ms": "123456789" };
      await core(src.bootstrap, "create_configured", "compacted", JSON.stringify(compact));
      await txn(src.bootstrap, "compact_rounds", "compacted", "compacted-txid", "5", "10");
      // Batches of 50 records over 10 keys: cleaning leaves holes inside batches.
      await core(src.bootstrap, "updates", "compacted", "0", "600", "10", "snappy", "7");
      const fillers = await core<[number, string, string][]>(src.bootstrap, "updates", "compacted", "1000000", "300", "100000000", "snappy", "0");
      await waitFor(() => cleanedUpTo("compacted") >= fillers[0]![0], 60_000, "compacted cleaned");

      const r = await klite(mirrorArgs("mixed|compacted", "--once", "--format", "json"));
      expect(r.code).toBe(0);
      const lags = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
      expect(lags.length).toBe(4);
      expect(lags.every((l) => l.lag === 0 && l.mode === "identity" && l.mirrored === l.sourceEnd)).toBe(true);

      await expectSameBatches("mixed", 3);
      await expectSameBatches("compacted", 1);
      // The cleaner left gaps on the source; the target has the same ones.
      const compactedSrc = await batchesOf(src.bootstrap, "compacted", 0);
      expect(compactedSrc.some((b) => b.copied && b.count < b.lastDelta + 1)).toBe(true);
      expect(await consumeCommitted(dst.bootstrap, "mixed")).toEqual(await consumeCommitted(src.bootstrap, "mixed"));
      expect(await consumeCommitted(dst.bootstrap, "compacted")).toEqual(await consumeCommitted(src.bootstrap, "compacted"));
      // Aborted values never reach the target.
      expect((await consumeCommitted(dst.bootstrap, "mixed")).filter(([, , , v]) => v?.startsWith("a"))).toEqual([]);

      // Configs MM2 copies came along; message.timestamp.type-like ones and defaults did not.
      const described = JSON.parse(await ok(["topic", "describe", "compacted", "--format", "json", "-b", dst.bootstrap]));
      expect(described.configs).toMatchObject({ "cleanup.policy": "compact", "min.cleanable.dirty.ratio": "0.01", "retention.ms": "123456789" });
      expect(described.partitionCount).toBe(1);

      // --status agrees: nothing left.
      const status = (await ok(mirrorArgs("mixed|compacted", "--status", "--format", "json"))).trim().split("\n").map((l) => JSON.parse(l));
      expect(status.map((l) => [l.topic, l.partition, l.lag])).toEqual([["compacted", 0, 0], ["mixed", 0, 0], ["mixed", 1, 0], ["mixed", 2, 0]]);
    },
    CLIENT_TEST_TIMEOUT,
  );

  test(
    "a group committed on the source resumes on the target exactly where it left off (confluent-kafka-python)",
    async () => {
      await ok(["topic", "create", "orders", "-p", "1", "-b", src.bootstrap]);
      await core(src.bootstrap, "produce", "orders", "60", "none", "1");
      expect(await core(src.bootstrap, "commit", "billing", "orders", "0", "37")).toBe("ok");
      const r = await klite(mirrorArgs("orders", "--once", "--sync-group-offsets", "--groups", "billing"));
      expect(r.code).toBe(0);
      expect(await core(dst.bootstrap, "committed", "billing", "orders", "0")).toBe(37);
      const resumed = await core<{ offset: number; key: string; value: string }[]>(dst.bootstrap, "resume", "billing", "orders", "0", "23");
      const fromSource = await core<{ offset: number; key: string; value: string }[]>(src.bootstrap, "consume", "orders", "0", "37", "23");
      expect(resumed.length).toBe(23);
      expect(resumed[0]!.offset).toBe(37);
      expect(resumed).toEqual(fromSource);

      // A group with a member on the target owns its offsets there: the mirror leaves them alone.
      expect(await core(src.bootstrap, "commit", "busy", "orders", "0", "50")).toBe("ok");
      // Its member reads another topic, so it never commits offsets of this one itself.
      await ok(["topic", "create", "other", "-p", "1", "-b", dst.bootstrap]);
      const member = Bun.spawn([process.execPath, MAIN, "consume", "other", "--group", "busy", "--follow", "-b", dst.bootstrap], { stdout: "pipe", stderr: "pipe" });
      try {
        const c = new KafkaClient(dst.bootstrap);
        try {
          await waitFor(async () => {
            const g = await (await c.coordinator("busy")).send(DescribeGroups, null, { groups: ["busy"], includeAuthorizedOperations: false });
            return g.groups[0]?.groupState === "Stable";
          }, 30_000, "the target group's member");
        } finally {
          c.close();
        }
        expect((await klite(mirrorArgs("orders", "--once", "--sync-group-offsets", "--groups", "busy"))).code).toBe(0);
        expect(await core(dst.bootstrap, "committed", "busy", "orders", "0")).toBe(-1001);
      } finally {
        member.kill(9);
        await member.exited;
      }
    },
    CLIENT_TEST_TIMEOUT,
  );

  test.skipIf(missing("ckjs"))(
    "a KIP-848 consumer group with a member on the target (librdkafka 2.15) keeps its offsets",
    async () => {
      await ok(["topic", "create", "orders848", "-p", "1", "-b", src.bootstrap]);
      await core(src.bootstrap, "produce", "orders848", "20", "none", "1");
      expect(await core(src.bootstrap, "commit", "g848", "orders848", "0", "12")).toBe("ok");
      await ok(["topic", "create", "other848", "-p", "1", "-b", dst.bootstrap]);
      const member = Bun.spawn(["node", join(CLIENTS, "ckjs/hold-consumer.mjs"), dst.bootstrap, "other848", "g848", "1"], { cwd: CLIENTS, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
      const events: { event: string }[] = [];
      collectJsonLines(member.stdout, events);
      try {
        await waitFor(() => events.some((e) => e.event === "assigned"), 60_000, "the KIP-848 member's assignment");
        expect((await klite(mirrorArgs("orders848", "--once", "--sync-group-offsets", "--groups", "g848"))).code).toBe(0);
        expect(await core(dst.bootstrap, "committed", "g848", "orders848", "0")).toBe(-1001);
      } finally {
        member.stdin.end();
        await member.exited;
      }
      // Once it has left, the group is idle and its offsets are copied.
      expect((await klite(mirrorArgs("orders848", "--once", "--sync-group-offsets", "--groups", "g848"))).code).toBe(0);
      expect(await core(dst.bootstrap, "committed", "g848", "orders848", "0")).toBe(12);
    },
    CLIENT_TEST_TIMEOUT,
  );

  test(
    "kill -9 mid-copy and restart: nothing skipped, nothing twice, offsets preserved and translated",
    async () => {
      await ok(["topic", "create", "big", "-p", "2", "-b", src.bootstrap]);
      await ok(["topic", "create", "big-map", "-p", "1", "-b", src.bootstrap]);
      // A target partition that already has a record: the mirror translates offsets there.
      await ok(["topic", "create", "big-map", "-p", "1", "-b", dst.bootstrap]);
      await core(dst.bootstrap, "produce", "big-map", "1", "none", "1");
      // Batches of at most 50 records: hundreds of produce round trips to copy.
      await core(src.bootstrap, "produce", "big", "100", "none", "2");
      await core(src.bootstrap, "updates", "big", "0", "20000", "100000000", "none", "0");
      await core(src.bootstrap, "updates", "big-map", "0", "20000", "100000000", "lz4", "0");
      // Small fetches, one produce in flight: slow enough to be killed half way.
      const slow = ["--source-config", "max.partition.fetch.bytes=2048", "--target-config", "max.in.flight.requests.per.connection=1"];
      const m = spawnMirror(mirrorArgs("big|big-map", ...slow));
      await waitFor(async () => (await endOffset(dst.bootstrap, "big", 0)) > 1000n && (await endOffset(dst.bootstrap, "big-map", 0)) > 1000n, 60_000, "the mirror under way");
      m.kill(9);
      await m.exited;
      // Killed mid-copy, not after it.
      expect(await endOffset(dst.bootstrap, "big", 0)).toBeLessThan(20050n);
      expect(await endOffset(dst.bootstrap, "big-map", 0)).toBeLessThan(20001n);
      const r = await klite(mirrorArgs("big|big-map", "--once"));
      expect(r.code).toBe(0);
      await expectSameBatches("big", 2);
      expect(await consumeCommitted(dst.bootstrap, "big")).toEqual(await consumeCommitted(src.bootstrap, "big"));
      const mapped = await consumeCommitted(dst.bootstrap, "big-map");
      const source = await consumeCommitted(src.bootstrap, "big-map");
      expect(mapped.length).toBe(source.length + 1);
      expect(mapped.slice(1).map(([, o, k, v]) => [o - 1, k, v])).toEqual(source.map(([, o, k, v]) => [o, k, v]));
    },
    CLIENT_TEST_TIMEOUT,
  );

  test(
    "the target broker killed (kill -9) and restarted mid-copy: the mirror starts over from what the target holds",
    async () => {
      await ok(["topic", "create", "bounce", "-p", "1", "-b", src.bootstrap]);
      await core(src.bootstrap, "updates", "bounce", "0", "20000", "100000000", "snappy", "0");
      const m = spawnMirror(mirrorArgs("bounce", "--source-config", "max.partition.fetch.bytes=2048", "--target-config", "max.in.flight.requests.per.connection=1"));
      try {
        await waitFor(async () => (await endOffset(dst.bootstrap, "bounce", 0)) > 1000n, 60_000, "the mirror under way");
        await dst.kill9();
        await dst.restart();
        await waitFor(async () => (await endOffset(dst.bootstrap, "bounce", 0)) === 20000n, 120_000, "the mirror caught up after the restart");
      } finally {
        m.kill("SIGTERM");
      }
      expect(await m.exited).toBe(0);
      await expectSameBatches("bounce", 1);
    },
    CLIENT_TEST_TIMEOUT,
  );

  test(
    "a topic created on the source after the start is mirrored, and so is a partition added to it",
    async () => {
      const m = spawnMirror(mirrorArgs("late.*", "--refresh-ms", "200", "--metrics-listen", "127.0.0.1:0"));
      let stderr = "";
      void (async () => {
        for await (const chunk of m.stderr) stderr += new TextDecoder().decode(chunk);
      })();
      try {
        await ok(["topic", "create", "late1", "-p", "1", "-b", src.bootstrap]);
        await core(src.bootstrap, "produce", "late1", "10", "none", "1");
        await waitFor(async () => (await endOffset(dst.bootstrap, "late1", 0)) === 10n, 60_000, "late1 mirrored");
        await ok(["topic", "alter", "late1", "-p", "3", "-b", src.bootstrap]);
        await core(src.bootstrap, "produce", "late1", "9", "none", "3");
        await waitFor(async () => (await endOffset(dst.bootstrap, "late1", 2)) === 3n, 60_000, "late1-2 mirrored");
        const d = JSON.parse(await ok(["topic", "describe", "late1", "--format", "json", "-b", dst.bootstrap]));
        expect(d.partitionCount).toBe(3);
        expect(await consumeCommitted(dst.bootstrap, "late1")).toEqual(await consumeCommitted(src.bootstrap, "late1"));
        // /metrics: lag per partition, zero once caught up.
        await waitFor(() => /metrics on (http:\S+)/.test(stderr), 10_000, "the metrics line");
        const url = /metrics on (http:\S+)/.exec(stderr)![1]!;
        await waitFor(async () => {
          const text = await (await fetch(url)).text();
          return [0, 1, 2].every((p) => text.includes(`klite_mirror_lag_offsets{topic="late1",partition="${p}"} 0\n`)) && /klite_mirror_records_total 19\n/.test(text);
        }, 30_000, "lag 0 on /metrics");
      } finally {
        m.kill("SIGTERM");
      }
      expect(await m.exited).toBe(0);
    },
    CLIENT_TEST_TIMEOUT,
  );

  test(
    "onto a partition that already has records: offsets translated, compacted batches renumbered, group offsets translated",
    async () => {
      const compact = { "cleanup.policy": "compact", "internal.segment.bytes": "4096", "min.cleanable.dirty.ratio": "0.01" };
      await core(src.bootstrap, "create_configured", "cmap", JSON.stringify(compact));
      await core(src.bootstrap, "updates", "cmap", "0", "600", "10", "lz4", "0");
      const fillers = await core<[number, string, string][]>(src.bootstrap, "updates", "cmap", "1000000", "300", "100000000", "none", "0");
      await waitFor(() => cleanedUpTo("cmap") >= fillers[0]![0], 60_000, "cmap cleaned");
      await core(dst.bootstrap, "create_configured", "cmap", JSON.stringify({ "cleanup.policy": "compact" }));
      await core(dst.bootstrap, "produce_values", "cmap", "0", "already-here");
      // The group stopped at the first record of a batch well into the partition.
      const batches = (await batchesOf(src.bootstrap, "cmap", 0)).filter((b) => b.copied);
      expect(batches.some((b) => b.count < b.lastDelta + 1)).toBe(true);
      const source = await consumeCommitted(src.bootstrap, "cmap");
      const stopAt = source.find(([, o]) => o >= batches[4]!.base)![1];
      expect(await core(src.bootstrap, "commit", "cmap-app", "cmap", "0", String(stopAt))).toBe("ok");

      const r = await klite(mirrorArgs("cmap", "--once", "--sync-group-offsets", "--groups", "cmap-app", "--format", "json"));
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout.trim()).mode).toBe("map");
      const target = await consumeCommitted(dst.bootstrap, "cmap");
      expect(target[0]![3]).toBe("already-here");
      // Same records in the same order, one after the other from offset 1.
      expect(target.slice(1).map(([, , k, v]) => [k, v])).toEqual(source.map(([, , k, v]) => [k, v]));
      expect(target.slice(1).map(([, o]) => o)).toEqual(source.map((_, i) => i + 1));
      const index = source.findIndex(([, o]) => o === stopAt);
      expect(await core(dst.bootstrap, "committed", "cmap-app", "cmap", "0")).toBe(index + 1);
      const resumed = await core<{ key: string | null; value: string | null }[]>(dst.bootstrap, "resume", "cmap-app", "cmap", "0", "3");
      expect(resumed.map((m) => [m.key, m.value])).toEqual(source.slice(index, index + 3).map(([, , k, v]) => [k, v]));
    },
    CLIENT_TEST_TIMEOUT,
  );

  test(
    "LogAppendTime on the source: each record keeps the time the source stamped, as its CreateTime on the target",
    async () => {
      await core(src.bootstrap, "create_configured", "appended", JSON.stringify({ "message.timestamp.type": "LogAppendTime" }));
      await core(src.bootstrap, "produce", "appended", "20", "gzip", "1");
      expect((await klite(mirrorArgs("appended", "--once"))).code).toBe(0);
      const [s, t] = await Promise.all([core<{ timestamp: number }[]>(src.bootstrap, "consume", "appended", "0", "0", "20"), core<{ timestamp: number }[]>(dst.bootstrap, "consume", "appended", "0", "0", "20")]);
      expect(s.length).toBe(20);
      // The producer set 1_700_000_000_000 + i s; the source replaced that with its clock.
      expect(s[0]!.timestamp).toBeGreaterThan(1_750_000_000_000);
      expect(t).toEqual(s);
    },
    CLIENT_TEST_TIMEOUT,
  );

  test(
    "placed batches over the wire: at or past the log end, holes kept, only with klite.mirror.preserve.offsets; plain producers unaffected",
    async () => {
      await ok(["topic", "create", "placed", "-p", "1", "-c", "klite.mirror.preserve.offsets=true", "-b", dst.bootstrap]);
      await ok(["topic", "create", "unplaced", "-p", "1", "-b", dst.bootstrap]);
      const c = new KafkaClient(dst.bootstrap);
      try {
        const conn = await c.anyBroker();
        const send = async (topic: string, batch: Uint8Array) =>
          (await conn.send(Produce, null, { acks: -1, timeoutMs: 10_000, transactionalId: null, topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }] })).responses[0]!.partitionResponses[0]!;
        const rec = (k: string) => ({ key: k, value: `v-${k}`, timestamp: Date.now() });
        const holed = () => buildBatch({ records: [{ ...rec("a"), offsetDelta: 0 }, { ...rec("b"), offsetDelta: 3 }], lastOffsetDelta: 3, baseOffset: 10 });
        expect(await send("placed", holed())).toMatchObject({ errorCode: 0, baseOffset: 10n });
        // Sent again it would land below the log end (14): refused, nothing written.
        expect((await send("placed", holed())).errorCode).toBe(ErrorCode.INVALID_RECORD);
        // A plain producer's batch (base offset 0) goes to the log end.
        expect(await send("placed", buildBatch({ records: [rec("c")] }))).toMatchObject({ errorCode: 0, baseOffset: 14n });
        // Without the config a base offset or holes are refused as Kafka refuses them.
        expect((await send("unplaced", holed())).errorCode).toBe(ErrorCode.INVALID_RECORD);
      } finally {
        c.close();
      }
      const seen = await consumeCommitted(dst.bootstrap, "placed");
      expect(seen.map(([, o, k]) => [o, k])).toEqual([[10, "a"], [13, "b"], [14, "c"]]);
    },
    CLIENT_TEST_TIMEOUT,
  );

  test(
    "a batch placed beyond 2^31 past the log end gets a segment of its own; kill -9 and restart keep it",
    async () => {
      const b = await spawnBroker();
      try {
        await ok(["topic", "create", "far", "-p", "1", "-c", "klite.mirror.preserve.offsets=true", "-b", b.bootstrap]);
        const produce = async (batch: Uint8Array) => {
          const c = new KafkaClient(b.bootstrap);
          try {
            return (await (await c.anyBroker()).send(Produce, null, { acks: -1, timeoutMs: 10_000, transactionalId: null, topicData: [{ name: "far", partitionData: [{ index: 0, records: batch }] }] })).responses[0]!.partitionResponses[0]!;
          } finally {
            c.close();
          }
        };
        const far = 5_000_000_000;
        expect(await produce(buildBatch({ records: [{ key: "x", value: "first" }], baseOffset: far }))).toMatchObject({ errorCode: 0, baseOffset: BigInt(far) });
        expect(await produce(buildBatch({ records: [{ key: "y", value: "second" }], baseOffset: far + 10 }))).toMatchObject({ errorCode: 0, baseOffset: BigInt(far + 10) });
        await b.kill9();
        const again = await b.restart();
        expect(await produce(buildBatch({ records: [{ key: "z", value: "third" }] }))).toMatchObject({ errorCode: 0, baseOffset: BigInt(far + 11) });
        const seen = await consumeCommitted(again.bootstrap, "far");
        expect(seen.map(([, o, k]) => [o, k])).toEqual([[far, "x"], [far + 10, "y"], [far + 11, "z"]]);
      } finally {
        await b.cleanup();
      }
    },
    CLIENT_TEST_TIMEOUT,
  );

  test("security settings and unknown settings are usage errors", async () => {
    const r = await klite(mirrorArgs(".*", "--source-config", "security.protocol=SASL_SSL"));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("TLS and SASL are not supported");
    const u = await klite(mirrorArgs(".*", "--target-config", "linger.ms=5"));
    expect(u.code).toBe(2);
    expect((await klite(["mirror", "--source", src.bootstrap])).code).toBe(2);
  });
});
