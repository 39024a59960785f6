// Idempotent and transactional producing with real clients over TCP:
// librdkafka 2.0.2 (confluent-kafka-python), the current librdkafka
// (@confluentinc/kafka-javascript under node) and KafkaJS 2.2.4. Commits and
// aborts are checked record by record with read_committed and
// read_uncommitted consumers; consume-transform-produce loops check that a
// group's committed offsets move only when the transaction commits; and a
// broker killed with -9 while transactions are open comes back with them
// aborted (one by its client, one by the transaction timeout), committed
// records and transactional group offsets intact, staged offsets dropped.

import { describe, expect, test } from "bun:test";
import { inProcessBroker, spawnBroker } from "../helpers/broker.ts";
import { CLIENT_TEST_TIMEOUT, missing, nodeClient, py as pyScript } from "../helpers/clients.ts";
import { waitFor } from "../helpers/run.ts";
import { Holder } from "../helpers/txn-clients.ts";

const py = <T = any>(bootstrap: string, ...args: string[]) => pyScript<T>("txn.py", bootstrap, args);
const ckjs = <T = any>(bootstrap: string, ...args: string[]) => nodeClient<{ result: T; sent: Record<string, number> }>("ckjs", "txn.mjs", bootstrap, args);
const kafkajs = <T = any>(bootstrap: string, ...args: string[]) => nodeClient<{ result: T; sent: Record<string, number> }>("kafkajs", "txn.mjs", bootstrap, args);

/** [partition, offset, key] */
type Rec = [number, number, string];

