// Nothing acknowledged is lost: produce with acks=all through a real client,
// kill -9 the broker process, restart it on the same data dir, and read back
// exactly what was acknowledged. A log file torn mid-batch recovers to the
// last whole batch.

import { describe, expect, test } from "bun:test";
import { readdirSync, truncateSync, appendFileSync } from "node:fs";
import { join } from "node:path";
import { spawnBroker } from "../helpers/broker.ts";
import { CLIENT_TEST_TIMEOUT, kcat, missing, py as pyScript } from "../helpers/clients.ts";

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
