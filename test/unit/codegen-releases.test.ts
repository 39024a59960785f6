// The generator runs cleanly over every Kafka release we carry schemas for,
// and what it produces type-checks; --check notices a hand edit.

import { expect, test } from "bun:test";
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync, readFileSync, appendFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { generate } from "../../codegen/generate.ts";

const ROOT = resolve(import.meta.dir, "../..");
const SCHEMAS = resolve(ROOT, "../shared/kafka-message-schemas");
const RELEASES = ["3.9", "4.0", "4.1", "4.2", "4.3"];

test("codegen output for 3.9 and 4.0-4.3 type-checks", () => {
  const dir = mkdtempSync(join(tmpdir(), "klite-gen-"));
  try {
    symlinkSync(join(ROOT, "src"), join(dir, "src"));
    const include: string[] = [];
    for (const rel of RELEASES) {
      const out = join(dir, `r${rel.replace(".", "_")}`, "generated");
      mkdirSync(out, { recursive: true });
      symlinkSync(join(ROOT, "src"), join(dir, `r${rel.replace(".", "_")}`, "src"));
      const files = generate(join(SCHEMAS, rel));
      expect(files.size).toBeGreaterThan(150);
      expect(files.get("index.ts")).toContain(`KAFKA_RELEASE = "${rel}"`);
      for (const [f, text] of files) writeFileSync(join(out, f), text);
      include.push(`r${rel.replace(".", "_")}/generated`);
    }
    writeFileSync(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ESNext",
          module: "Preserve",
          moduleResolution: "bundler",
          lib: ["ESNext", "DOM"],
          // The runtime support code uses Bun's globals (Buffer).
          types: ["bun"],
          typeRoots: [join(ROOT, "node_modules/@types")],
          strict: true,
          allowImportingTsExtensions: true,
          verbatimModuleSyntax: true,
          noEmit: true,
          skipLibCheck: true,
        },
        include,
      }),
    );
    const tsc = Bun.spawnSync([join(ROOT, "node_modules/.bin/tsc"), "-p", join(dir, "tsconfig.json")], { cwd: dir });
    const out = tsc.stdout.toString() + tsc.stderr.toString();
    if (tsc.exitCode !== 0) console.error(out.slice(0, 4000));
    expect(tsc.exitCode).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 180_000);

test("generated code carries no upstream prose", () => {
  // Spot-check a distinctive `about` sentence and a schema comment.
  const produce = readFileSync(join(ROOT, "generated/ProduceRequest.ts"), "utf8");
  expect(produce).not.toContain("The number of acknowledgments");
  expect(produce).not.toContain("KAFKA-18659");
  expect(produce).not.toContain("Licensed to the Apache");
});

test("codegen --check fails when generated/ was edited by hand", () => {
  const dir = mkdtempSync(join(tmpdir(), "klite-check-"));
  try {
    const schemas = join(SCHEMAS, "4.3");
    const run = (args: string[]) => Bun.spawnSync([process.execPath, join(ROOT, "codegen/main.ts"), ...args], { cwd: ROOT });
    expect(run(["--schemas", schemas, "--out", dir]).exitCode).toBe(0);
    expect(run(["--check", "--schemas", schemas, "--out", dir]).exitCode).toBe(0);
    appendFileSync(join(dir, "FetchRequest.ts"), "\n// edited\n");
    const r = run(["--check", "--schemas", schemas, "--out", dir]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr.toString()).toContain("differs: FetchRequest.ts");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
