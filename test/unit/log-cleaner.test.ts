// The log cleaner on a PartitionLog directly: what it keeps (latest record per
// key, tombstones until their horizon, producers' last batches, committed
// transactions), what it drops (older values, aborted records, then their
// markers), what it never touches (the active segment, the uncleanable part),
// that offsets survive with gaps every reader handles, and that its swap
// recovers from every intermediate state on disk.

import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Codec } from "../../src/codec/compression.ts";
import { cleanLog, CleanAborted, Slicer, type CleanTarget, type CompactionConfig } from "../../src/log/cleaner.ts";
import { LogCleaner } from "../../src/log/cleaner-scheduler.ts";
import { PartitionLog } from "../../src/log/partition-log.ts";
import { CLEANED_SUFFIX, CLEANER_SWAP_FILE, segmentName } from "../../src/log/segment-files.ts";
import { buildBatch, buildControlBatch, iterateRecords, readBatchHeader, type RecordInit } from "../../src/protocol/records.ts";
import { Logger } from "../../src/util/logger.ts";
import { batchFacts, PartitionTxnState } from "../../src/txn/partition-txn.ts";
import { TopicRegistry } from "../../src/meta/topics.ts";
import { DEFAULT_OPTIONS } from "../../src/config.ts";
import { FlushScheduler, config, forgetCleanShutdown, tempDir } from "./log-fixtures.ts";

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const flusher = new FlushScheduler();
const T0 = 1_700_000_000_000;
const dec = new TextDecoder();

function fresh(segmentBytes = 1500) {
  const { dir, cleanup } = tempDir("klite-cleaner-");
  cleanups.push(cleanup);
  const path = join(dir, "c-0");
  const settings = config({ segmentBytes, indexIntervalBytes: 200, cleanupPolicy: { delete: false, compact: true } });
  const open = () => {
    const l = PartitionLog.open(path, settings, flusher);
    cleanups.unshift(() => l.close());
    return l;
  };
  return { path, open };
}

interface Txn {
  last: Map<number, number>;
  lso?: number;
}

function target(log: PartitionLog, cfg: Partial<CompactionConfig> = {}, txn: Txn = { last: new Map() }): CleanTarget {
  return {
    name: "c-0",
    log,
    config: () => ({ minCleanableRatio: 0.5, minCompactionLagMs: 0, maxCompactionLagMs: Number.MAX_SAFE_INTEGER, deleteRetentionMs: 86_400_000, segmentBytes: 1500, ...cfg }),
    lastBatchOffsets: () => txn.last,
    lastStableOffset: () => txn.lso ?? log.logEndOffset,
  };
}

const run = (t: CleanTarget, now = Date.now(), force = false) => cleanLog(t, { now, mapBudgetBytes: 1 << 20, slicer: new Slicer(5, () => false), force });

type Rec = [offset: number, key: string | null, value: string | null];

/** Every record the log serves, through Fetch's read path. */
function records(log: PartitionLog, from = log.logStartOffset): Rec[] {
  const out: Rec[] = [];
  let offset = from;
  while (offset < log.logEndOffset) {
    const r = log.read(offset, 1 << 16, true);
    if (r === "out_of_range" || r.size === 0) break;
    for (const chunk of r.chunks) {
      for (let pos = 0; pos < chunk.length; ) {
        const h = readBatchHeader(chunk, pos);
        const batch = chunk.subarray(pos, pos + h.sizeInBytes);
        if (!h.control) for (const rec of iterateRecords(batch)) if (rec.offset >= offset) out.push([rec.offset, rec.key && dec.decode(rec.key), rec.value && dec.decode(rec.value)]);
        offset = h.baseOffset + h.lastOffsetDelta + 1;
        pos += h.sizeInBytes;
      }
    }
  }
  return out;
}

function put(log: PartitionLog, recs: RecordInit[], codec: number = Codec.NONE, extra: Partial<Parameters<typeof buildBatch>[0]> = {}): { baseOffset: number; lastOffset: number } {
  return log.append(buildBatch({ records: recs, codec, ...extra }));
}

