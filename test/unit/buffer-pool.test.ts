// Large request frames are assembled in recycled buffers; a buffer is only
// reused after it was given back, and buffers the pool did not hand out
// (socket views, small frames) are never taken in.

import { expect, test } from "bun:test";
import { giveBack, pooledBuffers, takeBuffer } from "../../src/util/buffer-pool.ts";
import { FrameSplitter } from "../../src/server/frames.ts";

test("a given-back frame buffer is reused; one still out never is", () => {
  const a = takeBuffer(300_000);
  const b = takeBuffer(300_000);
  expect(a.length).toBe(300_000);
  expect(a.buffer).not.toBe(b.buffer);
  const before = pooledBuffers();
  giveBack(a);
  expect(pooledBuffers()).toBe(before + 1);
  giveBack(a); // twice is harmless: the second time it is no longer owned
  expect(pooledBuffers()).toBe(before + 1);
  const c = takeBuffer(290_000);
  expect(c.buffer).toBe(a.buffer);
  expect(c.buffer).not.toBe(b.buffer);
  giveBack(b);
  giveBack(c);
});

test("buffers the pool did not hand out are ignored", () => {
  const before = pooledBuffers();
  giveBack(new Uint8Array(1 << 20));
  giveBack(takeBuffer(100)); // below the pooled sizes
  expect(pooledBuffers()).toBe(before);
});

test("frames spanning reads are assembled byte-exact in pooled buffers", () => {
  const payload = new Uint8Array(200_000);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;
  const wire = new Uint8Array(4 + payload.length);
  new DataView(wire.buffer).setInt32(0, payload.length);
  wire.set(payload, 4);
  for (let round = 0; round < 3; round++) {
    const s = new FrameSplitter(1 << 24);
    const out: Uint8Array[] = [];
    for (let at = 0; at < wire.length; at += 65_536) s.push(wire.slice(at, at + 65_536), out);
    expect(out.length).toBe(1);
    expect(out[0]).toEqual(payload);
    giveBack(out[0]!);
  }
});

test("a full pool makes room for the size in use now by dropping the longest-idle buffers", () => {
  // Fill the pool with 8 MiB buffers (four reach the 32 MiB cap).
  const big = [1, 2, 3, 4].map(() => takeBuffer(8 * 1024 * 1024 - 1));
  for (const b of big) giveBack(b);
  const full = pooledBuffers();
  // 4 MiB buffers coming back now must be kept, at the cost of the idle 8 MiB ones.
  const small = [1, 2].map(() => takeBuffer(4 * 1024 * 1024));
  for (const s of small) giveBack(s);
  const again = takeBuffer(4 * 1024 * 1024);
  expect(small.some((s) => s.buffer === again.buffer)).toBe(true);
  expect(pooledBuffers()).toBeLessThanOrEqual(full + 1);
  giveBack(again);
});
