// Broker benchmark: a librdkafka client in C produces and consumes through a
// real klite process, and the same run measures what the machine allows
// (sequential write+fdatasync to the data dir, raw loopback TCP), so every
// klite figure is printed as a fraction of its limit.
//
//   bun test/bench/broker.ts [--records N] [--size BYTES] [--partitions P]
//                            [--quick] [--modes group,never] [--dir BASE] [--profile]
//
// Defaults: 1,000,000 records of 1024 bytes to 6 partitions, acks=all,
// linger.ms=5, no compression, for --fsync group and --fsync never.
// --quick is 100,000 records. --profile runs the broker under `bun --cpu-prof`
// and prints where the Markdown profiles went.
//
// Not a test and no thresholds: it prints figures and the targets of issue 6
// next to them. The machine is shared, so the CPU used by other processes
// during each phase is printed as well ("others", in cores).

import { closeSync, fdatasync, fdatasyncSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";

const { values: opts } = parseArgs({
  options: {
    records: { type: "string" },
    size: { type: "string", default: "1024" },
    partitions: { type: "string", default: "6" },
    quick: { type: "boolean", default: false },
    modes: { type: "string", default: "group,never" },
    dir: { type: "string", default: tmpdir() },
    profile: { type: "boolean", default: false },
  },
});
const RECORDS = Number(opts.records ?? (opts.quick ? 100_000 : 1_000_000));
const SIZE = Number(opts.size);
const PARTITIONS = Number(opts.partitions);
const MODES = opts.modes.split(",") as ("group" | "never")[];
const VOLUME = RECORDS * SIZE;
const REPO = resolve(import.meta.dir, "../..");
const MiB = 1024 * 1024;
const CLK_TCK = 100; // USER_HZ: /proc reports CPU time in these on every Linux port Bun runs on

const PRODUCER_PROPS = ["linger.ms=5", "batch.size=1000000", "compression.type=none", "queue.buffering.max.kbytes=1048576"];
const CONSUMER_PROPS = ["fetch.max.bytes=104857600", "max.partition.fetch.bytes=10485760", "queued.max.messages.kbytes=262144"];
const RSS_LIMIT_MB = 200;

// ---------- helpers: /proc ----------

/** user+sys CPU seconds of a process (or of one of its threads). */
function procCpu(pid: number, tid?: number): number {
  try {
    const s = readFileSync(tid ? `/proc/${pid}/task/${tid}/stat` : `/proc/${pid}/stat`, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / CLK_TCK; // fields 14 and 15 of stat(5)
  } catch {
    return NaN;
  }
}

/** Busy CPU seconds of the whole machine, summed over cores. */
function machineCpu(): number {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3]! + f[4]!; // idle + iowait
  return (f.slice(0, 8).reduce((a, b) => a + b, 0) - idle) / CLK_TCK;
}

interface Rss {
  total: number;
  anon: number;
  file: number;
}
function rssMB(pid: number): Rss | null {
  try {
    const s = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? NaN) / 1024;
    return { total: kb("VmRSS"), anon: kb("RssAnon"), file: kb("RssFile") + kb("RssShmem") };
  } catch {
    return null;
  }
}

function dirBytes(dir: string): number {
  let n = 0;
  try {
    for (const name of readdirSync(dir, { recursive: true }) as string[]) {
      try {
        const st = statSync(join(dir, name));
        if (st.isFile()) n += st.size;
      } catch {
        // a segment or temp file went away between readdir and stat
      }
    }
  } catch {
    // the data dir itself is gone (shutdown)
  }
  return n;
}

// ---------- the C client ----------

const work = mkdtempSync(join(opts.dir, "klite-broker-bench-"));
const helper = join(work, "rdkafka-bench");
{
  const cc = Bun.spawnSync(["cc", "-O2", "-o", helper, join(import.meta.dir, "rdkafka-bench.c"), "-lrdkafka"], { stderr: "pipe" });
  if (cc.exitCode !== 0) {
    console.error(`compiling rdkafka-bench.c failed (is librdkafka-dev installed?):\n${cc.stderr.toString()}`);
    process.exit(1);
  }
}

interface ClientResult {
  records: number;
  bytes: number;
  elapsed: number;
  user: number;
  sys: number;
  thread: string;
  threadCpu: number;
  error: string;
  failed?: number;
  errors?: number;
  p50?: number;
  p99?: number;
  max?: number;
}

