// RecordBatch v2: header fields, in-place patches, building and decoding with
// every codec, validation verdicts with their Kafka error codes, and malformed
// batches (with correct CRCs, so the record walk itself is tested) that must
// only ever raise RecordsError.

import { describe, expect, test } from "bun:test";
import { crc32c } from "../../src/codec/crc32c.ts";
import { Codec, compress } from "../../src/codec/compression.ts";
import { ErrorCode } from "../../src/protocol/errors.ts";
import {
  Attr,
  HEADER_SIZE,
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
  setBaseOffset,
  setLogAppendTime,
  setPartitionLeaderEpoch,
  validateBatches,
  type RecordInit,
  type ValidateOptions,
} from "../../src/protocol/records.ts";
import { Writer } from "../../src/protocol/writer.ts";

const ascii = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));
const CODECS = [Codec.NONE, Codec.GZIP, Codec.SNAPPY, Codec.LZ4, Codec.ZSTD];
const T0 = 1_700_000_000_000;
const LOOSE: ValidateOptions = { maxBatchBytes: 1 << 30 };
const FULL: ValidateOptions = { maxBatchBytes: 1 << 30, decodeRecords: true };

function sampleRecords(n: number): RecordInit[] {
  return Array.from({ length: n }, (_, i) => ({
    key: i % 5 === 0 ? null : `key-${i}`,
    value: i % 7 === 3 ? null : `value ${i} ${"v".repeat(i % 40)}`,
    headers: i % 3 === 0 ? [] : [{ key: "h", value: `${i}` }, { key: "ünïcode", value: null }],
    timestamp: T0 + i * 10 - (i % 4 === 1 ? 5000 : 0),
  }));
}

function codeOf(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RecordsError);
    return (e as RecordsError).kafkaErrorCode;
  }
  throw new Error("expected a RecordsError");
}

/** Re-signs a batch after a test changed bytes under the CRC. */
function resign(batch: Uint8Array): Uint8Array {
  new DataView(batch.buffer, batch.byteOffset).setUint32(17, crc32c(batch.subarray(21)));
  return batch;
}

/** A batch whose records section is exactly `body`, with a valid CRC. */
function withBody(body: Uint8Array, count: number, codec = 0, lastOffsetDelta = count - 1): Uint8Array {
  const w = Writer.alloc(HEADER_SIZE + body.length);
  w.int64n(0);
  w.int32(HEADER_SIZE + body.length - 12);
  w.int32(-1);
  w.int8(2);
  w.uint32(0);
  w.int16(codec);
  w.int32(lastOffsetDelta);
  w.int64n(T0);
  w.int64n(T0);
  w.int64n(-1);
  w.int16(-1);
  w.int32(-1);
  w.int32(count);
  w.rawBytes(body);
  return resign(w.buf);
}

