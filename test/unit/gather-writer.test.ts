// Fetch responses hand large record sections to the socket by reference
// (GatherWriter). The chunks must be exactly the bytes the copying encoder
// produces, and the record chunks must be the log's own memory, not copies.

import { describe, expect, test } from "bun:test";
import * as FetchResponse from "../../generated/FetchResponse.ts";
import * as ProduceRequest from "../../generated/ProduceRequest.ts";
import { GATHER_MIN_BYTES, GatherWriter, gatheredBytes } from "../../src/protocol/gather-writer.ts";
import { Reader } from "../../src/protocol/reader.ts";
import { Writer } from "../../src/protocol/writer.ts";
import { concat } from "./log-fixtures.ts";

function filled(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

describe("GatherWriter", () => {
  const big = filled(GATHER_MIN_BYTES + 5, 1);
  const small = filled(100, 2);
  const split = [filled(GATHER_MIN_BYTES, 3), filled(40_000, 4)];
  const body: FetchResponse.FetchResponseInit = {
    responses: [
      {
        topicId: "0123456789abcdef0123456789abcdef",
        topic: "t",
        partitions: [
          { partitionIndex: 0, highWatermark: 10n, records: big },
          { partitionIndex: 1, highWatermark: 1n, records: small },
          { partitionIndex: 2, highWatermark: 5n, records: split },
          { partitionIndex: 3, highWatermark: 0n, records: null },
        ],
      },
    ],
  };

  for (const version of [4, 12, 16, 18]) {
    test(`FetchResponse v${version}: chunks equal the copied encoding, large records by reference`, () => {
      const n = FetchResponse.size(body, version);
      const copy = Writer.alloc(n);
      FetchResponse.encodeInto(copy, body, version);
      const expected = copy.finish();

      const records = body.responses![0]!.partitions!.map((p) => p.records);
      const g = new GatherWriter(n, gatheredBytes(records));
      expect(gatheredBytes(records)).toBe(big.length + split[0]!.length + split[1]!.length);
      FetchResponse.encodeInto(g, body, version);
      const chunks = g.finishChunks();
      expect(concat(chunks)).toEqual(expected);
      // The large sections are the very same objects; the small one was copied.
      expect(chunks.includes(big)).toBe(true);
      expect(chunks.includes(split[0]!)).toBe(true);
      expect(chunks.includes(split[1]!)).toBe(true);
      expect(chunks.includes(small)).toBe(false);
      // And the decoder reads the gathered frame back.
      const back = FetchResponse.decode(new Reader(concat(chunks)), version);
      expect(back.responses[0]!.partitions[0]!.records).toEqual(big);
    });
  }

  test("a short write is refused rather than sent with unwritten bytes", () => {
    const g = new GatherWriter(10, 0);
    g.int32(1);
    expect(() => g.finishChunks()).toThrow();
    // A section that was expected to be gathered but was not is refused as well.
    const h = new GatherWriter(8, 4);
    h.int32(1);
    expect(() => h.finishChunks()).toThrow();
    const w = Writer.alloc(5000);
    w.int32(1);
    expect(() => w.finish()).toThrow();
  });
});

describe("encodeChunks (client requests)", () => {
  const batches = [filled(20_000, 5), filled(10, 6), filled(70_000, 7)];
  const body: ProduceRequest.ProduceRequestInit = {
    transactionalId: null,
    acks: -1,
    timeoutMs: 30_000,
    topicData: [{ name: "t", topicId: "0123456789abcdef0123456789abcdef", partitionData: batches.map((records, index) => ({ index, records })) }],
  };
  for (const version of [3, 8, 9, 13]) {
    for (const min of [0, 1000, GATHER_MIN_BYTES]) {
      test(`ProduceRequest v${version}, threshold ${min}: chunks equal encode(), batches from the threshold up referenced`, () => {
        const chunks = ProduceRequest.encodeChunks(body, version, min);
        expect(concat(chunks)).toEqual(ProduceRequest.encode(body, version));
        const referenced = batches.filter((b) => chunks.includes(b));
        expect(referenced).toEqual(batches.filter((b) => b.length >= min));
      });
    }
  }
});

describe("Reader.uuid", () => {
  test("many distinct ids, read twice (second time partly from the cache), each as its own hex", () => {
    const n = 5000;
    const bytes = new Uint8Array(16 * n);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (Math.imul(i + 1, 2654435761) >>> 13) & 0xff;
    // Ids that differ in one byte only, which a weak cache key would confuse.
    for (let i = 0; i < 256; i++) bytes[16 * i + 15] = i;
    const want = Array.from({ length: n }, (_, i) => Buffer.from(bytes.subarray(16 * i, 16 * i + 16)).toString("hex"));
    for (let pass = 0; pass < 2; pass++) {
      const r = new Reader(bytes);
      for (let i = 0; i < n; i++) expect(r.uuid()).toBe(want[i]!);
    }
  });
});

describe("Reader.uvarint", () => {
  const enc = (v: number): Uint8Array => {
    const w = new Writer(new Uint8Array(5));
    w.uvarint(v);
    return w.buf.subarray(0, w.pos);
  };
  test("every length class round-trips, up to 2^32 - 1", () => {
    for (const v of [0, 1, 127, 128, 16383, 16384, 2 ** 21 - 1, 2 ** 21, 2 ** 28 - 1, 2 ** 28, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1]) {
      const r = new Reader(enc(v));
      expect(r.uvarint()).toBe(v);
      expect(r.remaining).toBe(0);
    }
  });
  test("truncated, over 32 bits, or longer than 5 bytes: DecodeError", () => {
    expect(() => new Reader(Uint8Array.of(0x80, 0x80)).uvarint()).toThrow("truncated varint");
    expect(() => new Reader(Uint8Array.of(0xff, 0xff, 0xff, 0xff)).uvarint()).toThrow("truncated varint");
    expect(() => new Reader(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x10)).uvarint()).toThrow("varint overflow");
    expect(() => new Reader(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x80, 0x01)).uvarint()).toThrow("varint too long");
  });
});
