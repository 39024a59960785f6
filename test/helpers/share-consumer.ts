// Drives test/clients/c/share-consumer.c (librdkafka 2.15's share consumer)
// as a child process: its JSON lines arrive as they are printed, so tests
// wait for records instead of sleeping.

import { compileRdkafkaC } from "./clients.ts";
import { collectJsonLines, waitFor } from "./run.ts";

export interface Delivery {
  p: number;
  o: number;
  dc: number;
  v: string;
}

export interface ShareConsumerProc {
  deliveries: Delivery[];
  /** Offsets (as [partition, offset]) the broker confirmed in commit mode. */
  committed: [number, number][];
  /** count mode: records and first deliveries so far. */
  counted: { n: number; first: number };
  ready(): Promise<void>;
  /** SIGTERM: the consumer closes (acknowledging what it must) and leaves. */
  stop(): Promise<void>;
  kill9(): Promise<void>;
  exited: Promise<number>;
  stderr(): string;
}

export type ShareMode = "implicit" | "accept" | "release-once" | "reject-odd" | "commit" | "stall" | "count";

export function shareConsumer(bootstrap: string, group: string, topic: string, mode: ShareMode, max?: number): ShareConsumerProc {
  const args = [compileRdkafkaC("share-consumer"), bootstrap, group, topic, mode, ...(max === undefined ? [] : [String(max)])];
  const p = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
  const lines: Record<string, unknown>[] = [];
  const deliveries: Delivery[] = [];
  const committed: [number, number][] = [];
  const counted = { n: 0, first: 0 };
  let err = "";
  (async () => {
    const d = new TextDecoder();
    for await (const c of p.stderr) err = (err + d.decode(c)).slice(-20000);
  })().catch(() => {});
  const proxy = new Proxy(lines, {
    set(target, prop, value) {
      if (prop !== "length" && typeof value === "object" && value) {
        const v = value as Record<string, unknown>;
        if ("o" in v) deliveries.push(v as unknown as Delivery);
        if (Array.isArray(v.committed)) committed.push(...(v.committed as [number, number][]));
        if (typeof v.n === "number") {
          counted.n += v.n;
          counted.first += v.first as number;
        }
      }
      return Reflect.set(target, prop, value);
    },
  });
  const done = collectJsonLines(p.stdout, proxy);
  return {
    deliveries,
    committed,
    counted,
    ready: () => waitFor(() => lines.some((l) => l.ready === true) || p.exitCode !== null, 30_000, "share consumer ready"),
    async stop() {
      if (p.exitCode === null) p.kill("SIGTERM");
      await p.exited;
      await done;
    },
    async kill9() {
      p.kill(9);
      await p.exited;
      await done;
    },
    exited: p.exited,
    stderr: () => err,
  };
}
