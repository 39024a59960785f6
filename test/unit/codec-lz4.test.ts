// LZ4 frames: round trips with every frame option, interop with the reference
// `lz4` command-line tool when it is installed (both directions, linked and
// independent blocks, checksums, content size, all block sizes), the header
// checksum rules, and malformed input that must end in Lz4Error.

import { describe, expect, test } from "bun:test";
import { Lz4Error, lz4Compress, lz4Decompress } from "../../src/codec/lz4.ts";
import { xxhash32 } from "../../src/codec/xxhash32.ts";

const MAX = 64 << 20;
const ascii = (s: string) => new TextEncoder().encode(s);
const LZ4_CLI = Bun.which("lz4");

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
  const text = ascii(Array.from({ length: 4000 }, (_, i) => `{"id":${i},"name":"user-${i % 37}","ok":true}`).join("\n"));
  return [
    ["empty", new Uint8Array(0)],
    ["one byte", ascii("a")],
    ["twelve bytes", ascii("abcabcabcabc")],
    ["short text", ascii("hello hello hello hello hello")],
    ["zeros 300k", new Uint8Array(300_000)],
    ["random 100k", pseudoRandom(100_000, 1)],
    ["low-entropy 150k", pseudoRandom(150_000, 2, 4)],
    ["json lines", text],
    ["exact block", pseudoRandom(65536, 3, 16)],
    ["block + 1", pseudoRandom(65537, 4, 16)],
  ];
}

function cli(args: string[], input: Uint8Array): Uint8Array {
  const r = Bun.spawnSync([LZ4_CLI!, ...args], { stdin: input });
  if (r.exitCode !== 0) throw new Error(`lz4 ${args.join(" ")} failed: ${r.stderr.toString()}`);
  return new Uint8Array(r.stdout);
}

