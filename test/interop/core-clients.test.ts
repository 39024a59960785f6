// The data path with real clients over TCP: kcat and confluent-kafka-python
// (librdkafka 2.0.2), KafkaJS 2.2.4, and the current librdkafka through
// @confluentinc/kafka-javascript (run under node). Each test has its own
// broker on port 0 with its own data dir, so they run side by side.

import { describe, expect, test } from "bun:test";
import { withInProcessBroker } from "../helpers/broker.ts";
import { CLIENT_TEST_TIMEOUT, kcat, missing, nodeClient, py } from "../helpers/clients.ts";

const CODECS = ["none", "gzip", "snappy", "lz4", "zstd"];

type Delivered = { partition: number; offset: number; key: string; error?: string };
type Consumed = { offset: number; key: string | null; value: string | null; headers: [string, string][]; timestamp: number };
type Ckjs<T> = { result: T; sent: Record<string, number> };

const ckjs = <T>(bootstrap: string, ...args: string[]) => nodeClient<Ckjs<T>>("ckjs", "core.mjs", bootstrap, args);
const kjs = (bootstrap: string, ...args: string[]) => nodeClient("kafkajs", "core.mjs", bootstrap, args);
const pyCore = (bootstrap: string, ...args: string[]) => py("core.py", bootstrap, args);

describe.concurrent("kcat", () => {
  test.skipIf(missing("kcat"))("metadata, produce with keys and headers in every codec, consume back identical", () =>
    withInProcessBroker({}, async (b) => {
      const meta = JSON.parse(await kcat(["-b", b.bootstrap, "-L", "-J"]));
      expect(meta.brokers).toEqual([{ id: 1, name: b.bootstrap }]);
      const lines: string[] = [];
      for (const z of CODECS) {
        const input = Array.from({ length: 20 }, (_, i) => `${z}-k${i}:${z}-v${i}-${"é".repeat(i)}\t€`);
        lines.push(...input);
        await kcat(["-b", b.bootstrap, "-P", "-t", "kc", "-K:", "-H", `codec=${z}`, "-H", "n=1", "-z", z], { stdin: input.join("\n") + "\n" });
      }
      const out = await kcat(["-b", b.bootstrap, "-C", "-t", "kc", "-e", "-J"]);
      const msgs = out.trim().split("\n").map((l) => JSON.parse(l));
      expect(msgs.map((m) => `${m.key}:${m.payload}`)).toEqual(lines);
      expect(msgs.map((m) => m.offset)).toEqual(lines.map((_, i) => i));
      expect(msgs.map((m) => m.headers)).toEqual(CODECS.flatMap((z) => Array(20).fill(["codec", z, "n", "1"])));
      const meta2 = JSON.parse(await kcat(["-b", b.bootstrap, "-L", "-J", "-t", "kc"]));
      expect(meta2.topics).toHaveLength(1);
      expect(meta2.topics[0]).toMatchObject({ topic: "kc", partitions: [{ partition: 0, leader: 1 }] });
    }),
    CLIENT_TEST_TIMEOUT,
  );
});