/** `n` single-record updates over `keys` keys (every `tomb`-th a tombstone); returns what was written. */
function updates(log: PartitionLog, n: number, keys: number, tomb = 0, codec: number = Codec.NONE, from = 0): Rec[] {
  const out: Rec[] = [];
  for (let i = from; i < from + n; i++) {
    const key = `k${i % keys}`;
    const value = tomb > 0 && i % tomb === 0 ? null : `v${i}`;
    const { baseOffset } = put(log, [{ key, value, timestamp: T0 + i }], codec);
    out.push([baseOffset, key, value]);
  }
  return out;
}

/** What a consumer must see after a clean up to `upTo`: below it the latest record per key, above it everything. */
function expected(written: Rec[], upTo: number, dropTombstones = false): Rec[] {
  const latest = new Map<string, number>();
  for (const [o, k] of written) if (o < upTo) latest.set(k!, o);
  return written.filter(([o, k, v]) => o >= upTo || (latest.get(k!) === o && !(dropTombstones && v === null)));
}

describe("log cleaner", () => {
  test("keeps the latest record per key below the active segment, with original offsets; every reader handles the gaps", async () => {
    const { path, open } = fresh();
    const log = open();
    const written = updates(log, 300, 7, 11);
    const segments = log.segmentCount;
    expect(segments).toBeGreaterThan(5);
    const sizeBefore = log.sizeBytes();
    const stats = (await run(target(log)))!;
    expect(stats).not.toBeNull();
    expect(stats.cleanedUpTo).toBe(log.activeBaseOffset);
    const want = expected(written, stats.cleanedUpTo);
    expect(records(log)).toEqual(want);
    expect(log.sizeBytes()).toBeLessThan(sizeBefore / 2);
    // The active segment was not touched.
    expect(records(log, log.activeBaseOffset)).toEqual(written.filter(([o]) => o >= log.activeBaseOffset));
    // A fetch at an offset that was cleaned away answers from the next batch.
    const gap = written.find(([o]) => !want.some(([w]) => w === o))![0];
    const r = log.read(gap, 1 << 16, true);
    expect(r === "out_of_range" ? -1 : readBatchHeader(r.chunks[0]!, 0).baseOffset).toBe(want.find(([o]) => o > gap)![0]);
    // Timestamp lookups land on the first kept record at or after the time.
    const byTime = log.offsetForTimestamp(T0 + gap, (batch, min) => {
      for (const rec of iterateRecords(batch)) if (rec.offset >= min && rec.timestamp >= T0 + gap) return { offset: rec.offset, timestamp: rec.timestamp };
      return null;
    });
    expect(byTime!.offset).toBe(want.find(([o]) => o > gap)![0]);
    // Reopened after a clean shutdown and after a crash (segments rescanned): the same records.
    log.close();
    const again = open();
    expect(records(again)).toEqual(want);
    expect(again.logEndOffset).toBe(300);
    again.close();
    forgetCleanShutdown(path);
    for (const n of readdirSync(path)) if (n.endsWith(".index") || n.endsWith(".timeindex")) Bun.file(join(path, n)).size && writeFileSync(join(path, n), "garbage!");
    const rescanned = open();
    expect(records(rescanned)).toEqual(want);
    // Recovery reports the damaged indexes it rebuilt, and cuts nothing.
    for (const note of rescanned.recoveryNotes) expect(note).toContain("indexes missing or damaged; rebuilt them from the log");
  });

  test("a second clean groups the small cleaned segments into one and removes what newer updates replaced", async () => {
    const { open } = fresh();
    const log = open();
    const first = updates(log, 200, 5);
    await run(target(log));
    const segmentsAfterFirst = log.segmentCount;
    const more = updates(log, 200, 5, 0, Codec.NONE, 200);
    const stats = (await run(target(log)))!;
    expect(log.segmentCount).toBeLessThan(segmentsAfterFirst + 6);
    expect(stats.segmentsWritten).toBeLessThan(stats.segmentsRead);
    expect(records(log)).toEqual(expected([...first, ...more], stats.cleanedUpTo));
    // Below the cleaned point each key appears once.
    const below = records(log).filter(([o]) => o < stats.cleanedUpTo).map(([, k]) => k);
    expect(new Set(below).size).toBe(below.length);
  });

  test("tombstones stay until delete.retention.ms after their first clean, then go", async () => {
    const { open } = fresh();
    const log = open();
    const written = updates(log, 120, 4, 7);
    const now = Date.now();
    const stats = (await run(target(log, { deleteRetentionMs: 60_000 }), now))!;
    const tombs = records(log).filter(([o, , v]) => v === null && o < stats.cleanedUpTo);
    expect(tombs.length).toBeGreaterThan(0);
    expect(stats.pendingHorizon).toBe(now + 60_000);
    // Before the horizon a forced clean keeps them; after it they are gone.
    await run(target(log, { deleteRetentionMs: 60_000 }), now + 59_000, true);
    expect(records(log).filter(([, , v]) => v === null).length).toBeGreaterThanOrEqual(tombs.length);
    const late = (await run(target(log, { deleteRetentionMs: 60_000 }), now + 60_001, true))!;
    expect(late.pendingHorizon).toBeNull();
    expect(records(log)).toEqual(expected(written, stats.cleanedUpTo, true));
  });

  test("compressed batches are rewritten with their own codec, records and headers intact", async () => {
    const { open } = fresh(4000);
    const log = open();
    const written: Rec[] = [];
    const codecs = [Codec.LZ4, Codec.ZSTD, Codec.GZIP, Codec.SNAPPY, Codec.NONE];
    for (let b = 0; b < 60; b++) {
      const recs: RecordInit[] = Array.from({ length: 5 }, (_, j) => ({ key: `k${(b * 5 + j) % 9}`, value: `v${b * 5 + j}-${"z".repeat(30)}`, timestamp: T0 + b * 5 + j, headers: [{ key: "h", value: String(b * 5 + j) }] }));
      const { baseOffset } = put(log, recs, codecs[b % codecs.length]);
      recs.forEach((r, j) => written.push([baseOffset + j, r.key as string, r.value as string]));
    }
    const stats = (await run(target(log)))!;
    expect(records(log)).toEqual(expected(written, stats.cleanedUpTo));
    const seen = new Set<number>();
    for (const b of log.batches(0)) {
      const bytes = b.bytes();
      const h = readBatchHeader(bytes, 0);
      seen.add(h.codec);
      // A rebuilt batch keeps its base offset and last offset delta, and its headers.
      expect(h.lastOffsetDelta).toBe(4);
      for (const r of iterateRecords(bytes)) expect(dec.decode(r.headers[0]!.value!)).toBe(String(r.offset));
    }
    expect([...seen].sort()).toEqual([0, 1, 2, 3, 4]);
  });

  test("the last stable offset and min.compaction.lag.ms bound what is cleaned", async () => {
    const { open } = fresh();
    const log = open();
    updates(log, 200, 3);
    const third = log.sealedSegments()[2]!.baseOffset;
    const txn: Txn = { last: new Map(), lso: third + 1 };
    const s1 = (await run(target(log, {}, txn)))!;
    expect(s1.cleanedUpTo).toBeLessThanOrEqual(third + 1);
    // Records whose segment is younger than the lag stay dirty.
    const fresh2 = fresh();
    const young = fresh2.open();
    const now = Date.now();
    for (let i = 0; i < 100; i++) put(young, [{ key: `k${i % 3}`, value: `v${i}`, timestamp: now - 100 + i }]);
    expect(await run(target(young, { minCompactionLagMs: 60_000 }), now)).toBeNull();
    expect((await run(target(young, { minCompactionLagMs: 50 }), now + 1000))!.cleanedUpTo).toBe(young.activeBaseOffset);
  });

  test("aborted transactions' records go, then their markers; each producer's last batch stays (emptied) with its sequence", async () => {
    const { open } = fresh();
    const log = open();
    const pid = 42;
    let seq = 0;
    const txnBatch = (value: string, key = "k0") => {
      const r = put(log, [{ key, value, timestamp: T0 }], Codec.NONE, { producerId: pid, producerEpoch: 0, baseSequence: seq++, transactional: true });
      return r;
    };
    const marker = (commit: boolean) => log.append(buildControlBatch({ producerId: pid, producerEpoch: 0, commit, coordinatorEpoch: 0, timestamp: T0 }));
    txnBatch("c1");
    marker(true);
    const a1 = txnBatch("a1");
    const a2 = txnBatch("a2", "k1");
    const abortMarker = marker(false);
    // The transaction index entries the partition's transaction state writes for each abort marker.
    log.appendAbortedTxn({ producerId: pid, firstOffset: a1.baseOffset, lastOffset: abortMarker.baseOffset, lastStableOffset: abortMarker.baseOffset + 1 });
    // The producer's last data batch: aborted too, after a plain update to k0.
    put(log, [{ key: "k0", value: "plain", timestamp: T0 }]);
    const a3 = txnBatch("a3", "k2");
    const abortMarker2 = marker(false);
    log.appendAbortedTxn({ producerId: pid, firstOffset: a3.baseOffset, lastOffset: abortMarker2.baseOffset, lastStableOffset: abortMarker2.baseOffset + 1 });
    log.roll();
    updates(log, 5, 50, 0, Codec.NONE, 1000);
    const txn: Txn = { last: new Map([[pid, a3.lastOffset]]) };
    const t = target(log, { deleteRetentionMs: 1000 }, txn);
    const now = Date.now();
    const s1 = (await run(t, now))!;
    expect(records(log).filter(([o]) => o < s1.cleanedUpTo)).toEqual([[a3.baseOffset - 1, "k0", "plain"]]);
    // The aborted batch that is the producer's last stays as an empty batch with its sequence.
    const kept = [...log.batches(0)].map((b) => readBatchHeader(b.head, 0));
    const empty = kept.find((h) => h.baseOffset === a3.baseOffset)!;
    expect(empty.recordCount).toBe(0);
    expect(empty.producerId).toBe(pid);
    expect(empty.baseSequence).toBe(3);
    expect(kept.some((h) => h.baseOffset === a2.baseOffset)).toBe(false);
    // Markers whose data just went stay for this pass; the next stamps their horizon; after it they go.
    expect(s1.moreToDo).toBe(true);
    expect(kept.filter((h) => h.control).map((h) => h.baseOffset)).toContain(abortMarker.baseOffset);
    await run(t, now + 1, true);
    await run(t, now + 5000, true);
    const after = [...log.batches(0)].map((b) => readBatchHeader(b.head, 0));
    const markers = after.filter((h) => h.control).map((h) => h.baseOffset);
    // The commit marker's transaction lost its record to a newer key value, the first abort marker its data:
    // both gone. The second abort marker stays while its (emptied) batch does.
    expect(markers).toEqual([abortMarker2.baseOffset]);
    // The cleaned segments' transaction indexes keep only the transaction whose (emptied) batch stays.
    expect(log.abortedTxns(0, log.logEndOffset)).toEqual([{ producerId: pid, firstOffset: a3.baseOffset, lastOffset: abortMarker2.baseOffset, lastStableOffset: abortMarker2.baseOffset + 1 }]);
  });

  test("idempotence survives cleaning: producer state rebuilt from the cleaned log knows each producer's last sequence", async () => {
    const { open } = fresh();
    const log = open();
    const last = new Map<number, number>();
    for (let i = 0; i < 120; i++) {
      const pid = 7 + (i % 2);
      const r = put(log, [{ key: `k${i % 3}`, value: `v${i}`, timestamp: T0 + i }], Codec.NONE, { producerId: pid, producerEpoch: 1, baseSequence: Math.floor(i / 2) });
      last.set(pid, r.lastOffset);
    }
    // Later plain writes supersede every record of both producers: their last batches stay, emptied.
    for (const k of ["k0", "k1", "k2"]) put(log, [{ key: k, value: "plain", timestamp: T0 }]);
    log.roll();
    const stats = (await run(target(log, {}, { last })))!;
    expect(stats.recordsKept).toBeLessThan(stats.recordsRead);
    const heads = [...log.batches(0)].map((b) => readBatchHeader(b.head, 0)).filter((h) => h.producerId >= 0);
    expect(heads.map((h) => [h.producerId, h.recordCount, h.baseSequence])).toEqual([
      [7, 0, 59],
      [8, 0, 59],
    ]);
    log.close();
    const again = open();
    const state = new PartitionTxnState();
    for (const b of again.batches(0)) state.apply(batchFacts(b.head), null);
    for (const pid of [7, 8]) {
      // The next sequence is accepted, the last batch is recognised as a duplicate, a gap is refused.
      expect(state.producers.check({ producerId: pid, producerEpoch: 1, baseSequence: 60, count: 1 }).kind).toBe("append");
      expect(state.producers.check({ producerId: pid, producerEpoch: 1, baseSequence: 59, count: 1 })).toMatchObject({ kind: "duplicate", lastOffset: last.get(pid)! });
      expect(state.producers.check({ producerId: pid, producerEpoch: 1, baseSequence: 62, count: 1 }).kind).toBe("error");
    }
  });

  test("records without a key are dropped by a clean, as Kafka's cleaner does; an empty key is a key", async () => {
    const { open } = fresh();
    const log = open();
    const keyless = put(log, [{ key: null, value: "no key", timestamp: T0 }]);
    const empty = put(log, [{ key: "", value: "empty key", timestamp: T0 }]);
    const written = updates(log, 100, 3, 0, Codec.NONE, 10);
    const stats = (await run(target(log)))!;
    const got = records(log);
    expect(got.some(([o]) => o === keyless.baseOffset)).toBe(false);
    expect(got).toContainEqual([empty.baseOffset, "", "empty key"]);
    expect(got.filter(([o]) => o !== empty.baseOffset)).toEqual(expected(written, stats.cleanedUpTo));
  });

  test("a tiny offset map cleans in several steps, each making progress", async () => {
    const { open } = fresh();
    const log = open();
    const written = updates(log, 400, 400);
    const t = target(log);
    let steps = 0;
    let upTo = 0;
    for (;;) {
      const s = await cleanLog(t, { now: Date.now(), mapBudgetBytes: 2000, slicer: new Slicer(5, () => false) });
      if (!s) break;
      expect(s.cleanedUpTo).toBeGreaterThan(upTo);
      upTo = s.cleanedUpTo;
      steps++;
    }
    expect(steps).toBeGreaterThan(2);
    expect(records(log)).toEqual(written);
  });

  test("a clean whose segments retention took away is abandoned, leaving no .cleaned file", async () => {
    const { path, open } = fresh();
    const log = open();
    updates(log, 200, 3);
    let stop = false;
    const slicer = new Slicer(0, () => stop);
    const t = target(log);
    const p = cleanLog(t, { now: Date.now(), mapBudgetBytes: 1 << 20, slicer });
    log.deleteRecordsBefore(log.activeBaseOffset);
    await expect(p).rejects.toBeInstanceOf(CleanAborted);
    expect(readdirSync(path).filter((n) => n.includes(CLEANED_SUFFIX))).toEqual([]);
    stop = true;
  });

  test("a truncation below the cleaner checkpoint makes what is appended again dirty", async () => {
    const { open } = fresh();
    const log = open();
    updates(log, 200, 3);
    const s1 = (await run(target(log)))!;
    log.truncateTo(s1.cleanedUpTo - 30);
    expect(log.firstDirtyOffset).toBe(log.logEndOffset);
    const again = updates(log, 200, 3, 0, Codec.NONE, 500);
    const s2 = (await run(target(log)))!;
    const below = records(log).filter(([o]) => o < s2.cleanedUpTo).map(([, k]) => k);
    expect(new Set(below).size).toBe(below.length);
    expect(records(log).filter(([o]) => o >= s2.cleanedUpTo)).toEqual(again.filter(([o]) => o >= s2.cleanedUpTo));
  });

  test("retention never deletes a compact-only topic's segments; compact,delete it does", async () => {
    const { open } = fresh();
    const log = open();
    updates(log, 100, 3);
    const n = log.segmentCount;
    log.applyRetention(Date.now() + 1e12);
    expect(log.segmentCount).toBe(n);
    log.setConfig({ ...log.settings, retentionMs: 1000, cleanupPolicy: { delete: true, compact: true } });
    log.applyRetention(Date.now() + 1e12);
    expect(log.logStartOffset).toBe(100);
  });

  test("the scheduler picks the dirtiest log above its min.cleanable.dirty.ratio, or one past max.compaction.lag.ms", async () => {
    const logs = [fresh().open(), fresh().open(), fresh().open()];
    // 0: half clean, half dirty; 1: all dirty; 2: all dirty but its ratio threshold is 1 (never) unless overdue.
    updates(logs[0]!, 100, 3);
    await run(target(logs[0]!));
    updates(logs[0]!, 60, 3, 0, Codec.NONE, 100);
    updates(logs[1]!, 100, 3);
    updates(logs[2]!, 100, 3);
    const lag = { value: Number.MAX_SAFE_INTEGER };
    const targets = [target(logs[0]!), target(logs[1]!), { ...target(logs[2]!), config: () => ({ ...target(logs[2]!).config(), minCleanableRatio: 1, maxCompactionLagMs: lag.value }) }];
    const cleaner = new LogCleaner({ backoffMs: 1000, mapBudgetBytes: 1 << 20, sliceMs: 5, targets: () => targets, logger: new Logger("error") });
    const order: string[] = [];
    cleaner.onClean = (t) => order.push(String(targets.indexOf(t)));
    expect(await cleaner.cleanOnce()).toBe(true);
    expect(await cleaner.cleanOnce()).toBe(true);
    // Log 2 is never dirty enough, until its oldest dirty record is older than max.compaction.lag.ms.
    expect(await cleaner.cleanOnce()).toBe(false);
    lag.value = 1000;
    expect(await cleaner.cleanOnce()).toBe(true);
    expect(order).toEqual(["1", "0", "2"]);
  });

  test("after a restart the scheduler learns pending delete horizons from the cleaned batches' headers", async () => {
    const { open } = fresh();
    const log = open();
    updates(log, 200, 4);
    put(log, [{ key: "k0", value: null, timestamp: T0 }]);
    for (let i = 0; i < 60; i++) put(log, [{ key: `filler-${i}`, value: "x".repeat(40), timestamp: T0 }]);
    const now = Date.now();
    const first = (await run(target(log, { deleteRetentionMs: 1000 }), now))!;
    expect(first.pendingHorizon).toBe(now + 1000);
    log.close();
    const again = open();
    const t = target(again, { deleteRetentionMs: 1000 });
    const cleaner = new LogCleaner({ backoffMs: 1000, mapBudgetBytes: 1 << 20, sliceMs: 5, targets: () => [t], logger: new Logger("error") });
    // Nothing is dirty and the horizon has not passed: nothing to do.
    expect(await cleaner.cleanOnce(now + 500)).toBe(false);
    expect(records(again).filter(([, , v]) => v === null)).toHaveLength(1);
    expect(await cleaner.cleanOnce(now + 1001)).toBe(true);
    expect(records(again).filter(([, , v]) => v === null)).toEqual([]);
  });

  test("the scheduler cleans the dirtiest log in slices and comes back for due tombstones", async () => {
    const { open } = fresh();
    const log = open();
    updates(log, 200, 4);
    put(log, [{ key: "k0", value: null, timestamp: T0 }]);
    put(log, [{ key: "k1", value: null, timestamp: T0 }]);
    for (let i = 0; i < 60; i++) put(log, [{ key: `filler-${i}`, value: "x".repeat(40), timestamp: T0 }]);
    const t = target(log, { deleteRetentionMs: 0 });
    const cleaner = new LogCleaner({ backoffMs: 5, mapBudgetBytes: 1 << 20, sliceMs: 1, targets: () => [t], logger: new Logger("error") });
    const cleans: number[] = [];
    cleaner.onClean = (_, s) => cleans.push(s.cleanedUpTo);
    cleaner.start();
    try {
      const deadline = Date.now() + 10_000;
      while (Date.now() < deadline && !(cleans.length >= 2 && records(log).every(([o, , v]) => v !== null || o >= log.activeBaseOffset))) await Bun.sleep(10);
    } finally {
      await cleaner.stop();
    }
    expect(cleans.length).toBeGreaterThanOrEqual(2);
    expect(records(log).filter(([o, , v]) => v === null && o < log.activeBaseOffset)).toEqual([]);
  });
});

