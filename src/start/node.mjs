// startBroker() under Node (Jest, Vitest, node:test): the broker runs as a
// child process on the Bun binary, `klite serve` on a free port, and this
// resolves once it prints its listening line (topics already created). The
// child shuts down when its stdin closes, and removes its temporary data dir,
// so neither outlives the test process even when that one is killed; stop()
// and process exit stop it too.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { findBun } from "./find-bun.mjs";
import { brokerFlags } from "./flags.mjs";

const MAIN = resolve(fileURLToPath(import.meta.url), "../../main.ts");
const LISTENING = /listening on (\S+):(\d+)/;

/** @type {Set<{ child: import("node:child_process").ChildProcess, dir: string | null }>} */
const live = new Set();
process.on("exit", () => {
  for (const b of live) {
    b.child.kill("SIGKILL");
    if (b.dir) rmSync(b.dir, { recursive: true, force: true });
  }
});

/**
 * @param {import("./types.d.ts").StartOptions} [options]
 * @returns {Promise<import("./types.d.ts").KliteBroker>}
 */
export async function startBroker(options = {}) {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "klite-"));
  // The child removes a temporary data dir itself, so that it goes even when this process is killed.
  const own = ownDir ? ["--delete-data-dir-on-exit"] : [];
  const child = spawn(findBun(), [MAIN, "serve", ...brokerFlags(options, dataDir), "--stop-with-stdin", ...own], { stdio: ["pipe", "pipe", "inherit"] });
  const entry = { child, dir: ownDir ? dataDir : null };
  live.add(entry);
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
    live.delete(entry);
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
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
        live.delete(entry);
        if (ownDir) rmSync(dataDir, { recursive: true, force: true });
      })();
      return stopping;
    },
  };
}
