// bun run codegen --schemas DIR [--out DIR] [--release X] [--check]
//
// Writes generated/ from a directory of Kafka message schemas; with --check,
// regenerates into memory and fails if generated/ differs from it.

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { detectRelease, generate } from "./generate.ts";

function usage(msg?: string): never {
  if (msg) console.error(`codegen: ${msg}`);
  console.error("usage: bun run codegen --schemas DIR [--out DIR] [--release X.Y] [--check]");
  process.exit(2);
}

function parseArgs(argv: string[]): { schemas: string; out: string; release?: string; check: boolean } {
  let schemas: string | undefined;
  let out = resolve(import.meta.dir, "..", "generated");
  let release: string | undefined;
  let check = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const val = (): string => argv[++i] ?? usage(`${a} needs a value`);
    if (a === "--schemas") schemas = val();
    else if (a === "--out") out = resolve(val());
    else if (a === "--release") release = val();
    else if (a === "--check") check = true;
    else if (a === "--help" || a === "-h") usage();
    else usage(`unknown argument ${a}`);
  }
  if (!schemas) usage("--schemas is required");
  if (!existsSync(schemas)) usage(`no such directory: ${schemas}`);
  return { schemas, out, release, check };
}

const args = parseArgs(process.argv.slice(2));
const release = args.release ?? detectRelease(args.schemas);
const files = generate(args.schemas, release);

if (args.check) {
  const problems: string[] = [];
  const existing = existsSync(args.out) ? readdirSync(args.out).filter((f) => f.endsWith(".ts")) : [];
  for (const f of existing) if (!files.has(f)) problems.push(`extra file ${f}`);
  for (const [f, text] of files) {
    const p = join(args.out, f);
    if (!existsSync(p)) problems.push(`missing file ${f}`);
    else if (readFileSync(p, "utf8") !== text) problems.push(`differs: ${f}`);
  }
  if (problems.length) {
    console.error(`codegen --check: generated/ is not what codegen produces from ${args.schemas} (Kafka ${release}):`);
    for (const p of problems.slice(0, 50)) console.error(`  ${p}`);
    console.error("run: bun run codegen --schemas " + args.schemas);
    process.exit(1);
  }
  console.log(`codegen --check: generated/ matches Kafka ${release} schemas (${files.size} files)`);
} else {
  mkdirSync(args.out, { recursive: true });
  for (const f of readdirSync(args.out)) if (f.endsWith(".ts") && !files.has(f)) rmSync(join(args.out, f));
  for (const [f, text] of files) writeFileSync(join(args.out, f), text);
  console.log(`codegen: wrote ${files.size} files to ${args.out} from Kafka ${release} schemas`);
}
