// The crash simulator sees a missing fsync: the same acks=all produce loses
// acknowledged records after a simulated power cut when the segment fsync is
// skipped (a test-only fault rule), and loses nothing when it runs.

import { describe, expect, test } from "bun:test";
import { crashSim } from "../helpers/crash-sim.ts";
import { CLIENT_TEST_TIMEOUT, missing, py as pyScript } from "../helpers/clients.ts";

const py = (bootstrap: string, ...args: string[]) => pyScript("core.py", bootstrap, args);

type Delivered = { partition: number; offset: number; key: string };

/** Produces n records acks=all to a new 3-partition topic, power-cuts, restarts; returns what was acknowledged and what is left. */
async function produceCutRestart(topic: string, n: number, faults: string[]) {
  const sim = crashSim();
  try {
    sim.setFaults(faults);
    let b = await sim.spawn();
    try {
      expect(await py(b.bootstrap, "admin", "create", topic)).toEqual({ [topic]: "ok" });
      const r = await py(b.bootstrap, "produce", topic, String(n), "none", "3", "true");
      expect(r.unflushed).toBe(0);
      const delivered: Delivered[] = r.delivered;
      expect(delivered.filter((d) => "error" in d)).toEqual([]);
      await b.kill9();
      const cut = sim.powerCut({ torn: "garbage", seed: 7 });
      sim.setFaults([]);
      b = await sim.spawn();
      const kept: Delivered[] = [];
      for (const p of [0, 1, 2]) {
        const { high } = await py(b.bootstrap, "offsets_for_times", topic, String(p), "0");
        const got: { offset: number; key: string }[] = high > 0 ? await py(b.bootstrap, "consume", topic, String(p), "0", String(high)) : [];
        for (const m of got) kept.push({ partition: p, offset: m.offset, key: m.key });
      }
      return { delivered, kept, cut, stderr: b.stderr() };
    } finally {
      await b.cleanup();
    }
  } finally {
    sim.cleanup();
  }
}

const key = (d: Delivered) => `${d.partition}/${d.offset}/${d.key}`;

describe.concurrent("crash simulator", () => {
  test.skipIf(missing("python"))("with the segment fsync skipped, acknowledged records are lost after a power cut", async () => {
    const { delivered, kept, cut } = await produceCutRestart("nosync", 300, ["sync skip .log"]);
    const present = new Set(kept.map(key));
    const lost = delivered.filter((d) => !present.has(key(d)));
    console.log(`segment fsync skipped: ${lost.length} of ${delivered.length} acknowledged records lost in the power cut`);
    expect(lost.length).toBeGreaterThan(0);
    // The segment files were cut back: unsynced bytes went.
    expect(cut.files.some((f) => f.path.endsWith(".log") && f.durable < f.before)).toBe(true);
  }, CLIENT_TEST_TIMEOUT);

  test.skipIf(missing("python"))("with every fsync in place, the same power cut loses nothing acknowledged", async () => {
    const { delivered, kept } = await produceCutRestart("synced", 300, []);
    const present = new Set(kept.map(key));
    expect(delivered.filter((d) => !present.has(key(d)))).toEqual([]);
    expect(kept).toHaveLength(delivered.length);
  }, CLIENT_TEST_TIMEOUT);
});
