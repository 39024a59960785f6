import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { PartitionLog } from "../../src/log/partition-log.ts";
import { FlushScheduler, config, firstRecordAtOrAfter, makeBatch, tempDir } from "./log-fixtures.ts";

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const flusher = new FlushScheduler();

function fresh(overrides: Parameters<typeof config>[0] = {}) {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const path = join(dir, "ts-0");
  const open = () => {
    const l = PartitionLog.open(path, config(overrides), flusher);
    cleanups.unshift(() => l.close());
    return l;
  };
  return open;
}

/** Deterministic pseudo-random numbers. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe("PartitionLog timestamps", () => {
  test("offsetForTimestamp answers the first record at or after the target, through segments and the time index", () => {
    const open = fresh({ segmentBytes: 2500, indexIntervalBytes: 150 });
    const log = open();
    const rand = rng(42);
    const all: { offset: number; ts: number }[] = [];
    let offset = 0;
    let clock = 1_000_000;
    for (let b = 0; b < 120; b++) {
      // Mostly increasing time with jitter, so batches overlap and records are out of order.
      const n = 1 + Math.floor(rand() * 4);
      const timestamps = Array.from({ length: n }, () => clock + Math.floor(rand() * 300) - 100);
      clock += 50 + Math.floor(rand() * 100);
      log.append(makeBatch({ timestamps, valueSize: 20 }));
      timestamps.forEach((ts, i) => all.push({ offset: offset + i, ts }));
      offset += n;
    }
    expect(log.segmentCount).toBeGreaterThan(3);
    const brute = (target: number, minOffset: number) => all.find((r) => r.ts >= target && r.offset >= minOffset) ?? null;
    const check = (l: PartitionLog) => {
      for (let target = 999_000; target <= clock + 400; target += 37) {
        const got = l.offsetForTimestamp(target, (batch, min) => firstRecordAtOrAfter(batch, target, min));
        const want = brute(target, l.logStartOffset);
        expect(got === null ? null : { offset: got.offset, ts: got.timestamp }).toEqual(want);
      }
    };
    check(log);
    log.close();
    const again = open(); // sealed segments now searched through their mmapped time indexes
    check(again);
    again.deleteRecordsBefore(100);
    check(again);
  });

  test("a bare offset from the callback is accepted; null moves on; empty logs answer null", () => {
    const open = fresh();
    const log = open();
    expect(log.offsetForTimestamp(0, () => 0)).toBeNull();
    log.append(makeBatch({ timestamps: [10, 20, 30] }));
    log.append(makeBatch({ timestamps: [40, 50] }));
    expect(log.offsetForTimestamp(25, () => 2)).toEqual({ offset: 2, timestamp: 30 });
    let calls = 0;
    expect(
      log.offsetForTimestamp(25, () => {
        calls++;
        return null;
      }),
    ).toBeNull();
    expect(calls).toBe(2);
    expect(log.offsetForTimestamp(51, () => 0)).toBeNull();
  });

  test("maxTimestamp finds the earliest batch with the largest timestamp, refined to the record", () => {
    const open = fresh({ segmentBytes: 400 });
    const log = open();
    expect(log.maxTimestamp()).toBeNull();
    const stamps = [[5, 9, 7], [3], [12, 11], [8], [12, 2], [4]];
    for (const timestamps of stamps) log.append(makeBatch({ timestamps, valueSize: 60 }));
    expect(log.segmentCount).toBeGreaterThan(1);
    const exact = (l: PartitionLog) => l.maxTimestamp((batch) => {
      const v = new DataView(batch.buffer, batch.byteOffset);
      return firstRecordAtOrAfter(batch, Number(v.getBigInt64(35)));
    });
    expect(exact(log)).toEqual({ offset: 4, timestamp: 12 });
    expect(log.maxTimestamp()).toEqual({ offset: 5, timestamp: 12 });
    log.close();
    const again = open();
    expect(exact(again)).toEqual({ offset: 4, timestamp: 12 });
    again.deleteRecordsBefore(6); // the batch holding offset 4 is now below the log start
    expect(exact(again)).toEqual({ offset: 7, timestamp: 12 });
  });
});
