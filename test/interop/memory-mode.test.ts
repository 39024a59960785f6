// In-memory mode (`--data-dir :memory:`, `--memory`): real clients over TCP
// against a broker process whose working directory and TMPDIR are empty
// directories, checked to stay empty, and whose open files are checked to
// include no regular file. Produce/fetch, compression, indexes (fetch from an
// offset, by timestamp), transactions (read_committed), a KIP-848 group,
// compaction, retention and topic metadata behave as on disk. Memory stays
// bounded by retention: a topic written well past retention.bytes keeps
// only about retention.bytes in the memory volume, and the broker's RSS stays
// far below what was written.

import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { ROOT, spawnBroker, tempDir, type SpawnedBroker } from "../helpers/broker.ts";
import { CLIENT_TEST_TIMEOUT, kcat, missing, nodeClient, py } from "../helpers/clients.ts";
import { runJson, runOk, waitFor } from "../helpers/run.ts";
import { startBroker } from "../../src/start/bun.ts";

/** Regular files (not sockets, pipes, devices, the runtime's own binary) the process holds open. */
function openRegularFiles(pid: number): string[] {
  const fds = `/proc/${pid}/fd`;
  const out: string[] = [];
  for (const fd of readdirSync(fds)) {
    try {
      const target = readlinkSync(join(fds, fd));
      if (!target.startsWith("/") || target.startsWith("/dev/") || target.startsWith("/proc/")) continue;
      if (statSync(target).isFile() && !target.includes("/bun")) out.push(target);
    } catch {
      // closed while listing
    }
  }
  return out;
}

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m![1]) * 1024;
}