/** Encodes records by hand so tests can write fields the builder never would. */
function rawRecord(f: { attributes?: number; tsDelta?: number; offsetDelta: number; key?: number[] | null; value?: number[] | null; headers?: [number[] | null, number[] | null][]; lengthAdjust?: number }): number[] {
  const varint = (v: number): number[] => {
    let u = v >= 0 ? v * 2 : -v * 2 - 1;
    const out: number[] = [];
    while (u >= 0x80) {
      out.push((u & 0x7f) | 0x80);
      u = Math.floor(u / 128);
    }
    out.push(u);
    return out;
  };
  const bytes = (b: number[] | null | undefined) => (b == null ? varint(-1) : [...varint(b.length), ...b]);
  const body = [f.attributes ?? 0, ...varint(f.tsDelta ?? 0), ...varint(f.offsetDelta), ...bytes(f.key), ...bytes(f.value), ...varint(f.headers?.length ?? 0)];
  for (const [k, v] of f.headers ?? []) body.push(...(k === null ? varint(-1) : [...varint(k.length), ...k]), ...bytes(v));
  return [...varint(body.length + (f.lengthAdjust ?? 0)), ...body];
}

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

  test("baseOffset and partitionLeaderEpoch patch in place outside the CRC", () => {
    const blob = new Uint8Array(300);
    const b = buildBatch({ records: sampleRecords(2) });
    blob.set(b, 17);
    setBaseOffset(blob, 17, 2 ** 50 + 1);
    setPartitionLeaderEpoch(blob, 17, 42);
    const h = readBatchHeader(blob, 17);
    expect(h.baseOffset).toBe(2 ** 50 + 1);
    expect(h.partitionLeaderEpoch).toBe(42);
    expect(batchCrcMatches(blob, 17)).toBe(true);
    expect(decodeRecords(blob.subarray(17, 17 + b.length)).map((r) => r.offset)).toEqual([2 ** 50 + 1, 2 ** 50 + 2]);
  });

  test("LogAppendTime stamping sets the bit and maxTimestamp and re-signs", () => {
    const b = buildBatch({ records: sampleRecords(4), codec: Codec.SNAPPY });
    setLogAppendTime(b, 0, T0 + 999_999);
    const h = readBatchHeader(b);
    expect(h.logAppendTime).toBe(true);
    expect(h.maxTimestamp).toBe(T0 + 999_999);
    expect(batchCrcMatches(b)).toBe(true);
    // Every record then reads the batch's time.
    expect(decodeRecords(b).every((r) => r.timestamp === T0 + 999_999)).toBe(true);
  });
});

describe("build and decode", () => {
  for (const codec of CODECS) {
    test(`codec ${codec}: every field survives, keys/values/headers null or not`, () => {
      const input = sampleRecords(60);
      const b = buildBatch({ records: input, codec, baseOffset: 1000 });
      expect(readBatchHeader(b).codec).toBe(codec);
      expect(validateBatches(b, { ...FULL, clientOrigin: true })).toHaveLength(1);
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
      // A client may not produce one.
      expect(codeOf(() => validateBatches(b, { ...LOOSE, clientOrigin: true }))).toBe(ErrorCode.INVALID_RECORD);
      expect(validateBatches(b, FULL)).toHaveLength(1);
    });
  }

  test("a control record with a short key is refused", () => {
    expect(() => readControlRecord({ offset: 0, timestamp: 0, key: new Uint8Array(3), value: null, headers: [], attributes: 0 })).toThrow(RecordsError);
  });
});

