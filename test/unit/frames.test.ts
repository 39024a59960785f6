// FrameSplitter over every way TCP can cut a stream: frames split at random
// points (including inside the size prefix), coalesced, and larger than the
// pool's largest buffer. Output must be the sent payloads, byte for byte.

import { describe, expect, test } from "bun:test";
import { FrameError, FrameSplitter } from "../../src/server/frames.ts";
import { MAX_POOLED } from "../../src/util/buffer-pool.ts";
import { lengthPrefixed } from "../helpers/frames.ts";
import { rng } from "../helpers/random.ts";

function payload(size: number, tag: number): Uint8Array {
  const p = new Uint8Array(size);
  for (let i = 0; i < size; i++) p[i] = (i * 31 + tag * 7) & 0xff;
  return p;
}

const wire = (payloads: Uint8Array[]) => lengthPrefixed(payloads);

/** Cuts `bytes` into reads of random lengths; some tiny, so size prefixes get split. */
function cut(bytes: Uint8Array, random: () => number, maxRead: number): Uint8Array[] {
  const reads: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    const r = random();
    const len = r < 0.2 ? 1 + Math.floor(random() * 5) : 1 + Math.floor(random() * maxRead);
    // Copies, as each socket read is its own buffer.
    reads.push(bytes.slice(at, at + len));
    at += len;
  }
  return reads;
}

describe("FrameSplitter", () => {
  test("frames cut at random points, size prefixes included, come out byte-exact and in order", () => {
    const sizes = [10, 11, 100, 4096, 65_535, 65_536, 200_000, 600_000, 3_000_000, 10, 12];
    const payloads = sizes.map((s, i) => payload(s, i));
    const stream = wire(payloads);
    for (const seed of [1, 2, 3, 42, 1234]) {
      const random = rng(seed);
      const s = new FrameSplitter(100 << 20);
      const out: Uint8Array[] = [];
      for (const read of cut(stream, random, 700_000)) s.push(read, out);
      expect(out.length).toBe(payloads.length);
      for (let i = 0; i < payloads.length; i++) expect(out[i]!).toEqual(payloads[i]!);
      expect(s.bufferedBytes).toBe(0);
    }
  });

  test("a frame larger than the pool's largest buffer is gathered from its reads", () => {
    const big = payload(MAX_POOLED + 12_345, 9);
    const small = payload(50, 1);
    const stream = wire([small, big, small]);
    const s = new FrameSplitter(100 << 20);
    const out: Uint8Array[] = [];
    for (const read of cut(stream, rng(7), 512 * 1024)) s.push(read, out);
    expect(out.length).toBe(3);
    expect(out[0]!).toEqual(small);
    expect(out[1]!.length).toBe(big.length);
    expect(out[1]!).toEqual(big);
    expect(out[2]!).toEqual(small);
  });

  test("frames inside one read are views of it, not copies", () => {
    const a = payload(30, 1);
    const b = payload(40, 2);
    const read = wire([a, b]);
    const out: Uint8Array[] = [];
    new FrameSplitter(1 << 20).push(read, out);
    expect(out.map((f) => f.buffer === read.buffer)).toEqual([true, true]);
    expect(out[0]!).toEqual(a);
    expect(out[1]!).toEqual(b);
  });

  test("partial state is counted, and a frame completes when its last byte arrives", () => {
    const p = payload(1000, 3);
    const stream = wire([p]);
    const s = new FrameSplitter(1 << 20);
    const out: Uint8Array[] = [];
    s.push(stream.subarray(0, 2), out);
    expect(s.bufferedBytes).toBe(2);
    s.push(stream.subarray(2, 500), out);
    expect(s.bufferedBytes).toBe(496);
    expect(out.length).toBe(0);
    s.push(stream.subarray(500, stream.length - 1), out);
    expect(out.length).toBe(0);
    s.push(stream.subarray(stream.length - 1), out);
    expect(out.length).toBe(1);
    expect(out[0]!).toEqual(p);
    expect(s.bufferedBytes).toBe(0);
  });

  test("a size over the limit, negative or too small is refused from the prefix alone", () => {
    const prefix = (n: number) => {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setInt32(0, n);
      return b;
    };
    for (const n of [(1 << 20) + 1, 0x7fffffff, -1, 0, 9]) {
      const s = new FrameSplitter(1 << 20);
      expect(() => s.push(prefix(n), [])).toThrow(FrameError);
    }
    // Split across reads, the check still happens once the fourth byte arrives.
    const s = new FrameSplitter(1 << 20);
    const p = prefix(1 << 21);
    s.push(p.subarray(0, 3), []);
    expect(() => s.push(p.subarray(3), [])).toThrow(FrameError);
  });

  test("random bytes end in frames or a FrameError, never another error or unbounded buffering", () => {
    const limit = 1 << 20;
    for (let seed = 1; seed <= 200; seed++) {
      const random = rng(seed);
      const s = new FrameSplitter(limit);
      const out: Uint8Array[] = [];
      let outcome = "ok";
      try {
        for (let i = 0; i < 50; i++) {
          const read = new Uint8Array(1 + Math.floor(random() * 64));
          for (let j = 0; j < read.length; j++) read[j] = random() < 0.5 ? 0 : Math.floor(random() * 256);
          s.push(read, out);
          expect(s.bufferedBytes).toBeLessThanOrEqual(limit + 4);
        }
      } catch (e) {
        outcome = e instanceof FrameError ? "refused" : String(e);
      }
      expect(["ok", "refused"]).toContain(outcome);
      for (const f of out) expect(f.length).toBeGreaterThanOrEqual(10);
    }
  });
});
