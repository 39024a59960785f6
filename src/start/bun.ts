// startBroker() under Bun: the broker runs in the calling process, on a free
// port of 127.0.0.1, in memory unless given a data dir (nothing touches the
// disk). The options go through the same flags and parser as `klite serve`,
// so both runtimes accept and refuse the same things.

import { startServing } from "../cli/serve.ts";
import { MEMORY_DATA_DIR } from "../config.ts";
import { brokerFlags } from "./flags.mjs";
import type { KliteBroker, StartOptions } from "./types.d.ts";

export async function startBroker(options: StartOptions = {}): Promise<KliteBroker> {
  const running = await startServing(brokerFlags(options, options.dataDir ?? MEMORY_DATA_DIR));
  const host = options.host ?? "127.0.0.1";
  let stopping: Promise<void> | null = null;
  return {
    bootstrap: `${host.includes(":") ? `[${host}]` : host}:${running.port}`,
    host,
    port: running.port,
    dataDir: options.dataDir === undefined ? MEMORY_DATA_DIR : running.broker.options.dataDir,
    mode: "in-process",
    pid: process.pid,
    stop() {
      stopping ??= running.close();
      return stopping;
    },
  };
}

export type { KliteBroker, StartOptions, TopicSpec } from "./types.d.ts";
