#!/usr/bin/env node
// `npx klite ...` / `bunx klite ...`: the klite command on the Bun runtime.
// Under Bun it runs in this process; under Node it runs Bun (the `bun`
// package's binary, or `bun` on PATH) on src/main.ts, passing signals on and
// exiting with its code.

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { findBun } from "../src/start/find-bun.mjs";

const main = fileURLToPath(new URL("../src/main.ts", import.meta.url));
if (process.versions.bun) {
  await import(main);
} else {
  const child = spawn(findBun(), [main, ...process.argv.slice(2)], { stdio: "inherit" });
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => child.kill(sig));
  child.on("error", (e) => {
    console.error(`klite: cannot run Bun (${e.message}); install it (npm i -D bun) or put it on PATH`);
    process.exit(1);
  });
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 + 1 : 1)));
}
