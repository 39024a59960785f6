import { expect, test } from "bun:test";
import { ProducerStateTable } from "../../src/txn/producer-state.ts";
import { ErrorCode } from "../../src/protocol/errors.ts";

const b = (producerId: number, producerEpoch: number, baseSequence: number, count: number) => ({ producerId, producerEpoch, baseSequence, count });

test("in-order batches append; a retried batch among the last five is a duplicate with its original offsets", () => {
  const t = new ProducerStateTable();
  let off = 0;
  for (let i = 0; i < 7; i++) {
    const batch = b(7, 0, i * 10, 10);
    expect(t.check(batch)).toEqual({ kind: "append" });
    t.record(batch, off, off + 9, 1000);
    off += 10;
  }
  expect(t.check(b(7, 0, 60, 10))).toEqual({ kind: "duplicate", firstOffset: 60, lastOffset: 69 });
  expect(t.check(b(7, 0, 20, 10))).toEqual({ kind: "duplicate", firstOffset: 20, lastOffset: 29 });
  // Older than the five cached batches: no longer recognisable, and out of sequence.
  expect(t.check(b(7, 0, 10, 10))).toMatchObject({ kind: "error", errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
  // A gap.
  expect(t.check(b(7, 0, 75, 5))).toMatchObject({ kind: "error", errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
  expect(t.check(b(7, 0, 70, 5))).toEqual({ kind: "append" });
});

test("epochs: older is fenced, newer must restart at 0", () => {
  const t = new ProducerStateTable();
  t.record(b(1, 3, 0, 5), 0, 4, 1);
  expect(t.check(b(1, 2, 5, 1))).toMatchObject({ kind: "error", errorCode: ErrorCode.INVALID_PRODUCER_EPOCH });
  expect(t.check(b(1, 4, 5, 1))).toMatchObject({ kind: "error", errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
  expect(t.check(b(1, 4, 0, 1))).toEqual({ kind: "append" });
  t.record(b(1, 4, 0, 1), 5, 5, 2);
  expect(t.get(1)!.batches).toEqual([{ firstSeq: 0, lastSeq: 0, firstOffset: 5, lastOffset: 5 }]);
});

test("an unknown producer may start anywhere; sequences wrap at 2^31-1", () => {
  const t = new ProducerStateTable();
  expect(t.check(b(9, 0, 12345, 1))).toEqual({ kind: "append" });
  t.record(b(9, 0, 2147483646, 2), 0, 1, 1);
  expect(t.check(b(9, 0, 0, 1))).toEqual({ kind: "append" });
});

test("idle producers expire unless a transaction is open", () => {
  const t = new ProducerStateTable();
  t.record(b(1, 0, 0, 1), 0, 0, 1000);
  t.record(b(2, 0, 0, 1), 1, 1, 1000).txnFirstOffset = 1;
  t.expire(1000 + 86_400_001, 86_400_000);
  expect(t.get(1)).toBeUndefined();
  expect(t.get(2)).toBeDefined();
});
