// Snappy: hand-assembled vectors, round trips, cross-checks against another
// implementation (the wasm snappy bundled with the @platformatic/kafka dev
// dependency), xerial framing, and malformed input that must end in SnappyError.

import { describe, expect, test } from "bun:test";
import { snappyCompress as otherCompress, snappyDecompress as otherDecompress } from "@platformatic/wasm-utils";
import { SnappyError, isXerialFramed, snappyCompress, snappyDecompress } from "../../src/codec/snappy.ts";
import { lengthPrefixed } from "../helpers/frames.ts";

const MAX = 64 << 20;
const theirDecompress = (b: Uint8Array): Uint8Array => new Uint8Array(otherDecompress(Buffer.from(b)));
const theirCompress = (b: Uint8Array): Uint8Array => new Uint8Array(otherCompress(Buffer.from(b)));
const ascii = (s: string) => new TextEncoder().encode(s);

function pseudoRandom(n: number, seed: number, alphabet = 256): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = (x >>> 0) % alphabet;
  }
  return out;
}

function samples(): [string, Uint8Array][] {
  const text = ascii(Array.from({ length: 3000 }, (_, i) => `{"id":${i},"name":"user-${i % 37}","ok":true}`).join("\n"));
  return [
    ["empty", new Uint8Array(0)],
    ["one byte", ascii("a")],
    ["short text", ascii("hello hello hello hello")],
    ["zeros 200k", new Uint8Array(200_000)],
    ["random 100k", pseudoRandom(100_000, 1)],
    ["low-entropy 150k", pseudoRandom(150_000, 2, 4)],
    ["json lines", text],
    ["exact fragment", pseudoRandom(65536, 3, 16)],
    ["fragment + 1", pseudoRandom(65537, 4, 16)],
  ];
}

