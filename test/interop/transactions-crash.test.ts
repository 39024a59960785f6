// Transactions through a crash: the broker kills itself (SIGKILL, test-only
// failpoints, src/util/failpoint.ts) between each pair of steps of ending a
// transaction (the second one: the first commits normally): after its Prepare state is durable, after the first of its
// markers, after all markers are written, after they are fsynced, after the
// Complete state is written. A confluent-kafka-python (librdkafka 2.0.2)
// producer is in the middle of commit_transaction/abort_transaction when it
// happens (and, at two of the points, the current librdkafka 2.15 through
// @confluentinc/kafka-javascript, and KafkaJS); the broker restarts on the
// same data dir. Then: read_committed
// consumers see exactly the committed records, no marker is duplicated where
// a consumer would notice, DescribeProducers shows no open transaction, and a
// later transaction commits and is visible (the last stable offset is not
// stuck). A second set of cases kills the client too, so only the broker's
// start-up recovery can finish the transaction; a last one crashes while a
// new producer instance's InitProducerId aborts the open transaction of the
// previous one, and while the timeout sweep aborts an abandoned one.
//
// A killed process keeps its page cache, so these cases prove the order of
// the steps, not the fsyncs. A power-cut variant needs only one more step in
// crashAndRestart: between the SIGKILL and the restart, cut the data dir back
// to what had reached fdatasync (the crash simulator of issue 14). Every
// file involved (partition segments, transactions.log, consumer-offsets.log)
// is written through src/log/data-file.ts and atomic-file.ts, which that
// simulator wraps.

import { describe, expect, test } from "bun:test";
import { spawnBroker, type SpawnedBroker } from "../helpers/broker.ts";
import { CLIENT_TEST_TIMEOUT, missing, type Client } from "../helpers/clients.ts";
import { checkAfter, describeProducers, expected, Holder, keysOf, nextProducerCommits, py, startCrashEnd as startClient, txnState, TXN_END_POINTS as POINTS, type Rec } from "../helpers/txn-clients.ts";

/** Waits for the failpoint's SIGKILL, then starts the broker again on the same data dir without it. */
async function crashAndRestart(b: SpawnedBroker, point: string): Promise<SpawnedBroker> {
  await b.proc.exited;
  expect(b.proc.signalCode).toBe("SIGKILL");
  expect(b.stderr()).toContain(`failpoint ${point}`);
  return b.restart({ env: { KLITE_TEST_FAILPOINT: "" } });
}


