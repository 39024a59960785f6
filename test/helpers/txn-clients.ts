// Long-lived transactional client processes for the transaction tests: a
// child that prints one JSON line per step (txn.py hold / crash_end and their
// node counterparts), read as the lines arrive; and what the crash tests of
// ending a transaction check afterwards.

import { expect } from "bun:test";
import { join } from "node:path";
import type { Subprocess } from "bun";
import type * as DescribeProducersResponse from "../../generated/DescribeProducersResponse.ts";
import type * as DescribeTransactionsResponse from "../../generated/DescribeTransactionsResponse.ts";
import type { SpawnedBroker } from "./broker.ts";
import { CLIENTS, PY, py as pyScript, type Client } from "./clients.ts";
import { collectJsonLines, waitFor } from "./run.ts";
import { connectWire } from "./wire-client.ts";

/** A child process whose stdout is JSON lines; line(n) waits for the n-th (0-based). */
export class LineClient {
  private readonly lines: any[] = [];
  private constructor(readonly proc: Subprocess<"pipe", "pipe", "pipe">) {
    collectJsonLines(proc.stdout, this.lines);
  }

  static spawn(cmd: string[], cwd = CLIENTS): LineClient {
    return new LineClient(Bun.spawn(cmd, { cwd, stdin: "pipe", stdout: "pipe", stderr: "pipe" }));
  }

  async line(n: number, what: string, timeoutMs = 120_000): Promise<any> {
    await waitFor(() => this.lines.length > n || this.proc.exitCode !== null, timeoutMs, what);
    if (this.lines.length <= n) throw new Error(`${what}: the client exited with ${this.proc.exitCode}: ${await new Response(this.proc.stderr).text()}`);
    return this.lines[n];
  }

  write(text: string): void {
    this.proc.stdin.write(text);
    this.proc.stdin.flush();
  }

  async kill9(): Promise<void> {
    this.proc.kill(9);
    await this.proc.exited;
  }
}

/** A confluent-kafka-python producer holding an open transaction (txn.py hold). */
export class Holder {
  private constructor(private readonly client: LineClient) {}

  static start(bootstrap: string, topic: string, partition: number, txid: string, timeoutMs: number, group: string): Holder {
    return new Holder(LineClient.spawn([PY, join(CLIENTS, "py/txn.py"), bootstrap, "hold", topic, String(partition), txid, String(timeoutMs), group]));
  }

  ready(): Promise<{ ready: boolean; delivered: { partition: number; offset: number; key: string }[] }> {
    return this.client.line(0, "the open transaction", 60_000);
  }

  /** Tells it to abort its transaction and commit another; resolves to what it delivered. */
  abortAndGoOn(): Promise<{ delivered: { partition: number; offset: number; key: string }[]; sent: Record<string, number> }> {
    this.client.write("abort\n");
    return this.client.line(1, "the abort and the next commit", 90_000);
  }

  kill9(): Promise<void> {
    return this.client.kill9();
  }
}

export const py = <T = any>(bootstrap: string, ...args: string[]) => pyScript<T>("txn.py", bootstrap, args);

/** [partition, offset, key] */
export type Rec = [number, number, string];

/** The failpoints between the steps of ending a transaction (src/txn/coordinator.ts), in order. */
export const TXN_END_POINTS = ["txn.after-prepare", "txn.after-first-marker", "txn.after-markers-written", "txn.after-markers-durable", "txn.after-complete"];

/**
 * crash_end of txn.py, ckjs/txn.mjs or kafkajs/txn.mjs: a producer whose EndTxn meets the crash.
 * `wait` (txn.py only): it waits for a line on stdin before ending the transaction and again before the next one.
 */
export function startCrashEnd(bootstrap: string, topic: string, txid: string, outcome: "commit" | "abort", client: Client = "python", wait = false): LineClient {
  const cmd = client === "python" ? [PY, join(CLIENTS, "py/txn.py")] : ["node", join(CLIENTS, client === "ckjs" ? "ckjs/txn.mjs" : "kafkajs/txn.mjs")];
  return LineClient.spawn([...cmd, bootstrap, "crash_end", topic, txid, outcome, ...(wait ? ["wait"] : [])]);
}

export async function describeProducers(port: number, topic: string): Promise<DescribeProducersResponse.ProducerState[]> {
  const c = await connectWire(port);
  try {
    const r = await c.call<DescribeProducersResponse.DescribeProducersResponse>(61, 0, { topics: [{ name: topic, partitionIndexes: [0, 1] }] });
    return r.topics[0]!.partitions.flatMap((p) => p.activeProducers);
  } finally {
    c.close();
  }
}

export async function txnState(port: number, txid: string): Promise<string> {
  const c = await connectWire(port);
  try {
    const r = await c.call<DescribeTransactionsResponse.DescribeTransactionsResponse>(65, 0, { transactionalIds: [txid] });
    return r.transactionStates[0]!.transactionState;
  } finally {
    c.close();
  }
}

export const keysOf = (rs: Rec[]) => rs.map((r) => `${r[0]}:${r[2]}`).sort();
/** crash_end's keys of the given prefixes on partitions 0 and 1. */
export const expected = (txid: string, prefixes: string[]) => [0, 1].flatMap((p) => prefixes.flatMap((x) => [0, 1, 2].map((i) => `${p}:${txid}-${x}${i}`))).sort();

/** What both isolation levels see, and that no transaction stays open anywhere. */
export async function checkAfter(b: SpawnedBroker, topic: string, txid: string, visible: string[], all: string[]): Promise<void> {
  const [committed, uncommitted] = await Promise.all([py<Rec[]>(b.bootstrap, "consume", topic, "read_committed"), py<Rec[]>(b.bootstrap, "consume", topic, "read_uncommitted")]);
  expect(keysOf(committed)).toEqual(expected(txid, visible));
  // Every record once: a marker written again after the crash would not show here, a record written twice would.
  expect(keysOf(uncommitted)).toEqual(expected(txid, all));
  const producers = await describeProducers(b.port, topic);
  expect(producers.length).toBeGreaterThan(0);
  for (const p of producers) expect(Number(p.currentTxnStartOffset)).toBe(-1);
}

/**
 * A new producer with the same transactional id commits its own a, b and c
 * (crash_end); read_committed consumers then see both a's, the earlier b
 * once more only if its transaction committed, and the new c.
 */
export async function nextProducerCommits(b: SpawnedBroker, topic: string, txid: string, earlierCommitted: boolean): Promise<void> {
  const next = startCrashEnd(b.bootstrap, topic, txid, "commit");
  try {
    await next.line(2, "a new producer's transactions");
  } finally {
    await next.kill9();
  }
  const committed = keysOf(await py<Rec[]>(b.bootstrap, "consume", topic, "read_committed"));
  const twice = (p: string) => expected(txid, [p]).flatMap((k) => [k, k]);
  expect(committed).toEqual([...twice("a"), ...(earlierCommitted ? twice("b") : expected(txid, ["b"])), ...expected(txid, ["c"])].sort());
}
