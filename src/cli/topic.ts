// klite topic create|list|describe|alter|delete: CreateTopics, Metadata,
// ListOffsets, DescribeConfigs, CreatePartitions, IncrementalAlterConfigs
// and DeleteTopics against any broker.

import { CreatePartitions, CreateTopics, DeleteTopics, DescribeConfigs, IncrementalAlterConfigs } from "../client/apis.ts";
import { EARLIEST, LATEST, type KafkaClient, type TopicInfo } from "../client/client.ts";
import { check } from "../client/errors.ts";
import { BOOTSTRAP_FLAG, FORMAT_FLAG, UsageError, keyValues } from "./args.ts";
import { withClient, type Command } from "./command.ts";

const TOPIC_RESOURCE = 2;
/** DescribeConfigs config source of a per-topic override. */
const DYNAMIC_TOPIC_CONFIG = 1;
const TIMEOUT_MS = 30_000;

const create: Command = {
  spec: {
    name: "topic create",
    args: "TOPIC",
    summary: "Create a topic.",
    positional: [1, 1],
    flags: [
      BOOTSTRAP_FLAG,
      { name: "partitions", short: "p", kind: "int", value: "N", help: "partition count (default: the broker's default)" },
      { name: "replication-factor", short: "r", kind: "int", value: "N", help: "replicas per partition (default: the broker's default)" },
      { name: "config", short: "c", kind: "list", value: "KEY=VALUE", help: "topic config, e.g. cleanup.policy=compact" },
      { name: "if-not-exists", kind: "bool", help: "succeed when the topic already exists" },
    ],
  },
  run: (p, out) =>
    withClient(p, async (c) => {
      const name = p.positional[0]!;
      const conn = await c.controller();
      const res = await conn.send(CreateTopics, null, {
        topics: [
          {
            name,
            numPartitions: (p.flags.partitions as number | undefined) ?? -1,
            replicationFactor: (p.flags["replication-factor"] as number | undefined) ?? -1,
            configs: keyValues("config", p.flags.config as string[] | undefined).map(([k, v]) => ({ name: k, value: v })),
          },
        ],
        timeoutMs: TIMEOUT_MS,
      });
      const r = res.topics[0]!;
      if (r.errorCode === 36 && p.flags["if-not-exists"]) return 0;
      check(r.errorCode, `CreateTopics ${name}`, r.errorMessage);
      out.line(`created topic ${name}${r.numPartitions > 0 ? ` with ${r.numPartitions} partition${r.numPartitions === 1 ? "" : "s"}` : ""}`);
      return 0;
    }),
};

const list: Command = {
  spec: { name: "topic list", args: "", summary: "List topics, one a line.", positional: [0, 0], flags: [BOOTSTRAP_FLAG, FORMAT_FLAG, { name: "internal", kind: "bool", help: "include internal topics" }] },
  run: (p, out) =>
    withClient(p, async (c) => {
      const md = await c.metadata(null);
      const topics = md.topics.filter((t) => p.flags.internal || !t.internal).sort((a, b) => a.name.localeCompare(b.name));
      for (const t of topics) {
        if (p.flags.format === "json") out.json({ name: t.name, topicId: t.topicId, partitions: t.partitions.length, internal: t.internal });
        else out.line(t.name);
      }
      return 0;
    }),
};

interface Described {
  topic: TopicInfo;
  configs: { name: string; value: string | null; source: number; readOnly: boolean; sensitive: boolean }[];
  start: Map<number, bigint>;
  end: Map<number, bigint>;
}

async function describeTopics(c: KafkaClient, names: string[] | null): Promise<Described[]> {
  const md = await c.metadata(names);
  const topics = names === null ? md.topics.filter((t) => !t.internal) : md.topics;
  for (const t of topics) check(t.errorCode, `Metadata ${t.name}`);
  topics.sort((a, b) => a.name.localeCompare(b.name));
  const conn = await c.anyBroker();
  const configs = topics.length
    ? await conn.send(DescribeConfigs, null, { resources: topics.map((t) => ({ resourceType: TOPIC_RESOURCE, resourceName: t.name, configurationKeys: null })), includeSynonyms: false, includeDocumentation: false })
    : { results: [] };
  return Promise.all(
    topics.map(async (t) => {
      const ps = t.partitions.map((x) => x.partition);
      const [start, end] = await Promise.all([c.listOffsets(t, ps, EARLIEST), c.listOffsets(t, ps, LATEST)]);
      const cr = configs.results.find((r) => r.resourceName === t.name);
      if (cr) check(cr.errorCode, `DescribeConfigs ${t.name}`, cr.errorMessage);
      return {
        topic: t,
        start,
        end,
        configs: (cr?.configs ?? []).map((x) => ({ name: x.name, value: x.isSensitive ? null : x.value, source: x.configSource, readOnly: x.readOnly, sensitive: x.isSensitive })),
      };
    }),
  );
}