const byPosition = (rs: Rec[]) => [...rs].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
const recs = (partition: number, first: number, keys: string[]): Rec[] => keys.map((k, i) => [partition, first + i, k]);
const keys = (prefix: string, from: number, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${from + i}`);

/** Everything in the topic as each isolation level sees it, read to the end of every partition by librdkafka 2.0.2. */
async function readBoth(bootstrap: string, topic: string): Promise<{ committed: Rec[]; uncommitted: Rec[] }> {
  const [committed, uncommitted] = await Promise.all([py<Rec[]>(bootstrap, "consume", topic, "read_committed"), py<Rec[]>(bootstrap, "consume", topic, "read_uncommitted")]);
  return { committed: byPosition(committed), uncommitted: byPosition(uncommitted) };
}

// The same three transactions in every client's `txn` command, on partition 0:
// c0..c4 committed (offsets 0-4, marker 5), a0..a4 aborted (6-10, marker 11),
// c5..c9 committed (12-16, marker 17).
const COMMITTED: Rec[] = [...recs(0, 0, keys("c", 0, 5)), ...recs(0, 12, keys("c", 5, 5))];
const EVERYTHING: Rec[] = [...recs(0, 0, keys("c", 0, 5)), ...recs(0, 6, keys("a", 0, 5)), ...recs(0, 12, keys("c", 5, 5))];

describe.concurrent("transactions with real clients", () => {
  test.skipIf(missing("python"))("librdkafka 2.0.2: commit and abort; read_committed sees exactly the committed records, read_uncommitted all", async () => {
    const b = await inProcessBroker();
    try {
      await py(b.bootstrap, "create", "py-txn", "1");
      const r = await py(b.bootstrap, "commit_abort", "py-txn", "py-tx");
      expect(r.delivered.map((d: { partition: number; offset: number; key: string }) => [d.partition, d.offset, d.key])).toEqual(EVERYTHING);
      const seen = await readBoth(b.bootstrap, "py-txn");
      expect(seen.committed).toEqual(COMMITTED);
      expect(seen.uncommitted).toEqual(EVERYTHING);
      expect(b.broker.transactions.get("py-tx")!.state).toBe("CompleteCommit");
      console.log(`librdkafka 2.0.2 transactional producer sent: ${JSON.stringify(r.sent)}`);
    } finally {
      await b.cleanup();
    }
  }, CLIENT_TEST_TIMEOUT);

  test.skipIf(missing("python"))("librdkafka 2.0.2: consume-transform-produce with send_offsets_to_transaction; committed offsets move only on commit", async () => {
    const b = await inProcessBroker();
    try {
      await Promise.all([py(b.bootstrap, "create", "py-src", "1"), py(b.bootstrap, "create", "py-dst", "1")]);
      const r = await py(b.bootstrap, "ctp", "py-src", "py-dst", "py-ctp", "py-ctp-tx");
      expect(r.consumed).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      // -1001: librdkafka's "no committed offset".
      expect([r.before, r.after_abort, r.after_commit, r.after_second_commit]).toEqual([-1001, -1001, 5, 10]);
      // TxnOffsetCommit v3 carries the consumer's member id and generation, which the broker checked.
      expect(r.sent.TxnOffsetCommit).toBe(3);
      expect(r.sent.AddOffsetsToTxn).toBeGreaterThanOrEqual(0);
      // Output: t0..t4 aborted (0-4, marker 5), t0..t4 again (6-10, marker 11), t5..t9 (12-16, marker 17).
      const seen = await readBoth(b.bootstrap, "py-dst");
      expect(seen.committed).toEqual([...recs(0, 6, keys("t", 0, 5)), ...recs(0, 12, keys("t", 5, 5))]);
      expect(seen.uncommitted).toEqual([...recs(0, 0, keys("t", 0, 5)), ...recs(0, 6, keys("t", 0, 5)), ...recs(0, 12, keys("t", 5, 5))]);
      expect(b.broker.groups.offsets.hasPendingForGroup("py-ctp")).toBe(false);
      console.log(`librdkafka 2.0.2 consume-transform-produce sent: ${JSON.stringify(r.sent)}`);
    } finally {
      await b.cleanup();
    }
  }, CLIENT_TEST_TIMEOUT);

  test.skipIf(missing("ckjs", "python"))("current librdkafka: idempotent producing, commit/abort, consume-transform-produce with sendOffsetsToTransaction", async () => {
    const b = await inProcessBroker();
    try {
      await Promise.all(["ck-idem", "ck-txn", "ck-src", "ck-dst"].map((t) => py(b.bootstrap, "create", t, t === "ck-idem" ? "2" : "1")));
      const [idem, txn, ctp] = await Promise.all([
        ckjs<{ partition: number; offset: number; key: string }[]>(b.bootstrap, "idempotent", "ck-idem", "200"),
        ckjs<{ partition: number; offset: number; key: string }[]>(b.bootstrap, "txn", "ck-txn", "ck-tx"),
        ckjs<{ consumed: number[]; before: number | null; afterAbort: number | null; afterCommit: number; afterSecondCommit: number }>(b.bootstrap, "ctp", "ck-src", "ck-dst", "ck-ctp", "ck-ctp-tx"),
      ]);

      // Idempotence: every record once, in order, each partition densely numbered from 0.
      expect(idem.sent.InitProducerId).toBeGreaterThanOrEqual(0);
      const expectedIdem = [0, 1].flatMap((p) => recs(p, 0, Array.from({ length: 100 }, (_, i) => `k${2 * i + p}`)));
      expect(byPosition(idem.result.map((d) => [d.partition, d.offset, d.key]))).toEqual(expectedIdem);
      const [idemSeen, txnSeen, dstSeen] = await Promise.all([
        ckjs<Rec[]>(b.bootstrap, "consume", "ck-idem", "read_committed"),
        ckjs<Rec[]>(b.bootstrap, "consume", "ck-txn", "read_committed"),
        ckjs<Rec[]>(b.bootstrap, "consume", "ck-dst", "read_committed"),
      ]);
      expect(byPosition(idemSeen.result)).toEqual(expectedIdem);
      const producers = [...b.broker.topics.get("ck-idem")!.partitions[0]!.txn.producers.entries.values()];
      expect(producers.map((e) => e.batches.at(-1)!.lastSeq)).toEqual([99]);

      expect(txn.result.map((d) => [d.partition, d.offset, d.key])).toEqual(EVERYTHING);
      expect(byPosition(txnSeen.result)).toEqual(COMMITTED);
      expect((await readBoth(b.bootstrap, "ck-txn")).uncommitted).toEqual(EVERYTHING);

      expect(ctp.result).toEqual({ consumed: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], before: null, afterAbort: null, afterCommit: 5, afterSecondCommit: 10 });
      expect(ctp.sent.TxnOffsetCommit).toBe(3);
      expect(byPosition(dstSeen.result)).toEqual([...recs(0, 6, keys("t", 0, 5)), ...recs(0, 12, keys("t", 5, 5))]);
      console.log(`current librdkafka sent: idempotent ${JSON.stringify(idem.sent)}; txn ${JSON.stringify(txn.sent)}; ctp ${JSON.stringify(ctp.sent)}; consume ${JSON.stringify(txnSeen.sent)}`);
    } finally {
      await b.cleanup();
    }
  }, CLIENT_TEST_TIMEOUT);

  test.skipIf(missing("kafkajs", "python"))("KafkaJS: idempotent producing, commit/abort, sendOffsets moves the group's offsets only on commit", async () => {
    const b = await inProcessBroker();
    try {
      await Promise.all(["kjs-idem", "kjs-txn", "kjs-src", "kjs-dst"].map((t) => py(b.bootstrap, "create", t, t === "kjs-idem" ? "2" : "1")));
      const [idem, txn, offs] = await Promise.all([
        kafkajs<{ partition: number; baseOffset: number; errorCode: number }[]>(b.bootstrap, "idempotent", "kjs-idem", "40"),
        kafkajs<{ partition: number; baseOffset: number; errorCode: number }[]>(b.bootstrap, "txn", "kjs-txn", "kjs-tx"),
        kafkajs<{ before: number; afterAbort: number; afterCommit: number; afterSecondCommit: number }>(b.bootstrap, "send_offsets", "kjs-src", "kjs-dst", "kjs-g", "kjs-offsets-tx"),
      ]);

      expect(idem.result.map((r) => [r.partition, r.baseOffset, r.errorCode])).toEqual(Array.from({ length: 40 }, (_, i) => [i % 2, Math.floor(i / 2), 0]));
      const idemSeen = await readBoth(b.bootstrap, "kjs-idem");
      const expectedIdem = [0, 1].flatMap((p) => recs(p, 0, Array.from({ length: 20 }, (_, i) => `k${2 * i + p}`)));
      expect(idemSeen.committed).toEqual(expectedIdem);

      expect(txn.result.map((r) => [r.partition, r.baseOffset])).toEqual([[0, 0], [0, 6], [0, 12]]);
      const txnSeen = await readBoth(b.bootstrap, "kjs-txn");
      expect(txnSeen.committed).toEqual(COMMITTED);
      expect(txnSeen.uncommitted).toEqual(EVERYTHING);

      // KafkaJS answers -1 for "no committed offset".
      expect(offs.result).toEqual({ before: -1, afterAbort: -1, afterCommit: 5, afterSecondCommit: 7 });
      const dst = await readBoth(b.bootstrap, "kjs-dst");
      expect(dst.committed).toEqual([[0, 2, "o5c"], [0, 4, "o7c"]]);
      expect(dst.uncommitted).toEqual([[0, 0, "o5a"], [0, 2, "o5c"], [0, 4, "o7c"]]);
      console.log(`KafkaJS sent: idempotent ${JSON.stringify(idem.sent)}; txn ${JSON.stringify(txn.sent)}; sendOffsets ${JSON.stringify(offs.sent)}`);
    } finally {
      await b.cleanup();
    }
  }, CLIENT_TEST_TIMEOUT);

  test.skipIf(missing("python"))("kill -9 with open transactions: after restart one is aborted by its client, the other by its timeout; read_committed never sees them", async () => {
    let b = await spawnBroker();
    const holders: Holder[] = [];
    try {
      await py(b.bootstrap, "create", "crash-txn", "2");
      // "alive" keeps running through the crash and aborts itself; "gone" dies and leaves its transaction to the 5 s timeout.
      const alive = Holder.start(b.bootstrap, "crash-txn", 0, "alive", 60_000, "alive-g");
      const gone = Holder.start(b.bootstrap, "crash-txn", 1, "gone", 5_000, "gone-g");
      holders.push(alive, gone);
      const [ra, rg] = await Promise.all([alive.ready(), gone.ready()]);
      const open = (p: number, txid: string) => [...recs(p, 0, keys(`${txid}-c`, 0, 5)), ...recs(p, 6, keys(`${txid}-o`, 0, 5))];
      expect(ra.delivered.map((d) => [d.partition, d.offset, d.key])).toEqual(open(0, "alive"));
      expect(rg.delivered.map((d) => [d.partition, d.offset, d.key])).toEqual(open(1, "gone"));
      // Both transactions are open: the last stable offsets sit at their first records; the groups' offsets are those of the committed ones.
      expect(await py(b.bootstrap, "watermarks", "crash-txn", "0")).toEqual({ read_committed: 6, read_uncommitted: 11 });
      // (A stable lookup would wait for the transactions to end: read_uncommitted asks without require_stable.)
      const groupOffsets = (isolation: string) =>
        Promise.all([py(b.bootstrap, "committed", "alive-g", "crash-txn", "0", isolation), py(b.bootstrap, "committed", "gone-g", "crash-txn", "1", isolation)]);
      expect(await groupOffsets("read_uncommitted")).toEqual([100, 100]);

      await gone.kill9();
      await b.kill9();
      b = await b.restart();

      const after = await alive.abortAndGoOn();
      expect(after.delivered.map((d) => [d.partition, d.offset, d.key])).toEqual(recs(0, 12, keys("alive-n", 0, 5)));
      // The timeout sweep aborts "gone": its abort marker (offset 11) makes the partition stable again.
      await waitFor(
        async () => {
          const w = await py<{ read_committed: number; read_uncommitted: number }>(b.bootstrap, "watermarks", "crash-txn", "1");
          return w.read_committed === 12 && w.read_uncommitted === 12;
        },
        60_000,
        "the timed-out transaction to be aborted",
      );
      const seen = await readBoth(b.bootstrap, "crash-txn");
      expect(seen.committed).toEqual([...recs(0, 0, keys("alive-c", 0, 5)), ...recs(0, 12, keys("alive-n", 0, 5)), ...recs(1, 0, keys("gone-c", 0, 5))]);
      expect(seen.uncommitted).toEqual([
        ...recs(0, 0, keys("alive-c", 0, 5)),
        ...recs(0, 6, keys("alive-o", 0, 5)),
        ...recs(0, 12, keys("alive-n", 0, 5)),
        ...recs(1, 0, keys("gone-c", 0, 5)),
        ...recs(1, 6, keys("gone-o", 0, 5)),
      ]);
      expect(await py(b.bootstrap, "watermarks", "crash-txn", "0")).toEqual({ read_committed: 18, read_uncommitted: 18 });
      // Offsets staged by the aborted transactions (200) never showed; the one committed after the restart (300) did.
      expect(await groupOffsets("read_committed")).toEqual([300, 100]);
      expect(b.stderr()).not.toContain("ERROR");
    } finally {
      for (const h of holders) await h.kill9();
      await b.cleanup();
    }
  }, CLIENT_TEST_TIMEOUT);
});
