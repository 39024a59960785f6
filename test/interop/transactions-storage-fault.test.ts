// A failed fsync or write of a partition's log while a transaction ends
// (injected through the crash simulator's faults file), with a real
// transactional producer (confluent-kafka-python, librdkafka 2.0.2). As
// Kafka's coordinator does when a partition's log dir fails: the outcome is
// decided once the Prepare state is durable, so EndTxn answers NONE; every
// healthy partition gets its marker (its last stable offset moves on); the
// transaction stays in its Prepare state for the failed partition, whose
// log answers KAFKA_STORAGE_ERROR until restart, and the producer's next
// InitProducerId gets CONCURRENT_TRANSACTIONS (retriable). After a restart
// (here through a power cut, which also drops whatever the failed fsync
// covered) start-up recovery writes the missing marker: the transaction is
// complete, read_committed consumers see exactly the committed records, and
// the producer's next transaction commits.

import { describe, expect, test } from "bun:test";
import type * as InitProducerIdResponse from "../../generated/InitProducerIdResponse.ts";
import { CLIENT_TEST_TIMEOUT, missing } from "../helpers/clients.ts";
import { crashSim } from "../helpers/crash-sim.ts";
import { checkAfter, py, startCrashEnd, txnState } from "../helpers/txn-clients.ts";
import { connectWire } from "../helpers/wire-client.ts";

const CONCURRENT_TRANSACTIONS = 51;

async function initProducerId(port: number, transactionalId: string): Promise<number> {
  const c = await connectWire(port);
  try {
    const r = await c.call<InitProducerIdResponse.InitProducerIdResponse>(22, 4, { transactionalId, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
    return r.errorCode;
  } finally {
    c.close();
  }
}

describe.concurrent("a storage failure while ending a transaction", () => {
  const cases = [
    // The marker reaches partition 1's log but its fsync fails: it may be lost.
    { fault: "sync EIO", outcome: "commit", p1Stable: 8, p1End: 8 },
    // The marker cannot be written to partition 1 at all: its transaction stays open there.
    { fault: "write ENOSPC", outcome: "abort", p1Stable: 4, p1End: 7 },
  ] as const;
  cases.forEach(({ fault, outcome, p1Stable, p1End }, i) => {
    test.skipIf(missing("python"))(`${outcome}, ${fault} on one partition's log: EndTxn succeeds, the transaction stays Prepare for that partition until a restart completes it`, async () => {
      const sim = crashSim();
      let b = await sim.spawn();
      const topic = "sfault";
      const txid = "tx";
      try {
        await py(b.bootstrap, "create", topic, "2");
        const producer = startCrashEnd(b.bootstrap, topic, txid, outcome, "python", true);
        try {
          expect((await producer.line(0, "the open transaction")).ready).toBe(true);
          sim.setFaults([`${fault} ${topic}-1/`]);
          producer.write("end\n");
          const ended = await producer.line(1, "the end of the transaction");
          expect(ended).toEqual({ ended: outcome, errors: [] });
          const prepare = outcome === "commit" ? "PrepareCommit" : "PrepareAbort";
          expect(await txnState(b.port, txid)).toBe(prepare);
          expect(b.stderr()).toMatch(new RegExp(`transaction tx: ${outcome} markers not durable in ${topic}-1 \\(storage error\\); it stays ${prepare}`));
          expect(await initProducerId(b.port, txid)).toBe(CONCURRENT_TRANSACTIONS);
          // The healthy partition has its marker: a0-a2, marker, b0-b2, marker, all stable.
          expect(await py(b.bootstrap, "watermarks", topic, "0")).toEqual({ read_committed: 8, read_uncommitted: 8 });
          const p1 = await py<{ read_committed: number; read_uncommitted: number }>(b.bootstrap, "watermarks", topic, "1");
          // With fsync=group the high watermark stops at what was fsynced: before a marker whose fsync failed.
          expect(p1.read_committed).toBe(Math.min(p1Stable, p1.read_uncommitted));
          expect(p1.read_uncommitted).toBeLessThanOrEqual(p1End);

          // The disk is replaced, the machine loses power, klite starts again.
          await b.kill9();
          sim.setFaults([]);
          sim.powerCut({ torn: "garbage", seed: 300 + i });
          b = await b.restart();
          expect(b.stderr()).toMatch(new RegExp(`recovery: finishing tx \\(${prepare}`));
          expect(await txnState(b.port, txid)).toBe(outcome === "commit" ? "CompleteCommit" : "CompleteAbort");
          producer.write("next\n");
          const last = await producer.line(2, "the next transaction");
          expect(last.done).toBe(true);
        } finally {
          await producer.kill9();
        }
        await checkAfter(b, topic, txid, outcome === "commit" ? ["a", "b", "c"] : ["a", "c"], ["a", "b", "c"]);
        expect(await py(b.bootstrap, "watermarks", topic, "1")).toEqual({ read_committed: 12, read_uncommitted: 12 });
      } finally {
        await b.cleanup();
        sim.cleanup();
      }
    }, CLIENT_TEST_TIMEOUT);
  });
});
