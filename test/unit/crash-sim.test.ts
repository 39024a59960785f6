// The crash simulator's own rules, on a script of file operations run in a
// child process with the simulator on: what a power cut keeps of synced,
// unsynced, overwritten, truncated, unlinked and renamed files.

import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { crashSim } from "../helpers/crash-sim.ts";

async function runOps(env: Record<string, string>, dataDir: string): Promise<void> {
  const p = Bun.spawn([process.execPath, join(import.meta.dir, "crash-sim-ops.ts"), dataDir], { env: { ...process.env, ...env }, stderr: "pipe" });
  const code = await p.exited;
  if (code !== 0) throw new Error(`crash-sim-ops failed: ${await new Response(p.stderr).text()}`);
}

const read = (dir: string, name: string) => readFileSync(join(dir, name), "utf8");

describe("crash simulator rules", () => {
  test("a power cut keeps exactly what fsyncs and directory fsyncs made durable", async () => {
    const sim = crashSim();
    try {
      await runOps(sim.env, sim.dataDir);
      expect(readdirSync(sim.dataDir).sort()).toEqual(["a", "b", "c", "d", "g", "sub"]);
      const report = sim.powerCut({ torn: "drop" });
      // Unsynced appends dropped; overwrites and a truncation of synced bytes undone.
      expect(read(sim.dataDir, "a")).toBe("hello ");
      expect(read(sim.dataDir, "b")).toBe("0123456789");
      // An atomic replacement without its directory fsync reverts to the old file.
      expect(read(sim.dataDir, "d")).toBe("v1");
      // An unlink and a rename not followed by a directory fsync are undone.
      expect(read(sim.dataDir, "e")).toBe("keep-me");
      expect(read(sim.dataDir, "f")).toBe("old-name");
      // Entries created after the last directory fsync are gone, with everything under them.
      for (const gone of ["c", "g", "sub"]) expect(existsSync(join(sim.dataDir, gone))).toBe(false);
      expect(report.vanished.sort()).toEqual(["c", "g", "sub/x"]);
      expect(report.files.find((f) => f.path === "a")).toEqual({ path: "a", before: 11, durable: 6, after: 6 });
    } finally {
      sim.cleanup();
    }
  });

  test("torn tails keep a prefix of the unsynced bytes, or end it in garbage; a second cut starts from the first", async () => {
    const sim = crashSim();
    try {
      await runOps(sim.env, sim.dataDir);
      sim.powerCut({ torn: "prefix", seed: 1 });
      const a = read(sim.dataDir, "a");
      expect(a.startsWith("hello ")).toBe(true);
      expect("hello world".startsWith(a)).toBe(true);
      // Everything left after a cut is the new durable state: a cut with nothing written since changes nothing.
      const before = readdirSync(sim.dataDir).map((n) => [n, read(sim.dataDir, n)]);
      sim.powerCut({ torn: "garbage", seed: 2 });
      expect(readdirSync(sim.dataDir).map((n) => [n, read(sim.dataDir, n)])).toEqual(before);
    } finally {
      sim.cleanup();
    }
  });

  test("a skipped fsync (fault rule) leaves the data unsynced", async () => {
    const sim = crashSim();
    try {
      sim.setFaults(["sync skip /a"]);
      await runOps(sim.env, sim.dataDir);
      sim.powerCut({ torn: "drop" });
      expect(read(sim.dataDir, "a")).toBe("");
      expect(read(sim.dataDir, "b")).toBe("0123456789");
    } finally {
      sim.cleanup();
    }
  });
});
