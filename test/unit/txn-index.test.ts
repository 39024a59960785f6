// The aborted-transaction index (<segment>.txnindex, src/log/txn-index.ts)
// over a partition's life: one Kafka-layout entry per abort marker in the
// segment holding the marker; rebuilt from the log after a crash (the active
// segment) and wherever a file is missing or damaged; trusted as it is after
// a clean shutdown; cut with the log by a truncation; deleted with its
// segment by retention and DeleteRecords, whose log start also hides entries
// wholly below it.

import { afterEach, expect, test } from "bun:test";
import { cpSync, existsSync, readdirSync, readFileSync, statSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Broker } from "../../src/broker.ts";
import { DEFAULT_OPTIONS } from "../../src/config.ts";
import type { Partition } from "../../src/meta/topics.ts";
import { TXN_ENTRY } from "../../src/log/txn-index.ts";
import { batchFacts, type AbortedTxn } from "../../src/txn/partition-txn.ts";
import { producerBatch } from "../helpers/wire-client.ts";
import { forgetCleanShutdown, tempDir } from "./log-fixtures.ts";

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

function dir(): string {
  const { dir, cleanup } = tempDir("klite-txnindex-");
  cleanups.push(cleanup);
  return dir;
}

function open(dataDir: string): Broker {
  const b = new Broker({ ...DEFAULT_OPTIONS, dataDir, logLevel: "error" });
  cleanups.push(() => b.close());
  return b;
}

const part = (b: Broker): Partition => b.topics.get("t")!.partitions[0]!;
const all = (p: Partition): AbortedTxn[] => p.log.abortedTxns(p.log.logStartOffset, p.log.logEndOffset);
const txnIndexes = (d: string) => readdirSync(join(d, "t-0")).filter((n) => n.endsWith(".txnindex")).sort();

/**
 * 30 rounds of: producer 1 aborts a transaction of 2 records, producer 2
 * commits one of 1 record, producer 3 aborts one spanning the round (opened
 * before producer 1's records): ~100 bytes a batch, segments of 600 bytes.
 */
async function fill(b: Broker): Promise<void> {
  b.topics.create("t", 1, { "internal.segment.bytes": "600" });
  const p = part(b);
  const append = (bytes: Uint8Array) => {
    p.log.append(bytes);
    p.txn.apply(batchFacts(bytes), bytes);
  };
  for (let i = 0; i < 30; i++) {
    append(producerBatch({ producerId: 3, epoch: 0, sequence: i, values: ["long"] }));
    append(producerBatch({ producerId: 1, epoch: 0, sequence: 2 * i, values: ["x", "y"] }));
    append(producerBatch({ producerId: 2, epoch: 0, sequence: i, values: ["c"] }));
    b.markers.writeMarker("t", 0, 1, 0, false);
    b.markers.writeMarker("t", 0, 2, 0, true);
    b.markers.writeMarker("t", 0, 3, 0, false);
  }
  await p.log.flushed();
}

test("one entry per abort marker, in Kafka's layout, in the segment holding the marker", async () => {
  const d = dir();
  const b = open(d);
  await fill(b);
  const p = part(b);
  const entries = all(p);
  expect(entries.length).toBe(60);
  expect(p.log.segmentCount).toBeGreaterThan(5);
  // Producer 3's transactions began before producer 1's, so the last stable offset after producer 1's marker is producer 3's start.
  const first = entries[0]!;
  expect(first).toEqual({ producerId: 1, firstOffset: 1, lastOffset: 4, lastStableOffset: 0 });
  expect(entries[1]).toEqual({ producerId: 3, firstOffset: 0, lastOffset: 6, lastStableOffset: 7 });
  await b.close();
  // On disk: version 0, producer id, first offset, last offset, last stable offset; each segment's file holds its own markers.
  let total = 0;
  for (const name of txnIndexes(d)) {
    const bytes = readFileSync(join(d, "t-0", name));
    expect(bytes.length % TXN_ENTRY).toBe(0);
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const base = Number(name.slice(0, 20));
    for (let at = 0; at < bytes.length; at += TXN_ENTRY) {
      expect(v.getInt16(at)).toBe(0);
      expect(Number(v.getBigInt64(at + 18))).toBeGreaterThanOrEqual(base);
      total++;
    }
  }
  expect(total).toBe(60);
  expect(Number(new DataView(readFileSync(join(d, "t-0", txnIndexes(d)[0]!)).buffer).getBigInt64(2))).toBe(1);
});

