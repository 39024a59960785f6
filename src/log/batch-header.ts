// The fixed 61-byte RecordBatch v2 header, read in place: the one definition
// of its layout, for the log, the record codec, transactions and fetch. The log
// needs only a handful of these fields (offsets, size, timestamps) and must not
// depend on the full record codec, so it reads them straight from a DataView.

export const BASE_OFFSET = 0;
export const BATCH_LENGTH = 8;
export const PARTITION_LEADER_EPOCH = 12;
export const MAGIC = 16;
export const CRC = 17;
export const ATTRIBUTES = 21;
export const LAST_OFFSET_DELTA = 23;
export const BASE_TIMESTAMP = 27;
export const MAX_TIMESTAMP = 35;
export const PRODUCER_ID = 43;
export const PRODUCER_EPOCH = 51;
export const BASE_SEQUENCE = 53;
export const RECORD_COUNT = 57;
export const HEADER_SIZE = 61;
/** baseOffset + batchLength: the bytes that precede what batchLength counts. */
export const LOG_OVERHEAD = 12;
/** Bytes of the header needed to know a batch's offsets, size and max timestamp. */
export const INDEXED_PREFIX = MAX_TIMESTAMP + 8;

const TWO_32 = 2 ** 32;

/** Reads a signed int64 as a number; offsets and timestamps stay far below 2^53. */
export function readInt64(view: DataView, pos: number): number {
  return view.getInt32(pos) * TWO_32 + view.getUint32(pos + 4);
}

export function writeInt64(view: DataView, pos: number, value: number): void {
  const hi = Math.floor(value / TWO_32);
  view.setInt32(pos, hi);
  view.setUint32(pos + 4, value - hi * TWO_32);
}

export function batchBaseOffset(view: DataView, pos: number): number {
  return readInt64(view, pos + BASE_OFFSET);
}

/** Whole size of the batch on disk, header included. */
export function batchSize(view: DataView, pos: number): number {
  return LOG_OVERHEAD + view.getInt32(pos + BATCH_LENGTH);
}

export function batchLastOffsetDelta(view: DataView, pos: number): number {
  return view.getInt32(pos + LAST_OFFSET_DELTA);
}

export function batchMaxTimestamp(view: DataView, pos: number): number {
  return readInt64(view, pos + MAX_TIMESTAMP);
}

export function batchMagic(view: DataView, pos: number): number {
  return view.getInt8(pos + MAGIC);
}

export function batchCrc(view: DataView, pos: number): number {
  return view.getUint32(pos + CRC);
}

export function batchRecordCount(view: DataView, pos: number): number {
  return view.getInt32(pos + RECORD_COUNT);
}

/**
 * Why a batch header cannot be a stored batch, or null when it can be.
 * `available` is how many bytes exist from `pos` to the end of the data.
 */
export function headerProblem(view: DataView, pos: number, available: number): string | null {
  if (available < HEADER_SIZE) return `only ${available} bytes left, a batch header needs ${HEADER_SIZE}`;
  const size = batchSize(view, pos);
  if (size < HEADER_SIZE) return `batch length ${size - LOG_OVERHEAD} is shorter than a header`;
  if (size > available) return `batch of ${size} bytes runs past the end (${available} left)`;
  if (batchMagic(view, pos) !== 2) return `magic ${batchMagic(view, pos)} is not 2`;
  if (batchLastOffsetDelta(view, pos) < 0) return `negative lastOffsetDelta ${batchLastOffsetDelta(view, pos)}`;
  if (batchRecordCount(view, pos) < 0) return `negative record count ${batchRecordCount(view, pos)}`;
  return null;
}

export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
