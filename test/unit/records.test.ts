// RecordBatch v2: header fields, building and decoding with every codec, and
// malformed batches (with correct CRCs, so the record walk itself is tested)
// that must only ever raise RecordsError. Produce-time verdicts are in
// batch-validator.test.ts.

import { describe, expect, test } from "bun:test";
import { crc32c } from "../../src/codec/crc32c.ts";
import { Codec } from "../../src/codec/compression.ts";
import { HEADER_SIZE } from "../../src/log/batch-header.ts";
import { ErrorCode } from "../../src/protocol/errors.ts";
import {
  Attr,
  RecordsError,
  batchCrcMatches,
  batchRecordsBytes,
  buildBatch,
  buildControlBatch,
  decodeRecords,
  iterateRecords,
  readBatchHeader,
  readControlRecord,
  recordTimestamps,
} from "../../src/protocol/records.ts";
import { CODECS, T0, ascii, codeOf, corruptedBatches, rawRecord, sampleRecords, text, withBody } from "./record-fixtures.ts";

describe("header", () => {
  test("every field reads back as built", () => {
    const b = buildBatch({
      records: sampleRecords(3),
      baseOffset: 1234567890123,
      partitionLeaderEpoch: 7,
      codec: Codec.LZ4,
      producerId: 2 ** 40 + 5,
      producerEpoch: 3,
      baseSequence: 99,
      transactional: true,
    });
    const h = readBatchHeader(b);
    expect(h).toMatchObject({
      baseOffset: 1234567890123,
      batchLength: b.length - 12,
      partitionLeaderEpoch: 7,
      magic: 2,
      attributes: Codec.LZ4 | Attr.TRANSACTIONAL,
      codec: Codec.LZ4,
      logAppendTime: false,
      transactional: true,
      control: false,
      hasDeleteHorizonMs: false,
      lastOffsetDelta: 2,
      baseTimestamp: T0,
      maxTimestamp: T0 + 20,
      producerId: 2 ** 40 + 5,
      producerEpoch: 3,
      baseSequence: 99,
      recordCount: 3,
      sizeInBytes: b.length,
    });
    expect(h.crc).toBe(crc32c(b.subarray(21)));
    expect(batchCrcMatches(b)).toBe(true);
  });

  test("a header needs 61 bytes", () => {
    expect(codeOf(() => readBatchHeader(new Uint8Array(60)))).toBe(ErrorCode.CORRUPT_MESSAGE);
    const b = buildBatch({ records: [{ value: "x" }] });
    expect(codeOf(() => readBatchHeader(b.subarray(0, HEADER_SIZE), 1))).toBe(ErrorCode.CORRUPT_MESSAGE);
  });
});

describe("build and decode", () => {
  for (const codec of CODECS) {
    test(`codec ${codec}: every field survives, keys/values/headers null or not`, () => {
      const input = sampleRecords(60);
      const b = buildBatch({ records: input, codec, baseOffset: 1000 });
      expect(readBatchHeader(b).codec).toBe(codec);
      const out = decodeRecords(b);
      expect(out).toHaveLength(60);
      out.forEach((r, i) => {
        const want = input[i]!;
        expect(r.offset).toBe(1000 + i);
        expect(r.timestamp).toBe(want.timestamp!);
        expect(text(r.key)).toBe((want.key as string | null) ?? null);
        expect(text(r.value)).toBe((want.value as string | null) ?? null);
        expect(r.headers.map((h) => [h.key, text(h.value)])).toEqual((want.headers ?? []).map((h) => [h.key, h.value as string | null]));
        expect(r.attributes).toBe(0);
      });
      // the lazy walks agree
      expect([...iterateRecords(b)].map((r) => r.offset)).toEqual(out.map((r) => r.offset));
      expect([...recordTimestamps(b)]).toEqual(out.map((r) => ({ offset: r.offset, timestamp: r.timestamp })));
    });
  }

  test("uncompressed keys and values are views of the batch, not copies", () => {
    const b = buildBatch({ records: [{ key: "k", value: "v" }] });
    const [r] = decodeRecords(b);
    expect(r!.key!.buffer).toBe(b.buffer);
    expect(r!.value!.buffer).toBe(b.buffer);
  });

  test("empty (not null) keys, values and header values", () => {
    const b = buildBatch({ records: [{ key: new Uint8Array(0), value: "", headers: [{ key: "", value: "" }] }] });
    const [r] = decodeRecords(b);
    expect(r!.key!.length).toBe(0);
    expect(r!.value!.length).toBe(0);
    expect(r!.headers).toEqual([{ key: "", value: new Uint8Array(0) }]);
  });

  test("defaults: producer -1, leader epoch -1, base timestamp from the first record", () => {
    const h = readBatchHeader(buildBatch({ records: [{ value: "a", timestamp: T0 + 5 }, { value: "b", timestamp: T0 }] }));
    expect(h).toMatchObject({ producerId: -1, producerEpoch: -1, baseSequence: -1, partitionLeaderEpoch: -1, baseTimestamp: T0 + 5, maxTimestamp: T0 + 5 });
    expect(() => buildBatch({ records: [] })).toThrow(RecordsError);
    expect(() => buildBatch({ records: [{ value: "a" }], codec: 6 })).toThrow(RecordsError);
  });

  test("LogAppendTime and delete horizon at build time", () => {
    const b = buildBatch({ records: [{ value: "a", timestamp: T0 }, { value: "b", timestamp: T0 + 1 }], logAppendTime: T0 + 50, deleteHorizonMs: T0 - 100 });
    const h = readBatchHeader(b);
    expect(h.logAppendTime).toBe(true);
    expect(h.hasDeleteHorizonMs).toBe(true);
    expect(h.baseTimestamp).toBe(T0 - 100);
    expect(h.maxTimestamp).toBe(T0 + 50);
    expect(decodeRecords(b).map((r) => r.timestamp)).toEqual([T0 + 50, T0 + 50]);
  });

  test("a record of 1 MB and negative timestamp deltas", () => {
    const big = new Uint8Array(1 << 20).fill(7);
    const b = buildBatch({ records: [{ value: big, timestamp: T0 }, { value: "x", timestamp: T0 - 123456 }], codec: Codec.ZSTD });
    const out = decodeRecords(b);
    expect(out[0]!.value).toEqual(big);
    expect(out[1]!.timestamp).toBe(T0 - 123456);
  });
});

