// bun codegen/readme-tables.ts [--check]
//
// Rewrites the two generated blocks of README.md: the topic-config table (from
// src/meta/topic-config.ts) and the supported-API table (from spec/apis.json
// and the generated index of Kafka's schemas). With --check it only reports,
// and exits 1, when README.md is not what it would write.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { apis } from "../generated/index.ts";
import manifest from "../spec/apis.json";
import { TOPIC_CONFIGS } from "../src/meta/topic-config.ts";

const README = join(import.meta.dir, "..", "README.md");

const range = (min: number, max: number) => (min === max ? `${min}` : `${min}–${max}`);

export function topicConfigTable(): string {
  const rows = [...TOPIC_CONFIGS.values()]
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((d) => {
      const def = d.internal ? "unset" : d.kafkaDefault === "" ? "(empty)" : `\`${d.kafkaDefault}\``;
      const where = d.flag ? `${def}, or \`${d.flag}\`` : def;
      return `| \`${d.name}\` | ${where} | ${d.acting ? "acts" : "stored only"} | ${d.meaning} |`;
    });
  return ["| key | default | klite | meaning |", "|---|---|---|---|", ...rows].join("\n");
}

export function apiTable(): string {
  const rows = [...manifest.apis]
    .sort((a, b) => a.key - b.key)
    .map((a) => {
      const info = apis.get(a.key)!;
      const kafka = info.validVersions && info.stableMaxVersion !== null ? range(info.validVersions.min, info.stableMaxVersion) : "—";
      const advertised = "advertisedMin" in a && typeof a.advertisedMin === "number" ? ` (advertised from ${a.advertisedMin})` : "";
      return `| ${a.name} | ${a.key} | ${range(a.min, a.max)}${advertised} | ${kafka} |`;
    });
  const served = new Set(manifest.apis.map((a) => a.key));
  const notServed = [...apis.values()]
    .filter((i) => !served.has(i.apiKey) && i.validVersions !== null && i.stableMaxVersion !== null && i.listeners.includes("broker"))
    .map((i) => `${i.name} (${i.apiKey})`);
  return [
    "| API | key | klite serves | Kafka 4.3 stable |",
    "|---|---|---|---|",
    ...rows,
    "",
    `Kafka 4.3 broker APIs klite does not serve: ${notServed.join(", ")}.`,
  ].join("\n");
}

const BLOCKS: Record<string, () => string> = { "topic-configs": topicConfigTable, apis: apiTable };

/** README with every generated block rewritten; throws when a block's markers are missing. */
export function renderReadme(readme: string): string {
  let out = readme;
  for (const [name, render] of Object.entries(BLOCKS)) {
    const begin = `<!-- BEGIN GENERATED ${name}: bun codegen/readme-tables.ts -->`;
    const end = `<!-- END GENERATED ${name} -->`;
    const i = out.indexOf(begin);
    const j = out.indexOf(end);
    if (i < 0 || j < i) throw new Error(`README.md has no block ${begin} … ${end}`);
    out = out.slice(0, i + begin.length) + "\n" + render() + "\n" + out.slice(j);
  }
  return out;
}

if (import.meta.main) {
  const current = readFileSync(README, "utf8");
  const next = renderReadme(current);
  if (process.argv.includes("--check")) {
    if (next !== current) {
      console.error("README.md: the generated tables are out of date; run `bun codegen/readme-tables.ts`");
      process.exit(1);
    }
    console.log("README.md: generated tables are current");
  } else if (next !== current) {
    writeFileSync(README, next);
    console.log("README.md: generated tables rewritten");
  }
}
