import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { LogAppendError, PartitionLog } from "../../src/log/partition-log.ts";
import { openSealedSegments, setMaxOpenSealedSegments } from "../../src/log/segment.ts";
import { FlushScheduler, concat, config, makeBatch, splitBatches, tempDir } from "./log-fixtures.ts";

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function openLog(overrides: Parameters<typeof config>[0] = {}, sub = "t-0") {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const flusher = new FlushScheduler();
  const path = join(dir, sub);
  const log = PartitionLog.open(path, config(overrides), flusher);
  cleanups.unshift(() => log.close());
  return { log, path, flusher };
}

function readAll(log: PartitionLog, from: number, maxBytes = 1 << 30) {
  const r = log.read(from, maxBytes, true);
  if (r === "out_of_range") throw new Error("out of range");
  return splitBatches(r.chunks);
}

describe("PartitionLog append and read", () => {
  test("fresh log is empty; offsets are assigned consecutively", () => {
    const { log } = openLog();
    expect(log.logStartOffset).toBe(0);
    expect(log.logEndOffset).toBe(0);
    expect(log.read(0, 1000, true)).toEqual({ chunks: [], size: 0 });
    const a = log.append(makeBatch({ records: 3 }));
    expect(a).toEqual({ baseOffset: 0, lastOffset: 2, position: 0 });
    const b = log.append(makeBatch({ records: 2 }));
    expect(b.baseOffset).toBe(3);
    expect(b.lastOffset).toBe(4);
    expect(log.logEndOffset).toBe(5);
    const got = readAll(log, 0);
    expect(got.map((x) => [x.baseOffset, x.lastOffset])).toEqual([
      [0, 2],
      [3, 4],
    ]);
  });

  test("append patches baseOffset and leader epoch, leaving the CRC valid", () => {
    const { log } = openLog();
    log.append(makeBatch({ records: 5 }));
    const batch = makeBatch({ records: 1 });
    log.append(batch, 7);
    const [, second] = readAll(log, 0);
    const v = new DataView(second!.bytes.buffer, second!.bytes.byteOffset);
    expect(Number(v.getBigInt64(0))).toBe(5);
    expect(v.getInt32(12)).toBe(7);
  });

  test("several concatenated batches in one append", () => {
    const { log } = openLog();
    const r = log.append(concat([makeBatch({ records: 2 }), makeBatch({ records: 4 }), makeBatch({ records: 1 })]));
    expect(r).toEqual({ baseOffset: 0, lastOffset: 6, position: 0 });
    expect(readAll(log, 0).map((x) => x.baseOffset)).toEqual([0, 2, 6]);
  });

  test("rejects bytes that are not whole v2 batches without changing the log", () => {
    const { log } = openLog();
    log.append(makeBatch());
    const good = makeBatch();
    expect(() => log.append(good.subarray(0, good.length - 1))).toThrow(LogAppendError);
    expect(() => log.append(new Uint8Array(0))).toThrow(LogAppendError);
    const badMagic = makeBatch();
    badMagic[16] = 1;
    expect(() => log.append(badMagic)).toThrow(LogAppendError);
    expect(() => log.append(concat([makeBatch(), new Uint8Array(30)]))).toThrow(LogAppendError);
    expect(log.logEndOffset).toBe(1);
    expect(log.sizeBytes()).toBe(good.length);
  });

  test("round trip across segment rolls, including reopen", () => {
    const { log, path, flusher } = openLog({ segmentBytes: 2000, indexIntervalBytes: 300 });
    const sizes: number[] = [];
    for (let i = 0; i < 200; i++) {
      const b = makeBatch({ records: 1 + (i % 4), valueSize: 20 + (i % 7) * 10, fill: i & 0xff });
      sizes.push(b.length);
      log.append(b);
    }
    expect(log.segmentCount).toBeGreaterThan(10);
    const files = readdirSync(path)
      .filter((n) => n.endsWith(".log"))
      .sort();
    expect(files.length).toBe(log.segmentCount);
    expect(files[0]).toBe("00000000000000000000.log");
    const expectBatches = (l: PartitionLog) => {
      const got = readAll(l, 0);
      expect(got.length).toBe(200);
      let next = 0;
      got.forEach((g, i) => {
        expect(g.baseOffset).toBe(next);
        expect(g.lastOffset).toBe(next + (i % 4));
        expect(g.size).toBe(sizes[i]!);
        expect(g.bytes[g.bytes.length - 2]).toBe(i & 0xff); // last value byte, before the header count
        next = g.lastOffset + 1;
      });
      return next;
    };
    const end = expectBatches(log);
    expect(log.logEndOffset).toBe(end);
    // Sealed segments have index files; the active one's live in memory.
    const sealed = files.slice(0, -1).map((f) => f.replace(".log", ""));
    for (const s of sealed) {
      expect(existsSync(join(path, `${s}.index`))).toBe(true);
      expect(existsSync(join(path, `${s}.timeindex`))).toBe(true);
    }
    log.close();
    const again = PartitionLog.open(path, config({ segmentBytes: 2000, indexIntervalBytes: 300 }), flusher);
    cleanups.unshift(() => again.close());
    expect(again.logEndOffset).toBe(end);
    expect(again.recoveryNotes).toEqual([]);
    expectBatches(again);
    // Every offset finds the batch that contains it.
    for (let o = 0; o < end; o += 7) {
      const [first] = readAll(again, o, 1);
      expect(first!.baseOffset).toBeLessThanOrEqual(o);
      expect(first!.lastOffset).toBeGreaterThanOrEqual(o);
    }
  });

  test("read from the middle of a batch returns that whole batch", () => {
    const { log } = openLog({ segmentBytes: 1000 });
    for (let i = 0; i < 30; i++) log.append(makeBatch({ records: 5 }));
    for (const o of [0, 2, 4, 5, 7, 63, 149]) {
      const [first] = readAll(log, o, 100_000);
      expect(first!.baseOffset).toBe(Math.floor(o / 5) * 5);
    }
  });

  test("maxBytes limits to whole batches; minOneBatch returns an oversized first batch (KIP-74)", () => {
    const { log } = openLog({ segmentBytes: 100_000 });
    const big = makeBatch({ records: 1, valueSize: 500 });
    for (let i = 0; i < 4; i++) log.append(makeBatch({ records: 1, valueSize: 500 }));
    const one = big.length;
    const check = (l: PartitionLog) => {
      expect(l.read(0, one - 1, false)).toEqual({ chunks: [], size: 0 });
      const forced = l.read(0, one - 1, true);
      if (forced === "out_of_range") throw new Error();
      expect(forced.size).toBe(one);
      const two = l.read(1, 2 * one + 10, false);
      if (two === "out_of_range") throw new Error();
      expect(two.size).toBe(2 * one);
      expect(splitBatches(two.chunks).map((b) => b.baseOffset)).toEqual([1, 2]);
      const zero = l.read(0, 0, true);
      if (zero === "out_of_range") throw new Error();
      expect(zero.size).toBe(one);
    };
    check(log); // active segment: positional reads
    log.roll();
    log.append(makeBatch());
    check(log); // now sealed: mmap views
  });

  test("reads continue across segment boundaries", () => {
    const { log } = openLog({ segmentBytes: 600 });
    for (let i = 0; i < 20; i++) log.append(makeBatch({ records: 2, valueSize: 100 }));
    expect(log.segmentCount).toBeGreaterThan(3);
    const r = log.read(3, 1 << 20, false);
    if (r === "out_of_range") throw new Error();
    expect(r.chunks.length).toBe(log.segmentCount);
    expect(splitBatches(r.chunks).map((b) => b.baseOffset)).toEqual(Array.from({ length: 19 }, (_, i) => 2 + 2 * i));
  });

  test("out of range below the log start and above the log end; log end reads nothing", () => {
    const { log } = openLog();
    log.append(makeBatch({ records: 3 }));
    expect(log.read(4, 100, true)).toBe("out_of_range");
    expect(log.read(-1, 100, true)).toBe("out_of_range");
    expect(log.read(3, 100, true)).toEqual({ chunks: [], size: 0 });
  });

  test("batches() iterates from an offset over sealed and active segments", () => {
    const { log } = openLog({ segmentBytes: 500 });
    for (let i = 0; i < 15; i++) log.append(makeBatch({ records: 3, valueSize: 50 }));
    const all = [...log.batches(0)];
    expect(all.map((b) => b.baseOffset)).toEqual(Array.from({ length: 15 }, (_, i) => 3 * i));
    const tail = [...log.batches(10)];
    expect(tail[0]!.baseOffset).toBe(9);
    expect(tail.length).toBe(12);
    for (const b of all) {
      expect(new DataView(b.head.buffer, b.head.byteOffset).getInt32(23)).toBe(b.lastOffset - b.baseOffset);
      const bytes = b.bytes();
      expect(bytes.length).toBeGreaterThan(b.head.length);
      expect(bytes.subarray(0, b.head.length)).toEqual(b.head);
    }
  });

  test("segment.ms rolls by record time since the segment's first batch", () => {
    const { log } = openLog({ segmentMs: 1000 });
    log.append(makeBatch({ baseTimestamp: 10_000 }));
    log.append(makeBatch({ baseTimestamp: 10_900 }));
    expect(log.segmentCount).toBe(1);
    log.append(makeBatch({ baseTimestamp: 11_001 }));
    expect(log.segmentCount).toBe(2);
  });

  test("reading across hundreds of sealed segments keeps only a bounded number of their files open", () => {
    const { log } = openLog({ segmentBytes: 1 });
    const fds = () => readdirSync("/proc/self/fd").length;
    for (let i = 0; i < 300; i++) log.append(makeBatch({ records: 1, valueSize: 10 + (i % 7) }));
    expect(log.segmentCount).toBe(300);
    const before = fds();
    let offset = 0;
    let batches = 0;
    let peak = before;
    while (offset < log.logEndOffset) {
      const got = readAll(log, offset, 100);
      batches += got.length;
      offset = got[got.length - 1]!.lastOffset + 1;
      peak = Math.max(peak, fds());
    }
    expect(batches).toBe(300);
    // 299 sealed segments were read; at most 128 read fds stay open at once.
    expect(peak - before).toBeGreaterThan(100);
    expect(peak - before).toBeLessThanOrEqual(128);
    // Every one of them still reads correctly after its fd was closed and opened again.
    expect(readAll(log, 0, 1 << 20).map((b) => b.baseOffset)).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });
});

describe("open files of sealed segments", () => {
  const openFds = () => readdirSync("/proc/self/fd").length;

  test("reads across many sealed segments keep at most --max-open-segment-files of them open", () => {
    const { log } = openLog({ segmentBytes: 1000 });
    for (let i = 0; i < 120; i++) log.append(makeBatch({ records: 5, valueSize: 100 }));
    const sealed = log.segmentCount - 1;
    expect(sealed).toBeGreaterThan(40);
    setMaxOpenSealedSegments(8);
    try {
      const before = openFds();
      // Every sealed segment read in turn, twice, and then from the start again.
      for (let pass = 0; pass < 2; pass++) for (let o = 0; o < log.logEndOffset; o += 5) readAll(log, o, 1);
      expect(openSealedSegments()).toBe(8);
      expect(openFds() - before).toBeLessThanOrEqual(8);
      // Lowering the limit closes the excess at once.
      setMaxOpenSealedSegments(3);
      expect(openSealedSegments()).toBe(3);
      expect(readAll(log, 0, 1)[0]!.baseOffset).toBe(0);
      expect(openSealedSegments()).toBe(3);
    } finally {
      setMaxOpenSealedSegments(128);
    }
  });
});
