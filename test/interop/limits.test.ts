// Abuse over raw TCP against a broker in its own process (so its RSS is its
// own): 100 connections each holding a half-sent 50 MB frame, 2,000 idle
// connections and a client sending a byte a second, all at once, while a
// well-behaved producer keeps producing; then the connection limits one by
// one. The broker must keep answering, stay under a memory bound, drop the
// abusers by its limits and give their memory back.

import { describe, expect, test } from "bun:test";
import { execSync } from "node:child_process";
import { spawnBroker } from "../helpers/broker.ts";
import { halfSentFrames, idleConnections, rssMb, spawnProbe, tricklingClient } from "../helpers/abuse.ts";
import { connectWire } from "../helpers/wire-client.ts";
import { waitFor } from "../helpers/run.ts";
import { ErrorCode } from "../../src/protocol/errors.ts";

const IDLE = 2000;
/** Budget 256 MiB of request memory, Bun's own ~60 MB, read buffers of 2,100 connections: 700 MB is generous and far below the 2.5 GB the same load took without limits. */
const RSS_BOUND_MB = 700;

describe("abuse", () => {
  test("half-sent 50 MB frames, 2,000 idle connections and a one-byte-a-second client: the broker answers, stays bounded, drops them and gives memory back", async () => {
    const fds = Number(execSync("ulimit -n", { shell: "/bin/bash" }).toString().trim());
    // Both ends of every connection live on this machine: the test's and the broker's.
    expect(fds).toBeGreaterThan(IDLE + 500);
    const broker = await spawnBroker({
      args: ["--max-request-bytes", String(64 << 20), "--request-read-timeout-ms", "4000", "--connections-max-idle-ms", "6000", "--log-level", "warn"],
    });
    try {
      const pid = broker.proc.pid;
      const probe = await spawnProbe(broker.port, "probe");
      const began = performance.now();
      const phase: string[] = [];
      const mark = (what: string) => phase.push(`${what} at ${Math.round(performance.now() - began)} ms`);
      await waitFor(() => probe.requests() > 0, 10_000, "the producer's first answer");
      const idle = await idleConnections(broker.port, IDLE);
      const trickle = await tricklingClient(broker.port, 1000);
      mark("idle and trickler connected");
      const half = await halfSentFrames(broker.port, 100, 50 << 20, 25 << 20);
      mark("half frames connected");
      let peak = 0;
      // The frames are never finished: the read timeout closes every one of them, and the trickler.
      await waitFor(
        () => {
          peak = Math.max(peak, rssMb(pid));
          return half.open() === 0 && trickle.open() === 0;
        },
        30_000,
        "half-sent frames and trickler closed by the read timeout",
      );
      mark("half frames closed");
      // Then the idle ones, by the idle timeout.
      await waitFor(
        () => {
          peak = Math.max(peak, rssMb(pid));
          return idle.open() === 0;
        },
        30_000,
        "idle connections closed",
      );
      mark("idle closed");
      await waitFor(() => probe.requests() >= 100, 20_000, "the producer got answers");
      const result = await probe.stop();
      // Memory for requests goes back once they are gone (a GC follows large releases).
      let after = rssMb(pid);
      await waitFor(() => (after = rssMb(pid)) < 250, 15_000, `RSS back under 250 MB (now ${after})`);
      console.log(`abuse: well-behaved producer ${result.requests} produces, p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms, max ${result.max.toFixed(0)} ms; broker RSS peak ${peak.toFixed(0)} MB, after ${after.toFixed(0)} MB; ${(half.sent() / 1048576).toFixed(0)} MB of half frames sent; produces over 200 ms (start, latency) ${JSON.stringify(result.slow)}; ${phase.join(", ")}`);
      expect(result.errors).toBe(0);
      expect(result.requests).toBeGreaterThan(50);
      expect(peak).toBeLessThan(RSS_BOUND_MB);
      expect(broker.proc.exitCode).toBeNull();
      idle.close();
      half.close();
      trickle.close();
    } finally {
      await broker.cleanup();
    }
  }, 120_000);

  test("--max-connections-per-ip and --max-connections refuse connections beyond them; a well-behaved client keeps producing; slots free up again", async () => {
    const broker = await spawnBroker({ args: ["--max-connections-per-ip", "5", "--log-level", "warn"] });
    const other = await spawnBroker({ args: ["--max-connections", "3", "--log-level", "warn"] });
    try {
      const probe = await spawnProbe(broker.port, "probe");
      await waitFor(() => probe.requests() > 0, 10_000, "the producer's first answer");
      // The probe holds one of the five; four more fit, then every further one is closed.
      const four = await idleConnections(broker.port, 4);
      const refused = await idleConnections(broker.port, 300);
      await waitFor(() => refused.open() === 0, 20_000, "connections over the per-ip limit closed");
      const again = await idleConnections(broker.port, 300);
      await waitFor(() => again.open() === 0 && probe.requests() >= 100, 20_000, "more connections refused while the producer goes on");
      expect(four.open()).toBe(4);
      const result = await probe.stop();
      console.log(`limits: well-behaved producer while 600 connections were refused: ${result.requests} produces, p99 ${result.p99.toFixed(1)} ms`);
      expect(result.errors).toBe(0);
      four.close();
      // The broker-wide limit, and a slot coming back once a connection leaves.
      const three = await idleConnections(other.port, 3);
      const fourth = await idleConnections(other.port, 1);
      await waitFor(() => fourth.open() === 0, 10_000, "fourth connection closed by --max-connections");
      three.close();
      await waitFor(async () => {
        const w = await connectWire(other.port);
        try {
          await w.call(18, 3, { clientSoftwareName: "t", clientSoftwareVersion: "1" });
          return true;
        } catch {
          return false;
        } finally {
          w.close();
        }
      }, 10_000, "a connection is accepted again once the others are gone");
    } finally {
      await broker.cleanup();
      await other.cleanup();
    }
  }, 60_000);
});

