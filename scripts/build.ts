// `npm run build`: the single executable dist/klite for this machine.
// `npm run build -- --target bun-linux-arm64 [--target bun-darwin-arm64 ...]`:
// cross-compiled executables dist/klite-<target> (Bun fetches each target's
// runtime once). Any target `bun build --compile` knows works.

import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const targets: string[] = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  const v = a === "--target" ? argv[++i] : a.startsWith("--target=") ? a.slice(9) : null;
  if (!v) {
    console.error(`build: unknown argument ${a} (usage: npm run build [-- --target bun-OS-ARCH ...])`);
    process.exit(2);
  }
  targets.push(...v.split(","));
}

const builds = targets.length ? targets.map((t) => ({ target: t, out: `dist/klite-${t.replace(/^bun-/, "")}${t.includes("windows") ? ".exe" : ""}` })) : [{ target: null, out: "dist/klite" }];
for (const b of builds) {
  const cmd = [process.execPath, "build", "--compile", "--minify", ...(b.target ? [`--target=${b.target}`] : []), join(ROOT, "src/main.ts"), "--outfile", join(ROOT, b.out)];
  const p = Bun.spawnSync(cmd, { stdout: "inherit", stderr: "inherit" });
  if (p.exitCode !== 0) {
    console.error(`build: ${b.target ?? "native"} failed`);
    process.exit(1);
  }
}
