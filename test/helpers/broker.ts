// Starts klite for tests: as a subprocess (for kill -9 and restarts) or in
// process. Each gets port 0 and its own temporary data dir.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { startBroker, type RunningBroker } from "../../src/broker.ts";
import type { BrokerOptions } from "../../src/config.ts";

export const ROOT = resolve(import.meta.dir, "../..");
const BUN = process.execPath;

export function tempDir(prefix = "klite-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface SpawnedBroker {
  port: number;
  bootstrap: string;
  dataDir: string;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  stderr(): string;
  kill9(): Promise<void>;
  stop(): Promise<number>;
  restart(): Promise<SpawnedBroker>;
  cleanup(): Promise<void>;
}

export async function spawnBroker(opts: { args?: string[]; dataDir?: string; port?: number } = {}): Promise<SpawnedBroker> {
  const dataDir = opts.dataDir ?? tempDir();
  const args = opts.args ?? [];
  const proc = Bun.spawn([BUN, join(ROOT, "src/main.ts"), "--listen", `127.0.0.1:${opts.port ?? 0}`, "--data-dir", dataDir, ...args], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let err = "";
  (async () => {
    for await (const chunk of proc.stderr) err += new TextDecoder().decode(chunk);
  })();
  const reader = proc.stdout.getReader();
  let out = "";
  const deadline = Date.now() + 20_000;
  let port = 0;
  while (!port) {
    const r = await Promise.race([reader.read(), Bun.sleep(Math.max(1, deadline - Date.now())).then(() => null)]);
    if (!r || r.done) {
      proc.kill(9);
      throw new Error(`broker did not start: ${out}\n${err}`);
    }
    out += new TextDecoder().decode(r.value);
    const m = /listening on (\S+):(\d+)/.exec(out);
    if (m) port = Number(m[2]);
  }
  reader.releaseLock();
  const self: SpawnedBroker = {
    port,
    bootstrap: `127.0.0.1:${port}`,
    dataDir,
    proc,
    stderr: () => err,
    async kill9() {
      proc.kill(9);
      await proc.exited;
    },
    async stop() {
      proc.kill("SIGTERM");
      return await proc.exited;
    },
    async restart() {
      if (proc.exitCode === null && !proc.killed) await self.stop();
      return spawnBroker({ args, dataDir, port });
    },
    async cleanup() {
      if (proc.exitCode === null) {
        proc.kill(9);
        await proc.exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return self;
}

/** An in-process broker on a random port with a temporary data dir. */
export async function inProcessBroker(opts: Partial<BrokerOptions> = {}): Promise<RunningBroker & { bootstrap: string; cleanup(): Promise<void> }> {
  const dataDir = opts.dataDir ?? tempDir();
  const b = await startBroker({ listen: "127.0.0.1:0", logLevel: "warn", ...opts, dataDir });
  return Object.assign(b, {
    bootstrap: `127.0.0.1:${b.port}`,
    async cleanup() {
      await b.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  });
}
