// `import { startBroker } from "klite"` as a user's project sees it: a temp
// project whose node_modules holds klite (a link to this checkout, resolved
// through package.json `exports`) and the client libraries; its test scripts
// run under node (broker in a child process on the Bun binary) and under bun
// (broker in process). The broker keeps its data in memory: each script runs
// in an empty working directory with an empty TMPDIR, both checked to stay
// empty. After stop() no broker process remains.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { ROOT, tempDir } from "../helpers/broker.ts";
import { CLIENTS, CLIENT_TEST_TIMEOUT, missing } from "../helpers/clients.ts";
import { run, runJson, waitFor } from "../helpers/run.ts";

let project: string;
beforeAll(() => {
  project = tempDir("klite-user-project-");
  mkdirSync(join(project, "node_modules/@confluentinc"), { recursive: true });
  symlinkSync(ROOT, join(project, "node_modules/klite"));
  symlinkSync(join(CLIENTS, "node_modules/kafkajs"), join(project, "node_modules/kafkajs"));
  symlinkSync(join(CLIENTS, "node_modules/@confluentinc/kafka-javascript"), join(project, "node_modules/@confluentinc/kafka-javascript"));
  cpSync(join(CLIENTS, "start"), project, { recursive: true });
});
afterAll(() => {
  rmSync(project, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Summary {
  mode: string;
  pid: number;
  dataDir: string;
  bootstrap: string;
  seen: string[];
  topics?: { name: string; partitions: number }[];
  retention?: string;
}

const TEN = Array.from({ length: 10 }, (_, i) => `v${i}`).sort();

/** An empty working directory and TMPDIR for a script; `gone` checks the broker left nothing there. */
function scratch(): { cwd: string; env: Record<string, string>; dirs: string[] } {
  const cwd = tempDir("klite-user-cwd-");
  const tmp = tempDir("klite-user-tmp-");
  // Bun's transpiler cache would otherwise write to the cache directory, which is not the broker's doing.
  return { cwd, env: { TMPDIR: tmp, BUN_RUNTIME_TRANSPILER_CACHE_PATH: "0" }, dirs: [cwd, tmp] };
}

async function expectGone(s: Summary, where: { dirs: string[] }, runnerPid?: number): Promise<void> {
  if (s.mode === "child-process") {
    expect(s.pid).not.toBe(runnerPid);
    await waitFor(() => !alive(s.pid), 10_000, `broker process ${s.pid} to be gone`);
  }
  expect(s.dataDir).toBe(":memory:");
  expect(where.dirs.map((d) => readdirSync(d))).toEqual(where.dirs.map(() => []));
  for (const d of where.dirs) rmSync(d, { recursive: true, force: true });
}

describe("startBroker from a user's project", () => {
  test.skipIf(missing("kafkajs"))(
    "node + KafkaJS: child process on the Bun binary, topics up front, group consume, stop",
    async () => {
      const where = scratch();
      const s = await runJson<Summary>(["node", join(project, "kafkajs.mjs")], { ...where, timeoutMs: 120_000 });
      expect(s.mode).toBe("child-process");
      expect(s.bootstrap).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(s.topics).toEqual([{ name: "orders", partitions: 2 }]);
      expect(s.retention).toBe("3600000");
      expect(s.seen).toEqual(TEN);
      await expectGone(s, where);
    },
    CLIENT_TEST_TIMEOUT,
  );

  test.skipIf(missing("kafkajs"))(
    "bun + KafkaJS: the broker runs in the same process",
    async () => {
      const where = scratch();
      const s = await runJson<Summary>([process.execPath, join(project, "kafkajs.mjs")], { ...where, timeoutMs: 120_000 });
      expect(s.mode).toBe("in-process");
      expect(s.topics).toEqual([{ name: "orders", partitions: 2 }]);
      expect(s.retention).toBe("3600000");
      expect(s.seen).toEqual(TEN);
      await expectGone(s, where);
    },
    CLIENT_TEST_TIMEOUT,
  );

  test.skipIf(missing("ckjs"))(
    "node + @confluentinc/kafka-javascript (librdkafka 2.15): produce, group consume, stop",
    async () => {
      const where = scratch();
      const s = await runJson<Summary>(["node", join(project, "ckjs.mjs")], { ...where, timeoutMs: 120_000 });
      expect(s.mode).toBe("child-process");
      expect(s.seen).toEqual(TEN);
      await expectGone(s, where);
    },
    CLIENT_TEST_TIMEOUT,
  );

  test("node: a broker never stopped does not keep the process alive, and goes with it", async () => {
    const where = scratch();
    const r = await run(["node", join(project, "orphan.mjs")], { ...where, timeoutMs: 60_000 });
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(0);
    await expectGone(JSON.parse(r.stdout), where);
  });

  test("node killed with SIGKILL: the broker notices its stdin close and exits, leaving nothing on disk", async () => {
    const where = scratch();
    const p = Bun.spawn(["node", join(project, "orphan.mjs"), "wait"], { cwd: where.cwd, env: { ...process.env, ...where.env }, stdout: "pipe", stderr: "pipe" });
    const reader = p.stdout.getReader();
    const { value } = await reader.read();
    const s = JSON.parse(new TextDecoder().decode(value)) as Summary;
    expect(alive(s.pid)).toBe(true);
    p.kill(9);
    await p.exited;
    await waitFor(() => !alive(s.pid), 15_000, "the orphaned broker to exit");
    await expectGone(s, where);
  });
});
