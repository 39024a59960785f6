// The `klite` command: subcommands for topics, producing, consuming, groups
// and benchmarks, and the broker itself (`klite serve`, or bare `klite` with
// broker flags). Exit codes: 0 ok, 1 failure, 2 usage.

import { KafkaError } from "../client/errors.ts";
import { UsageError, helpFor, parseArgs } from "./args.ts";
import { benchCommands } from "./bench.ts";
import type { Command } from "./command.ts";
import { consumeCommand } from "./consume.ts";
import { groupCommands } from "./group.ts";
import { mirrorCommand } from "./mirror.ts";
import { Output } from "./output.ts";
import { produceCommand } from "./produce.ts";
import { serve, serveHelp } from "./serve.ts";
import { topicCommands } from "./topic.ts";
import { VERSION_LINE } from "./version.ts";

const COMMANDS: Command[] = [...topicCommands, produceCommand, consumeCommand, ...groupCommands, mirrorCommand, ...benchCommands];

function overview(): string {
  const lines = ["usage: klite COMMAND [options]", "", "commands:"];
  lines.push(`  ${"serve".padEnd(22)} run the broker (also what bare \`klite\` with broker flags does)`);
  for (const c of COMMANDS) lines.push(`  ${c.spec.name.padEnd(22)} ${c.spec.summary.split(/(?<=\.) /)[0]}`);
  lines.push(`  ${"help COMMAND".padEnd(22)} options of a command`);
  lines.push(`  ${"--version".padEnd(22)} print the version`);
  lines.push("", "Tools reach the brokers given by -b/--bootstrap (default localhost:9092).", "", serveHelp());
  return lines.join("\n");
}

/** The command named by the first words of argv, and the words left after its name. */
function find(argv: readonly string[]): { cmd: Command; rest: string[] } | null {
  for (const c of COMMANDS) {
    const words = c.spec.name.split(" ");
    if (words.every((w, i) => argv[i] === w)) return { cmd: c, rest: argv.slice(words.length) };
  }
  return null;
}

function help(topic: readonly string[]): string {
  if (topic.length === 0) return overview();
  if (topic[0] === "serve") return serveHelp();
  const hit = find(topic);
  if (hit) return helpFor(hit.cmd.spec);
  const family = COMMANDS.filter((c) => c.spec.name.startsWith(topic[0] + " "));
  if (family.length) return [`usage: klite ${topic[0]} SUBCOMMAND [options]`, "", ...family.map((c) => `  ${c.spec.name.padEnd(22)} ${c.spec.summary.split(/(?<=\.) /)[0]}`)].join("\n");
  throw new UsageError(`no such command: ${topic.join(" ")}`);
}

export async function main(argv: string[]): Promise<number> {
  const out = new Output();
  let label = "klite";
  try {
    const first = argv[0];
    if (first === "--version" || first === "-V" || first === "version") {
      out.line(VERSION_LINE);
      return 0;
    }
    if (first === "help" || first === "--help" || first === "-h") {
      out.line(help(argv.slice(1)));
      return 0;
    }
    if (first === undefined || first === "serve" || first.startsWith("-")) {
      const rest = first === "serve" ? argv.slice(1) : argv;
      label = "klite serve";
      if (rest.includes("--help") || rest.includes("-h")) {
        out.line(serveHelp());
        return 0;
      }
      if (rest.includes("--version") || rest.includes("-V")) {
        out.line(VERSION_LINE);
        return 0;
      }
      return await serve(rest);
    }
    const hit = find(argv);
    if (!hit) {
      const family = COMMANDS.filter((c) => c.spec.name.startsWith(first + " "));
      if (family.length) throw new UsageError(`${first}: expected one of ${family.map((c) => c.spec.name.split(" ")[1]).join(", ")}${argv[1] ? `, got ${argv[1]}` : ""}`);
      throw new UsageError(`unknown command ${first} (see klite help)`);
    }
    label = `klite ${hit.cmd.spec.name}`;
    if (hit.rest.includes("--help") || hit.rest.includes("-h")) {
      out.line(helpFor(hit.cmd.spec));
      return 0;
    }
    return await hit.cmd.run(parseArgs(hit.cmd.spec, hit.rest), out);
  } catch (e) {
    // Whoever reads our output stopped (`klite consume t | head`): that ends the command, it is not a failure.
    if ((e as { code?: string }).code === "EPIPE") return 0;
    if (e instanceof UsageError) {
      console.error(`${label}: ${e.message}`);
      return 2;
    }
    const msg = e instanceof KafkaError ? e.message : e instanceof Error ? e.message : String(e);
    console.error(`${label}: ${msg.split("\n")[0]}`);
    return 1;
  } finally {
    await out.flush().catch(() => {});
  }
}
