// Scale benchmark: the same produce and fetch volume against a topic of 6
// partitions and one of 1,000, then 100 producer connections at once, with
// what the broker holds meanwhile (RSS, open fds) and what one cluster-wide
// Metadata and one ListOffsets over every partition take. The 6-partition
// figures are the reference: a klite that scales linearly shows the same
// throughput at 1,000 partitions, RSS and fds growing by a fixed amount per
// partition, and request times proportional to the partitions named.
//
//   bun test/bench/scale.ts [--records N] [--size BYTES] [--partitions 6,1000]
//                           [--connections 100] [--fsync group|never]
//                           [--max-open-segment-files N]
//
// Not a test and no thresholds. Uses rdkafka-bench.c (librdkafka and the
// pipelined raw clients) like test/bench/broker.ts.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { BrokerConnection } from "../../src/client/connection.ts";
import { ListOffsets, Metadata } from "../../src/client/apis.ts";

const { values: opts } = parseArgs({
  options: {
    records: { type: "string", default: "300000" },
    size: { type: "string", default: "1024" },
    partitions: { type: "string", default: "6,1000" },
    connections: { type: "string", default: "100" },
    fsync: { type: "string", default: "group" },
    "max-open-segment-files": { type: "string" },
  },
});
const RECORDS = Number(opts.records);
const SIZE = Number(opts.size);
const PARTITION_COUNTS = opts.partitions.split(",").map(Number);
const CONNECTIONS = Number(opts.connections);
const MiB = 1024 * 1024;
const REPO = resolve(import.meta.dir, "../..");
const CLK_TCK = 100;
/** Requests of the pipelined producer stay near 5.5 MB whatever the partition count. */
const RAW_REQUEST_RECORDS = 5400;

const work = mkdtempSync(join(tmpdir(), "klite-scale-bench-"));
const helper = join(work, "rdkafka-bench");
const running = new Set<{ kill(sig?: number): void }>();
process.on("exit", () => {
  for (const p of running) p.kill(9);
  rmSync(work, { recursive: true, force: true });
});
{
  const cc = Bun.spawnSync(["cc", "-O2", "-o", helper, join(import.meta.dir, "rdkafka-bench.c"), "-lrdkafka"], { stderr: "pipe" });
  if (cc.exitCode !== 0) throw new Error(`compiling rdkafka-bench.c failed: ${cc.stderr}`);
}

interface ClientResult {
  records: number;
  bytes: number;
  elapsed: number;
  error: string;
  failed?: number;
  errors?: number;
}

async function client(args: string[]): Promise<ClientResult> {
  const p = Bun.spawn([helper, ...args], { stdout: "pipe", stderr: "pipe" });
  running.add(p);
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  await p.exited;
  running.delete(p);
  try {
    return JSON.parse(out.trim().split("\n").pop() ?? "") as ClientResult;
  } catch {
    throw new Error(`rdkafka-bench ${args[0]} exited ${p.exitCode}: ${err.trim().split("\n").slice(-5).join("\n")}`);
  }
}

function procStat(pid: number): { cpu: number } {
  const s = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
  return { cpu: (Number(f[11]) + Number(f[12])) / CLK_TCK };
}
const rssMB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN) / 1024;
const openFds = (pid: number) => readdirSync(`/proc/${pid}/fd`).length;

async function startBroker(partitions: number, dataDir: string): Promise<{ proc: ReturnType<typeof Bun.spawn>; port: number }> {
  const args = ["--listen", "127.0.0.1:0", "--data-dir", dataDir, "--fsync", opts.fsync, "--default-partitions", String(partitions), "--log-level", "warn"];
  if (opts["max-open-segment-files"]) args.push("--max-open-segment-files", opts["max-open-segment-files"]);
  const proc = Bun.spawn([process.execPath, "src/main.ts", ...args], { cwd: REPO, stdout: "pipe", stderr: "inherit" });
  running.add(proc);
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  let text = "";
  for (;;) {
    const r = await reader.read();
    if (r.done) throw new Error(`broker did not start: ${text}`);
    text += new TextDecoder().decode(r.value);
    const m = /listening on \S+:(\d+)/.exec(text);
    if (m) {
      void (async () => {
        while (!(await reader.read()).done);
      })();
      return { proc, port: Number(m[1]) };
    }
  }
}

const fmt = (n: number, d = 0) => n.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d });
const mibps = (r: { bytes: number; elapsed: number }) => r.bytes / MiB / r.elapsed;

/** Wall time of `f`, best of 3 (one request each; the broker is otherwise idle). */
async function timeBest(f: () => Promise<unknown>): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await f();
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

interface ScaleRow {
  partitions: number;
  produce: number;
  raw: number;
  fetch: number;
  many: number;
  rss: { afterProduce: number; afterIdle: number };
  fds: { afterProduce: number; afterFetch: number };
  idleCpu: number;
  metadataMs: number;
  listOffsetsMs: number;
}

console.log(`klite scale benchmark: ${fmt(RECORDS)} × ${SIZE} B per phase, fsync=${opts.fsync}, partitions ${PARTITION_COUNTS.join(" and ")}, ${CONNECTIONS} producer connections`);
console.log(`machine: ${navigator.hardwareConcurrency} cores, load average ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")} (shared; figures are noisy)\n`);

