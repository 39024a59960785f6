// startBroker() under Node (Jest, Vitest, node:test): the broker runs as a
// child process on the Bun binary, `klite serve` on a free port, and this
// resolves once it prints its listening line (topics already created). It
// keeps its data in memory unless given a data dir, so nothing touches the
// disk. The child shuts down when its stdin closes, so it never outlives the
// test process even when that one is killed; stop() and process exit stop it too.

import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { findBun } from "./find-bun.mjs";
import { brokerFlags } from "./flags.mjs";

const MAIN = resolve(fileURLToPath(import.meta.url), "../../main.ts");
const LISTENING = /listening on (\S+):(\d+)/;

/** @type {Set<import("node:child_process").ChildProcess>} */
const live = new Set();
process.on("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

/**
 * @param {import("./types.d.ts").StartOptions} [options]
 * @returns {Promise<import("./types.d.ts").KliteBroker>}
 */
export async function startBroker(options = {}) {
  const dataDir = options.dataDir ?? ":memory:";
  const child = spawn(findBun(), [MAIN, "serve", ...brokerFlags(options, dataDir), "--stop-with-stdin"], { stdio: ["pipe", "pipe", "inherit"] });
  live.add(child);
  const exited = new Promise((res) => child.once("exit", (code, signal) => res(code ?? signal)));
  let out = "";
  const port = await new Promise((res, rej) => {
    child.once("error", (e) => rej(new Error(`klite startBroker: cannot run Bun (${e.message}); install the bun package (npm i -D bun) or put bun on PATH`)));
    child.stdout.on("data", (d) => {
      out += d;
      const m = LISTENING.exec(out);
      if (m) res(Number(m[2]));
    });
    exited.then((code) => rej(new Error(`klite exited (${code}) before listening: ${out.trim()}`)));
  }).catch((e) => {
    live.delete(child);
    throw e;
  });
  // Once it runs, the broker does not keep this process alive: a test runner exits when its tests are done.
  child.unref();
  for (const s of [child.stdin, child.stdout]) /** @type {any} */ (s).unref?.();
  const host = options.host ?? "127.0.0.1";
  /** @type {Promise<void> | null} */
  let stopping = null;
  return {
    bootstrap: `${host.includes(":") ? `[${host}]` : host}:${port}`,
    host,
    port,
    dataDir,
    mode: "child-process",
    pid: child.pid ?? -1,
    stop() {
      stopping ??= (async () => {
        // Waiting for its exit must keep this process alive again.
        child.ref();
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        await exited;
        live.delete(child);
      })();
      return stopping;
    },
  };
}
