// The recovery-point checkpoint with a real broker process: after a clean
// shutdown startup checks nothing; after kill -9 only what lies past each
// partition's recovery point (Kafka's recovery-point-offset-checkpoint in the
// data dir), each check logged at WARN; a new leader epoch begins either way
// only after the crash.

import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { spawnBroker } from "../helpers/broker.ts";
import { CLIENT_TEST_TIMEOUT, missing, py } from "../helpers/clients.ts";
import { waitFor } from "../helpers/run.ts";

test.skipIf(missing("python"))(
  "a clean restart scans nothing; a restart after kill -9 checks only past the recovery point",
  async () => {
    let b = await spawnBroker({ args: ["--default-partitions", "2"] });
    try {
      expect((await py<{ delivered: unknown[] }>("core.py", b.bootstrap, ["produce", "rp", "200", "none", "2"])).delivered).toHaveLength(200);
      b = await b.restart();
      const checkpoint = join(b.dataDir, "recovery-point-offset-checkpoint");
      expect(readFileSync(checkpoint, "utf8").split("\n").slice(0, 4)).toEqual(["0", "2", "rp 0 100", "rp 1 100"]);
      expect(b.stderr()).not.toContain("recovery of");

      // 50 more per partition, then wait for the periodic checkpoint to take them in (group commit: they are durable).
      expect((await py<{ delivered: unknown[] }>("core.py", b.bootstrap, ["produce", "rp", "100", "none", "2"])).delivered).toHaveLength(100);
      await waitFor(() => readFileSync(checkpoint, "utf8").includes("rp 1 150"), 20_000, "the recovery points to reach 150");
      expect((await py<{ delivered: unknown[] }>("core.py", b.bootstrap, ["produce", "rp", "20", "none", "2"])).delivered).toHaveLength(20);
      await b.kill9();
      b = await b.restart();
      const err = b.stderr();
      for (const p of [0, 1]) {
        expect(err).toMatch(new RegExp(`rp-${p}: segment 0+: checked offsets 150 to 159 \\(past the recovery point 150\\)`));
        expect(err).toContain(`rp-${p}: no clean shutdown, leader epoch 1 starts at offset 160`);
      }
      const { high } = await py<{ high: number }>("core.py", b.bootstrap, ["offsets_for_times", "rp", "1", "0"]);
      expect(high).toBe(160);
    } finally {
      await b.cleanup();
    }
  },
  CLIENT_TEST_TIMEOUT,
);