describe("validateBatches verdicts", () => {
  const good = () => buildBatch({ records: sampleRecords(5) });

  test("several batches in one blob, each reported with its position", () => {
    const a = good();
    const b = buildBatch({ records: sampleRecords(3), codec: Codec.GZIP });
    const blob = Uint8Array.from([...a, ...b]);
    for (const opts of [LOOSE, FULL]) {
      const infos = validateBatches(blob, opts);
      expect(infos.map((i) => [i.position, i.size, i.recordCount, i.lastOffsetDelta])).toEqual([
        [0, a.length, 5, 4],
        [a.length, b.length, 3, 2],
      ]);
    }
    // Kafka accepts one batch per partition from a client.
    expect(codeOf(() => validateBatches(blob, { ...LOOSE, clientOrigin: true }))).toBe(ErrorCode.INVALID_RECORD);
  });

  test("maxTimestamp comes from the header, or from the records when they are decoded", () => {
    const b = good();
    new DataView(b.buffer).setInt32(39, 0); // header maxTimestamp now lies
    resign(b);
    expect(validateBatches(b, LOOSE)[0]!.maxTimestamp).not.toBe(T0 + 40);
    expect(validateBatches(b, FULL)[0]!.maxTimestamp).toBe(T0 + 40);
  });

  test("empty input and truncation are errors, wherever the cut falls", () => {
    expect(codeOf(() => validateBatches(new Uint8Array(0), LOOSE))).toBe(ErrorCode.INVALID_RECORD);
    const blob = Uint8Array.from([...good(), ...good()]);
    const one = good().length;
    for (const cut of [1, 12, 60, 61, one - 1, one + 1, one + 61, blob.length - 1]) {
      expect(codeOf(() => validateBatches(blob.subarray(0, cut), LOOSE))).toBe(ErrorCode.CORRUPT_MESSAGE);
    }
  });

  test("batch length shorter than a header, or negative", () => {
    for (const len of [0, 48, -1, -(2 ** 31)]) {
      const b = good();
      new DataView(b.buffer).setInt32(8, len);
      expect(codeOf(() => validateBatches(b, LOOSE))).toBe(ErrorCode.CORRUPT_MESSAGE);
    }
  });

  test("CRC mismatch, in the header or in a record", () => {
    for (const at of [21, 40, 61, 80]) {
      const b = good();
      b[at]! ^= 0x10;
      expect(codeOf(() => validateBatches(b, LOOSE))).toBe(ErrorCode.CORRUPT_MESSAGE);
    }
  });

  test("old message formats", () => {
    const b = good();
    b[16] = 1;
    expect(codeOf(() => validateBatches(b, LOOSE))).toBe(ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT);
  });

  test("larger than max.message.bytes", () => {
    const b = good();
    expect(codeOf(() => validateBatches(b, { maxBatchBytes: b.length - 1 }))).toBe(ErrorCode.MESSAGE_TOO_LARGE);
    expect(validateBatches(b, { maxBatchBytes: b.length })).toHaveLength(1);
  });

  test("unknown codec ids", () => {
    for (const codec of [5, 6, 7]) {
      const b = good();
      new DataView(b.buffer).setInt16(21, codec);
      expect(codeOf(() => validateBatches(resign(b), LOOSE))).toBe(ErrorCode.CORRUPT_MESSAGE);
    }
  });

  test("record count against lastOffsetDelta and against the bytes", () => {
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
      expect(codeOf(() => validateBatches(resign(b), LOOSE))).toBe(ErrorCode.INVALID_RECORD);
    }
  });

  test("client-origin rules: sequence with a producer id, no LogAppendTime from producers", () => {
    const idempotent = buildBatch({ records: sampleRecords(2), producerId: 9, producerEpoch: 0, baseSequence: -1 });
    expect(codeOf(() => validateBatches(idempotent, { ...LOOSE, clientOrigin: true }))).toBe(ErrorCode.INVALID_RECORD);
    expect(validateBatches(buildBatch({ records: sampleRecords(2), producerId: 9, producerEpoch: 0, baseSequence: 0 }), { ...LOOSE, clientOrigin: true })).toHaveLength(1);
    const stamped = buildBatch({ records: sampleRecords(2), logAppendTime: T0 });
    expect(codeOf(() => validateBatches(stamped, { ...LOOSE, clientOrigin: true }))).toBe(ErrorCode.INVALID_TIMESTAMP);
    expect(validateBatches(stamped, LOOSE)).toHaveLength(1);
  });

  test("compacted topics need keys (decoded mode)", () => {
    const b = buildBatch({ records: [{ key: "a", value: "1" }, { key: null, value: "2" }], codec: Codec.LZ4 });
    expect(validateBatches(b, FULL)).toHaveLength(1);
    try {
      validateBatches(b, { ...FULL, requireKeys: true });
      throw new Error("accepted");
    } catch (e) {
      expect(e).toBeInstanceOf(RecordsError);
      expect((e as RecordsError).kafkaErrorCode).toBe(ErrorCode.INVALID_RECORD);
      expect((e as RecordsError).recordIndex).toBe(1);
    }
  });
});

