// Start-up and memory of the compiled binary against `bun src/main.ts`, in
// the same run: exec to first accepted connection, exec to first
// acknowledged produce, idle RSS, RSS after 100 MB produced; startBroker()
// to first produce under Bun and under Node (in memory, startBroker()'s
// default); the binary's size. The data dir is on disk except in the
// `--memory` row.
// usage: bun test/bench/startup.ts [--runs 3]   (builds dist/klite first)

import { mkdirSync, rmSync, statSync, symlinkSync, cpSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, tempDir } from "../helpers/broker.ts";
import { CLIENTS } from "../helpers/clients.ts";
import { runJson, runOk } from "../helpers/run.ts";
import { Produce } from "../../src/client/apis.ts";
import { KafkaClient } from "../../src/client/client.ts";
import { BrokerConnection } from "../../src/client/connection.ts";
import { Producer } from "../../src/client/producer.ts";
import { buildBatch } from "../../src/protocol/records.ts";

const runs = Number(process.argv[process.argv.indexOf("--runs") + 1] ?? 3) || 3;
const BIN = join(ROOT, "dist/klite");
await runOk([process.execPath, "run", "build"], { cwd: ROOT });

function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = s.port;
  s.stop(true);
  return port;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function until<T>(fn: () => Promise<T | null>): Promise<T> {
  for (;;) {
    const v = await fn().catch(() => null);
    if (v !== null) return v;
    await Bun.sleep(1);
  }
}

interface Figures {
  connectMs: number;
  produceMs: number;
  idleRss: number;
  rss100: number;
}

async function measure(cmd: string[]): Promise<Figures> {
  const port = freePort();
  const dir = tempDir("klite-startup-");
  const t0 = performance.now();
  const proc = Bun.spawn([...cmd, "--listen", `127.0.0.1:${port}`, "--data-dir", dir, "--log-level", "warn"], { stdout: "ignore", stderr: "inherit" });
  try {
    const conn = await until(async () => {
      const s = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } });
      s.end();
      return true;
    });
    const connectMs = performance.now() - t0;
    void conn;
    const broker = await until(() => BrokerConnection.open("127.0.0.1", port));
    const batch = buildBatch({ records: [{ value: "x" }] });
    await until(async () => {
      const r = await broker.send(Produce, null, { acks: -1, timeoutMs: 5000, transactionalId: null, topicData: [{ name: "first", partitionData: [{ index: 0, records: batch }] }] });
      return r.responses[0]!.partitionResponses[0]!.errorCode === 0 ? true : null;
    });
    const produceMs = performance.now() - t0;
    broker.close();
    await Bun.sleep(1000);
    const idleRss = rssMiB(proc.pid);
    const client = new KafkaClient(`127.0.0.1:${port}`);
    await runOk([process.execPath, join(ROOT, "src/main.ts"), "topic", "create", "bulk", "-p", "4", "-b", `127.0.0.1:${port}`]);
    const producer = new Producer(client, await client.topic("bulk"), { batchBytes: 256 * 1024, maxInFlight: 8 });
    const value = new Uint8Array(1024).fill(120);
    for (let i = 0; i < 100 * 1024; i++) await producer.add(i % 4, { value }, 1030);
    await producer.close();
    client.close();
    const rss100 = rssMiB(proc.pid);
    return { connectMs, produceMs, idleRss, rss100 };
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const variants: [string, string[]][] = [
  ["dist/klite (compiled)", [BIN]],
  ["bun src/main.ts", [process.execPath, join(ROOT, "src/main.ts")]],
  // In memory the 100 MiB stay in RSS: the row shows what --memory costs (no retention set).
  ["dist/klite --memory", [BIN, "--memory"]],
];
const results = new Map<string, Figures[]>(variants.map(([n]) => [n, []]));
for (let i = 0; i < runs; i++) for (const [name, cmd] of variants) results.get(name)!.push(await measure(cmd));

// startBroker() from a user's project (node_modules/klite links to this checkout); every
// figure counts from before `import("klite")`, so loading the broker's modules is included.
const project = tempDir("klite-measure-project-");
mkdirSync(join(project, "node_modules"), { recursive: true });
symlinkSync(ROOT, join(project, "node_modules/klite"));
symlinkSync(join(CLIENTS, "node_modules/kafkajs"), join(project, "node_modules/kafkajs"));
cpSync(join(CLIENTS, "start/measure.mjs"), join(project, "measure.mjs"));
const starts = new Map<string, { importMs: number; startMs: number; firstProduceMs: number }[]>([
  ["startBroker() under Bun (in process)", []],
  ["startBroker() under Node (child process)", []],
]);
try {
  for (let i = 0; i < runs; i++) {
    starts.get("startBroker() under Bun (in process)")!.push(await runJson([process.execPath, join(project, "measure.mjs")], { cwd: project }));
    starts.get("startBroker() under Node (child process)")!.push(await runJson(["node", join(project, "measure.mjs")], { cwd: project }));
  }
} finally {
  rmSync(project, { recursive: true, force: true });
}

const f1 = (x: number) => x.toFixed(1);
console.log(`medians of ${runs} runs (all runs in brackets)`);
console.log("| | exec → first accepted connection | exec → first acknowledged produce | idle RSS | RSS after 100 MiB produced |");
console.log("|---|---|---|---|---|");
for (const [name, fs] of results) {
  const col = (k: keyof Figures, unit: string) => `${f1(median(fs.map((f) => f[k])))} ${unit} [${fs.map((f) => f1(f[k])).join(", ")}]`;
  console.log(`| ${name} | ${col("connectMs", "ms")} | ${col("produceMs", "ms")} | ${col("idleRss", "MiB")} | ${col("rss100", "MiB")} |`);
}
for (const [name, xs] of starts) {
  const col = (k: "importMs" | "startMs" | "firstProduceMs") => `${median(xs.map((x) => x[k]))} ms [${xs.map((x) => x[k]).join(", ")}]`;
  console.log(`| ${name} | import klite ${col("importMs")}, startBroker() resolved ${col("startMs")} | first KafkaJS produce acknowledged ${col("firstProduceMs")} | | |`);
}
console.log(`dist/klite size: ${(statSync(BIN).size / 1024 / 1024).toFixed(1)} MiB`);