/** Wraps raw snappy blocks in xerial framing, as Java clients send them. */
function xerial(blocks: Uint8Array[]): Uint8Array {
  const out = lengthPrefixed(blocks, 16);
  const v = new DataView(out.buffer);
  out.set([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
  v.setInt32(8, 1);
  v.setInt32(12, 1);
  return out;
}

describe("vectors", () => {
  test("one literal", () => {
    expect(snappyDecompress(Uint8Array.from([0x0b, 0x28, ...ascii("hello world")]), MAX)).toEqual(ascii("hello world"));
  });
  test("overlapping 1-byte-offset copy repeats a run", () => {
    // preamble 12, literal "abc", copy of 9 from offset 3
    expect(snappyDecompress(Uint8Array.from([0x0c, 0x08, ...ascii("abc"), 0x15, 0x03]), MAX)).toEqual(ascii("abcabcabcabc"));
  });
  test("2- and 4-byte-offset copies and a 2-byte literal length", () => {
    const lit = pseudoRandom(300, 9);
    const input = Uint8Array.from([
      ...[0xf6, 0x02], // preamble 374
      ...[61 << 2, 299 & 0xff, 299 >> 8], // literal of 300: length - 1 in 2 bytes
      ...lit,
      ...[(63 << 2) | 2, 300 & 0xff, 300 >> 8], // copy of 64 from offset 300
      ...[(9 << 2) | 3, 5, 0, 0, 0], // copy of 10 from offset 5 (overlapping)
    ]);
    const out = snappyDecompress(input, MAX);
    expect(out.length).toBe(374);
    expect(out.subarray(0, 300)).toEqual(lit);
    expect(out.subarray(300, 364)).toEqual(lit.subarray(0, 64));
    for (let i = 364; i < 374; i++) expect(out[i]).toBe(out[i - 5]);
  });
});

describe("round trips", () => {
  for (const [name, data] of samples()) {
    test(name, () => {
      const c = snappyCompress(data);
      expect(snappyDecompress(c, MAX)).toEqual(data);
      // The other implementation reads what we write, and we read what it writes.
      expect(theirDecompress(c)).toEqual(data);
      expect(snappyDecompress(theirCompress(data), MAX)).toEqual(data);
      // xerial framing: our own writer, and blocks from the other implementation framed by hand.
      const x = snappyCompress(data, { xerial: true });
      expect(isXerialFramed(x)).toBe(true);
      expect(snappyDecompress(x, MAX)).toEqual(data);
      const blocks: Uint8Array[] = [];
      for (let i = 0; i < data.length; i += 32 * 1024) blocks.push(theirCompress(data.subarray(i, i + 32 * 1024)));
      expect(snappyDecompress(xerial(blocks), MAX)).toEqual(data);
    });
  }

  test("compressible input shrinks", () => {
    expect(snappyCompress(new Uint8Array(100_000)).length).toBeLessThan(6000);
    const json = samples()[6]![1];
    expect(snappyCompress(json).length).toBeLessThan(json.length / 3);
  });
});

describe("malformed input", () => {
  const bad = (input: Uint8Array, max = MAX) => () => snappyDecompress(input, max);

  test("length preamble: truncated, too long, over the cap, or a lie", () => {
    expect(bad(new Uint8Array(0))).toThrow(SnappyError);
    expect(bad(Uint8Array.from([0x80]))).toThrow(SnappyError);
    expect(bad(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]))).toThrow(SnappyError);
    const big = snappyCompress(new Uint8Array(1000));
    expect(bad(big, 999)).toThrow(/limit/);
    try {
      snappyDecompress(big, 999);
    } catch (e) {
      expect((e as SnappyError).tooLarge).toBe(true);
    }
    // 4 GiB declared by a few bytes: refused before any allocation.
    expect(bad(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x61]), 2 ** 33)).toThrow(/cannot hold/);
  });

  test("elements that reach outside input or output", () => {
    expect(bad(Uint8Array.from([0x05, 0x10, 0x61]))).toThrow(/past the input/); // literal of 5, 1 present
    expect(bad(Uint8Array.from([0x02, 0x08, 0x61, 0x62, 0x63]))).toThrow(/declared length/); // literal 3 > declared 2
    expect(bad(Uint8Array.from([0x05, 0x00, 0x61, 0x01, 0x00]))).toThrow(/offset 0/); // copy with offset 0
    expect(bad(Uint8Array.from([0x05, 0x00, 0x61, 0x01, 0x02]))).toThrow(/offset 2/); // offset beyond output
    expect(bad(Uint8Array.from([0x05, 0x00, 0x61, 0x01]))).toThrow(/truncated/); // copy without its offset
    expect(bad(Uint8Array.from([0x09, 0x00, 0x61, 0x02 | (60 << 2), 0x01]))).toThrow(/truncated/);
    expect(bad(Uint8Array.from([0x09, 0x00, 0x61, 0x03, 0x01, 0x00]))).toThrow(/truncated/);
    expect(bad(Uint8Array.from([0x04, 0x00, 0x61, 0x05, 0x01]))).toThrow(/declared length/); // copy of 5 into 3 left
    expect(bad(Uint8Array.from([0x03, 0x00, 0x61]))).toThrow(/declared 3/); // ends short
    expect(bad(Uint8Array.from([0x03, 0xf0]))).toThrow(/truncated/); // 1-byte literal length missing
  });

  test("xerial framing errors", () => {
    const good = snappyCompress(ascii("xerial xerial xerial"), { xerial: true });
    expect(bad(good.subarray(0, good.length - 1))).toThrow(SnappyError);
    const negative = good.slice();
    new DataView(negative.buffer).setInt32(16, -1);
    expect(bad(negative)).toThrow(/out of range/);
    const huge = good.slice();
    new DataView(huge.buffer).setInt32(16, 0x7fffffff);
    expect(bad(huge)).toThrow(/out of range/);
    expect(bad(xerial([new Uint8Array(0)]))).toThrow(/truncated/);
    expect(bad(good.subarray(0, 18))).toThrow(/truncated/);
    const twoBlocks = xerial([snappyCompress(new Uint8Array(600)), snappyCompress(new Uint8Array(600))]);
    expect(bad(twoBlocks, 1000)).toThrow(/exceeds 1000/);
    expect(snappyDecompress(twoBlocks, 1200).length).toBe(1200);
    expect(snappyDecompress(xerial([]), MAX).length).toBe(0);
  });

  test("random corruption ends in SnappyError or some output, never anything else", () => {
    const originals = [snappyCompress(samples()[6]![1].subarray(0, 4000)), snappyCompress(pseudoRandom(3000, 5, 8), { xerial: true })];
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let round = 0; round < 1500; round++) {
      const input = originals[round % 2]!.slice();
      const flips = 1 + rnd(4);
      for (let f = 0; f < flips; f++) input[rnd(input.length)] = rnd(256);
      const cut = rnd(4) === 0 ? input.subarray(0, rnd(input.length)) : input;
      try {
        const out = snappyDecompress(cut, 10_000);
        expect(out.length).toBeLessThanOrEqual(10_000);
      } catch (e) {
        expect(e).toBeInstanceOf(SnappyError);
      }
    }
  });
});
