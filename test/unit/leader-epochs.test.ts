import { afterEach, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LeaderEpochCache, LEADER_EPOCH_CHECKPOINT_FILE, parseCheckpoint } from "../../src/log/leader-epochs.ts";
import { PartitionLog } from "../../src/log/partition-log.ts";
import { formatOffsetCheckpoint, readOffsetCheckpoint } from "../../src/log/offset-checkpoint.ts";
import { readBatchHeader } from "../../src/protocol/records.ts";
import { FlushScheduler, config, forgetCleanShutdown, makeBatch, tempDir } from "./log-fixtures.ts";

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});
const flusher = new FlushScheduler();

function fresh() {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const path = join(dir, "t-0");
  const open = () => {
    const l = PartitionLog.open(path, config(), flusher);
    cleanups.unshift(() => l.close());
    return l;
  };
  return { path, open, checkpoint: () => readFileSync(join(path, LEADER_EPOCH_CHECKPOINT_FILE), "utf8") };
}

function epochOf(log: PartitionLog, offset: number): number {
  const r = log.read(offset, 1 << 20, true);
  if (r === "out_of_range") throw new Error("out of range");
  return readBatchHeader(r.chunks[0]!, 0).partitionLeaderEpoch;
}

describe("LeaderEpochCache", () => {
  const { dir, cleanup } = tempDir();
  test("assign, end offsets and epochs for offsets follow Kafka's cache", () => {
    const c = LeaderEpochCache.empty(dir);
    expect(c.latestEpoch).toBe(-1);
    expect(c.endOffsetFor(0, 10)).toEqual({ epoch: -1, endOffset: -1 });
    c.assign(0, 0);
    expect(c.assign(0, 5)).toBe(false); // same epoch keeps its first offset
    c.assign(2, 10);
    c.assign(4, 30);
    expect(c.all).toEqual([{ epoch: 0, startOffset: 0 }, { epoch: 2, startOffset: 10 }, { epoch: 4, startOffset: 30 }]);
    expect(c.endOffsetFor(4, 50)).toEqual({ epoch: 4, endOffset: 50 });
    expect(c.endOffsetFor(2, 50)).toEqual({ epoch: 2, endOffset: 30 });
    // An epoch between known ones answers with the one below it, ending where the next starts.
    expect(c.endOffsetFor(3, 50)).toEqual({ epoch: 2, endOffset: 30 });
    expect(c.endOffsetFor(5, 50)).toEqual({ epoch: -1, endOffset: -1 });
    expect(c.endOffsetFor(-1, 50)).toEqual({ epoch: -1, endOffset: -1 });
    expect([0, 9, 10, 29, 30, 99].map((o) => c.epochForOffset(o))).toEqual([0, 0, 2, 2, 4, 4]);
    // An entry below newer ones replaces what it contradicts.
    c.assign(3, 20);
    expect(c.all).toEqual([{ epoch: 0, startOffset: 0 }, { epoch: 2, startOffset: 10 }, { epoch: 3, startOffset: 20 }]);
    c.truncateFromEnd(20);
    expect(c.all).toEqual([{ epoch: 0, startOffset: 0 }, { epoch: 2, startOffset: 10 }]);
    c.truncateFromStart(15);
    expect(c.all).toEqual([{ epoch: 2, startOffset: 15 }]);
    // An epoch older than every remaining one ends where the first known starts.
    expect(c.endOffsetFor(0, 50)).toEqual({ epoch: 0, endOffset: 15 });
    expect(c.epochForOffset(3)).toBe(-1);
    cleanup();
  });

  test("the checkpoint is Kafka's format; anything else does not parse", () => {
    expect(parseCheckpoint("0\n2\n0 0\n3 120\n")).toEqual([{ epoch: 0, startOffset: 0 }, { epoch: 3, startOffset: 120 }]);
    expect(parseCheckpoint("0\n0\n")).toEqual([]);
    for (const bad of ["", "1\n0\n", "0\n2\n0 0\n", "0\n1\n0 x\n", "0\n2\n3 0\n1 5\n", "0\n1\n-1 0\n"]) expect(parseCheckpoint(bad)).toBeNull();
  });
});

