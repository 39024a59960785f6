// Transactions through a power cut: as transactions-crash.test.ts, the broker
// SIGKILLs itself (test-only failpoints) between each pair of steps of ending
// a transaction (the second one: the first commits normally), and then the
// crash simulator (test/helpers/crash-sim.ts) cuts the data dir back to what
// had reached fdatasync, with torn garbage tails, before the broker restarts
// on it: unsynced markers and state records are really gone, as after a power
// loss, not kept by the page cache as after kill -9. Then: no transaction
// stays open (DescribeProducers, DescribeTransactions), the last stable offset
// moves on (a later transaction commits and is visible), read_committed
// consumers see exactly the committed records and never the aborted ones (the
// aborted-transaction index rebuilt by recovery).

import { describe, expect, test } from "bun:test";
import type { SpawnedBroker } from "../helpers/broker.ts";
import { CLIENT_TEST_TIMEOUT, missing, type Client } from "../helpers/clients.ts";
import { crashSim, type CrashSim, type PowerCutReport } from "../helpers/crash-sim.ts";
import { checkAfter, nextProducerCommits, py, startCrashEnd, txnState, TXN_END_POINTS } from "../helpers/txn-clients.ts";

/** Waits for the failpoint's SIGKILL, cuts the power, and starts the broker again on what is left. */
async function powerCutAndRestart(sim: CrashSim, b: SpawnedBroker, point: string, seed: number): Promise<{ b: SpawnedBroker; cut: PowerCutReport }> {
  await b.proc.exited;
  expect(b.proc.signalCode).toBe("SIGKILL");
  expect(b.stderr()).toContain(`failpoint ${point}`);
  const cut = sim.powerCut({ torn: "garbage", seed });
  return { b: await b.restart({ env: { KLITE_TEST_FAILPOINT: "" } }), cut };
}

/** Bytes the cut took from the partition logs of `topic`. */
function segmentBytesLost(cut: PowerCutReport, topic: string): number {
  return cut.files.filter((f) => f.path.startsWith(`${topic}-`) && f.path.endsWith(".log")).reduce((n, f) => n + (f.before - f.durable), 0);
}

/** At these points markers were written and not yet fsynced: the cut takes them, recovery writes them again. */
const MARKERS_UNSYNCED = new Set(["txn.after-first-marker", "txn.after-markers-written"]);

describe.concurrent("a power cut while ending a transaction", () => {
  const names: Record<Client, string> = { python: "librdkafka 2.0.2", ckjs: "current librdkafka", kafkajs: "KafkaJS", kcat: "kcat" };
  const cases: [string, Client][] = [...TXN_END_POINTS.map((p): [string, Client] => [p, "python"]), ["txn.after-markers-written", "ckjs"]];
  cases.forEach(([point, client], i) => {
    test.skipIf(missing("python", client))(`${names[client]}: commit, power cut at ${point}: the commit stands after the restart; exactly the committed records are visible`, async () => {
      const sim = crashSim();
      let b = await sim.spawn({ env: { KLITE_TEST_FAILPOINT: `${point}@2` } });
      const topic = "pcut";
      const txid = "tx";
      try {
        await py(b.bootstrap, "create", topic, "2");
        const producer = startCrashEnd(b.bootstrap, topic, txid, "commit", client);
        try {
          expect((await producer.line(0, "the open transaction")).ready).toBe(true);
          const r = await powerCutAndRestart(sim, b, point, 100 + i);
          b = r.b;
          if (MARKERS_UNSYNCED.has(point)) expect(segmentBytesLost(r.cut, topic)).toBeGreaterThan(0);
          const ended = await producer.line(1, "the retried commit");
          expect(ended.ended).toBe("commit");
          const last = await producer.line(2, "the next transaction");
          expect(last.done ?? last.result?.done).toBe(true);
        } finally {
          await producer.kill9();
        }
        await checkAfter(b, topic, txid, ["a", "b", "c"], ["a", "b", "c"]);
        expect(await txnState(b.port, txid)).toBe("CompleteCommit");
        if (point !== "txn.after-complete") expect(b.stderr()).toMatch(/recovery: finishing tx \(PrepareCommit/);
        expect(await py(b.bootstrap, "watermarks", topic, "1")).toEqual({ read_committed: 12, read_uncommitted: 12 });
      } finally {
        await b.cleanup();
        sim.cleanup();
      }
    }, CLIENT_TEST_TIMEOUT);
  });

  (["txn.after-prepare", "txn.after-first-marker", "txn.after-markers-written", "txn.after-markers-durable"] as const).forEach((point, i) => {
    test.skipIf(missing("python"))(`abort, power cut at ${point} with the client gone too: start-up finishes the abort; the aborted records stay hidden, a new producer commits after them`, async () => {
      const sim = crashSim();
      let b = await sim.spawn({ env: { KLITE_TEST_FAILPOINT: `${point}@2` } });
      const topic = "pcut";
      const txid = "gone";
      try {
        await py(b.bootstrap, "create", topic, "2");
        const client = startCrashEnd(b.bootstrap, topic, txid, "abort");
        expect((await client.line(0, "the open transaction")).ready).toBe(true);
        await b.proc.exited;
        await client.kill9();
        const r = await powerCutAndRestart(sim, b, point, 200 + i);
        b = r.b;
        if (MARKERS_UNSYNCED.has(point)) expect(segmentBytesLost(r.cut, topic)).toBeGreaterThan(0);
        expect(await txnState(b.port, txid)).toBe("CompleteAbort");
        await checkAfter(b, topic, txid, ["a"], ["a", "b"]);
        // The first b stays aborted, filtered by the rebuilt transaction index.
        await nextProducerCommits(b, topic, txid, false);
        expect(await py(b.bootstrap, "watermarks", topic, "0")).toEqual({ read_committed: 20, read_uncommitted: 20 });
      } finally {
        await b.cleanup();
        sim.cleanup();
      }
    }, CLIENT_TEST_TIMEOUT);
  });
});
