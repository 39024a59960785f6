// The produce-time verdicts of batch-validator.ts: Kafka's ProduceRequest and
// LogValidator rules for client batches, with their error codes and record
// errors, and the batch the broker stores (maxTimestamp from the records,
// LogAppendTime, the topic's codec). The same rules over TCP with real
// clients: test/interop/produce-checks.test.ts.

import { describe, expect, test } from "bun:test";
import { Codec, compress } from "../../src/codec/compression.ts";
import { BASE_OFFSET, MAX_TIMESTAMP, viewOf, writeInt64 } from "../../src/log/batch-header.ts";
import { RecordErrors, storedCodecOf, validateProducedBatch, type ProduceRules } from "../../src/protocol/batch-validator.ts";
import { ErrorCode } from "../../src/protocol/errors.ts";
import { Attr, RecordsError, batchCrcMatches, buildBatch, buildControlBatch, decodeRecords, readBatchHeader } from "../../src/protocol/records.ts";
import { CODECS, T0, ascii, codeOf, corruptedBatches, defaultRules, rawRecord, resign, sampleRecords, text, withBody } from "./record-fixtures.ts";

const NOW = T0 + 1_000;
const RULES = defaultRules(NOW);
const validate = (b: Uint8Array, rules: Partial<ProduceRules> = {}) => validateProducedBatch(b, { ...RULES, ...rules });
const good = (codec = 0) => buildBatch({ records: sampleRecords(5), codec });

function recordErrorsOf(fn: () => unknown): { code: number; message: string; errors: { batchIndex: number; batchIndexErrorMessage: string }[] } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RecordErrors);
    const r = e as RecordErrors;
    return { code: r.kafkaErrorCode, message: r.message, errors: r.recordErrors };
  }
  throw new Error("expected RecordErrors");
}

describe("accepted batches", () => {
  for (const codec of CODECS) {
    test(`codec ${codec}: stored as received, same buffer, untouched when the header is right`, () => {
      const b = good(codec);
      const before = b.slice();
      expect(validate(b)).toBe(b);
      expect(b).toEqual(before);
    });
  }

  test("compression.type names map to codec ids; producer keeps the client's", () => {
    expect(["uncompressed", "gzip", "snappy", "lz4", "zstd", "producer"].map(storedCodecOf)).toEqual([0, 1, 2, 3, 4, null]);
  });

  test("maxTimestamp comes from the records: a wrong header is rewritten and re-signed", () => {
    for (const codec of [Codec.NONE, Codec.LZ4]) {
      const b = good(codec);
      writeInt64(viewOf(b), MAX_TIMESTAMP, 5);
      resign(b);
      const stored = validate(b);
      expect(readBatchHeader(stored).maxTimestamp).toBe(T0 + 40);
      expect(batchCrcMatches(stored)).toBe(true);
    }
  });

  test("records without timestamps (-1) pass any range and leave maxTimestamp -1", () => {
    const b = buildBatch({ records: [{ value: "a", timestamp: -1 }], baseTimestamp: -1 });
    const stored = validate(b, { timestampBeforeMaxMs: 0, timestampAfterMaxMs: 0 });
    expect(readBatchHeader(stored).maxTimestamp).toBe(-1);
  });
});