describe.concurrent("confluent-kafka-python", () => {
  test.skipIf(missing("python"))("acks=all in each codec; consume with assign and with seek; offsets_for_times", () =>
    withInProcessBroker({}, async (b) => {
      expect(await pyCore(b.bootstrap, "admin", "create", "p1")).toEqual({ p1: "ok" });
      for (const z of CODECS) {
        const r = await pyCore(b.bootstrap, "produce", "p1", "90", z, "3", z === "lz4" ? "true" : "false");
        expect(r.unflushed).toBe(0);
        expect(r.delivered.filter((d: Delivered) => d.error)).toEqual([]);
        expect(r.delivered).toHaveLength(90);
      }
      // 5 codecs × 30 records per partition: partition 0 holds offsets 0..149, record i of each round at i/3.
      const got: Consumed[] = await pyCore(b.bootstrap, "consume", "p1", "0", "7", "10");
      expect(got.map((m) => m.offset)).toEqual([7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
      expect(got[0]).toMatchObject({ key: "k21", value: "value-21-" + "x".repeat(21), headers: [["h", "21"]], timestamp: 1_700_000_021_000 });
      const sought: Consumed[] = await pyCore(b.bootstrap, "consume", "p1", "0", "100", "5", "seek");
      expect(sought.map((m) => m.offset)).toEqual([100, 101, 102, 103, 104]);
      expect(sought[0]!.key).toBe("k30"); // offset 100 = round 3 (lz4), record 30
      const oft = await pyCore(b.bootstrap, "offsets_for_times", "p1", "0", String(1_700_000_000_000 + 45_000));
      expect(oft).toEqual({ offset: 15, low: 0, high: 150 });
      const past = await pyCore(b.bootstrap, "offsets_for_times", "p1", "0", String(1_800_000_000_000));
      expect(past.offset).toBe(-1);
    }),
    CLIENT_TEST_TIMEOUT,
  );

  test.skipIf(missing("python"))("binary keys, values and headers come back byte for byte in each codec", () =>
    withInProcessBroker({}, async (b) => {
      const results = await Promise.all(CODECS.map((z) => pyCore(b.bootstrap, "binary", `bin-${z}`, "60", z)));
      for (const r of results) expect(r).toEqual({ unflushed: 0, errors: [], sent: 60, received: 60, mismatches: [] });
    }),
    CLIENT_TEST_TIMEOUT,
  );

  test.skipIf(missing("python"))("AdminClient create/delete and list_topics", () =>
    withInProcessBroker({}, async (b) => {
      expect(await pyCore(b.bootstrap, "admin", "create", "a1", "a2")).toEqual({ a1: "ok", a2: "ok" });
      expect(await pyCore(b.bootstrap, "admin", "create", "a1")).toEqual({ a1: "TOPIC_ALREADY_EXISTS" });
      const md = await pyCore(b.bootstrap, "metadata");
      expect(md.brokers).toEqual([[1, "127.0.0.1", b.port]]);
      expect(md.topics).toEqual({ a1: { partitions: [0, 1, 2], error: null }, a2: { partitions: [0, 1, 2], error: null } });
      expect(await pyCore(b.bootstrap, "admin", "delete", "a2")).toEqual({ a2: "ok" });
      expect(await pyCore(b.bootstrap, "admin", "delete", "a2")).toEqual({ a2: "UNKNOWN_TOPIC_OR_PART" });
      expect(await pyCore(b.bootstrap, "admin", "list")).toEqual(["a1"]);
    }),
    CLIENT_TEST_TIMEOUT,
  );
});

describe.concurrent("KafkaJS", () => {
  test.skipIf(missing("kafkajs"))("admin create/list/delete, produce plain and gzip, offsets, consume from the beginning and after seek", () =>
    withInProcessBroker({}, async (b) => {
      expect(await kjs(b.bootstrap, "admin", "create", "j1")).toBe(true);
      for (const codec of ["none", "gzip"]) {
        const sent = await kjs(b.bootstrap, "produce", "j1", "25", codec, "2");
        expect(sent.every((s: { errorCode: number }) => s.errorCode === 0)).toBe(true);
      }
      const offsets = await kjs(b.bootstrap, "admin", "offsets", "j1");
      expect(offsets.map((o: { partition: number; high: string; low: string }) => [o.partition, o.low, o.high]).sort()).toEqual([
        [0, "0", "26"],
        [1, "0", "24"],
      ]);
      // A consumer group of its own reads everything from the beginning.
      const all = await kjs(b.bootstrap, "consume", "j1", "50");
      expect(all).toHaveLength(50);
      const p0 = all.filter((m: { partition: number }) => m.partition === 0);
      expect(p0.map((m: { offset: number }) => m.offset)).toEqual(Array.from({ length: 26 }, (_, i) => i));
      expect(p0[1]).toMatchObject({ key: "k2", value: "value-2", headers: { h: "2" }, timestamp: 1_700_000_000_002 });
      // seek() to an offset in partition 1.
      const sought = await kjs(b.bootstrap, "consume", "j1", "4", "1", "20");
      expect(sought.map((m: { partition: number; offset: number }) => [m.partition, m.offset])).toEqual([
        [1, 20],
        [1, 21],
        [1, 22],
        [1, 23],
      ]);
      expect(await kjs(b.bootstrap, "admin", "list")).toEqual(["j1"]);
      expect(await kjs(b.bootstrap, "admin", "delete", "j1")).toBe("ok");
      expect(await kjs(b.bootstrap, "admin", "list")).toEqual([]);
    }),
    CLIENT_TEST_TIMEOUT,
  );
});

describe.concurrent("current librdkafka (@confluentinc/kafka-javascript)", () => {
  test.skipIf(missing("ckjs"))("produce in each codec, consume with topic ids, admin; newest request versions", () =>
    withInProcessBroker({}, async (b) => {
      const created = await ckjs<Record<string, string>>(b.bootstrap, "admin", "create", "c1", "c2");
      expect(created.result).toEqual({ c1: "ok", c2: "ok" });
      let n = 0;
      const sent: Record<string, number> = {};
      for (const z of CODECS) {
        const r = await ckjs<Delivered[]>(b.bootstrap, "produce", "c1", "40", z, "2");
        expect(r.result.filter((d) => d.error)).toEqual([]);
        expect(r.result).toHaveLength(40);
        n += r.result.filter((d) => d.partition === 0).length;
        Object.assign(sent, r.sent);
      }
      expect(n).toBe(100);
      const got = await ckjs<Consumed[]>(b.bootstrap, "consume", "c1", "0", "0", String(n));
      expect(got.result.map((m) => m.offset)).toEqual(Array.from({ length: n }, (_, i) => i));
      expect(got.result[1]).toMatchObject({ key: "k2", value: "value-2", headers: [["h", "2"]], timestamp: 1_700_000_000_002 });
      Object.assign(sent, got.sent);
      expect((await ckjs(b.bootstrap, "admin", "delete", "c2")).result).toEqual({ c2: "ok" });
      expect((await ckjs(b.bootstrap, "admin", "list")).result).toEqual(["c1"]);
      // The newest versions librdkafka 2.15 knows were negotiated: Metadata v13 and Fetch v13+ (topic ids).
      expect(sent.Metadata).toBeGreaterThanOrEqual(13);
      expect(sent.Fetch).toBeGreaterThanOrEqual(13);
      expect(sent.Produce).toBeGreaterThanOrEqual(9);
      expect(sent.ApiVersion).toBe(3);
    }),
    CLIENT_TEST_TIMEOUT,
  );
});
