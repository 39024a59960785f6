// Start-up recovery of the transaction coordinator and its state log, on a
// Broker without sockets: partitions holding a transaction the coordinator
// does not have open get an abort marker, one it has open but without that
// partition joins it, a Prepare state is finished with one marker per
// partition even where a crash left one already; the state log converts
// older data dirs, keeps producer ids unique across restarts and stays small.
// (The same crash points with real clients: test/interop/transactions-crash.test.ts.)

import { afterEach, expect, test } from "bun:test";
import { existsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Broker } from "../../src/broker.ts";
import { DEFAULT_OPTIONS } from "../../src/config.ts";
import { partitionKey } from "../../src/txn/coordinator.ts";
import { batchFacts } from "../../src/txn/partition-txn.ts";
import { TXN_LOG_FILE } from "../../src/txn/state-store.ts";
import { producerBatch } from "../helpers/wire-client.ts";
import { tempDir } from "./log-fixtures.ts";

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

async function open(dir: string): Promise<Broker> {
  const b = new Broker({ ...DEFAULT_OPTIONS, dataDir: dir, logLevel: "error" });
  cleanups.push(() => b.close());
  await b.transactions.recover();
  return b;
}

function setup(): string {
  const { dir, cleanup } = tempDir("klite-txn-recovery-");
  cleanups.push(cleanup);
  return dir;
}

/** Appends a transactional batch of `n` records for the producer, as Produce does after its checks. */
function produce(b: Broker, partition: number, pid: number, epoch: number, sequence: number, n: number): void {
  const part = b.topics.get("t")!.partitions[partition]!;
  const batch = producerBatch({ producerId: pid, epoch, sequence, values: Array.from({ length: n }, (_, i) => `v${i}`) });
  part.log.append(batch);
  part.txn.apply(batchFacts(batch), batch);
}

async function openTxn(b: Broker, partitions: number[], register = partitions): Promise<{ pid: number; epoch: number }> {
  const r = await b.transactions.initProducerId("tx", 60_000, -1, -1);
  expect(b.transactions.addPartitions("tx", r.producerId, r.epoch, register.map((p) => ["t", p]))).toBe(0);
  for (const p of partitions) produce(b, p, r.producerId, r.epoch, 0, 3);
  await b.transactions.durable();
  return { pid: r.producerId, epoch: r.epoch };
}

const partition = (b: Broker, p: number) => b.topics.get("t")!.partitions[p]!;

test("a partition holding a transaction the coordinator has not open gets an abort marker at start-up", async () => {
  const dir = setup();
  let b = await open(dir);
  b.topics.create("t", 1, {});
  const { pid } = await openTxn(b, [0]);
  // As if the record of the transaction's start had been lost: the coordinator's state says nothing is open.
  const t = b.transactions.get("tx")!;
  t.state = "CompleteCommit";
  t.partitions = [];
  await b.txnStore.saveTxn(t);
  expect(partition(b, 0).lastStableOffset()).toBe(0);
  await b.close();
  b = await open(dir);
  const p = partition(b, 0);
  expect(p.txn.open.size).toBe(0);
  expect(p.lastStableOffset()).toBe(4);
  expect(p.log.abortedTxns(0, p.log.logEndOffset)).toEqual([{ producerId: pid, firstOffset: 0, lastOffset: 3, lastStableOffset: 4 }]);
  expect(b.transactions.get("tx")!.state).toBe("CompleteCommit");
});

test("a partition the open transaction did not list joins it, and the commit's marker reaches it", async () => {
  const dir = setup();
  let b = await open(dir);
  b.topics.create("t", 2, {});
  const { pid, epoch } = await openTxn(b, [0, 1], [0]);
  await b.close();
  b = await open(dir);
  expect([...b.transactions.get("tx")!.partitions].length).toBe(2);
  expect((await b.transactions.endTxn("tx", pid, epoch, true, false)).errorCode).toBe(0);
  for (const p of [0, 1]) {
    expect(partition(b, p).lastStableOffset()).toBe(4);
    expect(partition(b, p).log.abortedTxns(0, partition(b, p).log.logEndOffset)).toEqual([]);
  }
});

