// read_committed consumers over many aborted transactions spread across
// segments, whose aborted-transaction lists come from the segments'
// transaction indexes (.txnindex): confluent-kafka-python (librdkafka 2.0.2)
// and the current librdkafka through @confluentinc/kafka-javascript (whose
// default isolation is read_committed) see exactly the committed records after
// DeleteRecords, retention, compaction, a clean restart and a power cut (the
// crash simulator cuts the data dir back to what was fsynced; recovery
// rebuilds the active segment's index).

import { describe, expect, test } from "bun:test";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type * as DeleteRecordsResponse from "../../generated/DeleteRecordsResponse.ts";
import type { SpawnedBroker } from "../helpers/broker.ts";
import { CLIENT_TEST_TIMEOUT, missing, nodeClient, py as pyScript } from "../helpers/clients.ts";
import { crashSim } from "../helpers/crash-sim.ts";
import { waitFor } from "../helpers/run.ts";
import { connectWire } from "../helpers/wire-client.ts";

type Rec = [offset: number, key: string, value: string];

const core = <T>(bootstrap: string, ...args: string[]) => pyScript<T>("core.py", bootstrap, args);
const create = (bootstrap: string, topic: string, configs: Record<string, string>) => core(bootstrap, "create_configured", topic, JSON.stringify(configs));
const lowWatermark = async (bootstrap: string, topic: string) => (await core<{ low: number }>(bootstrap, "offsets_for_times", topic, "0", "0")).low;

/** 40 rounds of one committed and one aborted transaction of 5 records each (txn.py compact_rounds). */
const rounds = (bootstrap: string, topic: string) => pyScript<{ committed: Rec[]; aborted: Rec[] }>("txn.py", bootstrap, ["compact_rounds", topic, `${topic}-txn`, "5", "40"]);

/** Partition 0 from its start to its end as confluent-kafka-python's consumer sees it. */
async function viaPython(bootstrap: string, topic: string, isolation = "read_committed"): Promise<Rec[]> {
  const got = await pyScript<[number, number, string, string][]>("txn.py", bootstrap, ["consume", topic, isolation, "values"]);
  return got.map(([, o, k, v]) => [o, k, v]);
}

/** `n` records from `offset` as the current librdkafka's consumer (read_committed) sees them. */
async function viaCkjs(bootstrap: string, topic: string, offset: number, n: number): Promise<Rec[]> {
  const got = await nodeClient<{ result: { offset: number; key: string; value: string }[] }>("ckjs", "core.mjs", bootstrap, ["consume", topic, "0", String(offset), String(n)]);
  return got.result.map((m): Rec => [m.offset, m.key, m.value]);
}

async function bothSee(b: SpawnedBroker, topic: string, want: Rec[]): Promise<void> {
  expect(want.length).toBeGreaterThan(0);
  expect(want.some(([, , v]) => v.startsWith("a"))).toBe(false);
  const [py, ckjs] = await Promise.all([viaPython(b.bootstrap, topic), viaCkjs(b.bootstrap, topic, want[0]![0], want.length)]);
  expect(py).toEqual(want);
  expect(ckjs).toEqual(want);
}

async function deleteRecords(port: number, topic: string, offset: number): Promise<number> {
  const c = await connectWire(port);
  try {
    const r = await c.call<DeleteRecordsResponse.DeleteRecordsResponse>(21, 2, { topics: [{ name: topic, partitions: [{ partitionIndex: 0, offset: BigInt(offset) }] }], timeoutMs: 10_000 });
    expect(r.topics[0]!.partitions[0]!.errorCode).toBe(0);
    return Number(r.topics[0]!.partitions[0]!.lowWatermark);
  } finally {
    c.close();
  }
}

/** Sizes of the partition's transaction index files. */
function txnIndexSizes(b: SpawnedBroker, topic: string): number[] {
  const dir = join(b.dataDir, `${topic}-0`);
  return readdirSync(dir)
    .filter((n) => n.endsWith(".txnindex"))
    .map((n) => statSync(join(dir, n)).size);
}

