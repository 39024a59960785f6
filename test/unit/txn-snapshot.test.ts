// Producer-state snapshots (src/txn/partition-snapshot.ts): after a clean
// close a partition loads its producer and transaction state from the
// snapshot instead of replaying the log, and gets exactly what a replay
// gives; a snapshot that does not match the log's end, or is damaged, is
// ignored and the log replayed; a snapshot is used once.

import { afterEach, expect, test } from "bun:test";
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Broker } from "../../src/broker.ts";
import { DEFAULT_OPTIONS } from "../../src/config.ts";
import { decodeTxnSnapshot, TXN_SNAPSHOT_FILE } from "../../src/txn/partition-snapshot.ts";
import type { Partition } from "../../src/meta/topics.ts";
import { batchFacts } from "../../src/txn/partition-txn.ts";
import { producerBatch } from "../helpers/wire-client.ts";
import { tempDir } from "./log-fixtures.ts";

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

function open(dir: string): Broker {
  const b = new Broker({ ...DEFAULT_OPTIONS, dataDir: dir, logLevel: "error" });
  cleanups.push(() => b.close());
  return b;
}

function append(b: Broker, bytes: Uint8Array): void {
  const part = b.topics.get("t")!.partitions[0]!;
  part.log.append(bytes);
  part.txn.apply(batchFacts(bytes), bytes);
}

/** Idempotent producer 1 (7 batches), transactional producer 2 (committed, aborted, then one left open), producer 3 aborted. */
function fill(b: Broker): void {
  for (let i = 0; i < 7; i++) append(b, producerBatch({ producerId: 1, epoch: 3, sequence: i * 2, values: ["a", "b"], transactional: false }));
  append(b, producerBatch({ producerId: 2, epoch: 0, sequence: 0, values: ["c"] }));
  b.markers.writeMarker("t", 0, 2, 0, true);
  append(b, producerBatch({ producerId: 3, epoch: 1, sequence: 0, values: ["x", "y"] }));
  append(b, producerBatch({ producerId: 2, epoch: 0, sequence: 1, values: ["d"] }));
  b.markers.writeMarker("t", 0, 2, 0, false);
  b.markers.writeMarker("t", 0, 3, 1, false);
  append(b, producerBatch({ producerId: 2, epoch: 0, sequence: 2, values: ["e", "f"] }));
}

function stateOf(p: Partition) {
  const s = p.txn;
  return { producers: [...s.producers.entries.values()].sort((a, b) => a.producerId - b.producerId), open: [...s.open].sort(), aborted: p.log.abortedTxns(0, p.log.logEndOffset) };
}

test("after a clean close the state comes from the snapshot, equal to a replay of the log, and the snapshot is used once", async () => {
  const { dir, cleanup } = tempDir("klite-snap-");
  cleanups.push(cleanup);
  let b = open(dir);
  b.topics.create("t", 1, {});
  fill(b);
  const before = stateOf(b.topics.get("t")!.partitions[0]!);
  await b.close();
  const path = join(dir, "t-0", TXN_SNAPSHOT_FILE);
  expect(existsSync(path)).toBe(true);
  const saved = new Uint8Array(readFileSync(path));

  b = open(dir);
  expect(existsSync(path)).toBe(false);
  const p = b.topics.get("t")!.partitions[0]!;
  expect(stateOf(p)).toEqual(before);
  expect(p.txn.open.get(2)).toBe(21);
  expect(p.lastStableOffset()).toBe(21);
  // A retried batch of the idempotent producer is still recognised.
  expect(p.txn.producers.check({ producerId: 1, producerEpoch: 3, baseSequence: 12, count: 2 })).toEqual({ kind: "duplicate", firstOffset: 12, lastOffset: 13 });
  // And the snapshot said what a replay says: the log alone gives the same state.
  const decoded = decodeTxnSnapshot(saved, p.log.logEndOffset)!;
  expect(decoded).not.toBeNull();
  await b.close();
  writeFileSync(path, new Uint8Array(0));
  b = open(dir);
  expect(stateOf(b.topics.get("t")!.partitions[0]!)).toEqual(before);
});

test("a snapshot that does not match the log's end, or is damaged, is ignored: the log is replayed", async () => {
  const { dir, cleanup } = tempDir("klite-snap-");
  cleanups.push(cleanup);
  let b = open(dir);
  b.topics.create("t", 1, {});
  fill(b);
  await b.close();
  const path = join(dir, "t-0", TXN_SNAPSHOT_FILE);
  const stale = join(dir, "stale-snapshot");
  copyFileSync(path, stale);

  // More appends, then a clean close; the old snapshot is put back as if it had been left behind.
  b = open(dir);
  b.markers.writeMarker("t", 0, 2, 0, true);
  append(b, producerBatch({ producerId: 1, epoch: 3, sequence: 14, values: ["g"], transactional: false }));
  const expected = stateOf(b.topics.get("t")!.partitions[0]!);
  await b.close();
  const good = new Uint8Array(readFileSync(path));
  copyFileSync(stale, path);
  b = open(dir);
  expect(stateOf(b.topics.get("t")!.partitions[0]!)).toEqual(expected);
  expect(b.topics.get("t")!.partitions[0]!.lastStableOffset()).toBe(b.topics.get("t")!.partitions[0]!.log.logEndOffset);
  await b.close();

  // A flipped byte fails the CRC.
  const damaged = new Uint8Array(readFileSync(path));
  expect(damaged).toEqual(good);
  damaged[damaged.length - 3]! ^= 0xff;
  expect(decodeTxnSnapshot(damaged, b.topics.get("t")!.partitions[0]!.log.logEndOffset)).toBeNull();
  writeFileSync(path, damaged);
  b = open(dir);
  expect(stateOf(b.topics.get("t")!.partitions[0]!)).toEqual(expected);
});
