// Flags of the subcommands: each command declares its flags once, and that
// declaration drives parsing, defaults and `klite help COMMAND`. A usage
// mistake is a UsageError, which the dispatcher turns into one line on
// stderr and exit code 2.

export class UsageError extends Error {
  override name = "UsageError";
}

export type FlagKind = "string" | "int" | "bool" | "list";

export interface FlagSpec {
  name: string;
  short?: string;
  kind: FlagKind;
  /** Shown in help as `--name VALUE`. */
  value?: string;
  help: string;
  /** Allowed values of a string flag. */
  choices?: readonly string[];
  default?: string | number | boolean;
}

export interface CommandSpec {
  /** "topic create", "produce", ... */
  name: string;
  /** Positional arguments as shown in the usage line, e.g. "TOPIC". */
  args: string;
  summary: string;
  flags: readonly FlagSpec[];
  /** How many positional arguments: [min, max]. */
  positional: [number, number];
  /** Longer help after the flags. */
  notes?: string;
}

export type FlagValue = string | number | boolean | string[] | undefined;

export interface Parsed {
  positional: string[];
  flags: Record<string, FlagValue>;
}

export const BOOTSTRAP_FLAG: FlagSpec = {
  name: "bootstrap",
  short: "b",
  kind: "string",
  value: "HOST:PORT[,...]",
  help: "brokers to bootstrap from (default $KLITE_BOOTSTRAP or localhost:9092)",
};

export const FORMAT_FLAG: FlagSpec = { name: "format", kind: "string", value: "text|json", choices: ["text", "json"], default: "text", help: "output format; json prints one JSON object a line" };

function parseInt10(flag: string, raw: string): number {
  if (!/^-?\d+$/.test(raw)) throw new UsageError(`--${flag}: not an integer: ${raw}`);
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new UsageError(`--${flag}: out of range: ${raw}`);
  return n;
}

export function parseArgs(spec: CommandSpec, argv: readonly string[]): Parsed {
  const flags: Record<string, FlagValue> = {};
  const positional: string[] = [];
  const find = (name: string, short: boolean) => spec.flags.find((f) => (short ? f.short === name : f.name === name));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positional.push(...argv.slice(i + 1));
      break;
    }
    let f: FlagSpec | undefined;
    let inline: string | undefined;
    let negated = false;
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq > 0 ? arg.slice(eq + 1) : undefined;
      f = find(name, false);
      if (!f && name.startsWith("no-")) {
        f = find(name.slice(3), false);
        negated = f?.kind === "bool";
        if (!negated) f = undefined;
      }
      if (!f) throw new UsageError(`unknown option --${name}`);
    } else if (arg.startsWith("-") && arg.length > 1 && !/^-\d/.test(arg)) {
      f = find(arg.slice(1, 2), true);
      if (!f) throw new UsageError(`unknown option ${arg}`);
      if (arg.length > 2) inline = arg.slice(2);
    } else {
      positional.push(arg);
      continue;
    }
    if (f.kind === "bool") {
      if (inline !== undefined && !["true", "false"].includes(inline)) throw new UsageError(`--${f.name}: expected true or false, got ${inline}`);
      flags[f.name] = negated ? false : inline !== "false";
      continue;
    }
    const raw = inline ?? argv[++i];
    if (raw === undefined) throw new UsageError(`--${f.name} needs a value`);
    if (f.choices && !f.choices.includes(raw)) throw new UsageError(`--${f.name}: expected one of ${f.choices.join(", ")}, got ${raw}`);
    if (f.kind === "int") flags[f.name] = parseInt10(f.name, raw);
    else if (f.kind === "list") flags[f.name] = [...((flags[f.name] as string[] | undefined) ?? []), raw];
    else flags[f.name] = raw;
  }
  for (const f of spec.flags) if (flags[f.name] === undefined && f.default !== undefined) flags[f.name] = f.default;
  const [min, max] = spec.positional;
  if (positional.length < min) throw new UsageError(`missing ${spec.args.split(" ").slice(positional.length).join(" ") || "argument"}`);
  if (positional.length > max) throw new UsageError(`unexpected argument ${positional[max]}`);
  return { positional, flags };
}

/** The bootstrap list: the flag, else $KLITE_BOOTSTRAP, else localhost:9092. */
export function bootstrapOf(p: Parsed): string {
  return (p.flags.bootstrap as string | undefined) ?? process.env.KLITE_BOOTSTRAP ?? "localhost:9092";
}

export function helpFor(spec: CommandSpec): string {
  const lines = [`usage: klite ${spec.name}${spec.args ? " " + spec.args : ""} [options]`, "", spec.summary];
  if (spec.flags.length > 0) {
    lines.push("", "options:");
    for (const f of spec.flags) {
      const names = (f.short ? `-${f.short}, ` : "    ") + `--${f.name}` + (f.kind === "bool" ? "" : ` ${f.value ?? "VALUE"}`);
      lines.push(`  ${names.padEnd(34)} ${f.help}${f.kind === "list" ? " (repeatable)" : ""}`);
    }
  }
  if (spec.notes) lines.push("", spec.notes);
  return lines.join("\n");
}

/** Parses `k=v` pairs (configs, headers). */
export function keyValues(flag: string, items: readonly string[] | undefined): [string, string][] {
  return (items ?? []).map((s) => {
    const eq = s.indexOf("=");
    if (eq <= 0) throw new UsageError(`--${flag}: expected KEY=VALUE, got ${s}`);
    return [s.slice(0, eq), s.slice(eq + 1)];
  });
}

/** ISO 8601 date-time (or epoch milliseconds) to milliseconds. */
export function parseTime(flag: string, s: string): number {
  if (/^\d{10,}$/.test(s)) return Number(s);
  const t = Date.parse(s);
  if (!Number.isFinite(t)) throw new UsageError(`--${flag}: not an ISO 8601 date-time or epoch milliseconds: ${s}`);
  return t;
}
