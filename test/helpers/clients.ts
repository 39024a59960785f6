// The real Kafka clients the interop tests drive, as child processes:
//   kcat and confluent-kafka-python (Debian, librdkafka 2.0.2),
//   KafkaJS 2.2.4 and @confluentinc/kafka-javascript (librdkafka 2.15) from
//   test/clients/node_modules, run under node (the latter is a native addon
//   built for node's ABI, not Bun's).
// Outside CI a missing client skips the tests that need it, with a note; with
// CI=true (or KLITE_REQUIRE_CLIENTS=1) nothing is skipped, so a missing client
// fails loudly instead of passing quietly.

import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./broker.ts";
import { runJson, runOk, type RunOptions } from "./run.ts";

export const CLIENTS = join(ROOT, "test/clients");
/** Debian's python: `python3` on PATH may be another one that cannot import confluent_kafka. */
export const PY = "/usr/bin/python3";

export type Client = "kcat" | "python" | "kafkajs" | "ckjs";

const probes: Record<Client, () => boolean> = {
  kcat: () => Bun.which("kcat") !== null,
  python: () => existsSync(PY) && Bun.spawnSync([PY, "-c", "import confluent_kafka"], { stdout: "ignore", stderr: "ignore" }).exitCode === 0,
  kafkajs: () => Bun.which("node") !== null && existsSync(join(CLIENTS, "node_modules/kafkajs/package.json")),
  ckjs: () => Bun.which("node") !== null && existsSync(join(CLIENTS, "node_modules/@confluentinc/kafka-javascript/package.json")),
};
const known = new Map<Client, boolean>();

export function available(c: Client): boolean {
  let ok = known.get(c);
  if (ok === undefined) {
    ok = probes[c]();
    known.set(c, ok);
  }
  return ok;
}

const REQUIRED = process.env.CI === "true" || process.env.KLITE_REQUIRE_CLIENTS === "1";
const noted = new Set<Client>();

/** True when a test needing these clients should be skipped (never under CI). Use with test.skipIf. */
export function missing(...clients: Client[]): boolean {
  if (REQUIRED) return false;
  const gone = clients.filter((c) => !available(c));
  for (const c of gone) {
    if (noted.has(c)) continue;
    noted.add(c);
    console.warn(`[klite tests] skipping tests that need ${c}: not installed (run \`npm test\` as root once, or see README "Running the tests")`);
  }
  return gone.length > 0;
}

const CLIENT_TIMEOUT = 120_000;
/** Per-test timeout for tests that drive real clients (`bun test`'s default is 5 s). */
export const CLIENT_TEST_TIMEOUT = 180_000;

/** kcat with the given arguments; resolves to its stdout. */
export function kcat(args: string[], opts: RunOptions = {}): Promise<string> {
  return runOk(["kcat", ...args], { timeoutMs: CLIENT_TIMEOUT, ...opts });
}

/** A script in test/clients/py under Debian's python: `script BOOTSTRAP ARGS...` → its JSON. */
export function py<T = any>(script: string, bootstrap: string, args: string[], opts: RunOptions = {}): Promise<T> {
  return runJson<T>([PY, join(CLIENTS, "py", script), bootstrap, ...args], { timeoutMs: CLIENT_TIMEOUT, ...opts });
}

/**
 * A script in test/clients/platformatic under bun: @platformatic/kafka is a
 * root dev dependency (pure JavaScript, always installed) that wants a newer
 * node than Debian's, and it has the admin APIs the other clients lack.
 */
export function platformatic<T = any>(script: string, bootstrap: string, args: string[], opts: RunOptions = {}): Promise<T> {
  return runJson<T>([process.execPath, join(CLIENTS, "platformatic", script), bootstrap, ...args], { timeoutMs: CLIENT_TIMEOUT, ...opts });
}

/** A script in test/clients/<dir> under node, from test/clients so its node_modules resolve. */
export function nodeClient<T = any>(dir: "kafkajs" | "ckjs", script: string, bootstrap: string, args: string[], opts: RunOptions = {}): Promise<T> {
  return runJson<T>(["node", join(CLIENTS, dir, script), bootstrap, ...args], { cwd: CLIENTS, timeoutMs: CLIENT_TIMEOUT, ...opts });
}

/** The current librdkafka as @confluentinc/kafka-javascript builds it (headers and shared library). */
const CKJS_LIBRDKAFKA = join(CLIENTS, "node_modules/@confluentinc/kafka-javascript/build/deps");
const compiled = new Map<string, string>();

/**
 * A C program in test/clients/c linked against that librdkafka (2.15), for
 * admin calls its JavaScript binding does not expose. Compiled once per test
 * process into a temporary directory.
 */
export function rdkafkaC<T = any>(program: string, bootstrap: string, args: string[], opts: RunOptions = {}): Promise<T> {
  return runJson<T>([compileRdkafkaC(program), bootstrap, ...args], { timeoutMs: CLIENT_TIMEOUT, ...opts });
}

/** The path of test/clients/c/<program>.c compiled against librdkafka 2.15 (once per test process), for tests that drive it themselves. */
export function compileRdkafkaC(program: string): string {
  let binary = compiled.get(program);
  if (!binary) {
    binary = join(mkdtempSync(join(tmpdir(), "klite-c-")), program);
    const source = join(CLIENTS, "c", `${program}.c`);
    const cc = Bun.spawnSync(["cc", "-O1", "-Wall", "-o", binary, source, "-I", join(CKJS_LIBRDKAFKA, "include"), "-L", CKJS_LIBRDKAFKA, "-l:librdkafka.so.1", `-Wl,-rpath,${CKJS_LIBRDKAFKA}`], { stderr: "pipe" });
    if (cc.exitCode !== 0) throw new Error(`compiling ${source} failed:\n${cc.stderr.toString()}`);
    compiled.set(program, binary);
  }
  return binary;
}
