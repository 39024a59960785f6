// Large request frames are assembled in recycled buffers; a buffer is only
// reused after it was given back, and buffers the pool did not hand out
// (socket views, small frames) are never taken in.

import { expect, test } from "bun:test";
import { giveBackFrame, pooledFrames, takeFrame } from "../../src/server/frame-pool.ts";
import { FrameSplitter } from "../../src/server/frames.ts";

test("a given-back frame buffer is reused; one still out never is", () => {
  const a = takeFrame(300_000);
  const b = takeFrame(300_000);
  expect(a.length).toBe(300_000);
  expect(a.buffer).not.toBe(b.buffer);
  const before = pooledFrames();
  giveBackFrame(a);
  expect(pooledFrames()).toBe(before + 1);
  giveBackFrame(a); // twice is harmless: the second time it is no longer owned
  expect(pooledFrames()).toBe(before + 1);
  const c = takeFrame(290_000);
  expect(c.buffer).toBe(a.buffer);
  expect(c.buffer).not.toBe(b.buffer);
  giveBackFrame(b);
  giveBackFrame(c);
});

test("buffers the pool did not hand out are ignored", () => {
  const before = pooledFrames();
  giveBackFrame(new Uint8Array(1 << 20));
  giveBackFrame(takeFrame(100)); // below the pooled sizes
  expect(pooledFrames()).toBe(before);
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
    giveBackFrame(out[0]!);
  }
});
