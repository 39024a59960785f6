// klite mirror: copies topics, and optionally group offsets, from one
// Kafka-protocol cluster to another (src/mirror). Runs until stopped
// (SIGTERM/SIGINT finish what is in flight and save progress), or with
// --once until every partition is caught up; --status only reports lag.

import { KafkaClient } from "../client/client.ts";
import { splitHostPort } from "../config.ts";
import { MirrorSession, type PartitionLag } from "../mirror/mirror.ts";
import { ConfigError, PROGRESS_TOPIC, sideConfig, type MirrorOptions } from "../mirror/options.ts";
import { mirrorStatus, renderMetrics } from "../mirror/status.ts";
import { FORMAT_FLAG, UsageError, keyValues, type Parsed } from "./args.ts";
import type { Command } from "./command.ts";
import type { Output } from "./output.ts";

/** Sessions that fail in a row before --once gives up. */
const ONCE_ATTEMPTS = 5;

function regex(flag: string, s: string): RegExp {
  try {
    // Whole-name matches, as MM2's topics/groups lists and Java's Pattern.matches.
    return new RegExp(`^(?:${s})$`);
  } catch (e) {
    throw new UsageError(`--${flag}: not a regular expression: ${(e as Error).message}`);
  }
}

export function mirrorOptions(p: Parsed): MirrorOptions {
  const need = (k: string) => {
    const v = p.flags[k] as string | undefined;
    if (!v) throw new UsageError(`--${k} HOST:PORT is required`);
    return v;
  };
  try {
    return {
      source: need("source"),
      target: need("target"),
      topics: regex("topics", (p.flags.topics as string | undefined) ?? ".*"),
      exclude: p.flags.exclude === undefined ? null : regex("exclude", p.flags.exclude as string),
      groups: regex("groups", (p.flags.groups as string | undefined) ?? ".*"),
      syncGroupOffsets: p.flags["sync-group-offsets"] === true,
      once: p.flags.once === true,
      refreshMs: p.flags["refresh-ms"] as number,
      progressTopic: p.flags["progress-topic"] as string,
      sourceConfig: sideConfig("source", keyValues("source-config", p.flags["source-config"] as string[] | undefined)),
      targetConfig: sideConfig("target", keyValues("target-config", p.flags["target-config"] as string[] | undefined)),
      metricsListen: (p.flags["metrics-listen"] as string | undefined) ?? null,
    };
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.message);
    throw e;
  }
}

function printLags(out: Output, lags: readonly PartitionLag[], json: boolean): void {
  if (json) for (const l of lags) out.json(l);
  else out.table(["TOPIC", "PARTITION", "OFFSETS", "SOURCE-END", "MIRRORED", "LAG"], lags.map((l) => [l.topic, l.partition, l.mode === "identity" ? "preserved" : "translated", l.sourceEnd, l.mirrored, l.lag]));
}

async function run(p: Parsed, out: Output): Promise<number> {
  const o = mirrorOptions(p);
  if (o.refreshMs <= 0) throw new UsageError("--refresh-ms must be positive");
  const json = p.flags.format === "json";
  if (p.flags.status) {
    const source = new KafkaClient(o.source, o.sourceConfig.clientId);
    const target = new KafkaClient(o.target, o.targetConfig.clientId);
    try {
      printLags(out, await mirrorStatus(source, target, o), json);
    } finally {
      source.close();
      target.close();
    }
    return 0;
  }
  const log = (line: string) => console.error(`klite mirror: ${line}`);
  let session: MirrorSession | null = null;
  let stopping = false;
  const stop = () => {
    stopping = true;
    session?.stop();
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  let totals = { records: 0, bytes: 0 };
  let server: ReturnType<typeof Bun.serve> | null = null;
  if (o.metricsListen) {
    const { host, port } = splitHostPort(o.metricsListen);
    server = Bun.serve({
      hostname: host === "" ? "::" : host,
      port,
      fetch: (req) =>
        new URL(req.url).pathname === "/metrics"
          ? new Response(renderMetrics(session?.lags() ?? [], totals.records + (session?.recordsWritten ?? 0), totals.bytes + (session?.bytesWritten ?? 0)), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } })
          : new Response("not found: try /metrics\n", { status: 404 }),
    });
    log(`metrics on http://${o.metricsListen.replace(/^:/, "localhost:").replace(/:0$/, `:${server.port}`)}/metrics`);
  }
  let failures = 0;
  try {
    for (;;) {
      const s = new MirrorSession(o, { log });
      session = s;
      try {
        if (stopping) return 0;
        await s.run();
        if (o.once) printLags(out, s.lags(), json);
        return 0;
      } catch (e) {
        await s.settle();
        if (stopping) return 0;
        failures++;
        log(`${(e as Error).message}; starting over from what the target holds`);
        if (o.once && failures >= ONCE_ATTEMPTS) throw e;
        await Bun.sleep(Math.min(200 * 2 ** failures, 5_000));
      } finally {
        totals = { records: totals.records + s.recordsWritten, bytes: totals.bytes + s.bytesWritten };
        s.close();
      }
    }
  } finally {
    server?.stop(true);
    process.off("SIGTERM", stop);
    process.off("SIGINT", stop);
  }
}

export const mirrorCommand: Command = {
  spec: {
    name: "mirror",
    args: "",
    summary: "Copy topics (records, offsets, configs) and group offsets from one Kafka-protocol cluster to another.",
    positional: [0, 0],
    flags: [
      { name: "source", kind: "string", value: "HOST:PORT[,...]", help: "cluster to copy from" },
      { name: "target", kind: "string", value: "HOST:PORT[,...]", help: "cluster to copy to" },
      { name: "topics", kind: "string", value: "REGEX", help: "topics to mirror, matched against the whole name (default .*)" },
      { name: "exclude", kind: "string", value: "REGEX", help: "topics not to mirror" },
      { name: "groups", kind: "string", value: "REGEX", help: "groups whose offsets --sync-group-offsets copies (default .*)" },
      { name: "sync-group-offsets", kind: "bool", help: "copy committed offsets of groups with no members on the target" },
      { name: "once", kind: "bool", help: "exit 0 once every partition is caught up (the cut-over check)" },
      { name: "status", kind: "bool", help: "print lag per partition and exit; copies nothing" },
      { name: "source-config", kind: "list", value: "KEY=VALUE", help: "source client setting: client.id, fetch.max.bytes, max.partition.fetch.bytes, fetch.max.wait.ms" },
      { name: "target-config", kind: "list", value: "KEY=VALUE", help: "target client setting: client.id, max.in.flight.requests.per.connection" },
      { name: "refresh-ms", kind: "int", value: "MS", default: 5000, help: "how often new topics, new partitions and group offsets are looked for" },
      { name: "progress-topic", kind: "string", value: "TOPIC", default: PROGRESS_TOPIC, help: "compacted topic on the target holding the mirror's progress" },
      { name: "metrics-listen", kind: "string", value: "HOST:PORT", help: "serve Prometheus /metrics (lag per partition) here" },
      FORMAT_FLAG,
    ],
    notes: [
      "Topics whose names start with __, end in .internal or -internal, or start with mm2- are never mirrored.",
      "On a klite target, a partition empty when mirroring starts gets every batch at its source offset (gaps of",
      "compaction and transaction markers included), so group offsets need no translation; elsewhere the target",
      "assigns offsets and the mirror keeps offset syncs in --progress-topic to translate them.",
      "Only committed transactional records are copied. TLS and SASL settings are not supported yet.",
    ].join("\n"),
  },
  run,
};
