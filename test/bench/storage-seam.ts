// The storage seam's cost on the hot path: PartitionLog append and read
// (what Produce and Fetch do to the log) on disk, for this tree against
// another checkout's (the tree before the seam), in one process, rounds
// alternating so that a noisy machine hits both alike. Reported per GiB as
// CPU seconds of this process (user + system), which load from other work
// disturbs far less than wall time, plus MiB/s of wall time; and the same
// for a memory volume (`--memory`) of this tree.
// Usage: bun test/bench/storage-seam.ts --baseline OTHER-TREE [--mb 256] [--rounds 3]

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { buildBatch } from "../../src/protocol/records.ts";
import { mountMemoryVolume, unmountMemoryVolume } from "../../src/log/memory-volume.ts";

const { values: opts } = parseArgs({ options: { baseline: { type: "string" }, mb: { type: "string", default: "256" }, rounds: { type: "string", default: "3" } } });
const TOTAL = Number(opts.mb) * 1024 * 1024;
const ROUNDS = Number(opts.rounds);

type LogModule = typeof import("../../src/log/partition-log.ts");
const trees: { name: string; mod: LogModule; memory?: boolean }[] = [{ name: "this tree, disk", mod: await import("../../src/log/partition-log.ts") }];
if (opts.baseline) trees.unshift({ name: `baseline, disk`, mod: (await import(resolve(opts.baseline, "src/log/partition-log.ts"))) as LogModule });
trees.push({ name: "this tree, memory", mod: trees.at(-1)!.mod, memory: true });

// 16 records of 1000 bytes: about a linger batch of a producer.
const batch = buildBatch({ baseOffset: 0, records: Array.from({ length: 16 }, (_, i) => ({ key: null, value: new Uint8Array(1000).fill(i), headers: [], timestampDelta: 0, offsetDelta: i })) });
const batches = Math.ceil(TOTAL / batch.length);

function cpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function once(mod: LogModule, memory: boolean): { appendCpu: number; appendMs: number; readCpu: number; readMs: number } {
  const volume = memory ? mountMemoryVolume() : null;
  const dir = volume ? volume.root : mkdtempSync(join(tmpdir(), "klite-seam-"));
  const flusher = new mod.FlushScheduler({});
  const config = { segmentBytes: 64 << 20, segmentMs: 7 * 86400_000, indexIntervalBytes: 4096, retentionMs: -1, retentionBytes: -1, fsync: "never" as const, crc32c: () => 0 };
  const log = mod.PartitionLog.open(join(dir, "bench-0"), config, flusher);
  const mine = batch.slice();
  let c = cpu();
  let t = performance.now();
  for (let i = 0; i < batches; i++) log.append(mine);
  const appendCpu = cpu() - c;
  const appendMs = performance.now() - t;
  c = cpu();
  t = performance.now();
  let offset = 0;
  while (offset < log.logEndOffset) {
    const r = log.read(offset, 1 << 20, true);
    if (r === "out_of_range" || r.size === 0) throw new Error(`read stopped at ${offset}`);
    offset += 16 * Math.floor(r.size / batch.length);
  }
  const readCpu = cpu() - c;
  const readMs = performance.now() - t;
  log.close();
  if (volume) unmountMemoryVolume(volume.root);
  else rmSync(dir, { recursive: true, force: true });
  return { appendCpu, appendMs, readCpu, readMs };
}

const gib = TOTAL / 2 ** 30;
const results = new Map<string, ReturnType<typeof once>[]>();
for (let round = 0; round < ROUNDS; round++) {
  for (const t of trees) {
    const r = once(t.mod, t.memory ?? false);
    (results.get(t.name) ?? results.set(t.name, []).get(t.name)!).push(r);
  }
}
const range = (xs: number[], f: (x: number) => string) => `${f(Math.min(...xs))}–${f(Math.max(...xs))}`;
console.log(`${Number(opts.mb)} MiB of 16 KiB batches per round, fsync never, 64 MiB segments, ${ROUNDS} rounds alternating; load average ${(await import("node:os")).loadavg()[0]!.toFixed(1)}`);
console.log("tree                 append CPU s/GiB   append MiB/s      read CPU s/GiB    read MiB/s");
for (const [name, rs] of results) {
  const s = (x: number) => x.toFixed(2);
  const m = (x: number) => x.toFixed(0);
  console.log(
    `${name.padEnd(20)} ${range(rs.map((r) => r.appendCpu / gib), s).padEnd(18)} ${range(rs.map((r) => TOTAL / 2 ** 20 / (r.appendMs / 1000)), m).padEnd(17)} ${range(rs.map((r) => r.readCpu / gib), s).padEnd(17)} ${range(rs.map((r) => TOTAL / 2 ** 20 / (r.readMs / 1000)), m)}`,
  );
}