async function client(args: string[]): Promise<ClientResult & { pid: number }> {
  const p = Bun.spawn([helper, ...args], { stdout: "pipe", stderr: "pipe" });
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  await p.exited;
  const line = out.trim().split("\n").pop() ?? "";
  try {
    return { ...(JSON.parse(line) as ClientResult), pid: p.pid };
  } catch {
    throw new Error(`rdkafka-bench ${args[0]} exited ${p.exitCode}: ${err.trim().split("\n").slice(-5).join("\n")}`);
  }
}

// ---------- limits ----------

/**
 * Writes VOLUME bytes to a file in `dir` in 1 MiB write(2) calls.
 * final: one fdatasync at the end (what the disk and page cache take).
 * overlapped: an fdatasync always running on the thread pool while writes go
 *   on, each starting when the previous ends: the group commit pattern.
 * serial: write 4 MiB, fdatasync, repeat.
 */
async function diskLimit(dir: string, mode: "final" | "overlapped" | "serial"): Promise<{ mibps: number; syncs: number }> {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `disk-limit-${mode}.bin`);
  const chunk = new Uint8Array(MiB);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 2654435761) >>> 24;
  const fd = openSync(path, "w");
  let syncs = 0;
  let inFlight: Promise<void> | null = null;
  const startSync = () => {
    inFlight = new Promise<void>((res, rej) => fdatasync(fd, (e) => (e ? rej(e) : res()))).then(() => {
      syncs++;
      inFlight = null;
    });
  };
  const t = performance.now();
  for (let written = 0; written < VOLUME; ) {
    const n = Math.min(chunk.length, VOLUME - written);
    for (let done = 0; done < n; ) done += writeSync(fd, chunk, done, n - done);
    written += n;
    if (mode === "serial" && written % (4 * MiB) === 0) {
      fdatasyncSync(fd);
      syncs++;
    } else if (mode === "overlapped") {
      if (!inFlight) startSync();
      await new Promise((r) => setImmediate(r)); // let the finished fsync be noticed
    }
  }
  if (inFlight) await inFlight;
  fdatasyncSync(fd);
  syncs++;
  const ms = performance.now() - t;
  closeSync(fd);
  rmSync(path, { force: true });
  return { mibps: VOLUME / MiB / (ms / 1000), syncs };
}

// ---------- the broker ----------

interface Sample {
  t: number;
  phase: string;
  rss: Rss;
  disk: number;
}

class Broker {
  readonly samples: Sample[] = [];
  phase = "start";
  private timer: ReturnType<typeof setInterval> | null = null;
  private stderr = "";
  private constructor(
    readonly proc: ReturnType<typeof Bun.spawn>,
    readonly port: number,
    readonly dataDir: string,
  ) {}

