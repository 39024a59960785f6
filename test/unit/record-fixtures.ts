// Record batches for the unit tests of the record codec and the produce
// validator: sample records, hand-built batches with fields the builder never
// writes, and a re-signer for tests that change bytes under the CRC.

import { expect } from "bun:test";
import { crc32c } from "../../src/codec/crc32c.ts";
import { Codec } from "../../src/codec/compression.ts";
import { ATTRIBUTES, CRC, HEADER_SIZE, LAST_OFFSET_DELTA } from "../../src/log/batch-header.ts";
import type { ProduceRules } from "../../src/protocol/batch-validator.ts";
import { RecordsError, buildBatch, type RecordInit } from "../../src/protocol/records.ts";
import { Writer } from "../../src/protocol/writer.ts";

export const ascii = (s: string) => new TextEncoder().encode(s);
export const text = (b: Uint8Array | null) => (b === null ? null : new TextDecoder().decode(b));
export const CODECS = [Codec.NONE, Codec.GZIP, Codec.SNAPPY, Codec.LZ4, Codec.ZSTD];
export const T0 = 1_700_000_000_000;

/** Produce rules of a topic with Kafka's defaults (nothing refused for its time, codec as produced). */
export function defaultRules(now = T0): ProduceRules {
  const LONG_MAX = 9223372036854775807;
  return { apiVersion: 9, maxMessageBytes: 1 << 20, compacted: false, logAppendTime: false, timestampBeforeMaxMs: LONG_MAX, timestampAfterMaxMs: LONG_MAX, storedCodec: null, now, topic: "t", partition: 0 };
}

export function sampleRecords(n: number): RecordInit[] {
  return Array.from({ length: n }, (_, i) => ({
    key: i % 5 === 0 ? null : `key-${i}`,
    value: i % 7 === 3 ? null : `value ${i} ${"v".repeat(i % 40)}`,
    headers: i % 3 === 0 ? [] : [{ key: "h", value: `${i}` }, { key: "ünïcode", value: null }],
    timestamp: T0 + i * 10 - (i % 4 === 1 ? 5000 : 0),
  }));
}

/** The Kafka error code of the RecordsError `fn` throws. */
export function codeOf(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(RecordsError);
    return (e as RecordsError).kafkaErrorCode;
  }
  throw new Error("expected a RecordsError");
}

/** Re-signs a batch after a test changed bytes under the CRC. */
export function resign(batch: Uint8Array): Uint8Array {
  new DataView(batch.buffer, batch.byteOffset).setUint32(CRC, crc32c(batch.subarray(ATTRIBUTES)));
  return batch;
}

/** A batch whose records section is exactly `body`, with a valid CRC. */
export function withBody(body: Uint8Array, count: number, codec = 0, lastOffsetDelta = count - 1): Uint8Array {
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
export function rawRecord(f: { attributes?: number; tsDelta?: number; offsetDelta: number; key?: number[] | null; value?: number[] | null; headers?: [number[] | null, number[] | null][]; lengthAdjust?: number }): number[] {
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

/**
 * `rounds` copies of sample batches in every codec with one to three random bytes
 * changed (mostly in the records, sometimes the count and offset-delta fields of
 * the header), each re-signed so that the record walk itself meets the damage.
 */
export function* corruptedBatches(seed: number, rounds: number): Generator<Uint8Array> {
  const originals = CODECS.map((codec) => buildBatch({ records: sampleRecords(12), codec }));
  const rnd = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  for (let round = 0; round < rounds; round++) {
    const b = originals[round % originals.length]!.slice();
    for (let f = 1 + rnd(3); f > 0; f--) b[rnd(8) === 0 ? LAST_OFFSET_DELTA + rnd(HEADER_SIZE - LAST_OFFSET_DELTA) : HEADER_SIZE + rnd(b.length - HEADER_SIZE)] = rnd(256);
    yield resign(b);
  }
}
