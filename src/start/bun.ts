// startBroker() under Bun: the broker runs in the calling process, on a free
// port of 127.0.0.1 and a temporary data dir unless told otherwise. The
// options go through the same flags and parser as `klite serve`, so both
// runtimes accept and refuse the same things.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServing } from "../cli/serve.ts";
import { brokerFlags } from "./flags.mjs";
import type { KliteBroker, StartOptions } from "./types.d.ts";

/** Temporary data dirs of brokers not yet stopped, removed if the process exits first. */
const temporary = new Set<string>();
process.on("exit", () => {
  for (const d of temporary) rmSync(d, { recursive: true, force: true });
});

export async function startBroker(options: StartOptions = {}): Promise<KliteBroker> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "klite-"));
  if (ownDir) temporary.add(dataDir);
  let running;
  try {
    running = await startServing(brokerFlags(options, dataDir));
  } catch (e) {
    if (ownDir) {
      rmSync(dataDir, { recursive: true, force: true });
      temporary.delete(dataDir);
    }
    throw e;
  }
  const host = options.host ?? "127.0.0.1";
  let stopping: Promise<void> | null = null;
  return {
    bootstrap: `${host.includes(":") ? `[${host}]` : host}:${running.port}`,
    host,
    port: running.port,
    dataDir: running.broker.options.dataDir,
    mode: "in-process",
    pid: process.pid,
    stop() {
      stopping ??= running.close().finally(() => {
        if (ownDir) {
          rmSync(dataDir, { recursive: true, force: true });
          temporary.delete(dataDir);
        }
      });
      return stopping;
    },
  };
}

export type { KliteBroker, StartOptions, TopicSpec } from "./types.d.ts";
