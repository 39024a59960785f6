import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { PartitionLog } from "../../src/log/partition-log.ts";
import { FlushScheduler, config, makeBatch, splitBatches, tempDir } from "./log-fixtures.ts";

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const flusher = new FlushScheduler();

function fresh(overrides: Parameters<typeof config>[0] = {}) {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const path = join(dir, "r-0");
  const open = (o = overrides) => {
    const l = PartitionLog.open(path, config(o), flusher);
    cleanups.unshift(() => l.close());
    return l;
  };
  return { path, open };
}

function offsets(log: PartitionLog): number[] {
  const r = log.read(log.logStartOffset, 1 << 30, true);
  if (r === "out_of_range") throw new Error("out of range");
  return splitBatches(r.chunks).map((b) => b.baseOffset);
}

const logFiles = (path: string) => readdirSync(path).filter((n) => n.endsWith(".log"));

describe("PartitionLog retention and deletion", () => {
  test("retention.ms deletes whole old segments and advances the log start", () => {
    const { path, open } = fresh({ segmentBytes: 400, retentionMs: 10_000 });
    const log = open();
    // Segments of three batches each; timestamps 1000s apart.
    for (let i = 0; i < 12; i++) log.append(makeBatch({ records: 2, valueSize: 40, baseTimestamp: 100_000 + i * 1000 }));
    const segments = log.segmentCount;
    expect(segments).toBeGreaterThan(3);
    const sizeBefore = log.sizeBytes();
    log.applyRetention(100_000 + 5 * 1000 + 10_000);
    expect(log.segmentCount).toBeLessThan(segments);
    expect(log.sizeBytes()).toBeLessThan(sizeBefore);
    expect(log.logStartOffset).toBeGreaterThan(0);
    const first = offsets(log)[0]!;
    expect(first).toBe(log.logStartOffset);
    expect(log.read(0, 100, true)).toBe("out_of_range");
    expect(logFiles(path).length).toBe(log.segmentCount);
    // Nothing newer than retention.ms is lost: batch 5 (ts 105000) is within 10s of now.
    expect(first).toBeLessThanOrEqual(10);
    // A segment is kept while any batch in it is recent enough.
    log.applyRetention(100_000 + 5 * 1000 + 10_000);
    expect(offsets(log)[0]).toBe(first);
  });

  test("retention.ms with everything expired rolls first and empties the log", () => {
    const { path, open } = fresh({ segmentBytes: 400, retentionMs: 1000 });
    const log = open();
    for (let i = 0; i < 8; i++) log.append(makeBatch({ records: 2, baseTimestamp: 5000 }));
    log.applyRetention(1_000_000);
    expect(log.logStartOffset).toBe(16);
    expect(log.logEndOffset).toBe(16);
    expect(log.segmentCount).toBe(1);
    expect(log.sizeBytes()).toBe(0);
    expect(logFiles(path)).toEqual(["00000000000000000016.log"]);
    expect(log.append(makeBatch()).baseOffset).toBe(16);
    log.close();
    const again = open();
    expect(again.logStartOffset).toBe(16);
    expect(again.logEndOffset).toBe(17);
  });

  test("retention.bytes keeps the newest data within the limit", () => {
    const { open } = fresh({ segmentBytes: 500, retentionBytes: 1200 });
    const log = open();
    for (let i = 0; i < 30; i++) log.append(makeBatch({ records: 1, valueSize: 60 }));
    const before = log.segmentCount;
    log.applyRetention(Date.now());
    expect(log.segmentCount).toBeLessThan(before);
    // As Kafka: a segment goes only if what remains still reaches the limit, so at most one segment over.
    expect(log.sizeBytes()).toBeGreaterThanOrEqual(1200);
    expect(log.sizeBytes()).toBeLessThan(1200 + 500);
    expect(log.logEndOffset).toBe(30);
    const kept = offsets(log);
    expect(kept[kept.length - 1]).toBe(29);
    expect(kept[0]).toBe(log.logStartOffset);
  });

  test("retention off (-1) deletes nothing", () => {
    const { open } = fresh({ segmentBytes: 300 });
    const log = open();
    for (let i = 0; i < 10; i++) log.append(makeBatch({ records: 1, valueSize: 60, baseTimestamp: 1 }));
    log.applyRetention(Date.now());
    expect(log.logStartOffset).toBe(0);
  });

  test("deleteRecordsBefore moves the log start and deletes whole segments below it", () => {
    const { path, open } = fresh({ segmentBytes: 500 });
    const log = open();
    for (let i = 0; i < 20; i++) log.append(makeBatch({ records: 2, valueSize: 50 }));
    const files = logFiles(path).length;
    log.deleteRecordsBefore(7);
    expect(log.logStartOffset).toBe(7);
    expect(offsets(log)[0]).toBe(6);
    expect(log.read(6, 100, true)).toBe("out_of_range");
    expect(logFiles(path).length).toBeLessThan(files);
    log.deleteRecordsBefore(3); // never moves back
    expect(log.logStartOffset).toBe(7);
    log.deleteRecordsBefore(1000); // clamped to the log end
    expect(log.logStartOffset).toBe(40);
    expect(log.read(40, 100, true)).toEqual({ chunks: [], size: 0 });
    expect(log.append(makeBatch()).baseOffset).toBe(40);
  });

  test("truncateTo drops the tail, in the active segment and across sealed ones", () => {
    const { open } = fresh({ segmentBytes: 500 });
    const log = open();
    for (let i = 0; i < 20; i++) log.append(makeBatch({ records: 2, valueSize: 50 }));
    log.truncateTo(38);
    expect(log.logEndOffset).toBe(38);
    log.truncateTo(25); // mid-batch: the whole batch holding it goes
    expect(log.logEndOffset).toBe(24);
    expect(offsets(log)).toEqual(Array.from({ length: 12 }, (_, i) => 2 * i));
    log.truncateTo(5);
    expect(log.logEndOffset).toBe(4);
    expect(log.append(makeBatch({ records: 3 })).baseOffset).toBe(4);
    expect(offsets(log)).toEqual([0, 2, 4]);
    log.close();
    const again = open();
    expect(again.logEndOffset).toBe(7);
    expect(offsets(again)).toEqual([0, 2, 4]);
    again.truncateTo(0);
    expect(again.logEndOffset).toBe(0);
    expect(again.sizeBytes()).toBe(0);
  });

  test("views of a sealed segment stay valid after it is truncated or deleted", () => {
    const { open } = fresh({ segmentBytes: 500 });
    const log = open();
    for (let i = 0; i < 20; i++) log.append(makeBatch({ records: 1, valueSize: 50, fill: i }));
    const r = log.read(0, 400, false);
    if (r === "out_of_range") throw new Error();
    const copy = r.chunks.map((c) => Uint8Array.from(c));
    log.truncateTo(1);
    log.deleteRecordsBefore(1);
    log.truncateTo(0);
    Bun.gc(true);
    expect(r.chunks.map((c) => Uint8Array.from(c))).toEqual(copy);
  });

  test("an iteration outliving deleted segments ends instead of failing", () => {
    const { open } = fresh({ segmentBytes: 400, retentionBytes: 0 });
    const log = open();
    for (let i = 0; i < 12; i++) log.append(makeBatch({ records: 1, valueSize: 60 }));
    const it = log.batches(0);
    expect(it.next().value?.baseOffset).toBe(0);
    log.applyRetention(Date.now());
    const rest = [...it];
    expect(rest.length).toBeLessThan(11);
  });

  test("deleteAll removes the directory", () => {
    const { path, open } = fresh();
    const log = open();
    log.append(makeBatch());
    log.deleteAll();
    expect(existsSync(path)).toBe(false);
  });
});