describe.concurrent("a broker killed while ending a transaction", () => {
  const cases: [string, Client][] = [...POINTS.map((p): [string, Client] => [p, "python"]), ["txn.after-prepare", "ckjs"], ["txn.after-markers-durable", "ckjs"], ["txn.after-prepare", "kafkajs"], ["txn.after-first-marker", "kafkajs"]];
  const names: Record<Client, string> = { python: "librdkafka 2.0.2", ckjs: "current librdkafka", kafkajs: "KafkaJS", kcat: "kcat" };
  for (const [point, client] of cases) {
    test.skipIf(missing("python", client))(`${names[client]}: commit, killed at ${point}: the commit stands after the restart; exactly the committed records are visible, nothing stays open`, async () => {
      let b = await spawnBroker({ env: { KLITE_TEST_FAILPOINT: `${point}@2` } });
      const topic = "crash";
      const txid = "tx";
      try {
        await py(b.bootstrap, "create", topic, "2");
        const producer = startClient(b.bootstrap, topic, txid, "commit", client);
        try {
          expect((await producer.line(0, "the open transaction")).ready).toBe(true);
          b = await crashAndRestart(b, point);
          // librdkafka retries the EndTxn and succeeds; KafkaJS fails it ("Closed connection") and its script starts a new producer.
          const ended = await producer.line(1, "the retried commit");
          expect(ended.ended).toBe("commit");
          if (ended.errors?.length) console.log(`${names[client]} at ${point}: ${ended.errors.join("; ")}`);
          const last = await producer.line(2, "the next transaction");
          expect(last.done ?? last.result?.done).toBe(true);
        } finally {
          await producer.kill9();
        }
        await checkAfter(b, topic, txid, ["a", "b", "c"], ["a", "b", "c"]);
        expect(await txnState(b.port, txid)).toBe("CompleteCommit");
        if (point !== "txn.after-complete") expect(b.stderr()).toMatch(/recovery: finishing tx \(PrepareCommit/);
      } finally {
        await b.cleanup();
      }
    }, CLIENT_TEST_TIMEOUT);
  }

  for (const [point, outcome] of [
    ["txn.after-prepare", "commit"],
    ["txn.after-first-marker", "commit"],
    ["txn.after-prepare", "abort"],
    ["txn.after-markers-written", "abort"],
  ] as const) {
    test.skipIf(missing("python"))(`${outcome}, killed at ${point} with the client gone too: start-up finishes the ${outcome}; a new producer commits after it`, async () => {
      let b = await spawnBroker({ env: { KLITE_TEST_FAILPOINT: `${point}@2` } });
      const topic = "crash";
      const txid = "gone";
      try {
        await py(b.bootstrap, "create", topic, "2");
        const client = startClient(b.bootstrap, topic, txid, outcome);
        expect((await client.line(0, "the open transaction")).ready).toBe(true);
        await b.proc.exited;
        await client.kill9();
        b = await crashAndRestart(b, point);
        expect(await txnState(b.port, txid)).toBe(outcome === "commit" ? "CompleteCommit" : "CompleteAbort");
        const visible = outcome === "commit" ? ["a", "b"] : ["a"];
        await checkAfter(b, topic, txid, visible, ["a", "b"]);
        // The same transactional id again: init, then a commit that read_committed consumers see at once.
        await nextProducerCommits(b, topic, txid, outcome === "commit");
      } finally {
        await b.cleanup();
      }
    }, CLIENT_TEST_TIMEOUT);
  }

  test.skipIf(missing("python"))("a new producer instance fencing an open transaction, killed after the abort's Prepare state: start-up aborts it, the new instance's init goes through", async () => {
    // The first Prepare is the holder's first commit; the second is the abort of its open transaction by the new instance.
    let b = await spawnBroker({ env: { KLITE_TEST_FAILPOINT: "txn.after-prepare@2" } });
    // The topic first: the holder's metadata request would otherwise auto-create it under the create.
    await py(b.bootstrap, "create", "fence", "1");
    const holder = Holder.start(b.bootstrap, "fence", 0, "fx", 600_000, "fx-g");
    try {
      expect((await holder.ready()).ready).toBe(true);
      const bootstrap = b.bootstrap;
      // Same transactional id: its InitProducerId aborts the holder's transaction, and the broker dies there.
      const next = py(bootstrap, "commit_abort", "fence", "fx");
      b = await crashAndRestart(b, "txn.after-prepare");
      expect(b.stderr()).toMatch(/recovery: finishing fx \(PrepareAbort/);
      await next;
      const committed = await py<Rec[]>(b.bootstrap, "consume", "fence", "read_committed");
      expect(committed.map((r) => r[2])).toEqual([...["0", "1", "2", "3", "4"].map((i) => `fx-c${i}`), ...Array.from({ length: 10 }, (_, i) => `c${i}`)]);
      const all = await py<Rec[]>(b.bootstrap, "consume", "fence", "read_uncommitted");
      expect(all.filter((r) => r[2].startsWith("fx-o")).length).toBe(5);
      for (const p of await describeProducers(b.port, "fence")) expect(Number(p.currentTxnStartOffset)).toBe(-1);
    } finally {
      await holder.kill9();
      await b.cleanup();
    }
  }, CLIENT_TEST_TIMEOUT);

  test.skipIf(missing("python"))("a transaction past its timeout, killed after the timeout abort's Prepare state: start-up finishes the abort", async () => {
    let b = await spawnBroker({ env: { KLITE_TEST_FAILPOINT: "txn.after-prepare@2" } });
    await py(b.bootstrap, "create", "expire", "1");
    const holder = Holder.start(b.bootstrap, "expire", 0, "tx-timeout", 3000, "tt-g");
    try {
      expect((await holder.ready()).ready).toBe(true);
      await holder.kill9();
      // The sweep aborts it 3 s after it began; the broker dies between the Prepare state and the markers.
      b = await crashAndRestart(b, "txn.after-prepare");
      expect(b.stderr()).toMatch(/recovery: finishing tx-timeout \(PrepareAbort/);
      expect(await txnState(b.port, "tx-timeout")).toBe("CompleteAbort");
      expect(await py(b.bootstrap, "watermarks", "expire", "0")).toEqual({ read_committed: 12, read_uncommitted: 12 });
      const committed = await py<Rec[]>(b.bootstrap, "consume", "expire", "read_committed");
      expect(committed.map((r) => r[2])).toEqual(["0", "1", "2", "3", "4"].map((i) => `tx-timeout-c${i}`));
    } finally {
      await holder.kill9();
      await b.cleanup();
    }
  }, CLIENT_TEST_TIMEOUT);
});