  static async start(dataDir: string, fsync: string, profileDir: string | null): Promise<Broker> {
    const prof = profileDir ? ["--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${profileDir}`] : [];
    const args = [...prof, "src/main.ts", "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--fsync", fsync];
    args.push("--default-partitions", String(PARTITIONS), "--log-level", "warn");
    const proc = Bun.spawn([process.execPath, ...args], { cwd: REPO, stdout: "pipe", stderr: "pipe" });
    const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
    const dec = new TextDecoder();
    let text = "";
    const deadline = Date.now() + 30_000;
    let port = 0;
    while (!port) {
      const r = await Promise.race([reader.read(), Bun.sleep(Math.max(0, deadline - Date.now())).then(() => null)]);
      if (!r || r.done) {
        proc.kill(9);
        throw new Error(`broker did not start: ${text}${await new Response(proc.stderr as ReadableStream).text()}`);
      }
      text += dec.decode(r.value, { stream: true });
      const m = /listening on (\S+):(\d+)/.exec(text);
      if (m) port = Number(m[2]);
    }
    // Keep draining stdout so the broker never blocks on a full pipe.
    void (async () => {
      while (!(await reader.read()).done);
    })();
    const b = new Broker(proc, port, dataDir);
    void (async () => {
      for await (const c of proc.stderr as ReadableStream<Uint8Array>) b.stderr = (b.stderr + dec.decode(c)).slice(-4000);
    })();
    b.timer = setInterval(() => b.sample(), 200);
    b.sample();
    return b;
  }

  get pid(): number {
    return this.proc.pid;
  }

  private sample(): void {
    const rss = rssMB(this.pid);
    if (rss) this.samples.push({ t: performance.now(), phase: this.phase, rss, disk: dirBytes(this.dataDir) });
  }

  /** Whole-process and main (JS) thread CPU seconds. */
  cpu(): { all: number; main: number } {
    return { all: procCpu(this.pid), main: procCpu(this.pid, this.pid) };
  }

  async stop(): Promise<number> {
    if (this.timer) clearInterval(this.timer);
    this.proc.kill("SIGTERM");
    const code = await Promise.race([this.proc.exited, Bun.sleep(60_000).then(() => null)]);
    if (code === null) {
      this.proc.kill(9);
      console.log(`  broker did not exit within 60 s of SIGTERM; killed`);
      return -9;
    }
    if (code !== 0) console.log(`  broker exited ${code}; stderr tail:\n${this.stderr}`);
    return code;
  }

  stderrTail(): string {
    return this.stderr.trim();
  }
}

interface Phase {
  label: string;
  result: ClientResult;
  brokerCpu: number;
  brokerMain: number;
  others: number;
}

/** Runs one client invocation and accounts the CPU the broker and everyone else spent meanwhile. */
async function phase(broker: Broker, label: string, args: string[]): Promise<Phase> {
  broker.phase = label;
  const b0 = broker.cpu();
  const m0 = machineCpu();
  const result = await client(args);
  const b1 = broker.cpu();
  const machine = machineCpu() - m0;
  const brokerCpu = b1.all - b0.all;
  const clientCpu = result.user + result.sys;
  return { label, result, brokerCpu, brokerMain: b1.main - b0.main, others: Math.max(0, machine - brokerCpu - clientCpu) };
}

// ---------- report ----------

const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toLocaleString("en-US", { minimumFractionDigits: d, maximumFractionDigits: d }) : "-");
const pct = (r: number) => `${(r * 100).toFixed(0)}%`;

function clientVerdict(p: Phase): string {
  const r = p.result;
  const busiest = r.threadCpu / r.elapsed;
  const brokerMain = p.brokerMain / r.elapsed;
  if (busiest >= 0.85 && busiest > brokerMain) return `client-bound (its thread ${r.thread} ${pct(busiest)} busy)`;
  if (brokerMain >= 0.85) return `broker-bound (JS thread ${pct(brokerMain)} busy)`;
  return `neither thread saturated (client ${r.thread} ${pct(busiest)}, broker JS ${pct(brokerMain)})`;
}

function cpuCell(p: Phase): string {
  const r = p.result;
  const cores = (s: number) => (s / r.elapsed).toFixed(2);
  return `client ${cores(r.user + r.sys)} · broker ${cores(p.brokerCpu)} (JS thread ${cores(p.brokerMain)}) · others ${cores(p.others)}`;
}

// ---------- run ----------

console.log(`klite broker benchmark: ${fmt(RECORDS)} records × ${SIZE} B = ${fmt(VOLUME / MiB)} MiB, ${PARTITIONS} partitions, acks=all`);
console.log(`producer: ${PRODUCER_PROPS.join(" ")}; consumer: assign from beginning, ${CONSUMER_PROPS.join(" ")}`);
console.log(`machine: ${navigator.hardwareConcurrency} cores, load average ${readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ")} (shared; figures are noisy)`);
console.log(`work dir: ${work}\n`);

const limitDir = join(work, "limits");
const diskFinal = await diskLimit(limitDir, "final");
const diskOverlapped = await diskLimit(limitDir, "overlapped");
const diskSerial = await diskLimit(limitDir, "serial");
const loop = await client(["loopback", String(VOLUME), String(256 * 1024)]);
const loopMiBps = loop.bytes / MiB / loop.elapsed;
console.log("limits");
console.log(`  disk, 1 MiB writes + one final fdatasync:            ${fmt(diskFinal.mibps).padStart(6)} MiB/s`);
console.log(`  disk, 1 MiB writes + back-to-back fdatasync (group): ${fmt(diskOverlapped.mibps).padStart(6)} MiB/s  (${diskOverlapped.syncs} fdatasyncs)`);
console.log(`  disk, 1 MiB writes + fdatasync every 4 MiB (serial): ${fmt(diskSerial.mibps).padStart(6)} MiB/s  (${diskSerial.syncs} fdatasyncs)`);
console.log(`  loopback TCP, C → C, 256 KiB writes:                 ${fmt(loopMiBps).padStart(6)} MiB/s  (${((loop.user + loop.sys) / loop.elapsed).toFixed(2)} cores)`);

