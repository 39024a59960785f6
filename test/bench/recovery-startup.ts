// Startup benchmark: how long a broker process takes to accept connections
// on a data dir holding GB of data in P partitions, after a clean shutdown and
// as after a crash (the clean-shutdown markers removed, so the active segment
// of every partition is scanned and CRC-checked), against an empty data dir
// in the same run (the runtime's own start-up).
//
//   bun test/bench/recovery-startup.ts [--gb N] [--partitions P] [--batch-kb K] [--runs R] [--compare DIR]
//
// Defaults: 1 GB in 200 partitions, 256 KiB batches, 3 runs of each case.
// --compare DIR also times the klite tree in DIR (another checkout) on the same data.
// Not a test and no thresholds: it prints figures (issue 14 aims at under 1 s
// after a clean shutdown with 10 GB in 200 partitions).

import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startBroker } from "../../src/broker.ts";
import { spawnBroker, tempDir } from "../helpers/broker.ts";
import { forgetCleanShutdown, makeBatch } from "../unit/log-fixtures.ts";

const { values: opts } = parseArgs({
  options: {
    gb: { type: "string", default: "1" },
    partitions: { type: "string", default: "200" },
    "batch-kb": { type: "string", default: "256" },
    runs: { type: "string", default: "3" },
    compare: { type: "string" },
  },
});
const BYTES = Number(opts.gb) * 1e9;
const PARTITIONS = Number(opts.partitions);
const BATCH_RECORDS = Math.max(1, Math.round((Number(opts["batch-kb"]) * 1024) / 1024));
const RUNS = Number(opts.runs);

/** Fills a fresh data dir through an in-process broker, then shuts it down cleanly. */
async function fill(dataDir: string): Promise<number> {
  const b = await startBroker({ listen: "127.0.0.1:0", dataDir, logLevel: "warn" });
  const topic = b.broker.topics.create("startup", PARTITIONS, {});
  const batch = makeBatch({ records: BATCH_RECORDS, valueSize: 1000 });
  let written = 0;
  for (let p = 0; written < BYTES; p = (p + 1) % PARTITIONS) {
    topic.partitions[p]!.log.append(batch);
    written += batch.length;
  }
  await b.close();
  return written;
}

/** Milliseconds from spawning a broker process until it prints its listening line. */
async function timeStart(dataDir: string, root?: string): Promise<number> {
  const t = performance.now();
  const b = await spawnBroker({ dataDir, startTimeoutMs: 600_000, root });
  const ms = performance.now() - t;
  await b.stop();
  return ms;
}

function forgetAll(dataDir: string): void {
  for (const d of readdirSync(dataDir)) if (d.startsWith("startup-")) forgetCleanShutdown(join(dataDir, d));
}

const empty = tempDir("klite-startup-empty-");
const full = tempDir("klite-startup-full-");
try {
  const t = performance.now();
  const written = await fill(full);
  console.log(`filled ${(written / 1e9).toFixed(2)} GB in ${PARTITIONS} partitions (batches of ${BATCH_RECORDS} KiB) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const cases: [string, () => Promise<number>][] = [];
  for (const [name, root] of [["this tree", undefined], ...(opts.compare ? [[opts.compare, opts.compare]] : [])] as [string, string | undefined][]) {
    cases.push(
      [`${name}: empty data dir (reference)`, () => timeStart(empty, root)],
      [`${name}: after a clean shutdown`, () => timeStart(full, root)],
      [
        `${name}: as after kill -9 (no clean-shutdown markers)`,
        () => {
          forgetAll(full);
          return timeStart(full, root);
        },
      ],
    );
  }
  for (const [label, run] of cases) {
    const ms: number[] = [];
    for (let i = 0; i < RUNS; i++) ms.push(await run());
    console.log(`${label.padEnd(64)} ${ms.map((m) => `${Math.round(m)} ms`).join(", ")}`);
  }
} finally {
  rmSync(empty, { recursive: true, force: true });
  rmSync(full, { recursive: true, force: true });
}
