// Log compaction with real clients and a real broker process: producers
// (confluent-kafka-python with lz4/zstd, KafkaJS with gzip, a transactional
// producer) write many updates over few keys plus tombstones into topics with
// small segments; once the cleaner has run, a consumer from the beginning sees
// exactly the latest record per key at its original offset, tombstones until
// their horizon, no aborted record. The broker is also killed (-9, by a
// test-only failpoint) at each step of a clean's swap and must come back with
// no record lost or duplicated; a compacted topic outlives retention.ms.

import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { join } from "node:path";
import { ROOT, spawnBroker, withSpawnedBroker, type SpawnedBroker } from "../helpers/broker.ts";
import { CLIENT_TEST_TIMEOUT, missing, nodeClient, py as pyScript } from "../helpers/clients.ts";
import { waitFor } from "../helpers/run.ts";
import { readBatchHeader, type BatchHeader } from "../../src/protocol/records.ts";

type Rec = [offset: number, key: string | null, value: string | null];

const core = <T>(bootstrap: string, ...args: string[]) => pyScript<T>("core.py", bootstrap, args);

/** A topic of one partition with these configs (confluent-kafka-python's AdminClient). */
const create = (bootstrap: string, topic: string, configs: Record<string, string>) => core(bootstrap, "create_configured", topic, JSON.stringify(configs));

/** Updates over few keys from confluent-kafka-python (see core.py `updates`). */
const updates = (bootstrap: string, topic: string, first: number, n: number, keys: number, codec: string, tombEvery: number) =>
  core<Rec[]>(bootstrap, "updates", topic, String(first), String(n), String(keys), codec, String(tombEvery));

/** Partition 0 from the beginning to its end, as confluent-kafka-python's consumer sees it. */
async function consume(bootstrap: string, topic: string, isolation = "read_uncommitted"): Promise<Rec[]> {
  const got = await pyScript<[number, number, string, string | null][]>("txn.py", bootstrap, ["consume", topic, isolation, "values"]);
  return got.map(([, o, k, v]) => [o, k, v]);
}

const lowWatermark = async (bootstrap: string, topic: string) => (await core<{ low: number }>(bootstrap, "offsets_for_times", topic, "0", "0")).low;
const kjs = <T>(bootstrap: string, ...args: string[]) => nodeClient<T>("kafkajs", "core.mjs", bootstrap, args);

/** The cleaner's checkpoint of partition 0: every offset below it has been cleaned at least once. */
function cleanedUpTo(b: SpawnedBroker, topic: string): number {
  const path = join(b.dataDir, `${topic}-0`, "cleaner-checkpoint");
  return existsSync(path) ? Number(readFileSync(path, "utf8")) : 0;
}

/** Waits until everything below `offset` has been cleaned; the checkpoint then. */
async function cleanedTo(b: SpawnedBroker, topic: string, offset: number): Promise<number> {
  await waitFor(() => cleanedUpTo(b, topic) >= offset, 60_000, `${topic} cleaned up to offset ${offset}`);
  return cleanedUpTo(b, topic);
}

/** What a consumer must see after cleans up to `upTo`: below it the latest record per key (tombstones too, unless gone), above it everything. */
function expected(written: Rec[], upTo: number, dropTombstones = false): Rec[] {
  const latest = new Map<string, number>();
  for (const [o, k] of written) if (o < upTo) latest.set(k!, o);
  return written.filter(([o, k, v]) => o >= upTo || (latest.get(k!) === o && !(dropTombstones && v === null))).sort((a, b) => a[0] - b[0]);
}

const COMPACT = { "cleanup.policy": "compact", "internal.segment.bytes": "4096", "min.cleanable.dirty.ratio": "0.01" };
const FAST_CLEANER = ["--log-cleaner-backoff-ms", "50"];

/** Updates over few keys, then records with keys of their own that roll the updates out of the active segment. */
async function produceUpdates(b: SpawnedBroker, topic: string, first: number, codec: string, keys = 10, tombEvery = 7): Promise<{ written: Rec[]; fillersFrom: number }> {
  const written = await updates(b.bootstrap, topic, first, 1500, keys, codec, tombEvery);
  const fillers = await updates(b.bootstrap, topic, 1_000_000 + first, 400, 100_000_000, codec, 0);
  return { written: [...written, ...fillers], fillersFrom: fillers[0]![0] };
}

function partitionFiles(b: SpawnedBroker, topic: string): string[] {
  const dir = join(b.dataDir, `${topic}-0`);
  return readdirSync(dir).map((n) => join(dir, n));
}

