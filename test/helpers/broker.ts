// Starts klite for tests: as a subprocess (for kill -9, restarts and real
// signals) or in process. Each gets port 0 and, unless told otherwise, its own
// temporary data dir under os.tmpdir(), removed at cleanup. KLITE_KEEP_DATA=1
// keeps every data dir for a post-mortem.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { startBroker, type RunningBroker } from "../../src/broker.ts";
import type { BrokerOptions } from "../../src/config.ts";

export const ROOT = resolve(import.meta.dir, "../..");
/** The Bun running the tests: the same one `node_modules/.bin/bun` points at. */
const BUN = process.execPath;
const LISTENING = /listening on (\S+):(\d+)/;
const KEEP_ALL = process.env.KLITE_KEEP_DATA === "1";
/** How much of a broker's stderr/stdout is kept for error messages. */
const OUTPUT_TAIL = 64 * 1024;

export function tempDir(prefix = "klite-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface SpawnOptions {
  /** Extra flags after `--listen 127.0.0.1:PORT --data-dir DIR` (later flags win). */
  args?: string[];
  /** Reuse this data dir; it is then the caller's and never removed. */
  dataDir?: string;
  /** `--memory` instead of a data dir: nothing on disk (dataDir is then ":memory:"). */
  memory?: boolean;
  /** The broker's working directory (default: the checkout). */
  cwd?: string;
  /** Added to the inherited environment. */
  env?: Record<string, string>;
  /** 0 (default) = any free port. */
  port?: number;
  /** Keep the data dir at cleanup. */
  keep?: boolean;
  startTimeoutMs?: number;
  /** Run the broker of another checkout (benchmarks against a baseline); default this one. */
  root?: string;
}

export interface SpawnedBroker {
  host: string;
  port: number;
  /** `127.0.0.1:PORT` */
  bootstrap: string;
  dataDir: string;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** The tail of what the broker wrote to stderr so far. */
  stderr(): string;
  stdout(): string;
  /** SIGKILL and wait for the process to be gone. */
  kill9(): Promise<void>;
  /** SIGTERM (graceful shutdown) and wait; resolves to the exit code. */
  stop(): Promise<number>;
  /** Stops it if still running and starts a new process on the same port and data dir. */
  restart(extra?: { args?: string[]; env?: Record<string, string> }): Promise<SpawnedBroker>;
  /** Kills it and any process restart() started from it, and removes the data dir unless kept or not ours. */
  cleanup(): Promise<void>;
}

// Brokers still running when the test process exits (a crashed test, an
// interrupted run) are killed rather than left behind holding ports.
const live = new Set<Subprocess>();
process.on("exit", () => {
  for (const p of live) p.kill(9);
});

function collect(stream: ReadableStream<Uint8Array>, onText: (s: string) => void): void {
  const decoder = new TextDecoder();
  (async () => {
    for await (const chunk of stream) onText(decoder.decode(chunk, { stream: true }));
  })().catch(() => {});
}

export async function spawnBroker(opts: SpawnOptions = {}): Promise<SpawnedBroker> {
  return spawnInternal(opts, opts.dataDir === undefined && !opts.memory);
}

async function spawnInternal(opts: SpawnOptions, ownsDir: boolean): Promise<SpawnedBroker> {
  const dataDir = opts.memory ? ":memory:" : (opts.dataDir ?? tempDir());
  const args = opts.args ?? [];
  const root = opts.root ?? ROOT;
  const proc = Bun.spawn([BUN, join(root, "src/main.ts"), "--listen", `127.0.0.1:${opts.port ?? 0}`, "--data-dir", dataDir, ...args], {
    cwd: opts.cwd ?? root,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...opts.env },
  });
  live.add(proc);
  void proc.exited.then(() => live.delete(proc));

  let err = "";
  let out = "";
  let announced: ((m: RegExpExecArray) => void) | null = null;
  collect(proc.stderr, (s) => {
    err = (err + s).slice(-OUTPUT_TAIL);
  });
  // stdout keeps being drained after the listening line so the broker can never block on a full pipe.
  collect(proc.stdout, (s) => {
    out = (out + s).slice(-OUTPUT_TAIL);
    const m = LISTENING.exec(out);
    if (m && announced) {
      announced(m);
      announced = null;
    }
  });

  const timeoutMs = opts.startTimeoutMs ?? 30_000;
  let timer: Timer | undefined;
  const started = await Promise.race([
    new Promise<RegExpExecArray>((res) => (announced = res)),
    proc.exited.then((code) => new Error(`broker exited with code ${code} before listening`)),
    new Promise<Error>((res) => (timer = setTimeout(() => res(new Error(`broker did not print its listening line within ${timeoutMs} ms`)), timeoutMs))),
  ]);
  clearTimeout(timer);
  if (started instanceof Error) {
    proc.kill(9);
    await proc.exited;
    // Let the readers pick up the last bytes the broker wrote.
    await Bun.sleep(20);
    if (ownsDir && !opts.keep && !KEEP_ALL) rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`${started.message}\n--- stdout\n${out}\n--- stderr\n${err}`);
  }
  const host = started[1]!.replace(/^\[(.*)\]$/, "$1");
  const port = Number(started[2]);

  const running = () => proc.exitCode === null && proc.signalCode === null;
  let successor: SpawnedBroker | null = null;
  const self: SpawnedBroker = {
    host,
    port,
    bootstrap: `127.0.0.1:${port}`,
    dataDir,
    proc,
    stderr: () => err,
    stdout: () => out,
    async kill9() {
      proc.kill(9);
      await proc.exited;
    },
    async stop() {
      if (running()) proc.kill("SIGTERM");
      return await proc.exited;
    },
    async restart(extra = {}) {
      if (running()) await self.stop();
      successor = await spawnInternal({ ...opts, args: extra.args ?? args, env: { ...opts.env, ...extra.env }, dataDir, port }, ownsDir);
      return successor;
    },
    async cleanup() {
      await successor?.cleanup();
      if (running()) {
        proc.kill(9);
        await proc.exited;
      }
      if (ownsDir && !opts.keep && !KEEP_ALL) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return self;
}

export type InProcessBroker = RunningBroker & { bootstrap: string; dataDir: string; cleanup(): Promise<void> };

/** An in-process broker on a random port with a temporary data dir (unless `dataDir` is given). */
export async function inProcessBroker(opts: Partial<BrokerOptions> & { keep?: boolean } = {}): Promise<InProcessBroker> {
  const { keep, ...options } = opts;
  const ownsDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? tempDir();
  const b = await startBroker({ listen: "127.0.0.1:0", logLevel: "warn", ...options, dataDir });
  return Object.assign(b, {
    bootstrap: `127.0.0.1:${b.port}`,
    dataDir,
    async cleanup() {
      await b.close();
      if (ownsDir && !keep && !KEEP_ALL) rmSync(dataDir, { recursive: true, force: true });
    },
  });
}

/** Runs `fn` against a fresh in-process broker and always cleans it up. */
export async function withInProcessBroker<T>(opts: Partial<BrokerOptions> & { keep?: boolean }, fn: (b: InProcessBroker) => Promise<T>): Promise<T> {
  const b = await inProcessBroker(opts);
  try {
    return await fn(b);
  } finally {
    await b.cleanup();
  }
}

/** Runs `fn` against a fresh broker subprocess; brokers it restarts are cleaned up too. */
export async function withSpawnedBroker<T>(opts: SpawnOptions, fn: (b: SpawnedBroker) => Promise<T>): Promise<T> {
  const b = await spawnBroker(opts);
  try {
    return await fn(b);
  } finally {
    await b.cleanup();
  }
}
