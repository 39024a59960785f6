// What a subcommand is: its declared flags and the function that runs it.

import { KafkaClient } from "../client/client.ts";
import { bootstrapOf, type CommandSpec, type Parsed } from "./args.ts";
import type { Output } from "./output.ts";

export interface Command {
  spec: CommandSpec;
  /** Resolves to the exit code. Usage mistakes throw UsageError; broker errors throw KafkaError. */
  run(p: Parsed, out: Output): Promise<number>;
}

/** Runs `fn` with a client for the command's -b/--bootstrap, and closes it. */
export async function withClient<T>(p: Parsed, fn: (c: KafkaClient) => Promise<T>): Promise<T> {
  const c = new KafkaClient(bootstrapOf(p));
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}
