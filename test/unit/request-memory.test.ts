// Frame assembly under the broker-wide request memory budget: what a size
// prefix may allocate, pausing when the budget is spent and resuming when it
// comes back, byte-exact output either way, and nothing kept after dispose.

import { describe, expect, test } from "bun:test";
import { DIRECT_FRAME, FrameSplitter } from "../../src/server/frames.ts";
import { RequestMemory, SMALL_FRAME } from "../../src/server/request-memory.ts";
import { lengthPrefixed } from "../helpers/frames.ts";
import { rng } from "../helpers/random.ts";

function payload(size: number, tag: number): Uint8Array {
  const p = new Uint8Array(size);
  for (let i = 0; i < size; i++) p[i] = (i * 13 + tag) & 0xff;
  return p;
}

function prefix(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, n);
  return b;
}

describe("request memory", () => {
  test("a 50 MB size prefix with one byte after it takes one 256 KiB piece, not 50 MB", () => {
    const mem = new RequestMemory(256 << 20);
    const s = new FrameSplitter(100 << 20, undefined, mem);
    s.push(prefix(50 << 20), []);
    expect(mem.reserved).toBe(0);
    s.push(new Uint8Array(1), []);
    expect(mem.reserved).toBe(256 * 1024);
    // Half of it: reservations follow what arrived, in pieces.
    s.push(new Uint8Array(25 << 20), []);
    expect(mem.reserved).toBeLessThanOrEqual((25 << 20) + 256 * 1024);
    s.dispose();
    expect(mem.reserved).toBe(0);
  });

  test("a frame up to 1 MiB takes its buffer at once; a larger one takes it once its rest is within 1 MiB", () => {
    const mem = new RequestMemory(256 << 20);
    const s = new FrameSplitter(100 << 20, undefined, mem);
    const held: number[] = [];
    const out: Uint8Array[] = [];
    s.push(prefix(DIRECT_FRAME), out, held);
    s.push(new Uint8Array(10), out, held);
    expect(mem.reserved).toBe(DIRECT_FRAME);
    s.push(new Uint8Array(DIRECT_FRAME - 10), out, held);
    expect(out.length).toBe(1);
    // Handed over with the frame: released by whoever handles it.
    expect(held).toEqual([DIRECT_FRAME]);
    mem.release(held[0]!);
    expect(mem.reserved).toBe(0);
  });

  test("when the budget is spent, push stops, and the rest goes in once memory comes back; frames byte-exact", async () => {
    const random = rng(7);
    const mem = new RequestMemory(4 << 20);
    const frames = [payload(3 << 20, 1), payload(100, 2), payload(5 << 20, 3), payload(200_000, 4)];
    const bytes = lengthPrefixed(frames);
    // Another holder keeps 3 MiB of the budget until we let it go.
    expect(mem.tryReserve(3 << 20, 3 << 20)).toBe(true);
    let other = 3 << 20;
    const s = new FrameSplitter(16 << 20, undefined, mem);
    const out: Uint8Array[] = [];
    const held: number[] = [];
    let at = 0;
    let stalls = 0;
    while (at < bytes.length) {
      const read = bytes.slice(at, at + 1 + Math.floor(random() * 300_000));
      const taken = s.push(read, out, held);
      at += taken;
      if (taken < read.length) {
        stalls++;
        // Free what the finished frames hold, then the other holder's share.
        const woke = new Promise<void>((r) => mem.wait(r));
        const freed = held.splice(0).reduce((a, b) => a + b, 0);
        expect(freed + other).toBeGreaterThan(0);
        if (freed > 0) mem.release(freed);
        else {
          mem.release(other);
          other = 0;
        }
        await woke;
      }
    }
    for (const h of held) mem.release(h);
    expect(stalls).toBeGreaterThan(0);
    expect(out.length).toBe(frames.length);
    for (let i = 0; i < frames.length; i++) expect(out[i]!).toEqual(frames[i]!);
    mem.release(other);
    expect(mem.reserved).toBe(0);
  });

  test("frames over 1 MiB may use three quarters of the budget; small frames the rest", () => {
    const mem = new RequestMemory(100 << 20);
    expect(mem.tryReserve(75 << 20, 50 << 20)).toBe(true);
    expect(mem.tryReserve(1, 50 << 20)).toBe(false);
    expect(mem.tryReserve(SMALL_FRAME, SMALL_FRAME)).toBe(true);
    // One frame alone always proceeds, even one larger than the whole budget.
    const lone = new RequestMemory(1 << 20);
    expect(lone.tryReserve(8 << 20, 8 << 20)).toBe(true);
  });
});
