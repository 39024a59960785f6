// RecordBatch v2 (magic 2): reading headers, validating produced batches,
// decoding records (decompressing where needed), and building batches.
//
// Layout of the 61-byte header, big-endian:
//   0 baseOffset int64 | 8 batchLength int32 | 12 partitionLeaderEpoch int32 | 16 magic int8
//   17 crc uint32 (CRC-32C of bytes 21..end) | 21 attributes int16 | 23 lastOffsetDelta int32
//   27 baseTimestamp int64 | 35 maxTimestamp int64 | 43 producerId int64 | 51 producerEpoch int16
//   53 baseSequence int32 | 57 recordCount int32 | 61 records (compressed as a whole when codec != 0)
//
// Every length read from a batch is checked against the bytes that hold it,
// and decompression is capped, so malformed input ends in a RecordsError.

import { crc32c } from "../codec/crc32c.ts";
import { CompressionError, compress, decompress, isKnownCodec } from "../codec/compression.ts";
import { ErrorCode } from "./errors.ts";
import { DecodeError, Reader } from "./reader.ts";
import { Writer, varintSize, varlongSize } from "./writer.ts";

export const HEADER_SIZE = 61;
/** baseOffset + batchLength: the bytes that batchLength does not count. */
export const LOG_OVERHEAD = 12;
export const MAGIC_V2 = 2;

const OFF_BATCH_LENGTH = 8;
const OFF_LEADER_EPOCH = 12;
const OFF_MAGIC = 16;
const OFF_CRC = 17;
const OFF_ATTRIBUTES = 21;
const OFF_LAST_OFFSET_DELTA = 23;
const OFF_BASE_TIMESTAMP = 27;
const OFF_MAX_TIMESTAMP = 35;
const OFF_PRODUCER_ID = 43;
const OFF_PRODUCER_EPOCH = 51;
const OFF_BASE_SEQUENCE = 53;
const OFF_RECORD_COUNT = 57;

export const Attr = {
  CODEC_MASK: 0x07,
  LOG_APPEND_TIME: 0x08,
  TRANSACTIONAL: 0x10,
  CONTROL: 0x20,
  DELETE_HORIZON: 0x40,
} as const;

export const ControlType = { ABORT: 0, COMMIT: 1 } as const;

/** Default cap on a batch's decompressed records when the caller gives none. */
export const DEFAULT_MAX_UNCOMPRESSED_BYTES = 64 * 1024 * 1024;

/** Smallest encoded record: length, attributes, timestamp delta, offset delta, key, value, header count. */
const MIN_RECORD_SIZE = 7;

export class RecordsError extends Error {
  override name = "RecordsError";
  constructor(
    message: string,
    /** The Kafka error code a Produce response should carry. */
    readonly kafkaErrorCode: number,
    /** Index of the offending record within its batch, for Produce's record_errors. */
    readonly recordIndex: number | null = null,
  ) {
    super(message);
  }
}

export interface BatchHeader {
  baseOffset: number;
  batchLength: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  codec: number;
  logAppendTime: boolean;
  transactional: boolean;
  control: boolean;
  hasDeleteHorizonMs: boolean;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
  /** The whole batch on the wire: LOG_OVERHEAD + batchLength. */
  sizeInBytes: number;
}

export interface RecordHeader {
  key: string;
  value: Uint8Array | null;
}

export interface KafkaRecord {
  offset: number;
  timestamp: number;
  /** Views into the batch when it is uncompressed, into the decompressed buffer otherwise. */
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: RecordHeader[];
  attributes: number;
}

const TWO_32 = 4294967296;

