import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { LogStorageError, PartitionLog } from "../../src/log/partition-log.ts";
import { writeFileAtomic } from "../../src/log/atomic-file.ts";
import { readdirSync, readFileSync } from "node:fs";
import { FlushScheduler, config, makeBatch, tempDir } from "./log-fixtures.ts";

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function logs(n: number, fsync: "group" | "never", flusher: FlushScheduler, overrides: Parameters<typeof config>[0] = {}) {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  return Array.from({ length: n }, (_, i) => {
    const l = PartitionLog.open(join(dir, `f-${i}`), config({ fsync, ...overrides }), flusher);
    cleanups.unshift(() => l.close());
    return l;
  });
}

describe("group commit", () => {
  test("appends of one window across partitions share one flush round", async () => {
    const flusher = new FlushScheduler();
    const parts = logs(4, "group", flusher);
    const waits: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      const log = parts[i % 4]!;
      log.append(makeBatch());
      waits.push(log.flushed());
    }
    expect(flusher.rounds).toBe(0);
    await Promise.all(waits);
    expect(flusher.rounds).toBe(1);
    // Nothing new appended: flushed() is already settled.
    await parts[0]!.flushed();
    expect(flusher.rounds).toBe(1);
  });

  test("appends during a running round go into the next one", async () => {
    const flusher = new FlushScheduler();
    const [log] = logs(1, "group", flusher);
    log!.append(makeBatch());
    const first = log!.flushed();
    await new Promise((r) => setImmediate(r)); // round 1 is running now
    log!.append(makeBatch());
    const second = log!.flushed();
    expect(second).not.toBe(first);
    await first;
    await second;
    expect(flusher.rounds).toBe(2);
  });

  test("a steady stream of appends is coalesced into far fewer rounds", async () => {
    const flusher = new FlushScheduler();
    const parts = logs(3, "group", flusher);
    const acks: Promise<void>[] = [];
    for (let tick = 0; tick < 50; tick++) {
      for (const p of parts) for (let k = 0; k < 4; k++) {
        p.append(makeBatch({ valueSize: 100 }));
        acks.push(p.flushed());
      }
      await new Promise((r) => setTimeout(r, 0));
    }
    await Promise.all(acks);
    console.log(`group commit: ${acks.length} appends acknowledged after ${flusher.rounds} flush rounds`);
    expect(flusher.rounds).toBeLessThanOrEqual(50);
  });

  test("flushAllNow and close settle everything", async () => {
    const flusher = new FlushScheduler();
    const parts = logs(2, "group", flusher);
    for (const p of parts) p.append(makeBatch());
    const w = parts.map((p) => p.flushed());
    await flusher.flushAllNow();
    await Promise.all(w);
    parts[0]!.append(makeBatch());
    await flusher.close();
    await parts[0]!.flushed();
  });

  test("fsync=never resolves at once and never schedules a round", async () => {
    const flusher = new FlushScheduler();
    const [log] = logs(1, "never", flusher);
    log!.append(makeBatch());
    await log!.flushed();
    expect(flusher.rounds).toBe(0);
  });

  test("group mode survives rolls, truncation and deletion while rounds run", async () => {
    const flusher = new FlushScheduler();
    const parts = logs(2, "group", flusher, { segmentBytes: 300 });
    const acks: Promise<void>[] = [];
    for (let i = 0; i < 40; i++) {
      parts[0]!.append(makeBatch({ valueSize: 50 }));
      acks.push(parts[0]!.flushed());
      if (i % 7 === 0) await new Promise((r) => setImmediate(r));
      if (i === 20) parts[0]!.truncateTo(10);
    }
    parts[1]!.append(makeBatch());
    acks.push(parts[1]!.flushed());
    parts[1]!.deleteAll();
    await Promise.all(acks);
    expect(parts[0]!.segmentCount).toBeGreaterThan(5);
  });
});

describe("writeFileAtomic", () => {
  test("replaces the file and leaves no temporary behind", () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const path = join(dir, "meta.json");
    writeFileAtomic(path, new TextEncoder().encode("one"));
    writeFileAtomic(path, new TextEncoder().encode("two"));
    writeFileAtomic(path, new TextEncoder().encode("three"), { fsync: false });
    expect(readFileSync(path, "utf8")).toBe("three");
    expect(readdirSync(dir)).toEqual(["meta.json"]);
  });
});

describe("high watermark and failed fsyncs", () => {
  /**
   * Makes the next fsync of `log`'s active file fail when the returned
   * function is called, as a dying disk would (the OS call itself is not
   * reachable from here); later fsyncs succeed.
   */
  function breakDisk(log: PartitionLog): () => void {
    const file = log.takeDirtyFiles()[0]!;
    const real = file.sync;
    const { promise, reject } = Promise.withResolvers<void>();
    file.sync = () => {
      file.sync = real;
      return promise;
    };
    return () => reject(Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" }));
  }

  test("with fsync=group the high watermark covers only fsynced records and wakes its waiter once they are", async () => {
    const flusher = new FlushScheduler();
    const [log] = logs(1, "group", flusher);
    let woken = 0;
    log!.onVisible = () => woken++;
    log!.append(makeBatch({ records: 3 }));
    expect(log!.logEndOffset).toBe(3);
    expect(log!.highWatermark).toBe(0);
    expect(woken).toBe(0);
    await log!.flushed();
    expect(log!.highWatermark).toBe(3);
    expect(woken).toBe(1);
  });

  test("with fsync=never records are visible once written", () => {
    const [log] = logs(1, "never", new FlushScheduler());
    let woken = 0;
    log!.onVisible = () => woken++;
    log!.append(makeBatch({ records: 3 }));
    expect(log!.highWatermark).toBe(3);
    expect(woken).toBe(1);
  });

  test("a failed fsync fails that log's waiting appends and every later one, not another log's", async () => {
    const flusher = new FlushScheduler();
    const [bad, good] = logs(2, "group", flusher);
    bad!.append(makeBatch({ records: 2 }));
    await bad!.flushed();
    bad!.append(makeBatch({ records: 2 }));
    good!.append(makeBatch({ records: 2 }));
    const fail = breakDisk(bad!);
    const waiting = bad!.flushed();
    await new Promise((r) => setImmediate(r)); // the round is running
    fail();
    await expect(waiting).rejects.toThrow("EIO");
    await good!.flushed();
    expect(good!.highWatermark).toBe(2);
    // The records fsynced before stay visible; the unsynced ones never become so, and no append is taken.
    expect(bad!.highWatermark).toBe(2);
    expect(bad!.storageError?.message).toContain("fsync failed (EIO)");
    expect(() => bad!.append(makeBatch())).toThrow(LogStorageError);
    await expect(bad!.flushed()).rejects.toThrow(LogStorageError);
  });

  test("appends waiting for the round after a failed one fail too, though their own fsync succeeds", async () => {
    const flusher = new FlushScheduler();
    const [log] = logs(1, "group", flusher);
    log!.append(makeBatch());
    const first = log!.flushed();
    const fail = breakDisk(log!);
    await new Promise((r) => setImmediate(r)); // the round is running, its fsync not done
    log!.append(makeBatch());
    const second = log!.flushed();
    fail();
    await expect(first).rejects.toThrow("EIO");
    await expect(second).rejects.toThrow(LogStorageError);
    expect(log!.highWatermark).toBe(0);
  });
});