async function metrics(b: SpawnedBroker): Promise<Map<string, number>> {
  const port = /http on port (\d+)/.exec(b.stdout())![1];
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

const cli = (b: SpawnedBroker, ...args: string[]) => runOk([process.execPath, join(ROOT, "src/main.ts"), ...args, "-b", b.bootstrap]);

/** A broker in memory whose cwd and TMPDIR are fresh empty directories; `fn` runs, then both must still be empty. */
async function withMemoryBroker(args: string[], fn: (b: SpawnedBroker) => Promise<void>): Promise<void> {
  const cwd = tempDir("klite-mem-cwd-");
  const tmp = tempDir("klite-mem-tmp-");
  const b = await spawnBroker({ memory: true, cwd, env: { TMPDIR: tmp, BUN_RUNTIME_TRANSPILER_CACHE_PATH: "0" }, args: ["--http-listen", "127.0.0.1:0", ...args] });
  try {
    expect(b.stdout()).toMatch(/data in :memory:\d+/);
    await fn(b);
    expect(openRegularFiles(b.proc.pid)).toEqual([]);
    expect(await b.stop()).toBe(0);
    expect([readdirSync(cwd), readdirSync(tmp)]).toEqual([[], []]);
  } finally {
    await b.cleanup();
    rmSync(cwd, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  }
}

type Rec = [number, number, string];
const byPosition = (rs: Rec[]) => [...rs].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
const recs = (partition: number, first: number, keys: string[]): Rec[] => keys.map((k, i) => [partition, first + i, k]);
const keys = (prefix: string, from: number, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${from + i}`);

describe.concurrent("--memory", () => {
  test.skipIf(missing("kcat", "kafkajs", "ckjs", "python"))(
    "kcat, KafkaJS and the current librdkafka: produce, fetch, indexes, transactions, a KIP-848 group, compaction, retention; nothing on disk",
    () =>
      withMemoryBroker(["--log-cleaner-backoff-ms", "50", "--log-retention-check-interval-ms", "100", "--retention-ms", "-1"], async (b) => {
        // kcat (librdkafka 2.0.2): lz4 batches in, the same records out; then from an offset (the offset index).
        const lines = Array.from({ length: 500 }, (_, i) => `k${i}:v${i}`);
        await kcat(["-b", b.bootstrap, "-P", "-t", "mk", "-K:", "-z", "lz4", "-p", "0", "-X", "batch.num.messages=50"], { stdin: lines.join("\n") + "\n" });
        expect((await kcat(["-b", b.bootstrap, "-C", "-t", "mk", "-e", "-q", "-f", "%k:%s\n"])).trim().split("\n")).toEqual(lines);
        expect((await kcat(["-b", b.bootstrap, "-C", "-t", "mk", "-o", "437", "-e", "-q", "-f", "%o %k\n"])).trim().split("\n")[0]).toBe("437 k437");

        // KafkaJS: produce with timestamps (of 2023: hence --retention-ms -1, or the 100 ms retention check would take them), consume in a group; ListOffsets by timestamp (the time index).
        await nodeClient("kafkajs", "core.mjs", b.bootstrap, ["admin", "create", "kj"]);
        const produced = await nodeClient<{ partition: number; baseOffset: number; errorCode: number }[]>("kafkajs", "core.mjs", b.bootstrap, ["produce", "kj", "40", "gzip", "2"]);
        expect(produced.every((p) => p.errorCode === 0)).toBe(true);
        const consumed = await nodeClient<{ offset: number; key: string }[]>("kafkajs", "core.mjs", b.bootstrap, ["consume", "kj", "40"]);
        expect(consumed.map((r) => r.key).sort()).toEqual(keys("k", 0, 40).sort());
        const byTime = await py<{ low: number; offset: number }>("core.py", b.bootstrap, ["offsets_for_times", "kj", "0", String(1_700_000_000_000 + 10)]);
        expect(byTime.offset).toBe(5); // records 0, 2, 4, ... went to partition 0: record 10 is its sixth

        // The current librdkafka: a transaction committed, one aborted, one committed; read_committed sees only the committed.
        await py("txn.py", b.bootstrap, ["create", "ck-txn", "1"]);
        const txn = await nodeClient<{ result: { partition: number; offset: number; key: string }[] }>("ckjs", "txn.mjs", b.bootstrap, ["txn", "ck-txn", "ck-tx"]);
        const everything: Rec[] = [...recs(0, 0, keys("c", 0, 5)), ...recs(0, 6, keys("a", 0, 5)), ...recs(0, 12, keys("c", 5, 5))];
        expect(txn.result.map((d) => [d.partition, d.offset, d.key])).toEqual(everything);
        const committed = await nodeClient<{ result: Rec[] }>("ckjs", "txn.mjs", b.bootstrap, ["consume", "ck-txn", "read_committed"]);
        expect(byPosition(committed.result)).toEqual([...recs(0, 0, keys("c", 0, 5)), ...recs(0, 12, keys("c", 5, 5))]);

        // A KIP-848 group with a regex subscription (topics created while it runs), then described and deleted.
        const regex = await nodeClient<{ before: string[]; after: string[]; deleted: { groupId: string; errorCode: number }[] }>("ckjs", "groups-consumer.mjs", b.bootstrap, ["regex", "rx", "rxg"]);
        expect([regex.before, regex.after, regex.deleted]).toEqual([["rx-a"], ["rx-a", "rx-b"], [{ groupId: "rxg", errorCode: 0 }]]);

        // Compaction and retention, in memory.
        const small = ["--config", "internal.segment.bytes=4096"];
        await cli(b, "topic", "create", "mc", ...small, "--config", "cleanup.policy=compact", "--config", "min.cleanable.dirty.ratio=0.01");
        await cli(b, "topic", "create", "mr", ...small, "--config", "retention.bytes=8192");
        const updates = Array.from({ length: 2000 }, (_, i) => `u${i % 10}:value-${i}-${"x".repeat(40)}`);
        for (const t of ["mc", "mr"]) await kcat(["-b", b.bootstrap, "-P", "-t", t, "-K:", "-p", "0", "-X", "batch.num.messages=20", "-X", "linger.ms=0"], { stdin: updates.join("\n") + "\n" });
        await waitFor(async () => (await metrics(b)).get("klite_log_cleaner_runs_total")! >= 1, 60_000, "a clean of mc");
        await waitFor(async () => (await metrics(b)).get("klite_log_retention_deleted_segments_total")! >= 1, 60_000, "retention over mr");
        // After the clean, each key's latest value is there once below the active segment's records.
        const cleaned = (await kcat(["-b", b.bootstrap, "-C", "-t", "mc", "-e", "-q", "-f", "%k=%s\n"])).trim().split("\n");
        expect(cleaned.length).toBeLessThan(2000);
        const last = new Map(updates.map((u) => u.split(":") as [string, string]));
        expect(new Map(cleaned.map((l) => l.split("=") as [string, string]))).toEqual(last);
        const m = await metrics(b);
        expect(m.get('klite_log_size_bytes{topic="mr",partition="0"}')).toBeLessThan(8192 + 2 * 4096);
        // Nothing was fsynced: the memory volume has no disk to flush.
        expect(m.get('klite_fsync_duration_seconds_count{kind="data"}') ?? 0).toBe(0);

        // Topic metadata and configs as on disk.
        const described = await runJson<{ name: string; partitionCount: number; configs: Record<string, string> }>([process.execPath, join(ROOT, "src/main.ts"), "topic", "describe", "mr", "--format", "json", "-b", b.bootstrap]);
        expect([described.name, described.partitionCount, described.configs["retention.bytes"]]).toEqual(["mr", 1, "8192"]);
      }),
    CLIENT_TEST_TIMEOUT,
  );

  test.skipIf(missing("kcat"))(
    "memory is bounded by retention: 256 MiB produced past retention.bytes of 4 MiB",
    () =>
      withMemoryBroker(["--memory", "--retention-bytes", String(4 << 20), "--segment-bytes", String(1 << 20), "--log-retention-check-interval-ms", "100", "--fsync", "never"], async (b) => {
        const idle = rssBytes(b.proc.pid);
        const total = 256 << 20;
        await cli(b, "topic", "create", "big");
        await cli(b, "bench", "produce", "big", "--records", String(total / 1024), "--record-size", "1024", "--acks", "1", "--format", "json");
        await waitFor(async () => (await metrics(b)).get('klite_log_size_bytes{topic="big",partition="0"}')! <= (4 << 20) + (2 << 20), 30_000, "retention to catch up");
        const m = await metrics(b);
        const held = m.get("klite_memory_storage_bytes")!;
        const rss = rssBytes(b.proc.pid);
        console.log(`--memory: 256 MiB produced, retention.bytes 4 MiB: memory volume ${(held / 2 ** 20).toFixed(1)} MiB, RSS idle ${(idle / 2 ** 20).toFixed(0)} MiB, after ${(rss / 2 ** 20).toFixed(0)} MiB`);
        expect(m.get("klite_log_retention_deleted_bytes_total")).toBeGreaterThan(total - (8 << 20));
        // The volume holds the partition's segments (about retention.bytes plus the active one and its spare capacity) and a few small files.
        expect(held).toBeLessThan(16 << 20);
        // RSS stays well below what was written (the broker's own buffers and heap come on top of the volume).
        expect(rss).toBeLessThan(idle + total / 2);
      }),
    CLIENT_TEST_TIMEOUT,
  );
});

test("startBroker(): in memory by default; with dataDir the data is on disk and kept", async () => {
  const inMemory = await startBroker({ topics: ["mem"] });
  const dir = tempDir("klite-start-dir-");
  const onDisk = await startBroker({ dataDir: dir, topics: ["disk"] });
  try {
    expect(inMemory.dataDir).toBe(":memory:");
    expect(onDisk.dataDir).toBe(dir);
    for (const [b, t] of [[inMemory, "mem"], [onDisk, "disk"]] as const) {
      await runOk([process.execPath, join(ROOT, "src/main.ts"), "produce", t, "-b", b.bootstrap], { stdin: "a\nb\n" });
    }
  } finally {
    await inMemory.stop();
    await onDisk.stop();
  }
  expect(readdirSync(dir).sort()).toContain("disk-0");
  expect(readdirSync(join(dir, "disk-0")).some((n) => n.endsWith(".log") && statSync(join(dir, "disk-0", n)).size > 0)).toBe(true);
  rmSync(dir, { recursive: true, force: true });
});
