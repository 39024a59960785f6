// Smoke test of the compiled executable (test/run.sh runs it after the
// build): start it on a free port, produce and consume with kcat, a round
// trip through its own subcommands, then SIGTERM and expect exit 0.
// usage: bun test/smoke/binary.ts [dist/klite]

import { rmSync } from "node:fs";
import { resolve } from "node:path";
import { tempDir } from "../helpers/broker.ts";
import { run, runOk } from "../helpers/run.ts";

const BIN = resolve(process.argv[2] ?? "dist/klite");
// As in the tests: a missing kcat fails under CI and is skipped (with a note) elsewhere.
const KCAT = Bun.which("kcat") !== null || process.env.CI === "true";
if (!KCAT) console.log("   note: kcat is not installed: skipping the kcat steps");

class SmokeFailure extends Error {}

/** Throws, so that the broker is still stopped and its data dir removed (below) before exiting 1. */
function fail(msg: string): never {
  throw new SmokeFailure(msg);
}

function same(what: string, got: string, want: string): void {
  if (got !== want) fail(`${what}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
  console.log(`   ok  ${what}`);
}

const dataDir = tempDir("klite-smoke-");
const broker = Bun.spawn([BIN, "--listen", "127.0.0.1:0", "--data-dir", dataDir], { stdout: "pipe", stderr: "inherit" });
try {
  const reader = broker.stdout.getReader();
  let out = "";
  let port = 0;
  const deadline = Date.now() + 30_000;
  while (!port) {
    const { value, done } = await Promise.race([reader.read(), Bun.sleep(Math.max(0, deadline - Date.now())).then(() => ({ value: undefined, done: true }))]);
    if (done) fail(`no listening line within 30 s: ${out}`);
    out += new TextDecoder().decode(value);
    const m = /listening on \S+:(\d+)/.exec(out);
    if (m) port = Number(m[1]);
  }
  reader.releaseLock();
  const b = `127.0.0.1:${port}`;
  console.log(`   ${out.trim()}`);

  same("version", (await runOk([BIN, "--version"])).split(" ")[0]!, "klite");
  if (KCAT) {
    await runOk(["kcat", "-b", b, "-P", "-t", "smoke", "-K:", "-z", "lz4"], { stdin: "k1:hello\nk2:world\n" });
    same("kcat reads what kcat wrote", await runOk(["kcat", "-b", b, "-C", "-t", "smoke", "-e", "-q", "-f", "%k=%s\n"]), "k1=hello\nk2=world\n");
  }

  same("topic create", await runOk([BIN, "topic", "create", "orders", "--partitions", "3", "-b", b]), "created topic orders with 3 partitions\n");
  await runOk([BIN, "produce", "orders", "--key-separator", ":", "-b", b], { stdin: "k1:hello\nk2:world\n" });
  const json = await runOk([BIN, "consume", "orders", "--from", "beginning", "--max", "2", "--format", "json", "-b", b]);
  const rows = json.trim().split("\n").map((l) => JSON.parse(l) as { partition: number; key: string; value: string });
  same("klite consume (json)", rows.map((r) => `${r.partition}:${r.key}:${r.value}`).join(" "), "0:k2:world 2:k1:hello");
  if (KCAT) {
    same("kcat reads what klite wrote", (await runOk(["kcat", "-b", b, "-C", "-t", "orders", "-e", "-q", "-f", "%p:%k=%s\n"])).split("\n").sort().join(" "), " 0:k2=world 2:k1=hello");
    same("klite reads what kcat wrote", await runOk([BIN, "consume", "smoke", "-b", b]), "hello\nworld\n");
  }
  await runOk([BIN, "consume", "orders", "--group", "smoke-group", "-b", b]);
  const described = await runOk([BIN, "group", "describe", "smoke-group", "-b", b]);
  same("group describe", described.split("\n")[0]!, "Group smoke-group: classic, Empty, consumer, 0 members");
  const usage = await run([BIN, "consume"]);
  same("usage error exit code", String(usage.code), "2");

  broker.kill("SIGTERM");
  same("exit code after SIGTERM", String(await broker.exited), "0");
  console.log("smoke: ok");
} catch (e) {
  console.error(`smoke: FAILED: ${e instanceof SmokeFailure ? e.message : e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
} finally {
  if (broker.exitCode === null) {
    broker.kill(9);
    await broker.exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
}
