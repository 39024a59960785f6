// Frame assembly on its own, the hot path of every produce: a stream of
// request frames of one size cut into socket-sized reads, through this
// tree's FrameSplitter (with the request memory budget) and optionally
// another checkout's, interleaved run by run so machine noise hits both.
//
//   bun test/bench/frames.ts [--baseline OTHER-CHECKOUT]

import { resolve } from "node:path";
import { FrameSplitter } from "../../src/server/frames.ts";
import { RequestMemory } from "../../src/server/request-memory.ts";
import { giveBack } from "../../src/util/buffer-pool.ts";

const args = process.argv.slice(2);
const baselineDir = args.includes("--baseline") ? resolve(args[args.indexOf("--baseline") + 1]!) : null;
type Splitter = { push(data: Uint8Array, out: Uint8Array[], held?: number[]): unknown };
const Base: (new (max: number) => Splitter) | null = baselineDir ? (await import(`${baselineDir}/src/server/frames.ts`)).FrameSplitter : null;
const baseGiveBack: ((b: Uint8Array) => void) | null = baselineDir ? (await import(`${baselineDir}/src/util/buffer-pool.ts`)).giveBack : null;

const READ = 64 * 1024;
const TOTAL = 512 * 1024 * 1024;

function stream(frameBytes: number): Uint8Array[] {
  const n = Math.max(1, Math.floor((64 * 1024 * 1024) / (frameBytes + 4)));
  const bytes = new Uint8Array(n * (frameBytes + 4));
  const v = new DataView(bytes.buffer);
  for (let i = 0; i < n; i++) v.setInt32(i * (frameBytes + 4), frameBytes);
  const reads: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += READ) reads.push(bytes.slice(at, at + READ));
  return reads;
}

function run(make: () => Splitter, back: (b: Uint8Array) => void, reads: Uint8Array[], memory: RequestMemory | null): number {
  const s = make();
  const out: Uint8Array[] = [];
  const held: number[] = [];
  let bytes = 0;
  const t0 = performance.now();
  while (bytes < TOTAL) {
    for (const r of reads) {
      s.push(r, out, held);
      for (const f of out) back(f);
      for (const h of held) memory?.release(h);
      out.length = 0;
      held.length = 0;
      bytes += r.length;
    }
  }
  return bytes / 1048576 / ((performance.now() - t0) / 1000);
}

for (const size of [16 * 1024, 1_000_000, 4 * 1024 * 1024, 8 * 1024 * 1024]) {
  const reads = stream(size);
  const ours: number[] = [];
  const base: number[] = [];
  for (let round = 0; round < 3; round++) {
    const memory = new RequestMemory(256 << 20);
    ours.push(run(() => new FrameSplitter(100 << 20, undefined, memory), giveBack, reads, memory));
    if (Base) base.push(run(() => new Base(100 << 20), baseGiveBack!, reads, null));
  }
  const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(", ");
  console.log(`frames of ${size} B in ${READ} B reads: this tree ${Math.max(...ours).toFixed(0)} MiB/s (runs ${fmt(ours)})` + (Base ? `; baseline ${Math.max(...base).toFixed(0)} MiB/s (runs ${fmt(base)})` : ""));
}
