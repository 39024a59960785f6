// klite bench produce|consume: throughput and latency against any broker,
// in the spirit of kafka-producer-perf-test.sh. Produce keeps several
// requests in flight per connection so the tool is not what is measured;
// latency is each request's round trip, counted once per record it carried.
// A live progress line goes to stderr on a terminal; the summary to stdout.

import { EARLIEST, LATEST, type KafkaClient } from "../client/client.ts";
import { PartitionReader } from "../client/consumer.ts";
import { Partitioner } from "../client/partitioner.ts";
import { Producer, RECORD_OVERHEAD } from "../client/producer.ts";
import { HEADER_SIZE } from "../log/batch-header.ts";
import { readBatchHeader } from "../protocol/records.ts";
import { BOOTSTRAP_FLAG, FORMAT_FLAG, UsageError, type Parsed } from "./args.ts";
import { withClient, type Command } from "./command.ts";
import type { Output } from "./output.ts";
import { ACKS_FLAG, COMPRESSION_FLAG, acksOf, codecOf } from "./produce.ts";

const MB = 1024 * 1024;

/** Latency samples weighted by how many records each stands for. */
export class LatencyRecorder {
  private samples: { ms: number; n: number }[] = [];
  private total = 0;

  add(ms: number, n: number): void {
    this.samples.push({ ms, n });
    this.total += n;
  }

  /** The latency below which fraction `q` of the records fall. */
  percentile(q: number): number {
    if (this.total === 0) return 0;
    this.samples.sort((a, b) => a.ms - b.ms);
    const target = q * this.total;
    let seen = 0;
    for (const s of this.samples) {
      seen += s.n;
      if (seen >= target) return s.ms;
    }
    return this.samples[this.samples.length - 1]!.ms;
  }

  get max(): number {
    return this.samples.reduce((m, s) => Math.max(m, s.ms), 0);
  }

  get mean(): number {
    return this.total === 0 ? 0 : this.samples.reduce((a, s) => a + s.ms * s.n, 0) / this.total;
  }
}

/** A progress line rewritten in place once a second, when stderr is a terminal. */
function progress(render: () => string): { stop(): void } {
  if (!process.stderr.isTTY) return { stop() {} };
  const t = setInterval(() => process.stderr.write(`\r${render()}\x1b[K`), 1000);
  return {
    stop() {
      clearInterval(t);
      process.stderr.write("\r\x1b[K");
    },
  };
}

const fmt = (n: number, d = 1) => n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });

async function benchProduce(c: KafkaClient, p: Parsed, out: Output): Promise<number> {
  const topicName = p.positional[0]!;
  const total = p.flags.records as number;
  const size = p.flags["record-size"] as number;
  if (total < 1 || size < 0) throw new UsageError("--records must be at least 1 and --record-size at least 0");
  const topic = await c.topic(topicName, true);
  const latency = new LatencyRecorder();
  let acked = 0;
  let ackedBytes = 0;
  const producer = new Producer(c, topic, {
    acks: acksOf(p),
    codec: codecOf(p),
    batchBytes: p.flags["batch-size"] as number,
    maxInFlight: p.flags["in-flight"] as number,
    onAck: (n, bytes, ms) => {
      acked += n;
      ackedBytes += bytes;
      latency.add(ms, n);
    },
  });
  // Values: fixed pseudo-random bytes (compression sees realistic-ish data, the tool spends nothing on it).
  const value = new Uint8Array(size);
  for (let i = 0; i < size; i++) value[i] = (i * 2654435761) >>> 24;
  const perBatch = Math.max(1, Math.floor((p.flags["batch-size"] as number) / (size + RECORD_OVERHEAD)));
  const partitioner = new Partitioner("murmur2", perBatch);
  const started = performance.now();
  const bar = progress(() => {
    const s = (performance.now() - started) / 1000;
    return `${acked.toLocaleString("en-US")} records acknowledged, ${fmt(acked / s, 0)} records/s, ${fmt((acked * size) / MB / s)} MB/s, p50 ${fmt(latency.percentile(0.5))} ms`;
  });
  try {
    for (let i = 0; i < total; i++) await producer.add(partitioner.choose(null, topic.partitions.length), { value }, size + RECORD_OVERHEAD);
    await producer.close();
  } finally {
    bar.stop();
  }
  const secs = (performance.now() - started) / 1000;
  const summary = {
    records: total,
    seconds: Number(secs.toFixed(3)),
    recordsPerSec: Math.round(total / secs),
    mbPerSec: Number(((total * size) / MB / secs).toFixed(2)),
    wireMbPerSec: Number((ackedBytes / MB / secs).toFixed(2)),
    latencyMs: { mean: round(latency.mean), p50: round(latency.percentile(0.5)), p99: round(latency.percentile(0.99)), p999: round(latency.percentile(0.999)), max: round(latency.max) },
  };
  const acks0 = acksOf(p) === 0;
  if (p.flags.format === "json") out.json(acks0 ? { ...summary, latencyMs: null } : summary);
  else if (acks0) out.line(`${total} records sent, ${fmt(summary.recordsPerSec, 1)} records/sec (${fmt(summary.mbPerSec, 2)} MB/sec); no latency with acks=0.`);
  else {
    out.line(
      `${total} records sent, ${fmt(summary.recordsPerSec, 1)} records/sec (${fmt(summary.mbPerSec, 2)} MB/sec), ${fmt(latency.mean, 2)} ms avg latency, ${fmt(latency.max, 2)} ms max latency, ` +
        `${fmt(latency.percentile(0.5), 1)} ms 50th, ${fmt(latency.percentile(0.99), 1)} ms 99th, ${fmt(latency.percentile(0.999), 1)} ms 99.9th.`,
    );
  }
  return 0;
}