describe("PartitionLog leader epochs", () => {
  test("a new log starts at epoch 0; a clean restart keeps it; a start after a crash begins the next epoch at the recovered end", () => {
    const { path, open, checkpoint } = fresh();
    let log = open();
    expect(log.leaderEpoch).toBe(0);
    expect(checkpoint()).toBe("0\n1\n0 0\n");
    log.append(makeBatch({ records: 5 }));
    log.close();
    log = open();
    expect(log.leaderEpoch).toBe(0);
    log.append(makeBatch({ records: 5 }));
    log.append(makeBatch({ records: 5 }));
    log.close();
    // A crash that took the last batch: the epoch rises at the new end.
    forgetCleanShutdown(path);
    const seg = join(path, "00000000000000000000.log");
    truncateSync(seg, readFileSync(seg).length - 10);
    log = open();
    expect(log.logEndOffset).toBe(10);
    expect(log.leaderEpoch).toBe(1);
    expect(checkpoint()).toBe("0\n2\n0 0\n1 10\n");
    log.append(makeBatch({ records: 5 }));
    expect(epochOf(log, 0)).toBe(0);
    expect(epochOf(log, 10)).toBe(1);
    expect(log.endOffsetForEpoch(0)).toEqual({ epoch: 0, endOffset: 10 });
    expect(log.endOffsetForEpoch(1)).toEqual({ epoch: 1, endOffset: 15 });
    // A crash with nothing appended since: a still empty epoch gives way to the next at the same offset.
    log.close();
    forgetCleanShutdown(path);
    log = open();
    expect(log.leaderEpoch).toBe(2);
    expect(log.endOffsetForEpoch(1)).toEqual({ epoch: 1, endOffset: 15 });
  });

  test("the clean-shutdown marker stays after a clean start: a crash after appends still begins a new epoch", () => {
    const { path, open } = fresh();
    let log = open();
    log.append(makeBatch({ records: 5 }));
    log.close();
    const marker = join(path, "clean-shutdown");
    const kept = readFileSync(marker);
    log = open();
    expect(log.leaderEpoch).toBe(0);
    log.append(makeBatch({ records: 5 }));
    // A crash after the append: the marker on disk is the one of the earlier clean close.
    log.close();
    writeFileSync(marker, kept);
    log = open();
    expect(log.logEndOffset).toBe(10);
    expect(log.leaderEpoch).toBe(1);
  });

  test("DeleteRecords moves the first epoch's start; truncation begins a new epoch", () => {
    const { open, checkpoint } = fresh();
    const log = open();
    for (let i = 0; i < 4; i++) log.append(makeBatch({ records: 5 }));
    log.deleteRecordsBefore(7);
    expect(checkpoint()).toBe("0\n1\n0 7\n");
    log.truncateTo(15);
    expect(log.leaderEpoch).toBe(1);
    expect(log.endOffsetForEpoch(0)).toEqual({ epoch: 0, endOffset: 15 });
    expect(checkpoint()).toBe("0\n2\n0 7\n1 15\n");
  });

  test("a missing or unreadable checkpoint is rebuilt from the epochs stamped on the batches", () => {
    const { path, open, checkpoint } = fresh();
    let log = open();
    log.append(makeBatch({ records: 3 }));
    log.close();
    forgetCleanShutdown(path);
    log = open(); // epoch 1 from offset 3
    log.append(makeBatch({ records: 3 }));
    log.close();
    unlinkSync(join(path, LEADER_EPOCH_CHECKPOINT_FILE));
    log = open();
    expect(log.leaderEpoch).toBe(1);
    expect(checkpoint()).toBe("0\n2\n0 0\n1 3\n");
    log.close();
    writeFileSync(join(path, LEADER_EPOCH_CHECKPOINT_FILE), "garbage");
    log = open();
    expect(checkpoint()).toBe("0\n2\n0 0\n1 3\n");
  });
});