interface ModeResult {
  mode: string;
  produce: Phase;
  consume: Phase;
  paced: Phase;
  pacedRate: number;
  samples: Sample[];
  diskBytes: number;
  exit: number;
}
const results: ModeResult[] = [];

for (const mode of MODES) {
  console.log(`\n--fsync ${mode}`);
  const dataDir = join(work, `data-${mode}`);
  const profileDir = opts.profile ? mkdtempSync(join(opts.dir, `klite-broker-profile-${mode}-`)) : null;
  const broker = await Broker.start(dataDir, mode, profileDir);
  const bootstrap = `127.0.0.1:${broker.port}`;
  try {
    const produce = await phase(broker, "produce", ["produce", bootstrap, "bench", String(RECORDS), String(SIZE), String(PARTITIONS), ...PRODUCER_PROPS]);
    const pr = produce.result;
    if (pr.failed) console.log(`  produce: ${pr.failed} records failed: ${pr.error}`);
    console.log(`  produce  ${fmt(pr.records / pr.elapsed).padStart(9)} rec/s ${fmt(pr.bytes / MiB / pr.elapsed).padStart(5)} MiB/s  p50 ${fmt(pr.p50! * 1000, 1)} ms p99 ${fmt(pr.p99! * 1000, 1)} ms  ${clientVerdict(produce)}`);
    const diskBytes = dirBytes(dataDir);

    // The saturated run's latency is mostly the client's own queue; a run at
    // half that rate shows what one record waits for: linger + request + fsync.
    const pacedRate = Math.max(100, Math.round((pr.records / pr.elapsed) / 2));
    const pacedCount = Math.min(RECORDS, pacedRate * 4);
    const paced = await phase(broker, "paced", ["produce", bootstrap, "bench-paced", String(pacedCount), String(SIZE), String(PARTITIONS), `rate=${pacedRate}`, ...PRODUCER_PROPS]);
    console.log(`  paced    ${fmt(pacedRate).padStart(9)} rec/s for ${fmt(pacedCount)} records: p50 ${fmt(paced.result.p50! * 1000, 1)} ms p99 ${fmt(paced.result.p99! * 1000, 1)} ms max ${fmt(paced.result.max! * 1000, 1)} ms`);

    const consume = await phase(broker, "consume", ["consume", bootstrap, "bench", String(RECORDS), String(PARTITIONS), ...CONSUMER_PROPS]);
    const cr = consume.result;
    if (cr.errors) console.log(`  consume: ${cr.errors} errors: ${cr.error}`);
    console.log(`  consume  ${fmt(cr.records / cr.elapsed).padStart(9)} rec/s ${fmt(cr.bytes / MiB / cr.elapsed).padStart(5)} MiB/s  ${clientVerdict(consume)}`);
    const exit = await broker.stop();
    results.push({ mode, produce, consume, paced, pacedRate, samples: broker.samples, diskBytes, exit });
    if (profileDir) console.log(`  CPU profile (Markdown) in ${profileDir}`);
  } catch (e) {
    await broker.stop();
    console.log(`  failed: ${e instanceof Error ? e.message : e}\n  broker stderr tail:\n${broker.stderrTail()}`);
  }
  rmSync(dataDir, { recursive: true, force: true });
}

// ---------- summary ----------

