// Misbehaving peers over raw TCP, and a well-behaved producer that measures
// how the broker treats it meanwhile. Used by the abuse tests and by
// test/bench/abuse-memory.ts (which also runs them against another checkout).

import type { Socket } from "bun";
import { readFileSync } from "node:fs";
import { connectWire, type WireClient } from "./wire-client.ts";
import { buildBatch } from "../../src/protocol/records.ts";

/** Resident set of a process in MB, from /proc. */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

export interface PeerGroup {
  /** Connections the broker has not closed yet. */
  open(): number;
  /** Bytes handed to the kernel so far, all connections together. */
  sent(): number;
  close(): void;
}

/** A request header start (Produce v9, correlation id, no client id) so the bytes look like the start of a real request. */
function frameStart(size: number): Uint8Array {
  const b = new Uint8Array(14);
  const v = new DataView(b.buffer);
  v.setInt32(0, size);
  v.setInt16(4, 0);
  v.setInt16(6, 9);
  v.setInt32(8, 1);
  v.setInt16(12, -1);
  return b;
}

async function connectMany(port: number, n: number, onOpen: (s: Socket<{ i: number }>, i: number) => void, onDrain?: (s: Socket<{ i: number }>) => void): Promise<{ sockets: Socket<{ i: number }>[]; closed: Set<number> }> {
  const closed = new Set<number>();
  const sockets: Socket<{ i: number }>[] = [];
  // In batches: thousands of simultaneous connects overflow the listen backlog.
  for (let start = 0; start < n; start += 100) {
    const batch: Promise<Socket<{ i: number }>>[] = [];
    for (let i = start; i < Math.min(n, start + 100); i++) {
      batch.push(
        Bun.connect<{ i: number }>({
          hostname: "127.0.0.1",
          port,
          data: { i },
          socket: {
            open: (s) => onOpen(s, s.data.i),
            data() {},
            drain: (s) => onDrain?.(s),
            close: (s) => void closed.add(s.data.i),
            error: (s) => void closed.add(s.data.i),
          },
        }),
      );
    }
    sockets.push(...(await Promise.all(batch)));
  }
  return { sockets, closed };
}

/**
 * `n` connections that each announce a frame of `frameBytes` and send only
 * `sendBytes` of it, as fast as the broker takes them, then hold.
 */
export async function halfSentFrames(port: number, n: number, frameBytes: number, sendBytes: number): Promise<PeerGroup> {
  const CHUNK = 256 * 1024;
  const filler = new Uint8Array(CHUNK).fill(7);
  const left = new Array<number>(n).fill(sendBytes);
  let sent = 0;
  const pump = (s: Socket<{ i: number }>) => {
    const i = s.data.i;
    while (left[i]! > 0) {
      const k = Math.min(CHUNK, left[i]!);
      const w = s.write(filler.subarray(0, k));
      if (w <= 0) return;
      left[i]! -= w;
      sent += w;
      if (w < k) return;
    }
  };
  const { sockets, closed } = await connectMany(
    port,
    n,
    (s) => {
      s.write(frameStart(frameBytes));
      left[s.data.i]! -= 10;
      pump(s);
    },
    pump,
  );
  return { open: () => n - closed.size, sent: () => sent, close: () => sockets.forEach((s) => s.end()) };
}

/** `n` connections that send nothing at all. */
export async function idleConnections(port: number, n: number): Promise<PeerGroup> {
  const { sockets, closed } = await connectMany(port, n, () => {});
  return { open: () => n - closed.size, sent: () => 0, close: () => sockets.forEach((s) => s.end()) };
}

/** One connection that sends a request one byte every `intervalMs`, for ever. */
export async function tricklingClient(port: number, intervalMs: number): Promise<PeerGroup> {
  const bytes = frameStart(1000);
  let pos = 0;
  let timer: ReturnType<typeof setInterval> | null = null;
  const { sockets, closed } = await connectMany(port, 1, (s) => {
    timer = setInterval(() => {
      if (closed.size > 0) return;
      s.write(bytes.subarray(pos % bytes.length, (pos % bytes.length) + 1));
      pos++;
    }, intervalMs);
  });
  return {
    open: () => 1 - closed.size,
    sent: () => pos,
    close: () => {
      if (timer) clearInterval(timer);
      sockets[0]!.end();
    },
  };
}

export interface ProbeResult {
  requests: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  /** Produces slower than 200 ms: [ms since the probe started, latency ms]. */
  slow: [number, number][];
}

export interface Probe {
  /** Produces answered so far. */
  requests(): number;
  stop(): Promise<ProbeResult>;
}

/** A well-behaved producer: sequential acks=1 produces of 1 KiB until stopped; latencies in ms. */
export async function probeProducer(port: number, topic: string): Promise<Probe> {
  const client: WireClient = await connectWire(port, "probe");
  const value = "x".repeat(1024);
  const times: number[] = [];
  const slow: [number, number][] = [];
  const began = performance.now();
  let errors = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      try {
        const res = await client.call<{ responses: { partitionResponses: { errorCode: number }[] }[] }>(0, 9, {
          acks: 1,
          timeoutMs: 30000,
          topicData: [{ name: topic, partitionData: [{ index: 0, records: buildBatch({ records: [{ value }] }) }] }],
        });
        if (res.responses[0]!.partitionResponses[0]!.errorCode !== 0) errors++;
      } catch {
        errors++;
        return;
      }
      const took = performance.now() - t0;
      times.push(took);
      if (took > 200) slow.push([Math.round(t0 - began), Math.round(took)]);
    }
  })();
  return {
    requests: () => times.length,
    async stop() {
      running = false;
      await loop;
      client.close();
      const s = [...times].sort((a, b) => a - b);
      const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN;
      return { requests: s.length, p50: at(0.5), p99: at(0.99), max: s[s.length - 1] ?? NaN, errors, slow };
    },
  };
}

/**
 * probeProducer in a process of its own, so that its latencies are the
 * broker's and not those of a test process busy being the abusers.
 */
export async function spawnProbe(port: number, topic: string): Promise<Probe> {
  const proc = Bun.spawn([process.execPath, import.meta.path, "probe", String(port), topic], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const lines = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  let count = 0;
  let final: ProbeResult | null = null;
  const reading = (async () => {
    for (;;) {
      const { value, done } = await lines.read();
      if (done) return;
      buf += value;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const msg = JSON.parse(line) as { count?: number; result?: ProbeResult };
        if (msg.count !== undefined) count = msg.count;
        if (msg.result) final = msg.result;
      }
    }
  })();
  return {
    requests: () => count,
    async stop() {
      proc.stdin.write("stop\n");
      proc.stdin.end();
      await reading;
      await proc.exited;
      if (!final) throw new Error("probe process gave no result");
      return final;
    },
  };
}

if (import.meta.main && process.argv[2] === "probe") {
  const probe = await probeProducer(Number(process.argv[3]), process.argv[4]!);
  const ticker = setInterval(() => console.log(JSON.stringify({ count: probe.requests() })), 200);
  for await (const _ of console) break;
  clearInterval(ticker);
  console.log(JSON.stringify({ result: await probe.stop() }));
  process.exit(0);
}
