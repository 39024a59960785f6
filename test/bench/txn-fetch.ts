// read_committed Fetch with many aborted transactions in the log: a partition
// holds N aborted transactions (one record each, then its abort marker) and a
// few committed ones after them; read_committed Fetch requests (1 MiB) go
// through the Fetch handler in process, from the start, the middle and the
// end of the log. Prints the time per fetch, how many aborted transactions
// each answer lists (Kafka lists only those overlapping the returned batches)
// and the heap once the log is built (the aborted transactions kept in memory,
// or not).
//
//   bun test/bench/txn-fetch.ts [--aborted N] [--fetches M] [--baseline REV]
//
// --baseline REV runs the same script against git revision REV's broker code
// (exported to a temporary directory) in the same run, first. No thresholds.

import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import * as FetchRequest from "../../generated/FetchRequest.ts";
import { Broker } from "../../src/broker.ts";
import { DEFAULT_OPTIONS } from "../../src/config.ts";
import { handleFetch } from "../../src/handlers/fetch.ts";
import type { RequestContext } from "../../src/handlers/registry.ts";
import { batchFacts } from "../../src/txn/partition-txn.ts";
import { producerBatch } from "../helpers/wire-client.ts";

const { values: opts } = parseArgs({
  options: {
    aborted: { type: "string", default: "100000" },
    fetches: { type: "string", default: "200" },
    baseline: { type: "string" },
    label: { type: "string", default: "this tree" },
  },
});
const N = Number(opts.aborted);
const M = Number(opts.fetches);
const ROOT = resolve(import.meta.dir, "../..");

if (opts.baseline) {
  const dir = mkdtempSync(join(tmpdir(), "klite-txn-fetch-base-"));
  try {
    const tar = Bun.spawnSync(["git", "-C", ROOT, "archive", "--format=tar", opts.baseline], { stdout: "pipe" });
    if (tar.exitCode !== 0) throw new Error(`git archive ${opts.baseline} failed`);
    if (Bun.spawnSync(["tar", "-x", "-C", dir], { stdin: tar.stdout }).exitCode !== 0) throw new Error("tar failed");
    mkdirSync(join(dir, "test/bench"), { recursive: true });
    copyFileSync(import.meta.path, join(dir, "test/bench/txn-fetch.ts"));
    const child = Bun.spawnSync([process.execPath, join(dir, "test/bench/txn-fetch.ts"), "--aborted", String(N), "--fetches", String(M), "--label", `baseline ${opts.baseline}`], {
      stdout: "inherit",
      stderr: "inherit",
    });
    if (child.exitCode !== 0) throw new Error("baseline run failed");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ctx: RequestContext = { apiKey: 1, apiVersion: 11, correlationId: 1, clientId: "bench", connectionId: 1, remoteAddress: "bench", principal: "User:ANONYMOUS" };
const dataDir = mkdtempSync(join(tmpdir(), "klite-txn-fetch-"));
const broker = new Broker({ ...DEFAULT_OPTIONS, dataDir, fsync: "never", logLevel: "error" });
try {
  broker.topics.create("t", 1, {});
  const part = broker.topics.get("t")!.partitions[0]!;
  const append = (bytes: Uint8Array) => {
    part.log.append(bytes);
    part.txn.apply(batchFacts(bytes), bytes);
  };
  const PID = 4242;
  const built = performance.now();
  for (let i = 0; i < N; i++) {
    append(producerBatch({ producerId: PID, epoch: 0, sequence: i, values: [`aborted-${i}`] }));
    broker.markers.writeMarker("t", 0, PID, 0, false);
  }
  for (let i = 0; i < 10; i++) {
    append(producerBatch({ producerId: PID, epoch: 0, sequence: N + i, values: [`committed-${i}`] }));
    broker.markers.writeMarker("t", 0, PID, 0, true);
  }
  const end = part.log.logEndOffset;
  const buildMs = performance.now() - built;
  // What the aborted transactions cost in memory: the heap after a full collection.
  Bun.gc(true);
  const heapMb = process.memoryUsage().heapUsed / 1e6;

  const fetchAt = async (offset: number) => {
    const req = FetchRequest.create();
    Object.assign(req, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      isolationLevel: 1,
      topics: [{ ...FetchRequest.defaultFetchTopic(), topic: "t", partitions: [{ ...FetchRequest.defaultFetchPartition(), partition: 0, fetchOffset: BigInt(offset), partitionMaxBytes: 1 << 20 }] }],
    });
    const res = await handleFetch(broker, req, ctx);
    return res.responses![0]!.partitions![0]!.abortedTransactions?.length ?? 0;
  };
  const rows: string[] = [];
  for (const [where, offset] of [
    ["start", 0],
    ["middle", Math.floor(end / 2)],
    ["end (last 1,000)", end - 2000],
  ] as const) {
    const listed = await fetchAt(offset);
    const start = performance.now();
    for (let i = 0; i < M; i++) await fetchAt(offset);
    const us = ((performance.now() - start) / M) * 1000;
    rows.push(`  from the ${where.padEnd(16)} ${us.toFixed(0).padStart(8)} µs per fetch, ${String(listed).padStart(6)} aborted transactions listed`);
  }
  console.log(`${opts.label}: ${N.toLocaleString("en")} aborted transactions (log built in ${(buildMs / 1000).toFixed(1)} s, heap ${heapMb.toFixed(1)} MB after it), read_committed Fetch of 1 MiB:`);
  for (const r of rows) console.log(r);
} finally {
  await broker.close();
  rmSync(dataDir, { recursive: true, force: true });
}