console.log(`\nsummary (${fmt(RECORDS)} × ${SIZE} B; MiB/s of record values; limits: disk group ${fmt(diskOverlapped.mibps)}, disk final ${fmt(diskFinal.mibps)}, loopback ${fmt(loopMiBps)} MiB/s)`);
const rows: string[][] = [["", "records/s", "MiB/s", "limit", "ratio", "p50 ms", "p99 ms", "CPU in cores over the phase"]];
for (const r of results) {
  const p = r.produce.result;
  const c = r.consume.result;
  const diskLim = r.mode === "group" ? diskOverlapped.mibps : diskFinal.mibps;
  const pm = p.bytes / MiB / p.elapsed;
  const cm = c.bytes / MiB / c.elapsed;
  rows.push([`produce fsync=${r.mode}`, fmt(p.records / p.elapsed), fmt(pm), `disk ${fmt(diskLim)}`, pct(pm / diskLim), fmt(p.p50! * 1000, 1), fmt(p.p99! * 1000, 1), cpuCell(r.produce)]);
  rows.push([`  paced at ${fmt(r.pacedRate)}/s`, "", "", "", "", fmt(r.paced.result.p50! * 1000, 1), fmt(r.paced.result.p99! * 1000, 1), cpuCell(r.paced)]);
  rows.push([`consume (after ${r.mode})`, fmt(c.records / c.elapsed), fmt(cm), `loop ${fmt(loopMiBps)}`, pct(cm / loopMiBps), "", "", cpuCell(r.consume)]);
}
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (row[i] ?? "").length)));
for (const row of rows) console.log(row.map((cell, i) => (i === 0 || i === row.length - 1 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  "));

console.log(`\ntargets: produce fsync=group ≥ 75% of disk; consume ≥ 60% of loopback; broker RSS < ${RSS_LIMIT_MB} MB and flat`);
for (const r of results) {
  const p = r.produce.result;
  const c = r.consume.result;
  const line: string[] = [];
  if (r.mode === "group") line.push(`produce ${pct(p.bytes / MiB / p.elapsed / diskOverlapped.mibps)} of disk (${p.bytes / MiB / p.elapsed / diskOverlapped.mibps >= 0.75 ? "met" : "NOT met"})`);
  line.push(`consume ${pct(c.bytes / MiB / c.elapsed / loopMiBps)} of loopback (${c.bytes / MiB / c.elapsed / loopMiBps >= 0.6 ? "met" : "NOT met"})`);
  console.log(`  fsync=${r.mode}: ${line.join("; ")}; on disk ${fmt(r.diskBytes / MiB)} MiB for ${fmt(VOLUME / MiB)} MiB of values; broker exit ${r.exit}`);
  console.log(`    ${rssReport(r.samples)}`);
}

/**
 * RSS over the run, and whether it grows with the data: compares the largest
 * RSS while the first quarter of the data was being written with the largest
 * over the rest of the run (produce, paced and consume).
 */
function rssReport(samples: Sample[]): string {
  if (!samples.length) return "RSS: no samples";
  const total = samples.map((s) => s.rss.total);
  const min = Math.min(...total);
  const max = Math.max(...total);
  const finalDisk = Math.max(...samples.map((s) => s.disk));
  const early = samples.filter((s) => s.phase === "produce" && s.disk <= finalDisk / 4);
  const earlyMax = early.length ? Math.max(...early.map((s) => s.rss.total)) : NaN;
  const growth = max - earlyMax;
  const flat = growth <= Math.max(10, earlyMax * 0.1);
  const byPhase = ["produce", "paced", "consume"]
    .map((ph) => {
      const s = samples.filter((x) => x.phase === ph);
      if (!s.length) return "";
      const anon = Math.max(...s.map((x) => x.rss.anon));
      const file = Math.max(...s.map((x) => x.rss.file));
      return `${ph} max ${fmt(Math.max(...s.map((x) => x.rss.total)))} (anon ${fmt(anon)}, file ${fmt(file)})`;
    })
    .filter(Boolean)
    .join(", ");
  const curve = [0.1, 0.25, 0.5, 0.75, 1]
    .map((q) => {
      const s = samples.find((x) => x.disk >= finalDisk * q);
      return s ? `${fmt(s.disk / MiB)}→${fmt(s.rss.total)}` : "";
    })
    .filter(Boolean)
    .join(" ");
  return (
    `RSS MB: min ${fmt(min)} max ${fmt(max)} (${max < RSS_LIMIT_MB ? "under" : "OVER"} ${RSS_LIMIT_MB}); ${byPhase}; ` +
    `data MiB→RSS MB: ${curve}; ${Number.isFinite(growth) ? `+${fmt(growth)} MB after the first quarter of data: ${flat ? "flat" : "GROWS"}` : ""}`
  );
}

rmSync(work, { recursive: true, force: true });
