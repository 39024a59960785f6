// Power cuts through the crash simulator (test/helpers/crash-sim.ts), with
// real clients: kill -9 the broker, cut every file back to what its last
// fsync made durable (torn tails of garbage beyond), restart on it.
// --fsync group: every acknowledged record is there, and no consumer ever
// saw a record that the cut took back (the high watermark only covers
// fsynced data). --fsync never: the same cut takes acknowledged and consumed
// records, which is what that mode promises (and shows the checks can fail).

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { crashSim, type CrashSim } from "../helpers/crash-sim.ts";
import type { SpawnedBroker } from "../helpers/broker.ts";
import { CLIENT_TEST_TIMEOUT, CLIENTS, missing, nodeClient, PY, py as pyScript } from "../helpers/clients.ts";
import type { Subprocess } from "bun";
import { collectJsonLines, waitFor } from "../helpers/run.ts";

const py = (bootstrap: string, ...args: string[]) => pyScript("core.py", bootstrap, args);

type Rec = { partition: number; offset: number; key: string };
const id = (r: Rec) => `${r.partition}/${r.offset}/${r.key}`;

function streaming(bootstrap: string, ...args: string[]): { proc: Subprocess<"ignore", "pipe", "pipe">; lines: Rec[]; ended: Promise<void> } {
  const proc = Bun.spawn([PY, join(CLIENTS, "py/core.py"), bootstrap, ...args], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const lines: Rec[] = [];
  return { proc, lines, ended: collectJsonLines(proc.stdout, lines) };
}

/** Every record of `topic` after the restart. */
async function readAll(b: SpawnedBroker, topic: string, partitions: number): Promise<Set<string>> {
  const present = new Set<string>();
  for (let p = 0; p < partitions; p++) {
    const { high } = await py(b.bootstrap, "offsets_for_times", topic, String(p), "0");
    const got: { offset: number; key: string }[] = high > 0 ? await py(b.bootstrap, "consume", topic, String(p), "0", String(high)) : [];
    expect(got.map((m) => m.offset)).toEqual(Array.from({ length: high }, (_, i) => i));
    for (const m of got) present.add(id({ partition: p, offset: m.offset, key: m.key }));
  }
  return present;
}

/**
 * A producer and a consumer stream through a broker that is power-cut
 * mid-stream: after kill -9, or (`graceful`) after a SIGTERM shutdown.
 * `extra`: more broker flags (small segments, so that rolls happen throughout).
 */
async function midStreamCut(sim: CrashSim, fsync: "group" | "never", topic: string, opts: { extra?: string[]; graceful?: boolean } = {}) {
  // A slow disk (fsyncs of segments finish 100 ms late), so the kill lands while
  // written records wait for their fsync; reads of them would be reads of lost records.
  sim.setFaults(["sync delay:100 .log"]);
  const args = ["--fsync", fsync, ...(opts.extra ?? [])];
  let b = await sim.spawn({ args });
  const procs: ReturnType<typeof streaming>[] = [];
  try {
    expect(await py(b.bootstrap, "admin", "create", topic)).toEqual({ [topic]: "ok" });
    const consumer = streaming(b.bootstrap, "consume_stream", topic, "3");
    // Paced, so that the consumer keeps up and reads each record as soon as it may.
    const producer = streaming(b.bootstrap, "produce_stream", topic, "1000000", "3", "3000");
    procs.push(consumer, producer);
    await waitFor(() => producer.lines.length >= 2000 && consumer.lines.length >= 2000, 90_000, "2000 acknowledged and 2000 consumed records");
    if (opts.graceful) expect(await b.stop()).toBe(0);
    else await b.kill9();
    // Acks and records already on their way when the broker died still count: read until the clients are gone.
    for (const p of procs) p.proc.kill(9);
    await Promise.all(procs.map((p) => p.ended));
    const cut = sim.powerCut({ torn: "garbage", seed: 42 });
    sim.setFaults([]);
    b = await sim.spawn({ args });
    const present = await readAll(b, topic, 3);
    const lostAcked = producer.lines.filter((r) => !present.has(id(r)));
    const lostSeen = consumer.lines.filter((r) => !present.has(id(r)));
    const cutBytes = cut.bytesBefore - cut.bytesAfter;
    console.log(
      `power cut, --fsync ${fsync}${opts.extra ? " " + opts.extra.join(" ") : ""}${opts.graceful ? " after a clean shutdown" : ""}: ${producer.lines.length} acknowledged, ${consumer.lines.length} consumed, ${present.size} in the log after; ` +
        `lost ${lostAcked.length} acknowledged and ${lostSeen.length} consumed; the cut took ${cutBytes} bytes`,
    );
    return { lostAcked, lostSeen, acked: producer.lines, stderr: b.stderr() };
  } finally {
    for (const p of procs) p.proc.kill(9);
    await b.cleanup();
  }
}

describe.concurrent("power cut", () => {
  const survivors: [name: string, topic: string, opts: Parameters<typeof midStreamCut>[3]][] = [
    ["--fsync group: after a power cut mid-stream, every acknowledged record is there and no consumer saw a lost one", "cut-group", {}],
    ["--fsync group with a segment roll every 16 KiB: nothing acknowledged or consumed is lost across rolls", "cut-rolls", { extra: ["--segment-bytes", "16384"] }],
    ["--fsync group: a power cut right after a clean shutdown loses nothing, and the next start is clean", "cut-clean", { graceful: true }],
  ];
  for (const [name, topic, opts] of survivors) {
    test.skipIf(missing("python"))(name, async () => {
      const sim = crashSim();
      try {
        const { lostAcked, lostSeen, stderr } = await midStreamCut(sim, "group", topic, opts);
        expect(lostAcked).toEqual([]);
        expect(lostSeen).toEqual([]);
        if (opts?.graceful) expect(stderr).not.toContain("WARN recovery of");
      } finally {
        sim.cleanup();
      }
    }, CLIENT_TEST_TIMEOUT);
  }

  test.skipIf(missing("python"))("recovery points from an earlier run are used after a power cut, and every acknowledged record survives", async () => {
    const sim = crashSim();
    let b = await sim.spawn();
    try {
      expect(await py(b.bootstrap, "admin", "create", "cut-rp")).toEqual({ "cut-rp": "ok" });
      const acked: Rec[] = [];
      const produce = async () => {
        const r = await py(b.bootstrap, "produce", "cut-rp", "300", "none", "3");
        expect(r.delivered).toHaveLength(300);
        acked.push(...(r.delivered as Rec[]));
      };
      await produce();
      // A clean shutdown records every partition's recovery point; the next run appends after them.
      expect(await b.stop()).toBe(0);
      // Kafka's recovery-point-offset-checkpoint: version, count, then "topic partition offset"; a clean stop covers every record.
      const checkpoint = readFileSync(join(sim.dataDir, "recovery-point-offset-checkpoint"), "utf8");
      expect(checkpoint).toMatch(/^0\n3\ncut-rp 0 \d+\ncut-rp 1 \d+\ncut-rp 2 \d+\n$/);
      expect(checkpoint.split("\n").slice(2, 5).reduce((sum, line) => sum + Number(line.split(" ")[2]), 0)).toBe(300);
      b = await sim.spawn();
      await produce();
      await b.kill9();
      sim.powerCut({ torn: "garbage", seed: 11 });
      b = await sim.spawn();
      const present = await readAll(b, "cut-rp", 3);
      expect(acked.filter((r) => !present.has(id(r)))).toEqual([]);
    } finally {
      await b.cleanup();
      sim.cleanup();
    }
  }, CLIENT_TEST_TIMEOUT);

  test.skipIf(missing("python"))("--fsync never: the same power cut takes acknowledged and consumed records", async () => {
    const sim = crashSim();
    try {
      const { lostAcked, lostSeen } = await midStreamCut(sim, "never", "cut-never");
      expect(lostAcked.length).toBeGreaterThan(0);
      expect(lostSeen.length).toBeGreaterThan(0);
    } finally {
      sim.cleanup();
    }
  }, CLIENT_TEST_TIMEOUT);

  test.skipIf(missing("kafkajs", "ckjs", "python"))("KafkaJS and current librdkafka acks=all records survive a power cut right after their acks", async () => {
    const sim = crashSim();
    let b = await sim.spawn();
    let consumer: ReturnType<typeof streaming> | undefined;
    try {
      // Both produce at once, each to its own 2-partition topic, while a consumer reads one of them.
      expect(await nodeClient("kafkajs", "core.mjs", b.bootstrap, ["admin", "create", "cut-kjs"])).toBe(true);
      expect(await nodeClient("ckjs", "core.mjs", b.bootstrap, ["admin", "create", "cut-ckjs"])).toMatchObject({ result: { "cut-ckjs": "ok" } });
      consumer = streaming(b.bootstrap, "consume_stream", "cut-ckjs", "2");
      const n = 2000;
      const [kjs, ckjs] = await Promise.all([
        nodeClient<{ partition: number; baseOffset: number; errorCode: number }[]>("kafkajs", "core.mjs", b.bootstrap, ["produce", "cut-kjs", String(n), "none", "2"]),
        nodeClient<{ result: (Rec | { error: string })[] }>("ckjs", "core.mjs", b.bootstrap, ["produce", "cut-ckjs", String(n), "none", "2"]),
      ]);
      await b.kill9();
      consumer.proc.kill(9);
      await consumer.ended;
      sim.powerCut({ torn: "garbage", seed: 3 });
      b = await sim.spawn();

      // KafkaJS answers per partition: record i went to partition i % 2, in order from its base offset.
      expect(kjs.every((r) => r.errorCode === 0)).toBe(true);
      const kjsAcked: Rec[] = [];
      for (let i = 0; i < n; i++) {
        const p = i % 2;
        kjsAcked.push({ partition: p, offset: kjs.find((r) => r.partition === p)!.baseOffset + Math.floor(i / 2), key: `k${i}` });
      }
      const ckjsAcked = ckjs.result.filter((r): r is Rec => !("error" in r));
      expect(ckjsAcked).toHaveLength(n);

      const kjsPresent = await readAll(b, "cut-kjs", 2);
      const ckjsPresent = await readAll(b, "cut-ckjs", 2);
      expect(kjsAcked.filter((r) => !kjsPresent.has(id(r)))).toEqual([]);
      expect(ckjsAcked.filter((r) => !ckjsPresent.has(id(r)))).toEqual([]);
      expect(consumer.lines.filter((r) => !ckjsPresent.has(id(r)))).toEqual([]);
    } finally {
      consumer?.proc.kill(9);
      await b.cleanup();
      sim.cleanup();
    }
  }, CLIENT_TEST_TIMEOUT);
});