describe("caps on what a request creates", () => {
  test("partitions per topic, topics and partitions per request: POLICY_VIOLATION, nothing created", async () => {
    const broker = await spawnBroker({ args: ["--max-partitions-per-topic", "50", "--max-topics-per-request", "3", "--max-partitions-per-request", "60"] });
    const w = await connectWire(broker.port);
    try {
      type Res = { topics: { name: string; errorCode: number; errorMessage: string | null }[] };
      const create = (topics: [string, number][]) =>
        w.call<Res>(19, 7, { topics: topics.map(([name, numPartitions]) => ({ name, numPartitions, replicationFactor: 1, assignments: [], configs: [] })), timeoutMs: 5000, validateOnly: false });
      const big = await create([["big", 51], ["ok1", 2]]);
      expect(big.topics.map((t) => [t.name, t.errorCode])).toEqual([["big", ErrorCode.POLICY_VIOLATION], ["ok1", ErrorCode.NONE]]);
      const many = await create([["a", 1], ["b", 1], ["c", 1], ["d", 1]]);
      expect(many.topics.every((t) => t.errorCode === ErrorCode.POLICY_VIOLATION)).toBe(true);
      const total = await create([["x", 40], ["y", 40]]);
      expect(total.topics.every((t) => t.errorCode === ErrorCode.POLICY_VIOLATION)).toBe(true);
      const grow = await w.call<{ results: { name: string; errorCode: number }[] }>(37, 3, { topics: [{ name: "ok1", count: 51, assignments: null }], timeoutMs: 5000, validateOnly: false });
      expect(grow.results[0]!.errorCode).toBe(ErrorCode.POLICY_VIOLATION);
      const md = await w.call<{ topics: { name: string; partitions: unknown[] }[] }>(3, 12, { topics: null, allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
      expect(md.topics.map((t) => t.name).sort()).toEqual(["ok1"]);
      expect(md.topics[0]!.partitions.length).toBe(2);
    } finally {
      w.close();
      await broker.cleanup();
    }
  }, 60_000);
});
