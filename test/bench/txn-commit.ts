// Transactional commit throughput with a real client: confluent-kafka-python
// (librdkafka 2.0.2) producers each run init, then N× begin / produce one
// record / commit against a klite process, alone and several at once (their
// coordinator state writes can then share fsyncs). The same run measures the
// machine's reference: how many small write+fdatasync rounds per second the
// data dir's disk takes, since a durable commit needs at least one.
//
//   bun test/bench/txn-commit.ts [--transactions N] [--producers 1,4] [--fsync group,never] [--dir BASE]
//
// Not a test and no thresholds: it prints figures.

import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { spawnBroker } from "../helpers/broker.ts";
import { py } from "../helpers/clients.ts";

const { values: opts } = parseArgs({
  options: {
    transactions: { type: "string", default: "500" },
    producers: { type: "string", default: "1,4" },
    fsync: { type: "string", default: "group,never" },
    dir: { type: "string", default: tmpdir() },
  },
});
const N = Number(opts.transactions);
const PRODUCERS = opts.producers.split(",").map(Number);
const MODES = opts.fsync.split(",");

/** Small appends each followed by fdatasync, for two seconds: the disk's sync rate. */
function syncRate(dir: string): number {
  const path = join(dir, "sync-probe");
  const fd = openSync(path, "w");
  const block = new Uint8Array(200);
  let n = 0;
  const start = performance.now();
  try {
    while (performance.now() - start < 2000) {
      writeSync(fd, block);
      fdatasyncSync(fd);
      n++;
    }
  } finally {
    closeSync(fd);
    rmSync(path);
  }
  return n / ((performance.now() - start) / 1000);
}

const base = mkdtempSync(join(opts.dir, "klite-txn-bench-"));
try {
  console.log(`reference: ${syncRate(base).toFixed(0)} write+fdatasync/s on ${opts.dir}`);
  for (const mode of MODES) {
    for (const producers of PRODUCERS) {
      const b = await spawnBroker({ dataDir: mkdtempSync(join(base, `${mode}-${producers}-`)), args: ["--fsync", mode, "--log-level", "warn"] });
      try {
        await py("txn.py", b.bootstrap, ["create", "bench", String(producers)]);
        const start = performance.now();
        const runs = await Promise.all(
          Array.from({ length: producers }, (_, i) => py<{ transactions: number; seconds: number }>("txn.py", b.bootstrap, ["loop", "bench", String(i), `bench-${i}`, String(N)], { timeoutMs: 600_000 })),
        );
        const wall = (performance.now() - start) / 1000;
        const total = runs.reduce((s, r) => s + r.transactions, 0);
        const slowest = Math.max(...runs.map((r) => r.seconds));
        console.log(
          `--fsync ${mode}, ${producers} producer(s) × ${N}: ${(total / slowest).toFixed(0)} transactions/s (per producer ${(N / slowest).toFixed(0)}/s; ${wall.toFixed(1)} s with start-up)`,
        );
      } finally {
        await b.cleanup();
      }
    }
  }
} finally {
  rmSync(base, { recursive: true, force: true });
}
