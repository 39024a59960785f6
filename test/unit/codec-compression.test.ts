// The codec dispatch: every Kafka codec id round-trips, every decompression is
// capped, and failures come out as CompressionError with a reason.

import { describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import { Codec, CompressionError, compress, decompress, type CompressionFailure } from "../../src/codec/compression.ts";

const ascii = (s: string) => new TextEncoder().encode(s);
const ZSTD_CLI = Bun.which("zstd");
const text = ascii(Array.from({ length: 2000 }, (_, i) => `record ${i}: the quick brown fox ${i % 13}`).join("\n"));

function failure(fn: () => unknown): CompressionFailure {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(CompressionError);
    return (e as CompressionError).reason;
  }
  throw new Error("expected a CompressionError");
}

describe("round trips", () => {
  for (const codec of [Codec.NONE, Codec.GZIP, Codec.SNAPPY, Codec.LZ4, Codec.ZSTD]) {
    test(`codec ${codec}`, () => {
      for (const data of [new Uint8Array(0), ascii("x"), text]) {
        const c = compress(codec, data);
        if (codec !== Codec.NONE && data === text) expect(c.length).toBeLessThan(text.length / 2);
        expect(decompress(codec, c, data.length)).toEqual(data);
      }
    });
  }
});

describe("caps", () => {
  const zeros = new Uint8Array(10_000_000);
  for (const codec of [Codec.NONE, Codec.GZIP, Codec.SNAPPY, Codec.LZ4, Codec.ZSTD]) {
    test(`codec ${codec}: one byte over the cap is refused`, () => {
      const c = compress(codec, text);
      expect(failure(() => decompress(codec, c, text.length - 1))).toBe("too-large");
    });
  }
  test("a 10 MB bomb against a 64 KiB cap, for every codec", () => {
    for (const codec of [Codec.GZIP, Codec.SNAPPY, Codec.LZ4, Codec.ZSTD]) {
      const bomb = compress(codec, zeros);
      expect(bomb.length).toBeLessThan(600_000);
      expect(failure(() => decompress(codec, bomb, 65536))).toBe("too-large");
    }
  });
  test("a cap of zero still decodes empty data", () => {
    for (const codec of [Codec.NONE, Codec.GZIP, Codec.SNAPPY, Codec.LZ4, Codec.ZSTD]) {
      expect(decompress(codec, compress(codec, new Uint8Array(0)), 0).length).toBe(0);
    }
  });
});

describe("failures", () => {
  test("corrupt data", () => {
    for (const codec of [Codec.GZIP, Codec.SNAPPY, Codec.LZ4, Codec.ZSTD]) {
      expect(failure(() => decompress(codec, ascii("definitely not compressed data"), 1 << 20))).toBe("corrupt");
      const c = compress(codec, text);
      expect(failure(() => decompress(codec, c.subarray(0, c.length >> 1), 1 << 20))).toBe("corrupt");
    }
  });
  test("zstd cut short anywhere is corrupt (the zlib decoder alone would return what it had)", () => {
    const c = compress(Codec.ZSTD, text);
    for (let cut = 0; cut < c.length; cut++) expect(failure(() => decompress(Codec.ZSTD, c.subarray(0, cut), 1 << 20))).toBe("corrupt");
  });
  test("unknown codec ids", () => {
    for (const codec of [5, 6, 7, -1]) {
      expect(failure(() => decompress(codec, text, 1 << 20))).toBe("unknown-codec");
      expect(failure(() => compress(codec, text))).toBe("unknown-codec");
    }
  });
});

describe("forms that other writers produce", () => {
  test("gzip with several members", () => {
    const two = Uint8Array.from([...gzipSync(ascii("first,")), ...gzipSync(ascii("second"))]);
    expect(new TextDecoder().decode(decompress(Codec.GZIP, two, 100))).toBe("first,second");
  });
  test("zstd: concatenated frames and a skippable frame", () => {
    const skippable = Uint8Array.from([0x50, 0x2a, 0x4d, 0x18, 2, 0, 0, 0, 9, 9]);
    const joined = Uint8Array.from([...compress(Codec.ZSTD, ascii("one,")), ...skippable, ...compress(Codec.ZSTD, ascii("two"))]);
    expect(new TextDecoder().decode(decompress(Codec.ZSTD, joined, 100))).toBe("one,two");
  });
  test.skipIf(!ZSTD_CLI)("zstd streaming frames without a content size (as zstd-jni writes them)", () => {
    const r = Bun.spawnSync([ZSTD_CLI!, "-c", "-q"], { stdin: text });
    expect(r.exitCode).toBe(0);
    const frame = new Uint8Array(r.stdout);
    // Frame header descriptor: content-size flag bits (7-6) are 0 when the size was unknown.
    expect(frame[4]! >>> 6).toBe(0);
    expect(decompress(Codec.ZSTD, frame, text.length)).toEqual(text);
    expect(failure(() => decompress(Codec.ZSTD, frame, text.length - 1))).toBe("too-large");
    for (const flags of [["--no-check"], ["-19"], ["--format=zstd", "-B4096"]]) {
      const f = Bun.spawnSync([ZSTD_CLI!, "-c", "-q", ...flags], { stdin: text });
      expect(decompress(Codec.ZSTD, new Uint8Array(f.stdout), text.length)).toEqual(text);
    }
  });
});