/** Headers of the batches stored in the partition's segment files. */
function storedBatches(b: SpawnedBroker, topic: string): BatchHeader[] {
  const out: BatchHeader[] = [];
  for (const f of partitionFiles(b, topic).filter((p) => p.endsWith(".log"))) {
    const bytes = new Uint8Array(readFileSync(f));
    for (let pos = 0; pos + 61 <= bytes.length; pos += out[out.length - 1]!.sizeInBytes) out.push(readBatchHeader(bytes, pos));
  }
  return out;
}

/** Codecs of the stored batches that hold records. */
const storedCodecs = (b: SpawnedBroker, topic: string) => new Set(storedBatches(b, topic).filter((h) => !h.control && h.recordCount > 0).map((h) => h.codec));

/** Files of the data dir the broker still holds open although they were deleted. */
function deletedButOpen(b: SpawnedBroker): string[] {
  const fds = `/proc/${b.proc.pid}/fd`;
  const out: string[] = [];
  for (const fd of readdirSync(fds)) {
    try {
      const target = readlinkSync(join(fds, fd));
      if (target.startsWith(b.dataDir) && target.endsWith("(deleted)")) out.push(target);
    } catch {
      // closed while listing
    }
  }
  return out;
}

describe.concurrent("log compaction with real clients", () => {
  for (const codec of ["lz4", "zstd"]) {
    test.skipIf(missing("python"))(`confluent-kafka-python, ${codec}: a consumer from the beginning sees the latest record per key at its offset, tombstones included`, () =>
      withSpawnedBroker({ args: FAST_CLEANER }, async (b) => {
        const topic = `compact-${codec}`;
        await create(b.bootstrap, topic, COMPACT);
        const { written, fillersFrom } = await produceUpdates(b, topic, 0, codec);
        const upTo = await cleanedTo(b, topic, fillersFrom);
        const got = await consume(b.bootstrap, topic);
        const want = expected(written, upTo);
        expect(got).toEqual(want);
        // Ten keys; the last writes to k1 and k8 (1491 and 1498, multiples of 7) are tombstones, kept until delete.retention.ms (a day) after their clean.
        const latest = want.filter(([o]) => o < fillersFrom);
        expect(latest.map(([, k]) => k).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `k${i}`).sort());
        expect(latest.filter(([, , v]) => v === null).map(([, k]) => k)).toEqual(["k1", "k8"]);
        // Cleaned batches keep the producer's codec. librdkafka itself sends a batch
        // uncompressed when compressing would not shrink it (a small batch under
        // load), so codec 0 may stand beside the producer's; no other codec may.
        const codecs = storedCodecs(b, topic);
        expect(codecs.has(codec === "lz4" ? 3 : 4)).toBe(true);
        expect([...codecs].filter((c) => c !== 0 && c !== (codec === "lz4" ? 3 : 4))).toEqual([]);
        // Cleaned-away segments are gone from disk and from the broker's open files.
        expect(deletedButOpen(b)).toEqual([]);
      }),
    CLIENT_TEST_TIMEOUT,
    );
  }

  test.skipIf(missing("kafkajs", "python"))("KafkaJS idempotent producer (gzip and none): KafkaJS and librdkafka consumers see exactly the latest per key", () =>
    withSpawnedBroker({ args: FAST_CLEANER }, async (b) => {
      const topic = "compact-kafkajs";
      await create(b.bootstrap, topic, COMPACT);
      const updated = await kjs<Rec[]>(b.bootstrap, "updates", topic, "0", "1000", "8", "gzip", "9");
      const fillers = await kjs<Rec[]>(b.bootstrap, "updates", topic, "2000000", "400", "100000000", "none", "0");
      const written = [...updated, ...fillers];
      const upTo = await cleanedTo(b, topic, fillers[0]![0]);
      const want = expected(written, upTo);
      expect(await consume(b.bootstrap, topic)).toEqual(want);
      const viaKafkaJs = await kjs<{ offset: number; key: string; value: string | null }[]>(b.bootstrap, "consume", topic, String(want.length));
      expect(viaKafkaJs.map((m): Rec => [m.offset, m.key, m.value])).toEqual(want);
      expect(storedCodecs(b, topic)).toEqual(new Set([0, 1]));
    }),
  CLIENT_TEST_TIMEOUT,
  );

  test.skipIf(missing("python"))("tombstones go once delete.retention.ms has passed since their first clean", () =>
    withSpawnedBroker({ args: FAST_CLEANER }, async (b) => {
      const topic = "compact-tombstones";
      await create(b.bootstrap, topic, { ...COMPACT, "delete.retention.ms": "0" });
      const { written, fillersFrom } = await produceUpdates(b, topic, 0, "lz4", 10, 5);
      // k0 and k5 end on a tombstone (i % 5 == 0 at 1490 and 1495).
      const upTo = await cleanedTo(b, topic, fillersFrom);
      const want = expected(written, upTo, true);
      let got: Rec[] = [];
      await waitFor(async () => {
        got = await consume(b.bootstrap, topic);
        return !got.some(([, , v]) => v === null);
      }, 60_000, "the tombstones to be cleaned away");
      expect(got).toEqual(want);
      expect(want.filter(([o]) => o < fillersFrom).map(([, k]) => k).sort()).toEqual(["k1", "k2", "k3", "k4", "k6", "k7", "k8", "k9"]);
    }),
  CLIENT_TEST_TIMEOUT,
  );

  test.skipIf(missing("python", "ckjs", "kafkajs"))("a transactional producer's aborted records disappear; committed ones are compacted like any; librdkafka 2.15 and KafkaJS read past the gaps, markers and emptied batches", () =>
    withSpawnedBroker({ args: FAST_CLEANER }, async (b) => {
      const topic = "compact-txn";
      await create(b.bootstrap, topic, COMPACT);
      const r = await pyScript<{ committed: Rec[]; aborted: Rec[] }>("txn.py", b.bootstrap, ["compact_rounds", topic, "compact-txn-id", "5", "25"]);
      const fillers = await updates(b.bootstrap, topic, 1_000_000, 400, 100_000_000, "none", 0);
      // Before cleaning a read_uncommitted consumer sees the aborted records.
      const upTo = await cleanedTo(b, topic, fillers[0]![0]);
      const got = await consume(b.bootstrap, topic);
      expect(got.filter(([, , v]) => v?.startsWith("a"))).toEqual([]);
      expect(got).toEqual(expected([...r.committed, ...fillers], upTo));
      expect(got.filter(([o]) => o < fillers[0]![0]).map(([, , v]) => v)).toEqual(["c24-k0", "c24-k1", "c24-k2", "c24-k3", "c24-k4"]);
      expect(await consume(b.bootstrap, topic, "read_committed")).toEqual(got);
      // The producer's last batch (aborted) stays as an empty batch; the clients skip it as they do Kafka's.
      expect(storedBatches(b, topic).filter((h) => h.recordCount === 0 && h.producerId >= 0 && !h.control)).toHaveLength(1);
      const current = await nodeClient<{ result: { offset: number; key: string; value: string }[] }>("ckjs", "core.mjs", b.bootstrap, ["consume", topic, "0", "0", String(got.length)]);
      expect(current.result.map((m): Rec => [m.offset, m.key, m.value])).toEqual(got);
      const viaKafkaJs = await kjs<{ offset: number; key: string; value: string | null }[]>(b.bootstrap, "consume", topic, String(got.length));
      expect(viaKafkaJs.map((m): Rec => [m.offset, m.key, m.value])).toEqual(got);
    }),
  CLIENT_TEST_TIMEOUT,
  );

  test.skipIf(missing("python"))("a compact-only topic survives past retention.ms; compact,delete and delete topics lose old segments", () =>
    withSpawnedBroker({ args: [...FAST_CLEANER, "--log-retention-check-interval-ms", "100"] }, async (b) => {
      const retention = { "retention.ms": "1000", "internal.segment.bytes": "4096" };
      await create(b.bootstrap, "keep-compact", { ...retention, "cleanup.policy": "compact" });
      await create(b.bootstrap, "both-policies", { ...retention, "cleanup.policy": "compact,delete" });
      await create(b.bootstrap, "delete-only", { ...retention, "cleanup.policy": "delete" });
      const written: Record<string, Rec[]> = {};
      for (const t of ["keep-compact", "both-policies", "delete-only"]) written[t] = await updates(b.bootstrap, t, 0, 600, 1000, "none", 0);
      // Retention has run on the others (their old segments went) ...
      await waitFor(async () => (await lowWatermark(b.bootstrap, "both-policies")) > 0 && (await lowWatermark(b.bootstrap, "delete-only")) > 0, 60_000, "retention to delete segments of the delete topics");
      // ... and the compact-only topic still has every record (all keys distinct: nothing to compact away).
      expect(await lowWatermark(b.bootstrap, "keep-compact")).toBe(0);
      expect(await consume(b.bootstrap, "keep-compact")).toEqual(written["keep-compact"]!);
    }),
  CLIENT_TEST_TIMEOUT,
  );
});

