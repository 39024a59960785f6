// Writing command output: aligned text tables for people, one JSON object a
// line for scripts. Output is buffered and flushed by the caller (after each
// fetch when following a topic) so large dumps do not cost a write per line.

export type Format = "text" | "json";

export class Output {
  private readonly sink = Bun.stdout.writer();

  line(s: string): void {
    this.sink.write(s + "\n");
  }

  /** One JSON object on one line; bigints become numbers when exact, strings otherwise. */
  json(v: unknown): void {
    this.sink.write(JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? (x >= BigInt(Number.MIN_SAFE_INTEGER) && x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x.toString()) : x)) + "\n");
  }

  /** Columns padded to their widest cell; the last column is not padded. */
  table(header: readonly string[], rows: readonly (readonly (string | number | bigint)[])[]): void {
    const cells = [header, ...rows.map((r) => r.map(String))];
    const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
    for (const r of cells) this.line(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd());
  }

  async flush(): Promise<void> {
    await this.sink.flush();
  }
}