test("a Prepare state is finished once: a partition whose marker a crash left behind gets no second one", async () => {
  const dir = setup();
  let b = await open(dir);
  b.topics.create("t", 2, {});
  const { pid, epoch } = await openTxn(b, [0, 1]);
  const t = b.transactions.get("tx")!;
  t.state = "PrepareCommit";
  await b.txnStore.saveTxn(t);
  b.markers.writeMarker("t", 0, pid, epoch, true);
  expect(await b.markers.flush([partitionKey("t", 0)])).toEqual([]);
  await b.close();
  b = await open(dir);
  expect(b.transactions.get("tx")!.state).toBe("CompleteCommit");
  // Three records and one marker each.
  expect(partition(b, 0).log.logEndOffset).toBe(4);
  expect(partition(b, 1).log.logEndOffset).toBe(4);
  for (const p of [0, 1]) expect(partition(b, p).lastStableOffset()).toBe(4);
});

test("the state log: older data dirs are converted; producer ids stay unique across restarts; rewrites keep it small", async () => {
  const dir = setup();
  writeFileSync(join(dir, "producer-ids.json"), JSON.stringify({ nextBlockStart: 5000 }));
  const legacy = { transactionalId: "old", producerId: 4000, prevProducerId: -1, epoch: 3, timeoutMs: 60000, state: "CompleteAbort", partitions: [], groups: [], startTimestamp: 1, lastUpdate: Date.now(), version: 1 };
  writeFileSync(join(dir, "transactions.json"), JSON.stringify({ version: 1, txns: [legacy] }));
  let b = await open(dir);
  expect(existsSync(join(dir, "transactions.json"))).toBe(false);
  expect(existsSync(join(dir, "producer-ids.json"))).toBe(false);
  expect(b.transactions.get("old")).toMatchObject({ producerId: 4000, epoch: 3, state: "CompleteAbort" });
  expect(b.producerIds.allocate()).toBe(5000);
  await b.producerIds.durable();
  await b.close();
  b = await open(dir);
  // The rest of the block is skipped, never reused.
  expect(b.producerIds.allocate()).toBe(6000);
  const r = await b.transactions.initProducerId("old", 60_000, -1, -1);
  expect([r.producerId, r.epoch]).toEqual([4000, 4]);
  for (let i = 0; i < 5000; i++) b.transactions.addOffsets("old", 4000, 4, `g${i % 2}-${i}`);
  await b.transactions.durable();
  // 5000 appends of a record that grows to 40 KB (about 100 MB in all), rewritten down to the live state along the way.
  expect(statSync(join(dir, TXN_LOG_FILE)).size).toBeLessThan(2 * 1024 * 1024);
  await b.close();
  b = await open(dir);
  expect(b.transactions.get("old")!.groups.length).toBe(5000);
});

test("transactions v2: a commit left in PrepareCommit gets its epoch bump at start-up, and the producer's retried EndTxn v5 its answer", async () => {
  const dir = setup();
  let b = await open(dir);
  b.topics.create("t", 1, {});
  const { pid, epoch } = await openTxn(b, [0]);
  const t = b.transactions.get("tx")!;
  t.state = "PrepareCommit";
  t.version = 2;
  t.bumpAtEnd = true;
  await b.txnStore.saveTxn(t);
  await b.close();
  b = await open(dir);
  expect(b.transactions.get("tx")).toMatchObject({ state: "CompleteCommit", epoch: epoch + 1, bumpAtEnd: false });
  expect(partition(b, 0).lastStableOffset()).toBe(4);
  expect(await b.transactions.endTxn("tx", pid, epoch, true, true)).toEqual({ errorCode: 0, producerId: pid, epoch: epoch + 1 });
  // The opposite outcome is refused.
  expect((await b.transactions.endTxn("tx", pid, epoch, false, true)).errorCode).not.toBe(0);
});