describe.concurrent("kill -9 in the middle of a clean", () => {
  /** Runs the broker on `dataDir` with a failpoint armed until it kills itself there; its stderr. */
  async function runUntilFailpoint(dataDir: string, point: string): Promise<string> {
    // Spawned directly: it may die before it prints its listening line, which spawnBroker would treat as a failed start.
    const proc = Bun.spawn([process.execPath, join(ROOT, "src/main.ts"), "--listen", "127.0.0.1:0", "--data-dir", dataDir, ...FAST_CLEANER], {
      cwd: ROOT,
      stdin: "ignore",
      stdout: "ignore",
      stderr: "pipe",
      env: { ...process.env, KLITE_TEST_FAILPOINT: point },
    });
    const timer = setTimeout(() => proc.kill(9), 60_000);
    const stderr = await new Response(proc.stderr).text();
    await proc.exited;
    clearTimeout(timer);
    expect(proc.signalCode).toBe("SIGKILL");
    return stderr;
  }

  // Each names a step of the clean (src/log/cleaner.ts, src/log/swap.ts) where the broker kills itself.
  const points = ["cleaner-cleaned-written", "cleaner-swap-committed", "cleaner-swap-renamed", "cleaner-swap-unlinking", "cleaner-swap-before-done"];
  for (const point of points) {
    test.skipIf(missing("python"))(`killed at ${point}: restarts consistent, no record lost or duplicated, and the clean completes`, async () => {
      const first = await spawnBroker({ args: ["--log-cleaner-enable=false"] });
      const dataDir = first.dataDir;
      const others: SpawnedBroker[] = [];
      const start = async (args: string[]) => {
        const b = await spawnBroker({ dataDir, args });
        others.push(b);
        return b;
      };
      try {
        const topic = "crash-compact";
        await create(first.bootstrap, topic, COMPACT);
        const r1 = await produceUpdates(first, topic, 0, "zstd");
        expect(await first.stop()).toBe(0);
        // One clean of all of it: each full segment becomes a small one, which the next clean groups.
        let b = await start(FAST_CLEANER);
        const cp1 = await cleanedTo(b, topic, r1.fillersFrom);
        expect(await b.stop()).toBe(0);
        // More updates with the cleaner off, for the clean that the failpoint interrupts.
        b = await start(["--log-cleaner-enable=false"]);
        const r2 = await produceUpdates(b, topic, 10_000, "zstd");
        const written = [...r1.written, ...r2.written];
        const before = expected(written, cp1);
        expect(await consume(b.bootstrap, topic)).toEqual(before);
        const bytesBefore = partitionFiles(b, topic).reduce((n, f) => n + statSync(f).size, 0);
        expect(await b.stop()).toBe(0);
        // The cleaner runs at start and the broker kills itself at the failpoint.
        expect(await runUntilFailpoint(dataDir, point)).toContain(`test failpoint ${point} reached`);
        // Restarted with the cleaner off: each group of segments is either the old one or the cleaned one.
        b = await start(["--log-cleaner-enable=false"]);
        const afterCrash = await consume(b.bootstrap, topic);
        const offsets = afterCrash.map(([o]) => o);
        expect(new Set(offsets).size).toBe(offsets.length);
        expect([...offsets].sort((x, y) => x - y)).toEqual(offsets);
        const beforeByOffset = new Map(before.map((rec) => [rec[0], rec]));
        for (const rec of afterCrash) expect(beforeByOffset.get(rec[0])).toEqual(rec);
        expect(await b.stop()).toBe(0);
        // And the clean completes after the next start.
        b = await start(FAST_CLEANER);
        const cp2 = await cleanedTo(b, topic, r2.fillersFrom);
        const after = expected(written, cp2);
        for (const rec of after) expect(afterCrash).toContainEqual(rec);
        expect(await consume(b.bootstrap, topic)).toEqual(after);
        const bytesAfter = partitionFiles(b, topic).reduce((n, f) => n + statSync(f).size, 0);
        expect(bytesAfter).toBeLessThan(bytesBefore);
        expect(partitionFiles(b, topic).filter((f) => f.endsWith(".cleaned") || f.endsWith(".swap"))).toEqual([]);
        expect(deletedButOpen(b)).toEqual([]);
      } finally {
        for (const o of others) await o.cleanup();
        await first.cleanup();
      }
    }, CLIENT_TEST_TIMEOUT);
  }
});
