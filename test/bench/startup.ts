// Startup benchmark: time from exec to the listening line (klite accepts
// connections right after printing it) with many partitions and GBs of data,
// after a clean shutdown and after kill -9, for this checkout and a baseline
// checkout in the same run (e.g. a `git worktree` of the commit before the
// recovery-point checkpoint).
//
//   bun test/bench/startup.ts [--gb G] [--partitions P] [--batch-bytes B] [--segment-bytes N]
//                             [--runs R] [--baseline DIR] [--dir BASE]
//
// Defaults: 2 GB in 200 partitions (the target is 10 GB; scale with
// --gb to what the disk allows), batches of 16 KiB (16 records of 1 KiB, as
// librdkafka sends them), 1 GiB segments (so each partition's data sits in its
// active segment, which a crash makes the broker check), 3 runs per case.
// The data is written once (through klite's own log code, Kafka's on-disk
// format) and copied for each checkout. The page cache stays warm: the
// figures are CPU and syscalls, not disk reads. After kill -9 nothing was
// written since the previous clean start, so the unflushed tail past the
// recovery point is empty: what is measured is what recovery checks of data
// that was already durable.
//
// Not a test and no thresholds: it prints figures.

import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { crc32c } from "../../src/codec/crc32c.ts";
import { FlushScheduler, PartitionLog } from "../../src/log/partition-log.ts";
import { buildBatch } from "../../src/protocol/records.ts";
import { spawnBroker, ROOT } from "../helpers/broker.ts";
import { connectWire } from "../helpers/wire-client.ts";

const { values: opts } = parseArgs({
  options: {
    gb: { type: "string", default: "2" },
    partitions: { type: "string", default: "200" },
    "batch-bytes": { type: "string", default: "16384" },
    "segment-bytes": { type: "string", default: String(1 << 30) },
    runs: { type: "string", default: "3" },
    baseline: { type: "string" },
    dir: { type: "string", default: tmpdir() },
  },
});
const BYTES = Number(opts.gb) * 1e9;
const PARTITIONS = Number(opts.partitions);
const BATCH = Number(opts["batch-bytes"]);
const SEGMENT = Number(opts["segment-bytes"]);
const RUNS = Number(opts.runs);
const TOPIC = "startup";
const brokerArgs = ["--segment-bytes", String(SEGMENT), "--log-level", "warn"];

const base = mkdtempSync(join(opts.dir, "klite-startup-"));
process.on("exit", () => rmSync(base, { recursive: true, force: true }));

/** Creates the topic through a broker of this checkout, then fills its partitions offline. */
async function makeTemplate(): Promise<string> {
  const dir = join(base, "template");
  const b = await spawnBroker({ dataDir: dir, args: [...brokerArgs, "--create-topic", `${TOPIC}:${PARTITIONS}`] });
  const wire = await connectWire(b.port);
  await wire.call(18, 3, { clientSoftwareName: "bench", clientSoftwareVersion: "0" });
  wire.close();
  if ((await b.stop()) !== 0) throw new Error("the broker did not stop cleanly");
  const record = new Uint8Array(1000).fill(0x61);
  const perBatch = Math.max(1, Math.round(BATCH / 1024));
  const batch = buildBatch({ records: Array.from({ length: perBatch }, () => ({ value: record })) });
  const perPartition = Math.ceil(BYTES / PARTITIONS / batch.length);
  const flusher = new FlushScheduler();
  const config = { segmentBytes: SEGMENT, segmentMs: 7 * 24 * 3600e3, indexIntervalBytes: 4096, retentionMs: -1, retentionBytes: -1, fsync: "never" as const, crc32c };
  const t0 = performance.now();
  for (let p = 0; p < PARTITIONS; p++) {
    const log = PartitionLog.open(join(dir, `${TOPIC}-${p}`), config, flusher);
    for (let i = 0; i < perPartition; i++) log.append(batch);
    log.close();
  }
  const total = perPartition * batch.length * PARTITIONS;
  console.log(`data: ${(total / 1e9).toFixed(2)} GB in ${PARTITIONS} partitions, batches of ${batch.length} bytes, segments of ${SEGMENT} bytes (written in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  return dir;
}

async function timedStart(root: string, dataDir: string): Promise<{ ms: number; stop: () => Promise<number>; kill9: () => Promise<void>; stderr: () => string }> {
  const t0 = performance.now();
  const b = await spawnBroker({ root, dataDir, args: brokerArgs, startTimeoutMs: 600_000 });
  const ms = performance.now() - t0;
  // One answered request: by then the broker has its SIGTERM handler (it installs it just after the
  // listening line), so stop() is a clean shutdown and not the default action of the signal.
  const wire = await connectWire(b.port);
  await wire.call(18, 3, { clientSoftwareName: "bench", clientSoftwareVersion: "0" });
  wire.close();
  const stop = async () => {
    const code = await b.stop();
    if (code !== 0) throw new Error(`broker exited with ${code} on SIGTERM`);
    return code;
  };
  return { ms, stop, kill9: () => b.kill9(), stderr: () => b.stderr() };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(name: string, root: string, template: string): Promise<{ name: string; clean: number[]; crash: number[] }> {
  const dataDir = join(base, name);
  cpSync(template, dataDir, { recursive: true });
  const clean: number[] = [];
  const crash: number[] = [];
  // A first start and clean stop: whatever each checkout keeps for its next start (markers, checkpoints) is written.
  await (await timedStart(root, dataDir)).stop();
  for (let r = 0; r < RUNS; r++) {
    const afterClean = await timedStart(root, dataDir);
    clean.push(afterClean.ms);
    await afterClean.kill9();
    const afterCrash = await timedStart(root, dataDir);
    crash.push(afterCrash.ms);
    await afterCrash.stop();
  }
  rmSync(dataDir, { recursive: true, force: true });
  return { name, clean, crash };
}

const template = await makeTemplate();
const results = [await measure("this checkout", ROOT, template)];
if (opts.baseline) results.push(await measure(`baseline ${opts.baseline}`, resolve(opts.baseline), template));
console.log(`\ntime from exec to the listening line, median of ${RUNS} (all runs in ms)`);
console.log("| | after a clean shutdown | after kill -9 |\n|---|---|---|");
for (const r of results) {
  const f = (xs: number[]) => `${Math.round(median(xs))} ms (${xs.map((x) => Math.round(x)).join(", ")})`;
  console.log(`| ${r.name} | ${f(r.clean)} | ${f(r.crash)} |`);
}
