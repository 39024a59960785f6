// klite produce TOPIC: one record per input line (stdin or --file), with an
// optional key before --key-separator, headers, a fixed partition or the
// murmur2 partitioner that the Java client uses.

import { CODEC_NAMES } from "../codec/compression.ts";
import type { KafkaClient } from "../client/client.ts";
import { Partitioner, type PartitionerName } from "../client/partitioner.ts";
import { Producer, RECORD_OVERHEAD } from "../client/producer.ts";
import { BOOTSTRAP_FLAG, UsageError, keyValues, type FlagSpec, type Parsed } from "./args.ts";
import { withClient, type Command } from "./command.ts";

export const ACKS_FLAG: FlagSpec = { name: "acks", kind: "string", value: "0|1|all", choices: ["0", "1", "-1", "all"], default: "all", help: "acknowledgement the producer waits for (default all)" };
export const COMPRESSION_FLAG: FlagSpec = { name: "compression", short: "z", kind: "string", value: "CODEC", choices: CODEC_NAMES, default: "none", help: `batch compression: ${CODEC_NAMES.join(", ")} (default none)` };

export function acksOf(p: Parsed): number {
  const a = p.flags.acks as string;
  return a === "all" ? -1 : Number(a);
}

export function codecOf(p: Parsed): number {
  return CODEC_NAMES.indexOf(p.flags.compression as (typeof CODEC_NAMES)[number]);
}

const encoder = new TextEncoder();

/** Splits a byte stream into lines (without their "\n"), the last one even when unterminated. */
export async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array[]> {
  let carry: Uint8Array = new Uint8Array(0);
  for await (const chunk of stream) {
    const out: Uint8Array[] = [];
    let start = 0;
    let data = chunk;
    if (carry.length) {
      data = new Uint8Array(carry.length + chunk.length);
      data.set(carry);
      data.set(chunk, carry.length);
    }
    for (let i = data.indexOf(10); i >= 0; i = data.indexOf(10, start)) {
      out.push(data.subarray(start, i));
      start = i + 1;
    }
    carry = data.slice(start);
    if (out.length) yield out;
  }
  if (carry.length) yield [carry];
}

function splitKey(line: Uint8Array, sep: Uint8Array | null): { key: Uint8Array | null; value: Uint8Array } {
  if (!sep) return { key: null, value: line };
  const at = indexOfBytes(line, sep);
  if (at < 0) return { key: null, value: line };
  return { key: line.subarray(0, at), value: line.subarray(at + sep.length) };
}

function indexOfBytes(hay: Uint8Array, needle: Uint8Array): number {
  if (needle.length === 1) return hay.indexOf(needle[0]!);
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

async function produce(c: KafkaClient, p: Parsed): Promise<number> {
  const topicName = p.positional[0]!;
  const fixed = p.flags.partition as number | undefined;
  const sepFlag = p.flags["key-separator"] as string | undefined;
  if (sepFlag === "") throw new UsageError("--key-separator must not be empty");
  const sep = sepFlag === undefined ? null : encoder.encode(sepFlag);
  const headers = keyValues("header", p.flags.header as string[] | undefined).map(([key, value]) => ({ key, value }));
  const file = p.flags.file as string | undefined;
  const topic = await c.topic(topicName, true);
  if (fixed !== undefined && (fixed < 0 || fixed >= topic.partitions.length)) throw new UsageError(`--partition ${fixed}: topic ${topicName} has ${topic.partitions.length} partitions`);
  const producer = new Producer(c, topic, { acks: acksOf(p), codec: codecOf(p) });
  const partitioner = new Partitioner(p.flags.partitioner as PartitionerName);
  const input = file === undefined || file === "-" ? Bun.stdin.stream() : Bun.file(file).stream();
  const headerBytes = headers.reduce((n, h) => n + h.key.length + h.value.length + 4, 0);
  let count = 0;
  for await (const batch of lines(input)) {
    for (const line of batch) {
      if (line.length === 0) continue;
      const { key, value } = splitKey(line, sep);
      const partition = fixed ?? partitioner.choose(key, topic.partitions.length);
      await producer.add(partition, { key, value, headers }, (key?.length ?? 0) + value.length + headerBytes + RECORD_OVERHEAD);
      count++;
    }
    // Send what this read brought, so interactive input goes out line by line.
    await producer.flush();
  }
  await producer.close();
  if (p.flags.verbose) console.error(`produced ${count} record${count === 1 ? "" : "s"} to ${topicName}`);
  return 0;
}

export const produceCommand: Command = {
  spec: {
    name: "produce",
    args: "TOPIC",
    summary: "Produce one record per input line, from stdin or --file. Empty lines are skipped.",
    positional: [1, 1],
    flags: [
      BOOTSTRAP_FLAG,
      { name: "file", short: "f", kind: "string", value: "PATH", help: "read lines from PATH instead of stdin" },
      { name: "key-separator", short: "K", kind: "string", value: "SEP", help: "each line is KEY SEP VALUE (split at the first SEP; lines without it have no key)" },
      { name: "header", short: "H", kind: "list", value: "KEY=VALUE", help: "add a header to every record" },
      { name: "partition", short: "p", kind: "int", value: "N", help: "send every record to partition N" },
      { name: "partitioner", kind: "string", value: "murmur2|crc32", choices: ["murmur2", "crc32"], default: "murmur2", help: "murmur2: the Java client's and librdkafka's murmur2_random (default); crc32: librdkafka's consistent_random" },
      COMPRESSION_FLAG,
      ACKS_FLAG,
      { name: "verbose", short: "v", kind: "bool", help: "print how many records were produced on stderr" },
    ],
    notes: "Keyless records stick to one partition for a run of records, then move to the next.",
  },
  run: (p) => withClient(p, (c) => produce(c, p)),
};
