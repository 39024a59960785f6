// Throughput of the record-level code: CRC-32C (what every produced batch pays),
// our snappy and LZ4, node:zlib's gzip and zstd for comparison, and batch
// the produce checks (batch-validator.ts) against the header+CRC check the
// produce path did before them. Prints MB/s; no thresholds.
//
//   node_modules/.bin/bun test/bench/compression.ts [seconds-per-case, default 0.5]

import { crc32 } from "node:zlib";
import { crc32c } from "../../src/codec/crc32c.ts";
import { Codec, compress, decompress } from "../../src/codec/compression.ts";
import { lz4Compress, lz4Decompress } from "../../src/codec/lz4.ts";
import { snappyCompress, snappyDecompress } from "../../src/codec/snappy.ts";
import { validateProducedBatch, type ProduceRules } from "../../src/protocol/batch-validator.ts";
import { batchCrcMatches, buildBatch, readBatchHeader } from "../../src/protocol/records.ts";

const seconds = Number(process.argv[2] ?? 0.5);

/** Runs fn repeatedly for about `seconds` after a warm-up; returns MB/s for `bytes` per call. */
function measure(bytes: number, fn: () => unknown): number {
  const warmUntil = performance.now() + Math.min(200, seconds * 300);
  while (performance.now() < warmUntil) fn();
  let calls = 0;
  const start = performance.now();
  const until = start + seconds * 1000;
  do {
    fn();
    calls++;
  } while (performance.now() < until);
  const elapsed = (performance.now() - start) / 1000;
  return (calls * bytes) / elapsed / 1e6;
}

function row(name: string, mbps: number, extra = ""): void {
  console.log(`${name.padEnd(72)} ${mbps.toFixed(0).padStart(7)} MB/s${extra ? "  " + extra : ""}`);
}

function pseudoRandom(n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = 0x9e3779b9;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** JSON-ish event records: the kind of payload Kafka batches carry. */
function jsonPayload(n: number): Uint8Array {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < n; i++) {
    const s = `{"event":"click","user":${(i * 7919) % 100000},"page":"/products/${i % 500}","ts":${1_700_000_000_000 + i * 37},"ok":${i % 3 !== 0}}\n`;
    parts.push(s);
    size += s.length;
  }
  return new TextEncoder().encode(parts.join("")).subarray(0, n);
}

console.log(`Bun ${Bun.version}, ${seconds}s per case\n`);

console.log("checksums");
for (const size of [1 << 20, 16 << 10, 1024, 100]) {
  const data = pseudoRandom(size);
  row(`crc32c ${size} B`, measure(size, () => crc32c(data)));
}
const mb = pseudoRandom(1 << 20);
row("node:zlib crc32 (IEEE, native) 1 MiB", measure(mb.length, () => crc32(mb)), "for reference: a different polynomial");

console.log("\ncodecs (MB/s of uncompressed data)");
const inputs: [string, Uint8Array][] = [
  ["json 1 MiB", jsonPayload(1 << 20)],
  ["json 16 KiB", jsonPayload(16 << 10)],
  ["random 1 MiB", pseudoRandom(1 << 20)],
];
for (const [label, data] of inputs) {
  const s = snappyCompress(data);
  const l = lz4Compress(data);
  row(`snappy compress ${label}`, measure(data.length, () => snappyCompress(data)), `ratio ${(data.length / s.length).toFixed(2)}`);
  row(`snappy decompress ${label}`, measure(data.length, () => snappyDecompress(s, data.length)));
  row(`lz4 compress ${label}`, measure(data.length, () => lz4Compress(data)), `ratio ${(data.length / l.length).toFixed(2)}`);
  row(`lz4 decompress ${label}`, measure(data.length, () => lz4Decompress(l, data.length)));
  for (const codec of [Codec.GZIP, Codec.ZSTD]) {
    const name = codec === Codec.GZIP ? "gzip" : "zstd";
    const c = compress(codec, data);
    row(`${name} compress ${label} (node:zlib)`, measure(data.length, () => compress(codec, data)), `ratio ${(data.length / c.length).toFixed(2)}`);
    row(`${name} decompress ${label} (node:zlib)`, measure(data.length, () => decompress(codec, c, data.length)));
  }
}

console.log("\nproduce checks (MB/s of batch bytes as received)");
const LONG_MAX = 9223372036854775807;
const rules: ProduceRules = { apiVersion: 9, maxMessageBytes: 1 << 30, compacted: false, logAppendTime: false, timestampBeforeMaxMs: LONG_MAX, timestampAfterMaxMs: LONG_MAX, storedCodec: null, now: Date.now(), topic: "bench", partition: 0 };
const shapes = [
  { label: "500 small JSON records", records: Array.from({ length: 500 }, (_, i) => ({ key: `user-${i}`, value: `{"event":"click","n":${i},"page":"/p/${i % 50}"}`, headers: [{ key: "trace", value: `${i}` }] })) },
  // What test/bench/broker.ts produces: ~1 MB batches of 1 KiB values.
  { label: "900 records of 1 KiB", records: Array.from({ length: 900 }, (_, i) => ({ value: Uint8Array.from({ length: 1024 }, (_, j) => (i * 31 + j * 7) & 0xff) })) },
];
for (const { label, records } of shapes) {
  for (const codec of [Codec.NONE, Codec.SNAPPY, Codec.LZ4, Codec.ZSTD, Codec.GZIP]) {
    const batch = buildBatch({ records, codec });
    const name = ["none", "gzip", "snappy", "lz4", "zstd"][codec];
    const before = measure(batch.length, () => readBatchHeader(batch) && batchCrcMatches(batch));
    row(`${label}, ${name} (${batch.length} B): header+CRC only (before)`, before);
    const after = measure(batch.length, () => validateProducedBatch(batch, rules));
    row(`${label}, ${name}: every record checked`, after, `${((after / before) * 100).toFixed(0)}% of before`);
    const to = codec === Codec.NONE ? Codec.LZ4 : Codec.NONE;
    row(`${label}, ${name}: stored as ${["none", "gzip", "snappy", "lz4", "zstd"][to]}`, measure(batch.length, () => validateProducedBatch(batch, { ...rules, storedCodec: to })));
  }
}
