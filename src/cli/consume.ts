// klite consume TOPIC: prints records from --from (or a group's committed
// offsets) up to the end of each partition, --max records, or for ever with
// --follow; text (the value) or JSON (one object a line).

import type { KafkaClient } from "../client/client.ts";
import { PartitionReader, type ConsumedRecord } from "../client/consumer.ts";
import { GroupMember } from "../client/group-member.ts";
import { LATEST } from "../client/client.ts";
import { BOOTSTRAP_FLAG, FORMAT_FLAG, UsageError, type Parsed } from "./args.ts";
import { withClient, type Command } from "./command.ts";
import type { Output } from "./output.ts";
import { committedOffsets, parseStart, partitionsOf, resolveStart } from "./positions.ts";

const utf8 = new TextDecoder();
type Encoding = "utf8" | "base64";
const decoders: Record<Encoding, (b: Uint8Array) => string> = { utf8: (b) => utf8.decode(b), base64: (b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("base64") };

export function recordJson(topic: string, r: ConsumedRecord, encoding: Encoding = "utf8"): object {
  const str = (b: Uint8Array | null) => (b === null ? null : decoders[encoding](b));
  return { topic, partition: r.partition, offset: r.offset, timestamp: r.timestamp, key: str(r.key), value: str(r.value), headers: r.headers.map((h) => ({ key: h.key, value: str(h.value) })) };
}

export function parsePartitionList(s: string | undefined): number[] | undefined {
  if (s === undefined) return undefined;
  return s.split(",").map((x) => {
    if (!/^\d+$/.test(x)) throw new UsageError(`--partition: expected N[,N...], got ${s}`);
    return Number(x);
  });
}

interface Assigned {
  partitions: number[];
  reader: PartitionReader;
  /** Without --follow: where each partition ends (its last stable offset under read_committed). */
  ends: Map<number, bigint> | null;
}

async function consume(c: KafkaClient, p: Parsed, out: Output): Promise<number> {
  const topicName = p.positional[0]!;
  const group = p.flags.group as string | undefined;
  const max = (p.flags.max as number | undefined) ?? Infinity;
  if (max < 0) throw new UsageError("--max must be at least 0");
  const chosen = parsePartitionList(p.flags.partition as string | undefined);
  if (group !== undefined && chosen) throw new UsageError("--partition and --group do not go together: the group assigns partitions");
  const follow = p.flags.follow === true;
  const json = p.flags.format === "json";
  const encoding = p.flags.encoding as Encoding;
  const text = (b: Uint8Array | null) => (b === null ? "" : decoders[encoding](b));
  const isolationLevel = p.flags.isolation === "read_committed" ? 1 : 0;
  const spec = parseStart("from", (p.flags.from as string | undefined) ?? "beginning");
  const topic = await c.topic(topicName);
  const member = group === undefined ? null : new GroupMember(c, group, [topicName]);

  /** Partitions to read (the group's assignment, or --partition, or all) and where to start. */
  const assign = async (): Promise<Assigned> => {
    const partitions = member ? ((await member.join()).find((t) => t.topic === topicName)?.partitions ?? []) : partitionsOf(topic, chosen);
    const positions = await resolveStart(c, topic, partitions, spec, isolationLevel);
    if (group !== undefined) {
      // Committed offsets win; --from applies where the group has none.
      const committed = (await committedOffsets(c, group, [topicName])).get(topicName);
      for (const [part, o] of committed ?? []) if (o >= 0n && positions.has(part)) positions.set(part, o);
    }
    const ends = follow || partitions.length === 0 ? null : await c.listOffsets(topic, partitions, LATEST, isolationLevel);
    return { partitions, ends, reader: new PartitionReader(c, topic, positions, { isolationLevel, maxWaitMs: follow ? 1000 : 200 }) };
  };
  /** What a commit records: the offset after the last record printed, per partition. */
  const consumed = new Map<number, bigint>();
  const commitNow = async () => {
    if (member) await member.commit(new Map([[topicName, consumed]]));
  };

  let printed = 0;
  let stop = false;
  const onSignal = () => {
    stop = true;
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    let a = await assign();
    while (printed < max && !stop) {
      if (member?.rejoinNeeded) {
        // Hand over what was read before the partitions move; a commit refused mid-rebalance is read again by their next owner.
        await commitNow().catch(() => {});
        consumed.clear();
        a = await assign();
      }
      const { reader, ends } = a;
      const active = ends ? a.partitions.filter((x) => reader.positions.get(x)! < ends.get(x)!) : a.partitions;
      if (active.length === 0) {
        if (!follow) break;
        // Following with nothing assigned: wait for the group to hand something over.
        await Bun.sleep(100);
        continue;
      }
      const records = await reader.poll(active);
      let cut = false;
      for (const r of records) {
        if (ends && BigInt(r.offset) >= ends.get(r.partition)!) continue;
        if (printed >= max) {
          cut = true;
          break;
        }
        if (json) out.json(recordJson(topicName, r, encoding));
        else out.line(text(r.value));
        consumed.set(r.partition, BigInt(r.offset) + 1n);
        printed++;
      }
      // A poll read to its end: positions past control batches and skipped records count as consumed too.
      if (!cut) {
        for (const part of active) {
          const pos = reader.positions.get(part)!;
          const end = ends?.get(part);
          consumed.set(part, end !== undefined && end < pos ? end : pos);
        }
      }
      await out.flush();
      if (follow) await commitNow();
    }
    await commitNow();
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await member?.leave().catch(() => {});
  }
  return 0;
}

export const consumeCommand: Command = {
  spec: {
    name: "consume",
    args: "TOPIC",
    summary: "Print records of a topic: from --from to the end of each partition, or for ever with --follow.",
    positional: [1, 1],
    flags: [
      BOOTSTRAP_FLAG,
      { name: "from", short: "o", kind: "string", value: "WHERE", help: "beginning (default), end, OFFSET, -N (N before the end), or a time: ISO 8601 or epoch ms" },
      { name: "partition", short: "p", kind: "string", value: "N[,N...]", help: "read only these partitions" },
      { name: "group", short: "g", kind: "string", value: "GROUP", help: "consume as a member of GROUP (classic protocol, range assignor): its partitions, from its committed offsets, committing what was printed" },
      { name: "max", short: "n", kind: "int", value: "N", help: "stop after N records" },
      { name: "follow", short: "F", kind: "bool", help: "keep waiting for new records (until --max or Ctrl-C)" },
      FORMAT_FLAG,
      { name: "encoding", kind: "string", value: "utf8|base64", choices: ["utf8", "base64"], default: "utf8", help: "how keys, values and header values are printed (default utf8; base64 for binary data)" },
      { name: "isolation", kind: "string", value: "LEVEL", choices: ["read_uncommitted", "read_committed"], default: "read_uncommitted", help: "read_committed: only records of committed transactions" },
    ],
    notes: "text prints each value on a line; json prints {topic, partition, offset, timestamp, key, value, headers} a line,\nkeys and values as strings (UTF-8, or base64 with --encoding base64; null when absent), headers as [{key, value}].",
  },
  run: (p, out) => withClient(p, (c) => consume(c, p, out)),
};
