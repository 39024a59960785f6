// Long-lived transactional client processes for the transaction tests: a
// child that prints one JSON line per step (txn.py hold / crash_end and their
// node counterparts), read as the lines arrive.

import { join } from "node:path";
import type { Subprocess } from "bun";
import { CLIENTS, PY } from "./clients.ts";
import { collectJsonLines, waitFor } from "./run.ts";

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