describe("cleanup.policy in the log settings", () => {
  test("delete, compact and compact,delete set what retention and the cleaner do; a compacted topic rolls by max.compaction.lag.ms", () => {
    const registry = new TopicRegistry({ ...DEFAULT_OPTIONS, dataDir: "/nonexistent" }, flusher);
    expect(registry.logConfig({}).cleanupPolicy).toEqual({ delete: true, compact: false });
    expect(registry.logConfig({ "cleanup.policy": "compact" }).cleanupPolicy).toEqual({ delete: false, compact: true });
    expect(registry.logConfig({ "cleanup.policy": "compact, delete" }).cleanupPolicy).toEqual({ delete: true, compact: true });
    expect(registry.logConfig({ "cleanup.policy": "compact", "max.compaction.lag.ms": "60000", "segment.ms": "600000" }).segmentMs).toBe(60000);
    expect(registry.logConfig({ "cleanup.policy": "delete", "max.compaction.lag.ms": "60000", "segment.ms": "600000" }).segmentMs).toBe(600000);
  });
});

describe("cleaner swap recovery", () => {
  const SUFFIXES = [".index", ".timeindex", ".log"];

  /**
   * A log whose sealed segments a clean would replace by one, with that
   * clean's .cleaned files captured (the swap refused) and the log closed: the
   * disk state at the moment before the commit.
   */
  async function captured() {
    const { path, open } = fresh();
    const log = open();
    const written = updates(log, 300, 5);
    const end = log.activeBaseOffset;
    const files = new Map<string, Buffer>();
    log.replaceSegments = (_old, plan) => {
      for (const suffix of SUFFIXES) files.set(suffix, readFileSync(join(path, segmentName(plan.base) + suffix + CLEANED_SUFFIX)));
      return false;
    };
    await expect(run(target(log, { segmentBytes: 1 << 30 }))).rejects.toBeInstanceOf(CleanAborted);
    log.close();
    forgetCleanShutdown(path);
    const restore = () => {
      for (const [suffix, data] of files) writeFileSync(join(path, segmentName(0) + suffix + CLEANED_SUFFIX), data);
    };
    const others = readdirSync(path)
      .filter((n) => n.endsWith(".log"))
      .map((n) => Number(n.slice(0, 20)))
      .filter((b) => b > 0 && b < end)
      .sort((x, y) => x - y);
    return { path, open, written, end, restore, others };
  }

  const leftovers = (path: string) => readdirSync(path).filter((n) => n.endsWith(CLEANED_SUFFIX) || n === CLEANER_SWAP_FILE);

  test("no commit record: leftover .cleaned files are removed and the old segments serve", async () => {
    const { path, open, written, restore } = await captured();
    restore();
    const again = open();
    expect(records(again)).toEqual(written);
    expect(leftovers(path)).toEqual([]);
  });

  test("a commit record whose first segment retention deleted meanwhile is discarded, not replayed", async () => {
    const { path, open, end, restore, others } = await captured();
    restore();
    writeFileSync(join(path, CLEANER_SWAP_FILE), `0 ${end}\n`);
    for (const s of SUFFIXES) Bun.spawnSync(["rm", "-f", join(path, segmentName(0) + s)]);
    const again = open();
    expect(again.recoveryNotes.join()).toContain("discarded the cleaner's swap");
    expect(leftovers(path)).toEqual([]);
    expect(again.logStartOffset).toBe(others[0]);
  });

  const stages: [string, (c: Awaited<ReturnType<typeof captured>>) => void][] = [
    ["committed, nothing renamed", () => {}],
    ["index files renamed, log not", ({ path }) => {
      for (const s of [".index", ".timeindex"]) renameSync(join(path, segmentName(0) + s + CLEANED_SUFFIX), join(path, segmentName(0) + s));
    }],
    ["all renamed, replaced segments still there", ({ path }) => {
      for (const s of SUFFIXES) renameSync(join(path, segmentName(0) + s + CLEANED_SUFFIX), join(path, segmentName(0) + s));
    }],
    ["all renamed, replaced segments half unlinked", ({ path, others }) => {
      for (const s of SUFFIXES) renameSync(join(path, segmentName(0) + s + CLEANED_SUFFIX), join(path, segmentName(0) + s));
      for (const b of others.slice(0, Math.ceil(others.length / 2))) for (const s of SUFFIXES) if (existsSync(join(path, segmentName(b) + s))) Bun.spawnSync(["rm", join(path, segmentName(b) + s)]);
    }],
    ["everything done but the commit record", ({ path, others }) => {
      for (const s of SUFFIXES) renameSync(join(path, segmentName(0) + s + CLEANED_SUFFIX), join(path, segmentName(0) + s));
      for (const b of others) for (const s of SUFFIXES) Bun.spawnSync(["rm", "-f", join(path, segmentName(b) + s)]);
    }],
  ];
  for (const [stage, reach] of stages) {
    test(`commit record present, swap stopped at "${stage}": completed at open, no record lost or duplicated`, async () => {
      const c = await captured();
      c.restore();
      writeFileSync(join(c.path, CLEANER_SWAP_FILE), `0 ${c.end}\n`);
      reach(c);
      const again = c.open();
      expect(records(again)).toEqual(expected(c.written, c.end));
      expect(again.logEndOffset).toBe(300);
      expect(again.recoveryNotes.join()).toContain("completed the cleaner's swap");
      expect(leftovers(c.path)).toEqual([]);
      expect(again.segmentCount).toBe(2);
    });
  }
});
