// Start-up after a clean shutdown, producer state: a partition log of N
// record batches (default 300,000 of ~1 KB, ~290 MB) is closed cleanly, then
// opened three ways in the same run: the log alone (PartitionLog.open, the
// reference: what any start pays), a Broker loading the producer-state
// snapshot the close wrote, and a Broker with the snapshot removed, which
// replays every batch header as every start did before snapshots.
//
//   bun test/bench/startup-producer-state.ts [--batches N] [--dir BASE]
//
// Not a test and no thresholds: it prints figures.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Broker } from "../../src/broker.ts";
import { DEFAULT_OPTIONS } from "../../src/config.ts";
import { PartitionLog } from "../../src/log/partition-log.ts";
import { TXN_SNAPSHOT_FILE } from "../../src/txn/partition-snapshot.ts";
import { batchFacts } from "../../src/txn/partition-txn.ts";
import { producerBatch } from "../helpers/wire-client.ts";

const { values: opts } = parseArgs({ options: { batches: { type: "string", default: "300000" }, dir: { type: "string", default: tmpdir() } } });
const N = Number(opts.batches);
const dir = mkdtempSync(join(opts.dir, "klite-startup-"));
const options = { ...DEFAULT_OPTIONS, dataDir: dir, fsync: "never" as const, logLevel: "error" as const };

const time = async (fn: () => Promise<void> | void): Promise<number> => {
  const start = performance.now();
  await fn();
  return performance.now() - start;
};

try {
  let b = new Broker(options);
  b.topics.create("t", 1, {});
  const part = b.topics.get("t")!.partitions[0]!;
  const value = "x".repeat(900);
  for (let i = 0; i < N; i++) {
    const batch = producerBatch({ producerId: 1 + (i % 50), epoch: 0, sequence: Math.floor(i / 50), values: [value], transactional: false });
    part.log.append(batch);
    part.txn.apply(batchFacts(batch), batch);
  }
  const mb = part.log.logEndOffset > 0 ? (N * (61 + 8 + value.length)) / 1e6 : 0;
  await b.close();

  // Twice each, alternating, so the page cache favours none of them.
  for (let round = 1; round <= 2; round++) {
    let log: PartitionLog | null = null;
    const logOnly = await time(() => {
      log = PartitionLog.open(join(dir, "t-0"), b.topics.logConfig({}), b.flusher);
    });
    log!.close();
    const withSnapshot = await time(() => {
      b = new Broker(options);
    });
    await b.close();
    rmSync(join(dir, "t-0", TXN_SNAPSHOT_FILE));
    const replay = await time(() => {
      b = new Broker(options);
    });
    await b.close();
    console.log(`round ${round}: ${N.toLocaleString("en")} batches (~${mb.toFixed(0)} MB), 50 idempotent producers, after a clean close:`);
    console.log(`  log alone (reference)            ${logOnly.toFixed(0).padStart(6)} ms`);
    console.log(`  broker, producer-state snapshot  ${withSnapshot.toFixed(0).padStart(6)} ms`);
    console.log(`  broker, replaying the log        ${replay.toFixed(0).padStart(6)} ms`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
