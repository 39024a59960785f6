// The aborted-transaction lookup of read_committed fetches (the segments'
// transaction indexes, src/log/txn-index.ts: bisection, then a scan that stops
// on the last stable offset recorded with each abort marker) agrees with a
// plain filter of every aborted transaction, on random interleavings of
// producers with long and short, committed and aborted transactions across
// segments; and Fetch lists only the aborted transactions overlapping the
// batches it returns.

import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import * as FetchRequest from "../../generated/FetchRequest.ts";
import { Broker } from "../../src/broker.ts";
import { DEFAULT_OPTIONS } from "../../src/config.ts";
import { handleFetch } from "../../src/handlers/fetch.ts";
import { buildControlBatch } from "../../src/protocol/records.ts";
import { PartitionLog } from "../../src/log/partition-log.ts";
import { batchFacts, PartitionTxnState, type AbortedTxn } from "../../src/txn/partition-txn.ts";
import { producerBatch } from "../helpers/wire-client.ts";
import { config, FlushScheduler, tempDir } from "./log-fixtures.ts";

const flusher = new FlushScheduler();

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/** A deterministic PRNG, so a failure can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

test("the transaction indexes answer what the plain overlap filter does, across segments, on random interleavings", () => {
  for (let seed = 1; seed <= 10; seed++) {
    const rand = rng(seed);
    const { dir, cleanup } = tempDir("klite-txnindex-");
    cleanups.push(cleanup);
    // Small segments: aborted transactions span several, and lookups cross them.
    const log = PartitionLog.open(join(dir, "t-0"), config({ segmentBytes: 4096 }), flusher);
    cleanups.push(() => log.close());
    const state = new PartitionTxnState();
    const all: AbortedTxn[] = [];
    state.onAborted = (a) => {
      all.push(a);
      log.appendAbortedTxn(a);
    };
    const append = (bytes: Uint8Array) => {
      log.append(bytes);
      state.apply(batchFacts(bytes), bytes);
    };
    const seq = new Map<number, number>();
    for (let step = 0; step < 2000; step++) {
      const pid = Math.floor(rand() * 6);
      // Producer 0 keeps transactions open for long stretches; the others are short.
      const endChance = pid === 0 ? 0.01 : 0.3;
      if (state.open.has(pid) && rand() < endChance) {
        append(buildControlBatch({ producerId: pid, producerEpoch: 0, commit: rand() < 0.5, coordinatorEpoch: 0, timestamp: 0 }));
      } else {
        const n = 1 + Math.floor(rand() * 3);
        const s = seq.get(pid) ?? 0;
        seq.set(pid, s + n);
        append(producerBatch({ producerId: pid, epoch: 0, sequence: s, values: Array.from({ length: n }, () => "v") }));
      }
    }
    const end = log.logEndOffset;
    expect(all.length).toBeGreaterThan(50);
    expect(log.segmentCount).toBeGreaterThan(5);
    const naive = (from: number, upper: number): AbortedTxn[] => all.filter((a) => a.lastOffset >= from && a.firstOffset < upper);
    for (let i = 0; i < 300; i++) {
      const from = Math.floor(rand() * end);
      const upper = from + 1 + Math.floor(rand() * (rand() < 0.5 ? 20 : end));
      expect(log.abortedTxns(from, upper)).toEqual(naive(from, upper));
    }
  }
});

test("a read_committed Fetch lists the aborted transactions of the batches it returns, not all up to the last stable offset", async () => {
  const { dir, cleanup } = tempDir("klite-aborted-");
  cleanups.push(cleanup);
  const b = new Broker({ ...DEFAULT_OPTIONS, dataDir: dir, fsync: "never", logLevel: "error" });
  cleanups.push(() => b.close());
  b.topics.create("t", 1, {});
  const part = b.topics.get("t")!.partitions[0]!;
  // 2,000 aborted transactions of one 1 KiB record each: offsets 2i (record) and 2i+1 (marker).
  for (let i = 0; i < 2000; i++) {
    const batch = producerBatch({ producerId: 7, epoch: 0, sequence: i, values: ["x".repeat(1024)] });
    part.log.append(batch);
    part.txn.apply(batchFacts(batch), batch);
    b.markers.writeMarker("t", 0, 7, 0, false);
  }
  const fetch = async (offset: number, maxBytes: number) => {
    const req = FetchRequest.create();
    Object.assign(req, {
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes,
      isolationLevel: 1,
      topics: [{ ...FetchRequest.defaultFetchTopic(), topic: "t", partitions: [{ ...FetchRequest.defaultFetchPartition(), partition: 0, fetchOffset: BigInt(offset), partitionMaxBytes: maxBytes }] }],
    });
    const p = (await handleFetch(b, req, { apiKey: 1, apiVersion: 11, correlationId: 1, clientId: "t", connectionId: 1, remoteAddress: "t", principal: "User:ANONYMOUS" })).responses![0]!.partitions![0]!;
    const chunks = p.records as Uint8Array[];
    let last = -1;
    for (const c of chunks) {
      const v = new DataView(c.buffer, c.byteOffset, c.byteLength);
      for (let pos = 0; pos + 27 <= c.length; pos += 12 + v.getInt32(pos + 8)) last = Number(v.getBigInt64(pos)) + v.getInt32(pos + 23);
    }
    return { last, aborted: (p.abortedTransactions ?? []).map((a) => Number(a.firstOffset)) };
  };
  const r = await fetch(100, 64 * 1024);
  expect(r.last).toBeGreaterThan(100);
  expect(r.last).toBeLessThan(400);
  // Exactly the transactions whose record lies in [100, last]: the ones starting at even offsets there.
  const expected: number[] = [];
  for (let o = 100; o <= r.last; o += 2) expected.push(o);
  expect(r.aborted).toEqual(expected);
  // The whole log in one fetch: every one of them.
  expect((await fetch(0, 64 * 1024 * 1024)).aborted.length).toBe(2000);
});