describe("record-level problems (decoded mode)", () => {
  const rec = (offsetDelta: number, extra: Partial<Parameters<typeof rawRecord>[0]> = {}) => rawRecord({ offsetDelta, key: [0x6b], value: [0x76], ...extra });

  test("the hand encoder agrees with the builder", () => {
    const b = withBody(Uint8Array.from([...rec(0), ...rec(1)]), 2);
    expect(validateBatches(b, FULL)).toHaveLength(1);
    expect(decodeRecords(b).map((r) => [text(r.key), text(r.value)])).toEqual([
      ["k", "v"],
      ["k", "v"],
    ]);
  });

  // [name, records section, declared count]; the first two are well-formed records whose
  // offsets break the produce rules, the rest cannot be decoded at all.
  const invalid: [string, number[], number][] = [
    ["offset deltas out of sequence", [...rec(0), ...rec(2)], 2],
    ["offset deltas starting at 1", [...rec(1), ...rec(2)], 2],
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
  invalid.forEach(([name, body, count], i) => {
    test(name, () => {
      const b = withBody(Uint8Array.from(body), count);
      expect(validateBatches(b, LOOSE)).toHaveLength(1); // the cheap mode does not look inside
      expect(codeOf(() => validateBatches(b, FULL))).toBe(ErrorCode.INVALID_RECORD);
      if (i >= 2) expect(codeOf(() => decodeRecords(b))).toBe(ErrorCode.INVALID_RECORD);
    });
  });

  test("the cheap mode still refuses a count that cannot fit in the bytes", () => {
    expect(codeOf(() => validateBatches(withBody(Uint8Array.from(rec(0)), 2), LOOSE))).toBe(ErrorCode.INVALID_RECORD);
  });

  test("compressed records get the same checks", () => {
    const body = compress(Codec.SNAPPY, Uint8Array.from([...rec(0), ...rec(5)]));
    expect(codeOf(() => validateBatches(withBody(body, 2, Codec.SNAPPY), FULL))).toBe(ErrorCode.INVALID_RECORD);
  });

  test("undecompressable records are CORRUPT_MESSAGE", () => {
    for (const codec of [Codec.GZIP, Codec.SNAPPY, Codec.LZ4, Codec.ZSTD]) {
      const b = withBody(ascii("not compressed at all, not at all"), 1, codec);
      expect(validateBatches(b, LOOSE)).toHaveLength(1);
      expect(codeOf(() => validateBatches(b, FULL))).toBe(ErrorCode.CORRUPT_MESSAGE);
      expect(codeOf(() => decodeRecords(b))).toBe(ErrorCode.CORRUPT_MESSAGE);
    }
  });

  test("a decompression bomb stops at the cap", () => {
    const b = buildBatch({ records: [{ value: new Uint8Array(8 << 20) }], codec: Codec.ZSTD });
    expect(b.length).toBeLessThan(4096);
    expect(codeOf(() => validateBatches(b, { ...FULL, maxUncompressedBytes: 1 << 20 }))).toBe(ErrorCode.CORRUPT_MESSAGE);
    expect(codeOf(() => decodeRecords(b, { maxUncompressedBytes: 1 << 20 }))).toBe(ErrorCode.CORRUPT_MESSAGE);
    expect(batchRecordsBytes(b, 9 << 20).length).toBeGreaterThan(8 << 20);
  });

  test("random corruption under a valid CRC only ever raises RecordsError", () => {
    const originals = CODECS.map((codec) => buildBatch({ records: sampleRecords(12), codec }));
    let seed = 4242;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    let accepted = 0;
    for (let round = 0; round < 2500; round++) {
      const b = originals[round % originals.length]!.slice();
      const flips = 1 + rnd(3);
      // Mostly the records section; sometimes the count and offset-delta fields too.
      for (let f = 0; f < flips; f++) b[rnd(8) === 0 ? 23 + rnd(38) : HEADER_SIZE + rnd(b.length - HEADER_SIZE)] = rnd(256);
      resign(b);
      try {
        validateBatches(b, { ...FULL, maxUncompressedBytes: 1 << 16 });
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
