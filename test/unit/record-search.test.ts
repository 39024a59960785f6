// ListOffsets by timestamp names a record, not a batch, also inside compressed batches.

import { expect, test } from "bun:test";
import { firstRecordAtOrAfter, maxTimestampRecord } from "../../src/protocol/record-search.ts";
import { buildBatch } from "../../src/protocol/records.ts";

const CODECS = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const;

for (const [name, codec] of Object.entries(CODECS)) {
  test(`${name}: the first record at or after a timestamp, and the max-timestamp record`, () => {
    const batch = buildBatch({
      codec,
      baseOffset: 10,
      records: [100, 300, 200, 300].map((timestamp, i) => ({ value: `v${i}`, timestamp })),
    });
    expect(firstRecordAtOrAfter(batch, 150)).toEqual({ offset: 11, timestamp: 300 });
    expect(firstRecordAtOrAfter(batch, 100)).toEqual({ offset: 10, timestamp: 100 });
    expect(firstRecordAtOrAfter(batch, 150, 12)).toEqual({ offset: 12, timestamp: 200 });
    expect(firstRecordAtOrAfter(batch, 301)).toBeNull();
    expect(maxTimestampRecord(batch)).toEqual({ offset: 11, timestamp: 300 });
  });
}

test("a batch whose records cannot be read falls back to its header", () => {
  const batch = buildBatch({ codec: 1, baseOffset: 5, records: [{ value: "x", timestamp: 50 }, { value: "y", timestamp: 80 }] });
  expect(firstRecordAtOrAfter(batch, 0)).toEqual({ offset: 5, timestamp: 50 });
  batch[batch.length - 3] ^= 0xff; // corrupt the gzip trailer (the search does not check the batch CRC)
  // The header's base offset and max timestamp: the best a broken batch can say.
  expect(firstRecordAtOrAfter(batch, 0)).toEqual({ offset: 5, timestamp: 80 });
});