test("after a crash the active segment's index is rebuilt from the log, and so is a missing or damaged sealed one; a clean start trusts them", async () => {
  const d = dir();
  const b = open(d);
  await fill(b);
  const before = all(part(b));
  // The recovery point at the log end, so the sealed segments are trusted rather than all checked.
  b.topics.writeRecoveryPoints();
  // kill -9: the files as they are now, without a clean close.
  const crashed = dir();
  cpSync(d, crashed, { recursive: true });
  const names = txnIndexes(crashed);
  const active = join(crashed, "t-0", names.at(-1)!);
  // A torn tail on the active one, a missing sealed one, a damaged (odd-sized) sealed one.
  writeFileSync(active, new Uint8Array([...readFileSync(active), 1, 2, 3]));
  unlinkSync(join(crashed, "t-0", names[1]!));
  truncateSync(join(crashed, "t-0", names[2]!), TXN_ENTRY + 5);
  const c = open(crashed);
  const p = part(c);
  expect(all(p)).toEqual(before);
  expect(p.log.recoveryNotes.filter((n) => n.includes("transaction index missing or damaged"))).toHaveLength(2);
  expect(statSync(active).size % TXN_ENTRY).toBe(0);
  await c.close();

  // A clean start reads the files as they are: here one made to hold a single entry less, to see it is not rebuilt.
  const clean = open(crashed);
  await clean.close();
  const sealed = join(crashed, "t-0", names[3]!);
  const size = statSync(sealed).size;
  expect(size).toBeGreaterThan(TXN_ENTRY);
  truncateSync(sealed, size - TXN_ENTRY);
  const again = open(crashed);
  expect(all(part(again)).length).toBe(before.length - 1);
  expect(part(again).log.recoveryNotes).toEqual([]);
});

test("retention and DeleteRecords delete segments with their index; entries wholly below the log start are not returned", async () => {
  const d = dir();
  const b = open(d);
  await fill(b);
  const p = part(b);
  const before = all(p);
  const files = txnIndexes(d).length;
  // DeleteRecords into the middle of the third segment.
  const target = before[10]!.lastOffset + 1;
  p.log.deleteRecordsBefore(target);
  expect(txnIndexes(d).length).toBeLessThan(files);
  // Producer 3's transaction that began below the new start and ended after it is still listed: its marker is above the start.
  expect(all(p)).toEqual(before.filter((a) => a.lastOffset >= target));
  expect(p.log.abortedTxns(0, target + 1).every((a) => a.lastOffset >= target)).toBe(true);
  // Retention by size down to the last two segments.
  b.topics.setConfigs(p.topic, { "internal.segment.bytes": "600", "retention.bytes": "1200" });
  b.applyRetention();
  expect(txnIndexes(d).length).toBeLessThanOrEqual(3);
  for (const name of txnIndexes(d)) expect(existsSync(join(d, "t-0", name.replace(".txnindex", ".log")))).toBe(true);
  expect(all(p)).toEqual(before.filter((a) => a.lastOffset >= p.log.logStartOffset));
});

test("a truncation drops the entries of the markers it cuts", async () => {
  const d = dir();
  const b = open(d);
  await fill(b);
  const p = part(b);
  const before = all(p);
  const cut = before[40]!.lastOffset;
  p.log.truncateTo(cut);
  expect(all(p)).toEqual(before.filter((a) => a.lastOffset < cut));
  // And a crash right after: the rebuilt index agrees.
  await p.log.flushed();
  const crashed = dir();
  cpSync(d, crashed, { recursive: true });
  forgetCleanShutdown(join(crashed, "t-0"));
  const c = open(crashed);
  expect(all(part(c))).toEqual(before.filter((a) => a.lastOffset < cut));
});