describe("control batches", () => {
  for (const commit of [true, false]) {
    test(commit ? "commit marker" : "abort marker", () => {
      const b = buildControlBatch({ producerId: 4000, producerEpoch: 2, commit, coordinatorEpoch: 17, timestamp: T0, baseOffset: 55 });
      const h = readBatchHeader(b);
      expect(h).toMatchObject({ control: true, transactional: true, producerId: 4000, producerEpoch: 2, baseSequence: -1, recordCount: 1, baseOffset: 55, maxTimestamp: T0 });
      expect(batchCrcMatches(b)).toBe(true);
      const [r] = decodeRecords(b);
      expect([...r!.key!]).toEqual([0, 0, 0, commit ? 1 : 0]);
      expect([...r!.value!]).toEqual([0, 0, 0, 0, 0, 17]);
      expect(readControlRecord(r!)).toEqual({ version: 0, type: commit ? 1 : 0, coordinatorEpoch: 17 });
    });
  }

  test("a control record with a short key is refused", () => {
    expect(() => readControlRecord({ offset: 0, timestamp: 0, key: new Uint8Array(3), value: null, headers: [], attributes: 0 })).toThrow(RecordsError);
  });
});

describe("record-level problems", () => {
  const rec = (offsetDelta: number, extra: Partial<Parameters<typeof rawRecord>[0]> = {}) => rawRecord({ offsetDelta, key: [0x6b], value: [0x76], ...extra });

  test("the hand encoder agrees with the builder", () => {
    const b = withBody(Uint8Array.from([...rec(0), ...rec(1)]), 2);
    expect(decodeRecords(b).map((r) => [text(r.key), text(r.value)])).toEqual([
      ["k", "v"],
      ["k", "v"],
    ]);
  });

  // [name, records section, declared count]: none can be decoded. (Offsets out of
  // sequence decode, and are refused at produce: batch-validator.test.ts.)
  const undecodable: [string, number[], number][] = [
    ["fewer records than declared", [...rec(0), 0, 0, 0, 0, 0, 0, 0], 2],
    ["bytes after the last record", [...rec(0), ...rec(1), 0x00], 2],
    ["record length beyond the section", [...rec(0), ...rawRecord({ offsetDelta: 1, lengthAdjust: 50 })], 2],
    ["record length shorter than its fields", [...rec(0), ...rawRecord({ offsetDelta: 1, key: [1, 2, 3], lengthAdjust: -2 }), 0, 0], 2],
    ["negative record length", [...rec(0), 0x01, 0, 0, 0, 0, 0, 0, 0], 2],
    ["key length below -1", [...rec(0), ...rawRecord({ offsetDelta: 1 }).map((b, i) => (i === 4 ? 0x03 : b))], 2],
    ["value longer than the record", [...rec(0), ...rawRecord({ offsetDelta: 1, value: [1, 2], lengthAdjust: 0 }).map((b, i, a) => (i === a.length - 4 ? 0x7e : b))], 2],
    ["null header key", [...rawRecord({ offsetDelta: 0, headers: [[null, [1]]] })], 1],
    ["negative header count", [...rawRecord({ offsetDelta: 0 }).slice(0, -1), 0x01], 1],
    ["huge header count", [...rawRecord({ offsetDelta: 0, lengthAdjust: 4 }).slice(0, -1), 0xfe, 0xff, 0xff, 0xff, 0x0f], 1],
    ["a 10-byte varint that never ends", [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80], 1],
  ];
  for (const [name, body, count] of undecodable) {
    test(name, () => {
      expect(codeOf(() => decodeRecords(withBody(Uint8Array.from(body), count)))).toBe(ErrorCode.INVALID_RECORD);
    });
  }

  test("undecompressable records are CORRUPT_MESSAGE", () => {
    for (const codec of [Codec.GZIP, Codec.SNAPPY, Codec.LZ4, Codec.ZSTD]) {
      const b = withBody(ascii("not compressed at all, not at all"), 1, codec);
      expect(codeOf(() => decodeRecords(b))).toBe(ErrorCode.CORRUPT_MESSAGE);
    }
  });

  test("a decompression bomb stops at the cap", () => {
    const b = buildBatch({ records: [{ value: new Uint8Array(8 << 20) }], codec: Codec.ZSTD });
    expect(b.length).toBeLessThan(4096);
    expect(codeOf(() => decodeRecords(b, { maxUncompressedBytes: 1 << 20 }))).toBe(ErrorCode.CORRUPT_MESSAGE);
    expect(batchRecordsBytes(b, 9 << 20).length).toBeGreaterThan(8 << 20);
  });

  test("random corruption under a valid CRC only ever raises RecordsError", () => {
    let accepted = 0;
    for (const b of corruptedBatches(4242, 2500)) {
      try {
        decodeRecords(b, { maxUncompressedBytes: 1 << 16 });
        accepted++;
      } catch (e) {
        expect(e).toBeInstanceOf(RecordsError);
      }
    }
    // Flips inside a key or value leave a valid batch: some must pass.
    expect(accepted).toBeGreaterThan(0);
  });
});
