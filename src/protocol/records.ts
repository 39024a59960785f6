// RecordBatch v2 helpers used by the broker: validation of produced batches,
// LogAppendTime stamping, and control batches for transaction markers.

import { crc32c } from "../codec/crc32c.ts";
import { ErrorCode } from "./errors.ts";
import { Writer, varintSize, varlongSize } from "./writer.ts";

export const HEADER_SIZE = 61;

export class RecordsError extends Error {
  override name = "RecordsError";
  constructor(
    message: string,
    readonly kafkaErrorCode: number,
  ) {
    super(message);
  }
}

export interface BatchInfo {
  position: number;
  size: number;
  attributes: number;
  lastOffsetDelta: number;
  recordCount: number;
  maxTimestamp: number;
}

function int64(v: DataView, pos: number): number {
  return v.getInt32(pos) * 4294967296 + v.getUint32(pos + 4);
}

/** Checks every batch of a Produce `records` blob: structure, magic, CRC, counts, size. */
export function validateBatches(buf: Uint8Array, opts: { maxBatchBytes: number }): BatchInfo[] {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: BatchInfo[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (buf.length - pos < HEADER_SIZE) throw new RecordsError("truncated record batch header", ErrorCode.CORRUPT_MESSAGE);
    const size = 12 + v.getInt32(pos + 8);
    if (size < HEADER_SIZE || size > buf.length - pos) throw new RecordsError("record batch length exceeds the data", ErrorCode.CORRUPT_MESSAGE);
    const magic = v.getInt8(pos + 16);
    if (magic !== 2) throw new RecordsError(`unsupported message format v${magic}`, ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT);
    if (size > opts.maxBatchBytes) throw new RecordsError(`batch of ${size} bytes exceeds max.message.bytes ${opts.maxBatchBytes}`, ErrorCode.MESSAGE_TOO_LARGE);
    const crc = v.getUint32(pos + 17);
    if (crc32c(buf.subarray(pos + 21, pos + size)) !== crc) throw new RecordsError("record batch CRC mismatch", ErrorCode.CORRUPT_MESSAGE);
    const attributes = v.getInt16(pos + 21);
    const lastOffsetDelta = v.getInt32(pos + 23);
    const recordCount = v.getInt32(pos + 57);
    if (recordCount <= 0 || lastOffsetDelta !== recordCount - 1) {
      throw new RecordsError(`inconsistent record count ${recordCount} and last offset delta ${lastOffsetDelta}`, ErrorCode.INVALID_RECORD);
    }
    out.push({ position: pos, size, attributes, lastOffsetDelta, recordCount, maxTimestamp: int64(v, pos + 35) });
    pos += size;
  }
  return out;
}

/** Stamps a batch with the broker's time (LogAppendTime): sets the timestamp-type bit and maxTimestamp, and re-signs it. */
export function setLogAppendTime(buf: Uint8Array, pos: number, now: number): void {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const size = 12 + v.getInt32(pos + 8);
  v.setInt16(pos + 21, v.getInt16(pos + 21) | 0x08);
  const hi = Math.floor(now / 4294967296);
  v.setInt32(pos + 35, hi);
  v.setUint32(pos + 39, now - hi * 4294967296);
  v.setUint32(pos + 17, crc32c(buf.subarray(pos + 21, pos + size)));
}

/** A transaction marker: a control batch with one record whose key is (version 0, type) and value (version 0, coordinator epoch). */
export function buildControlBatch(m: { producerId: number; producerEpoch: number; commit: boolean; coordinatorEpoch: number; timestamp: number }): Uint8Array {
  const key = 4;
  const value = 6;
  const body = 1 + varlongSize(0) + varintSize(0) + varintSize(key) + key + varintSize(value) + value + varintSize(0);
  const size = HEADER_SIZE + varintSize(body) + body;
  const w = Writer.alloc(size);
  w.int64n(0);
  w.int32(size - 12);
  w.int32(0);
  w.int8(2);
  w.uint32(0); // crc, filled below
  w.int16(0x10 | 0x20); // transactional + control
  w.int32(0);
  w.int64n(m.timestamp);
  w.int64n(m.timestamp);
  w.int64n(m.producerId);
  w.int16(m.producerEpoch);
  w.int32(-1);
  w.int32(1);
  w.varint(body);
  w.int8(0);
  w.varlong(0);
  w.varint(0);
  w.varint(key);
  w.int16(0);
  w.int16(m.commit ? 1 : 0);
  w.varint(value);
  w.int16(0);
  w.int32(m.coordinatorEpoch);
  w.varint(0);
  w.view.setUint32(17, crc32c(w.buf.subarray(21)));
  return w.buf;
}