const rows: ScaleRow[] = [];
for (const partitions of PARTITION_COUNTS) {
  const dataDir = join(work, `data-${partitions}`);
  const { proc, port } = await startBroker(partitions, dataDir);
  const bootstrap = `127.0.0.1:${port}`;
  try {
    const produce = await client(["produce", bootstrap, "scale", String(RECORDS), String(SIZE), String(partitions), "linger.ms=5", "batch.size=1000000", "compression.type=none", "queue.buffering.max.kbytes=1048576"]);
    if (produce.failed) throw new Error(`produce: ${produce.failed} failed: ${produce.error}`);
    const perBatch = Math.max(1, Math.floor(RAW_REQUEST_RECORDS / partitions));
    const raw = await client(["rawproduce", String(port), "scale-raw", String(RECORDS), String(SIZE), String(partitions), String(perBatch), "8"]);
    const rssProduce = rssMB(proc.pid);
    const fdsProduce = openFds(proc.pid);
    const fetch = await client(["rawfetch", String(port), "scale", String(RECORDS), String(partitions), String(SIZE), String(MiB)]);
    const fdsFetch = openFds(proc.pid);

    // Many connections: each its own rawproduce process, a share of the records, all at once.
    const share = Math.max(1, Math.floor(RECORDS / CONNECTIONS));
    const perConnBatch = Math.max(1, Math.min(share, Math.floor(RAW_REQUEST_RECORDS / partitions)));
    const t0 = performance.now();
    const many = await Promise.all(
      Array.from({ length: CONNECTIONS }, (_, i) => client(["rawproduce", String(port), `scale-conn-${i % 10}`, String(share), String(SIZE), String(partitions), String(perConnBatch), "2"])),
    );
    const manyBytes = many.reduce((n, r) => n + r.bytes, 0);
    const manyRate = manyBytes / MiB / ((performance.now() - t0) / 1000);

    // Cluster-wide requests, from a connection of our own.
    const conn = await BrokerConnection.open("127.0.0.1", port);
    const meta = await conn.send(Metadata, null, { topics: null, allowAutoTopicCreation: false });
    const names = meta.topics.map((t) => t.name!).filter(Boolean);
    const partitionsOf = new Map(meta.topics.map((t) => [t.name!, t.partitions.map((p) => p.partitionIndex)]));
    const metadataMs = await timeBest(() => conn.send(Metadata, null, { topics: null, allowAutoTopicCreation: false }));
    const listOffsetsMs = await timeBest(() =>
      conn.send(ListOffsets, null, {
        replicaId: -1,
        isolationLevel: 0,
        topics: names.map((name) => ({ name, partitions: partitionsOf.get(name)!.map((partitionIndex) => ({ partitionIndex, timestamp: -1n })) })),
      }),
    );
    conn.close();

    // Idle: what the broker spends holding this many partitions with nothing to do.
    const c0 = procStat(proc.pid).cpu;
    await Bun.sleep(5000);
    const idleCpu = (procStat(proc.pid).cpu - c0) / 5;
    rows.push({
      partitions,
      produce: mibps(produce),
      raw: mibps(raw),
      fetch: mibps(fetch),
      many: manyRate,
      rss: { afterProduce: rssProduce, afterIdle: rssMB(proc.pid) },
      fds: { afterProduce: fdsProduce, afterFetch: fdsFetch },
      idleCpu,
      metadataMs,
      listOffsetsMs,
    });
    const r = rows.at(-1)!;
    console.log(
      `${fmt(partitions)} partitions: produce librdkafka ${fmt(r.produce)} MiB/s, pipelined ${fmt(r.raw)} MiB/s; fetch (pipelined) ${fmt(r.fetch)} MiB/s; ` +
        `${CONNECTIONS} connections ${fmt(r.many)} MiB/s; RSS ${fmt(r.rss.afterProduce)} MB after produce, ${fmt(r.rss.afterIdle)} MB idle; ` +
        `fds ${r.fds.afterProduce} after produce, ${r.fds.afterFetch} after fetch; idle CPU ${fmt(r.idleCpu * 100, 1)}% of a core; ` +
        `Metadata (${names.length} topics) ${fmt(r.metadataMs, 1)} ms, ListOffsets (${[...partitionsOf.values()].reduce((n, p) => n + p.length, 0)} partitions) ${fmt(r.listOffsetsMs, 1)} ms`,
    );
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
    running.delete(proc);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (rows.length >= 2) {
  const [a, b] = [rows[0]!, rows.at(-1)!];
  const ratio = (x: number, y: number) => `${(y / x).toFixed(2)}×`;
  console.log(`\n${fmt(b.partitions)} against ${fmt(a.partitions)} partitions (same volume; throughput ratios near 1 = linear):`);
  console.log(`  produce librdkafka ${ratio(a.produce, b.produce)}, pipelined ${ratio(a.raw, b.raw)}, fetch ${ratio(a.fetch, b.fetch)}, ${CONNECTIONS} connections ${ratio(a.many, b.many)}`);
  console.log(`  RSS +${fmt(b.rss.afterProduce - a.rss.afterProduce)} MB (${fmt(((b.rss.afterProduce - a.rss.afterProduce) * 1024) / (b.partitions - a.partitions), 1)} KB per partition); fds +${b.fds.afterFetch - a.fds.afterFetch}`);
  console.log(`  Metadata ${ratio(a.metadataMs, b.metadataMs)} the time, ListOffsets ${ratio(a.listOffsetsMs, b.listOffsetsMs)} (partitions ×${fmt(b.partitions / a.partitions, 1)})`);
}