function viewOf(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function getInt64(v: DataView, pos: number): number {
  return v.getInt32(pos) * TWO_32 + v.getUint32(pos + 4);
}

function setInt64(v: DataView, pos: number, value: number): void {
  const hi = Math.floor(value / TWO_32);
  v.setInt32(pos, hi);
  v.setUint32(pos + 4, value - hi * TWO_32);
}

// ---- header ----

/** Reads the header of the batch at `pos`. Fields are read as they are; validateBatches judges them. */
export function readBatchHeader(buf: Uint8Array, pos = 0): BatchHeader {
  if (pos < 0 || buf.length - pos < HEADER_SIZE) {
    throw new RecordsError(`record batch header needs ${HEADER_SIZE} bytes, ${Math.max(0, buf.length - pos)} left`, ErrorCode.CORRUPT_MESSAGE);
  }
  const v = viewOf(buf);
  const batchLength = v.getInt32(pos + OFF_BATCH_LENGTH);
  const attributes = v.getInt16(pos + OFF_ATTRIBUTES);
  return {
    baseOffset: getInt64(v, pos),
    batchLength,
    partitionLeaderEpoch: v.getInt32(pos + OFF_LEADER_EPOCH),
    magic: v.getInt8(pos + OFF_MAGIC),
    crc: v.getUint32(pos + OFF_CRC),
    attributes,
    codec: attributes & Attr.CODEC_MASK,
    logAppendTime: (attributes & Attr.LOG_APPEND_TIME) !== 0,
    transactional: (attributes & Attr.TRANSACTIONAL) !== 0,
    control: (attributes & Attr.CONTROL) !== 0,
    hasDeleteHorizonMs: (attributes & Attr.DELETE_HORIZON) !== 0,
    lastOffsetDelta: v.getInt32(pos + OFF_LAST_OFFSET_DELTA),
    baseTimestamp: getInt64(v, pos + OFF_BASE_TIMESTAMP),
    maxTimestamp: getInt64(v, pos + OFF_MAX_TIMESTAMP),
    producerId: getInt64(v, pos + OFF_PRODUCER_ID),
    producerEpoch: v.getInt16(pos + OFF_PRODUCER_EPOCH),
    baseSequence: v.getInt32(pos + OFF_BASE_SEQUENCE),
    recordCount: v.getInt32(pos + OFF_RECORD_COUNT),
    sizeInBytes: LOG_OVERHEAD + batchLength,
  };
}

/** Whether the stored CRC matches the batch at `pos` (which must be whole). */
export function batchCrcMatches(buf: Uint8Array, pos = 0): boolean {
  const v = viewOf(buf);
  const size = LOG_OVERHEAD + v.getInt32(pos + OFF_BATCH_LENGTH);
  return crc32c(buf.subarray(pos + OFF_ATTRIBUTES, pos + size)) === v.getUint32(pos + OFF_CRC);
}

/** Sets baseOffset in place; it lies outside the CRC, so the batch stays valid. */
export function setBaseOffset(buf: Uint8Array, pos: number, baseOffset: number): void {
  setInt64(viewOf(buf), pos, baseOffset);
}

/** Sets partitionLeaderEpoch in place; outside the CRC too. */
export function setPartitionLeaderEpoch(buf: Uint8Array, pos: number, epoch: number): void {
  viewOf(buf).setInt32(pos + OFF_LEADER_EPOCH, epoch);
}

/** Stamps the broker's time (LogAppendTime): sets the timestamp-type bit and maxTimestamp, and re-signs the batch. */
export function setLogAppendTime(buf: Uint8Array, pos: number, now: number): void {
  const v = viewOf(buf);
  const size = LOG_OVERHEAD + v.getInt32(pos + OFF_BATCH_LENGTH);
  v.setInt16(pos + OFF_ATTRIBUTES, v.getInt16(pos + OFF_ATTRIBUTES) | Attr.LOG_APPEND_TIME);
  setInt64(v, pos + OFF_MAX_TIMESTAMP, now);
  v.setUint32(pos + OFF_CRC, crc32c(buf.subarray(pos + OFF_ATTRIBUTES, pos + size)));
}

// ---- records ----

/** The records section of a whole batch, decompressed if needed (a view when uncompressed). */
export function batchRecordsBytes(batch: Uint8Array, maxUncompressedBytes = DEFAULT_MAX_UNCOMPRESSED_BYTES): Uint8Array {
  const h = readBatchHeader(batch, 0);
  if (h.sizeInBytes < HEADER_SIZE || h.sizeInBytes > batch.length) {
    throw new RecordsError(`batch length ${h.batchLength} does not fit the ${batch.length} bytes given`, ErrorCode.CORRUPT_MESSAGE);
  }
  const body = batch.subarray(HEADER_SIZE, h.sizeInBytes);
  if (h.codec === 0) return body;
  try {
    return decompress(h.codec, body, maxUncompressedBytes);
  } catch (e) {
    if (e instanceof CompressionError) throw new RecordsError(`record batch: ${e.message}`, ErrorCode.CORRUPT_MESSAGE);
    throw e;
  }
}

const utf8 = new TextDecoder("utf-8");

/** Header keys are short and nearly always ASCII; TextDecoder costs more than the loop for those. */
function headerKey(buf: Uint8Array, start: number, len: number): string {
  if (len > 32) return utf8.decode(buf.subarray(start, start + len));
  let s = "";
  for (let i = start; i < start + len; i++) {
    const c = buf[i]!;
    if (c > 0x7f) return utf8.decode(buf.subarray(start, start + len));
    s += String.fromCharCode(c);
  }
  return s;
}

/** A varint length: -1 (null) or 0..(end - pos); anything else is malformed. */
function nullableLength(r: Reader, end: number, what: string, index: number): number {
  const len = r.varint();
  if (len < -1 || len > end - r.pos) throw new RecordsError(`record ${index}: bad ${what} length ${len}`, ErrorCode.INVALID_RECORD, index);
  return len;
}

/** What a record walk learns without materializing keys, values or headers. */
interface RecordShape {
  timestampDelta: number;
  offsetDelta: number;
  keyNull: boolean;
}

/** Reads one record's fields from `r`, materializing them when `out` is given. */
function readRecord(r: Reader, index: number, shape: RecordShape, out: KafkaRecord | null): void {
  try {
    readRecordFields(r, index, shape, out);
  } catch (e) {
    if (e instanceof DecodeError) throw new RecordsError(`record ${index}: truncated (${e.message})`, ErrorCode.INVALID_RECORD, index);
    throw e;
  }
}

// Reads straight from the section's reader (no per-record sub-reader: this is the
// hot path of validation); every length is checked against the record's own end.
function readRecordFields(r: Reader, index: number, shape: RecordShape, out: KafkaRecord | null): void {
  const len = r.varint();
  if (len < MIN_RECORD_SIZE - 1 || len > r.remaining) throw new RecordsError(`record ${index}: bad length ${len}`, ErrorCode.INVALID_RECORD, index);
  const end = r.pos + len;
  const attributes = r.int8();
  shape.timestampDelta = r.varlong();
  shape.offsetDelta = r.varint();
  const keyLen = nullableLength(r, end, "key", index);
  shape.keyNull = keyLen < 0;
  const key = keyLen < 0 || !out ? null : r.buf.subarray(r.pos, r.pos + keyLen);
  if (keyLen > 0) r.pos += keyLen;
  const valueLen = nullableLength(r, end, "value", index);
  const value = valueLen < 0 || !out ? null : r.buf.subarray(r.pos, r.pos + valueLen);
  if (valueLen > 0) r.pos += valueLen;
  if (r.pos > end) throw new RecordsError(`record ${index}: fields run past its length ${len}`, ErrorCode.INVALID_RECORD, index);
  const headerCount = r.varint();
  // Each header takes at least two bytes, which bounds the count by what is left.
  if (headerCount < 0 || headerCount * 2 > end - r.pos) throw new RecordsError(`record ${index}: bad header count ${headerCount}`, ErrorCode.INVALID_RECORD, index);
  const headers: RecordHeader[] = [];
  for (let h = 0; h < headerCount; h++) {
    const kLen = r.varint();
    if (kLen < 0 || kLen > end - r.pos) throw new RecordsError(`record ${index}: bad header key length ${kLen}`, ErrorCode.INVALID_RECORD, index);
    const kStart = r.pos;
    r.pos += kLen;
    const vLen = nullableLength(r, end, "header value", index);
    if (out) headers.push({ key: headerKey(r.buf, kStart, kLen), value: vLen < 0 ? null : r.buf.subarray(r.pos, r.pos + vLen) });
    if (vLen > 0) r.pos += vLen;
  }
  if (r.pos !== end) throw new RecordsError(`record ${index}: its fields take ${len + r.pos - end} bytes, its length says ${len}`, ErrorCode.INVALID_RECORD, index);
  if (out) {
    out.attributes = attributes;
    out.key = key;
    out.value = value;
    out.headers = headers;
  }
}

export interface DecodeOptions {
  /** Cap on the decompressed records section; default DEFAULT_MAX_UNCOMPRESSED_BYTES. */
  maxUncompressedBytes?: number;
}

/** Reads one batch's records one at a time; the generator and the array form share it. */
class RecordCursor {
  private readonly h: BatchHeader;
  private readonly r: Reader;
  private readonly shape: RecordShape = { timestampDelta: 0, offsetDelta: 0, keyNull: false };
  private index = 0;

  constructor(batch: Uint8Array, opts: DecodeOptions) {
    this.h = readBatchHeader(batch, 0);
    this.r = new Reader(batchRecordsBytes(batch, opts.maxUncompressedBytes));
  }

  /** The next record, or null after the last one (checking that nothing follows it). */
  next(): KafkaRecord | null {
    const h = this.h;
    if (this.index >= h.recordCount) {
      if (this.r.remaining !== 0) throw new RecordsError(`${this.r.remaining} bytes follow the ${h.recordCount} declared records`, ErrorCode.INVALID_RECORD);
      return null;
    }
    const rec: KafkaRecord = { offset: 0, timestamp: 0, key: null, value: null, headers: [], attributes: 0 };
    readRecord(this.r, this.index++, this.shape, rec);
    rec.offset = h.baseOffset + this.shape.offsetDelta;
    rec.timestamp = h.logAppendTime ? h.maxTimestamp : h.baseTimestamp + this.shape.timestampDelta;
    return rec;
  }
}

/**
 * Iterates the records of one whole batch (as stored or fetched: `batch` starts at its
 * header). Records come out in order; offsets are baseOffset + offsetDelta.
 */
export function* iterateRecords(batch: Uint8Array, opts: DecodeOptions = {}): Generator<KafkaRecord> {
  const cursor = new RecordCursor(batch, opts);
  for (let rec = cursor.next(); rec !== null; rec = cursor.next()) yield rec;
}

/** All records of one whole batch. */
export function decodeRecords(batch: Uint8Array, opts: DecodeOptions = {}): KafkaRecord[] {
  const cursor = new RecordCursor(batch, opts);
  const out: KafkaRecord[] = [];
  for (let rec = cursor.next(); rec !== null; rec = cursor.next()) out.push(rec);
  return out;
}

/**
 * Offset and timestamp of each record, without materializing keys, values or headers:
 * the cheap walk behind ListOffsets by timestamp.
 */
export function* recordTimestamps(batch: Uint8Array, opts: DecodeOptions = {}): Generator<{ offset: number; timestamp: number }> {
  const h = readBatchHeader(batch, 0);
  const body = batchRecordsBytes(batch, opts.maxUncompressedBytes);
  const r = new Reader(body);
  const shape: RecordShape = { timestampDelta: 0, offsetDelta: 0, keyNull: false };
  for (let i = 0; i < h.recordCount; i++) {
    readRecord(r, i, shape, null);
    yield { offset: h.baseOffset + shape.offsetDelta, timestamp: h.logAppendTime ? h.maxTimestamp : h.baseTimestamp + shape.timestampDelta };
  }
}

export interface ControlRecord {
  version: number;
  /** 0 abort, 1 commit; other values are control records that are not transaction markers. */
  type: number;
  /** Present for transaction markers whose value holds it. */
  coordinatorEpoch: number | null;
}

/** Reads a control record's key (int16 version, int16 type) and, for markers, value (int16 version, int32 coordinator epoch). */
export function readControlRecord(record: KafkaRecord): ControlRecord {
  const k = record.key;
  if (!k || k.length < 4) throw new RecordsError("control record key too short", ErrorCode.CORRUPT_MESSAGE);
  const kv = viewOf(k);
  const type = kv.getInt16(2);
  const v = record.value;
  const coordinatorEpoch = (type === ControlType.ABORT || type === ControlType.COMMIT) && v && v.length >= 6 ? viewOf(v).getInt32(2) : null;
  return { version: kv.getInt16(0), type, coordinatorEpoch };
}

// ---- validation ----

export interface BatchInfo {
  /** Where the batch starts in the validated blob, and its whole size. */
  position: number;
  size: number;
  header: BatchHeader;
  attributes: number;
  lastOffsetDelta: number;
  recordCount: number;
  /** The header's maxTimestamp; with `decodeRecords`, the largest record timestamp (-1 if none). */
  maxTimestamp: number;
}

export interface ValidateOptions {
  /** max.message.bytes: a larger batch gets MESSAGE_TOO_LARGE. */
  maxBatchBytes: number;
  /**
   * Also walk every record (decompressing if needed): record structure, offset deltas
   * 0..n-1, declared count, and `requireKeys`. Without it only the header and CRC are
   * checked, which is enough to store the batch safely.
   */
  decodeRecords?: boolean;
  /** Cap on a batch's decompressed records; default DEFAULT_MAX_UNCOMPRESSED_BYTES. */
  maxUncompressedBytes?: number;
  /** Compacted topics: a record without a key is INVALID_RECORD. Needs `decodeRecords`. */
  requireKeys?: boolean;
  /**
   * Kafka's rules for batches from clients (not from replication or tools): exactly one
   * batch per partition, no control batches, a sequence number whenever there is a
   * producer id, and no LogAppendTime set by the producer.
   */
  clientOrigin?: boolean;
}

function fail(message: string, code: number, index: number | null = null): never {
  throw new RecordsError(message, code, index);
}

/** Header-level checks of the batch at `pos` of the blob `buf`. */
function checkHeader(buf: Uint8Array, pos: number, opts: ValidateOptions): BatchHeader {
  const available = buf.length - pos;
  if (available < HEADER_SIZE) fail(`truncated record batch: ${available} bytes, a header needs ${HEADER_SIZE}`, ErrorCode.CORRUPT_MESSAGE);
  const h = readBatchHeader(buf, pos);
  if (h.sizeInBytes < HEADER_SIZE) fail(`record batch length ${h.batchLength} is shorter than its header`, ErrorCode.CORRUPT_MESSAGE);
  if (h.sizeInBytes > available) fail(`truncated record batch: ${h.sizeInBytes} bytes declared, ${available} present`, ErrorCode.CORRUPT_MESSAGE);
  if (h.magic !== MAGIC_V2) fail(`unsupported message format v${h.magic}`, ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT);
  if (h.sizeInBytes > opts.maxBatchBytes) fail(`batch of ${h.sizeInBytes} bytes exceeds max.message.bytes ${opts.maxBatchBytes}`, ErrorCode.MESSAGE_TOO_LARGE);
  if (crc32c(buf.subarray(pos + OFF_ATTRIBUTES, pos + h.sizeInBytes)) !== h.crc) fail("record batch CRC mismatch", ErrorCode.CORRUPT_MESSAGE);
  if (!isKnownCodec(h.codec)) fail(`unknown compression codec ${h.codec}`, ErrorCode.CORRUPT_MESSAGE);
  if (h.recordCount <= 0 || h.lastOffsetDelta !== h.recordCount - 1) {
    fail(`inconsistent record count ${h.recordCount} and last offset delta ${h.lastOffsetDelta}`, ErrorCode.INVALID_RECORD);
  }
  // An uncompressed record takes at least MIN_RECORD_SIZE bytes; a count beyond that is a lie.
  if (h.codec === 0 && h.recordCount > (h.sizeInBytes - HEADER_SIZE) / MIN_RECORD_SIZE) {
    fail(`${h.recordCount} records cannot fit in ${h.sizeInBytes - HEADER_SIZE} bytes`, ErrorCode.INVALID_RECORD);
  }
  if (opts.clientOrigin) {
    if (h.control) fail("clients may not write control batches", ErrorCode.INVALID_RECORD);
    if (h.producerId >= 0 && h.baseSequence < 0) fail(`invalid sequence ${h.baseSequence} for producer id ${h.producerId}`, ErrorCode.INVALID_RECORD);
    if (h.logAppendTime) fail("producers may not set the LogAppendTime timestamp type", ErrorCode.INVALID_TIMESTAMP);
  }
  return h;
}

/** Record-level checks; returns the largest record timestamp. */
function checkRecords(batch: Uint8Array, h: BatchHeader, opts: ValidateOptions): number {
  const body = batchRecordsBytes(batch, opts.maxUncompressedBytes);
  const r = new Reader(body);
  const shape: RecordShape = { timestampDelta: 0, offsetDelta: 0, keyNull: false };
  let maxTimestamp = -1;
  for (let i = 0; i < h.recordCount; i++) {
    readRecord(r, i, shape, null);
    // Kafka rewrites a batch whose inner offsets are not 0..n-1; we store batches as
    // produced, so such a batch is refused instead.
    if (shape.offsetDelta !== i) fail(`record ${i} has offset delta ${shape.offsetDelta}`, ErrorCode.INVALID_RECORD, i);
    if (opts.requireKeys && shape.keyNull) fail(`record ${i}: a compacted topic needs a key`, ErrorCode.INVALID_RECORD, i);
    const ts = h.baseTimestamp + shape.timestampDelta;
    if (ts > maxTimestamp) maxTimestamp = ts;
  }
  if (r.remaining !== 0) fail(`${r.remaining} bytes follow the ${h.recordCount} declared records`, ErrorCode.INVALID_RECORD);
  return h.logAppendTime ? h.maxTimestamp : maxTimestamp;
}

/**
 * Checks every batch of a Produce `records` blob: size against the bytes present (a
 * truncated trailing batch is CORRUPT_MESSAGE), magic 2, CRC, codec, record count against
 * lastOffsetDelta, and, on request, every record. Throws RecordsError with the Kafka
 * error code that applies; returns one entry per batch otherwise.
 */
export function validateBatches(buf: Uint8Array, opts: ValidateOptions): BatchInfo[] {
  const out: BatchInfo[] = [];
  if (buf.length === 0) fail("no record batches", ErrorCode.INVALID_RECORD);
  let pos = 0;
  while (pos < buf.length) {
    const h = checkHeader(buf, pos, opts);
    if (opts.clientOrigin && out.length > 0) fail("a produce request may carry one record batch per partition", ErrorCode.INVALID_RECORD);
    const maxTimestamp = opts.decodeRecords ? checkRecords(buf.subarray(pos, pos + h.sizeInBytes), h, opts) : h.maxTimestamp;
    out.push({ position: pos, size: h.sizeInBytes, header: h, attributes: h.attributes, lastOffsetDelta: h.lastOffsetDelta, recordCount: h.recordCount, maxTimestamp });
    pos += h.sizeInBytes;
  }
  return out;
}

// ---- building ----

export type BytesInit = Uint8Array | string | null;

export interface RecordInit {
  key?: BytesInit;
  value?: BytesInit;
  headers?: { key: string; value: BytesInit }[];
  /** Defaults to the batch's baseTimestamp. */
  timestamp?: number;
  /** Defaults to the record's index; the cleaner keeps the original deltas of the records it retains. */
  offsetDelta?: number;
}

export interface BuildBatchOptions {
  records: RecordInit[];
  baseOffset?: number;
  partitionLeaderEpoch?: number;
  codec?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  transactional?: boolean;
  control?: boolean;
  /** When set, the batch is LogAppendTime-stamped with this time. */
  logAppendTime?: number;
  /** Defaults to the first record's timestamp, or now. */
  baseTimestamp?: number;
  /** Sets the delete-horizon bit; baseTimestamp then carries the horizon. */
  deleteHorizonMs?: number;
  /** Defaults to records - 1; a cleaned batch keeps its original one (the producer's sequence range). */
  lastOffsetDelta?: number;
}

const utf8Encoder = new TextEncoder();

function toBytes(b: BytesInit | undefined): Uint8Array | null {
  if (b === undefined || b === null) return null;
  return typeof b === "string" ? utf8Encoder.encode(b) : b;
}

function nullableSize(b: Uint8Array | null): number {
  return b === null ? varintSize(-1) : varintSize(b.length) + b.length;
}

function writeNullable(w: Writer, b: Uint8Array | null): void {
  if (b === null) {
    w.varint(-1);
  } else {
    w.varint(b.length);
    w.rawBytes(b);
  }
}

interface PreparedRecord {
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: { key: Uint8Array; value: Uint8Array | null }[];
  timestampDelta: number;
  offsetDelta: number;
  bodySize: number;
}

/** Builds one RecordBatch v2 with a correct CRC, compressing the records with `codec`. */
export function buildBatch(opts: BuildBatchOptions): Uint8Array {
  const n = opts.records.length;
  if (n === 0) throw new RecordsError("a record batch needs at least one record", ErrorCode.INVALID_RECORD);
  const baseTimestamp = opts.deleteHorizonMs ?? opts.baseTimestamp ?? opts.records[0]!.timestamp ?? Date.now();
  let maxTimestamp = -1;
  let recordsSize = 0;
  const prepared: PreparedRecord[] = [];
  for (let i = 0; i < n; i++) {
    const rec = opts.records[i]!;
    const ts = rec.timestamp ?? baseTimestamp;
    if (ts > maxTimestamp) maxTimestamp = ts;
    const key = toBytes(rec.key);
    const value = toBytes(rec.value);
    const headers = rec.headers && rec.headers.length > 0 ? rec.headers.map((h) => ({ key: utf8Encoder.encode(h.key), value: toBytes(h.value) })) : NO_HEADERS;
    const timestampDelta = ts - baseTimestamp;
    const offsetDelta = rec.offsetDelta ?? i;
    let bodySize = 1 + varlongSize(timestampDelta) + varintSize(offsetDelta) + nullableSize(key) + nullableSize(value) + varintSize(headers.length);
    for (const h of headers) bodySize += varintSize(h.key.length) + h.key.length + nullableSize(h.value);
    prepared.push({ key, value, headers, timestampDelta, offsetDelta, bodySize });
    recordsSize += varintSize(bodySize) + bodySize;
  }
  const codec = opts.codec ?? 0;
  if (!isKnownCodec(codec)) throw new RecordsError(`unknown compression codec ${codec}`, ErrorCode.CORRUPT_MESSAGE);
  // Uncompressed records are written in place after room for the header: one buffer, no copy.
  const inPlace = codec === 0;
  const w = Writer.alloc(inPlace ? HEADER_SIZE + recordsSize : recordsSize);
  if (inPlace) w.pos = HEADER_SIZE;
  for (let i = 0; i < n; i++) {
    const p = prepared[i]!;
    w.varint(p.bodySize);
    w.int8(0);
    w.varlong(p.timestampDelta);
    w.varint(p.offsetDelta);
    writeNullable(w, p.key);
    writeNullable(w, p.value);
    w.varint(p.headers.length);
    for (const h of p.headers) {
      w.varint(h.key.length);
      w.rawBytes(h.key);
      writeNullable(w, h.value);
    }
  }
  let attributes = codec;
  if (opts.logAppendTime !== undefined) attributes |= Attr.LOG_APPEND_TIME;
  if (opts.transactional) attributes |= Attr.TRANSACTIONAL;
  if (opts.control) attributes |= Attr.CONTROL;
  if (opts.deleteHorizonMs !== undefined) attributes |= Attr.DELETE_HORIZON;
  const fields: HeaderFields = {
    baseOffset: opts.baseOffset ?? 0,
    partitionLeaderEpoch: opts.partitionLeaderEpoch ?? -1,
    attributes,
    lastOffsetDelta: opts.lastOffsetDelta ?? n - 1,
    baseTimestamp,
    maxTimestamp: opts.logAppendTime ?? maxTimestamp,
    producerId: opts.producerId ?? -1,
    producerEpoch: opts.producerEpoch ?? -1,
    baseSequence: opts.baseSequence ?? -1,
    recordCount: n,
  };
  if (inPlace) {
    const batch = w.finish();
    signHeader(batch, fields);
    return batch;
  }
  return assemble(fields, compress(codec, w.finish()));
}

const NO_HEADERS: { key: Uint8Array; value: Uint8Array | null }[] = [];

interface HeaderFields {
  baseOffset: number;
  partitionLeaderEpoch: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: number;
  maxTimestamp: number;
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  recordCount: number;
}

/** Header + records section, signed. */
function assemble(f: HeaderFields, records: Uint8Array): Uint8Array {
  const batch = Writer.alloc(HEADER_SIZE + records.length).buf;
  batch.set(records, HEADER_SIZE);
  signHeader(batch, f);
  return batch;
}

/** Writes the header into the first HEADER_SIZE bytes of a whole batch, then its CRC over the rest. */
function signHeader(batch: Uint8Array, f: HeaderFields): void {
  const size = batch.length;
  const w = new Writer(batch);
  w.int64n(f.baseOffset);
  w.int32(size - LOG_OVERHEAD);
  w.int32(f.partitionLeaderEpoch);
  w.int8(MAGIC_V2);
  w.uint32(0); // CRC, once the rest is written
  w.int16(f.attributes);
  w.int32(f.lastOffsetDelta);
  w.int64n(f.baseTimestamp);
  w.int64n(f.maxTimestamp);
  w.int64n(f.producerId);
  w.int16(f.producerEpoch);
  w.int32(f.baseSequence);
  w.int32(f.recordCount);
  w.view.setUint32(OFF_CRC, crc32c(batch.subarray(OFF_ATTRIBUTES)));
}

export interface ControlBatchOptions {
  producerId: number;
  producerEpoch: number;
  commit: boolean;
  coordinatorEpoch: number;
  timestamp: number;
  baseOffset?: number;
  partitionLeaderEpoch?: number;
}

/**
 * A transaction marker: a transactional control batch holding one record whose key is
 * (version 0, type 0 abort / 1 commit) and value (version 0, coordinator epoch).
 */
export function buildControlBatch(m: ControlBatchOptions): Uint8Array {
  const key = new Uint8Array(4);
  viewOf(key).setInt16(2, m.commit ? ControlType.COMMIT : ControlType.ABORT);
  const value = new Uint8Array(6);
  viewOf(value).setInt32(2, m.coordinatorEpoch);
  return buildBatch({
    records: [{ key, value, timestamp: m.timestamp }],
    baseOffset: m.baseOffset ?? 0,
    partitionLeaderEpoch: m.partitionLeaderEpoch ?? -1,
    producerId: m.producerId,
    producerEpoch: m.producerEpoch,
    baseSequence: -1,
    transactional: true,
    control: true,
  });
}