const describe: Command = {
  spec: {
    name: "topic describe",
    args: "[TOPIC...]",
    summary: "Partitions, leaders, replicas, offsets and configs of topics (all topics when none is named), like kafka-topics.sh --describe.",
    positional: [0, Infinity],
    flags: [BOOTSTRAP_FLAG, FORMAT_FLAG, { name: "all-configs", kind: "bool", help: "show every config, not only the topic's overrides" }],
  },
  run: (p, out) =>
    withClient(p, async (c) => {
      const all = p.flags["all-configs"] === true;
      for (const d of await describeTopics(c, p.positional.length ? p.positional : null)) {
        const t = d.topic;
        const shown = d.configs.filter((x) => all || x.source === DYNAMIC_TOPIC_CONFIG);
        const rf = t.partitions[0]?.replicas.length ?? 0;
        if (p.flags.format === "json") {
          out.json({
            name: t.name,
            topicId: t.topicId,
            partitionCount: t.partitions.length,
            replicationFactor: rf,
            configs: Object.fromEntries(shown.map((x) => [x.name, x.value])),
            partitions: t.partitions.map((x) => ({
              partition: x.partition,
              leader: x.leader,
              replicas: x.replicas,
              isr: x.isr,
              startOffset: d.start.get(x.partition) ?? null,
              endOffset: d.end.get(x.partition) ?? null,
            })),
          });
          continue;
        }
        out.line(`Topic: ${t.name}\tTopicId: ${t.topicId}\tPartitionCount: ${t.partitions.length}\tReplicationFactor: ${rf}\tConfigs: ${shown.map((x) => `${x.name}=${x.value ?? ""}`).join(",")}`);
        for (const x of t.partitions) {
          out.line(`\tTopic: ${t.name}\tPartition: ${x.partition}\tLeader: ${x.leader}\tReplicas: ${x.replicas.join(",")}\tIsr: ${x.isr.join(",")}\tStartOffset: ${d.start.get(x.partition)}\tEndOffset: ${d.end.get(x.partition)}`);
        }
      }
      return 0;
    }),
};

const alter: Command = {
  spec: {
    name: "topic alter",
    args: "TOPIC",
    summary: "Add partitions to a topic or change its configs.",
    positional: [1, 1],
    flags: [
      BOOTSTRAP_FLAG,
      { name: "partitions", short: "p", kind: "int", value: "N", help: "grow the topic to N partitions" },
      { name: "config", short: "c", kind: "list", value: "KEY=VALUE", help: "set a topic config" },
      { name: "delete-config", kind: "list", value: "KEY", help: "remove a topic config override" },
    ],
  },
  run: (p, out) =>
    withClient(p, async (c) => {
      const name = p.positional[0]!;
      const set = keyValues("config", p.flags.config as string[] | undefined);
      const del = (p.flags["delete-config"] as string[] | undefined) ?? [];
      const partitions = p.flags.partitions as number | undefined;
      if (partitions === undefined && set.length === 0 && del.length === 0) throw new UsageError("nothing to alter: give --partitions, --config or --delete-config");
      const conn = await c.controller();
      if (partitions !== undefined) {
        const res = await conn.send(CreatePartitions, null, { topics: [{ name, count: partitions, assignments: null }], timeoutMs: TIMEOUT_MS, validateOnly: false });
        const r = res.results[0]!;
        check(r.errorCode, `CreatePartitions ${name}`, r.errorMessage);
        out.line(`topic ${name} now has ${partitions} partitions`);
      }
      if (set.length || del.length) {
        const res = await conn.send(IncrementalAlterConfigs, null, {
          resources: [
            {
              resourceType: TOPIC_RESOURCE,
              resourceName: name,
              configs: [...set.map(([k, v]) => ({ name: k, configOperation: 0, value: v })), ...del.map((k) => ({ name: k, configOperation: 1, value: null }))],
            },
          ],
          validateOnly: false,
        });
        const r = res.responses[0]!;
        check(r.errorCode, `IncrementalAlterConfigs ${name}`, r.errorMessage);
        out.line(`altered configs of topic ${name}`);
      }
      return 0;
    }),
};

const del: Command = {
  spec: { name: "topic delete", args: "TOPIC...", summary: "Delete topics.", positional: [1, Infinity], flags: [BOOTSTRAP_FLAG] },
  run: (p, out) =>
    withClient(p, async (c) => {
      const conn = await c.controller();
      const res = await conn.send(DeleteTopics, null, { topicNames: p.positional, timeoutMs: TIMEOUT_MS });
      let failed: Error | null = null;
      for (const r of res.responses) {
        try {
          check(r.errorCode, `DeleteTopics ${r.name}`, r.errorMessage);
          out.line(`deleted topic ${r.name}`);
        } catch (e) {
          failed ??= e as Error;
        }
      }
      if (failed) throw failed;
      return 0;
    }),
};

export const topicCommands: Command[] = [create, list, describe, alter, del];