const round = (x: number) => Math.round(x * 100) / 100;

async function benchConsume(c: KafkaClient, p: Parsed, out: Output): Promise<number> {
  const topicName = p.positional[0]!;
  const topic = await c.topic(topicName);
  const partitions = topic.partitions.map((x) => x.partition);
  const [start, end] = await Promise.all([c.listOffsets(topic, partitions, EARLIEST), c.listOffsets(topic, partitions, LATEST)]);
  const available = partitions.reduce((n, q) => n + Number(end.get(q)! - start.get(q)!), 0);
  const wanted = Math.min((p.flags.records as number | undefined) ?? available, available);
  const reader = new PartitionReader(c, topic, new Map(start), { maxWaitMs: 100, partitionMaxBytes: 8 * MB, maxBytes: 64 * MB });
  const latency = new LatencyRecorder();
  let got = 0;
  const started = performance.now();
  const bar = progress(() => {
    const s = (performance.now() - started) / 1000;
    return `${got.toLocaleString("en-US")} records, ${fmt(got / s, 0)} records/s, ${fmt(reader.bytesFetched / MB / s)} MB/s`;
  });
  try {
    while (got < wanted) {
      const active = partitions.filter((q) => reader.positions.get(q)! < end.get(q)!);
      if (active.length === 0) break;
      const t0 = performance.now();
      let n = 0;
      // Records are counted from batch headers: the tool does not decode what it only measures.
      for (const f of await reader.fetch(active)) {
        const data = f.records;
        let pos = 0;
        let next = f.from;
        while (data && data.length - pos >= HEADER_SIZE) {
          const h = readBatchHeader(data, pos);
          if (h.sizeInBytes < HEADER_SIZE || pos + h.sizeInBytes > data.length) break;
          pos += h.sizeInBytes;
          const last = BigInt(h.baseOffset + h.lastOffsetDelta + 1);
          if (!h.control) n += Number(last - (BigInt(h.baseOffset) > f.from ? BigInt(h.baseOffset) : f.from));
          if (last > next) next = last;
        }
        reader.positions.set(f.partition, next);
      }
      got += n;
      latency.add(performance.now() - t0, n);
    }
  } finally {
    bar.stop();
  }
  const secs = (performance.now() - started) / 1000;
  const summary = {
    records: got,
    seconds: Number(secs.toFixed(3)),
    recordsPerSec: Math.round(got / secs),
    mbPerSec: Number((reader.bytesFetched / MB / secs).toFixed(2)),
    fetchLatencyMs: { p50: round(latency.percentile(0.5)), p99: round(latency.percentile(0.99)), p999: round(latency.percentile(0.999)), max: round(latency.max) },
  };
  if (p.flags.format === "json") out.json(summary);
  else out.line(`${got} records consumed in ${fmt(secs, 2)} s, ${fmt(summary.recordsPerSec, 1)} records/sec (${fmt(summary.mbPerSec, 2)} MB/sec), fetch round trip ${fmt(latency.percentile(0.5), 1)} ms 50th, ${fmt(latency.percentile(0.99), 1)} ms 99th, ${fmt(latency.percentile(0.999), 1)} ms 99.9th.`);
  return 0;
}

export const benchCommands: Command[] = [
  {
    spec: {
      name: "bench produce",
      args: "TOPIC",
      summary: "Produce --records records of --record-size bytes as fast as the broker takes them; prints records/s, MB/s and latency percentiles.",
      positional: [1, 1],
      flags: [
        BOOTSTRAP_FLAG,
        FORMAT_FLAG,
        { name: "records", short: "n", kind: "int", value: "N", default: 1_000_000, help: "records to send (default 1000000)" },
        { name: "record-size", short: "s", kind: "int", value: "BYTES", default: 1024, help: "value size (default 1024)" },
        { name: "batch-size", kind: "int", value: "BYTES", default: 262_144, help: "bytes per partition batch (default 262144)" },
        { name: "in-flight", kind: "int", value: "N", default: 8, help: "requests outstanding per broker (default 8)" },
        ACKS_FLAG,
        COMPRESSION_FLAG,
      ],
    },
    run: (p, out) => withClient(p, (c) => benchProduce(c, p, out)),
  },
  {
    spec: {
      name: "bench consume",
      args: "TOPIC",
      summary: "Read a topic from the beginning (up to --records, or what it holds now); prints records/s, MB/s and fetch latency.",
      positional: [1, 1],
      flags: [BOOTSTRAP_FLAG, FORMAT_FLAG, { name: "records", short: "n", kind: "int", value: "N", help: "stop after N records (default: all the topic holds now)" }],
    },
    run: (p, out) => withClient(p, (c) => benchConsume(c, p, out)),
  },
];
