// The data path with real clients over TCP: kcat and confluent-kafka-python
// (librdkafka 2.0.2), KafkaJS 2.2.4, and the current librdkafka through
// @confluentinc/kafka-javascript (run under node). Each test has its own broker.

import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { inProcessBroker, ROOT } from "../helpers/broker.ts";
import { runOk } from "../helpers/run.ts";

const PY = "/usr/bin/python3";
const CLIENTS = join(ROOT, "test/clients");
const py = async (bootstrap: string, ...args: string[]) => JSON.parse(await runOk([PY, join(CLIENTS, "py/core.py"), bootstrap, ...args], { timeoutMs: 90_000 }));
const ckjs = async (bootstrap: string, ...args: string[]) => JSON.parse(await runOk(["node", join(CLIENTS, "ckjs/core.mjs"), bootstrap, ...args], { cwd: CLIENTS, timeoutMs: 90_000 }));
const kjs = async (bootstrap: string, ...args: string[]) => JSON.parse(await runOk(["node", join(CLIENTS, "kafkajs/core.mjs"), bootstrap, ...args], { cwd: CLIENTS, timeoutMs: 90_000 }));

const CODECS = ["none", "gzip", "snappy", "lz4", "zstd"];

describe.concurrent("real clients", () => {
  test("kcat: metadata, produce with keys and headers in every codec, consume back identical", async () => {
    const b = await inProcessBroker();
    try {
      const meta = JSON.parse(await runOk(["kcat", "-b", b.bootstrap, "-L", "-J"]));
      expect(meta.brokers).toEqual([{ id: 1, name: `${b.bootstrap}` }]);
      const lines: string[] = [];
      for (const z of CODECS) {
        const input = Array.from({ length: 20 }, (_, i) => `${z}-k${i}:${z}-v${i}-${"é".repeat(i)}`);
        lines.push(...input);
        await runOk(["kcat", "-b", b.bootstrap, "-P", "-t", "kc", "-K:", "-H", `codec=${z}`, "-z", z], { stdin: input.join("\n") + "\n" });
      }
      const out = await runOk(["kcat", "-b", b.bootstrap, "-C", "-t", "kc", "-e", "-J"]);
      const msgs = out.trim().split("\n").map((l) => JSON.parse(l));
      expect(msgs.map((m) => `${m.key}:${m.payload}`)).toEqual(lines);
      expect(msgs.map((m) => m.offset)).toEqual(lines.map((_, i) => i));
      expect(msgs[25].headers).toEqual(["codec", "gzip"]);
      const meta2 = JSON.parse(await runOk(["kcat", "-b", b.bootstrap, "-L", "-J", "-t", "kc"]));
      expect(meta2.topics[0].partitions).toHaveLength(1);
    } finally {
      await b.cleanup();
    }
  });

  test("confluent-kafka-python: acks=all in each codec, assign+seek, offsets_for_times, admin", async () => {
    const b = await inProcessBroker();
    try {
      expect(await py(b.bootstrap, "admin", "create", "p1", "p2")).toEqual({ p1: "ok", p2: "ok" });
      expect(await py(b.bootstrap, "admin", "create", "p1")).toEqual({ p1: "TOPIC_ALREADY_EXISTS" });
      for (const z of CODECS) {
        const r = await py(b.bootstrap, "produce", "p1", "90", z, "3", z === "lz4" ? "true" : "false");
        expect(r.unflushed).toBe(0);
        expect(r.delivered.filter((d: { error?: string }) => d.error)).toEqual([]);
        expect(r.delivered).toHaveLength(90);
      }
      // 5 codecs × 30 records per partition: partition 0 holds offsets 0..149.
      const got = await py(b.bootstrap, "consume", "p1", "0", "7", "10");
      expect(got.map((m: { offset: number }) => m.offset)).toEqual([7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
      expect(got[0]).toMatchObject({ key: "k21", value: "value-21-" + "x".repeat(21), headers: [["h", "21"]] });
      const oft = await py(b.bootstrap, "offsets_for_times", "p1", "0", String(1_700_000_000_000 + 45_000));
      expect(oft).toEqual({ offset: 15, low: 0, high: 150 });
      expect(await py(b.bootstrap, "admin", "list")).toEqual(["p1", "p2"]);
      expect(await py(b.bootstrap, "admin", "delete", "p2")).toEqual({ p2: "ok" });
      expect(await py(b.bootstrap, "admin", "delete", "p2")).toEqual({ p2: "UNKNOWN_TOPIC_OR_PART" });
      expect(await py(b.bootstrap, "admin", "list")).toEqual(["p1"]);
    } finally {
      await b.cleanup();
    }
  });

  test("KafkaJS: admin create/list/delete, produce with gzip, offsets", async () => {
    const b = await inProcessBroker();
    try {
      expect(await kjs(b.bootstrap, "admin", "create", "j1")).toBe(true);
      const sent = await kjs(b.bootstrap, "produce", "j1", "25", "gzip");
      expect(sent.every((s: { errorCode: number }) => s.errorCode === 0)).toBe(true);
      const offsets = await kjs(b.bootstrap, "admin", "offsets", "j1");
      const total = offsets.reduce((n: number, o: { high: string; low: string }) => n + Number(o.high) - Number(o.low), 0);
      expect(total).toBe(25);
      expect(await kjs(b.bootstrap, "admin", "list")).toEqual(["j1"]);
      expect(await kjs(b.bootstrap, "admin", "delete", "j1")).toBe("ok");
      expect(await kjs(b.bootstrap, "admin", "list")).toEqual([]);
    } finally {
      await b.cleanup();
    }
  });

  test("current librdkafka: produce in each codec, consume with topic ids (Fetch v13+), admin", async () => {
    const b = await inProcessBroker();
    try {
      expect(await ckjs(b.bootstrap, "admin", "create", "c1", "c2")).toEqual({ c1: "ok", c2: "ok" });
      let n = 0;
      for (const z of CODECS) {
        const r = await ckjs(b.bootstrap, "produce", "c1", "40", z);
        expect(r.filter((d: { error?: string }) => d.error)).toEqual([]);
        n += r.filter((d: { partition: number }) => d.partition === 0).length;
      }
      const got = await ckjs(b.bootstrap, "consume", "c1", "0", "0", String(n));
      expect(got).toHaveLength(n);
      expect(got.map((m: { offset: number }) => m.offset)).toEqual(Array.from({ length: n }, (_, i) => i));
      expect(got[0].headers[0][0]).toBe("h");
      expect(await ckjs(b.bootstrap, "admin", "delete", "c2")).toEqual({ c2: "ok" });
      expect(await ckjs(b.bootstrap, "admin", "list")).toEqual(["c1"]);
    } finally {
      await b.cleanup();
    }
  });
});
