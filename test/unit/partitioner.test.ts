// murmur2 against the Java client's published vectors (Kafka's UtilsTest),
// and the partition choice built on it.

import { describe, expect, test } from "bun:test";
import { murmur2, partitionForKey, Partitioner } from "../../src/client/partitioner.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

describe("partitioner", () => {
  test("murmur2 matches Kafka's Utils.murmur2 vectors", () => {
    const vectors: [string, number][] = [
      ["21", -973932308],
      ["foobar", -790332482],
      ["a-little-bit-long-string", -985981536],
      ["a-little-bit-longer-string", -1486304829],
      ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
      ["abc", 479470107],
    ];
    for (const [s, h] of vectors) expect([s, murmur2(bytes(s))]).toEqual([s, h]);
  });

  test("keyed records: positive murmur2 modulo the partition count; empty key is a key", () => {
    expect(partitionForKey(bytes("foobar"), 7)).toBe((-790332482 & 0x7fffffff) % 7);
    expect(partitionForKey(new Uint8Array(0), 5)).toBe((murmur2(new Uint8Array(0)) & 0x7fffffff) % 5);
  });

  test("keyless records stick to a partition for a run, then move round robin", () => {
    const p = new Partitioner("murmur2", 3);
    const picks = Array.from({ length: 12 }, () => p.choose(null, 4));
    for (let i = 0; i < 12; i += 3) expect(new Set(picks.slice(i, i + 3)).size).toBe(1);
    for (let i = 3; i < 12; i += 3) expect(picks[i]).toBe((picks[i - 1]! + 1) % 4);
  });
});