describe("refused batches: ProduceRequest and header rules", () => {
  test("no batch, a partial batch, or a truncated one: INVALID_RECORD", () => {
    const b = good();
    for (const cut of [0, 1, 11, 12, 60, b.length - 1]) expect(codeOf(() => validate(b.subarray(0, cut)))).toBe(ErrorCode.INVALID_RECORD);
  });

  test("two batches for one partition, or bytes after the batch: INVALID_RECORD", () => {
    expect(codeOf(() => validate(Uint8Array.from([...good(), ...good()])))).toBe(ErrorCode.INVALID_RECORD);
    expect(codeOf(() => validate(Uint8Array.from([...good(), 0, 0, 0])))).toBe(ErrorCode.INVALID_RECORD);
  });

  test("batch length shorter than a header, or negative: CORRUPT_MESSAGE", () => {
    for (const len of [0, 48, -1, -(2 ** 31)]) {
      const b = good();
      new DataView(b.buffer).setInt32(8, len);
      expect(codeOf(() => validate(b))).toBe(ErrorCode.CORRUPT_MESSAGE);
    }
  });

  test("magic other than 2: INVALID_RECORD", () => {
    for (const magic of [0, 1, 3]) {
      const b = good();
      b[16] = magic;
      expect(codeOf(() => validate(b))).toBe(ErrorCode.INVALID_RECORD);
    }
  });

  test("zstd before Produce v7: UNSUPPORTED_COMPRESSION_TYPE", () => {
    expect(codeOf(() => validate(good(Codec.ZSTD), { apiVersion: 6 }))).toBe(ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
    expect(validate(good(Codec.ZSTD), { apiVersion: 7 })).toBeInstanceOf(Uint8Array);
  });

  test("a base offset other than 0: INVALID_RECORD", () => {
    const b = good();
    writeInt64(viewOf(b), BASE_OFFSET, 7);
    expect(codeOf(() => validate(b))).toBe(ErrorCode.INVALID_RECORD);
  });

  test("larger than max.message.bytes as received: MESSAGE_TOO_LARGE", () => {
    const b = good();
    expect(codeOf(() => validate(b, { maxMessageBytes: b.length - 1 }))).toBe(ErrorCode.MESSAGE_TOO_LARGE);
    expect(validate(b, { maxMessageBytes: b.length })).toBe(b);
  });

  test("CRC mismatch in the header or a record: CORRUPT_MESSAGE", () => {
    for (const at of [21, 40, 61, 80]) {
      const b = good();
      b[at]! ^= 0x10;
      expect(codeOf(() => validate(b))).toBe(ErrorCode.CORRUPT_MESSAGE);
    }
  });

  test("unknown codec ids: CORRUPT_MESSAGE", () => {
    for (const codec of [5, 6, 7]) {
      const b = good();
      new DataView(b.buffer).setInt16(21, codec);
      expect(codeOf(() => validate(resign(b)))).toBe(ErrorCode.CORRUPT_MESSAGE);
    }
  });

  test("record count against lastOffsetDelta: INVALID_RECORD", () => {
    const cases: [number, number][] = [
      [0, -1],
      [5, 3],
      [3, 4],
      [-1, -2],
      [2 ** 31 - 1, 2 ** 31 - 2],
    ];
    for (const [count, lastDelta] of cases) {
      const b = good();
      const v = new DataView(b.buffer);
      v.setInt32(57, count);
      v.setInt32(23, lastDelta);
      expect(codeOf(() => validate(resign(b)))).toBe(ErrorCode.INVALID_RECORD);
    }
  });

  test("control batches and idempotent batches without a sequence: INVALID_RECORD", () => {
    expect(codeOf(() => validate(buildControlBatch({ producerId: 4, producerEpoch: 0, commit: true, coordinatorEpoch: 0, timestamp: T0 })))).toBe(ErrorCode.INVALID_RECORD);
    expect(codeOf(() => validate(buildBatch({ records: sampleRecords(2), producerId: 9, producerEpoch: 0, baseSequence: -1 })))).toBe(ErrorCode.INVALID_RECORD);
    expect(validate(buildBatch({ records: sampleRecords(2), producerId: 9, producerEpoch: 0, baseSequence: 0 }))).toBeInstanceOf(Uint8Array);
  });
});

describe("refused batches: every record walked", () => {
  const rec = (offsetDelta: number, extra: Partial<Parameters<typeof rawRecord>[0]> = {}) => rawRecord({ offsetDelta, key: [0x6b], value: [0x76], ...extra });

  const invalid: [string, number[], number][] = [
    ["offset deltas out of sequence", [...rec(0), ...rec(2)], 2],
    ["offset deltas starting at 1", [...rec(1), ...rec(2)], 2],
    ["fewer records than declared (count lies)", [...rec(0), ...rec(1)], 3],
    ["more records than declared (count lies)", [...rec(0), ...rec(1), ...rec(2)], 2],
    ["zero bytes where a record should be", [...rec(0), 0, 0, 0, 0, 0, 0, 0], 2],
    ["record length beyond the section", [...rec(0), ...rawRecord({ offsetDelta: 1, lengthAdjust: 50 })], 2],
    ["record length shorter than its fields", [...rec(0), ...rawRecord({ offsetDelta: 1, key: [1, 2, 3], lengthAdjust: -2 }), 0, 0], 2],
    ["negative record length", [...rec(0), 0x01, 0, 0, 0, 0, 0, 0, 0], 2],
    ["key length below -1", [...rec(0), ...rawRecord({ offsetDelta: 1 }).map((b, i) => (i === 4 ? 0x03 : b))], 2],
    ["null header key", [...rawRecord({ offsetDelta: 0, headers: [[null, [1]]] })], 1],
    ["negative header count", [...rawRecord({ offsetDelta: 0 }).slice(0, -1), 0x01], 1],
    ["huge header count", [...rawRecord({ offsetDelta: 0, lengthAdjust: 4 }).slice(0, -1), 0xfe, 0xff, 0xff, 0xff, 0x0f], 1],
    ["a varint that never ends", [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80], 1],
  ];
  for (const [name, body, count] of invalid) {
    test(`${name}: INVALID_RECORD, uncompressed and compressed`, () => {
      expect(codeOf(() => validate(withBody(Uint8Array.from(body), count)))).toBe(ErrorCode.INVALID_RECORD);
      const packed = compress(Codec.SNAPPY, Uint8Array.from(body));
      expect(codeOf(() => validate(withBody(packed, count, Codec.SNAPPY)))).toBe(ErrorCode.INVALID_RECORD);
    });
  }

  test("the hand encoder's well-formed batch is accepted", () => {
    const b = withBody(Uint8Array.from([...rec(0), ...rec(1)]), 2);
    expect(validate(b)).toBe(b);
  });

  test("undecompressable records: CORRUPT_MESSAGE", () => {
    for (const codec of [Codec.GZIP, Codec.SNAPPY, Codec.LZ4, Codec.ZSTD]) {
      expect(codeOf(() => validate(withBody(ascii("not compressed at all, not at all"), 1, codec)))).toBe(ErrorCode.CORRUPT_MESSAGE);
    }
  });

  test("a decompression bomb stops at the cap: MESSAGE_TOO_LARGE, before allocating it", () => {
    const b = buildBatch({ records: [{ value: new Uint8Array(80 << 20) }], codec: Codec.ZSTD });
    expect(b.length).toBeLessThan(16_384);
    expect(codeOf(() => validate(b))).toBe(ErrorCode.MESSAGE_TOO_LARGE);
    // Stored uncompressed, the cap is max.message.bytes itself.
    const small = buildBatch({ records: [{ value: new Uint8Array(2 << 20) }], codec: Codec.LZ4 });
    expect(codeOf(() => validate(small, { storedCodec: Codec.NONE }))).toBe(ErrorCode.MESSAGE_TOO_LARGE);
    expect(validate(small)).toBe(small);
  });

  test("random corruption under a valid CRC only ever raises RecordsError", () => {
    let accepted = 0;
    let round = 0;
    for (const b of corruptedBatches(777, 2500)) {
      try {
        validate(b, { storedCodec: round++ % 3 === 0 ? Codec.NONE : null });
        accepted++;
      } catch (e) {
        expect(e).toBeInstanceOf(RecordsError);
      }
    }
    expect(accepted).toBeGreaterThan(0);
  });
});

describe("compacted topics", () => {
  test("keyless records are refused with one record error each: INVALID_RECORD", () => {
    for (const codec of [Codec.NONE, Codec.ZSTD]) {
      const b = buildBatch({ records: [{ key: "a", value: "1" }, { value: "2" }, { key: "c", value: "3" }, { key: null, value: "4" }], codec });
      const r = recordErrorsOf(() => validate(b, { compacted: true, topic: "cmp", partition: 2 }));
      expect(r.code).toBe(ErrorCode.INVALID_RECORD);
      expect(r.errors.map((e) => e.batchIndex)).toEqual([1, 3]);
      expect(r.errors[0]!.batchIndexErrorMessage).toContain("cmp-2");
      expect(r.errors[0]!.batchIndexErrorMessage).toContain("without a key");
      expect(r.message).toContain("2 record(s) refused");
    }
  });

  test("keyed records (empty keys too) pass", () => {
    const b = buildBatch({ records: [{ key: "a", value: "1" }, { key: "", value: null }] });
    expect(validate(b, { compacted: true })).toBe(b);
  });
});

describe("timestamps", () => {
  const batch = () => buildBatch({ records: [{ value: "a", timestamp: NOW }, { value: "b", timestamp: NOW - 5_000 }, { value: "c", timestamp: NOW + 7_000 }] });

  test("outside message.timestamp.before/after.max.ms: INVALID_TIMESTAMP naming each record", () => {
    const early = recordErrorsOf(() => validate(batch(), { timestampBeforeMaxMs: 4_999 }));
    expect(early.code).toBe(ErrorCode.INVALID_TIMESTAMP);
    expect(early.errors.map((e) => e.batchIndex)).toEqual([1]);
    const late = recordErrorsOf(() => validate(batch(), { timestampAfterMaxMs: 6_999 }));
    expect(late.errors.map((e) => e.batchIndex)).toEqual([2]);
    expect(late.errors[0]!.batchIndexErrorMessage).toContain(String(NOW + 7_000));
    const both = recordErrorsOf(() => validate(batch(), { timestampBeforeMaxMs: 0, timestampAfterMaxMs: 0 }));
    expect(both.errors.map((e) => e.batchIndex)).toEqual([1, 2]);
    expect(validate(batch(), { timestampBeforeMaxMs: 5_000, timestampAfterMaxMs: 7_000 })).toBeInstanceOf(Uint8Array);
  });

  test("a timestamp error wins over a key error: INVALID_TIMESTAMP", () => {
    const b = buildBatch({ records: [{ value: "nokey", timestamp: NOW }, { key: "k", value: "old", timestamp: NOW - 10_000 }] });
    const r = recordErrorsOf(() => validate(b, { compacted: true, timestampBeforeMaxMs: 1_000 }));
    expect(r.code).toBe(ErrorCode.INVALID_TIMESTAMP);
    expect(r.errors.map((e) => e.batchIndex)).toEqual([0, 1]);
  });

  test("LogAppendTime topics stamp the broker's time, in place or after recompression, and skip the range checks", () => {
    for (const storedCodec of [null, Codec.GZIP]) {
      const stored = validate(batch(), { logAppendTime: true, storedCodec, timestampBeforeMaxMs: 0, timestampAfterMaxMs: 0 });
      const h = readBatchHeader(stored);
      expect(h.logAppendTime).toBe(true);
      expect(h.maxTimestamp).toBe(NOW);
      expect(batchCrcMatches(stored)).toBe(true);
      expect(decodeRecords(stored).map((r) => r.timestamp)).toEqual([NOW, NOW, NOW]);
    }
  });

  test("producers may not set LogAppendTime on a LogAppendTime topic: INVALID_TIMESTAMP", () => {
    const stamped = buildBatch({ records: sampleRecords(2), logAppendTime: T0 });
    expect(recordErrorsOf(() => validate(stamped, { logAppendTime: true })).code).toBe(ErrorCode.INVALID_TIMESTAMP);
  });
});

describe("the topic's compression.type", () => {
  for (const from of CODECS) {
    for (const to of CODECS) {
      if (from === to) continue;
      test(`${from} → ${to}: same records, producer fields kept, new codec bit, valid CRC`, () => {
        const input = sampleRecords(40);
        const b = buildBatch({ records: input, codec: from, producerId: 77, producerEpoch: 3, baseSequence: 12, transactional: true });
        const stored = validate(b, { storedCodec: to });
        const h = readBatchHeader(stored);
        expect(h).toMatchObject({ codec: to, producerId: 77, producerEpoch: 3, baseSequence: 12, transactional: true, recordCount: 40, lastOffsetDelta: 39, sizeInBytes: stored.length });
        expect(h.attributes & ~Attr.CODEC_MASK).toBe(Attr.TRANSACTIONAL);
        expect(batchCrcMatches(stored)).toBe(true);
        const before = decodeRecords(b);
        const after = decodeRecords(stored);
        expect(after.map((r) => [r.offset, r.timestamp, text(r.key), text(r.value), r.headers.length])).toEqual(before.map((r) => [r.offset, r.timestamp, text(r.key), text(r.value), r.headers.length]));
      });
    }
  }

  test("max.message.bytes applies to the batch as stored", () => {
    const b = buildBatch({ records: [{ value: new Uint8Array(100_000) }], codec: Codec.ZSTD });
    expect(b.length).toBeLessThan(1_000);
    expect(codeOf(() => validate(b, { storedCodec: Codec.NONE, maxMessageBytes: 50_000 }))).toBe(ErrorCode.MESSAGE_TOO_LARGE);
    expect(readBatchHeader(validate(b, { storedCodec: Codec.NONE, maxMessageBytes: 200_000 })).codec).toBe(Codec.NONE);
  });
});

// klite.mirror.preserve.offsets (klite mirror's target topics): a batch may name its offset and keep
// compaction's holes; without the config both are refused as Kafka refuses them.
describe("placed batches", () => {
  const holed = (codec = 0, baseOffset = 0) =>
    buildBatch({ records: sampleRecords(3).map((r, i) => ({ ...r, offsetDelta: [0, 4, 9][i] })), lastOffsetDelta: 9, codec, baseOffset });

  for (const codec of [Codec.NONE, Codec.ZSTD]) {
    test(`codec ${codec}: holes between offset deltas and a base offset are accepted with placedOffsets, stored as received`, () => {
      const b = holed(codec, 1234);
      expect(validate(b, { placedOffsets: true })).toBe(b);
      expect(readBatchHeader(b).baseOffset).toBe(1234);
      expect(decodeRecords(b).map((r) => r.offset)).toEqual([1234, 1238, 1243]);
    });
  }

  test("without placedOffsets: holes and a base offset are INVALID_RECORD", () => {
    expect(codeOf(() => validate(holed()))).toBe(ErrorCode.INVALID_RECORD);
    const based = good();
    writeInt64(viewOf(based), BASE_OFFSET, 7);
    expect(codeOf(() => validate(based))).toBe(ErrorCode.INVALID_RECORD);
  });

  test("placed: deltas must rise, end at lastOffsetDelta, and not outnumber the range", () => {
    const falling = buildBatch({ records: sampleRecords(3).map((r, i) => ({ ...r, offsetDelta: [0, 5, 3][i] })), lastOffsetDelta: 5 });
    expect(codeOf(() => validate(falling, { placedOffsets: true }))).toBe(ErrorCode.INVALID_RECORD);
    const repeated = buildBatch({ records: sampleRecords(3).map((r, i) => ({ ...r, offsetDelta: [0, 2, 2][i] })), lastOffsetDelta: 2 });
    expect(codeOf(() => validate(repeated, { placedOffsets: true }))).toBe(ErrorCode.INVALID_RECORD);
    const shortOfLast = buildBatch({ records: sampleRecords(3).map((r, i) => ({ ...r, offsetDelta: [0, 2, 4][i] })), lastOffsetDelta: 6 });
    expect(codeOf(() => validate(shortOfLast, { placedOffsets: true }))).toBe(ErrorCode.INVALID_RECORD);
    const tooMany = buildBatch({ records: sampleRecords(3), lastOffsetDelta: 1 });
    expect(codeOf(() => validate(tooMany, { placedOffsets: true }))).toBe(ErrorCode.INVALID_RECORD);
  });
});
