// Transactional commit throughput with a real client: confluent-kafka-python
// (librdkafka 2.0.2) producers each run init, then N× begin / produce one
// record / commit against a klite process, alone and several at once (their
// coordinator state writes can then share fsyncs). The same run measures the
// machine's reference: how many small write+fdatasync rounds per second the
// data dir's disk takes, since a durable commit needs at least one.
//
//   bun test/bench/txn-commit.ts [--transactions N] [--producers 1,4] [--fsync group,never] [--dir BASE]
//                                [--baseline REV] [--rounds R]
//
// --baseline REV also runs the broker of git revision REV (exported to a
// temporary directory) in the same run, alternating with this tree's, R
// rounds each (default 2), so both see the same machine.
//
// Not a test and no thresholds: it prints figures.

import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ROOT, spawnBroker } from "../helpers/broker.ts";
import { py } from "../helpers/clients.ts";

const { values: opts } = parseArgs({
  options: {
    transactions: { type: "string", default: "500" },
    producers: { type: "string", default: "1,4" },
    fsync: { type: "string", default: "group,never" },
    dir: { type: "string", default: tmpdir() },
    baseline: { type: "string" },
    rounds: { type: "string", default: "2" },
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

/** A copy of the tree at `rev` (git archive), to run its broker. */
function exportRevision(rev: string, into: string): string {
  const dir = join(into, "baseline");
  const tar = Bun.spawnSync(["git", "-C", ROOT, "archive", "--format=tar", rev], { stdout: "pipe" });
  if (tar.exitCode !== 0) throw new Error(`git archive ${rev} failed`);
  Bun.spawnSync(["mkdir", "-p", dir]);
  const x = Bun.spawnSync(["tar", "-x", "-C", dir], { stdin: tar.stdout });
  if (x.exitCode !== 0) throw new Error("tar failed");
  return dir;
}

/** `producers` clients at once, each init + N transactions, against a fresh broker; a line of figures. */
async function measure(root: string, mode: string, producers: number): Promise<string> {
  const b = await spawnBroker({ root, dataDir: mkdtempSync(join(base, `${mode}-${producers}-`)), args: ["--fsync", mode, "--log-level", "warn"] });
  try {
    await py("txn.py", b.bootstrap, ["create", "bench", String(producers)]);
    const start = performance.now();
    const runs = await Promise.all(
      Array.from({ length: producers }, (_, i) => py<{ transactions: number; seconds: number }>("txn.py", b.bootstrap, ["loop", "bench", String(i), `bench-${i}`, String(N)], { timeoutMs: 600_000 })),
    );
    const wall = (performance.now() - start) / 1000;
    const total = runs.reduce((s, r) => s + r.transactions, 0);
    const slowest = Math.max(...runs.map((r) => r.seconds));
    return `${producers} producer(s) × ${N}: ${(total / slowest).toFixed(0)} transactions/s (per producer ${(N / slowest).toFixed(0)}/s; ${wall.toFixed(1)} s with start-up)`;
  } finally {
    await b.cleanup();
  }
}

const base = mkdtempSync(join(opts.dir, "klite-txn-bench-"));
try {
  console.log(`reference: ${syncRate(base).toFixed(0)} write+fdatasync/s on ${opts.dir}`);
  const trees: { label: string; root: string }[] = [{ label: "this tree", root: ROOT }];
  if (opts.baseline) trees.unshift({ label: `baseline ${opts.baseline}`, root: exportRevision(opts.baseline, base) });
  const rounds = opts.baseline ? Number(opts.rounds) : 1;
  for (let round = 0; round < rounds; round++) {
    for (const tree of trees) {
      for (const mode of MODES) {
        for (const producers of PRODUCERS) console.log(`${tree.label}: --fsync ${mode}, ${await measure(tree.root, mode, producers)}`);
      }
    }
  }
} finally {
  rmSync(base, { recursive: true, force: true });
}
