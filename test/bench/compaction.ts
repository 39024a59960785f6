// Compaction benchmark: how fast the cleaner cleans, and what a large clean
// does to produce latency on the same broker.
// Usage: bun test/bench/compaction.ts [fillMB=256] [codec=none|lz4|zstd] [keys=50000]
// KLITE_BENCH_FSYNC=never runs the broker with --fsync never (default group).
//
// One broker process (fsync=group). A compacted topic is filled with fillMB of
// updates (1 KiB values that compress about 2:1, over `keys` keys, batches
// of 100 records, uncompressed or lz4/zstd as the producer sends them) while its
// min.cleanable.dirty.ratio is 1 (never cleaned). Then a paced producer (one
// 10-record batch of 1 KiB values every 5 ms, acks=all, to another topic)
// measures produce latency three times in the same run:
//   before  — nothing being cleaned (the reference);
//   during  — after the ratio is set to 0.01, while the cleaner rewrites the whole log;
//   after   — the clean is over.
// The cleaner's own figures (bytes read and written, wall time including the
// pauses it takes for the event loop) come from its log line.

import { spawnBroker } from "../helpers/broker.ts";
import { connectWire, type WireClient } from "../helpers/wire-client.ts";
import { buildBatch, type RecordInit } from "../../src/protocol/records.ts";
import { Codec } from "../../src/codec/compression.ts";

const FILL_MB = Number(process.argv[2] ?? 256);
const CODEC_NAME = process.argv[3] ?? "none";
const KEYS = Number(process.argv[4] ?? 50_000);
const CODEC = { none: Codec.NONE, lz4: Codec.LZ4, zstd: Codec.ZSTD }[CODEC_NAME as "none"] ?? Codec.NONE;
const VALUE = 1024;
const PACE_MS = 5;
const BASELINE_MS = 8000;

interface ProduceAnswer {
  responses: { partitionResponses: { errorCode: number }[] }[];
}

async function produce(c: WireClient, topic: string, batch: Uint8Array): Promise<void> {
  const r = await c.call<ProduceAnswer>(0, 9, { transactionalId: null, acks: -1, timeoutMs: 30_000, topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }] });
  const code = r.responses[0]!.partitionResponses[0]!.errorCode;
  if (code !== 0) throw new Error(`produce to ${topic}: error ${code}`);
}

// Values that compress about 2:1 and differ from record to record (a codec must not find the previous record in them).
let seed = 12345;
const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
const POOL = Array.from({ length: 4096 }, () => Uint8Array.from({ length: VALUE }, (_, j) => (j < VALUE / 2 ? random() : j & 0x3f)));
const value = (i: number): Uint8Array => POOL[i % POOL.length]!;

function pct(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/** One paced producer: a request every PACE_MS (or as soon as the last one is answered, if later) until `until()`. */
async function paced(c: WireClient, until: () => boolean): Promise<number[]> {
  const lat: number[] = [];
  const records: RecordInit[] = Array.from({ length: 10 }, (_, i) => ({ key: `p${i}`, value: value(i) }));
  let next = performance.now();
  while (!until()) {
    const wait = next - performance.now();
    if (wait > 0) await Bun.sleep(wait);
    const t = performance.now();
    await produce(c, "bench-plain", buildBatch({ records }));
    lat.push(performance.now() - t);
    next = t + PACE_MS;
  }
  return lat;
}

const FSYNC = process.env.KLITE_BENCH_FSYNC ?? "group";
const b = await spawnBroker({ args: ["--log-cleaner-backoff-ms", "100", "--fsync", FSYNC] });
try {
  const admin = await connectWire(b.port);
  const topics = [
    { name: "bench-compact", configs: { "cleanup.policy": "compact", "segment.bytes": String(64 << 20), "min.cleanable.dirty.ratio": "1" } },
    { name: "bench-plain", configs: {} },
  ];
  const created = await admin.call<{ topics: { errorCode: number; errorMessage: string | null }[] }>(19, 7, {
    topics: topics.map((t) => ({ name: t.name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: Object.entries(t.configs).map(([name, v]) => ({ name, value: v })) })),
    timeoutMs: 5000,
    validateOnly: false,
  });
  for (const t of created.topics) if (t.errorCode !== 0) throw new Error(`create: ${t.errorCode} ${t.errorMessage}`);

  // Fill.
  const fill = await connectWire(b.port);
  let bytes = 0;
  let i = 0;
  const fillStart = performance.now();
  while (bytes < FILL_MB * 1024 * 1024) {
    const records: RecordInit[] = [];
    for (let j = 0; j < 100; j++, i++) records.push({ key: `key-${i % KEYS}`, value: value(i) });
    const batch = buildBatch({ records, codec: CODEC });
    await produce(fill, "bench-compact", batch);
    bytes += batch.length;
  }
  const fillSec = (performance.now() - fillStart) / 1000;
  console.log(`filled bench-compact: ${(bytes / 1048576).toFixed(0)} MiB stored (${CODEC_NAME}), ${i} records over ${KEYS} keys, in ${fillSec.toFixed(1)} s`);

  const producer = await connectWire(b.port);
  let stopAt = performance.now() + BASELINE_MS;
  const before = await paced(producer, () => performance.now() > stopAt);

  const cleanedLine = /cleaned bench-compact-0: (\d+) segments \((\d+) bytes, (\d+) records\) into (\d+) \((\d+) bytes, (\d+) records\) up to offset (\d+) in (\d+) ms/;
  const alter = await admin.call<{ responses: { errorCode: number }[] }>(44, 1, {
    resources: [{ resourceType: 2, resourceName: "bench-compact", configs: [{ name: "min.cleanable.dirty.ratio", configOperation: 0, value: "0.01" }] }],
    validateOnly: false,
  });
  if (alter.responses[0]!.errorCode !== 0) throw new Error(`alter configs: ${alter.responses[0]!.errorCode}`);
  const during = await paced(producer, () => cleanedLine.test(b.stderr()));
  const m = cleanedLine.exec(b.stderr())!;
  stopAt = performance.now() + BASELINE_MS;
  const after = await paced(producer, () => performance.now() > stopAt);

  const [, segsIn, bytesIn, recsIn, segsOut, bytesOut, recsOut, , ms] = m.map(Number);
  const sec = ms! / 1000;
  console.log(`\nclean: ${segsIn} segments, ${(bytesIn! / 1048576).toFixed(0)} MiB / ${recsIn} records -> ${segsOut} segments, ${(bytesOut! / 1048576).toFixed(1)} MiB / ${recsOut} records in ${sec.toFixed(2)} s`);
  console.log(`clean throughput: ${(bytesIn! / 1048576 / sec).toFixed(1)} MiB/s read, ${(recsIn! / sec / 1000).toFixed(0)}k records/s\n`);
  const row = (name: string, l: number[]) =>
    console.log(`${name.padEnd(26)} ${String(l.length).padStart(6)} ${pct(l, 0.5).toFixed(2).padStart(8)} ${pct(l, 0.99).toFixed(2).padStart(8)} ${Math.max(...l).toFixed(2).padStart(8)}`);
  console.log(`${"produce (10 x 1 KiB, acks=all)".padEnd(26)} ${"reqs".padStart(6)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)} ${"max ms".padStart(8)}`);
  row("before the clean", before);
  row("while cleaning", during);
  row("after the clean", after);
  admin.close();
  fill.close();
  producer.close();
} finally {
  await b.cleanup();
}
