// What startup does to a data dir: it finishes deletes a crash interrupted
// (only directories with klite's `-delete` names), leaves every other unknown
// directory alone with a warning, and reports each recovery action (cut
// bytes, rebuilt indexes) at WARN with the partition and offsets.

import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { crashSim } from "../helpers/crash-sim.ts";
import { spawnBroker } from "../helpers/broker.ts";
import { CLIENT_TEST_TIMEOUT, kcat, missing, py as pyScript } from "../helpers/clients.ts";

const py = (bootstrap: string, ...args: string[]) => pyScript("core.py", bootstrap, args);

describe.concurrent("startup", () => {
  test.skipIf(missing("python"))("deleted topics go through a -delete name; a power cut after the delete leaves them to startup, which removes only those", async () => {
    const sim = crashSim();
    let b = await sim.spawn();
    try {
      expect(await py(b.bootstrap, "admin", "create", "keep", "gone")).toEqual({ keep: "ok", gone: "ok" });
      expect((await py(b.bootstrap, "produce", "keep", "30", "none", "3")).delivered).toHaveLength(30);
      expect((await py(b.bootstrap, "produce", "gone", "30", "none", "3")).delivered).toHaveLength(30);
      expect(await py(b.bootstrap, "admin", "delete", "gone")).toEqual({ gone: "ok" });
      expect(readdirSync(sim.dataDir).filter((d) => d.startsWith("gone"))).toEqual([]);

      // Each rename is fsynced, a removal only with the next rename's fsync: after a power cut
      // the last partition's data is back, under its -delete name.
      await b.kill9();
      sim.powerCut({ torn: "drop" });
      const leftovers = readdirSync(sim.dataDir).filter((d) => d.startsWith("gone"));
      expect(leftovers.length).toBeGreaterThan(0);
      for (const d of leftovers) expect(d).toMatch(/^gone-[0-2]\.[0-9a-f]{32}-delete$/);
      // Not klite's (put there by hand while it was down): one named like a partition of no topic, one like nothing klite makes.
      for (const d of ["unrelated-0", "notes"]) {
        mkdirSync(join(sim.dataDir, d));
        writeFileSync(join(sim.dataDir, d, "precious"), "mine");
      }

      b = await sim.spawn();
      expect(readdirSync(sim.dataDir).filter((d) => d.startsWith("gone"))).toEqual([]);
      for (const d of ["unrelated-0", "notes"]) expect(readFileSync(join(sim.dataDir, d, "precious"), "utf8")).toBe("mine");
      const err = b.stderr();
      for (const d of leftovers) expect(err).toContain(`WARN removing ${join(sim.dataDir, d)}: a deleted partition`);
      expect(err).toContain(`WARN leaving ${join(sim.dataDir, "unrelated-0")} alone`);
      expect(err).toContain(`WARN leaving ${join(sim.dataDir, "notes")} alone`);
      expect(await py(b.bootstrap, "admin", "list")).toEqual(["keep"]);
      expect((await py(b.bootstrap, "offsets_for_times", "keep", "1", "0")).high).toBe(10);

      // A topic created over a directory of its name starts empty: the old one goes the -delete way.
      expect(await py(b.bootstrap, "admin", "create", "unrelated")).toEqual({ unrelated: "ok" });
      expect(b.stderr()).toContain(`WARN removing ${join(sim.dataDir, "unrelated-0")} to create partition 0 of topic unrelated`);
      expect(existsSync(join(sim.dataDir, "unrelated-0", "precious"))).toBe(false);
      expect((await py(b.bootstrap, "offsets_for_times", "unrelated", "0", "0")).high).toBe(0);
    } finally {
      await b.cleanup();
      sim.cleanup();
    }
  }, CLIENT_TEST_TIMEOUT);

  test.skipIf(missing("kcat"))("recovery logs a cut torn tail and rebuilt indexes at WARN with the partition and offsets", async () => {
    let b = await spawnBroker({ args: ["--segment-bytes", "2000"] });
    try {
      for (let i = 0; i < 4; i++) {
        const lines = Array.from({ length: 10 }, (_, j) => `k${i * 10 + j}:${"v".repeat(100)}`).join("\n") + "\n";
        await kcat(["-b", b.bootstrap, "-P", "-t", "logged", "-K:"], { stdin: lines });
      }
      await b.kill9();
      const dir = join(b.dataDir, "logged-0");
      const logs = readdirSync(dir).filter((f) => f.endsWith(".log")).sort();
      expect(logs.length).toBeGreaterThan(1);
      // The first segment loses its indexes; the active one gets a torn batch header at its end.
      unlinkSync(join(dir, logs[0]!.replace(".log", ".index")));
      writeFileSync(join(dir, logs.at(-1)!), new Uint8Array(20).fill(7), { flag: "a" });
      b = await b.restart();
      const err = b.stderr();
      expect(err).toMatch(new RegExp(`WARN recovery of ${dir}: segment ${logs[0]!.replace(".log", "")}: indexes missing or damaged; rebuilt them from the log \\(offsets 0 to \\d+\\)`));
      expect(err).toMatch(new RegExp(`WARN recovery of ${dir}: segment ${logs.at(-1)!.replace(".log", "")}: 20 trailing bytes at \\d+ are not a whole batch header; cut 20 bytes, the log now ends at offset 40`));
      expect(existsSync(join(dir, logs[0]!.replace(".log", ".index")))).toBe(true);
      const out = await kcat(["-b", b.bootstrap, "-C", "-t", "logged", "-e", "-f", "%o\n"]);
      expect(out.trim().split("\n")).toHaveLength(40);
    } finally {
      await b.cleanup();
    }
  }, CLIENT_TEST_TIMEOUT);
});
