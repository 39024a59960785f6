import { afterEach, describe, expect, test } from "bun:test";
import { appendFileSync, existsSync, readdirSync, readFileSync, statSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PartitionLog } from "../../src/log/partition-log.ts";
import { FlushScheduler, config, forgetCleanShutdown, makeBatch, splitBatches, tempDir } from "./log-fixtures.ts";

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const flusher = new FlushScheduler();

function fresh(overrides: Parameters<typeof config>[0] = {}) {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const path = join(dir, "topic-3");
  const cfg = config(overrides);
  const reopen = () => {
    const l = PartitionLog.open(path, cfg, flusher);
    cleanups.unshift(() => l.close());
    return l;
  };
  return { path, reopen };
}

function offsets(log: PartitionLog): number[] {
  const r = log.read(log.logStartOffset, 1 << 30, true);
  if (r === "out_of_range") throw new Error("out of range");
  return splitBatches(r.chunks).map((b) => b.baseOffset);
}

function segmentFiles(path: string, suffix: string): string[] {
  return readdirSync(path)
    .filter((n) => n.endsWith(suffix))
    .sort();
}

describe("PartitionLog recovery", () => {
  test("torn tail: a log cut mid-batch plus garbage recovers to the last whole batch", () => {
    const { path, reopen } = fresh();
    const log = reopen();
    const sizes: number[] = [];
    for (let i = 0; i < 10; i++) sizes.push(log.append(makeBatch({ records: 2, valueSize: 40 })) && makeBatch({ records: 2, valueSize: 40 }).length);
    log.close();
    forgetCleanShutdown(path);
    const file = join(path, "00000000000000000000.log");
    const whole = sizes.slice(0, 9).reduce((a, b) => a + b, 0);
    truncateSync(file, whole + 30); // the 10th batch torn after 30 bytes
    appendFileSync(file, new Uint8Array(100).fill(0xab));
    const again = reopen();
    expect(again.logEndOffset).toBe(18);
    expect(statSync(file).size).toBe(whole);
    expect(again.recoveryNotes.length).toBe(1);
    expect(offsets(again)).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16]);
    // Appending continues right after the last whole batch.
    expect(again.append(makeBatch()).baseOffset).toBe(18);
  });

  test("a tail shorter than a header is cut", () => {
    const { path, reopen } = fresh();
    const log = reopen();
    log.append(makeBatch({ records: 4 }));
    log.close();
    forgetCleanShutdown(path);
    appendFileSync(join(path, "00000000000000000000.log"), new Uint8Array(20));
    const again = reopen();
    expect(again.logEndOffset).toBe(4);
    expect(statSync(join(path, "00000000000000000000.log")).size).toBe(makeBatch({ records: 4 }).length);
  });

  test("a CRC-corrupt last batch is truncated", () => {
    const { path, reopen } = fresh();
    const log = reopen();
    const one = makeBatch({ records: 3 }).length;
    for (let i = 0; i < 5; i++) log.append(makeBatch({ records: 3 }));
    log.close();
    forgetCleanShutdown(path);
    const file = join(path, "00000000000000000000.log");
    const bytes = readFileSync(file);
    bytes[4 * one + 70] ^= 0x01; // a record byte of the last batch
    writeFileSync(file, bytes);
    const again = reopen();
    expect(again.logEndOffset).toBe(12);
    expect(again.recoveryNotes[0]).toContain("CRC");
    expect(offsets(again)).toEqual([0, 3, 6, 9]);
  });

  test("corruption in the middle cuts everything after it in that segment", () => {
    const { path, reopen } = fresh();
    const log = reopen();
    const one = makeBatch().length;
    for (let i = 0; i < 6; i++) log.append(makeBatch());
    log.close();
    forgetCleanShutdown(path);
    const file = join(path, "00000000000000000000.log");
    const bytes = readFileSync(file);
    bytes[2 * one + 8] = 0x7f; // absurd batch length
    writeFileSync(file, bytes);
    expect(reopen().logEndOffset).toBe(2);
  });

  test("missing index files are rebuilt and lookups still land on the right batch", () => {
    const { path, reopen } = fresh({ segmentBytes: 3000, indexIntervalBytes: 200 });
    const log = reopen();
    for (let i = 0; i < 100; i++) log.append(makeBatch({ records: 2, valueSize: 30 }));
    const end = log.logEndOffset;
    const segments = log.segmentCount;
    log.close();
    forgetCleanShutdown(path);
    const indexes = segmentFiles(path, ".index");
    const before = readFileSync(join(path, indexes[1]!));
    expect(before.length).toBeGreaterThan(0);
    for (const f of indexes) unlinkSync(join(path, f));
    for (const f of segmentFiles(path, ".timeindex")) unlinkSync(join(path, f));
    const again = reopen();
    expect(again.logEndOffset).toBe(end);
    expect(again.segmentCount).toBe(segments);
    // Sealed segments got their files back, byte for byte.
    expect(segmentFiles(path, ".index").length).toBe(segments - 1);
    expect(readFileSync(join(path, indexes[1]!))).toEqual(before);
    for (let o = 0; o < end; o++) {
      const r = again.read(o, 1, true);
      if (r === "out_of_range") throw new Error();
      expect(splitBatches(r.chunks)[0]!.baseOffset).toBe(o - (o % 2));
    }
  });

  test("damaged index files are detected and rebuilt; indexes are never trusted beyond the log", () => {
    const { path, reopen } = fresh({ segmentBytes: 3000, indexIntervalBytes: 200 });
    const log = reopen();
    for (let i = 0; i < 150; i++) log.append(makeBatch({ records: 1, valueSize: 30 }));
    const end = log.logEndOffset;
    log.close();
    forgetCleanShutdown(path);
    const indexes = segmentFiles(path, ".index");
    const good = readFileSync(join(path, indexes[0]!));
    // An odd size, and an entry pointing past the end of the log.
    writeFileSync(join(path, indexes[0]!), good.subarray(0, good.length - 3));
    const bogus = Buffer.from(readFileSync(join(path, indexes[1]!)));
    bogus.writeInt32BE(1 << 30, bogus.length - 4);
    writeFileSync(join(path, indexes[1]!), bogus);
    const again = reopen();
    expect(again.logEndOffset).toBe(end);
    expect(readFileSync(join(path, indexes[0]!))).toEqual(good);
    expect(offsets(again)).toEqual(Array.from({ length: 150 }, (_, i) => i));
  });

  test("a crash during a roll (sealed segment without indexes, empty active) recovers", () => {
    const { path, reopen } = fresh({ segmentBytes: 1000 });
    const log = reopen();
    for (let i = 0; i < 12; i++) log.append(makeBatch({ valueSize: 100 }));
    const end = log.logEndOffset;
    log.close();
    forgetCleanShutdown(path);
    const logs = segmentFiles(path, ".log");
    const lastSealed = logs[logs.length - 2]!.replace(".log", "");
    unlinkSync(join(path, `${lastSealed}.index`));
    writeFileSync(join(path, `${lastSealed}.timeindex.tmp`), "half-written");
    // A new, empty active segment as a roll creates it.
    writeFileSync(join(path, `${String(end).padStart(20, "0")}.log`), "");
    const again = reopen();
    expect(again.logEndOffset).toBe(end);
    expect(existsSync(join(path, `${lastSealed}.index`))).toBe(true);
    expect(existsSync(join(path, `${lastSealed}.timeindex.tmp`))).toBe(false);
    expect(offsets(again)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(again.append(makeBatch()).baseOffset).toBe(end);
  });

  test("an empty directory or empty active segment opens at its base offset", () => {
    const { path, reopen } = fresh();
    const log = reopen();
    log.append(makeBatch({ records: 5 }));
    log.roll();
    expect(log.logEndOffset).toBe(5);
    log.close();
    forgetCleanShutdown(path);
    const again = reopen();
    expect(again.logEndOffset).toBe(5);
    expect(again.append(makeBatch()).baseOffset).toBe(5);
    expect(existsSync(join(path, "00000000000000000005.log"))).toBe(true);
  });

  test("a clean close lets the next open skip the scan; appends after it are scanned after a crash", () => {
    const { path, reopen } = fresh({ indexIntervalBytes: 100, fsync: "group" });
    const log = reopen();
    for (let i = 0; i < 30; i++) log.append(makeBatch({ records: 2, baseTimestamp: 1000 + i }));
    log.close();
    expect(existsSync(join(path, "clean-shutdown"))).toBe(true);
    expect(existsSync(join(path, "00000000000000000000.index"))).toBe(true);
    const again = reopen();
    // Active-segment index files are consumed at open; the marker stays (it no longer fits once the segment grows).
    expect(existsSync(join(path, "clean-shutdown"))).toBe(true);
    expect(existsSync(join(path, "00000000000000000000.index"))).toBe(false);
    expect(again.logEndOffset).toBe(60);
    expect(again.maxTimestamp()).toEqual({ offset: 59, timestamp: 1030 });
    for (let o = 0; o < 60; o += 3) {
      const r = again.read(o, 1, true);
      if (r === "out_of_range") throw new Error();
      expect(splitBatches(r.chunks)[0]!.baseOffset).toBe(o - (o % 2));
    }
    again.append(makeBatch({ records: 2, baseTimestamp: 5000 }));
    // Crash: no close. The torn tail of the new batch is found by a scan, not hidden by a stale marker.
    const file = join(path, "00000000000000000000.log");
    truncateSync(file, statSync(file).size - 5);
    const third = PartitionLog.open(path, config({ indexIntervalBytes: 100, fsync: "group" }), flusher);
    cleanups.unshift(() => third.close());
    expect(third.logEndOffset).toBe(60);
    expect(third.recoveryNotes.length).toBe(1);
    // The scan cut the torn append: the segment is again byte for byte what the marker describes, which stays.
    expect(existsSync(join(path, "clean-shutdown"))).toBe(true);
    again.close();
  });

  test("with fsync=never the first append after a clean start drops the marker: a power loss may take the append back to its size", () => {
    const { path, reopen } = fresh();
    const log = reopen();
    log.append(makeBatch({ records: 2 }));
    log.close();
    const again = reopen();
    expect(existsSync(join(path, "clean-shutdown"))).toBe(true);
    again.append(makeBatch({ records: 2 }));
    expect(existsSync(join(path, "clean-shutdown"))).toBe(false);
  });

  test("a truncation drops the clean-shutdown marker: its bytes are no longer those of the clean close", () => {
    const { path, reopen } = fresh();
    const log = reopen();
    for (let i = 0; i < 10; i++) log.append(makeBatch({ records: 2 }));
    log.close();
    const again = reopen();
    expect(existsSync(join(path, "clean-shutdown"))).toBe(true);
    again.truncateTo(10);
    expect(existsSync(join(path, "clean-shutdown"))).toBe(false);
  });

  test("logStartOffset survives a restart", () => {
    const { path, reopen } = fresh({ segmentBytes: 500 });
    const log = reopen();
    for (let i = 0; i < 20; i++) log.append(makeBatch({ records: 2, valueSize: 50 }));
    log.deleteRecordsBefore(13);
    expect(log.logStartOffset).toBe(13);
    log.close();
    forgetCleanShutdown(path);
    const again = reopen();
    expect(again.logStartOffset).toBe(13);
    expect(again.read(12, 100, true)).toBe("out_of_range");
    expect(offsets(again)[0]).toBe(12); // the batch holding 13
  });

  test("garbage in a batch header never crashes or hangs recovery", () => {
    const { path, reopen } = fresh();
    const log = reopen();
    for (let i = 0; i < 4; i++) log.append(makeBatch({ records: 2 }));
    log.close();
    forgetCleanShutdown(path);
    const file = join(path, "00000000000000000000.log");
    const original = readFileSync(file);
    const one = makeBatch({ records: 2 }).length;
    for (let i = 0; i < 122; i++) {
      const bytes = Buffer.from(original);
      const at = one * 2 + (i % 61);
      bytes[at] = (bytes[at]! + 1 + i) & 0xff;
      writeFileSync(file, bytes);
      const l = PartitionLog.open(path, config(), flusher);
      expect(l.logEndOffset).toBeGreaterThanOrEqual(4);
      expect(l.logEndOffset).toBeLessThanOrEqual(8);
      l.close();
      forgetCleanShutdown(path);
    }
  });
});