describe("round trips", () => {
  const optionSets = [{}, { blockChecksum: true }, { contentChecksum: true }, { contentSize: true }, { blockChecksum: true, contentChecksum: true, contentSize: true }];
  for (const [name, data] of samples()) {
    test(name, () => {
      for (const opts of optionSets) expect(lz4Decompress(lz4Compress(data, opts), MAX)).toEqual(data);
    });
  }

  test("compressible input shrinks; incompressible blocks are stored raw", () => {
    expect(lz4Compress(new Uint8Array(100_000)).length).toBeLessThan(2000);
    const noise = pseudoRandom(70_000, 8);
    // two raw blocks: 7 header bytes, 2 × 4-byte sizes, end mark
    expect(lz4Compress(noise).length).toBe(7 + 8 + noise.length + 4);
  });

  test("the defaults match Kafka's Java writer: independent 64 KiB blocks, no size, no checksums", () => {
    const frame = lz4Compress(ascii("kafka"));
    expect([...frame.subarray(0, 4)]).toEqual([0x04, 0x22, 0x4d, 0x18]);
    expect(frame[4]).toBe(0x60);
    expect(frame[5]).toBe(0x40);
    expect(frame[6]).toBe((xxhash32(frame.subarray(4, 6)) >>> 8) & 0xff);
  });

  test("concatenated frames and skippable frames", () => {
    const a = lz4Compress(ascii("first "));
    const b = lz4Compress(ascii("second"), { contentChecksum: true });
    const skip = Uint8Array.from([0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
    expect(new TextDecoder().decode(lz4Decompress(Uint8Array.from([...a, ...skip, ...b]), MAX))).toBe("first second");
  });
});

describe.skipIf(!LZ4_CLI)("interop with the lz4 command-line tool", () => {
  test("the tool decodes our frames", () => {
    for (const [, data] of samples()) {
      expect(cli(["-d", "-c"], lz4Compress(data))).toEqual(data);
      expect(cli(["-d", "-c"], lz4Compress(data, { blockChecksum: true, contentChecksum: true, contentSize: true }))).toEqual(data);
    }
  });

  test("we decode the tool's frames with every block mode, size and checksum option", () => {
    const variants = [[], ["-BD"], ["-BX"], ["--content-size"], ["--no-frame-crc"], ["-B4"], ["-B5"], ["-B6", "-BD"], ["-B7"], ["-9", "-BD", "-BX"], ["--fast=5"]];
    for (const [, data] of samples()) {
      for (const flags of variants) expect(lz4Decompress(cli(["-c", ...flags], data), MAX)).toEqual(data);
    }
  });
});

describe("header checksum", () => {
  const data = ascii("header checksum header checksum header checksum");

  test("a wrong header checksum is refused", () => {
    const frame = lz4Compress(data);
    frame[6] ^= 0xff;
    expect(() => lz4Decompress(frame, MAX)).toThrow(/header checksum/);
  });

  test("the old Kafka client form (hash over magic + descriptor) is accepted", () => {
    const frame = lz4Compress(data).slice();
    frame[6] = (xxhash32(frame.subarray(0, 6)) >>> 8) & 0xff;
    expect(lz4Decompress(frame, MAX)).toEqual(data);
  });
});

describe("malformed input", () => {
  const bad = (input: Uint8Array, max = MAX) => () => lz4Decompress(input, max);
  const withHc = (bytes: number[]) => {
    const f = Uint8Array.from(bytes);
    const descEnd = f.length - 1;
    f[descEnd] = (xxhash32(f.subarray(4, descEnd)) >>> 8) & 0xff;
    return f;
  };
  const MAGIC = [0x04, 0x22, 0x4d, 0x18];
  /** A frame (independent 64 KiB blocks) holding the given raw block bodies. */
  const frameOf = (blocks: number[][], flg = 0x60) => {
    const head = withHc([...MAGIC, flg, 0x40, 0]);
    const parts: number[] = [...head];
    for (const b of blocks) parts.push(b.length & 0xff, (b.length >> 8) & 0xff, 0, 0, ...b);
    parts.push(0, 0, 0, 0);
    return Uint8Array.from(parts);
  };

  test("frame level", () => {
    expect(bad(new Uint8Array(0))).toThrow(/magic/);
    expect(bad(Uint8Array.from([1, 2, 3, 4, 5]))).toThrow(/magic/);
    expect(bad(Uint8Array.from(MAGIC))).toThrow(/descriptor/);
    expect(bad(withHc([...MAGIC, 0x80, 0x40, 0]))).toThrow(/version/);
    expect(bad(withHc([...MAGIC, 0x62, 0x40, 0]))).toThrow(/reserved/);
    expect(bad(withHc([...MAGIC, 0x60, 0x41, 0]))).toThrow(/reserved/);
    expect(bad(withHc([...MAGIC, 0x60, 0x30, 0]))).toThrow(/block size code/);
    expect(bad(withHc([...MAGIC, 0x61, 0x40, 1, 2, 3, 4, 0]))).toThrow(/dictionary/);
    expect(bad(withHc([...MAGIC, 0x60, 0x40, 0]))).toThrow(/block size/); // no end mark
    const f = lz4Compress(ascii("truncate me please, truncate me please"), { contentChecksum: true });
    for (let cut = 0; cut < f.length; cut++) expect(bad(f.subarray(0, cut))).toThrow(Lz4Error);
  });

  test("blocks", () => {
    expect(bad(frameOf([[0x10]]))).toThrow(/past the block/); // 1 literal declared, none present
    expect(bad(frameOf([[0x00, 0x01]]))).toThrow(/match offset/); // no literals, then a match without its offset
    expect(bad(frameOf([[0x10, 0x61, 0x00, 0x00]]))).toThrow(/offset 0/);
    expect(bad(frameOf([[0x10, 0x61, 0x02, 0x00]]))).toThrow(/offset 2/);
    expect(bad(frameOf([[0xf0]]))).toThrow(/truncated lz4 literal length/);
    expect(bad(frameOf([[0x1f, 0x61, 0x01, 0x00]]))).toThrow(/truncated lz4 match length/);
    // a block declared larger than the frame's block maximum
    expect(bad(Uint8Array.from([...withHc([...MAGIC, 0x60, 0x40, 0]), 0x01, 0x00, 0x01, 0x00]))).toThrow(/exceeds the frame/);
    // matches that expand past the 64 KiB block maximum: 1 literal, then 65536 copies of it
    expect(bad(frameOf([[0x1f, 0x61, 0x01, 0x00, ...new Array(256).fill(255), 237]]))).toThrow(/maximum size/);
    // ... and a match length whose encoding alone runs past it
    expect(bad(frameOf([[0x1f, 0x61, 0x01, 0x00, ...new Array(300).fill(255), 0]]))).toThrow(/longer than the block/);
  });

  test("independent blocks may not reach into the previous block", () => {
    const linked = [[0x40, 0x61, 0x62, 0x63, 0x64], [0x00, 0x04, 0x00, 0x50, 0x65, 0x66, 0x67, 0x68, 0x69]];
    expect(bad(frameOf(linked, 0x60))).toThrow(/offset 4/);
    // the same blocks in a linked frame: the match copies "abcd" from block one
    expect(new TextDecoder().decode(lz4Decompress(frameOf(linked, 0x40), MAX))).toBe("abcdabcdefghi");
  });

  test("checksums", () => {
    const data = ascii("checksummed checksummed checksummed checksummed");
    const content = lz4Compress(data, { contentChecksum: true });
    content[content.length - 1] ^= 1;
    expect(bad(content)).toThrow(/content checksum/);
    const block = lz4Compress(data, { blockChecksum: true });
    block[block.length - 5] ^= 1;
    expect(bad(block)).toThrow(/block checksum/);
  });

  test("the output cap holds with and without a declared content size", () => {
    const zeros = new Uint8Array(200_000);
    for (const opts of [{}, { contentSize: true }]) {
      const f = lz4Compress(zeros, opts);
      try {
        lz4Decompress(f, 150_000);
        throw new Error("no error");
      } catch (e) {
        expect(e).toBeInstanceOf(Lz4Error);
        expect((e as Lz4Error).tooLarge).toBe(true);
      }
      expect(lz4Decompress(f, 200_000).length).toBe(200_000);
    }
    // content size that disagrees with the blocks
    const sized = lz4Compress(ascii("twelve bytes"), { contentSize: true });
    sized[6] = 13;
    sized[14] = (xxhash32(sized.subarray(4, 14)) >>> 8) & 0xff;
    expect(bad(sized)).toThrow(/declared 13/);
  });

  test("random corruption ends in Lz4Error or some output, never anything else", () => {
    const text = samples()[7]![1].subarray(0, 5000);
    const originals = [lz4Compress(text), lz4Compress(text, { contentChecksum: true, contentSize: true }), lz4Compress(pseudoRandom(3000, 5, 8))];
    let seed = 777;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let round = 0; round < 1500; round++) {
      const input = originals[round % 3]!.slice();
      const flips = 1 + rnd(4);
      for (let f = 0; f < flips; f++) input[7 + rnd(input.length - 7)] = rnd(256);
      const cut = rnd(4) === 0 ? input.subarray(0, rnd(input.length)) : input;
      try {
        expect(lz4Decompress(cut, 10_000).length).toBeLessThanOrEqual(10_000);
      } catch (e) {
        expect(e).toBeInstanceOf(Lz4Error);
      }
    }
  });
});