describe.concurrent("read_committed consumers and the transaction index", () => {
  test.skipIf(missing("python", "ckjs"))("after DeleteRecords, a clean restart and a power cut, librdkafka 2.0.2 and 2.15 see exactly the committed records", async () => {
    const sim = crashSim();
    let b = await sim.spawn();
    const topic = "ti-delete";
    try {
      await create(b.bootstrap, topic, { "internal.segment.bytes": "4096" });
      const { committed, aborted } = await rounds(b.bootstrap, topic);
      expect(aborted).toHaveLength(200);
      const sizes = txnIndexSizes(b, topic);
      expect(sizes.length).toBeGreaterThanOrEqual(4);
      // 40 aborted transactions, 34 bytes an entry, spread over the segments.
      expect(sizes.reduce((a, s) => a + s, 0)).toBe(40 * 34);
      await bothSee(b, topic, committed);

      const low = await deleteRecords(b.port, topic, committed[100]![0]);
      expect(low).toBe(committed[100]![0]);
      expect(txnIndexSizes(b, topic).length).toBeLessThan(sizes.length);
      await bothSee(b, topic, committed.slice(100));

      b = await b.restart();
      await bothSee(b, topic, committed.slice(100));

      await b.kill9();
      sim.powerCut({ torn: "garbage", seed: 7 });
      b = await b.restart();
      await bothSee(b, topic, committed.slice(100));
    } finally {
      await b.cleanup();
      sim.cleanup();
    }
  }, CLIENT_TEST_TIMEOUT);

  test.skipIf(missing("python", "ckjs"))("after retention deleted old segments with their indexes, and a restart", async () => {
    const sim = crashSim();
    let b = await sim.spawn({ args: ["--log-retention-check-interval-ms", "100"] });
    const topic = "ti-retention";
    try {
      await create(b.bootstrap, topic, { "internal.segment.bytes": "4096", "retention.bytes": "12288" });
      const { committed } = await rounds(b.bootstrap, topic);
      let low = 0;
      await waitFor(async () => (low = await lowWatermark(b.bootstrap, topic)) > 0, 60_000, "retention to delete segments");
      expect(txnIndexSizes(b, topic).length).toBeLessThanOrEqual(4);
      await bothSee(b, topic, committed.filter(([o]) => o >= low));
      await b.kill9();
      sim.powerCut({ torn: "garbage", seed: 8 });
      b = await b.restart();
      low = await lowWatermark(b.bootstrap, topic);
      await bothSee(b, topic, committed.filter(([o]) => o >= low));
    } finally {
      await b.cleanup();
      sim.cleanup();
    }
  }, CLIENT_TEST_TIMEOUT);

  test.skipIf(missing("python", "ckjs"))("after compaction rewrote the segments and their indexes, and a power cut", async () => {
    const sim = crashSim();
    let b = await sim.spawn({ args: ["--log-cleaner-backoff-ms", "50"] });
    const topic = "ti-compact";
    try {
      await create(b.bootstrap, topic, { "cleanup.policy": "compact", "internal.segment.bytes": "4096", "min.cleanable.dirty.ratio": "0.01" });
      await rounds(b.bootstrap, topic);
      // More rounds roll the first ones out of the active segment; the cleaner rewrites them (it may have begun already).
      await pyScript("txn.py", b.bootstrap, ["compact_rounds", topic, `${topic}-txn2`, "40", "6"]);
      await waitFor(() => readdirSync(join(b.dataDir, `${topic}-0`)).includes("cleaner-checkpoint"), 60_000, "a clean");
      // What read_committed must see: every record read_uncommitted sees but those of aborted transactions (values a<round>-...).
      const check = async () => {
        const all = await viaPython(b.bootstrap, topic, "read_uncommitted");
        await bothSee(b, topic, all.filter(([, , v]) => !v.startsWith("a")));
      };
      await check();
      await b.kill9();
      sim.powerCut({ torn: "garbage", seed: 9 });
      b = await b.restart();
      await check();
    } finally {
      await b.cleanup();
      sim.cleanup();
    }
  }, CLIENT_TEST_TIMEOUT);
});