describe("recovery points", () => {
  /** A group-mode log of four fsynced batches, closed as after a crash; returns the recovery point after the third. */
  async function crashedLog() {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const cfg = config({ fsync: "group" });
    const path = join(dir, "rp-0");
    const log = PartitionLog.open(path, cfg, flusher);
    for (let i = 0; i < 3; i++) log.append(makeBatch({ records: 5, fill: i + 1 }));
    await log.flushed();
    const point = log.recoveryPoint;
    log.append(makeBatch({ records: 5, fill: 9 }));
    await log.flushed();
    log.close();
    forgetCleanShutdown(path);
    const segment = join(path, segmentFiles(path, ".log")[0]!);
    return { dir, cfg, path, point, segment };
  }

  test("after a crash, the prefix a recovery point covers is trusted and only the rest is checked", async () => {
    const { cfg, path, point, segment } = await crashedLog();
    expect(point).toBe(15);
    const bytes = new Uint8Array(readFileSync(segment));
    const batches = splitBatches([bytes]);
    // A flipped byte inside the second batch (its CRC fails) and garbage after the last one.
    bytes[batches[1]!.size + batches[0]!.size - 3]! ^= 0xff;
    writeFileSync(segment, bytes);
    appendFileSync(segment, new Uint8Array(30).fill(5));

    const withPoint = PartitionLog.open(path, cfg, flusher, point);
    // The damaged batch below the point was not read (nothing but headers was), the garbage after it was cut.
    expect(withPoint.logEndOffset).toBe(20);
    expect(withPoint.recoveryNotes).toEqual([expect.stringMatching(/30 trailing bytes at \d+ are not a whole batch header; cut 30 bytes/)]);
    expect(offsets(withPoint)).toEqual([0, 5, 10, 15]);
    withPoint.close();
    forgetCleanShutdown(path);
    // Without the point, the whole segment is checked and the damaged batch is found.
    const without = PartitionLog.open(path, cfg, flusher);
    cleanups.unshift(() => without.close());
    expect(without.logEndOffset).toBe(5);
  });

  test("a batch the recovery point falls inside is checked record by record", async () => {
    const { cfg, path, segment } = await crashedLog();
    const bytes = new Uint8Array(readFileSync(segment));
    const batches = splitBatches([bytes]);
    // A flipped byte inside the third batch (offsets 10 to 14), which a recovery point of 12 only partly covers.
    bytes[batches[0]!.size + batches[1]!.size + batches[2]!.size - 3]! ^= 0xff;
    writeFileSync(segment, bytes);
    const log = PartitionLog.open(path, cfg, flusher, 12);
    cleanups.unshift(() => log.close());
    expect(log.recoveryNotes[0]).toMatch(/CRC|crc/);
    expect(log.logEndOffset).toBe(10);
    expect(offsets(log)).toEqual([0, 5]);
  });
});