describe("recovery point", () => {
  test("the data dir's checkpoint is Kafka's format; a damaged one is ignored (then recovery checks as before)", () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const path = join(dir, "recovery-point-offset-checkpoint");
    const text = formatOffsetCheckpoint([{ topic: "b.t", partition: 1, offset: 7 }, { topic: "a-x", partition: 0, offset: 0 }]);
    expect(text).toBe("0\n2\na-x 0 0\nb.t 1 7\n");
    writeFileSync(path, text);
    expect([...readOffsetCheckpoint(path)]).toEqual([["a-x-0", 0], ["b.t-1", 7]]);
    for (const bad of ["0\n3\na 0 1\n", "1\n0\n", "0\n1\na 0\n", "0\n1\na -1 5\n", "0\n1\na 0 x\n", "\u0000garbage"]) {
      writeFileSync(path, bad);
      expect(readOffsetCheckpoint(path).size).toBe(0);
    }
    expect(readOffsetCheckpoint(join(dir, "missing")).size).toBe(0);
  });

  // Flips a byte inside the records of the batch at `offset` (covered by its CRC, not by the header checks).
  function corruptRecordsOf(path: string, log: PartitionLog, offset: number, segmentBase: number): void {
    const r = log.read(offset, 1, true);
    if (r === "out_of_range") throw new Error("out of range");
    const h = readBatchHeader(r.chunks[0]!, 0);
    // Position of the batch in its segment: walk the segment's batches from its start.
    const file = join(path, `${String(segmentBase).padStart(20, "0")}.log`);
    const bytes = readFileSync(file);
    let pos = 0;
    for (;;) {
      const b = readBatchHeader(bytes, pos);
      if (b.baseOffset === h.baseOffset) break;
      pos += b.batchLength + 12;
    }
    bytes[pos + 61 + 5] = bytes[pos + 61 + 5]! ^ 0xff;
    writeFileSync(file, bytes);
  }

  test("after a crash, batches below the recovery point are not checked record by record; those past it are, and a cut sealed segment ends the log", () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const path = join(dir, "t-1");
    const cfg = config({ segmentBytes: 4000 });
    const warnings: string[] = [];
    const open = (rp?: number) => {
      const l = PartitionLog.open(path, { ...cfg, logger: { warn: (m) => warnings.push(m), error: () => {} } }, flusher, rp);
      cleanups.unshift(() => l.close());
      return l;
    };
    let log = open();
    for (let i = 0; i < 30; i++) log.append(makeBatch({ records: 2, valueSize: 300 }));
    const segments = readdirSync(path).filter((n) => n.endsWith(".log")).sort().map((n) => Number(n.slice(0, 20)));
    expect(segments.length).toBeGreaterThan(3);
    const active = segments.at(-1)!;
    log.close();
    // A crash with the recovery point inside the active segment: its batches below it are walked, not checked.
    forgetCleanShutdown(path);
    corruptRecordsOf(path, (log = open()), active, active);
    log.close();
    forgetCleanShutdown(path);
    warnings.length = 0;
    log = open(active + 2);
    expect(log.logEndOffset).toBe(60);
    expect(warnings.join("\n")).toContain(`checked offsets ${active + 2} to 59`);
    log.close();
    // The same damage past the recovery point is found and cut.
    forgetCleanShutdown(path);
    log = open(active);
    expect(log.logEndOffset).toBe(active);
    expect(log.recoveryNotes.join()).toContain("fails its CRC");
    log.close();
    // A sealed segment past the recovery point is checked too; its damage ends the log and later segments go.
    const sealed = segments[1]!;
    corruptRecordsOf(path, (log = open()), sealed + 2, sealed);
    log.close();
    forgetCleanShutdown(path);
    log = open(sealed);
    expect(log.logEndOffset).toBe(sealed + 2);
    expect(log.recoveryNotes.join("\n")).toContain(`segment ${String(segments[2]).padStart(20, "0")} removed`);
    expect(readdirSync(path).filter((n) => n.endsWith(".log")).length).toBe(2);
    log.append(makeBatch({ records: 1 }));
    expect(log.logEndOffset).toBe(sealed + 3);
  });
});
