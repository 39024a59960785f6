// Where the Bun runtime is for Node callers: the `bun` npm package's binary
// (an optional dependency of klite), else `bun` on PATH.

import { existsSync } from "node:fs";
import { createRequire } from "node:module";

/** @returns {string} */
export function findBun() {
  if (process.versions.bun) return process.execPath;
  const require = createRequire(import.meta.url);
  try {
    const exe = require.resolve("bun/bin/bun.exe");
    if (existsSync(exe)) return exe;
  } catch {
    // not installed: fall back to PATH
  }
  return "bun";
}
