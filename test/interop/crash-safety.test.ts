// Nothing acknowledged is lost: produce with acks=all through a real client,
// kill -9 the broker process, restart it on the same data dir, and read back
// exactly what was acknowledged. A log file torn mid-batch recovers to the
// last whole batch.

import { describe, expect, test } from "bun:test";
import { readdirSync, truncateSync, appendFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { spawnBroker } from "../helpers/broker.ts";
import { CLIENT_TEST_TIMEOUT, CLIENTS, kcat, missing, PY, py as pyScript } from "../helpers/clients.ts";
import { waitFor } from "../helpers/run.ts";

const py = (bootstrap: string, ...args: string[]) => pyScript("core.py", bootstrap, args);

type Delivered = { partition: number; offset: number; key: string };

describe.concurrent("crash safety", () => {
  test.skipIf(missing("python"))("acks=all records survive kill -9 and restart with the same offsets, keys and values", async () => {
    let b = await spawnBroker();
    try {
      expect(await py(b.bootstrap, "admin", "create", "durable")).toEqual({ durable: "ok" });
      const n = 3000;
      const r = await py(b.bootstrap, "produce", "durable", String(n), "lz4", "3", "true");
      expect(r.unflushed).toBe(0);
      const delivered: Delivered[] = r.delivered;
      expect(delivered).toHaveLength(n);
      await b.kill9();
      b = await b.restart();
      for (const p of [0, 1, 2]) {
        const expected = delivered.filter((d) => d.partition === p).sort((x, y) => x.offset - y.offset);
        const got = await py(b.bootstrap, "consume", "durable", String(p), "0", String(expected.length));
        expect((await py(b.bootstrap, "offsets_for_times", "durable", String(p), "0")).high).toBe(expected.length);
        expect(got.map((m: { offset: number; key: string }) => [m.offset, m.key])).toEqual(expected.map((d) => [d.offset, d.key]));
        for (const m of got) expect(m.value).toBe(`value-${m.key.slice(1)}-` + "x".repeat(Number(m.key.slice(1)) % 50));
      }
    } finally {
      await b.cleanup();
    }
  }, CLIENT_TEST_TIMEOUT);

  test.skipIf(missing("python"))("kill -9 in the middle of a produce stream: every acknowledged record is there after restart", async () => {
    let b = await spawnBroker();
    let producer: Subprocess<"ignore", "pipe", "pipe"> | undefined;
    try {
      expect(await py(b.bootstrap, "admin", "create", "midstream")).toEqual({ midstream: "ok" });
      producer = Bun.spawn([PY, join(CLIENTS, "py/core.py"), b.bootstrap, "produce_stream", "midstream", "1000000", "3"], { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
      const stream = producer.stdout;
      const acked: Delivered[] = [];
      const reading = (async () => {
        let rest = "";
        for await (const chunk of stream) {
          rest += new TextDecoder().decode(chunk);
          const lines = rest.split("\n");
          rest = lines.pop()!;
          for (const l of lines) if (l.trim()) acked.push(JSON.parse(l) as Delivered);
        }
      })();
      await waitFor(() => acked.length >= 4000, 90_000, "4000 acknowledged records");
      await b.kill9();
      // Acks already on their way when the broker died still count: read until the producer is gone.
      producer.kill(9);
      await producer.exited;
      await reading;
      b = await b.restart();
      let inLog = 0;
      for (const p of [0, 1, 2]) {
        const mine = acked.filter((d) => d.partition === p);
        const { high } = await py(b.bootstrap, "offsets_for_times", "midstream", String(p), "0");
        inLog += high;
        expect(high).toBeGreaterThanOrEqual(Math.max(...mine.map((d) => d.offset)) + 1);
        const got: { offset: number; key: string; value: string }[] = await py(b.bootstrap, "consume", "midstream", String(p), "0", String(high));
        expect(got.map((m) => m.offset)).toEqual(Array.from({ length: high }, (_, i) => i));
        for (const d of mine) {
          const m = got[d.offset]!;
          expect(m.key).toBe(d.key);
          expect(m.value).toBe(`value-${d.key.slice(1)}-` + "x".repeat(Number(d.key.slice(1)) % 50));
        }
      }
      console.log(`kill -9 mid-stream: ${acked.length} records acknowledged, ${inLog} in the log after restart`);
    } finally {
      producer?.kill(9);
      await b.cleanup();
    }
  }, CLIENT_TEST_TIMEOUT);

  test.skipIf(missing("kcat"))("a log file torn mid-batch recovers to the last whole batch", async () => {
    let b = await spawnBroker();
    try {
      // kcat sends one batch per produce call here: three batches of 10 records.
      for (let i = 0; i < 3; i++) {
        const lines = Array.from({ length: 10 }, (_, j) => `k${i * 10 + j}:v${i * 10 + j}`).join("\n") + "\n";
        await kcat(["-b", b.bootstrap, "-P", "-t", "torn", "-K:"], { stdin: lines });
      }
      await b.kill9();
      const dir = join(b.dataDir, "torn-0");
      const log = readdirSync(dir).find((f) => f.endsWith(".log"))!;
      const path = join(dir, log);
      // Find where the last batch starts, cut into it and leave some garbage behind, as a torn write would.
      const bytes = new Uint8Array(await Bun.file(path).arrayBuffer());
      const v = new DataView(bytes.buffer);
      let pos = 0;
      let lastPos = 0;
      while (pos < bytes.length) {
        lastPos = pos;
        pos += 12 + v.getInt32(pos + 8);
      }
      const lastBase = Number(v.getBigInt64(lastPos));
      expect(lastBase).toBeGreaterThan(0);
      truncateSync(path, lastPos + 30);
      appendFileSync(path, new Uint8Array([1, 2, 3]));
      b = await b.restart();
      const out = await kcat(["-b", b.bootstrap, "-C", "-t", "torn", "-e", "-f", "%o %k\n"]);
      const lines = out.trim().split("\n");
      expect(lines).toEqual(Array.from({ length: lastBase }, (_, i) => `${i} k${i}`));
      // The log end is back at the torn batch's base: the next produce gets that offset.
      await kcat(["-b", b.bootstrap, "-P", "-t", "torn", "-K:"], { stdin: "again:yes\n" });
      const after = await kcat(["-b", b.bootstrap, "-C", "-t", "torn", "-o", String(lastBase), "-e", "-f", "%o %k\n"]);
      expect(after.trim()).toBe(`${lastBase} again`);
    } finally {
      await b.cleanup();
    }
  }, CLIENT_TEST_TIMEOUT);

  test.skipIf(missing("kcat"))("SIGTERM shuts down gracefully with exit code 0", async () => {
    const b = await spawnBroker();
    try {
      await kcat(["-b", b.bootstrap, "-P", "-t", "bye"], { stdin: "x\n" });
      expect(await b.stop()).toBe(0);
    } finally {
      await b.cleanup();
    }
  }, CLIENT_TEST_TIMEOUT);
});
