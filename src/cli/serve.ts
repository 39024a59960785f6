// klite serve (and bare `klite FLAGS`): runs the broker until SIGINT/SIGTERM.
// Besides the broker options of config.ts it takes `--create-topic
// NAME[:PARTITIONS]`, created through the broker's own CreateTopics handler
// before the listening line is printed, so whoever waits for that line
// (startBroker under Node, scripts) finds the topics there.

import { rmSync } from "node:fs";
import { startBroker, type RunningBroker } from "../broker.ts";
import { helpText, OptionError, parseOptions } from "../config.ts";
import { CreateTopics } from "../client/apis.ts";
import { BrokerConnection } from "../client/connection.ts";
import { check } from "../client/errors.ts";
import { UsageError } from "./args.ts";
import { VERSION_LINE } from "./version.ts";

export const SERVE_EXTRA_HELP = [
  "  --create-topic NAME[:N][,KEY=VALUE...] create a topic once listening, unless it exists (repeatable)",
  "  --stop-with-stdin                      shut down when stdin closes (a parent that dies takes the broker with it)",
  "  --delete-data-dir-on-exit              remove --data-dir after shutting down (a temporary one)",
].join("\n");

export function serveHelp(): string {
  return helpText().replace(/^usage: klite \[options\]/, "usage: klite [serve] [options]") + "\n" + SERVE_EXTRA_HELP;
}

export interface TopicRequest {
  name: string;
  partitions?: number;
  configs?: Record<string, string>;
}

/** Splits `--create-topic NAME[:PARTITIONS][,KEY=VALUE...]` out of the broker flags (topic names hold neither ':' nor ','). */
function takeTopics(argv: readonly string[]): { rest: string[]; topics: TopicRequest[] } {
  const rest: string[] = [];
  const topics: TopicRequest[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    let v: string | undefined;
    if (a === "--create-topic") v = argv[++i];
    else if (a.startsWith("--create-topic=")) v = a.slice("--create-topic=".length);
    else {
      rest.push(a);
      continue;
    }
    const m = v === undefined ? null : /^([^:,]+)(?::(\d+))?((?:,[^=,]+=[^,]*)*)$/.exec(v);
    if (!m) throw new UsageError(`--create-topic: expected NAME[:PARTITIONS][,KEY=VALUE...], got ${v ?? "nothing"}`);
    const configs = Object.fromEntries(m[3]!.split(",").slice(1).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
    topics.push({ name: m[1]!, partitions: m[2] === undefined ? undefined : Number(m[2]), configs });
  }
  return { rest, topics };
}

/** Creates topics on a running broker over its own listener; an existing topic is fine. */
export async function createTopics(host: string, port: number, topics: readonly TopicRequest[]): Promise<void> {
  if (topics.length === 0) return;
  const conn = await BrokerConnection.open(["", "::", "0.0.0.0"].includes(host) ? "127.0.0.1" : host, port, "klite-serve");
  try {
    const res = await conn.send(CreateTopics, null, {
      topics: topics.map((t) => ({
        name: t.name,
        numPartitions: t.partitions ?? -1,
        replicationFactor: -1,
        configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
      })),
      timeoutMs: 30_000,
    });
    for (const r of res.topics) if (r.errorCode !== 36) check(r.errorCode, `CreateTopics ${r.name}`, r.errorMessage);
  } finally {
    conn.close();
  }
}

export function listeningLine(running: RunningBroker): string {
  const shown = running.host.includes(":") ? `[${running.host}]` : running.host;
  const b = running.broker;
  const http = running.httpPort === null ? "" : `, http on port ${running.httpPort}`;
  const [first, ...others] = running.listeners;
  // One plain listener keeps the line as it always was; otherwise every listener is named.
  const more = others.length === 0 && first?.protocol === "PLAINTEXT" ? "" : `, listeners ${running.listeners.map((l) => `${l.name}://${l.host.includes(":") ? `[${l.host}]` : l.host}:${l.port}`).join(" ")}`;
  return `${VERSION_LINE} listening on ${shown}:${running.port}, advertised as ${b.advertisedHost}:${b.advertisedPort}, data in ${b.options.dataDir}${http}${more}`;
}

/** Starts a broker from `klite serve` flags and creates the topics they name. */
export async function startServing(argv: readonly string[]): Promise<RunningBroker> {
  const { rest, topics } = takeTopics(argv.filter((a) => a !== "--stop-with-stdin" && a !== "--delete-data-dir-on-exit"));
  let options;
  try {
    options = parseOptions(rest, process.env);
  } catch (e) {
    if (e instanceof OptionError) throw new UsageError(e.message);
    throw e;
  }
  const running = await startBroker(options);
  try {
    await createTopics(running.host, running.port, topics);
  } catch (e) {
    await running.close();
    throw e;
  }
  return running;
}

/** Runs the broker; resolves to -1 while it runs (the process exits from the signal handler). */
export async function serve(argv: readonly string[]): Promise<number> {
  const running = await startServing(argv);
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    running.broker.log.info(`${why}: shutting down`);
    running.close().then(
      () => {
        if (argv.includes("--delete-data-dir-on-exit") && running.broker.options.dataDir.startsWith("/")) rmSync(running.broker.options.dataDir, { recursive: true, force: true });
        process.exit(0);
      },
      (e) => {
        console.error(`klite: shutdown failed: ${e}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  // Only now: whoever waits for this line may send SIGTERM at once, and it must find the handler.
  console.log(listeningLine(running));
  if (argv.includes("--stop-with-stdin")) {
    void (async () => {
      for await (const _ of Bun.stdin.stream()) void _;
      stop("stdin closed");
    })();
  }
  return -1;
}
