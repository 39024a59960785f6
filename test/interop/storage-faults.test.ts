// Storage faults injected through the crash simulator's fault rules: a
// failed fsync (EIO) or write (ENOSPC) of a partition is never retried as if
// the data were safe. That partition answers KAFKA_STORAGE_ERROR from then on
// (even once the disk is fine again), the others keep working, reads of what
// was durable keep working, the broker says why, and a restart brings the
// partition back with every acknowledged record.

import { describe, expect, test } from "bun:test";
import { crashSim } from "../helpers/crash-sim.ts";
import { CLIENT_TEST_TIMEOUT, missing, py as pyScript } from "../helpers/clients.ts";

// No retries: librdkafka retries KAFKA_STORAGE_ERROR, and the test wants to see the broker's answer.
const NO_RETRY = { KLITE_CLIENT_CONF: JSON.stringify({ retries: 0, "message.timeout.ms": 20000 }) };
const py = (bootstrap: string, ...args: string[]) => pyScript("core.py", bootstrap, args, { env: NO_RETRY });

type Delivery = { partition: number; offset: number; key: string } | { error: string };

/** Produces 30 records to partitions 0, 1, 2 in turn; returns the acknowledgements by partition and the errors. */
async function produce30(bootstrap: string) {
  const r = await py(bootstrap, "produce", "faulty", "30", "none", "3");
  expect(r.unflushed).toBe(0);
  const delivered: Delivery[] = r.delivered;
  const ok = delivered.filter((d): d is Exclude<Delivery, { error: string }> => !("error" in d));
  const errors = delivered.filter((d): d is { error: string } => "error" in d).map((d) => d.error);
  return { ok, errors, partitions: [...new Set(ok.map((d) => d.partition))].sort() };
}

describe("storage faults", () => {
  test.skipIf(missing("python"))("a failed fsync or write stops that partition's writes with KAFKA_STORAGE_ERROR; durable data stays readable", async () => {
    const sim = crashSim();
    let b = await sim.spawn();
    try {
      expect(await py(b.bootstrap, "admin", "create", "faulty")).toEqual({ faulty: "ok" });
      const first = await produce30(b.bootstrap);
      expect(first.ok).toHaveLength(30);

      sim.setFaults(["sync EIO faulty-1/", "write ENOSPC faulty-2/"]);
      const during = await produce30(b.bootstrap);
      expect(during.partitions).toEqual([0]);
      expect(during.errors).toHaveLength(20);
      for (const e of during.errors) expect(e).toContain("KAFKA_STORAGE_ERROR");

      // The disk is fine again, but what the failed fsync covered may be gone: no retry as if it were safe.
      sim.setFaults([]);
      const after = await produce30(b.bootstrap);
      expect(after.partitions).toEqual([0]);
      expect(after.errors).toHaveLength(20);
      for (const e of after.errors) expect(e).toContain("KAFKA_STORAGE_ERROR");

      // Reads of durable data keep working: the first ten records of each failed partition.
      for (const p of [1, 2]) {
        expect((await py(b.bootstrap, "offsets_for_times", "faulty", String(p), "0")).high).toBe(10);
        const got: { offset: number; key: string }[] = await py(b.bootstrap, "consume", "faulty", String(p), "0", "10");
        expect(got.map((m) => m.key)).toEqual(first.ok.filter((d) => d.partition === p).map((d) => d.key));
      }
      expect((await py(b.bootstrap, "offsets_for_times", "faulty", "0", "0")).high).toBe(30);
      expect(b.stderr()).toMatch(/ERROR log \S*faulty-1: fsync failed \(EIO\)/);
      expect(b.stderr()).toMatch(/ERROR log \S*faulty-2: writing failed \(ENOSPC\)/);

      // After a crash and restart the partitions take writes again, and every acknowledged record is there.
      await b.kill9();
      sim.powerCut({ torn: "garbage", seed: 5 });
      b = await sim.spawn();
      const healed = await produce30(b.bootstrap);
      expect(healed.ok).toHaveLength(30);
      const acked = [...first.ok, ...during.ok, ...after.ok, ...healed.ok];
      for (const p of [0, 1, 2]) {
        const { high } = await py(b.bootstrap, "offsets_for_times", "faulty", String(p), "0");
        const got: { offset: number; key: string }[] = await py(b.bootstrap, "consume", "faulty", String(p), "0", String(high));
        const present = new Set(got.map((m) => `${m.offset}/${m.key}`));
        expect(acked.filter((d) => d.partition === p && !present.has(`${d.offset}/${d.key}`))).toEqual([]);
      }
    } finally {
      await b.cleanup();
      sim.cleanup();
    }
  }, CLIENT_TEST_TIMEOUT);

  test.skipIf(missing("python"))("committed offsets survive a power cut; after a failed fsync of the offsets log commits are refused", async () => {
    const sim = crashSim();
    let b = await sim.spawn();
    try {
      expect(await py(b.bootstrap, "admin", "create", "offs")).toEqual({ offs: "ok" });
      expect(await py(b.bootstrap, "commit", "g1", "offs", "0", "7")).toBe("ok");
      await b.kill9();
      sim.powerCut({ torn: "garbage", seed: 9 });
      b = await sim.spawn();
      expect(await py(b.bootstrap, "committed", "g1", "offs", "0")).toBe(7);

      sim.setFaults(["sync EIO consumer-offsets.log"]);
      // As Kafka answers a failed write of its offsets topic: the client looks for the coordinator again.
      expect(await py(b.bootstrap, "commit", "g1", "offs", "0", "8")).toBe("NOT_COORDINATOR");
      // Healthy again, still refused: the failed fsync may have dropped what it covered.
      sim.setFaults([]);
      expect(await py(b.bootstrap, "commit", "g1", "offs", "1", "3")).toBe("NOT_COORDINATOR");
      // A refused commit is not what OffsetFetch answers.
      expect(await py(b.bootstrap, "committed", "g1", "offs", "0")).toBe(7);
      expect(b.stderr()).toMatch(/group log \S*consumer-offsets\.log: Error: EIO: simulated failure/);
      // Partitions are unaffected.
      expect((await py(b.bootstrap, "produce", "offs", "3", "none", "3")).delivered.filter((d: object) => "error" in d)).toEqual([]);
    } finally {
      await b.cleanup();
      sim.cleanup();
    }
  }, CLIENT_TEST_TIMEOUT);
});
