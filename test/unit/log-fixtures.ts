// Test helpers for the log tests: a slow but obviously correct CRC-32C, a
// RecordBatch v2 builder (uncompressed records) and a record timestamp scan.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FlushScheduler, type LogConfig } from "../../src/log/partition-log.ts";

const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();

/** CRC-32C (Castagnoli), reflected, byte at a time. */
export function crc32c(b: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = TABLE[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function varint(out: number[], v: number): void {
  let z = v >= 0 ? v * 2 : -v * 2 - 1;
  while (z >= 0x80) {
    out.push((z % 0x80) | 0x80);
    z = Math.floor(z / 0x80);
  }
  out.push(z);
}

export interface BatchSpec {
  records?: number;
  valueSize?: number;
  /** Timestamp of each record (defaults to baseTimestamp + i). */
  timestamps?: number[];
  baseTimestamp?: number;
  /** Fill byte of the values, to tell batches apart. */
  fill?: number;
}

/** A valid v2 batch (base offset 0, epoch -1, no producer) with uncompressed records. */
export function makeBatch(spec: BatchSpec = {}): Uint8Array {
  const n = spec.timestamps?.length ?? spec.records ?? 1;
  const valueSize = spec.valueSize ?? 10;
  const base = spec.baseTimestamp ?? 1_700_000_000_000;
  const ts = spec.timestamps ?? Array.from({ length: n }, (_, i) => base + i);
  const firstTs = ts[0]!;
  const maxTs = Math.max(...ts);
  const body: number[] = [];
  const value = new Array<number>(valueSize).fill(spec.fill ?? 0x61);
  for (let i = 0; i < n; i++) {
    const rec: number[] = [0];
    varint(rec, ts[i]! - firstTs);
    varint(rec, i);
    varint(rec, -1);
    varint(rec, valueSize);
    for (const x of value) rec.push(x);
    varint(rec, 0);
    varint(body, rec.length);
    for (const x of rec) body.push(x);
  }
  const out = new Uint8Array(61 + body.length);
  const v = new DataView(out.buffer);
  v.setBigInt64(0, 0n);
  v.setInt32(8, out.length - 12);
  v.setInt32(12, -1);
  v.setInt8(16, 2);
  v.setInt16(21, 0);
  v.setInt32(23, n - 1);
  v.setBigInt64(27, BigInt(firstTs));
  v.setBigInt64(35, BigInt(maxTs));
  v.setBigInt64(43, -1n);
  v.setInt16(51, -1);
  v.setInt32(53, -1);
  v.setInt32(57, n);
  out.set(body, 61);
  v.setUint32(17, crc32c(out.subarray(21)));
  return out;
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Splits stored bytes into batches: [baseOffset, lastOffset, size][]. */
export function splitBatches(chunks: Uint8Array[]): { baseOffset: number; lastOffset: number; size: number; bytes: Uint8Array }[] {
  const out: { baseOffset: number; lastOffset: number; size: number; bytes: Uint8Array }[] = [];
  for (const c of chunks) {
    const v = new DataView(c.buffer, c.byteOffset, c.byteLength);
    for (let p = 0; p < c.length; ) {
      const size = 12 + v.getInt32(p + 8);
      const base = Number(v.getBigInt64(p));
      out.push({ baseOffset: base, lastOffset: base + v.getInt32(p + 23), size, bytes: c.subarray(p, p + size) });
      p += size;
    }
  }
  return out;
}

function readVarint(b: Uint8Array, pos: { p: number }): number {
  let z = 0;
  let mul = 1;
  for (;;) {
    const x = b[pos.p++]!;
    z += (x & 0x7f) * mul;
    if (x < 0x80) break;
    mul *= 0x80;
  }
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

/** Record-level search used by the timestamp tests: first record with timestamp >= ts and offset >= minOffset. */
export function firstRecordAtOrAfter(batch: Uint8Array, ts: number, minOffset = 0): { offset: number; timestamp: number } | null {
  const v = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  const base = Number(v.getBigInt64(0));
  const firstTs = Number(v.getBigInt64(27));
  const count = v.getInt32(57);
  const pos = { p: 61 };
  for (let i = 0; i < count; i++) {
    const len = readVarint(batch, pos);
    const end = pos.p + len;
    pos.p++; // attributes
    const tsDelta = readVarint(batch, pos);
    const offDelta = readVarint(batch, pos);
    const t = firstTs + tsDelta;
    if (t >= ts && base + offDelta >= minOffset) return { offset: base + offDelta, timestamp: t };
    pos.p = end;
  }
  return null;
}

/** After close(): forget the clean shutdown, so the next open recovers as after a crash. */
export function forgetCleanShutdown(partitionDir: string): void {
  rmSync(join(partitionDir, "clean-shutdown"), { force: true });
}

export function tempDir(prefix = "klite-log-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function config(overrides: Partial<LogConfig> = {}): LogConfig {
  return {
    segmentBytes: 1 << 30,
    segmentMs: 7 * 24 * 3600 * 1000,
    indexIntervalBytes: 4096,
    retentionMs: -1,
    retentionBytes: -1,
    fsync: "never",
    crc32c,
    ...overrides,
  };
}

export { FlushScheduler };
