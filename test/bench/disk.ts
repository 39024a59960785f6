// Disk benchmark: append throughput of PartitionLog against the raw device.
// Usage: bun test/bench/disk.ts [totalMB=500] [dir=os.tmpdir()]
//
// Batches are ~16 KiB of 1 KiB records (like a producer's linger batch).
// Baseline: the same bytes written sequentially with write(2) in 16 KiB calls
// and one fdatasync at the end, i.e. what the disk and page cache can take.
// The log runs with fsync=group, where C writers each append and await their
// acknowledgement before the next (C in-flight produce requests), and with
// fsync=never. Prints MB/s and the ratio to the baseline.

import { closeSync, fdatasyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FlushScheduler, PartitionLog, type LogConfig } from "../../src/log/partition-log.ts";

const totalMB = Number(process.argv[2] ?? 500);
const baseDir = process.argv[3] ?? tmpdir();
const TOTAL = totalMB * 1024 * 1024;

// CRC-32C only matters for recovery, which this benchmark does not exercise.
const TABLE = new Uint32Array(256).map((_, i) => {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  return c >>> 0;
});
function crc32c(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A v2 batch of `n` uncompressed records with 1000-byte values (record framing is 1010 bytes each). */
function makeBatch(n: number): Uint8Array {
  const recLen = 1 + 1 + 2 + 1 + 2 + 1000 + 1; // attrs, tsDelta, offsetDelta(<64 → 1, padded below), key -1, value len, value, headers
  const size = 61 + n * (2 + recLen);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setInt32(8, size - 12);
  v.setInt32(12, -1);
  v.setInt8(16, 2);
  v.setInt32(23, n - 1);
  const now = BigInt(Date.now());
  v.setBigInt64(27, now);
  v.setBigInt64(35, now);
  v.setBigInt64(43, -1n);
  v.setInt16(51, -1);
  v.setInt32(53, -1);
  v.setInt32(57, n);
  let p = 61;
  for (let i = 0; i < n; i++) {
    // length varint (2 bytes), then the record; exact encoding is irrelevant to the log.
    out[p++] = ((recLen << 1) & 0x7f) | 0x80;
    out[p++] = (recLen << 1) >> 7;
    p += recLen;
  }
  v.setUint32(17, crc32c(out.subarray(21)));
  return out;
}

const batch = makeBatch(16);
const batches = Math.ceil(TOTAL / batch.length);
const bytes = batches * batch.length;

function rssMB(): string {
  const s = readFileSync("/proc/self/status", "utf8");
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
  return `anon ${(kb("RssAnon") / 1024).toFixed(0)} MB`;
}

function fresh(): string {
  return mkdtempSync(join(baseDir, "klite-bench-"));
}

/** Sequential writes with an fdatasync every `every` batches (and at the end). */
function raw(every = Infinity): number {
  const dir = fresh();
  const fd = openSync(join(dir, "raw.log"), "w");
  const t = performance.now();
  for (let i = 0; i < batches; i++) {
    let done = 0;
    while (done < batch.length) done += writeSync(fd, batch, done, batch.length - done);
    if ((i + 1) % every === 0) fdatasyncSync(fd);
  }
  fdatasyncSync(fd);
  const ms = performance.now() - t;
  closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
  return ms;
}

function config(fsync: "group" | "never"): LogConfig {
  return { segmentBytes: 1 << 30, segmentMs: 7 * 86400_000, indexIntervalBytes: 4096, retentionMs: -1, retentionBytes: -1, fsync, crc32c };
}

async function viaLog(fsync: "group" | "never", writers: number, blocking = false): Promise<{ ms: number; rounds: number }> {
  const dir = fresh();
  const flusher = new FlushScheduler({ blocking });
  const log = PartitionLog.open(join(dir, "bench-0"), config(fsync), flusher);
  let next = 0;
  const t = performance.now();
  const writer = async () => {
    // Each writer owns a copy: append patches the buffer in place.
    const mine = batch.slice();
    while (next < batches) {
      next++;
      log.append(mine);
      await log.flushed();
    }
  };
  await Promise.all(Array.from({ length: writers }, writer));
  await flusher.flushAllNow();
  if (fsync === "never") log.close(); // includes the final fsync, as the baseline's
  const ms = performance.now() - t;
  if (fsync !== "never") log.close();
  const rounds = flusher.rounds;
  rmSync(dir, { recursive: true, force: true });
  return { ms, rounds };
}

const mbps = (ms: number) => bytes / (1024 * 1024) / (ms / 1000);
console.log(`disk bench: ${batches} batches of ${batch.length} B (16 × 1 KiB records) = ${(bytes / 1048576).toFixed(0)} MB in ${baseDir}`);
const rawMs = raw();
console.log(`${"raw write(2) + one fdatasync:".padEnd(46)}${mbps(rawMs).toFixed(0).padStart(6)} MB/s  (${rawMs.toFixed(0)} ms)`);
for (const every of [1, 8, 64]) {
  const ms = raw(every);
  console.log(`${`raw, fdatasync every ${every} batch(es):`.padEnd(46)}${mbps(ms).toFixed(0).padStart(6)} MB/s  (${ms.toFixed(0)} ms)`);
}
for (const [mode, writers, blocking] of [
  ["never", 1, false],
  ["group", 1, false],
  ["group", 1, true],
  ["group", 8, false],
  ["group", 8, true],
  ["group", 64, false],
  ["group", 64, true],
] as const) {
  const r = await viaLog(mode, writers, blocking);
  const label = `PartitionLog fsync=${mode}${blocking ? " (sync)" : ""}, ${writers} in flight:`.padEnd(46);
  console.log(
    `${label}${mbps(r.ms).toFixed(0).padStart(6)} MB/s  (${r.ms.toFixed(0)} ms, ${r.rounds} fsync rounds, ${(batches / Math.max(1, r.rounds)).toFixed(1)} appends/round; ratio to raw ${(rawMs / r.ms).toFixed(2)})  ${rssMB()}`,
  );
}
